//! The peripherals of each board's chip, modelled as far as bring-up code touches them.
//!
//! Each chip is a set of register blocks. Inside a modelled block a register keeps what was
//! written (so that a timing model can later read the configuration: flash wait states, caches,
//! clock tree) and starts at its documented reset value; status bits that hardware would set
//! (oscillator ready, PLL locked, clock switched) follow the bits that request them at once, so
//! that bring-up never spins. An access outside every block is not modelled: it is refused and
//! the run stops with a bus fault naming the address.
//!
//! The UART of a chip is a byte stream: what the firmware transmits is collected in
//! [`UartPort::take_tx`], and bytes pushed with [`UartPort::push_rx`] arrive in the receive FIFO.
//!
//! A chip is one file: a unit struct implementing [`ChipModel`] (its blocks, reset values,
//! hardware behaviour and GPIO numbering) and the [`Chip`] constant that names it. This module
//! holds what all chips share: the register state ([`Regs`]), the bus side (byte lanes, atomic
//! aliases, faults, permissive mode) and the GPIO change log. A new chip is a new file and
//! nothing else: build.rs finds the files of this folder and writes their `mod` lines and
//! [`Chip::ALL`]. A chip file `<name>.rs` defines `impl Chip { pub const <NAME>: Chip }` (its
//! name upper-cased) and `TIMING_FINGERPRINT`, the fingerprint of its memory timing with the
//! cycle model version it was taken at (see `timing::tests`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::machine::Peripherals;
use crate::timing::ChipMemoryTiming;

include!(concat!(env!("OUT_DIR"), "/chips.rs"));

/// A chip with a model, named as in targets.toml's `chip`: a handle on its [`ChipModel`]. The
/// chips are associated constants (`Chip::STM32L4R5`...), each defined in its chip's file.
#[derive(Clone, Copy)]
pub struct Chip {
    name: &'static str,
    model: &'static dyn ChipModel,
}

impl Chip {
    /// Names accepted by [`Chip::from_name`], for error messages: the names of [`Chip::ALL`].
    pub const KNOWN: &'static str = match std::str::from_utf8(&KNOWN_BYTES) {
        Ok(known) => known,
        Err(_) => panic!("chip names are UTF-8"),
    };

    /// A chip named `name` in error messages (a `*` for a family whose variants all match),
    /// modelled by `model`.
    pub const fn new(name: &'static str, model: &'static dyn ChipModel) -> Chip {
        Chip { name, model }
    }

    /// The chip for targets.toml's `chip` field.
    pub fn from_name(name: &str) -> Option<Chip> {
        let n = name.to_ascii_lowercase().replace([' ', '-', '_'], "");
        Chip::ALL
            .iter()
            .copied()
            .find(|chip| chip.model.accepts(&n))
    }

    /// The chip's name as [`Chip::KNOWN`] lists it.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The chip's model.
    pub fn model(self) -> &'static dyn ChipModel {
        self.model
    }

    /// The chip's memory timing (flash wait states, prefetch, caches) for the cycle model.
    pub fn memory_timing(self) -> &'static ChipMemoryTiming {
        self.model.memory_timing()
    }

    /// How many GPIOs the firmware can drive (pins `0..n`) and how they are numbered.
    pub fn gpio_pins(self) -> (u32, &'static str) {
        self.model.gpio_pins()
    }

    /// Why `pin` cannot serve the firmware as a GPIO output on the boards of targets.toml, if
    /// it cannot.
    pub fn reserved_pin(self, pin: u32) -> Option<&'static str> {
        self.model.reserved_pin(pin)
    }

    /// The register a debugger reads to tell which chip answered, if the chip has one the
    /// harness checks.
    pub fn identity(self) -> Option<ChipIdentity> {
        self.model.identity()
    }
}

/// The register that says which chip answered a debug probe, and what it reads on this chip:
/// `mcubench` checks it after probe-rs attaches, so that a board wired to the wrong probe is
/// not flashed with another chip's image. The chip's model answers the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipIdentity {
    /// Its address.
    pub register: u32,
    /// The bits that name the chip (not its revision).
    pub mask: u32,
    /// What those bits read.
    pub expected: u32,
    /// The register's name in the chip's manual.
    pub what: &'static str,
}

