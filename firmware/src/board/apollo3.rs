//! Apollo3 Blue (SparkFun Artemis): linked at 0x1_0000 behind the SparkFun Variable Loader
//! (the FLASH region of targets.toml), 48 MHz from the HFRC, the 16 KB flash cache on,
//! DWT CYCCNT, and the report on UART0 (the Artemis' USB-serial bridge: TX pad 48, RX pad 49).
//!
//! References: Apollo3 Blue SoC datasheet (DS-A3-0p9p1), chapters CLKGEN, CACHECTRL, PWRCTRL,
//! GPIO and UART; register and field layout as in AmbiqSuite's `apollo3.h` and HAL
//! (`am_hal_clkgen_control`, `am_hal_cachectrl_config`, `am_hal_pwrctrl_periph_enable`,
//! `am_hal_gpio_pinconfig`, `am_hal_uart_configure`). UART0 is an ARM PL011 with an added clock
//! select.
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register              | written / waited for                                 |
//! | ----------- | --------------------- | ---------------------------------------------------- |
//! | 0xE000_E180 | NVIC ICER0            | 0xFFFF_FFFF: no interrupt the loader left enabled     |
//! | 0xE000_E280 | NVIC ICPR0            | 0xFFFF_FFFF: nor pending                             |
//! | 0x4002_1008 | PWRCTRL DEVPWREN      | PWRUART0 (bit 7) set                                 |
//! | 0x4002_1018 | PWRCTRL DEVPWRSTATUS  | wait HCPA (bit 2): the UART0 power domain is on      |
//! | 0x4001_0060 | GPIO PADKEY           | 0x73 (unlock pad configuration), later 0 (lock)      |
//! | 0x4001_0030 | GPIO PADREGM          | pad 48 = 0x00 (FNCSEL 0: UART0TX), pad 49 = 0x02 (FNCSEL 0: UART0RX, INPEN) |
//! | 0x4001_0058 | GPIO CFGG             | pads 48 and 49 nibbles = 0                           |
//! | 0x4001_C030 | UART0 CR              | 0 (off); CLKEN + CLKSEL 24 MHz; later UARTEN+TXE+RXE |
//! | 0x4001_C024 | UART0 IBRD            | integer baud divisor                                 |
//! | 0x4001_C028 | UART0 FBRD            | fractional baud divisor                              |
//! | 0x4001_C02C | UART0 LCRH            | WLEN = 8 bits, FEN (FIFOs on)                        |
//! | 0x4000_4014 | CLKGEN CLKKEY         | 0x47 (unlock CCTRL), later 0                         |
//! | 0x4000_4018 | CLKGEN CCTRL          | CORESEL (bit 0) = 0: core clock = HFRC, 48 MHz       |
//! | 0x4001_8000 | CACHECTRL CACHECFG    | 1-way 128-bit 1024 entries, I + D cache, then ENABLE |
//! | 0x4001_C018 | UART0 FR              | each byte: wait TXFF (bit 5) == 0; at the end BUSY (bit 3) == 0; reading: RXFE (bit 4) |
//! | 0x4001_C000 | UART0 DR              | each byte sent; each byte received (accuracy mode)   |
//!
//! plus the DWT registers of `super::dwt`.

#[cfg(not(mcubench_transport = "uart"))]
compile_error!("the Apollo3 module reports over UART0 only: give the board transport = { kind = \"uart\", ... } in targets.toml");

use core::sync::atomic::{AtomicBool, Ordering};

use crate::reg::{wait_for, NotReady, Reg};

use super::config::UART_BAUD;
use super::dwt;

// SAFETY (all `Reg::at` below): addresses of Apollo3 Blue / Cortex-M4 registers.

/// NVIC Interrupt Clear-Enable and Clear-Pending registers 0 (ARMv7-M ARM B3.4.4, B3.4.6);
/// the Apollo3 has 32 external interrupts, all in register 0.
const NVIC_ICER0: Reg = unsafe { Reg::at(0xE000_E180) };
const NVIC_ICPR0: Reg = unsafe { Reg::at(0xE000_E280) };

/// PWRCTRL DEVPWREN (PWRCTRL base 0x4002_1000): bit 7 PWRUART0.
const PWRCTRL_DEVPWREN: Reg = unsafe { Reg::at(0x4002_1008) };
const DEVPWREN_PWRUART0: u32 = 1 << 7;
/// PWRCTRL DEVPWRSTATUS: bit 2 HCPA, the power domain of IOS, UART0 and UART1.
const PWRCTRL_DEVPWRSTATUS: Reg = unsafe { Reg::at(0x4002_1018) };
const DEVPWRSTATUS_HCPA: u32 = 1 << 2;

