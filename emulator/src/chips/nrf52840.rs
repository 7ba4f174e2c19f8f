//! nRF52840 (Product Specification v1.7): CLOCK/POWER, UART0, TEMP, NVMC, the GPIO ports P0 and
//! P1, FICR and UICR.

use super::{Block, Chip, ChipIdentity, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig, FlashSettings};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// nRF52840 (Product Specification v1.7).
    pub const NRF52840: Chip = Chip::new("nRF52840", &Nrf52840);
}

/// The nRF52840's model.
struct Nrf52840;

/// nRF52840 (Product Specification v1.7): flash at 0 read 32 bits at a time through the NVMC,
/// whose instruction cache is switched on by ICACHECNF.CACHEEN. The PS gives neither the
/// flash wait states at 64 MHz nor the cache geometry: modelled as 2 wait states and a 2-way,
/// 16-byte-line, 8 KB cache (assumptions, stated in docs/TIMING.md).
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "nRF52840",
    flash: (0x0000_0000, 0x0010_0000),
    fetch_bytes: 4,
    fixed_wait_states: 2,
    icache: CacheGeometry {
        line_bytes: 16,
        sets: 256,
        ways: 2,
    },
    dcache: None,
    config: FlashConfig {
        addr: 0x4001_E540,
        reset: 0,
        decode: icachecnf,
        // CACHEEN (firmware/src/board/nrf52840.rs).
        firmware: Some(1),
    },
    io_port: (0, 0),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 13609886080952577169);

