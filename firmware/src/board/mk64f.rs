//! NXP Kinetis MK64FN1M0VLL12 (FRDM-K64F): the watchdog off, 120 MHz from the 50 MHz clock the
//! board's Ethernet PHY feeds EXTAL0, through the MCG's PLL (FEI -> FBE -> PBE -> PEE), the
//! FMC's speculation buffer and cache on; DWT CYCCNT; RTT. The flash configuration field at
//! 0x400 (mk64f.x) leaves the chip unsecured.
//!
//! Reference: K64 Sub-Family Reference Manual (K64P144M120SF5RM), FRDM-K64F user's guide.
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register     | written / waited for                                          |
//! | ----------- | ------------ | ------------------------------------------------------------- |
//! | 0x4005_200E | WDOG_UNLOCK  | 0xC520, 0xD928 (16-bit writes, back to back)                  |
//! | 0x4005_2000 | WDOG_STCTRLH | 0x01D2: WDOGEN cleared, ALLOWUPDATE kept                      |
//! | 0x4004_8044 | SIM_CLKDIV1  | core /1, bus /2, FlexBus /3, flash /5 (120, 60, 40, 24 MHz)   |
//! | 0x4006_4001 | MCG_C2       | RANGE0 = very high, EREFS0 = 0: an external clock, no crystal |
//! | 0x4006_4000 | MCG_C1       | CLKS = external, FRDIV = /1536, IREFS = 0 (FBE)               |
//! | 0x4006_4006 | MCG_S        | wait IREFST == 0 and CLKST == external                        |
//! | 0x4006_4004 | MCG_C5       | PRDIV0 = /20: 2.5 MHz into the PLL                            |
//! | 0x4006_4005 | MCG_C6       | PLLS, VDIV0 = x48: 120 MHz (PBE)                              |
//! | 0x4006_4006 | MCG_S        | wait PLLST and LOCK0                                          |
//! | 0x4006_4000 | MCG_C1       | CLKS = PLL (PEE)                                              |
//! | 0x4006_4006 | MCG_S        | wait CLKST == PLL                                             |
//! | 0x4001_F004 | FMC_PFB0CR   | B0SEBE, B0IPE, B0DPE, B0ICE, B0DCE set                        |
//!
//! plus the DWT registers of `super::dwt`, and, with an energy meter's gate (`gate_init`),
//! SIM_SCGC5, PORTx_PCRn, GPIOx_PCOR and GPIOx_PDDR.

#[cfg(not(mcubench_transport = "rtt"))]
compile_error!("this chip module reports over RTT only: give the board transport = { kind = \"rtt\" } in targets.toml");

use crate::reg::{wait_for, NotReady, Reg};
use crate::rtt;

use super::dwt;

/// The flash configuration field at 0x400 (RM, Flash Configuration Field Description): backdoor
/// key, program flash protection (none), FSEC = 0xFE (unsecured, mass erase enabled), FOPT,
/// FEPROT, FDPROT all 1s. A wrong FSEC secures the chip; mk64f.x places this at 0x400.
#[link_section = ".flash_config"]
#[used]
static FLASH_CONFIG: [u32; 4] = [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFE];

// SAFETY (all `Reg::at` below): addresses of MK64F registers, from K64P144M120SF5RM.

/// WDOG (RM, Watchdog Timer chapter), 16-bit registers.
const WDOG_STCTRLH: usize = 0x4005_2000;
const WDOG_UNLOCK: usize = 0x4005_200E;
/// STCTRLH with WDOGEN (bit 0) cleared and the rest at reset (ALLOWUPDATE, WAITEN, STOPEN,
/// CLKSRC).
const STCTRLH_DISABLED: u16 = 0x01D2;

/// SIM_CLKDIV1 (RM, SIM chapter): OUTDIV1 bits 31:28 (core), OUTDIV2 27:24 (bus), OUTDIV3
/// 23:20 (FlexBus), OUTDIV4 19:16 (flash), each a divider minus 1.
const SIM_CLKDIV1: Reg = unsafe { Reg::at(0x4004_8044) };
const OUTDIV: [u32; 4] = [1, 2, 3, 5];
const CLKDIV1: u32 = ((OUTDIV[0] - 1) << 28)
    | ((OUTDIV[1] - 1) << 24)
    | ((OUTDIV[2] - 1) << 20)
    | ((OUTDIV[3] - 1) << 16);

/// MCG (RM, Multipurpose Clock Generator chapter), 8-bit registers.
const MCG_C1: usize = 0x4006_4000;
const MCG_C2: usize = 0x4006_4001;
const MCG_C5: usize = 0x4006_4004;
const MCG_C6: usize = 0x4006_4005;
const MCG_S: usize = 0x4006_4006;
/// C2: RANGE0 (bits 5:4) = 2, very high frequency; EREFS0 (bit 2) = 0, external clock.
const C2_EXTERNAL_CLOCK: u8 = 2 << 4;
/// C1: CLKS (7:6) = 2 external reference, FRDIV (5:3) = 7 (/1536 with RANGE0 != 0:
/// 50 MHz / 1536 = 32.6 kHz into the FLL, inside its 31.25-39.06 kHz range), IREFS (2) = 0.
const C1_FBE: u8 = (2 << 6) | (7 << 3);
/// C1 with CLKS = 0: the PLL (PLLS set) drives MCGOUTCLK.
const C1_PEE: u8 = 7 << 3;
/// C5: PRDIV0 (4:0) = 19, /20: 50 MHz / 20 = 2.5 MHz (2-4 MHz allowed).
const C5_PRDIV: u8 = 19;
/// C6: PLLS (6), VDIV0 (4:0) = 24, x48: 2.5 MHz x 48 = 120 MHz.
const C6_PLL: u8 = (1 << 6) | 24;
/// S: IREFST bit 4, CLKST bits 3:2, PLLST bit 5, LOCK0 bit 6.
const S_IREFST: u8 = 1 << 4;
const S_CLKST_MASK: u8 = 0b11 << 2;
const S_CLKST_EXTERNAL: u8 = 2 << 2;
const S_CLKST_PLL: u8 = 3 << 2;
const S_PLLST: u8 = 1 << 5;
const S_LOCK0: u8 = 1 << 6;

