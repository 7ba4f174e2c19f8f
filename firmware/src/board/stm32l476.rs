//! STM32L476RG (NUCLEO-L476RG): 80 MHz from HSI16 through the PLL in voltage range 1 (the
//! reset range), 4 flash wait states, ART prefetch + I-cache + D-cache; DWT CYCCNT; RTT.
//!
//! Reference: RM0351 rev 9 (STM32L4x5/L4x6 reference manual), DS10198 (STM32L476xx datasheet).
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register      | written / waited for                                       |
//! | ----------- | ------------- | ---------------------------------------------------------- |
//! | 0x4002_1058 | RCC_APB1ENR1  | PWREN (bit 28) set; read back                              |
//! | 0x4000_7000 | PWR_CR1       | VOS (bits 10:9) = 01, range 1 (its reset value, made sure) |
//! | 0x4000_7014 | PWR_SR2       | wait VOSF (bit 10) == 0                                    |
//! | 0x4002_2000 | FLASH_ACR     | LATENCY (bits 2:0) = 4; wait until it reads back 4         |
//! | 0x4002_1000 | RCC_CR        | HSION (bit 8); wait HSIRDY (bit 10)                        |
//! | 0x4002_1000 | RCC_CR        | PLLON (bit 24) cleared; wait PLLRDY (bit 25) == 0          |
//! | 0x4002_100C | RCC_PLLCFGR   | PLLSRC = HSI16, M = 1, N = 10, R = 2, PLLREN               |
//! | 0x4002_1000 | RCC_CR        | PLLON set; wait PLLRDY (bit 25)                            |
//! | 0x4002_1008 | RCC_CFGR      | SW = PLL; wait SWS (bits 3:2) == PLL                       |
//! | 0x4002_2000 | FLASH_ACR     | PRFTEN (bit 8), ICEN (bit 9), DCEN (bit 10) set            |
//!
//! plus the DWT registers of `super::dwt`, and, with an energy meter's gate (`gate_init`),
//! RCC_AHB2ENR (0x4002_104C), GPIOx_MODER and GPIOx_BSRR.

#[cfg(not(mcubench_transport = "rtt"))]
compile_error!("this chip module reports over RTT only: give the board transport = { kind = \"rtt\" } in targets.toml");

use crate::reg::{wait_for, NotReady, Reg};
use crate::rtt;

use super::dwt;

// SAFETY (all `Reg::at` below): addresses of STM32L476 registers, from RM0351.

/// RCC_CR, clock control (RM0351 §6.4.1).
const RCC_CR: Reg = unsafe { Reg::at(0x4002_1000) };
const RCC_CR_HSION: u32 = 1 << 8;
const RCC_CR_HSIRDY: u32 = 1 << 10;
const RCC_CR_PLLON: u32 = 1 << 24;
const RCC_CR_PLLRDY: u32 = 1 << 25;
/// RCC_CFGR, clock configuration (§6.4.3): SW bits 1:0, SWS bits 3:2.
const RCC_CFGR: Reg = unsafe { Reg::at(0x4002_1008) };
const RCC_CFGR_SW_MASK: u32 = 0b11;
const RCC_CFGR_SW_PLL: u32 = 0b11;
const RCC_CFGR_SWS_MASK: u32 = 0b11 << 2;
const RCC_CFGR_SWS_PLL: u32 = 0b11 << 2;
/// RCC_PLLCFGR, main PLL configuration (§6.4.4).
const RCC_PLLCFGR: Reg = unsafe { Reg::at(0x4002_100C) };
/// RCC_APB1ENR1, APB1 peripheral clock enable 1 (§6.4.18): PWREN bit 28.
const RCC_APB1ENR1: Reg = unsafe { Reg::at(0x4002_1058) };
const RCC_APB1ENR1_PWREN: u32 = 1 << 28;

