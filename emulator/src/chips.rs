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

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::machine::Peripherals;

/// The chips with a model, named as in targets.toml's `chip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chip {
    /// STM32L4R5 (RM0432).
    Stm32l4r5,
    /// nRF52840 (Product Specification v1.7).
    Nrf52840,
    /// Apollo3 Blue (datasheet DS-A3-0p9p1, AmbiqSuite register map).
    Apollo3,
    /// RP2040 (datasheet, 2023 build).
    Rp2040,
}

impl Chip {
    /// The chip for targets.toml's `chip` field.
    pub fn from_name(name: &str) -> Option<Chip> {
        let n = name.to_ascii_lowercase().replace([' ', '-', '_'], "");
        if n.starts_with("stm32l4r5") {
            Some(Chip::Stm32l4r5)
        } else if n.starts_with("nrf52840") {
            Some(Chip::Nrf52840)
        } else if n.starts_with("apollo3") {
            Some(Chip::Apollo3)
        } else if n.starts_with("rp2040") {
            Some(Chip::Rp2040)
        } else {
            None
        }
    }

    /// The chip's memory timing (flash wait states, prefetch, caches) for the cycle model.
    pub fn memory_timing(self) -> &'static crate::timing::ChipMemoryTiming {
        use crate::timing::memory;
        match self {
            Chip::Stm32l4r5 => &memory::STM32L4R5,
            Chip::Nrf52840 => &memory::NRF52840,
            Chip::Apollo3 => &memory::APOLLO3,
            Chip::Rp2040 => &memory::RP2040,
        }
    }

    /// Names accepted by [`Chip::from_name`], for error messages.
    pub const KNOWN: &'static str = "STM32L4R5*, nRF52840, Apollo3 Blue, RP2040";
}

/// A modelled register block: every word in it is a register that keeps its value.
struct Block {
    name: &'static str,
    base: u32,
    size: u32,
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
    clock_hz: u64,
    blocks: Vec<Block>,
    regs: BTreeMap<u32, u32>,
    uart: UartPort,
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
    /// The chip's pin number (STM32: 16 x port + pin; nRF52840: 32 x port + pin; Apollo3: pad;
    /// RP2040: GPIO), as in targets.toml's `energy.gate_gpio`.
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

/// A group of GPIO outputs whose levels one register write can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GpioBank {
    /// An STM32 port (0 = A): pins 16 x port ..
    Stm32(u32),
    /// An nRF52840 port (0 or 1): pins 32 x port ..
    Nrf(u32),
    /// The Apollo3 pads 0-49.
    Apollo3,
    /// The RP2040 GPIOs 0-29.
    Rp2040,
}

// Register addresses used by the dynamic behaviour below (the blocks list the rest).
mod stm32 {
    /// GPIO ports A-I (RM0432 §8.5): MODER +0x00 (01 = output), ODR +0x14, BSRR +0x18 (set
    /// 15:0, reset 31:16, set wins), BRR +0x28 (reset 15:0); 0x400 apart.
    pub const GPIO: u32 = 0x4800_0000;
    pub const GPIO_PORTS: u32 = 9;
    /// RCC_CR (RM0432 §6.4.1): MSION 0 / MSIRDY 1, HSION 8 / HSIRDY 10, HSEON 16 / HSERDY 17,
    /// PLLON 24 / PLLRDY 25, PLLSAI1ON 26 / RDY 27, PLLSAI2ON 28 / RDY 29.
    pub const RCC_CR: u32 = 0x4002_1000;
    /// RCC_CFGR (§6.4.3): SWS (3:2) follows SW (1:0).
    pub const RCC_CFGR: u32 = 0x4002_1008;
    /// RCC_BDCR (§6.4.29): LSERDY 1 follows LSEON 0.
    pub const RCC_BDCR: u32 = 0x4002_1090;
    /// RCC_CSR (§6.4.30): LSIRDY 1 follows LSION 0.
    pub const RCC_CSR: u32 = 0x4002_1094;
    /// RCC_CRRCR (§6.4.31): HSI48RDY 1 follows HSI48ON 0.
    pub const RCC_CRRCR: u32 = 0x4002_1098;
    /// PWR_SR2 (§5.4.20): VOSF (bit 10) reads 0: voltage scaling completes at once.
    pub const PWR_SR2: u32 = 0x4000_7014;
    /// RCC_AHB2ENR (§6.4.17): GPIOxEN, bits 0 (port A) to 8 (port I); a port whose clock is
    /// off ignores writes.
    pub const RCC_AHB2ENR: u32 = 0x4002_104C;
}

mod nrf {
    /// GPIO P0 at 0x5000_0000 and P1 at 0x5000_0300 (PS §6.9.2): OUT +0x504, OUTSET +0x508,
    /// OUTCLR +0x50C, DIR +0x514, DIRSET +0x518, DIRCLR +0x51C, PIN_CNF[n] +0x700 + 4n (DIR is
    /// its bit 0).
    pub const GPIO: u32 = 0x5000_0000;
    /// CLOCK TASKS_HFCLKSTART / TASKS_HFCLKSTOP / TASKS_LFCLKSTART (PS §5.4.4).
    pub const TASKS_HFCLKSTART: u32 = 0x4000_0000;
    pub const TASKS_HFCLKSTOP: u32 = 0x4000_0004;
    pub const TASKS_LFCLKSTART: u32 = 0x4000_0008;
    pub const EVENTS_HFCLKSTARTED: u32 = 0x4000_0100;
    pub const EVENTS_LFCLKSTARTED: u32 = 0x4000_0104;
    /// HFCLKSTAT: SRC bit 0 (1 = Xtal), STATE bit 16.
    pub const HFCLKSTAT: u32 = 0x4000_040C;
    /// LFCLKSTAT: STATE bit 16.
    pub const LFCLKSTAT: u32 = 0x4000_0418;
    /// NVMC READY (PS §4.3.4): 1, the NVMC is always ready here.
    pub const NVMC_READY: u32 = 0x4001_E400;
}