const _: () = assert!(50_000_000 / 20 * 48 == super::config::CLOCK_HZ);

/// FMC_PFB0CR (RM, Flash Memory Controller chapter): B0SEBE bit 0, B0IPE 1, B0DPE 2, B0ICE 3,
/// B0DCE 4.
const FMC_PFB0CR: Reg = unsafe { Reg::at(0x4001_F004) };
const PFB0CR_ENABLES: u32 = 0x1F;

fn read8(addr: usize) -> u8 {
    // SAFETY: an MCG register of the list above.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

fn write8(addr: usize, value: u8) {
    // SAFETY: an MCG register of the list above.
    unsafe { core::ptr::write_volatile(addr as *mut u8, value) }
}

fn write16(addr: usize, value: u16) {
    // SAFETY: a WDOG register of the list above.
    unsafe { core::ptr::write_volatile(addr as *mut u16, value) }
}

pub fn init() -> Result<(), NotReady> {
    // The watchdog runs from reset: unlock (two writes within 20 bus clocks) and disable (within
    // the next 256 bus clocks).
    cortex_m::interrupt::free(|_| {
        write16(WDOG_UNLOCK, 0xC520);
        write16(WDOG_UNLOCK, 0xD928);
        cortex_m::asm::nop();
        write16(WDOG_STCTRLH, STCTRLH_DISABLED);
    });

    rtt::init();

    // Dividers before the clock goes up: the flash's 24 MHz limit at a 120 MHz core.
    SIM_CLKDIV1.write(CLKDIV1);

    // FEI -> FBE: the PHY's 50 MHz clock as the reference.
    write8(MCG_C2, C2_EXTERNAL_CLOCK);
    write8(MCG_C1, C1_FBE);
    wait_for("MCG external reference (S.IREFST clear)", || {
        read8(MCG_S) & S_IREFST == 0
    })?;
    wait_for("MCG external clock (S.CLKST)", || {
        read8(MCG_S) & S_CLKST_MASK == S_CLKST_EXTERNAL
    })?;

    // FBE -> PBE: the PLL to 120 MHz, locked.
    write8(MCG_C5, C5_PRDIV);
    write8(MCG_C6, C6_PLL);
    wait_for("MCG PLL selected (S.PLLST)", || read8(MCG_S) & S_PLLST != 0)?;
    wait_for("MCG PLL lock (S.LOCK0)", || read8(MCG_S) & S_LOCK0 != 0)?;

    // PBE -> PEE.
    write8(MCG_C1, C1_PEE);
    wait_for("MCG PLL as the clock (S.CLKST)", || {
        read8(MCG_S) & S_CLKST_MASK == S_CLKST_PLL
    })?;

    // The FMC's buffers and cache (on from reset; made sure of), or off with
    // `flash-cache-off`.
    if cfg!(feature = "flash-cache-off") {
        FMC_PFB0CR.modify(|v| v & !PFB0CR_ENABLES);
    } else {
        FMC_PFB0CR.modify(|v| v | PFB0CR_ENABLES);
    }
    let _ = &FLASH_CONFIG;

    dwt::init()
}

pub use dwt::cycles;
pub use rtt::{read, write};

pub fn quiesce() {}

/// SIM_SCGC5: PORTA..PORTE clock gates, bits 9..13.
const SIM_SCGC5: Reg = unsafe { Reg::at(0x4004_8038) };
/// PORT A-E: PCRn at 0x4004_9000 + 0x1000 x port + 4n; MUX (bits 10:8) = 1: GPIO.
const PORT_BASE: usize = 0x4004_9000;
const PCR_MUX_GPIO: u32 = 1 << 8;
/// GPIO A-E at 0x400F_F000 + 0x40 x port: PSOR +4, PCOR +8, PDDR +0x14.
const GPIO_BASE: usize = 0x400F_F000;
const PORTS: u32 = 5;

/// The gate GPIO: `pin` = 32 x port + pin (PTA0 = 0, PTB9 = 41, PTC16 = 80 ...), driven low as
/// an output. Registers: SIM_SCGC5 (the port's clock, read back), GPIOx_PCOR, GPIOx_PDDR,
/// PORTx_PCRn.
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    if pin >= PORTS * 32 {
        return Err(super::GateError::NoSuchPin {
            pin,
            pins: "32 x port + pin, PTA0 = 0 to PTE31 = 159",
        });
    }
    let (port, bit) = (pin / 32, pin % 32);
    SIM_SCGC5.modify(|v| v | (1 << (9 + port)));
    let _ = SIM_SCGC5.read();
    let gpio = GPIO_BASE + 0x40 * port as usize;
    // SAFETY: PORT and GPIO registers of the RM (port < 5, bit < 32).
    let (pcr, psor, pcor, pddr) = unsafe {
        (
            Reg::at(PORT_BASE + 0x1000 * port as usize + 4 * bit as usize),
            Reg::at(gpio + 0x4),
            Reg::at(gpio + 0x8),
            Reg::at(gpio + 0x14),
        )
    };
    pcor.write(1 << bit);
    pddr.modify(|v| v | (1 << bit));
    pcr.write(PCR_MUX_GPIO);
    Ok(super::Gate {
        set: psor,
        set_value: 1 << bit,
        clear: pcor,
        clear_value: 1 << bit,
    })
}
