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

use crate::reg::{wait_for, NotReady, Reg};
#[cfg(mcubench_transport = "rtt")]
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
    #[cfg(mcubench_transport = "rtt")]
    rtt::init();
    #[cfg(mcubench_transport = "uart")]
    uart::init();

    // The DK fits the inductors REG1's DC/DC converter needs (PS §5.3, POWER); other boards
    // stay on the LDO (DCDCEN's reset value), which works whatever the board fits.
    if cfg!(mcubench_board = "nrf52840-dk") {
        POWER_DCDCEN.write(1);
    }

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
#[cfg(mcubench_transport = "rtt")]
pub use rtt::{read, write};
#[cfg(mcubench_transport = "uart")]
pub use uart::{quiesce, read, write};

#[cfg(mcubench_transport = "rtt")]
pub fn quiesce() {}

/// The report on UART0 (PS v1.7 §6.33, UART: the byte-at-a-time UART, which shares its
/// registers and base with UARTE0), routed to the board's `transport.tx_pin` / `rx_pin`, 8N1, no
/// flow control.
///
/// | address     | register          | written / waited for                                   |
/// | ----------- | ----------------- | ------------------------------------------------------ |
/// | 0x4000_2500 | ENABLE            | 0 while configuring, then 4 (UART)                     |
/// | 0x4000_250C | PSELTXD           | TX pin (bits 4:0 pin, bit 5 port)                      |
/// | 0x4000_2514 | PSELRXD           | RX pin                                                 |
/// | 0x4000_2524 | BAUDRATE          | the value of §6.33.9.18 for `transport.baud`           |
/// | 0x4000_256C | CONFIG            | 0: no parity, no flow control                          |
/// | 0x4000_2008 | TASKS_STARTTX     | 1                                                      |
/// | 0x4000_2000 | TASKS_STARTRX     | 1                                                      |
/// | 0x4000_251C | TXD               | each byte sent                                         |
/// | 0x4000_211C | EVENTS_TXDRDY     | cleared before each byte; wait == 1 after it           |
/// | 0x4000_2108 | EVENTS_RXDRDY     | == 1: a byte waits in RXD; cleared before reading it   |
/// | 0x4000_2518 | RXD               | each byte received (accuracy mode)                     |
/// | 0x4000_200C | TASKS_STOPTX      | 1, in `quiesce`                                        |
#[cfg(mcubench_transport = "uart")]
mod uart {
    use core::sync::atomic::{AtomicBool, Ordering};

    use crate::reg::{wait_for, Reg};

    use super::super::config::{UART_BAUD, UART_PINS};

    // SAFETY (all `Reg::at` below): UART0 registers of the nRF52840 PS v1.7 §6.33.9.
    const TASKS_STARTRX: Reg = unsafe { Reg::at(0x4000_2000) };
    const TASKS_STARTTX: Reg = unsafe { Reg::at(0x4000_2008) };
    const TASKS_STOPTX: Reg = unsafe { Reg::at(0x4000_200C) };
    const EVENTS_RXDRDY: Reg = unsafe { Reg::at(0x4000_2108) };
    const EVENTS_TXDRDY: Reg = unsafe { Reg::at(0x4000_211C) };
    const ENABLE: Reg = unsafe { Reg::at(0x4000_2500) };
    const ENABLE_UART: u32 = 4;
    const PSELTXD: Reg = unsafe { Reg::at(0x4000_250C) };
    const PSELRXD: Reg = unsafe { Reg::at(0x4000_2514) };
    const RXD: Reg = unsafe { Reg::at(0x4000_2518) };
    const TXD: Reg = unsafe { Reg::at(0x4000_251C) };
    const BAUDRATE: Reg = unsafe { Reg::at(0x4000_2524) };
    const CONFIG: Reg = unsafe { Reg::at(0x4000_256C) };

    /// The TX and RX pins, as PSEL values: 32 x port + pin is bits 5 (port) and 4:0 (pin).
    const PINS: (u32, u32) = match UART_PINS {
        Some(pins) => pins,
        None => panic!("the nRF52840's UART needs its pins: give transport.tx_pin and rx_pin in targets.toml"),
    };

    /// BAUDRATE register values (PS §6.33.9.18); other bauds are refused at compile time.
    const BAUDRATE_VALUE: u32 = match UART_BAUD {
        9600 => 0x0027_5000,
        19200 => 0x004E_A000,
        38400 => 0x009D_5000,
        57600 => 0x00EB_F000,
        115200 => 0x01D7_E000,
        230400 => 0x03AF_B000,
        460800 => 0x075F_7000,
        921600 => 0x0EBE_D000,
        1_000_000 => 0x1000_0000,
        _ => panic!("transport.baud: the nRF52840's UART has no BAUDRATE value for this baud (PS §6.33.9.18)"),
    };

    /// Set once a byte did not leave in time: the UART is stuck, later writes are dropped.
    static DEAD: AtomicBool = AtomicBool::new(false);

    pub fn init() {
        ENABLE.write(0);
        PSELTXD.write(PINS.0);
        PSELRXD.write(PINS.1);
        BAUDRATE.write(BAUDRATE_VALUE);
        CONFIG.write(0);
        ENABLE.write(ENABLE_UART);
        TASKS_STARTTX.write(1);
        TASKS_STARTRX.write(1);
    }

    /// Sends `bytes`, one at a time, each waited for (EVENTS_TXDRDY).
    pub fn write(bytes: &[u8]) {
        if DEAD.load(Ordering::Relaxed) {
            return;
        }
        for &byte in bytes {
            EVENTS_TXDRDY.write(0);
            TXD.write(u32::from(byte));
            if wait_for("UART0 TX (EVENTS_TXDRDY)", || EVENTS_TXDRDY.read() != 0).is_err() {
                DEAD.store(true, Ordering::Relaxed);
                return;
            }
        }
    }

    /// Takes the bytes received so far into `out`, without waiting for more.
    pub fn read(out: &mut [u8]) -> usize {
        let mut n = 0;
        while n < out.len() && EVENTS_RXDRDY.read() != 0 {
            EVENTS_RXDRDY.write(0);
            out[n] = RXD.read() as u8;
            n += 1;
        }
        n
    }

    /// Every byte was waited for in `write`: the transmitter can stop.
    pub fn quiesce() {
        TASKS_STOPTX.write(1);
    }
}

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
