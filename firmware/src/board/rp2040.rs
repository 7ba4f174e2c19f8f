//! RP2040 (Raspberry Pi Pico): boot2 in the first 256 bytes of flash, the 12 MHz crystal
//! started, PLL_SYS to 125 MHz (VCO 1500 MHz / 6 / 2), clk_ref from XOSC and clk_sys from
//! PLL_SYS; the cycle counter is SysTick on the core clock with its wraps counted; RTT.
//!
//! Reference: RP2040 datasheet (build 2023-06), §2.14 Subsystem resets, §2.15 Clocks,
//! §2.16 XOSC, §2.18 PLL; the sequence follows the pico-sdk's `clocks_init`.
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register            | written / waited for                                  |
//! | ----------- | ------------------- | ----------------------------------------------------- |
//! | 0x4000_8078 | CLK_SYS_RESUS_CTRL  | 0: resus off                                          |
//! | 0x4002_4000 | XOSC_CTRL           | FREQ_RANGE 0xAA0 (1-15 MHz)                           |
//! | 0x4002_400C | XOSC_STARTUP        | DELAY 47 (x 256 cycles of 12 MHz: about 1 ms)         |
//! | 0x4002_4000 | XOSC_CTRL           | ENABLE 0xFAB (bits 23:12) + FREQ_RANGE                |
//! | 0x4002_4004 | XOSC_STATUS         | wait STABLE (bit 31)                                  |
//! | 0x4000_803C | CLK_SYS_CTRL        | SRC (bit 0) = 0: clk_sys from clk_ref while PLL_SYS changes |
//! | 0x4000_8044 | CLK_SYS_SELECTED    | wait == 1 (clk_ref)                                   |
//! | 0x4000_8030 | CLK_REF_CTRL        | SRC (bits 1:0) = 0: ring oscillator, then 2: XOSC     |
//! | 0x4000_8038 | CLK_REF_SELECTED    | wait == 1 (ROSC), then wait == 4 (XOSC)               |
//! | 0x4000_C000 | RESETS_RESET        | PLL_SYS (bit 12) set, then cleared                    |
//! | 0x4000_C008 | RESETS_RESET_DONE   | wait PLL_SYS (bit 12)                                 |
//! | 0x4002_8000 | PLL_SYS_CS          | REFDIV 1; wait LOCK (bit 31)                          |
//! | 0x4002_8008 | PLL_SYS_FBDIV_INT   | 125 (12 MHz x 125 = 1500 MHz VCO)                     |
//! | 0x4002_8004 | PLL_SYS_PWR         | PD (bit 0), VCOPD (bit 5) cleared; then POSTDIVPD (bit 3) cleared |
//! | 0x4002_800C | PLL_SYS_PRIM        | POSTDIV1 (bits 18:16) = 6, POSTDIV2 (bits 14:12) = 2  |
//! | 0x4000_8034 | CLK_REF_DIV         | 1 << 8 (divide by 1)                                  |
//! | 0x4000_8040 | CLK_SYS_DIV         | 1 << 8 (divide by 1)                                  |
//! | 0x4000_803C | CLK_SYS_CTRL        | AUXSRC (bits 7:5) = 0: PLL_SYS, then SRC = 1: aux     |
//! | 0x4000_8044 | CLK_SYS_SELECTED    | wait == 2 (aux: PLL_SYS)                              |
//! | 0xE000_E014 | SYST_RVR            | 0xFF_FFFF                                             |
//! | 0xE000_E018 | SYST_CVR            | 0 (clears the count)                                  |
//! | 0xE000_E010 | SYST_CSR            | ENABLE + TICKINT + CLKSOURCE (processor clock); 0 at the end |
//! | 0xE000_ED04 | ICSR                | read: PENDSTSET (bit 26) while reading the counter    |

#[cfg(not(mcubench_transport = "rtt"))]
compile_error!("this chip module reports over RTT only: give the board transport = { kind = \"rtt\" } in targets.toml");

use core::sync::atomic::{compiler_fence, AtomicU32, Ordering};

use cortex_m_rt::exception;

use crate::reg::{wait_for, NotReady, Reg};
use crate::rtt;

