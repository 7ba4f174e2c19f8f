//! targets.toml: the boards, parsed into typed structs and validated. One schema for the harness
//! and for the firmware's build script (a build dependency there), so that neither parses the
//! file its own way.
//!
//! Every error names the file, the line and column, and the field, with the fix where there is
//! one: the file is edited by hand, and a wrong address silently corrupts a board.
//!
//! What a chip's pins are is not known here: the caller passes a [`ChipInfo`] (the harness's
//! comes from the emulator's chip files; the firmware's build script passes [`AnyChip`], which
//! knows no chip, and the checks that need a chip's pins are left to the harness).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// RAM the benchmark firmware needs for its statics besides the arena (RTT buffers, the
/// self-test's vectors, counters); checked against region RAM with the stack and the arena.
pub const STATICS_BYTES: u64 = 16 * 1024;

/// The processor core of a board; it decides the Rust target the firmware is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Core {
    #[serde(rename = "cortex-m0plus")]
    CortexM0Plus,
    #[serde(rename = "cortex-m4f")]
    CortexM4F,
}

impl Core {
    /// The rustc target triple for firmware on this core.
    pub fn rust_target(self) -> &'static str {
        match self {
            Core::CortexM0Plus => "thumbv6m-none-eabi",
            Core::CortexM4F => "thumbv7em-none-eabihf",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Core::CortexM0Plus => "cortex-m0plus",
            Core::CortexM4F => "cortex-m4f",
        }
    }
}

/// What a memory region is for (see the header of targets.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    Flash,
    Model,
    Ram,
    Boot2,
    Reserved,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: Spanned<String>,
    kind: RegionKind,
    origin: Spanned<u64>,
    size: Spanned<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    probe_rs_chip: Option<String>,
    probe: Option<String>,
    bootloader: Option<Spanned<String>>,
    port: Option<String>,
    baud: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Rtt,
    Uart,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransport {
    kind: TransportKind,
    port: Option<String>,
    baud: Option<Spanned<u32>>,
    tx_pin: Option<Spanned<u32>>,
    rx_pin: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnergy {
    voltage_v: Spanned<f64>,
    run_current_ua_per_mhz: Option<Spanned<f64>>,
    run_current_ma: Option<Spanned<f64>>,
    source: Spanned<String>,
    meter: Option<Spanned<String>>,
    meter_port: Option<String>,
    gate_input: Option<Spanned<u8>>,
    gate_gpio: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    name: Spanned<String>,
    chip: String,
    core: Core,
    clock_hz: Spanned<u64>,
    stack_bytes: Spanned<u64>,
    arena_bytes: Spanned<u64>,
    memory: Spanned<Vec<Spanned<RawRegion>>>,
    deploy: Spanned<RawDeploy>,
    transport: Spanned<RawTransport>,
    energy: Spanned<RawEnergy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    board: Vec<Spanned<RawBoard>>,
}

/// A memory region of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryRegion {
    pub name: String,
    pub kind: RegionKind,
    pub origin: u32,
    pub size: u32,
}

impl MemoryRegion {
    pub fn end(&self) -> u64 {
        u64::from(self.origin) + u64::from(self.size)
    }

    pub fn contains(&self, addr: u64) -> bool {
        (u64::from(self.origin)..self.end()).contains(&addr)
    }
}

/// How firmware reaches a real board; the emulator is always available besides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Deploy {
    /// SWD through probe-rs: its chip name and an optional probe selector (VID:PID[:serial]).
    ProbeRs { chip: String, probe: Option<String> },
    /// A serial bootloader.
    Serial {
        bootloader: Bootloader,
        port: String,
        baud: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bootloader {
    /// The SparkFun Variable Loader of the Artemis boards (`deploy/svl.rs`).
    SparkfunVariableLoader,
    /// The Apollo3's Ambiq secure bootloader in ROM, over its UART wired update protocol
    /// (SparkFun Edge; `deploy/ambiq_sbl.rs`).
    AmbiqSbl,
    /// Arduino's SAM-BA bootloader over USB CDC, as bossac talks to it (Arduino Nano 33 BLE;
    /// `deploy/bossa.rs`).
    ArduinoBossa,
}

impl Bootloader {
    /// The names targets.toml knows, in the order of the error messages.
    pub const NAMES: [&'static str; 3] = ["sparkfun-variable-loader", "ambiq-sbl", "arduino-bossa"];
}

impl fmt::Display for Bootloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bootloader::SparkfunVariableLoader => f.write_str("SparkFun Variable Loader"),
            Bootloader::AmbiqSbl => f.write_str("Ambiq secure bootloader"),
            Bootloader::ArduinoBossa => f.write_str("Arduino SAM-BA bootloader"),
        }
    }
}