/// [`Chip::KNOWN`]'s length: the names of [`Chip::ALL`] with ", " between them.
const KNOWN_LEN: usize = {
    let (mut len, mut i) = (0, 0);
    while i < Chip::ALL.len() {
        len += Chip::ALL[i].name.len() + if i > 0 { 2 } else { 0 };
        i += 1;
    }
    len
};

/// [`Chip::KNOWN`]'s bytes, joined at compile time so that the list cannot miss a chip.
const KNOWN_BYTES: [u8; KNOWN_LEN] = {
    let mut out = [0; KNOWN_LEN];
    let (mut at, mut i) = (0, 0);
    while i < Chip::ALL.len() {
        if i > 0 {
            out[at] = b',';
            out[at + 1] = b' ';
            at += 2;
        }
        let name = Chip::ALL[i].name.as_bytes();
        let mut j = 0;
        while j < name.len() {
            out[at] = name[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    out
};

impl PartialEq for Chip {
    fn eq(&self, other: &Chip) -> bool {
        self.name == other.name
    }
}

impl Eq for Chip {}

impl std::fmt::Debug for Chip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Chip").field(&self.name).finish()
    }
}

/// What one chip knows: the names that denote it, its memory timing, its register blocks and
/// their hardware behaviour, and its GPIOs. The state it acts on is [`Regs`], which
/// [`ChipPeripherals`] owns; a model is a stateless unit struct. Addresses given to the register
/// methods are word-aligned and inside one of [`ChipModel::blocks`].
pub trait ChipModel: Send + Sync + 'static {
    /// Whether targets.toml's `chip`, lower-cased and without spaces, dashes and underscores,
    /// names this chip.
    fn accepts(&self, name: &str) -> bool;

    /// The chip's memory timing (flash wait states, prefetch, caches) for the cycle model.
    fn memory_timing(&self) -> &'static ChipMemoryTiming;

    /// The modelled register blocks: any other address faults.
    fn blocks(&self) -> &'static [Block];

    /// Sets the documented reset values that differ from 0.
    fn reset_values(&self, _regs: &mut Regs) {}

    /// How many GPIOs the firmware can drive (pins `0..n`, the numbering of
    /// [`PinChange::pin`] and targets.toml's `energy.gate_gpio`) and a description of that
    /// numbering.
    fn gpio_pins(&self) -> (u32, &'static str);

    /// Why `pin` cannot serve as the firmware's gate output on the boards of targets.toml: the
    /// debug probe's or the firmware's transport pins, and pins that need a supply or a setting
    /// the firmware does not make. `None`: free to use.
    fn reserved_pin(&self, _pin: u32) -> Option<&'static str> {
        None
    }

    /// The register a debugger reads to tell which chip answered ([`ChipIdentity`]); `None`:
    /// the harness checks nothing after attaching (probe-rs' own target check stands).
    fn identity(&self) -> Option<ChipIdentity> {
        None
    }

    /// The bank of GPIO outputs whose levels a write to `addr` may change, if any: a number
    /// [`ChipModel::gpio_levels`] understands.
    fn gpio_bank(&self, _addr: u32) -> Option<u32> {
        None
    }

    /// The output levels of `bank`: its first pin and a bit per pin (1 = driven high).
    fn gpio_levels(&self, _regs: &Regs, _bank: u32) -> (u32, u64) {
        (0, 0)
    }

    /// The side effects of a write of `value` to a GPIO register at `addr` (one with a
    /// [`ChipModel::gpio_bank`]), after [`ChipModel::write_reg`]: a set, clear or direction
    /// register changes the register it acts on.
    fn gpio_write(&self, _regs: &mut Regs, _addr: u32, _value: u32) {}

    /// The value of the register at `addr` as the firmware reads it at `cycles`, after
    /// hardware status updates. By default what was stored.
    fn read_reg(&self, regs: &mut Regs, addr: u32, _cycles: u64) -> u32 {
        regs.get(addr)
    }

    /// The hardware's reaction to the firmware writing `value` to the register at `addr`,
    /// once `value` is stored (a task register starting a clock, a UART sending a byte).
    fn write_reg(&self, _regs: &mut Regs, _addr: u32, _value: u32) {}

    /// Whether the chip takes a write to `addr` without a fault and without effect, as a
    /// firmware that forgot a step would see on the board.
    fn write_dropped(&self, _regs: &Regs, _addr: u32) -> bool {
        false
    }

    /// The register an access to `addr` reaches and, for an atomic alias of it, what a write
    /// does. By default every address is its own register.
    fn atomic_alias(&self, addr: u32) -> (u32, Option<AtomicOp>) {
        (addr, None)
    }
}