/// The second-stage bootloader for the Pico's W25Q080 flash: the boot ROM copies these 256
/// bytes to SRAM, checks their CRC and runs them; they set up XIP and jump to the vector table
/// at 0x1000_0100 (the FLASH region of targets.toml).
#[link_section = ".boot2"]
#[used]
static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

// SAFETY (all `Reg::at` below): addresses of RP2040 / Cortex-M0+ registers.

/// CLOCKS (base 0x4000_8000, datasheet §2.15).
const CLK_REF_CTRL: Reg = unsafe { Reg::at(0x4000_8030) };
const CLK_REF_DIV: Reg = unsafe { Reg::at(0x4000_8034) };
const CLK_REF_SELECTED: Reg = unsafe { Reg::at(0x4000_8038) };
const CLK_REF_SRC_MASK: u32 = 0b11;
const CLK_REF_SRC_ROSC: u32 = 0;
const CLK_REF_SRC_XOSC: u32 = 2;
const CLK_SYS_CTRL: Reg = unsafe { Reg::at(0x4000_803C) };
const CLK_SYS_DIV: Reg = unsafe { Reg::at(0x4000_8040) };
const CLK_SYS_SELECTED: Reg = unsafe { Reg::at(0x4000_8044) };
const CLK_SYS_SRC_AUX: u32 = 1 << 0;
/// AUXSRC bits 7:5; 0 = clksrc_pll_sys.
const CLK_SYS_AUXSRC_MASK: u32 = 0b111 << 5;
const CLK_SYS_RESUS_CTRL: Reg = unsafe { Reg::at(0x4000_8078) };
/// Divider registers: integer part in bits 31:8.
const DIV_BY_1: u32 = 1 << 8;

/// XOSC (base 0x4002_4000, §2.16).
const XOSC_CTRL: Reg = unsafe { Reg::at(0x4002_4000) };
const XOSC_STATUS: Reg = unsafe { Reg::at(0x4002_4004) };
const XOSC_STARTUP: Reg = unsafe { Reg::at(0x4002_400C) };
const XOSC_FREQ_RANGE_1_15MHZ: u32 = 0xAA0;
const XOSC_ENABLE: u32 = 0xFAB << 12;
const XOSC_STATUS_STABLE: u32 = 1 << 31;
const XOSC_HZ: u32 = 12_000_000;
/// Startup delay in units of 256 crystal cycles: 1 ms (§2.16).
const XOSC_STARTUP_DELAY: u32 = (XOSC_HZ / 1000).div_ceil(256);

/// RESETS (base 0x4000_C000, §2.14).
const RESETS_RESET: Reg = unsafe { Reg::at(0x4000_C000) };
const RESETS_RESET_DONE: Reg = unsafe { Reg::at(0x4000_C008) };
const RESET_PLL_SYS: u32 = 1 << 12;

/// PLL_SYS (base 0x4002_8000, §2.18).
const PLL_SYS_CS: Reg = unsafe { Reg::at(0x4002_8000) };
const PLL_SYS_PWR: Reg = unsafe { Reg::at(0x4002_8004) };
const PLL_SYS_FBDIV_INT: Reg = unsafe { Reg::at(0x4002_8008) };
const PLL_SYS_PRIM: Reg = unsafe { Reg::at(0x4002_800C) };
const PLL_CS_LOCK: u32 = 1 << 31;
const PLL_PWR_PD: u32 = 1 << 0;
const PLL_PWR_POSTDIVPD: u32 = 1 << 3;
const PLL_PWR_VCOPD: u32 = 1 << 5;
/// 12 MHz / REFDIV 1 * FBDIV 125 = 1500 MHz VCO (750..1600 MHz); / 6 / 2 = 125 MHz (§2.18).
const PLL_REFDIV: u32 = 1;
const PLL_FBDIV: u32 = 125;
const PLL_POSTDIV1: u32 = 6;
const PLL_POSTDIV2: u32 = 2;
const _: () = assert!(
    XOSC_HZ / PLL_REFDIV * PLL_FBDIV / PLL_POSTDIV1 / PLL_POSTDIV2 == super::config::CLOCK_HZ
);