/// How the firmware's records reach the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Transport {
    Rtt,
    Uart {
        port: String,
        baud: u32,
        /// The chip's TX and RX pins (its GPIO numbering), for chips whose UART can be routed
        /// to any pin (`tx_pin`, `rx_pin`); `None` where the chip module has fixed pins.
        #[serde(skip_serializing_if = "Option::is_none")]
        pins: Option<UartPins>,
    },
}

/// The pins a UART transport is routed to, in the chip's GPIO numbering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UartPins {
    pub tx: u32,
    pub rx: u32,
}

/// Run-mode current of the core, for the estimated energy model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunCurrent {
    /// Microamps per MHz of core clock.
    UaPerMhz(f64),
    /// Milliamps at the board's clock_hz.
    Ma(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Energy {
    pub voltage_v: f64,
    pub run_current: RunCurrent,
    /// Where the figures come from (datasheet and section, or a measurement).
    pub source: String,
    /// A meter that measures this board, if any.
    pub meter: Option<MeterSetup>,
}

/// A current meter on a board's supply (docs/HARDWARE.md): a Nordic PPK2 on `port`, gated by
/// its digital input `gate_input` (D0-D7), which a wire joins to the board's GPIO `gate_gpio`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeterSetup {
    pub kind: String,
    pub port: String,
    pub gate_input: u8,
    /// The firmware's gate pin, in the chip's numbering (see [`ChipInfo::gpio_pins`]).
    pub gate_gpio: u32,
}

/// What validation needs to know of a chip (targets.toml's `chip`): its pins.
pub trait ChipInfo {
    /// The GPIOs the firmware can drive on `chip` (pins `0..n`, the numbering of `gate_gpio`,
    /// `tx_pin` and `rx_pin`) and a description of that numbering. `None` for a chip this
    /// knows nothing of (a user's own board): its pins are not checked.
    fn gpio_pins(&self, chip: &str) -> Option<(u32, &'static str)>;

    /// Why `pin` cannot be the energy gate on `chip`, on the boards of targets.toml: the debug
    /// probe's or the firmware's transport pins, and pins that need a supply or a setting the
    /// firmware does not make. `None`: free to use (or the chip is unknown).
    fn reserved_pin(&self, chip: &str, pin: u32) -> Option<&'static str>;
}

/// A [`ChipInfo`] that knows no chip: every pin passes (the firmware's build script, which the
/// harness's own checks precede).
pub struct AnyChip;

impl ChipInfo for AnyChip {
    fn gpio_pins(&self, _chip: &str) -> Option<(u32, &'static str)> {
        None
    }

    fn reserved_pin(&self, _chip: &str, _pin: u32) -> Option<&'static str> {
        None
    }
}

impl Energy {
    /// Run-mode current in milliamps at `clock_hz`.
    pub fn run_current_ma(&self, clock_hz: u64) -> f64 {
        match self.run_current {
            RunCurrent::UaPerMhz(ua) => ua * clock_hz as f64 / 1e6 / 1e3,
            RunCurrent::Ma(ma) => ma,
        }
    }
}

/// One board of targets.toml, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub name: String,
    pub chip: String,
    pub core: Core,
    pub clock_hz: u64,
    pub stack_bytes: u32,
    /// The engine arena the firmware reserves in region RAM.
    pub arena_bytes: u32,
    pub memory: Vec<MemoryRegion>,
    pub deploy: Deploy,
    pub transport: Transport,
    pub energy: Energy,
}

