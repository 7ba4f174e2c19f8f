//! RP2040 (datasheet, 2023 build): SYSINFO, SYSCFG, CLOCKS, RESETS, IO_BANK0, PADS_BANK0, XOSC,
//! the PLLs, TIMER, WATCHDOG, ROSC, VREG_AND_CHIP_RESET, XIP_CTRL, SSI and SIO.

use super::{AtomicOp, Block, Chip, ChipIdentity, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig, FlashSettings};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// RP2040 (datasheet, 2023 build).
    pub const RP2040: Chip = Chip::new("RP2040", &Rp2040);
}

/// The RP2040's model.
struct Rp2040;

/// RP2040 (datasheet build 2023-06): XIP flash at 0x1000_0000 (cached alias, 16 MB window)
/// behind a 16 KB 2-way set-associative cache of 8-byte lines (§2.6.3); a miss is a QSPI
/// transfer costing "roughly 50-60" core cycles at 125 MHz with the serial clock at half the
/// system clock: 55 modelled. SRAM is single-cycle; the SIO at 0xD000_0000 is the M0+'s
/// single-cycle I/O port (§2.3.1). The M0+ has the fast (single-cycle) multiplier (§2.3).
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "RP2040",
    flash: (0x1000_0000, 0x1100_0000),
    fetch_bytes: 8,
    fixed_wait_states: 55,
    icache: CacheGeometry {
        line_bytes: 8,
        sets: 1024,
        ways: 2,
    },
    dcache: None,
    config: FlashConfig {
        addr: 0x1400_0000,
        // §2.6.4 CTRL: EN (bit 0) and ERR_BADWRITE (bit 1) set at reset.
        reset: 0x3,
        decode: xip_ctrl,
        // The XIP cache is on from reset and the firmware leaves it so.
        firmware: None,
    },
    io_port: (0xD000_0000, 0xD000_1000),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 1904104013251698837);

/// XIP_CTRL CTRL (datasheet §2.6.3.1): EN bit 0 (reset 1): cache on, for instructions and
/// data. A miss is a QSPI transfer of fixed cost.
fn xip_ctrl(chip: &ChipMemoryTiming, value: u32) -> FlashSettings {
    let on = value & 1 != 0;
    FlashSettings {
        wait_states: chip.fixed_wait_states,
        prefetch: false,
        icache: on,
        dcache: on,
        icache_geometry: None,
    }
}

// Register addresses used by the dynamic behaviour below (the blocks list the rest).
const CLK_REF_CTRL: u32 = 0x4000_8030;
const CLK_REF_SELECTED: u32 = 0x4000_8038;
const CLK_SYS_CTRL: u32 = 0x4000_803C;
const CLK_SYS_SELECTED: u32 = 0x4000_8044;
const RESETS_RESET: u32 = 0x4000_C000;
const RESETS_RESET_DONE: u32 = 0x4000_C008;
/// The 25 resettable blocks (§2.14.3, RESET bits 24:0).
const RESET_MASK: u32 = 0x01FF_FFFF;
const XOSC_CTRL: u32 = 0x4002_4000;
const XOSC_STATUS: u32 = 0x4002_4004;
const ROSC_STATUS: u32 = 0x4006_0018;
const PLL_SYS: u32 = 0x4002_8000;
const PLL_USB: u32 = 0x4002_C000;
const TIMER: u32 = 0x4005_4000;
const SIO: u32 = 0xD000_0000;
/// IO_BANK0 GPIOn_CTRL (§2.19.6.1) at +0x004 + 8n: FUNCSEL (4:0), 5 = SIO.
const IO_BANK0: u32 = 0x4001_4000;

const BLOCKS: &[Block] = &[
    Block::new("SYSINFO", 0x4000_0000, 0x1000),
    Block::new("SYSCFG", 0x4000_4000, 0x1000),
    Block::new("CLOCKS", 0x4000_8000, 0x1000),
    Block::new("RESETS", 0x4000_C000, 0x1000),
    Block::new("IO_BANK0", 0x4001_4000, 0x1000),
    Block::new("PADS_BANK0", 0x4001_C000, 0x1000),
    Block::new("XOSC", 0x4002_4000, 0x1000),
    Block::new("PLL_SYS", 0x4002_8000, 0x1000),
    Block::new("PLL_USB", 0x4002_C000, 0x1000),
    Block::new("TIMER", 0x4005_4000, 0x1000),
    Block::new("WATCHDOG", 0x4005_8000, 0x1000),
    Block::new("ROSC", 0x4006_0000, 0x1000),
    Block::new("VREG_AND_CHIP_RESET", 0x4006_4000, 0x1000),
    Block::new("XIP_CTRL", 0x1400_0000, 0x1000),
    Block::new("SSI", 0x1800_0000, 0x1000),
    Block::new("SIO", 0xD000_0000, 0x1000),
];