/// SysTick (ARMv6-M ARM B3.3): CSR, reload and current value.
const SYST_CSR: Reg = unsafe { Reg::at(0xE000_E010) };
const SYST_RVR: Reg = unsafe { Reg::at(0xE000_E014) };
const SYST_CVR: Reg = unsafe { Reg::at(0xE000_E018) };
const SYST_CSR_ENABLE: u32 = 1 << 0;
const SYST_CSR_TICKINT: u32 = 1 << 1;
const SYST_CSR_CLKSOURCE_CORE: u32 = 1 << 2;
/// The counter is 24 bits: it counts down from 0xFF_FFFF, so one wrap is 2^24 cycles.
const SYST_RELOAD: u32 = 0x00FF_FFFF;
/// ICSR (ARMv6-M ARM B3.2.4): bit 26 PENDSTSET, a SysTick exception is pending.
const ICSR: Reg = unsafe { Reg::at(0xE000_ED04) };
const ICSR_PENDSTSET: u32 = 1 << 26;

/// SysTick wraps counted by the SysTick exception.
static WRAPS: AtomicU32 = AtomicU32::new(0);

pub fn init() -> Result<(), NotReady> {
    rtt::init();

    CLK_SYS_RESUS_CTRL.write(0);

    XOSC_CTRL.write(XOSC_FREQ_RANGE_1_15MHZ);
    XOSC_STARTUP.write(XOSC_STARTUP_DELAY);
    XOSC_CTRL.write(XOSC_FREQ_RANGE_1_15MHZ | XOSC_ENABLE);
    wait_for("XOSC (XOSC_STATUS.STABLE)", || {
        XOSC_STATUS.read() & XOSC_STATUS_STABLE != 0
    })?;

    // Move clk_sys and clk_ref off their aux sources before PLL_SYS is reset (§2.15).
    CLK_SYS_CTRL.modify(|v| v & !CLK_SYS_SRC_AUX);
    wait_for("clk_sys on clk_ref (CLK_SYS_SELECTED)", || {
        CLK_SYS_SELECTED.read() == 1
    })?;
    CLK_REF_CTRL.modify(|v| (v & !CLK_REF_SRC_MASK) | CLK_REF_SRC_ROSC);
    wait_for("clk_ref on ROSC (CLK_REF_SELECTED)", || {
        CLK_REF_SELECTED.read() == 1 << CLK_REF_SRC_ROSC
    })?;

    // PLL_SYS (§2.18): reset, program, power up the VCO, wait for lock, then the
    // post dividers.
    RESETS_RESET.modify(|v| v | RESET_PLL_SYS);
    RESETS_RESET.modify(|v| v & !RESET_PLL_SYS);
    wait_for("PLL_SYS out of reset (RESETS_RESET_DONE)", || {
        RESETS_RESET_DONE.read() & RESET_PLL_SYS != 0
    })?;
    PLL_SYS_CS.write(PLL_REFDIV);
    PLL_SYS_FBDIV_INT.write(PLL_FBDIV);
    PLL_SYS_PWR.modify(|v| v & !(PLL_PWR_PD | PLL_PWR_VCOPD));
    wait_for("PLL_SYS lock (PLL_SYS_CS.LOCK)", || {
        PLL_SYS_CS.read() & PLL_CS_LOCK != 0
    })?;
    PLL_SYS_PRIM.write((PLL_POSTDIV1 << 16) | (PLL_POSTDIV2 << 12));
    PLL_SYS_PWR.modify(|v| v & !PLL_PWR_POSTDIVPD);

    // clk_ref from XOSC (glitchless source, §2.15.3.2).
    CLK_REF_DIV.write(DIV_BY_1);
    CLK_REF_CTRL.modify(|v| (v & !CLK_REF_SRC_MASK) | CLK_REF_SRC_XOSC);
    wait_for("clk_ref on XOSC (CLK_REF_SELECTED)", || {
        CLK_REF_SELECTED.read() == 1 << CLK_REF_SRC_XOSC
    })?;

    // clk_sys from PLL_SYS through its aux mux, selected while clk_sys runs from clk_ref.
    CLK_SYS_DIV.write(DIV_BY_1);
    CLK_SYS_CTRL.modify(|v| v & !CLK_SYS_AUXSRC_MASK);
    CLK_SYS_CTRL.modify(|v| v | CLK_SYS_SRC_AUX);
    wait_for("clk_sys on PLL_SYS (CLK_SYS_SELECTED)", || {
        CLK_SYS_SELECTED.read() == 1 << 1
    })?;

    // The cycle counter: SysTick on the processor clock, counting down, wrapping every 2^24
    // cycles into the SysTick exception.
    SYST_RVR.write(SYST_RELOAD);
    SYST_CVR.write(0);
    SYST_CSR.write(SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE_CORE);
    Ok(())
}