/// A modelled register block: every word in it is a register that keeps its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub name: &'static str,
    pub base: u32,
    pub size: u32,
}

impl Block {
    /// The block `name` of `size` bytes at `base`.
    pub const fn new(name: &'static str, base: u32, size: u32) -> Block {
        Block { name, base, size }
    }
}

/// What a write through an atomic alias does to the register it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicOp {
    /// The register becomes itself XOR the value.
    Xor,
    /// The value's bits are set.
    Set,
    /// The value's bits are cleared.
    Clear,
}

/// A chip's state, which its [`ChipModel`] acts on: the modelled registers, the UART and the
/// core clock.
#[derive(Debug)]
pub struct Regs {
    values: BTreeMap<u32, u32>,
    uart: UartPort,
    clock_hz: u64,
}

impl Regs {
    /// The stored value of the word at `addr` (rounded down to a word): its reset value or the
    /// last value written, 0 when it has neither.
    pub fn get(&self, addr: u32) -> u32 {
        self.values.get(&(addr & !3)).copied().unwrap_or(0)
    }

    /// Stores `value` in the register at `addr`.
    pub fn set(&mut self, addr: u32, value: u32) {
        self.values.insert(addr, value);
    }

    /// Stores each `(addr, value)`.
    pub fn set_all(&mut self, values: &[(u32, u32)]) {
        for &(addr, value) in values {
            self.set(addr, value);
        }
    }

    /// Replaces the register at `addr` by `f` of its value.
    pub fn update(&mut self, addr: u32, f: impl FnOnce(u32) -> u32) {
        let v = f(self.get(addr));
        self.set(addr, v);
    }

    /// Microseconds of emulated time in `cycles` at the core clock (0 without a clock).
    pub fn microseconds(&self, cycles: u64) -> u64 {
        if self.clock_hz == 0 {
            0
        } else {
            (u128::from(cycles) * 1_000_000 / u128::from(self.clock_hz)) as u64
        }
    }

    /// The UART sends `byte` to the host.
    pub fn uart_send(&self, byte: u8) {
        self.uart.lock().tx.push(byte);
    }

    /// The next byte the host sent, if any, taken from the receive FIFO.
    pub fn uart_receive(&self) -> Option<u8> {
        self.uart.lock().rx.pop_front()
    }

    /// Whether the UART's receive FIFO is empty.
    pub fn uart_rx_empty(&self) -> bool {
        self.uart.lock().rx.is_empty()
    }
}

/// The host side of a chip's UART.
#[derive(Debug, Clone, Default)]
pub struct UartPort {
    inner: Arc<Mutex<UartState>>,
}

#[derive(Debug, Default)]
struct UartState {
    tx: Vec<u8>,
    rx: VecDeque<u8>,
}

impl UartPort {
    /// Bytes the firmware sent since the last call.
    pub fn take_tx(&self) -> Vec<u8> {
        std::mem::take(&mut self.lock().tx)
    }

    /// Bytes for the firmware to receive.
    pub fn push_rx(&self, bytes: &[u8]) {
        self.lock().rx.extend(bytes);
    }