impl ChipModel for Rp2040 {
    fn identity(&self) -> Option<ChipIdentity> {
        // RP2040 datasheet §2.20.2: SYSINFO CHIP_ID, PART (27:12) 0x0002, MANUFACTURER (11:0) 0x927.
        Some(ChipIdentity {
            register: 0x4000_0000,
            mask: 0x0fff_ffff,
            expected: 0x0000_2927,
            what: "SYSINFO CHIP_ID",
        })
    }

    fn accepts(&self, name: &str) -> bool {
        name.starts_with("rp2040")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            (RESETS_RESET, RESET_MASK),
            (PLL_SYS + 0x4, 0x2D), // PWR: PD, POSTDIVPD, VCOPD set (§2.18.4)
            (PLL_SYS + 0xC, 0x0007_7000), // PRIM: POSTDIV1 = POSTDIV2 = 7
            (PLL_USB + 0x4, 0x2D),
            (PLL_USB + 0xC, 0x0007_7000),
            (0x4000_8034, 1 << 8),      // CLK_REF_DIV
            (0x4000_8040, 1 << 8),      // CLK_SYS_DIV
            (0x4000_0000, 0x1000_2927), // SYSINFO CHIP_ID
        ]);
        // IO_BANK0 GPIOn_CTRL: FUNCSEL 0x1f (null) at reset (§2.19.6.1).
        for n in 0..30 {
            regs.set(IO_BANK0 + 4 + 8 * n, 0x1f);
        }
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (30, "the GPIO number, GP0 = 0 to GP29 = 29")
    }

    /// The GPIOs 0-29, one bank: the SIO output and output-enable registers and GPIOn_CTRL.
    fn gpio_bank(&self, addr: u32) -> Option<u32> {
        let sio = (0x10..0x30).contains(&addr.wrapping_sub(SIO));
        (sio || (IO_BANK0..IO_BANK0 + 0xF0).contains(&addr)).then_some(0)
    }

    fn gpio_levels(&self, regs: &Regs, _bank: u32) -> (u32, u64) {
        let sio = regs.get(SIO + 0x10) & regs.get(SIO + 0x20);
        let levels = (0..30u32)
            .filter(|&n| regs.get(IO_BANK0 + 4 + 8 * n) & 0x1f == 5)
            .filter(|&n| sio >> n & 1 != 0)
            .fold(0u64, |m, n| m | (1 << n));
        (0, levels)
    }

    /// GPIO_OUT_SET/CLR/XOR act on GPIO_OUT, GPIO_OE_SET/CLR/XOR on GPIO_OE, and read 0.
    fn gpio_write(&self, regs: &mut Regs, addr: u32, value: u32) {
        let off = addr.wrapping_sub(SIO);
        if !(0x14..0x30).contains(&off) || off == 0x20 {
            return;
        }
        let target = SIO + if off < 0x20 { 0x10 } else { 0x20 };
        match off & 0xF {
            0x4 => regs.update(target, |v| v | value),
            0x8 => regs.update(target, |v| v & !value),
            0xC => regs.update(target, |v| v ^ value),
            _ => {}
        }
        regs.set(addr, 0);
    }

    fn read_reg(&self, regs: &mut Regs, addr: u32, cycles: u64) -> u32 {
        let stored = regs.get(addr);
        match addr {
            RESETS_RESET_DONE => !regs.get(RESETS_RESET) & RESET_MASK,
            CLK_REF_SELECTED => 1 << (regs.get(CLK_REF_CTRL) & 0b11),
            CLK_SYS_SELECTED => 1 << (regs.get(CLK_SYS_CTRL) & 1),
            XOSC_STATUS => {
                let enabled = (regs.get(XOSC_CTRL) >> 12) & 0xFFF == 0xFAB;
                if enabled {
                    (1 << 31) | (1 << 12)
                } else {
                    0
                }
            }
            ROSC_STATUS => (1 << 31) | (1 << 12),
            PLL_SYS | PLL_USB => {
                // CS.LOCK once the PLL and its VCO are powered (PWR.PD and PWR.VCOPD clear).
                let pwr = regs.get(addr + 4);
                let locked = pwr & ((1 << 0) | (1 << 5)) == 0;
                (stored & !(1 << 31)) | if locked { 1 << 31 } else { 0 }
            }
            a if (TIMER..TIMER + 0x44).contains(&a) => {
                let us = regs.microseconds(cycles);
                match a - TIMER {
                    0x08 => stored, // TIMEHR: latched by the last TIMELR read
                    0x0C => {
                        // TIMELR latches TIMEHR (§4.6.4).
                        regs.set(TIMER + 0x08, (us >> 32) as u32);
                        us as u32
                    }
                    0x24 => (us >> 32) as u32, // TIMERAWH
                    0x28 => us as u32,         // TIMERAWL
                    _ => stored,
                }
            }
            a if (SIO..SIO + 0x1000).contains(&a) => match a - SIO {
                0x000 => 0,                                    // CPUID: core 0
                0x050 => 0b0010, // FIFO_ST: RDY (room to write), nothing valid
                0x078 => 1,      // DIV_CSR: READY (results are computed on write)
                0x100..=0x17C => 1 << ((a - SIO - 0x100) / 4), // spinlock claimed
                _ => stored,
            },
            _ => stored,
        }
    }

    fn write_reg(&self, regs: &mut Regs, addr: u32, _value: u32) {
        if (SIO + 0x060..=SIO + 0x06C).contains(&addr) {
            sio_divide(regs, addr - SIO);
        }
    }

    /// APB/AHB registers have atomic aliases at +0x1000 (XOR), +0x2000 (set) and +0x3000
    /// (clear) (datasheet §2.1.2); SIO has none.
    fn atomic_alias(&self, addr: u32) -> (u32, Option<AtomicOp>) {
        if !(0x4000_0000..0x6000_0000).contains(&addr) {
            return (addr, None);
        }
        let op = match (addr >> 12) & 3 {
            1 => Some(AtomicOp::Xor),
            2 => Some(AtomicOp::Set),
            3 => Some(AtomicOp::Clear),
            _ => None,
        };
        (addr & !0x3000, op)
    }
}