impl Board {
    /// The region the firmware image is linked into.
    pub fn flash(&self) -> &MemoryRegion {
        self.region_of_kind(RegionKind::Flash)
            .expect("validated: every board has a flash region")
    }

    /// The RAM region that holds data, bss, stack and arena.
    pub fn ram(&self) -> &MemoryRegion {
        self.memory
            .iter()
            .find(|r| r.kind == RegionKind::Ram && r.name == "RAM")
            .expect("validated: every board has a RAM region")
    }

    /// The model partition, if the board has one.
    pub fn model_partition(&self) -> Option<&MemoryRegion> {
        self.region_of_kind(RegionKind::Model)
    }

    fn region_of_kind(&self, kind: RegionKind) -> Option<&MemoryRegion> {
        self.memory.iter().find(|r| r.kind == kind)
    }

    /// Bytes of all RAM regions together.
    pub fn ram_total_bytes(&self) -> u64 {
        self.memory
            .iter()
            .filter(|r| r.kind == RegionKind::Ram)
            .map(|r| u64::from(r.size))
            .sum()
    }

    /// Bytes of flash the board has for firmware and model together.
    pub fn flash_total_bytes(&self) -> u64 {
        self.memory
            .iter()
            .filter(|r| matches!(r.kind, RegionKind::Flash | RegionKind::Model))
            .map(|r| u64::from(r.size))
            .sum()
    }
}

/// All boards of a targets.toml, in file order, and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    #[serde(skip)]
    pub path: PathBuf,
    pub boards: Vec<Board>,
}

impl Targets {
    /// Reads and validates the file at `path`; `chips` knows the chips' pins.
    pub fn load(path: &Path, chips: &dyn ChipInfo) -> Result<Targets, TargetsError> {
        let text = std::fs::read_to_string(path).map_err(|e| TargetsError {
            path: path.to_owned(),
            location: None,
            message: format!("cannot read the file: {e}"),
        })?;
        Targets::parse(path, &text, chips)
    }

    /// Validates `text`, the contents of `path` (which errors name).
    pub fn parse(path: &Path, text: &str, chips: &dyn ChipInfo) -> Result<Targets, TargetsError> {
        let raw: RawTargets = toml::from_str(text).map_err(|e| {
            let location = e.span().map(|span| Location::of(text, span));
            TargetsError {
                path: path.to_owned(),
                location,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let mut ctx = Validator { path, text, chips };
        let mut boards: Vec<Board> = Vec::new();
        for raw_board in raw.board {
            let board = ctx.board(raw_board)?;
            boards.push(board);
        }
        // Board names are unique; report the second occurrence.
        for (i, b) in boards.iter().enumerate() {
            if boards[..i].iter().any(|o| o.name == b.name) {
                return Err(ctx.error_at_name(
                    &b.name,
                    format!(
                        "board \"{}\" is defined twice; board names must be unique",
                        b.name
                    ),
                ));
            }
        }
        if boards.is_empty() {
            return Err(TargetsError {
                path: path.to_owned(),
                location: None,
                message: "no boards: add a [[board]] table".to_owned(),
            });
        }
        Ok(Targets {
            path: path.to_owned(),
            boards,
        })
    }

    /// The board of that name, or an error listing the known ones.
    pub fn board(&self, name: &str) -> Result<&Board, UnknownBoard> {
        self.boards
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| UnknownBoard {
                name: name.to_owned(),
                path: self.path.clone(),
                known: self.boards.iter().map(|b| b.name.clone()).collect(),
            })
    }
}

/// A board name that targets.toml does not define.
#[derive(Debug)]
pub struct UnknownBoard {
    pub name: String,
    pub path: PathBuf,
    pub known: Vec<String>,
}

impl fmt::Display for UnknownBoard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "board \"{}\" is not in {} (known: {})",
            self.name,
            self.path.display(),
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownBoard {}

/// A line and column (both from 1) in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn of(text: &str, span: Range<usize>) -> Location {
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location { line, column }
    }
}