/// NVMC ICACHECNF (PS v1.7 §4.3.10.8): CACHEEN bit 0 (reset 0); the wait states are fixed.
/// The cache sits on the flash interface: data reads go through it too.
fn icachecnf(chip: &ChipMemoryTiming, value: u32) -> FlashSettings {
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
/// GPIO P0 at 0x5000_0000 and P1 at 0x5000_0300 (PS §6.9.2): OUT +0x504, OUTSET +0x508,
/// OUTCLR +0x50C, DIR +0x514, DIRSET +0x518, DIRCLR +0x51C, PIN_CNF[n] +0x700 + 4n (DIR is
/// its bit 0).
const GPIO: u32 = 0x5000_0000;
/// CLOCK TASKS_HFCLKSTART / TASKS_HFCLKSTOP / TASKS_LFCLKSTART (PS §5.4.4).
const TASKS_HFCLKSTART: u32 = 0x4000_0000;
const TASKS_HFCLKSTOP: u32 = 0x4000_0004;
const TASKS_LFCLKSTART: u32 = 0x4000_0008;
const EVENTS_HFCLKSTARTED: u32 = 0x4000_0100;
const EVENTS_LFCLKSTARTED: u32 = 0x4000_0104;
/// HFCLKSTAT: SRC bit 0 (1 = Xtal), STATE bit 16.
const HFCLKSTAT: u32 = 0x4000_040C;
/// LFCLKSTAT: STATE bit 16.
const LFCLKSTAT: u32 = 0x4000_0418;
/// NVMC READY (PS §4.3.4): 1, the NVMC is always ready here.
const NVMC_READY: u32 = 0x4001_E400;
/// UART0 (PS §6.33, the byte-at-a-time UART sharing base 0x4000_2000 with UARTE0): tasks,
/// events, ENABLE (4 = UART; UARTE0's EasyDMA mode, 8, is not modelled), RXD, TXD.
const UART_TASKS_STARTRX: u32 = 0x4000_2000;
const UART_TASKS_STOPRX: u32 = 0x4000_2004;
const UART_TASKS_STARTTX: u32 = 0x4000_2008;
const UART_TASKS_STOPTX: u32 = 0x4000_200C;
const UART_EVENTS_RXDRDY: u32 = 0x4000_2108;
const UART_EVENTS_TXDRDY: u32 = 0x4000_211C;
const UART_ENABLE: u32 = 0x4000_2500;
const UART_ENABLE_UART: u32 = 4;
const UART_RXD: u32 = 0x4000_2518;
const UART_TXD: u32 = 0x4000_251C;
/// TEMP (PS v1.7, TEMP chapter): TASKS_START +0, EVENTS_DATARDY +0x100, TEMP +0x508 (0.25 °C
/// steps), then the linearisation registers A0-A5 (+0x520), B0-B5 (+0x540) and T0-T4 (+0x560).
/// Nordic's MDK `SystemInit` loads those from FICR on every nRF52840 revision (errata 66,
/// "TEMP: linearity specification not met with default settings").
const TEMP: u32 = 0x4000_C000;
const TEMP_TASKS_START: u32 = TEMP;
const TEMP_EVENTS_DATARDY: u32 = TEMP + 0x100;
const TEMP_TEMP: u32 = TEMP + 0x508;
/// A measurement reads 25 °C.
const TEMP_READING: u32 = 25 * 4;
/// A0-A5, B0-B5, T0-T4 (offsets in TEMP) with their reset values, from the PS register tables as
/// the MDK's nrf52840.svd has them.
const TEMP_LINEARISATION: [(u32, u32); 17] = [
    (0x520, 0x326),
    (0x524, 0x348),
    (0x528, 0x3AA),
    (0x52C, 0x40E),
    (0x530, 0x4BD),
    (0x534, 0x5A3),
    (0x540, 0x3FEF),
    (0x544, 0x3FBE),
    (0x548, 0x3FBE),
    (0x54C, 0x12),
    (0x550, 0x124),
    (0x554, 0x27C),
    (0x560, 0xE2),
    (0x564, 0x00),
    (0x568, 0x19),
    (0x56C, 0x3C),
    (0x570, 0x50),
];
/// FICR TEMP.A0 (PS v1.7, FICR chapter): the factory calibration of the registers of
/// [`TEMP_LINEARISATION`], a word each in the same order, up to TEMP.T4 at 0x1000_0444. They
/// are measured for each device; the model's device has the TEMP reset values.
const FICR_TEMP: u32 = 0x1000_0404;
/// The FICR words the MDK's errata checks read (nrf52_erratas.h; not in the PS): 0x08 = an
/// nRF52840, 0x02 = its revision code. With these the MDK's `SystemInit` applies the
/// workarounds of errata 36, 66 and 136, which cover every revision, and not those of the
/// first engineering samples (code 0: 98, 103, 115, 120) nor the APPROTECT handling of the
/// later build codes (configuration 249, code 5 and up).
const FICR_ERRATA_PART: u32 = 0x1000_0130;
const FICR_ERRATA_REVISION: u32 = 0x1000_0134;

const BLOCKS: &[Block] = &[
    Block::new("CLOCK/POWER", 0x4000_0000, 0x1000),
    Block::new("UART0", 0x4000_2000, 0x1000),
    Block::new("TEMP", TEMP, 0x1000),
    Block::new("NVMC", 0x4001_E000, 0x1000),
    Block::new("P0", 0x5000_0000, 0x1000),
    Block::new("FICR", 0x1000_0000, 0x1000),
    Block::new("UICR", 0x1000_1000, 0x1000),
];

impl ChipModel for Nrf52840 {
    fn identity(&self) -> Option<ChipIdentity> {
        // nRF52840 PS v1.7 §4.4.1.11: FICR INFO.PART = 0x52840.
        Some(ChipIdentity {
            register: 0x1000_0100,
            mask: 0xffff_ffff,
            expected: 0x0005_2840,
            what: "FICR INFO.PART",
        })
    }

    fn accepts(&self, name: &str) -> bool {
        name.starts_with("nrf52840")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            (NVMC_READY, 1),
            (0x1000_0100, 0x0005_2840), // FICR INFO.PART
            (FICR_ERRATA_PART, 0x08),
            (FICR_ERRATA_REVISION, 0x02),
        ]);
        for (i, &(offset, value)) in (0..).zip(TEMP_LINEARISATION.iter()) {
            regs.set(TEMP + offset, value);
            regs.set(FICR_TEMP + 4 * i, value);
        }
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (
            48,
            "32 x port + pin: P0.00 = 0 ... P0.31 = 31, P1.00 = 32 ... P1.15 = 47",
        )
    }

    fn reserved_pin(&self, pin: u32) -> Option<&'static str> {
        match pin {
            // nRF52840 PS v1.7, UICR NFCPINS: P0.09 and P0.10 are the NFC antenna pads until
            // UICR.NFCPINS.PROTECT is cleared, which the firmware does not do.
            9 | 10 => Some(
                "P0.09 and P0.10 are the NFC antenna pads (UICR.NFCPINS), not usable as GPIOs as flashed",
            ),
            _ => None,
        }
    }

    /// A port (0 or 1): pins 32 x port ..
    fn gpio_bank(&self, addr: u32) -> Option<u32> {
        let off = addr.wrapping_sub(GPIO);
        if (0x504..0x780).contains(&off) {
            Some(0)
        } else if (0x804..0xA80).contains(&off) {
            Some(1)
        } else {
            None
        }
    }

    fn gpio_levels(&self, regs: &Regs, port: u32) -> (u32, u64) {
        let base = GPIO + 0x300 * port;
        let out = regs.get(base + 0x504) & regs.get(base + 0x514);
        (32 * port, u64::from(out))
    }

    /// OUTSET/OUTCLR act on OUT, DIRSET/DIRCLR and PIN_CNF on DIR.
    fn gpio_write(&self, regs: &mut Regs, addr: u32, value: u32) {
        let off = addr - GPIO;
        let port = if off >= 0x800 { GPIO + 0x300 } else { GPIO };
        match addr - port {
            0x508 => regs.update(port + 0x504, |out| out | value),
            0x50C => regs.update(port + 0x504, |out| out & !value),
            0x518 => regs.update(port + 0x514, |dir| dir | value),
            0x51C => regs.update(port + 0x514, |dir| dir & !value),
            o @ 0x700..=0x77C => {
                let bit = 1 << ((o - 0x700) / 4);
                regs.update(port + 0x514, |dir| {
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
            let v = regs.get(port + target);
            regs.set(port + alias, v);
        }
    }

    // HFCLKSTAT and LFCLKSTAT read as stored: the start and stop tasks set them.

    /// UART0: EVENTS_RXDRDY is set while a received byte waits in RXD (the receiver started,
    /// the UART enabled); reading RXD takes it.
    fn read_reg(&self, regs: &mut Regs, addr: u32, _cycles: u64) -> u32 {
        let uart_on = regs.get(UART_ENABLE) == UART_ENABLE_UART;
        match addr {
            UART_EVENTS_RXDRDY
                if uart_on && regs.get(UART_TASKS_STARTRX) == 1 && !regs.uart_rx_empty() =>
            {
                1
            }
            UART_RXD if uart_on => u32::from(regs.uart_receive().unwrap_or(0)),
            _ => regs.get(addr),
        }
    }

    fn write_reg(&self, regs: &mut Regs, addr: u32, value: u32) {
        match addr {
            // A start task's register remembers it until the stop task (and the reverse).
            UART_TASKS_STARTTX if value & 1 != 0 => regs.set(UART_TASKS_STOPTX, 0),
            UART_TASKS_STOPTX if value & 1 != 0 => regs.set(UART_TASKS_STARTTX, 0),
            UART_TASKS_STARTRX if value & 1 != 0 => regs.set(UART_TASKS_STOPRX, 0),
            UART_TASKS_STOPRX if value & 1 != 0 => regs.set(UART_TASKS_STARTRX, 0),
            // The byte leaves at once and TXDRDY is generated (PS §6.33.4).
            UART_TXD
                if regs.get(UART_ENABLE) == UART_ENABLE_UART
                    && regs.get(UART_TASKS_STARTTX) == 1 =>
            {
                regs.uart_send(value as u8);
                regs.set(UART_EVENTS_TXDRDY, 1);
            }
            TASKS_HFCLKSTART if value & 1 != 0 => {
                regs.set(EVENTS_HFCLKSTARTED, 1);
                regs.set(HFCLKSTAT, (1 << 16) | 1);
            }
            TASKS_HFCLKSTOP if value & 1 != 0 => {
                regs.set(HFCLKSTAT, 0);
            }
            TASKS_LFCLKSTART if value & 1 != 0 => {
                regs.set(EVENTS_LFCLKSTARTED, 1);
                regs.set(LFCLKSTAT, 1 << 16);
            }
            // The measurement completes at once.
            TEMP_TASKS_START if value & 1 != 0 => {
                regs.set(TEMP_TEMP, TEMP_READING);
                regs.set(TEMP_EVENTS_DATARDY, 1);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;

    #[test]
    fn nrf_uart0_is_a_byte_stream_both_ways() {
        let mut p = ChipPeripherals::new(Chip::NRF52840, 64_000_000);
        let port = p.uart();
        // Not enabled: a byte written to TXD goes nowhere.
        wr(&mut p, UART_TXD, u32::from(b'x'));
        assert!(port.take_tx().is_empty());
        wr(&mut p, UART_ENABLE, UART_ENABLE_UART);
        wr(&mut p, UART_TASKS_STARTTX, 1);
        wr(&mut p, UART_TASKS_STARTRX, 1);
        for &b in b"ok" {
            wr(&mut p, UART_EVENTS_TXDRDY, 0);
            wr(&mut p, UART_TXD, u32::from(b));
            assert_eq!(rd(&mut p, UART_EVENTS_TXDRDY), 1);
        }
        assert_eq!(port.take_tx(), b"ok");
        assert_eq!(rd(&mut p, UART_EVENTS_RXDRDY), 0);
        port.push_rx(b"hi");
        let mut got = Vec::new();
        while rd(&mut p, UART_EVENTS_RXDRDY) != 0 {
            wr(&mut p, UART_EVENTS_RXDRDY, 0);
            got.push(rd(&mut p, UART_RXD) as u8);
        }
        assert_eq!(got, b"hi");
        wr(&mut p, UART_TASKS_STOPTX, 1);
        wr(&mut p, UART_TXD, u32::from(b'z'));
        assert!(port.take_tx().is_empty(), "stopped");
    }

    #[test]
    fn nrf_gpio_outputs_follow_outset_and_pin_cnf() {
        let changes = gpio_changes(Chip::NRF52840, |p| {
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
    fn nrf52840_mdk_errata_66_finds_the_factory_temp_calibration() {
        let mut p = ChipPeripherals::new(Chip::NRF52840, 64_000_000);
        // The part and revision words the MDK's errata checks read.
        assert_eq!(rd(&mut p, FICR_ERRATA_PART), 0x08);
        assert_eq!(rd(&mut p, FICR_ERRATA_REVISION), 0x02);
        // The workaround copies FICR TEMP.A0-T4 to TEMP A0-T4, all of which are modelled.
        assert_eq!(rd(&mut p, TEMP + 0x520), 0x326, "A0 at reset");
        assert_eq!(rd(&mut p, 0x1000_0444), 0x50, "FICR TEMP.T4");
        for (i, &(offset, _)) in (0..).zip(TEMP_LINEARISATION.iter()) {
            let factory = rd(&mut p, FICR_TEMP + 4 * i);
            wr(&mut p, TEMP + offset, factory);
            assert_eq!(rd(&mut p, TEMP + offset), factory);
        }
        wr(&mut p, TEMP_TASKS_START, 1);
        assert_eq!(rd(&mut p, TEMP_EVENTS_DATARDY), 1);
        assert_eq!(rd(&mut p, TEMP_TEMP), 100, "25 °C in 0.25 °C steps");
    }

    #[test]
    fn nrf52840_hfclk_start_task_raises_its_event() {
        let mut p = ChipPeripherals::new(Chip::NRF52840, 64_000_000);
        assert_eq!(rd(&mut p, EVENTS_HFCLKSTARTED), 0);
        wr(&mut p, TASKS_HFCLKSTART, 1);
        assert_eq!(rd(&mut p, EVENTS_HFCLKSTARTED), 1);
        assert_eq!(
            rd(&mut p, HFCLKSTAT),
            (1 << 16) | 1,
            "running from the crystal"
        );
    }
}