mod apollo3 {
    /// GPIO (datasheet, GPIO registers): PADREGx +0x00 (a byte per pad, FNCSEL 5:3, 3 = GPIO),
    /// CFGx +0x40 (a nibble per pad, OUTCFG 2:1: 1 push-pull, 2 open drain, 3 tristate), WTA/WTB
    /// +0x88/+0x8C, WTSA/WTSB +0x90/+0x94 (set), WTCA/WTCB +0x98/+0x9C (clear), ENA/ENB
    /// +0xA0/+0xA4 (tristate enable), ENSA/ENSB +0xA8/+0xAC, ENCA/ENCB +0xB4/+0xB8.
    pub const GPIO: u32 = 0x4001_0000;
    /// PADKEY (+0x60): PADREGx and CFGx take writes only while it holds 0x73.
    pub const PADKEY: u32 = 0x4001_0060;
    pub const PADKEY_UNLOCK: u32 = 0x73;
    pub const DEVPWREN: u32 = 0x4002_1008;
    /// DEVPWRSTATUS: HCPA (bit 2) powers IOS, UART0 and UART1 (DEVPWREN bits 1, 7, 8);
    /// HCPB bit 3: IOM0-2 (bits 2-4); HCPC bit 4: IOM3-5 (bits 5-7... see AmbiqSuite).
    pub const DEVPWRSTATUS: u32 = 0x4002_1018;
    pub const UART0_DR: u32 = 0x4001_C000;
    /// FR (PL011): BUSY 3, RXFE 4, TXFF 5, RXFF 6, TXFE 7.
    pub const UART0_FR: u32 = 0x4001_C018;
}

mod rp2040 {
    pub const CLK_REF_CTRL: u32 = 0x4000_8030;
    pub const CLK_REF_SELECTED: u32 = 0x4000_8038;
    pub const CLK_SYS_CTRL: u32 = 0x4000_803C;
    pub const CLK_SYS_SELECTED: u32 = 0x4000_8044;
    pub const RESETS_RESET: u32 = 0x4000_C000;
    pub const RESETS_RESET_DONE: u32 = 0x4000_C008;
    /// The 25 resettable blocks (§2.14.3, RESET bits 24:0).
    pub const RESET_MASK: u32 = 0x01FF_FFFF;
    pub const XOSC_CTRL: u32 = 0x4002_4000;
    pub const XOSC_STATUS: u32 = 0x4002_4004;
    pub const ROSC_STATUS: u32 = 0x4006_0018;
    pub const PLL_SYS: u32 = 0x4002_8000;
    pub const PLL_USB: u32 = 0x4002_C000;
    pub const TIMER: u32 = 0x4005_4000;
    pub const SIO: u32 = 0xD000_0000;
    /// IO_BANK0 GPIOn_CTRL (§2.19.6.1) at +0x004 + 8n: FUNCSEL (4:0), 5 = SIO.
    pub const IO_BANK0: u32 = 0x4001_4000;
}

impl ChipPeripherals {
    /// The peripherals of `chip`; `clock_hz` is the core clock the board runs at (for timers
    /// that count time rather than cycles).
    pub fn new(chip: Chip, clock_hz: u64) -> ChipPeripherals {
        let blocks = match chip {
            Chip::Stm32l4r5 => vec![
                Block {
                    name: "PWR",
                    base: 0x4000_7000,
                    size: 0x400,
                },
                Block {
                    name: "RCC",
                    base: 0x4002_1000,
                    size: 0x400,
                },
                Block {
                    name: "FLASH",
                    base: 0x4002_2000,
                    size: 0x400,
                },
                Block {
                    name: "GPIO",
                    base: 0x4800_0000,
                    size: 0x2400,
                },
                Block {
                    name: "DBGMCU",
                    base: 0xE004_2000,
                    size: 0x400,
                },
            ],
            Chip::Nrf52840 => vec![
                Block {
                    name: "CLOCK/POWER",
                    base: 0x4000_0000,
                    size: 0x1000,
                },
                Block {
                    name: "NVMC",
                    base: 0x4001_E000,
                    size: 0x1000,
                },
                Block {
                    name: "P0",
                    base: 0x5000_0000,
                    size: 0x1000,
                },
                Block {
                    name: "FICR",
                    base: 0x1000_0000,
                    size: 0x1000,
                },
                Block {
                    name: "UICR",
                    base: 0x1000_1000,
                    size: 0x1000,
                },
            ],
            Chip::Apollo3 => vec![
                Block {
                    name: "CLKGEN",
                    base: 0x4000_4000,
                    size: 0x400,
                },
                Block {
                    name: "GPIO",
                    base: 0x4001_0000,
                    size: 0x400,
                },
                Block {
                    name: "CACHECTRL",
                    base: 0x4001_8000,
                    size: 0x400,
                },
                Block {
                    name: "UART0",
                    base: 0x4001_C000,
                    size: 0x400,
                },
                Block {
                    name: "PWRCTRL",
                    base: 0x4002_1000,
                    size: 0x400,
                },
                Block {
                    name: "MCUCTRL",
                    base: 0x4002_0000,
                    size: 0x400,
                },
            ],
            Chip::Rp2040 => vec![
                Block {
                    name: "SYSINFO",
                    base: 0x4000_0000,
                    size: 0x1000,
                },
                Block {
                    name: "SYSCFG",
                    base: 0x4000_4000,
                    size: 0x1000,
                },
                Block {
                    name: "CLOCKS",
                    base: 0x4000_8000,
                    size: 0x1000,
                },
                Block {
                    name: "RESETS",
                    base: 0x4000_C000,
                    size: 0x1000,
                },
                Block {
                    name: "IO_BANK0",
                    base: 0x4001_4000,
                    size: 0x1000,
                },
                Block {
                    name: "PADS_BANK0",
                    base: 0x4001_C000,
                    size: 0x1000,
                },
                Block {
                    name: "XOSC",
                    base: 0x4002_4000,
                    size: 0x1000,
                },
                Block {
                    name: "PLL_SYS",
                    base: 0x4002_8000,
                    size: 0x1000,
                },
                Block {
                    name: "PLL_USB",
                    base: 0x4002_C000,
                    size: 0x1000,
                },
                Block {
                    name: "TIMER",
                    base: 0x4005_4000,
                    size: 0x1000,
                },
                Block {
                    name: "WATCHDOG",
                    base: 0x4005_8000,
                    size: 0x1000,
                },
                Block {
                    name: "ROSC",
                    base: 0x4006_0000,
                    size: 0x1000,
                },
                Block {
                    name: "VREG_AND_CHIP_RESET",
                    base: 0x4006_4000,
                    size: 0x1000,
                },
                Block {
                    name: "XIP_CTRL",
                    base: 0x1400_0000,
                    size: 0x1000,
                },
                Block {
                    name: "SSI",
                    base: 0x1800_0000,
                    size: 0x1000,
                },
                Block {
                    name: "SIO",
                    base: 0xD000_0000,
                    size: 0x1000,
                },
            ],
        };
        let mut p = ChipPeripherals {
            chip,
            clock_hz,
            blocks,
            regs: BTreeMap::new(),
            uart: UartPort::default(),
            gpio: GpioLog::default(),
            permissive: false,
            unmodelled: UnmodelledLog::default(),
        };
        p.reset_values();
        p
    }

