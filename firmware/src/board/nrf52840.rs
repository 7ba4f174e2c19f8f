//! nRF52840 (nRF52840-DK): the CPU runs at 64 MHz (HCLK64M) once started; here the high
//! frequency clock is switched to the crystal (HFXO), the NVMC instruction cache is turned on
//! and the DC/DC regulator enabled; DWT CYCCNT; RTT.
//!
//! Reference: nRF52840 Product Specification v1.7.
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register                   | written / waited for                       |
//! | ----------- | -------------------------- | ------------------------------------------ |
//! | 0x4000_0578 | POWER DCDCEN               | 1: REG1 DC/DC converter on                 |
//! | 0x4000_0100 | CLOCK EVENTS_HFCLKSTARTED  | 0 (clear)                                  |
//! | 0x4000_0000 | CLOCK TASKS_HFCLKSTART     | 1 (trigger)                                |
//! | 0x4000_0100 | CLOCK EVENTS_HFCLKSTARTED  | wait == 1; then cleared                    |
//! | 0x4001_E540 | NVMC ICACHECNF             | CACHEEN (bit 0) = 1                        |
//!
//! plus the DWT registers of `super::dwt`.

#[cfg(not(mcubench_transport = "rtt"))]
compile_error!("this chip module reports over RTT only: give the board transport = { kind = \"rtt\" } in targets.toml");

use crate::reg::{wait_for, NotReady, Reg};
use crate::rtt;

use super::dwt;

// SAFETY (all `Reg::at` below): addresses of nRF52840 registers, from the product spec.

/// CLOCK TASKS_HFCLKSTART (PS §5.4, CLOCK; base 0x4000_0000): start HFXO.
const CLOCK_TASKS_HFCLKSTART: Reg = unsafe { Reg::at(0x4000_0000) };
/// CLOCK EVENTS_HFCLKSTARTED (PS §5.4): 1 once HFXO runs and HFCLK is switched to it.
const CLOCK_EVENTS_HFCLKSTARTED: Reg = unsafe { Reg::at(0x4000_0100) };
/// POWER DCDCEN (PS §5.3, POWER; shares base 0x4000_0000): REG1 DC/DC.
const POWER_DCDCEN: Reg = unsafe { Reg::at(0x4000_0578) };
/// NVMC ICACHECNF (PS §4.3, NVMC; base 0x4001_E000): bit 0 CACHEEN.
const NVMC_ICACHECNF: Reg = unsafe { Reg::at(0x4001_E540) };
const NVMC_ICACHECNF_CACHEEN: u32 = 1 << 0;

pub fn init() -> Result<(), NotReady> {
    rtt::init();

    // The DK fits the inductors REG1's DC/DC converter needs (PS §5.3, POWER).
    POWER_DCDCEN.write(1);

    // Crystal as the HFCLK source: the 64 MHz clock is then accurate (PS §5.4, CLOCK).
    CLOCK_EVENTS_HFCLKSTARTED.write(0);
    CLOCK_TASKS_HFCLKSTART.write(1);
    wait_for("HFXO (CLOCK EVENTS_HFCLKSTARTED)", || {
        CLOCK_EVENTS_HFCLKSTARTED.read() != 0
    })?;
    CLOCK_EVENTS_HFCLKSTARTED.write(0);

    if !cfg!(feature = "flash-cache-off") {
        NVMC_ICACHECNF.write(NVMC_ICACHECNF_CACHEEN);
    }

    dwt::init()
}

pub use dwt::cycles;
pub use rtt::{read, write};

pub fn quiesce() {}

/// GPIO ports P0 (0x5000_0000) and P1 (0x5000_0300) (PS v1.7 §6.9.2).
const GPIO_P0: usize = 0x5000_0000;
const GPIO_P1: usize = 0x5000_0300;
/// OUTSET / OUTCLR: set / clear the pins whose bits are 1 (§6.9.2.2, .3).
const GPIO_OUTSET: usize = 0x508;
const GPIO_OUTCLR: usize = 0x50C;
/// PIN_CNF[n] (§6.9.2.10): DIR (bit 0) = output, INPUT (bit 1) = input buffer disconnected.
const GPIO_PIN_CNF: usize = 0x700;
const PIN_CNF_OUTPUT: u32 = 0b11;

/// The gate GPIO: `pin` = 32 x port + pin (P0.27 = 27, P1.01 = 33), a standard-drive output
/// driven low. Registers: OUTCLR, PIN_CNF[pin] of its port.
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    let (base, bit) = match pin {
        0..=31 => (GPIO_P0, pin),
        32..=47 => (GPIO_P1, pin - 32),
        _ => {
            return Err(super::GateError::NoSuchPin {
                pin,
                pins: "32 x port + pin, P0.00 = 0 to P1.15 = 47",
            })
        }
    };
    // SAFETY: GPIO registers of PS v1.7 §6.9.2 (bit < 32).
    let (set, clear, cnf) = unsafe {
        (
            Reg::at(base + GPIO_OUTSET),
            Reg::at(base + GPIO_OUTCLR),
            Reg::at(base + GPIO_PIN_CNF + 4 * bit as usize),
        )
    };
    clear.write(1 << bit);
    cnf.write(PIN_CNF_OUTPUT);
    Ok(super::Gate {
        set,
        set_value: 1 << bit,
        clear,
        clear_value: 1 << bit,
    })
}
