//! STM32L4R5ZI (NUCLEO-L4R5ZI): 120 MHz from HSI16 through the PLL, voltage range 1 boost,
//! 5 flash wait states, ART prefetch + I-cache + D-cache; DWT CYCCNT; RTT.
//!
//! Reference: RM0432 rev 9 (STM32L4+ reference manual).
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register      | written / waited for                                       |
//! | ----------- | ------------- | ---------------------------------------------------------- |
//! | 0x4002_1058 | RCC_APB1ENR1  | PWREN (bit 28) set; read back                              |
//! | 0x4000_7080 | PWR_CR5       | R1MODE (bit 8) cleared: range 1 boost                      |
//! | 0x4000_7014 | PWR_SR2       | wait VOSF (bit 10) == 0                                    |
//! | 0x4002_2000 | FLASH_ACR     | LATENCY (bits 3:0) = 5; wait until it reads back 5         |
//! | 0x4002_1000 | RCC_CR        | HSION (bit 8); wait HSIRDY (bit 10)                        |
//! | 0x4002_1000 | RCC_CR        | PLLON (bit 24) cleared; wait PLLRDY (bit 25) == 0          |
//! | 0x4002_100C | RCC_PLLCFGR   | PLLSRC = HSI16, M = 2, N = 30, R = 2, PLLREN               |
//! | 0x4002_1000 | RCC_CR        | PLLON set; wait PLLRDY (bit 25)                            |
//! | 0x4002_1008 | RCC_CFGR      | HPRE = /2; SW = PLL; wait SWS (bits 3:2) == PLL; HPRE = /1 |
//! | 0x4002_2000 | FLASH_ACR     | PRFTEN (bit 8), ICEN (bit 9), DCEN (bit 10) set            |
//!
//! plus the DWT registers of `super::dwt`, and, with an energy meter's gate (`gate_init`),
//! RCC_AHB2ENR (0x4002_104C), GPIOx_MODER and GPIOx_BSRR.

#[cfg(not(mcubench_transport = "rtt"))]
compile_error!("this chip module reports over RTT only: give the board transport = { kind = \"rtt\" } in targets.toml");

use crate::reg::{wait_for, NotReady, Reg};
use crate::rtt;

use super::dwt;

// SAFETY (all `Reg::at` below): addresses of STM32L4R5 registers, from RM0432.

/// RCC_CR, clock control (RM0432 §6.4, RCC registers).
const RCC_CR: Reg = unsafe { Reg::at(0x4002_1000) };
const RCC_CR_HSION: u32 = 1 << 8;
const RCC_CR_HSIRDY: u32 = 1 << 10;
const RCC_CR_PLLON: u32 = 1 << 24;
const RCC_CR_PLLRDY: u32 = 1 << 25;
/// RCC_CFGR, clock configuration (§6.4): SW bits 1:0, SWS bits 3:2, HPRE bits 7:4.
const RCC_CFGR: Reg = unsafe { Reg::at(0x4002_1008) };
const RCC_CFGR_SW_MASK: u32 = 0b11;
const RCC_CFGR_SW_PLL: u32 = 0b11;
const RCC_CFGR_SWS_MASK: u32 = 0b11 << 2;
const RCC_CFGR_SWS_PLL: u32 = 0b11 << 2;
const RCC_CFGR_HPRE_MASK: u32 = 0b1111 << 4;
const RCC_CFGR_HPRE_DIV2: u32 = 0b1000 << 4;
/// RCC_PLLCFGR, main PLL configuration (§6.4).
const RCC_PLLCFGR: Reg = unsafe { Reg::at(0x4002_100C) };
/// RCC_APB1ENR1, APB1 peripheral clock enable 1 (§6.4): PWREN bit 28.
const RCC_APB1ENR1: Reg = unsafe { Reg::at(0x4002_1058) };
const RCC_APB1ENR1_PWREN: u32 = 1 << 28;

/// PWR_SR2, power status 2 (§5.4, PWR registers): VOSF bit 10, set while the regulator changes level.
const PWR_SR2: Reg = unsafe { Reg::at(0x4000_7014) };
const PWR_SR2_VOSF: u32 = 1 << 10;
/// PWR_CR5, power control 5 (§5.4): R1MODE bit 8; 0 = range 1 boost (needed above 80 MHz).
const PWR_CR5: Reg = unsafe { Reg::at(0x4000_7080) };
const PWR_CR5_R1MODE: u32 = 1 << 8;

/// FLASH_ACR, flash access control (§3.7.1): LATENCY bits 3:0, PRFTEN bit 8, ICEN bit 9,
/// DCEN bit 10.
const FLASH_ACR: Reg = unsafe { Reg::at(0x4002_2000) };
const FLASH_ACR_LATENCY_MASK: u32 = 0b1111;
/// Range 1 boost, 100 MHz < HCLK <= 120 MHz: 5 wait states (RM0432 §3.3.3, wait states by HCLK and voltage range).
const FLASH_WAIT_STATES: u32 = 5;
const FLASH_ACR_PRFTEN: u32 = 1 << 8;
const FLASH_ACR_ICEN: u32 = 1 << 9;
const FLASH_ACR_DCEN: u32 = 1 << 10;