    /// Documented reset values that differ from 0.
    fn reset_values(&mut self) {
        let values: &[(u32, u32)] = match self.chip {
            Chip::Stm32l4r5 => &[
                (stm32::RCC_CR, 0x0000_0063), // MSI on and ready (RM0432 §6.4.1)
                (0x4002_100C, 0x0000_1000),   // RCC_PLLCFGR: PLLN = 16
                (0x4000_7000, 0x0000_0200),   // PWR_CR1: VOS = range 1
                (0x4000_7080, 0x0000_0100),   // PWR_CR5: R1MODE = 1 (range 1 normal)
                (0x4002_2000, 0x0000_0600),   // FLASH_ACR: ICEN, DCEN (RM0432 §3.7.1)
                // GPIOx_MODER (§8.5.1): analog mode, but the debug pins of ports A and B.
                (stm32::GPIO, 0xABFF_FFFF),
                (stm32::GPIO + 0x400, 0xFFFF_FEBF),
                (stm32::GPIO + 0x800, 0xFFFF_FFFF),
                (stm32::GPIO + 0xC00, 0xFFFF_FFFF),
                (stm32::GPIO + 0x1000, 0xFFFF_FFFF),
                (stm32::GPIO + 0x1400, 0xFFFF_FFFF),
                (stm32::GPIO + 0x1800, 0xFFFF_FFFF),
                (stm32::GPIO + 0x1C00, 0xFFFF_FFFF),
                (stm32::GPIO + 0x2000, 0xFFFF_FFFF),
            ],
            Chip::Nrf52840 => &[
                (nrf::NVMC_READY, 1),
                (0x1000_0100, 0x0005_2840), // FICR INFO.PART
            ],
            Chip::Apollo3 => &[
                (apollo3::UART0_FR, 0x90), // TXFE | RXFE
            ],
            Chip::Rp2040 => &[
                (rp2040::RESETS_RESET, rp2040::RESET_MASK),
                // IO_BANK0 GPIOn_CTRL: FUNCSEL 0x1f (null) at reset (§2.19.6.1); set below.
                (rp2040::PLL_SYS + 0x4, 0x2D), // PWR: PD, POSTDIVPD, VCOPD set (§2.18.4)
                (rp2040::PLL_SYS + 0xC, 0x0007_7000), // PRIM: POSTDIV1 = POSTDIV2 = 7
                (rp2040::PLL_USB + 0x4, 0x2D),
                (rp2040::PLL_USB + 0xC, 0x0007_7000),
                (0x4000_8034, 1 << 8),      // CLK_REF_DIV
                (0x4000_8040, 1 << 8),      // CLK_SYS_DIV
                (0x4000_0000, 0x1000_2927), // SYSINFO CHIP_ID
            ],
        };
        for &(addr, value) in values {
            self.regs.insert(addr, value);
        }
        if self.chip == Chip::Rp2040 {
            for n in 0..30 {
                self.regs.insert(rp2040::IO_BANK0 + 4 + 8 * n, 0x1f);
            }
        }
    }

    /// The GPIO outputs a write to `addr` may change, if any.
    fn gpio_bank(&self, addr: u32) -> Option<GpioBank> {
        let off = addr.wrapping_sub(match self.chip {
            Chip::Stm32l4r5 => stm32::GPIO,
            Chip::Nrf52840 => nrf::GPIO,
            Chip::Apollo3 => apollo3::GPIO,
            Chip::Rp2040 => rp2040::SIO,
        });
        match self.chip {
            Chip::Stm32l4r5 if off < 0x400 * stm32::GPIO_PORTS => {
                Some(GpioBank::Stm32(off / 0x400))
            }
            Chip::Nrf52840 if (0x504..0x780).contains(&off) => Some(GpioBank::Nrf(0)),
            Chip::Nrf52840 if (0x804..0xA80).contains(&off) => Some(GpioBank::Nrf(1)),
            Chip::Apollo3 if off < 0x100 => Some(GpioBank::Apollo3),
            Chip::Rp2040 if (0x10..0x30).contains(&off) => Some(GpioBank::Rp2040),
            Chip::Rp2040 if (rp2040::IO_BANK0..rp2040::IO_BANK0 + 0xF0).contains(&addr) => {
                Some(GpioBank::Rp2040)
            }
            _ => None,
        }
    }