#[exception]
fn SysTick() {
    // Only this handler writes WRAPS, and thread mode only reads it.
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Core clock cycles since `init`: wraps * 2^24 + cycles into the current wrap.
///
/// Read with interrupts masked. If the counter wrapped and the exception is pending but not yet
/// taken, the first reading of the counter may be from before or after the wrap; so then the
/// counter is read again (now surely after the wrap) and the pending wrap is counted.
pub fn cycles() -> u64 {
    cortex_m::interrupt::free(|_| {
        let mut wraps = WRAPS.load(Ordering::Relaxed);
        let mut current = SYST_CVR.read();
        if ICSR.read() & ICSR_PENDSTSET != 0 {
            current = SYST_CVR.read();
            wraps = wraps.wrapping_add(1);
        }
        compiler_fence(Ordering::SeqCst);
        (u64::from(wraps) << 24) | u64::from(SYST_RELOAD - current)
    })
}

pub use rtt::{read, write};

/// Stops SysTick, so that a parked core sleeps instead of waking every 2^24 cycles.
pub fn quiesce() {
    SYST_CSR.write(0);
}

/// RESETS_RESET bits of IO_BANK0 (5) and PADS_BANK0 (8) (§2.14.3).
const RESET_IO_BANK0: u32 = 1 << 5;
const RESET_PADS_BANK0: u32 = 1 << 8;
/// IO_BANK0 GPIOn_CTRL (0x4001_4004 + 8n, §2.19.6.1): FUNCSEL (bits 4:0) 5 = SIO.
const IO_BANK0_CTRL: usize = 0x4001_4004;
const FUNCSEL_SIO: u32 = 5;
/// SIO GPIO_OUT_SET / GPIO_OUT_CLR / GPIO_OE_SET (§2.3.1.7): single-cycle set / clear.
const SIO_GPIO_OUT_SET: Reg = unsafe { Reg::at(0xD000_0014) };
const SIO_GPIO_OUT_CLR: Reg = unsafe { Reg::at(0xD000_0018) };
const SIO_GPIO_OE_SET: Reg = unsafe { Reg::at(0xD000_0024) };
const GPIOS: u32 = 30;

/// The gate GPIO: `pin` = the GPIO number (GP0 to GP29), driven low by SIO. Registers:
/// RESETS_RESET / RESET_DONE (IO_BANK0, PADS_BANK0 out of reset), SIO GPIO_OUT_CLR and
/// GPIO_OE_SET, IO_BANK0 GPIOn_CTRL; the pad keeps its reset configuration (output enabled).
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    if pin >= GPIOS {
        return Err(super::GateError::NoSuchPin {
            pin,
            pins: "GP0 to GP29",
        });
    }
    let banks = RESET_IO_BANK0 | RESET_PADS_BANK0;
    RESETS_RESET.modify(|v| v & !banks);
    wait_for(
        "IO_BANK0 and PADS_BANK0 out of reset (RESETS_RESET_DONE)",
        || RESETS_RESET_DONE.read() & banks == banks,
    )
    .map_err(super::GateError::NotReady)?;
    let bit = 1 << pin;
    SIO_GPIO_OUT_CLR.write(bit);
    SIO_GPIO_OE_SET.write(bit);
    // SAFETY: IO_BANK0 GPIOn_CTRL of §2.19.6.1 (pin < 30).
    unsafe { Reg::at(IO_BANK0_CTRL + 8 * pin as usize) }.write(FUNCSEL_SIO);
    Ok(super::Gate {
        set: SIO_GPIO_OUT_SET,
        set_value: bit,
        clear: SIO_GPIO_OUT_CLR,
        clear_value: bit,
    })
}