/// A targets.toml that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetsError {
    pub path: PathBuf,
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for TargetsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(Location { line, column }) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for TargetsError {}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
    chips: &'a dyn ChipInfo,
}

impl Validator<'_> {
    fn error(&self, span: Range<usize>, message: String) -> TargetsError {
        TargetsError {
            path: self.path.to_owned(),
            location: Some(Location::of(self.text, span)),
            message,
        }
    }

    fn error_at_name(&self, name: &str, message: String) -> TargetsError {
        // Point at the last `name = "<name>"`, the duplicate.
        let needle = format!("\"{name}\"");
        let at = self.text.rfind(&needle).unwrap_or(0);
        self.error(at..at, message)
    }

    fn board(&mut self, raw: Spanned<RawBoard>) -> Result<Board, TargetsError> {
        let board_span = raw.span();
        let raw = raw.into_inner();
        let name = raw.name.get_ref().clone();
        let field = |f: &str| format!("board \"{name}\", field `{f}`");

        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(self.error(
                raw.name.span(),
                format!(
                    "{}: \"{name}\" is not a valid board name; use lowercase letters, digits and '-' (it becomes a cargo feature)",
                    field("name")
                ),
            ));
        }
        if *raw.clock_hz.get_ref() == 0 {
            return Err(self.error(
                raw.clock_hz.span(),
                format!(
                    "{}: must be greater than 0 (the core clock in Hz, e.g. 64_000_000)",
                    field("clock_hz")
                ),
            ));
        }
        let memory = self.regions(&name, raw.memory, board_span.clone())?;
        let ram = memory
            .iter()
            .find(|r| r.kind == RegionKind::Ram && r.name == "RAM")
            .cloned();
        let stack = *raw.stack_bytes.get_ref();
        if stack == 0 || !stack.is_multiple_of(8) {
            return Err(self.error(
                raw.stack_bytes.span(),
                format!("{}: {stack} is not a positive multiple of 8 (AAPCS keeps the stack 8-byte aligned)", field("stack_bytes")),
            ));
        }
        if let Some(ram) = &ram {
            if stack >= u64::from(ram.size) {
                return Err(self.error(
                    raw.stack_bytes.span(),
                    format!(
                        "{}: {stack} bytes do not fit the {} bytes of region RAM",
                        field("stack_bytes"),
                        ram.size
                    ),
                ));
            }
        }
        let arena = *raw.arena_bytes.get_ref();
        if arena < 16 * 1024 || !arena.is_multiple_of(16) {
            return Err(self.error(
                raw.arena_bytes.span(),
                format!(
                    "{}: {arena} must be a multiple of 16 and at least 16384",
                    field("arena_bytes")
                ),
            ));
        }
        if let Some(ram) = &ram {
            let needed = stack + arena + STATICS_BYTES;
            if needed > u64::from(ram.size) {
                return Err(self.error(
                    raw.arena_bytes.span(),
                    format!(
                        "{}: stack_bytes + arena_bytes + {STATICS_BYTES} bytes for the firmware's other statics = {needed} bytes, more than the {} bytes of region RAM; lower arena_bytes to at most {}",
                        field("arena_bytes"),
                        ram.size,
                        (u64::from(ram.size).saturating_sub(stack + STATICS_BYTES)) & !15
                    ),
                ));
            }
        }
        let deploy = self.deploy(&name, raw.deploy)?;
        let transport = self.transport(&name, &raw.chip, raw.transport)?;
        let energy = self.energy(&name, &raw.chip, raw.energy)?;
        Ok(Board {
            name,
            chip: raw.chip,
            core: raw.core,
            clock_hz: *raw.clock_hz.get_ref(),
            stack_bytes: stack as u32,
            arena_bytes: arena as u32,
            memory,
            deploy,
            transport,
            energy,
        })
    }

    fn regions(
        &self,
        board: &str,
        raw: Spanned<Vec<Spanned<RawRegion>>>,
        board_span: Range<usize>,
    ) -> Result<Vec<MemoryRegion>, TargetsError> {
        let list_span = raw.span();
        let mut out: Vec<(MemoryRegion, Range<usize>)> = Vec::new();
        for region in raw.into_inner() {
            let span = region.span();
            let r = region.into_inner();
            let name = r.name.get_ref().clone();
            let field = |f: &str| format!("board \"{board}\", region \"{name}\", field `{f}`");
            let origin = *r.origin.get_ref();
            let size = *r.size.get_ref();
            // The name becomes a MEMORY region of the firmware's linker script.
            if name.is_empty()
                || name.starts_with(|c: char| c.is_ascii_digit())
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(self.error(
                    r.name.span(),
                    format!(
                        "{}: \"{name}\" is not a linker region name; use letters, digits and '_', not starting with a digit",
                        field("name")
                    ),
                ));
            }
            if size == 0 {
                return Err(self.error(
                    r.size.span(),
                    format!("{}: must be greater than 0", field("size")),
                ));
            }
            if origin + size > 1 << 32 {
                return Err(self.error(
                    r.size.span(),
                    format!(
                        "{}: the region {origin:#x}..{:#x} runs past the 32-bit address space",
                        field("size"),
                        origin + size
                    ),
                ));
            }
            // RAM must keep words aligned; flash regions are programmed in 256-byte pages
            // (the smallest page of the four chips, the RP2040's).
            let align: u64 = if r.kind == RegionKind::Ram { 4 } else { 256 };
            for (value, f, sp) in [
                (origin, "origin", r.origin.span()),
                (size, "size", r.size.span()),
            ] {
                if !value.is_multiple_of(align) {
                    return Err(self.error(
                        sp,
                        format!(
                            "{}: {value:#x} is not a multiple of {align} bytes, as a {:?} region needs (nearest: {:#x})",
                            field(f),
                            r.kind,
                            value - value % align
                        ),
                    ));
                }
            }
            for (other, _) in &out {
                if other.name == name {
                    return Err(self.error(
                        r.name.span(),
                        format!("board \"{board}\": region \"{name}\" is defined twice"),
                    ));
                }
                let (a0, a1) = (origin, origin + size);
                let (b0, b1) = (u64::from(other.origin), other.end());
                if a0 < b1 && b0 < a1 {
                    return Err(self.error(
                        span,
                        format!(
                            "board \"{board}\": region \"{name}\" ({a0:#010x}..{a1:#010x}) overlaps region \"{}\" ({b0:#010x}..{b1:#010x})",
                            other.name
                        ),
                    ));
                }
            }
            out.push((
                MemoryRegion {
                    name,
                    kind: r.kind,
                    origin: origin as u32,
                    size: size as u32,
                },
                span,
            ));
        }
        let count = |k: RegionKind| out.iter().filter(|(r, _)| r.kind == k).count();
        let field = format!("board \"{board}\", field `memory`");
        if count(RegionKind::Flash) != 1 {
            return Err(self.error(
                list_span,
                format!(
                    "{field}: needs exactly one region of kind \"flash\" (found {})",
                    count(RegionKind::Flash)
                ),
            ));
        }
        for kind in [RegionKind::Model, RegionKind::Boot2] {
            if count(kind) > 1 {
                return Err(self.error(
                    list_span,
                    format!("{field}: at most one region of kind {kind:?} is allowed"),
                ));
            }
        }
        if !out
            .iter()
            .any(|(r, _)| r.kind == RegionKind::Ram && r.name == "RAM")
        {
            return Err(self.error(
                if out.is_empty() { board_span } else { list_span },
                format!("{field}: needs a region named \"RAM\" of kind \"ram\" (data, bss, stack and arena go there)"),
            ));
        }
        Ok(out.into_iter().map(|(r, _)| r).collect())
    }

    fn deploy(&self, board: &str, raw: Spanned<RawDeploy>) -> Result<Deploy, TargetsError> {
        let span = raw.span();
        let d = raw.into_inner();
        let field = |f: &str| format!("board \"{board}\", field `deploy.{f}`");
        match (d.probe_rs_chip, d.bootloader) {
            (Some(chip), None) => {
                if d.port.is_some() || d.baud.is_some() {
                    return Err(self.error(span, format!("{}: port and baud belong to a serial bootloader, not to probe-rs", field("port"))));
                }
                Ok(Deploy::ProbeRs { chip, probe: d.probe })
            }
            (None, Some(bootloader)) => {
                let kind = match bootloader.get_ref().as_str() {
                    "sparkfun-variable-loader" => Bootloader::SparkfunVariableLoader,
                    "ambiq-sbl" => Bootloader::AmbiqSbl,
                    "arduino-bossa" => Bootloader::ArduinoBossa,
                    other => {
                        return Err(self.error(
                            bootloader.span(),
                            format!(
                                "{}: unknown bootloader \"{other}\" (known: {})",
                                field("bootloader"),
                                Bootloader::NAMES.join(", ")
                            ),
                        ))
                    }
                };
                let port = d.port.ok_or_else(|| {
                    self.error(span.clone(), format!("{}: a serial bootloader needs the port, e.g. port = \"/dev/ttyUSB0\"", field("port")))
                })?;
                let baud = self.baud(d.baud, span, &field("baud"))?;
                Ok(Deploy::Serial {
                    bootloader: kind,
                    port,
                    baud,
                })
            }
            (Some(_), Some(_)) => Err(self.error(
                span,
                format!("{}: give either probe_rs_chip or bootloader, not both", field("probe_rs_chip")),
            )),
            (None, None) => Err(self.error(
                span,
                format!(
                    "{}: missing; give probe_rs_chip (e.g. \"nRF52840_xxAA\") or bootloader (one of {})",
                    field("probe_rs_chip"),
                    Bootloader::NAMES.join(", ")
                ),
            )),
        }
    }

    fn baud(
        &self,
        baud: Option<Spanned<u32>>,
        span: Range<usize>,
        field: &str,
    ) -> Result<u32, TargetsError> {
        let baud =
            baud.ok_or_else(|| self.error(span, format!("{field}: missing, e.g. baud = 115200")))?;
        if *baud.get_ref() == 0 {
            return Err(self.error(baud.span(), format!("{field}: must be greater than 0")));
        }
        Ok(*baud.get_ref())
    }

    fn transport(
        &self,
        board: &str,
        chip: &str,
        raw: Spanned<RawTransport>,
    ) -> Result<Transport, TargetsError> {
        let span = raw.span();
        let t = raw.into_inner();
        let field = |f: &str| format!("board \"{board}\", field `transport.{f}`");
        match t.kind {
            TransportKind::Rtt => {
                if t.port.is_some() || t.baud.is_some() || t.tx_pin.is_some() || t.rx_pin.is_some()
                {
                    return Err(self.error(
                        span,
                        format!(
                            "{}: RTT takes no port, baud or pins; remove them or use kind = \"uart\"",
                            field("kind")
                        ),
                    ));
                }
                Ok(Transport::Rtt)
            }
            TransportKind::Uart => {
                let port = t.port.ok_or_else(|| {
                    self.error(
                        span.clone(),
                        format!(
                            "{}: a UART needs the port, e.g. port = \"/dev/ttyUSB0\"",
                            field("port")
                        ),
                    )
                })?;
                let baud = self.baud(t.baud, span.clone(), &field("baud"))?;
                let pins = match (t.tx_pin, t.rx_pin) {
                    (None, None) => None,
                    (Some(tx), Some(rx)) => {
                        for (name, pin) in [("tx_pin", &tx), ("rx_pin", &rx)] {
                            if let Some((count, numbering)) = self.chips.gpio_pins(chip) {
                                if *pin.get_ref() >= count {
                                    return Err(self.error(
                                        pin.span(),
                                        format!(
                                            "{}: chip {chip} has no pin {} (its numbering: {numbering})",
                                            field(name),
                                            pin.get_ref()
                                        ),
                                    ));
                                }
                            }
                        }
                        Some(UartPins {
                            tx: *tx.get_ref(),
                            rx: *rx.get_ref(),
                        })
                    }
                    _ => {
                        return Err(self.error(
                            span,
                            format!(
                                "{}: give both tx_pin and rx_pin, or neither",
                                field("tx_pin")
                            ),
                        ))
                    }
                };
                Ok(Transport::Uart { port, baud, pins })
            }
        }
    }

    fn energy(
        &self,
        board: &str,
        chip: &str,
        raw: Spanned<RawEnergy>,
    ) -> Result<Energy, TargetsError> {
        let span = raw.span();
        let e = raw.into_inner();
        let field = |f: &str| format!("board \"{board}\", field `energy.{f}`");
        let positive = |v: &Spanned<f64>, f: &str| -> Result<f64, TargetsError> {
            let x = *v.get_ref();
            if x.is_finite() && x > 0.0 {
                Ok(x)
            } else {
                Err(self.error(
                    v.span(),
                    format!("{}: {x} must be a positive number", field(f)),
                ))
            }
        };
        let voltage_v = positive(&e.voltage_v, "voltage_v")?;
        let run_current = match (&e.run_current_ua_per_mhz, &e.run_current_ma) {
            (Some(ua), None) => RunCurrent::UaPerMhz(positive(ua, "run_current_ua_per_mhz")?),
            (None, Some(ma)) => RunCurrent::Ma(positive(ma, "run_current_ma")?),
            _ => {
                return Err(self.error(
                    span,
                    format!(
                        "{}: give exactly one of run_current_ua_per_mhz and run_current_ma",
                        field("run_current_ua_per_mhz")
                    ),
                ))
            }
        };
        if e.source.get_ref().trim().is_empty() {
            return Err(self.error(
                e.source.span(),
                format!("{}: say where the figures come from (datasheet and section, or your measurement)", field("source")),
            ));
        }
        let meter = match e.meter {
            None => None,
            Some(kind) if kind.get_ref() == "ppk2" => {
                let port = e.meter_port.ok_or_else(|| {
                    self.error(
                        kind.span(),
                        format!(
                            "{}: a PPK2 needs its serial port, e.g. meter_port = \"/dev/ttyACM0\"",
                            field("meter_port")
                        ),
                    )
                })?;
                let gate_input = match e.gate_input {
                    Some(g) if *g.get_ref() > 7 => {
                        return Err(self.error(
                            g.span(),
                            format!(
                                "{}: the PPK2 has digital inputs D0 to D7",
                                field("gate_input")
                            ),
                        ))
                    }
                    Some(g) => *g.get_ref(),
                    None => 0,
                };
                let gate_gpio = e.gate_gpio.ok_or_else(|| {
                    self.error(
                        kind.span(),
                        format!(
                            "{}: a PPK2 integrates while the firmware holds a GPIO high: say which, e.g. gate_gpio = 27 (docs/HARDWARE.md)",
                            field("gate_gpio")
                        ),
                    )
                })?;
                if let Some((pins, numbering)) = self.chips.gpio_pins(chip) {
                    if *gate_gpio.get_ref() >= pins {
                        return Err(self.error(
                            gate_gpio.span(),
                            format!(
                                "{}: {} is not a pin of {chip} (numbering: {numbering})",
                                field("gate_gpio"),
                                gate_gpio.get_ref()
                            ),
                        ));
                    }
                }
                if let Some(why) = self.chips.reserved_pin(chip, *gate_gpio.get_ref()) {
                    return Err(self.error(
                        gate_gpio.span(),
                        format!(
                            "{}: {} cannot be the gate: {why}; pick a free pin (docs/HARDWARE.md lists one per board)",
                            field("gate_gpio"),
                            gate_gpio.get_ref()
                        ),
                    ));
                }
                Some(MeterSetup {
                    kind: "ppk2".into(),
                    port,
                    gate_input,
                    gate_gpio: *gate_gpio.get_ref(),
                })
            }
            Some(kind) => {
                return Err(self.error(
                    kind.span(),
                    format!(
                        "{}: unknown meter \"{}\" (known: ppk2)",
                        field("meter"),
                        kind.get_ref()
                    ),
                ))
            }
        };
        Ok(Energy {
            voltage_v,
            run_current,
            source: e.source.into_inner(),
            meter,
        })
    }
}