    /// The output levels of a bank: its first pin and a bit per pin (1 = driven high).
    fn gpio_levels(&self, bank: GpioBank) -> (u32, u64) {
        match bank {
            GpioBank::Stm32(port) => {
                let base = stm32::GPIO + 0x400 * port;
                let (moder, odr) = (self.register(base), self.register(base + 0x14));
                let outputs = (0..16)
                    .filter(|i| (moder >> (2 * i)) & 0b11 == 0b01)
                    .fold(0u64, |m, i| m | (1 << i));
                (16 * port, u64::from(odr) & outputs)
            }
            GpioBank::Nrf(port) => {
                let base = nrf::GPIO + 0x300 * port;
                let out = self.register(base + 0x504) & self.register(base + 0x514);
                (32 * port, u64::from(out))
            }
            GpioBank::Apollo3 => {
                let base = apollo3::GPIO;
                let wt = u64::from(self.register(base + 0x88))
                    | u64::from(self.register(base + 0x8C)) << 32;
                let en = u64::from(self.register(base + 0xA0))
                    | u64::from(self.register(base + 0xA4)) << 32;
                let mut levels = 0;
                for pad in 0..50u32 {
                    let fncsel =
                        (self.register(base + 4 * (pad / 4)) >> (8 * (pad % 4) + 3)) & 0b111;
                    let outcfg =
                        (self.register(base + 0x40 + 4 * (pad / 8)) >> (4 * (pad % 8) + 1)) & 0b11;
                    let driven = match outcfg {
                        1 => true,
                        3 => en >> pad & 1 != 0,
                        // Open drain drives low only; disabled drives nothing.
                        _ => false,
                    };
                    if fncsel == 3 && driven && wt >> pad & 1 != 0 {
                        levels |= 1 << pad;
                    }
                }
                (0, levels)
            }
            GpioBank::Rp2040 => {
                let sio = self.register(rp2040::SIO + 0x10) & self.register(rp2040::SIO + 0x20);
                let levels = (0..30u32)
                    .filter(|&n| self.register(rp2040::IO_BANK0 + 4 + 8 * n) & 0x1f == 5)
                    .filter(|&n| sio >> n & 1 != 0)
                    .fold(0u64, |m, n| m | (1 << n));
                (0, levels)
            }
        }
    }

    /// Replaces the register at `addr` by `f` of its value.
    fn update(&mut self, addr: u32, f: impl Fn(u32) -> u32) {
        let v = f(self.register(addr));
        self.regs.insert(addr, v);
    }

    /// The side effects of a write to a GPIO set, clear or direction register: the register it
    /// acts on changes (these registers read back as that register does, or as 0).
    fn gpio_write(&mut self, addr: u32, value: u32) {
        match self.chip {
            Chip::Stm32l4r5 => {
                let (port, off) = (addr & !0x3FF, addr & 0x3FF);
                match off {
                    0x18 => {
                        self.update(port + 0x14, |odr| (odr & !(value >> 16)) | (value & 0xFFFF));
                        self.regs.insert(addr, 0);
                    }
                    0x28 => {
                        self.update(port + 0x14, |odr| odr & !(value & 0xFFFF));
                        self.regs.insert(addr, 0);
                    }
                    _ => {}
                }
            }
            Chip::Nrf52840 => {
                let off = addr - nrf::GPIO;
                let port = if off >= 0x800 {
                    nrf::GPIO + 0x300
                } else {
                    nrf::GPIO
                };
                match addr - port {
                    0x508 => self.update(port + 0x504, |out| out | value),
                    0x50C => self.update(port + 0x504, |out| out & !value),
                    0x518 => self.update(port + 0x514, |dir| dir | value),
                    0x51C => self.update(port + 0x514, |dir| dir & !value),
                    o @ 0x700..=0x77C => {
                        let bit = 1 << ((o - 0x700) / 4);
                        self.update(port + 0x514, |dir| {
                            if value & 1 != 0 {
                                dir | bit
                            } else {
                                dir & !bit
                            }
                        });
                    }
                    _ => return,
                }
                // OUTSET/OUTCLR read as OUT, DIRSET/DIRCLR as DIR.
                for (alias, target) in [
                    (0x508, 0x504),
                    (0x50C, 0x504),
                    (0x518, 0x514),
                    (0x51C, 0x514),
                ] {
                    let v = self.register(port + target);
                    self.regs.insert(port + alias, v);
                }
            }
            Chip::Apollo3 => {
                let target = match addr - apollo3::GPIO {
                    0x90 | 0x98 => 0x88,
                    0x94 | 0x9C => 0x8C,
                    0xA8 | 0xB4 => 0xA0,
                    0xAC | 0xB8 => 0xA4,
                    _ => return,
                };
                let set = matches!(addr - apollo3::GPIO, 0x90 | 0x94 | 0xA8 | 0xAC);
                self.update(apollo3::GPIO + target, |v| {
                    if set {
                        v | value
                    } else {
                        v & !value
                    }
                });
                self.regs.insert(addr, 0);
            }
            Chip::Rp2040 => {
                let off = addr.wrapping_sub(rp2040::SIO);
                if !(0x14..0x30).contains(&off) || off == 0x20 {
                    return;
                }
                let target = rp2040::SIO + if off < 0x20 { 0x10 } else { 0x20 };
                match off & 0xF {
                    0x4 => self.update(target, |v| v | value),
                    0x8 => self.update(target, |v| v & !value),
                    0xC => self.update(target, |v| v ^ value),
                    _ => {}
                }
                self.regs.insert(addr, 0);
            }
        }
    }

    /// The host end of the chip's UART.
    pub fn uart(&self) -> UartPort {
        self.uart.clone()
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
        self.regs.get(&(addr & !3)).copied().unwrap_or(0)
    }