/// PWR_CR1, power control 1 (§5.4.1): VOS bits 10:9, 01 = range 1 (up to 80 MHz).
const PWR_CR1: Reg = unsafe { Reg::at(0x4000_7000) };
const PWR_CR1_VOS_MASK: u32 = 0b11 << 9;
const PWR_CR1_VOS_RANGE1: u32 = 0b01 << 9;
/// PWR_SR2, power status 2 (§5.4.20): VOSF bit 10, set while the regulator changes level.
const PWR_SR2: Reg = unsafe { Reg::at(0x4000_7014) };
const PWR_SR2_VOSF: u32 = 1 << 10;

/// FLASH_ACR, flash access control (§3.7.1): LATENCY bits 2:0, PRFTEN bit 8, ICEN bit 9,
/// DCEN bit 10.
const FLASH_ACR: Reg = unsafe { Reg::at(0x4002_2000) };
const FLASH_ACR_LATENCY_MASK: u32 = 0b111;
/// Range 1, 64 MHz < HCLK <= 80 MHz: 4 wait states (RM0351 §3.3.3, Table 11).
const FLASH_WAIT_STATES: u32 = 4;
const FLASH_ACR_PRFTEN: u32 = 1 << 8;
const FLASH_ACR_ICEN: u32 = 1 << 9;
const FLASH_ACR_DCEN: u32 = 1 << 10;

/// PLL from HSI16: VCO input 16 / M = 16 MHz (4..16 MHz allowed), VCO = 16 * N = 160 MHz
/// (64..344 MHz), SYSCLK = VCO / R = 80 MHz (§6.4.4, RCC_PLLCFGR).
const PLLSRC_HSI16: u32 = 0b10;
const PLL_M: u32 = 1;
const PLL_N: u32 = 10;
const PLL_R: u32 = 2;
/// RCC_PLLCFGR fields: PLLSRC bits 1:0, PLLM bits 6:4 (M - 1), PLLN bits 14:8, PLLREN bit 24,
/// PLLR bits 26:25 (00 = /2, 01 = /4, 10 = /6, 11 = /8).
const PLLCFGR: u32 =
    PLLSRC_HSI16 | ((PLL_M - 1) << 4) | (PLL_N << 8) | (1 << 24) | ((PLL_R / 2 - 1) << 25);

const _: () = assert!(16_000_000 / PLL_M * PLL_N / PLL_R == super::config::CLOCK_HZ);

pub fn init() -> Result<(), NotReady> {
    rtt::init();

    // Range 1 (§5.1.7, dynamic voltage scaling), the reset range, made sure of: a debugger or
    // a previous program may have left range 2 (26 MHz at most). PWR needs its clock first.
    RCC_APB1ENR1.modify(|v| v | RCC_APB1ENR1_PWREN);
    let _ = RCC_APB1ENR1.read();
    PWR_CR1.modify(|v| (v & !PWR_CR1_VOS_MASK) | PWR_CR1_VOS_RANGE1);
    wait_for("range 1 (PWR_SR2.VOSF clear)", || {
        PWR_SR2.read() & PWR_SR2_VOSF == 0
    })?;

    // Wait states before the clock goes up (§3.3.3), checked by reading them back.
    FLASH_ACR.modify(|v| (v & !FLASH_ACR_LATENCY_MASK) | FLASH_WAIT_STATES);
    wait_for("4 flash wait states (FLASH_ACR.LATENCY)", || {
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

    RCC_CFGR.modify(|v| (v & !RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL);
    wait_for("PLL as system clock (RCC_CFGR.SWS)", || {
        RCC_CFGR.read() & RCC_CFGR_SWS_MASK == RCC_CFGR_SWS_PLL
    })?;

    // ART accelerator: prefetch, instruction and data cache (prefetch off after reset), or
    // all three off with the `flash-cache-off` feature.
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

/// The gate GPIO: `pin` = 16 x port + pin (PA0 = 0, PB7 = 23 ... PH1 = 113).
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    super::stm32l4_gpio::gate_init(pin, 8, "16 x port + pin, PA0 = 0 to PH15 = 127")
}
