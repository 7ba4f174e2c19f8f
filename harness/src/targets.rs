//! targets.toml, read with the pins of the emulator's chip models: the schema and its checks
//! are the `targets` crate's (shared with the firmware's build script); what a chip's pins are
//! comes from its file in emulator/src/chips/, never from a copy here.

use std::path::Path;

pub use targets::*;

/// The chips the emulator models (emulator/src/chips/), as [`ChipInfo`] for validation.
pub struct EmulatorChips;

impl ChipInfo for EmulatorChips {
    fn gpio_pins(&self, chip: &str) -> Option<(u32, &'static str)> {
        gate_pins(chip)
    }

    fn reserved_pin(&self, chip: &str, pin: u32) -> Option<&'static str> {
        gate_pin_taken(chip, pin)
    }
}

/// Reads and validates the targets.toml at `path`, checking pins against the chip models.
pub fn load(path: &Path) -> Result<Targets, TargetsError> {
    Targets::load(path, &EmulatorChips)
}

/// Validates `text`, the contents of `path`, checking pins against the chip models.
pub fn parse(path: &Path, text: &str) -> Result<Targets, TargetsError> {
    Targets::parse(path, text, &EmulatorChips)
}

/// The gate pins the firmware can drive on `chip`: how many, and their numbering (the firmware's
/// `board::gate_init`). `None` for a chip the emulator does not model (a user's own board).
pub fn gate_pins(chip: &str) -> Option<(u32, &'static str)> {
    Some(emulator::chips::Chip::from_name(chip)?.gpio_pins())
}

/// Why `pin` cannot be the gate on `chip`, on the boards of targets.toml: the debug probe's or
/// the firmware's transport pins (the gate would take them from the probe or the UART), and
/// pins that need a supply or a UICR setting the firmware does not make. `None`: free to use.
pub fn gate_pin_taken(chip: &str, pin: u32) -> Option<&'static str> {
    emulator::chips::Chip::from_name(chip)?.reserved_pin(pin)
}