    fn block_of(&self, addr: u32) -> Option<&Block> {
        self.blocks
            .iter()
            .find(|b| addr >= b.base && addr - b.base < b.size)
    }

    /// RP2040 APB/AHB registers have atomic aliases at +0x1000 (XOR), +0x2000 (set) and
    /// +0x3000 (clear) (datasheet §2.1.2); SIO has none.
    fn rp2040_alias(&self, addr: u32) -> (u32, u32) {
        if self.chip == Chip::Rp2040 && (0x4000_0000..0x6000_0000).contains(&addr) {
            (addr & !0x3000, (addr >> 12) & 3)
        } else {
            (addr, 0)
        }
    }

    fn microseconds(&self, cycles: u64) -> u64 {
        if self.clock_hz == 0 {
            0
        } else {
            (u128::from(cycles) * 1_000_000 / u128::from(self.clock_hz)) as u64
        }
    }

    /// The value of a register as the firmware reads it, after hardware status updates.
    fn read_reg(&mut self, addr: u32, cycles: u64) -> u32 {
        let stored = self.register(addr);
        match (self.chip, addr) {
            (Chip::Stm32l4r5, stm32::RCC_CR) => {
                // Each xxxRDY follows its xxxON.
                let mut v = stored
                    & !((1 << 1) | (1 << 10) | (1 << 17) | (1 << 25) | (1 << 27) | (1 << 29));
                for (on, rdy) in [(0, 1), (8, 10), (16, 17), (24, 25), (26, 27), (28, 29)] {
                    if stored & (1 << on) != 0 {
                        v |= 1 << rdy;
                    }
                }
                v
            }
            (Chip::Stm32l4r5, stm32::RCC_CFGR) => (stored & !0b1100) | ((stored & 0b11) << 2),
            (Chip::Stm32l4r5, stm32::RCC_BDCR | stm32::RCC_CSR | stm32::RCC_CRRCR) => {
                (stored & !0b10) | ((stored & 1) << 1)
            }
            (Chip::Stm32l4r5, stm32::PWR_SR2) => stored & !(1 << 10),
            (Chip::Nrf52840, nrf::HFCLKSTAT) | (Chip::Nrf52840, nrf::LFCLKSTAT) => stored,
            (Chip::Apollo3, apollo3::DEVPWRSTATUS) => {
                let en = self.register(apollo3::DEVPWREN);
                let mut v = 1; // MCUL is always on
                if en & ((1 << 1) | (1 << 7) | (1 << 8)) != 0 {
                    v |= 1 << 2; // HCPA
                }
                if en & (0b111 << 2) != 0 {
                    v |= 1 << 3; // HCPB
                }
                if en & (0b111 << 5) != 0 {
                    v |= 1 << 4; // HCPC
                }
                v
            }
            (Chip::Apollo3, apollo3::UART0_FR) => {
                // TX never fills (the host drains at once); RXFE when nothing is queued.
                let empty = self.uart.lock().rx.is_empty();
                (1 << 7) | if empty { 1 << 4 } else { 0 }
            }
            (Chip::Apollo3, apollo3::UART0_DR) => {
                u32::from(self.uart.lock().rx.pop_front().unwrap_or(0))
            }
            (Chip::Rp2040, rp2040::RESETS_RESET_DONE) => {
                !self.register(rp2040::RESETS_RESET) & rp2040::RESET_MASK
            }
            (Chip::Rp2040, rp2040::CLK_REF_SELECTED) => {
                1 << (self.register(rp2040::CLK_REF_CTRL) & 0b11)
            }
            (Chip::Rp2040, rp2040::CLK_SYS_SELECTED) => {
                1 << (self.register(rp2040::CLK_SYS_CTRL) & 1)
            }
            (Chip::Rp2040, rp2040::XOSC_STATUS) => {
                let enabled = (self.register(rp2040::XOSC_CTRL) >> 12) & 0xFFF == 0xFAB;
                if enabled {
                    (1 << 31) | (1 << 12)
                } else {
                    0
                }
            }
            (Chip::Rp2040, rp2040::ROSC_STATUS) => (1 << 31) | (1 << 12),
            (Chip::Rp2040, a) if a == rp2040::PLL_SYS || a == rp2040::PLL_USB => {
                // CS.LOCK once the PLL and its VCO are powered (PWR.PD and PWR.VCOPD clear).
                let pwr = self.register(a + 4);
                let locked = pwr & ((1 << 0) | (1 << 5)) == 0;
                (stored & !(1 << 31)) | if locked { 1 << 31 } else { 0 }
            }
            (Chip::Rp2040, a) if (rp2040::TIMER..rp2040::TIMER + 0x44).contains(&a) => {
                let us = self.microseconds(cycles);
                match a - rp2040::TIMER {
                    0x08 => stored, // TIMEHR: latched by the last TIMELR read
                    0x0C => {
                        // TIMELR latches TIMEHR (§4.6.4).
                        self.regs.insert(rp2040::TIMER + 0x08, (us >> 32) as u32);
                        us as u32
                    }
                    0x24 => (us >> 32) as u32, // TIMERAWH
                    0x28 => us as u32,         // TIMERAWL
                    _ => stored,
                }
            }
            (Chip::Rp2040, a) if (rp2040::SIO..rp2040::SIO + 0x1000).contains(&a) => {
                match a - rp2040::SIO {
                    0x000 => 0,                                            // CPUID: core 0
                    0x050 => 0b0010, // FIFO_ST: RDY (room to write), nothing valid
                    0x078 => 1,      // DIV_CSR: READY (results are computed on write)
                    0x100..=0x17C => 1 << ((a - rp2040::SIO - 0x100) / 4), // spinlock claimed
                    _ => stored,
                }
            }
            _ => stored,
        }
    }

