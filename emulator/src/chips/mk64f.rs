//! NXP Kinetis K64 (MK64FN1M0VLL12 of the FRDM-K64F; K64 Sub-Family Reference Manual
//! K64P144M120SF5RM): WDOG, SIM, MCG, OSC, FMC, the PORT and GPIO modules A-E.

use super::{Block, Chip, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig, FlashSettings};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// NXP Kinetis MK64F (K64P144M120SF5RM).
    pub const MK64F: Chip = Chip::new("MK64F*", &Mk64f);
}

/// The MK64F's model.
struct Mk64f;

/// MK64FN1M0 (reference manual, Flash Memory Controller chapter): 1 MB of program flash at 0
/// behind the FMC, read 128 bits at a time; the flash runs on its own clock (OUTDIV4: 24 MHz
/// at most, core / 5 at 120 MHz), so a read that misses the FMC's buffers takes one flash
/// clock, 5 core clocks, plus 0 to 4 to align the two clocks (the manual: "between N and 2N - 1
/// core clocks" for an N:1 ratio): modelled as the mean, 7, that is 6 wait states. The FMC's
/// speculation buffer reads the next 128 bits ahead (PFB0CR B0IPE/B0DPE), and its cache holds
/// instructions (B0ICE) and data (B0DCE) in 4 ways of 128-bit lines; the number of sets is
/// modelled as 4 (a 256-byte cache, as the family's 64-bit FMCs with 8 sets of 64-bit lines),
/// to be checked against the silicon with `mcubench calibrate` on a board.
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "MK64FN1M0",
    flash: (0x0000_0000, 0x0010_0000),
    fetch_bytes: 16,
    fixed_wait_states: 6,
    icache: CacheGeometry {
        line_bytes: 16,
        sets: 4,
        ways: 4,
    },
    dcache: None,
    config: FlashConfig {
        addr: FMC_PFB0CR,
        // PFB0CR reset: B0RWSC 3, B0MW 128 bits, single-entry buffer, speculation and cache
        // on for instructions and data.
        reset: 0x3004_001F,
        decode: pfb0cr,
        // The firmware makes sure of all five enables (firmware/src/board/mk64f.rs).
        firmware: Some(0x3004_001F),
    },
    io_port: (0, 0),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 937995373560759383);

/// FMC PFB0CR: B0SEBE bit 0, B0IPE bit 1 (instruction speculation), B0DPE bit 2 (data
/// speculation), B0ICE bit 3 (instructions cached), B0DCE bit 4 (data cached). The wait states
/// follow the clocks, not a register.
fn pfb0cr(chip: &ChipMemoryTiming, value: u32) -> FlashSettings {
    FlashSettings {
        wait_states: chip.fixed_wait_states,
        prefetch: value & (1 << 1) != 0,
        icache: value & (1 << 3) != 0,
        dcache: value & (1 << 4) != 0,
        icache_geometry: None,
    }
}

/// FMC (0x4001_F000): PFAPR +0, PFB0CR +4, PFB1CR +8.
const FMC_PFB0CR: u32 = 0x4001_F004;
/// WDOG (0x4005_2000), 16-bit registers: STCTRLH +0x0 (WDOGEN bit 0), UNLOCK +0xE.
const WDOG: u32 = 0x4005_2000;
/// SIM: SCGC5 (port clock gates, PORTA..E = bits 9..13).
const SIM_SCGC5: u32 = 0x4004_8038;
/// SIM_CLKDIV1 (RM, SIM chapter): OUTDIV1-4 in bits 31:28, 27:24, 23:20, 19:16, each a divider
/// minus 1. Reset 0x0001_0000: core, bus and FlexBus clocks undivided, the flash clock halved.
const SIM_CLKDIV1: u32 = 0x4004_8044;
/// MCG (0x4006_4000), 8-bit registers: C1 +0, C2 +1, C3 +2, C4 +3 (the word at +0); C5 +4,
/// C6 +5, S +6 (the word at +4).
const MCG_C1_C4: u32 = 0x4006_4000;
const MCG_C5_S: u32 = 0x4006_4004;
/// PORT A-E (0x4004_9000, 0x1000 apart): PCRn at +4n, MUX bits 10:8 (1 = GPIO).
const PORT: u32 = 0x4004_9000;
/// GPIO A-E (0x400F_F000, 0x40 apart): PDOR +0, PSOR +4, PCOR +8, PTOR +0xC, PDIR +0x10,
/// PDDR +0x14.
const GPIO: u32 = 0x400F_F000;
const PORTS: u32 = 5;

const BLOCKS: &[Block] = &[
    Block::new("FMC", 0x4001_F000, 0x1000),
    Block::new("SIM", 0x4004_7000, 0x2000),
    Block::new("PORT", PORT, 0x5000),
    Block::new("WDOG", WDOG, 0x1000),
    Block::new("MCG", 0x4006_4000, 0x1000),
    Block::new("OSC", 0x4006_5000, 0x1000),
    Block::new("GPIO", GPIO, 0x1000),
];