/// The SIO hardware divider (§2.3.1.5): writing a dividend or divisor starts a division;
/// QUOTIENT and REMAINDER hold the result (the 8-cycle latency is the timing model's).
fn sio_divide(regs: &mut Regs, offset: u32) {
    let signed = offset >= 0x068;
    let (dividend, divisor) = if signed {
        (regs.get(SIO + 0x068), regs.get(SIO + 0x06C))
    } else {
        (regs.get(SIO + 0x060), regs.get(SIO + 0x064))
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
    regs.set(SIO + 0x070, q);
    regs.set(SIO + 0x074, r);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;
    use crate::machine::Peripherals;

    #[test]
    fn rp2040_gpio_outputs_need_sio_funcsel_and_oe() {
        let changes = gpio_changes(Chip::RP2040, |p| {
            wr7(p, 0xD000_0014, 1 << 22); // OUT_SET
            wr7(p, 0xD000_0024, 1 << 22); // OE_SET: FUNCSEL still null
            wr7(p, 0x4001_4004 + 8 * 22, 5); // GPIO22_CTRL: SIO
            wr7(p, 0xD000_001C, 1 << 22); // OUT_XOR
        });
        assert_eq!(changes, [(22, true), (22, false)]);
    }

    #[test]
    fn rp2040_resets_clocks_pll_and_aliases() {
        let mut p = ChipPeripherals::new(Chip::RP2040, 125_000_000);
        assert_eq!(rd(&mut p, RESETS_RESET_DONE) & (1 << 12), 0);
        // Atomic clear alias (+0x3000) takes PLL_SYS out of reset.
        wr(&mut p, RESETS_RESET + 0x3000, 1 << 12);
        assert_ne!(rd(&mut p, RESETS_RESET_DONE) & (1 << 12), 0);
        assert_eq!(
            rd(&mut p, PLL_SYS) >> 31,
            0,
            "not locked while powered down"
        );
        wr(&mut p, PLL_SYS + 4 + 0x3000, 0b10_0001);
        assert_eq!(
            rd(&mut p, PLL_SYS) >> 31,
            1,
            "locked once PD and VCOPD clear"
        );
        wr(&mut p, CLK_SYS_CTRL, 1);
        assert_eq!(rd(&mut p, CLK_SYS_SELECTED), 0b10);
        wr(&mut p, CLK_REF_CTRL, 2);
        assert_eq!(rd(&mut p, CLK_REF_SELECTED), 0b100);
        assert_eq!(rd(&mut p, XOSC_STATUS) >> 31, 0);
        wr(&mut p, XOSC_CTRL, 0xFAB << 12 | 0xAA0);
        assert_eq!(rd(&mut p, XOSC_STATUS) >> 31, 1);
    }

    #[test]
    fn rp2040_timer_counts_microseconds_of_emulated_time() {
        let mut p = ChipPeripherals::new(Chip::RP2040, 125_000_000);
        // 1.25e9 cycles at 125 MHz = 10 s.
        assert_eq!(p.read(TIMER + 0x28, 4, 1_250_000_000), Some(10_000_000));
        assert_eq!(p.read(TIMER + 0x24, 4, 1_250_000_000), Some(0));
        // TIMELR latches TIMEHR: 2^32 us + 5 us.
        let cycles = ((1u64 << 32) + 5) * 125;
        assert_eq!(p.read(TIMER + 0x0C, 4, cycles), Some(5));
        assert_eq!(p.read(TIMER + 0x08, 4, 0), Some(1));
    }

    #[test]
    fn rp2040_sio_divider() {
        let mut p = ChipPeripherals::new(Chip::RP2040, 125_000_000);
        let sio = SIO;
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