    fn write_reg(&mut self, addr: u32, value: u32) {
        self.regs.insert(addr, value);
        match (self.chip, addr) {
            (Chip::Nrf52840, nrf::TASKS_HFCLKSTART) if value & 1 != 0 => {
                self.regs.insert(nrf::EVENTS_HFCLKSTARTED, 1);
                self.regs.insert(nrf::HFCLKSTAT, (1 << 16) | 1);
            }
            (Chip::Nrf52840, nrf::TASKS_HFCLKSTOP) if value & 1 != 0 => {
                self.regs.insert(nrf::HFCLKSTAT, 0);
            }
            (Chip::Nrf52840, nrf::TASKS_LFCLKSTART) if value & 1 != 0 => {
                self.regs.insert(nrf::EVENTS_LFCLKSTARTED, 1);
                self.regs.insert(nrf::LFCLKSTAT, 1 << 16);
            }
            (Chip::Apollo3, apollo3::UART0_DR) => {
                self.uart.lock().tx.push(value as u8);
            }
            (Chip::Rp2040, a) if (rp2040::SIO + 0x060..=rp2040::SIO + 0x06C).contains(&a) => {
                self.sio_divide(a - rp2040::SIO);
            }
            _ => {}
        }
    }

    /// Writes the chip takes without a fault and without effect, as a firmware that forgot a
    /// step would see on the board: an STM32L4R5 GPIO port whose clock is off (RM0432 §6.4.17,
    /// RCC_AHB2ENR), and the Apollo3's pad configuration while PADKEY is locked (datasheet, GPIO
    /// PADKEY).
    fn write_dropped(&self, addr: u32) -> bool {
        match self.chip {
            Chip::Stm32l4r5 => {
                let port = addr.wrapping_sub(stm32::GPIO) / 0x400;
                addr >= stm32::GPIO
                    && port < stm32::GPIO_PORTS
                    && self.register(stm32::RCC_AHB2ENR) >> port & 1 == 0
            }
            Chip::Apollo3 => {
                let off = addr.wrapping_sub(apollo3::GPIO);
                (off <= 0x30 || (0x40..=0x58).contains(&off))
                    && self.register(apollo3::PADKEY) != apollo3::PADKEY_UNLOCK
            }
            _ => false,
        }
    }

    /// The SIO hardware divider (§2.3.1.5): writing a dividend or divisor starts a division;
    /// QUOTIENT and REMAINDER hold the result (the 8-cycle latency is the timing model's).
    fn sio_divide(&mut self, offset: u32) {
        let base = rp2040::SIO;
        let signed = offset >= 0x068;
        let (dividend, divisor) = if signed {
            (self.register(base + 0x068), self.register(base + 0x06C))
        } else {
            (self.register(base + 0x060), self.register(base + 0x064))
        };
        let (q, r) = if divisor == 0 {
            // Division by zero: quotient all ones (unsigned) or ±1 by sign (signed), remainder
            // the dividend, as the RP2040 divider gives.
            let q = if signed {
                if (dividend as i32) < 0 {
                    1
                } else {
                    u32::MAX
                }
            } else {
                u32::MAX
            };
            (q, dividend)
        } else if signed {
            let (n, d) = (dividend as i32, divisor as i32);
            (n.wrapping_div(d) as u32, n.wrapping_rem(d) as u32)
        } else {
            (dividend / divisor, dividend % divisor)
        };
        self.regs.insert(base + 0x070, q);
        self.regs.insert(base + 0x074, r);
    }
}

impl Peripherals for ChipPeripherals {
    fn register(&self, addr: u32) -> Option<u32> {
        self.regs.get(&(addr & !3)).copied()
    }

    fn read(&mut self, addr: u32, size: u8, cycles: u64) -> Option<u32> {
        let (reg, _) = self.rp2040_alias(addr);
        if self.block_of(reg).is_none() {
            if self.permissive {
                self.unmodelled.record(addr);
                return Some(0);
            }
            return None;
        }
        let word = self.read_reg(reg & !3, cycles);
        let shift = 8 * (reg & 3);
        let mask = if size >= 4 {
            u32::MAX
        } else {
            (1u32 << (8 * u32::from(size))) - 1
        };
        Some((word >> shift) & mask)
    }