/// GPIO PADKEY (GPIO base 0x4001_0000): 0x73 unlocks the pad registers.
const GPIO_PADKEY: Reg = unsafe { Reg::at(0x4001_0060) };
const PADKEY_UNLOCK: u32 = 0x73;
/// GPIO PADREGM: pads 48..51, one byte each: PULL bit 0, INPEN bit 1, STRNG bit 2,
/// FNCSEL bits 5:3.
const GPIO_PADREGM: Reg = unsafe { Reg::at(0x4001_0030) };
/// Pad 48 (byte 0): FNCSEL 0 = UART0TX; pad 49 (byte 1): FNCSEL 0 = UART0RX, INPEN.
const PADREGM_UART0: u32 = 0x0000_0200;
/// GPIO CFGG: pads 48..55, one nibble each (GPIO input, output and interrupt configuration).
const GPIO_CFGG: Reg = unsafe { Reg::at(0x4001_0058) };

/// UART0 (base 0x4001_C000), a PL011: DR, FR, IBRD, FBRD, LCRH, CR.
const UART0_DR: Reg = unsafe { Reg::at(0x4001_C000) };
const UART0_FR: Reg = unsafe { Reg::at(0x4001_C018) };
const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const UART0_IBRD: Reg = unsafe { Reg::at(0x4001_C024) };
const UART0_FBRD: Reg = unsafe { Reg::at(0x4001_C028) };
const UART0_LCRH: Reg = unsafe { Reg::at(0x4001_C02C) };
const LCRH_FEN: u32 = 1 << 4;
const LCRH_WLEN_8: u32 = 0b11 << 5;
const UART0_CR: Reg = unsafe { Reg::at(0x4001_C030) };
const CR_UARTEN: u32 = 1 << 0;
const CR_CLKEN: u32 = 1 << 3;
/// CLKSEL bits 6:4: 1 = 24 MHz (from the HFRC, whatever the core clock divider).
const CR_CLKSEL_24MHZ: u32 = 1 << 4;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;
const UART_CLOCK_HZ: u32 = 24_000_000;

/// PL011 baud divisor in 1/64ths: UARTCLK / (16 * baud), rounded.
const BAUD_DIVISOR_64THS: u32 = (4 * UART_CLOCK_HZ + UART_BAUD / 2) / UART_BAUD;
const _: () = assert!(
    BAUD_DIVISOR_64THS >> 6 >= 1 && BAUD_DIVISOR_64THS >> 6 <= 0xFFFF,
    "transport.baud of sparkfun-artemis is out of UART0's range at a 24 MHz UART clock"
);

/// CLKGEN CLKKEY (CLKGEN base 0x4000_4000): 0x47 unlocks CCTRL.
const CLKGEN_CLKKEY: Reg = unsafe { Reg::at(0x4000_4014) };
const CLKKEY_UNLOCK: u32 = 0x47;
/// CLKGEN CCTRL: bit 0 CORESEL, 0 = HFRC (48 MHz), 1 = HFRC / 2.
const CLKGEN_CCTRL: Reg = unsafe { Reg::at(0x4000_4018) };
const HFRC_HZ: u32 = 48_000_000;
const _: () = assert!(HFRC_HZ == super::config::CLOCK_HZ);

/// CACHECTRL CACHECFG (CACHECTRL base 0x4001_8000): ENABLE bit 0, CONFIG bits 7:4,
/// ICACHE_ENABLE bit 8, DCACHE_ENABLE bit 9, CACHE_CLKGATE bit 10, DATA_CLKGATE bit 20.
const CACHECTRL_CACHECFG: Reg = unsafe { Reg::at(0x4001_8000) };
const CACHECFG_ENABLE: u32 = 1 << 0;
/// CONFIG 8: direct mapped, 128-bit lines, 1024 entries (AmbiqSuite's default).
const CACHECFG_CONFIG_1WAY_1024: u32 = 8 << 4;
const CACHECFG_ICACHE: u32 = 1 << 8;
const CACHECFG_DCACHE: u32 = 1 << 9;
const CACHECFG_CACHE_CLKGATE: u32 = 1 << 10;
const CACHECFG_DATA_CLKGATE: u32 = 1 << 20;

/// Set once the UART stops taking bytes, so that the rest of the report is dropped rather
/// than the firmware hanging on a dead transport.
static UART_DEAD: AtomicBool = AtomicBool::new(false);

pub fn init() -> Result<(), NotReady> {
    NVIC_ICER0.write(0xFFFF_FFFF);
    NVIC_ICPR0.write(0xFFFF_FFFF);

    init_uart()?;

    // Core clock from the HFRC undivided (am_hal_clkgen_control SYSCLK_MAX).
    CLKGEN_CLKKEY.write(CLKKEY_UNLOCK);
    CLKGEN_CCTRL.write(0);
    CLKGEN_CLKKEY.write(0);

    // Configure with the caches' enables, then enable the controller (am_hal_cachectrl_config,
    // am_hal_cachectrl_enable).
    let config = CACHECFG_CONFIG_1WAY_1024
        | CACHECFG_ICACHE
        | CACHECFG_DCACHE
        | CACHECFG_CACHE_CLKGATE
        | CACHECFG_DATA_CLKGATE;
    CACHECTRL_CACHECFG.write(config);
    if !cfg!(feature = "flash-cache-off") {
        CACHECTRL_CACHECFG.write(config | CACHECFG_ENABLE);
    }

    dwt::init()
}