/// PLL from HSI16: VCO input 16 / M = 8 MHz (2.66..16 MHz allowed), VCO = 8 * N = 240 MHz
/// (64..344 MHz), SYSCLK = VCO / R = 120 MHz (§6.4, RCC_PLLCFGR).
const PLLSRC_HSI16: u32 = 0b10;
const PLL_M: u32 = 2;
const PLL_N: u32 = 30;
const PLL_R: u32 = 2;
/// RCC_PLLCFGR fields: PLLSRC bits 1:0, PLLM bits 7:4 (M - 1), PLLN bits 14:8, PLLREN bit 24,
/// PLLR bits 26:25 (00 = /2, 01 = /4, 10 = /6, 11 = /8).
const PLLCFGR: u32 =
    PLLSRC_HSI16 | ((PLL_M - 1) << 4) | (PLL_N << 8) | (1 << 24) | ((PLL_R / 2 - 1) << 25);

const _: () = assert!(16_000_000 / PLL_M * PLL_N / PLL_R == super::config::CLOCK_HZ);

pub fn init() -> Result<(), NotReady> {
    rtt::init();

    // Voltage range 1 boost mode (§5.1.8, dynamic voltage scaling: range 1 normal to range 1 boost): the PWR
    // registers need the PWR clock; the read back makes sure it is on before PWR is touched.
    RCC_APB1ENR1.modify(|v| v | RCC_APB1ENR1_PWREN);
    let _ = RCC_APB1ENR1.read();
    PWR_CR5.modify(|v| v & !PWR_CR5_R1MODE);
    wait_for("range 1 boost (PWR_SR2.VOSF clear)", || {
        PWR_SR2.read() & PWR_SR2_VOSF == 0
    })?;

    // Wait states before the clock goes up (§3.3.3), checked by reading them back.
    FLASH_ACR.modify(|v| (v & !FLASH_ACR_LATENCY_MASK) | FLASH_WAIT_STATES);
    wait_for("5 flash wait states (FLASH_ACR.LATENCY)", || {
        FLASH_ACR.read() & FLASH_ACR_LATENCY_MASK == FLASH_WAIT_STATES
    })?;

    RCC_CR.modify(|v| v | RCC_CR_HSION);
    wait_for("HSI16 (RCC_CR.HSIRDY)", || {
        RCC_CR.read() & RCC_CR_HSIRDY != 0
    })?;

    // The PLL may be configured only while it is off.
    RCC_CR.modify(|v| v & !RCC_CR_PLLON);
    wait_for("PLL stop (RCC_CR.PLLRDY clear)", || {
        RCC_CR.read() & RCC_CR_PLLRDY == 0
    })?;
    RCC_PLLCFGR.write(PLLCFGR);
    RCC_CR.modify(|v| v | RCC_CR_PLLON);
    wait_for("PLL lock (RCC_CR.PLLRDY)", || {
        RCC_CR.read() & RCC_CR_PLLRDY != 0
    })?;

    // Above 80 MHz in boost mode the switch goes through an intermediate AHB /2 step, held for
    // at least 1 us (§5.1.8, steps 1 and 5).
    RCC_CFGR.modify(|v| (v & !RCC_CFGR_HPRE_MASK) | RCC_CFGR_HPRE_DIV2);
    RCC_CFGR.modify(|v| (v & !RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL);
    wait_for("PLL as system clock (RCC_CFGR.SWS)", || {
        RCC_CFGR.read() & RCC_CFGR_SWS_MASK == RCC_CFGR_SWS_PLL
    })?;
    // 1 us at HCLK = 60 MHz is 60 cycles; each iteration is at least one.
    cortex_m::asm::delay(120);
    RCC_CFGR.modify(|v| v & !RCC_CFGR_HPRE_MASK);

    // ART accelerator: prefetch, instruction and data cache (off for prefetch after reset),
    // or all three off with the `flash-cache-off` feature.
    if cfg!(feature = "flash-cache-off") {
        FLASH_ACR.modify(|v| v & !(FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN));
    } else {
        FLASH_ACR.modify(|v| v | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN);
    }

    dwt::init()
}

pub use dwt::cycles;
pub use rtt::{read, write};

pub fn quiesce() {}

/// The gate GPIO: `pin` = 16 x port + pin (PA0 = 0, PB7 = 23 ... PI15 = 143).
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    super::stm32l4_gpio::gate_init(pin, 9, "16 x port + pin, PA0 = 0 to PI15 = 143")
}