    fn write(&mut self, addr: u32, size: u8, value: u32, cycles: u64) -> bool {
        let (reg, alias) = self.rp2040_alias(addr);
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
        let old = self.register(word_addr);
        let new = match alias {
            1 => old ^ value,
            2 => old | value,
            3 => old & !value,
            _ => (old & !mask) | value,
        };
        if self.write_dropped(word_addr) {
            return true;
        }
        let bank = self.gpio_bank(word_addr);
        let before = bank.map(|b| self.gpio_levels(b));
        self.write_reg(word_addr, new);
        if let (Some(bank), Some((first, old))) = (bank, before) {
            self.gpio_write(word_addr, new);
            let (_, now) = self.gpio_levels(bank);
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
                &self.blocks.iter().map(|b| b.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rd(p: &mut ChipPeripherals, addr: u32) -> u32 {
        p.read(addr, 4, 0).expect("modelled register")
    }

    fn wr(p: &mut ChipPeripherals, addr: u32, value: u32) {
        assert!(p.write(addr, 4, value, 0), "{addr:#x} must be modelled");
    }

    /// (pin, level) of every change logged so far, after `f` wrote at cycle 7.
    fn gpio_changes(chip: Chip, f: impl Fn(&mut ChipPeripherals)) -> Vec<(u32, bool)> {
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

    fn wr7(p: &mut ChipPeripherals, addr: u32, value: u32) {
        assert!(p.write(addr, 4, value, 7), "{addr:#x} must be modelled");
    }

    #[test]
    fn stm32_gpio_outputs_follow_bsrr_and_moder() {
        // PB7 (pin 23): BSRR set while still analog changes nothing; as an output it rises;
        // BSRR reset and BRR bring it down; set wins over reset in one write.
        let changes = gpio_changes(Chip::Stm32l4r5, |p| {
            let b = 0x4800_0400;
            wr7(p, 0x4002_104C, 1 << 1); // RCC_AHB2ENR GPIOBEN
            wr7(p, b + 0x18, 1 << 7);
            let moder = rd(p, b);
            wr7(p, b, (moder & !(0b11 << 14)) | (0b01 << 14));
            wr7(p, b + 0x18, 1 << 23);
            wr7(p, b + 0x18, (1 << 7) | (1 << 23));
            wr7(p, b + 0x28, 1 << 7);
            assert_eq!(rd(p, b + 0x18), 0, "BSRR reads 0");
        });
        assert_eq!(changes, [(23, true), (23, false), (23, true), (23, false)]);
    }

    #[test]
    fn nrf_gpio_outputs_follow_outset_and_pin_cnf() {
        let changes = gpio_changes(Chip::Nrf52840, |p| {
            let p1 = 0x5000_0300;
            wr7(p, p1 + 0x508, 1 << 1); // P1.01 high, but still an input
            wr7(p, p1 + 0x700 + 4, 0b11); // PIN_CNF[1]: output
            assert_eq!(rd(p, p1 + 0x508), 1 << 1, "OUTSET reads OUT");
            wr7(p, p1 + 0x50C, 1 << 1);
            wr7(p, 0x5000_0518, 1 << 27); // P0.27 output, low: no change
        });
        assert_eq!(changes, [(33, true), (33, false)]);
    }

    #[test]
    fn apollo3_gpio_outputs_need_fncsel_and_outcfg() {
        let changes = gpio_changes(Chip::Apollo3, |p| {
            let g = 0x4001_0000;
            wr7(p, g + 0x60, 0x73); // PADKEY unlocked
            wr7(p, g + 0x94, 1 << (40 - 32)); // pad 40 WT set: not a GPIO output yet
            wr7(p, g + 0x28, 3 << 3); // PADREGK byte 0 (pad 40): FNCSEL 3
            wr7(p, g + 0x54, 1 << 1); // CFGF nibble 0 (pad 40): push-pull
            wr7(p, g + 0x9C, 1 << 8); // WTCB
        });
        assert_eq!(changes, [(40, true), (40, false)]);
    }

    #[test]
    fn a_forgotten_clock_or_pad_key_leaves_the_pin_alone() {
        // STM32L4R5: port B's clock off (RCC_AHB2ENR bit 1): MODER and BSRR writes are dropped.
        let changes = gpio_changes(Chip::Stm32l4r5, |p| {
            let b = 0x4800_0400;
            wr7(p, b, 0b01 << 14);
            wr7(p, b + 0x18, 1 << 7);
            assert_eq!(rd(p, b), 0xFFFF_FEBF, "MODER kept its reset value");
        });
        assert_eq!(changes, []);
        // Apollo3: PADKEY locked (as after reset, or after the firmware locks it again):
        // PADREG and CFG writes are dropped; the output registers still take theirs.
        let changes = gpio_changes(Chip::Apollo3, |p| {
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
    fn rp2040_gpio_outputs_need_sio_funcsel_and_oe() {
        let changes = gpio_changes(Chip::Rp2040, |p| {
            wr7(p, 0xD000_0014, 1 << 22); // OUT_SET
            wr7(p, 0xD000_0024, 1 << 22); // OE_SET: FUNCSEL still null
            wr7(p, 0x4001_4004 + 8 * 22, 5); // GPIO22_CTRL: SIO
            wr7(p, 0xD000_001C, 1 << 22); // OUT_XOR
        });
        assert_eq!(changes, [(22, true), (22, false)]);
    }

    #[test]
    fn chip_names_from_targets_toml() {
        assert_eq!(Chip::from_name("STM32L4R5ZI"), Some(Chip::Stm32l4r5));
        assert_eq!(Chip::from_name("nRF52840"), Some(Chip::Nrf52840));
        assert_eq!(Chip::from_name("Apollo3 Blue"), Some(Chip::Apollo3));
        assert_eq!(Chip::from_name("RP2040"), Some(Chip::Rp2040));
        assert_eq!(Chip::from_name("ESP32"), None);
    }

    #[test]
    fn stm32_ready_bits_follow_their_enables_and_writes_are_kept() {
        let mut p = ChipPeripherals::new(Chip::Stm32l4r5, 120_000_000);
        assert_eq!(
            rd(&mut p, stm32::RCC_CR) & (1 << 10),
            0,
            "HSI off after reset"
        );
        let cr = rd(&mut p, stm32::RCC_CR);
        wr(&mut p, stm32::RCC_CR, cr | (1 << 8) | (1 << 24));
        let cr = rd(&mut p, stm32::RCC_CR);
        assert_ne!(cr & (1 << 10), 0, "HSIRDY");
        assert_ne!(cr & (1 << 25), 0, "PLLRDY");
        wr(&mut p, stm32::RCC_CFGR, 0b11);
        assert_eq!(
            rd(&mut p, stm32::RCC_CFGR) & 0b1100,
            0b1100,
            "SWS follows SW"
        );
        // FLASH_ACR keeps the wait states for the timing model; ICEN/DCEN set at reset.
        assert_eq!(p.register(0x4002_2000), 0x600);
        wr(&mut p, 0x4002_2000, 0x705);
        assert_eq!(p.register(0x4002_2000), 0x705);
        // Byte writes replace only their lane.
        assert!(p.write(0x4002_2001, 1, 0x01, 0));
        assert_eq!(p.register(0x4002_2000), 0x105);
    }

    #[test]
    fn unmodelled_addresses_fault_unless_permissive() {
        let mut p = ChipPeripherals::new(Chip::Stm32l4r5, 120_000_000);
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

    #[test]
    fn nrf52840_hfclk_start_task_raises_its_event() {
        let mut p = ChipPeripherals::new(Chip::Nrf52840, 64_000_000);
        assert_eq!(rd(&mut p, nrf::EVENTS_HFCLKSTARTED), 0);
        wr(&mut p, nrf::TASKS_HFCLKSTART, 1);
        assert_eq!(rd(&mut p, nrf::EVENTS_HFCLKSTARTED), 1);
        assert_eq!(
            rd(&mut p, nrf::HFCLKSTAT),
            (1 << 16) | 1,
            "running from the crystal"
        );
    }

    #[test]
    fn apollo3_uart_is_a_byte_stream_both_ways() {
        let mut p = ChipPeripherals::new(Chip::Apollo3, 48_000_000);
        let port = p.uart();
        assert_eq!(rd(&mut p, apollo3::DEVPWRSTATUS) & (1 << 2), 0);
        wr(&mut p, apollo3::DEVPWREN, 1 << 7);
        assert_ne!(
            rd(&mut p, apollo3::DEVPWRSTATUS) & (1 << 2),
            0,
            "HCPA on with UART0"
        );
        for b in b"@done\n" {
            wr(&mut p, apollo3::UART0_DR, u32::from(*b));
        }
        assert_eq!(port.take_tx(), b"@done\n");
        assert_eq!(port.take_tx(), b"");
        assert_eq!(
            rd(&mut p, apollo3::UART0_FR) & (1 << 4),
            1 << 4,
            "RX FIFO empty"
        );
        port.push_rx(b"ab");
        assert_eq!(rd(&mut p, apollo3::UART0_FR) & (1 << 4), 0);
        // Sending does not touch what waits to be received.
        wr(&mut p, apollo3::UART0_DR, u32::from(b'x'));
        assert_eq!(port.rx_pending(), 2);
        assert_eq!(rd(&mut p, apollo3::UART0_DR), u32::from(b'a'));
        assert_eq!(rd(&mut p, apollo3::UART0_DR), u32::from(b'b'));
        assert_eq!(port.take_tx(), b"x");
    }

    #[test]
    fn rp2040_resets_clocks_pll_and_aliases() {
        let mut p = ChipPeripherals::new(Chip::Rp2040, 125_000_000);
        assert_eq!(rd(&mut p, rp2040::RESETS_RESET_DONE) & (1 << 12), 0);
        // Atomic clear alias (+0x3000) takes PLL_SYS out of reset.
        wr(&mut p, rp2040::RESETS_RESET + 0x3000, 1 << 12);
        assert_ne!(rd(&mut p, rp2040::RESETS_RESET_DONE) & (1 << 12), 0);
        assert_eq!(
            rd(&mut p, rp2040::PLL_SYS) >> 31,
            0,
            "not locked while powered down"
        );
        wr(&mut p, rp2040::PLL_SYS + 4 + 0x3000, 0b10_0001);
        assert_eq!(
            rd(&mut p, rp2040::PLL_SYS) >> 31,
            1,
            "locked once PD and VCOPD clear"
        );
        wr(&mut p, rp2040::CLK_SYS_CTRL, 1);
        assert_eq!(rd(&mut p, rp2040::CLK_SYS_SELECTED), 0b10);
        wr(&mut p, rp2040::CLK_REF_CTRL, 2);
        assert_eq!(rd(&mut p, rp2040::CLK_REF_SELECTED), 0b100);
        assert_eq!(rd(&mut p, rp2040::XOSC_STATUS) >> 31, 0);
        wr(&mut p, rp2040::XOSC_CTRL, 0xFAB << 12 | 0xAA0);
        assert_eq!(rd(&mut p, rp2040::XOSC_STATUS) >> 31, 1);
    }

    #[test]
    fn rp2040_timer_counts_microseconds_of_emulated_time() {
        let mut p = ChipPeripherals::new(Chip::Rp2040, 125_000_000);
        // 1.25e9 cycles at 125 MHz = 10 s.
        assert_eq!(
            p.read(rp2040::TIMER + 0x28, 4, 1_250_000_000),
            Some(10_000_000)
        );
        assert_eq!(p.read(rp2040::TIMER + 0x24, 4, 1_250_000_000), Some(0));
        // TIMELR latches TIMEHR: 2^32 us + 5 us.
        let cycles = ((1u64 << 32) + 5) * 125;
        assert_eq!(p.read(rp2040::TIMER + 0x0C, 4, cycles), Some(5));
        assert_eq!(p.read(rp2040::TIMER + 0x08, 4, 0), Some(1));
    }

    #[test]
    fn rp2040_sio_divider() {
        let mut p = ChipPeripherals::new(Chip::Rp2040, 125_000_000);
        let sio = rp2040::SIO;
        wr(&mut p, sio + 0x060, 100);
        wr(&mut p, sio + 0x064, 7);
        assert_eq!((rd(&mut p, sio + 0x070), rd(&mut p, sio + 0x074)), (14, 2));
        assert_eq!(rd(&mut p, sio + 0x078) & 1, 1, "READY");
        wr(&mut p, sio + 0x068, (-100i32) as u32);
        wr(&mut p, sio + 0x06C, 7);
        assert_eq!(
            rd(&mut p, sio + 0x070) as i32,
            -14,
            "truncates towards zero"
        );
        assert_eq!(rd(&mut p, sio + 0x074) as i32, -2);
        wr(&mut p, sio + 0x060, 5);
        wr(&mut p, sio + 0x064, 0);
        assert_eq!(
            (rd(&mut p, sio + 0x070), rd(&mut p, sio + 0x074)),
            (u32::MAX, 5)
        );
        wr(&mut p, sio + 0x068, (-5i32) as u32);
        wr(&mut p, sio + 0x06C, 0);
        assert_eq!(rd(&mut p, sio + 0x070), 1, "negative / 0 gives 1");
        assert_eq!(rd(&mut p, sio), 0, "CPUID: core 0");
    }
}