fn init_uart() -> Result<(), NotReady> {
    PWRCTRL_DEVPWREN.modify(|v| v | DEVPWREN_PWRUART0);
    wait_for("UART0 power domain (PWRCTRL DEVPWRSTATUS.HCPA)", || {
        PWRCTRL_DEVPWRSTATUS.read() & DEVPWRSTATUS_HCPA != 0
    })?;

    GPIO_PADKEY.write(PADKEY_UNLOCK);
    GPIO_PADREGM.modify(|v| (v & !0xFFFF) | PADREGM_UART0);
    GPIO_CFGG.modify(|v| v & !0xFF);
    GPIO_PADKEY.write(0);

    // PL011: configure while disabled; LCRH is written after the divisors, which latches them.
    UART0_CR.write(0);
    UART0_CR.write(CR_CLKEN | CR_CLKSEL_24MHZ);
    UART0_IBRD.write(BAUD_DIVISOR_64THS >> 6);
    UART0_FBRD.write(BAUD_DIVISOR_64THS & 0x3F);
    UART0_LCRH.write(LCRH_WLEN_8 | LCRH_FEN);
    UART0_CR.write(CR_CLKEN | CR_CLKSEL_24MHZ | CR_UARTEN | CR_TXE | CR_RXE);
    Ok(())
}

pub use dwt::cycles;

/// Sends `bytes` on UART0, waiting for room in the TX FIFO before each byte.
pub fn write(bytes: &[u8]) {
    if UART_DEAD.load(Ordering::Relaxed) {
        return;
    }
    for &byte in bytes {
        if wait_for("UART0 TX FIFO (FR.TXFF)", || UART0_FR.read() & FR_TXFF == 0).is_err() {
            UART_DEAD.store(true, Ordering::Relaxed);
            return;
        }
        UART0_DR.write(u32::from(byte));
    }
}

/// Takes the bytes waiting in the UART0 RX FIFO into `out`, without waiting for more.
pub fn read(out: &mut [u8]) -> usize {
    if UART_DEAD.load(Ordering::Relaxed) {
        return 0;
    }
    let mut n = 0;
    while n < out.len() && UART0_FR.read() & FR_RXFE == 0 {
        // DR bits 8..11 are the error flags (framing, parity, break, overrun): such a byte is
        // kept, and the host's line check rejects the record it belongs to.
        out[n] = UART0_DR.read() as u8;
        n += 1;
    }
    n
}

/// Waits until the last byte has left the shift register.
pub fn quiesce() {
    if !UART_DEAD.load(Ordering::Relaxed) {
        let _ = wait_for("UART0 idle (FR.BUSY)", || UART0_FR.read() & FR_BUSY == 0);
    }
}

/// GPIO PADREGA..M (0x4001_0000 + 4 x (pad / 4)), one byte per pad: FNCSEL in bits 5:3, 3 = GPIO
/// on every pad (datasheet, GPIO pad function table).
const GPIO_PADREG: usize = 0x4001_0000;
const PADREG_FNCSEL_GPIO: u32 = 3 << 3;
/// GPIO CFGA..G (0x4001_0040 + 4 x (pad / 8)), one nibble per pad: OUTCFG in bits 2:1, 1 = push-pull.
const GPIO_CFG: usize = 0x4001_0040;
const CFG_OUTCFG_PUSHPULL: u32 = 1 << 1;
/// GPIO WTSA / WTSB and WTCA / WTCB: set / clear the output of pads 0-31 / 32-49.
const GPIO_WTSA: usize = 0x4001_0090;
const GPIO_WTCA: usize = 0x4001_0098;
const GPIO_PADS: u32 = 50;

/// The gate GPIO: `pin` = the pad number (0 to 49), a push-pull output driven low. Registers:
/// PADKEY (unlock, then lock), WTCA/WTCB, PADREGx, CFGx.
pub fn gate_init(pin: u32) -> Result<super::Gate, super::GateError> {
    if pin >= GPIO_PADS {
        return Err(super::GateError::NoSuchPin {
            pin,
            pins: "pads 0 to 49",
        });
    }
    let bank = 4 * (pin as usize / 32);
    let bit = 1 << (pin % 32);
    // SAFETY: GPIO registers of the Apollo3 datasheet (pin < 50).
    let (padreg, cfg, set, clear) = unsafe {
        (
            Reg::at(GPIO_PADREG + 4 * (pin as usize / 4)),
            Reg::at(GPIO_CFG + 4 * (pin as usize / 8)),
            Reg::at(GPIO_WTSA + bank),
            Reg::at(GPIO_WTCA + bank),
        )
    };
    clear.write(bit);
    let byte = 8 * (pin % 4);
    let nibble = 4 * (pin % 8);
    GPIO_PADKEY.write(PADKEY_UNLOCK);
    padreg.modify(|v| (v & !(0xFF << byte)) | (PADREG_FNCSEL_GPIO << byte));
    cfg.modify(|v| (v & !(0xF << nibble)) | (CFG_OUTCFG_PUSHPULL << nibble));
    GPIO_PADKEY.write(0);
    Ok(super::Gate {
        set,
        set_value: bit,
        clear,
        clear_value: bit,
    })
}