impl ChipModel for Mk64f {
    fn accepts(&self, name: &str) -> bool {
        name.starts_with("mk64f")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            // WDOG STCTRLH: WDOGEN and the reset configuration (RM, WDOG chapter).
            (WDOG, 0x0000_01D3),
            (0x4005_2004, 0x004C_0000), // TOVALH
            (0x4005_2008, 0x0000_4B4C), // TOVALL
            (SIM_SCGC5, 0x0004_0182),
            (SIM_CLKDIV1, 0x0001_0000),
            // MCG: C1 IREFS (FEI mode), C2 LOCRE0; S IREFST (computed on read).
            (MCG_C1_C4, 0x0000_8004),
            (0x4006_4008, 0x0000_0002), // SC: FCRDIV /2
            (0x4001_F000, 0x00F8_003F), // FMC PFAPR
            (0x4001_F008, 0x3004_001F), // FMC PFB1CR
        ]);
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (
            160,
            "32 x port + pin: PTA0 = 0, PTB0 = 32, PTC0 = 64, PTD0 = 96, PTE0 = 128 ... PTE31 = 159",
        )
    }

    fn reserved_pin(&self, pin: u32) -> Option<&'static str> {
        // FRDM-K64F user's guide: the OpenSDA interface's SWD lines and virtual COM port, and
        // the 50 MHz clock the Ethernet PHY feeds the K64 on EXTAL0.
        match pin {
            0 => Some("PTA0 is SWD_CLK, the OpenSDA probe's debug clock"),
            3 => Some("PTA3 is SWD_DIO, the OpenSDA probe's debug line"),
            18 => Some("PTA18 is EXTAL0, the 50 MHz clock from the Ethernet PHY"),
            48 | 49 => Some("PTB16 and PTB17 are UART0, wired to the OpenSDA virtual COM port"),
            _ => None,
        }
    }

    /// A GPIO module (0 = A): pins 32 x port ..
    fn gpio_bank(&self, addr: u32) -> Option<u32> {
        let off = addr.wrapping_sub(GPIO);
        if off < 0x40 * PORTS {
            return Some(off / 0x40);
        }
        let off = addr.wrapping_sub(PORT);
        (off < 0x1000 * PORTS && off % 0x1000 < 0x80).then_some(off / 0x1000)
    }

    /// A pin drives its PDOR level when PDDR makes it an output and its PCR's MUX is GPIO.
    fn gpio_levels(&self, regs: &Regs, port: u32) -> (u32, u64) {
        let base = GPIO + 0x40 * port;
        let mut out = regs.get(base) & regs.get(base + 0x14);
        for pin in 0..32 {
            if (regs.get(PORT + 0x1000 * port + 4 * pin) >> 8) & 0b111 != 1 {
                out &= !(1 << pin);
            }
        }
        (32 * port, u64::from(out))
    }

    /// PSOR, PCOR and PTOR act on PDOR and read 0.
    fn gpio_write(&self, regs: &mut Regs, addr: u32, value: u32) {
        let off = addr.wrapping_sub(GPIO);
        if off >= 0x40 * PORTS {
            return;
        }
        let pdor = GPIO + 0x40 * (off / 0x40);
        match off % 0x40 {
            0x4 => regs.update(pdor, |v| v | value),
            0x8 => regs.update(pdor, |v| v & !value),
            0xC => regs.update(pdor, |v| v ^ value),
            _ => return,
        }
        regs.set(addr, 0);
    }

    fn read_reg(&self, regs: &mut Regs, addr: u32, _cycles: u64) -> u32 {
        let stored = regs.get(addr);
        if addr != MCG_C5_S {
            return stored;
        }
        // MCG S follows what C1, C2, C5 and C6 ask for, at once (RM, MCG chapter):
        // IRCST (0) = C2.IRCS (0), OSCINIT0 (1) = C2.EREFS0 (2), CLKST (3:2) = C1.CLKS (7:6)
        // or 3 with CLKS = 0 and C6.PLLS, IREFST (4) = C1.IREFS (2), PLLST (5) = C6.PLLS (6),
        // LOCK0 (6) = the PLL enabled (C6.PLLS or C5.PLLCLKEN0, bit 6).
        let c1_c4 = regs.get(MCG_C1_C4);
        let (c1, c2) = (c1_c4 & 0xFF, (c1_c4 >> 8) & 0xFF);
        let (c5, c6) = (stored & 0xFF, (stored >> 8) & 0xFF);
        let plls = c6 & (1 << 6) != 0;
        let clkst = match c1 >> 6 {
            0 if plls => 3,
            clks => clks & 0b11,
        };
        let s = (c2 & 1)
            | ((c2 >> 2) & 1) << 1
            | clkst << 2
            | ((c1 >> 2) & 1) << 4
            | u32::from(plls) << 5
            | u32::from(plls || c5 & (1 << 6) != 0) << 6;
        (stored & !0x00FF_0000) | (s << 16)
    }

    /// A PORT module whose clock gate (SIM_SCGC5) is off takes no write (on silicon the access
    /// is a bus error; here it is dropped, as a firmware that forgot the gate sees no pin move).
    fn write_dropped(&self, regs: &Regs, addr: u32) -> bool {
        let port = addr.wrapping_sub(PORT) / 0x1000;
        addr >= PORT && port < PORTS && regs.get(SIM_SCGC5) >> (9 + port) & 1 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;
    use crate::machine::Peripherals;

    /// The MCG status byte of the word at C5.
    fn mcg_s(p: &mut ChipPeripherals) -> u32 {
        (rd(p, MCG_C5_S) >> 16) & 0xFF
    }

    #[test]
    fn k64_mcg_status_follows_fei_fbe_pbe_pee() {
        let mut p = ChipPeripherals::new(Chip::MK64F, 120_000_000);
        assert_eq!(
            mcg_s(&mut p) & 0b1_1100,
            0b1_0000,
            "FEI: IREFST, CLKST = FLL"
        );
        // FBE: external reference (CLKS = 2, IREFS = 0) through byte writes, as firmware does.
        assert!(p.write(MCG_C1_C4 + 1, 1, 0x20, 0)); // C2: RANGE0 = 2, external clock
        assert!(p.write(MCG_C1_C4, 1, 0xB8, 0)); // C1: CLKS = 2, FRDIV = 7
        assert_eq!(
            mcg_s(&mut p) & 0b1_1100,
            0b0_1000,
            "CLKST = external, IREFST clear"
        );
        // PBE: PLL on, locked.
        assert!(p.write(MCG_C5_S, 1, 19, 0));
        assert!(p.write(MCG_C5_S + 1, 1, 0x58, 0));
        let s = mcg_s(&mut p);
        assert_eq!(s & (1 << 5), 1 << 5, "PLLST");
        assert_eq!(s & (1 << 6), 1 << 6, "LOCK0");
        // PEE.
        assert!(p.write(MCG_C1_C4, 1, 0x38, 0));
        assert_eq!((mcg_s(&mut p) >> 2) & 0b11, 3, "CLKST = PLL");
        // The byte read of S (at +6) sees the same.
        assert_eq!(
            p.read(MCG_C5_S + 2, 1, 0).map(|v| v & 0xFF),
            Some(mcg_s(&mut p))
        );
    }

    #[test]
    fn k64_gpio_needs_the_port_clock_and_the_gpio_mux() {
        let changes = gpio_changes(Chip::MK64F, |p| {
            let (pcr, gpio_b) = (PORT + 0x1000 + 4 * 9, GPIO + 0x40); // PTB9
            wr7(p, pcr, 1 << 8); // dropped: PORTB's clock is off
            wr7(p, gpio_b + 0x14, 1 << 9); // PDDR: output
            wr7(p, gpio_b + 0x4, 1 << 9); // PSOR: high, but the pin is not muxed to GPIO
            let scgc5 = rd(p, SIM_SCGC5);
            wr7(p, SIM_SCGC5, scgc5 | (1 << 10));
            wr7(p, pcr, 1 << 8); // MUX = GPIO: the pin drives its PDOR level
            wr7(p, gpio_b + 0x8, 1 << 9); // PCOR
            wr7(p, gpio_b + 0xC, 1 << 9); // PTOR
            assert_eq!(rd(p, gpio_b + 0xC), 0, "PTOR reads 0");
        });
        assert_eq!(changes, [(41, true), (41, false), (41, true)]);
    }

    #[test]
    fn k64_flash_controller_and_watchdog_keep_their_writes() {
        let mut p = ChipPeripherals::new(Chip::MK64F, 120_000_000);
        assert_eq!(p.register(FMC_PFB0CR), 0x3004_001F);
        // WDOG unlock and disable: 16-bit writes.
        assert!(p.write(WDOG + 0xE, 2, 0xC520, 0));
        assert!(p.write(WDOG + 0xE, 2, 0xD928, 0));
        assert!(p.write(WDOG, 2, 0x01D2, 0));
        assert_eq!(p.register(WDOG) & 1, 0, "WDOGEN cleared");
        // SIM_CLKDIV1: OUTDIV4 = /2 at reset, and it keeps the dividers written.
        assert_eq!(p.register(SIM_CLKDIV1), 0x0001_0000);
        wr(&mut p, SIM_CLKDIV1, 0x0124_0000);
        assert_eq!(p.register(SIM_CLKDIV1), 0x0124_0000);
    }
}