    /// Bytes pushed with [`UartPort::push_rx`] that the firmware has not read yet.
    pub fn rx_pending(&self) -> usize {
        self.lock().rx.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, UartState> {
        // A poisoned lock only means another thread panicked mid-push; the bytes are still valid.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One chip's peripherals.
pub struct ChipPeripherals {
    chip: Chip,
    regs: Regs,
    gpio: GpioLog,
    /// Permissive mode: unmodelled addresses read 0 and ignore writes (off by default).
    permissive: bool,
    /// Unmodelled addresses touched in permissive mode, for the log.
    unmodelled: UnmodelledLog,
}

/// A log the machine's peripherals append to and the host reads while the machine owns them,
/// bounded so that a program in a loop cannot grow it without end.
#[derive(Debug)]
struct SharedLog<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for SharedLog<T> {
    fn clone(&self) -> Self {
        SharedLog(Arc::clone(&self.0))
    }
}

impl<T> Default for SharedLog<T> {
    fn default() -> Self {
        SharedLog(Arc::default())
    }
}

impl<T: Clone + PartialEq> SharedLog<T> {
    fn entries(&self) -> Vec<T> {
        self.lock().clone()
    }

    /// Appends `entry` while fewer than `max` are kept (and, with `distinct`, only if new).
    fn push(&self, entry: T, max: usize, distinct: bool) {
        let mut log = self.lock();
        if log.len() < max && !(distinct && log.contains(&entry)) {
            log.push(entry);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        // A poisoned lock only means a reader panicked; the entries are still valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The distinct unmodelled addresses a program touched in permissive mode, in first-touch
/// order; shared, so the host can read it while the machine owns the peripherals.
#[derive(Debug, Clone, Default)]
pub struct UnmodelledLog(SharedLog<u32>);

impl UnmodelledLog {
    /// At most this many distinct addresses are kept (a program polling an unmodelled block
    /// must not grow the log without bound).
    pub const MAX: usize = 256;

    /// The addresses logged so far.
    pub fn addresses(&self) -> Vec<u32> {
        self.0.entries()
    }

    fn record(&self, addr: u32) {
        self.0.push(addr, Self::MAX, true);
    }
}

/// A change of a GPIO output's level, at a cycle count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinChange {
    /// Cycles counted when the write that changed it was made.
    pub cycles: u64,
    /// The chip's pin number, in its numbering ([`ChipModel::gpio_pins`]), as in targets.toml's
    /// `energy.gate_gpio`.
    pub pin: u32,
    /// The new level.
    pub high: bool,
}

/// The level changes of the chip's GPIO outputs, in order; shared, so that the host (an
/// emulated energy meter, a test) can read it while the machine owns the peripherals.
#[derive(Debug, Clone, Default)]
pub struct GpioLog(SharedLog<PinChange>);

impl GpioLog {
    /// At most this many changes are kept (a program toggling a pin in a loop must not grow
    /// the log without bound).
    pub const MAX: usize = 65_536;

    /// The changes so far.
    pub fn changes(&self) -> Vec<PinChange> {
        self.0.entries()
    }

    fn record(&self, change: PinChange) {
        self.0.push(change, Self::MAX, false);
    }
}

impl ChipPeripherals {
    /// The peripherals of `chip`; `clock_hz` is the core clock the board runs at (for timers
    /// that count time rather than cycles).
    pub fn new(chip: Chip, clock_hz: u64) -> ChipPeripherals {
        let mut regs = Regs {
            values: BTreeMap::new(),
            uart: UartPort::default(),
            clock_hz,
        };
        // The flash configuration register reads as the timing model assumes it at reset.
        let config = chip.memory_timing().config;
        regs.set(config.addr, config.reset);
        chip.model.reset_values(&mut regs);
        ChipPeripherals {
            chip,
            regs,
            gpio: GpioLog::default(),
            permissive: false,
            unmodelled: UnmodelledLog::default(),
        }
    }

    /// The host end of the chip's UART.
    pub fn uart(&self) -> UartPort {
        self.regs.uart.clone()
    }

    /// The level changes of the chip's GPIO outputs (a handle that stays valid once the machine
    /// owns the peripherals).
    pub fn gpio(&self) -> GpioLog {
        self.gpio.clone()
    }

    /// Lets unmodelled addresses read as 0 and ignore writes instead of faulting (logged in
    /// [`ChipPeripherals::unmodelled`]). Off by default.
    pub fn set_permissive(&mut self, on: bool) {
        self.permissive = on;
    }

    /// Unmodelled addresses touched in permissive mode (a handle that stays valid once the
    /// machine owns the peripherals).
    pub fn unmodelled(&self) -> UnmodelledLog {
        self.unmodelled.clone()
    }

    /// The last value written to (or the reset value of) a modelled register: how the
    /// firmware configured the chip, for the timing model.
    pub fn register(&self, addr: u32) -> u32 {
        self.regs.get(addr)
    }

    fn block_of(&self, addr: u32) -> Option<&'static Block> {
        self.chip
            .model
            .blocks()
            .iter()
            .find(|b| addr >= b.base && addr - b.base < b.size)
    }
}

impl Peripherals for ChipPeripherals {
    fn register(&self, addr: u32) -> Option<u32> {
        self.regs.values.get(&(addr & !3)).copied()
    }

    fn read(&mut self, addr: u32, size: u8, cycles: u64) -> Option<u32> {
        let (reg, _) = self.chip.model.atomic_alias(addr);
        if self.block_of(reg).is_none() {
            if self.permissive {
                self.unmodelled.record(addr);
                return Some(0);
            }
            return None;
        }
        let word = self.chip.model.read_reg(&mut self.regs, reg & !3, cycles);
        let shift = 8 * (reg & 3);
        let mask = if size >= 4 {
            u32::MAX
        } else {
            (1u32 << (8 * u32::from(size))) - 1
        };
        Some((word >> shift) & mask)
    }

    fn write(&mut self, addr: u32, size: u8, value: u32, cycles: u64) -> bool {
        let model = self.chip.model;
        let (reg, op) = model.atomic_alias(addr);
        if self.block_of(reg).is_none() {
            if self.permissive {
                self.unmodelled.record(addr);
                return true;
            }
            return false;
        }
        let word_addr = reg & !3;
        // Narrow writes replace their bytes of the word (the buses of all four chips
        // replicate narrow data; byte lanes are kept here).
        let shift = 8 * (reg & 3);
        let mask = if size >= 4 {
            u32::MAX
        } else {
            ((1u32 << (8 * u32::from(size))) - 1) << shift
        };
        let value = (value << shift) & mask;
        // The stored value, not a bus read: a read may have side effects (a UART's data
        // register pops its receive FIFO), and a write must not trigger them.
        let old = self.regs.get(word_addr);
        let new = match op {
            Some(AtomicOp::Xor) => old ^ value,
            Some(AtomicOp::Set) => old | value,
            Some(AtomicOp::Clear) => old & !value,
            None => (old & !mask) | value,
        };
        if model.write_dropped(&self.regs, word_addr) {
            return true;
        }
        let bank = model.gpio_bank(word_addr);
        let before = bank.map(|b| model.gpio_levels(&self.regs, b));
        self.regs.set(word_addr, new);
        model.write_reg(&mut self.regs, word_addr, new);
        if let (Some(bank), Some((first, old))) = (bank, before) {
            model.gpio_write(&mut self.regs, word_addr, new);
            let (_, now) = model.gpio_levels(&self.regs, bank);
            let mut changed = old ^ now;
            while changed != 0 {
                let bit = changed.trailing_zeros();
                changed &= changed - 1;
                self.gpio.record(PinChange {
                    cycles,
                    pin: first + bit,
                    high: now >> bit & 1 != 0,
                });
            }
        }
        true
    }
}

impl std::fmt::Debug for ChipPeripherals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipPeripherals")
            .field("chip", &self.chip)
            .field(
                "blocks",
                &self
                    .chip
                    .model
                    .blocks()
                    .iter()
                    .map(|b| b.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rd(p: &mut ChipPeripherals, addr: u32) -> u32 {
        p.read(addr, 4, 0).expect("modelled register")
    }

    pub(super) fn wr(p: &mut ChipPeripherals, addr: u32, value: u32) {
        assert!(p.write(addr, 4, value, 0), "{addr:#x} must be modelled");
    }

    /// (pin, level) of every change logged so far, after `f` wrote at cycle 7.
    pub(super) fn gpio_changes(chip: Chip, f: impl Fn(&mut ChipPeripherals)) -> Vec<(u32, bool)> {
        let mut p = ChipPeripherals::new(chip, 1_000_000);
        let log = p.gpio();
        f(&mut p);
        log.changes()
            .iter()
            .map(|c| {
                assert_eq!(c.cycles, 7);
                (c.pin, c.high)
            })
            .collect()
    }

    pub(super) fn wr7(p: &mut ChipPeripherals, addr: u32, value: u32) {
        assert!(p.write(addr, 4, value, 7), "{addr:#x} must be modelled");
    }

    #[test]
    fn a_forgotten_clock_or_pad_key_leaves_the_pin_alone() {
        // STM32L4R5: port B's clock off (RCC_AHB2ENR bit 1): MODER and BSRR writes are dropped.
        let changes = gpio_changes(Chip::STM32L4R5, |p| {
            let b = 0x4800_0400;
            wr7(p, b, 0b01 << 14);
            wr7(p, b + 0x18, 1 << 7);
            assert_eq!(rd(p, b), 0xFFFF_FEBF, "MODER kept its reset value");
        });
        assert_eq!(changes, []);
        // Apollo3: PADKEY locked (as after reset, or after the firmware locks it again):
        // PADREG and CFG writes are dropped; the output registers still take theirs.
        let changes = gpio_changes(Chip::APOLLO3, |p| {
            let g = 0x4001_0000;
            wr7(p, g + 0x28, 3 << 3);
            wr7(p, g + 0x54, 1 << 1);
            wr7(p, g + 0x94, 1 << (40 - 32));
            assert_eq!((rd(p, g + 0x28), rd(p, g + 0x54)), (0, 0));
            assert_eq!(rd(p, g + 0x8C), 1 << 8, "WTB took the set");
        });
        assert_eq!(changes, []);
    }

    #[test]
    fn chip_names_from_targets_toml() {
        assert_eq!(Chip::from_name("STM32L4R5ZI"), Some(Chip::STM32L4R5));
        assert_eq!(Chip::from_name("nRF52840"), Some(Chip::NRF52840));
        assert_eq!(Chip::from_name("Apollo3 Blue"), Some(Chip::APOLLO3));
        assert_eq!(Chip::from_name("RP2040"), Some(Chip::RP2040));
        assert_eq!(Chip::from_name("ESP32"), None);
    }

    /// What a probe reads from a chip's identity register is what its model answers at reset.
    #[test]
    fn identity_registers_read_as_the_harness_expects() {
        let mut checked = 0;
        for &chip in Chip::ALL {
            let Some(id) = chip.identity() else { continue };
            let mut p = ChipPeripherals::new(chip, 1_000_000);
            let value = p.read(id.register, 4, 0).unwrap_or_else(|| {
                panic!(
                    "{}: {} at {:#x} is not modelled",
                    chip.name(),
                    id.what,
                    id.register
                )
            });
            assert_eq!(value & id.mask, id.expected, "{}: {}", chip.name(), id.what);
            checked += 1;
        }
        assert!(checked >= 4, "the probe-rs chips have identities");
    }

    #[test]
    fn known_names_every_chip_once() {
        let names: Vec<&str> = Chip::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(
            Chip::KNOWN,
            names.join(", "),
            "the list error messages give"
        );
        for (i, a) in Chip::ALL.iter().enumerate() {
            // Each name, as an error message shows it, selects its own chip.
            assert_eq!(Chip::from_name(&a.name().replace('*', "")), Some(*a));
            for b in &Chip::ALL[i + 1..] {
                assert_ne!(a, b, "two chips named {}", a.name());
            }
        }
    }

    #[test]
    fn unmodelled_addresses_fault_unless_permissive() {
        let mut p = ChipPeripherals::new(Chip::STM32L4R5, 120_000_000);
        assert_eq!(p.read(0x4001_3800, 4, 0), None, "USART1 is not modelled");
        assert!(!p.write(0x4001_3800, 4, 1, 0));
        p.set_permissive(true);
        assert_eq!(p.read(0x4001_3800, 4, 0), Some(0));
        assert!(p.write(0x4001_3800, 4, 1, 0));
        assert!(p.write(0x4001_3804, 4, 1, 0));
        // Distinct addresses, first touch first.
        assert_eq!(p.unmodelled().addresses(), [0x4001_3800, 0x4001_3804]);
        for i in 0..1000 {
            p.read(0x4001_4000 + 4 * i, 4, 0);
        }
        assert_eq!(p.unmodelled().addresses().len(), UnmodelledLog::MAX);
    }
}
