//! Apollo3 Blue (datasheet DS-A3-0p9p1, AmbiqSuite register map): CLKGEN, GPIO, CACHECTRL,
//! UART0, PWRCTRL and MCUCTRL.

use super::{Block, Chip, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig, FlashSettings};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// Apollo3 Blue (datasheet DS-A3-0p9p1, AmbiqSuite register map).
    pub const APOLLO3: Chip = Chip::new("Apollo3 Blue", &Apollo3);
}

/// The Apollo3 Blue's model.
struct Apollo3;

/// Apollo3 Blue (datasheet DS-A3-0p9p1, CACHECTRL): 1 MB flash at 0 behind a 16 KB cache of
/// 128-bit lines (1-way x 1024 or 2-way x 512 per CACHECFG.CONFIG), on instruction and/or data
/// reads per CACHECFG.ICACHE/DCACHE. Flash reads without the cache are modelled as 3 wait
/// states at 48 MHz (an assumption: the datasheet gives no figure).
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "Apollo3",
    flash: (0x0000_0000, 0x0010_0000),
    fetch_bytes: 16,
    fixed_wait_states: 3,
    icache: CacheGeometry {
        line_bytes: 16,
        sets: 1024,
        ways: 1,
    },
    dcache: None,
    config: FlashConfig {
        addr: 0x4001_8000,
        reset: 0,
        decode: cachecfg,
        // 1-way 1024 entries, I + D cache, clock gating, ENABLE (firmware/src/board/apollo3.rs).
        firmware: Some((8 << 4) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 20) | 1),
    },
    io_port: (0, 0),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 4082793579732083947);

/// CACHECTRL CACHECFG (datasheet, CACHECTRL): ENABLE bit 0, CONFIG bits 7:4 (8: 1-way, 1024
/// entries of 128 bits; otherwise 2-way, 512 sets), ICACHE bit 8 (instructions cached), DCACHE
/// bit 9 (data cached). The wait states are fixed.
fn cachecfg(chip: &ChipMemoryTiming, value: u32) -> FlashSettings {
    let enable = value & 1 != 0;
    let ways = if (value >> 4) & 0xf == 8 { 1 } else { 2 };
    FlashSettings {
        wait_states: chip.fixed_wait_states,
        prefetch: false,
        icache: enable && value & (1 << 8) != 0,
        dcache: enable && value & (1 << 9) != 0,
        icache_geometry: Some(CacheGeometry {
            line_bytes: 16,
            sets: 1024 / ways,
            ways,
        }),
    }
}

// Register addresses used by the dynamic behaviour below (the blocks list the rest).
/// GPIO (datasheet, GPIO registers): PADREGx +0x00 (a byte per pad, FNCSEL 5:3, 3 = GPIO),
/// CFGx +0x40 (a nibble per pad, OUTCFG 2:1: 1 push-pull, 2 open drain, 3 tristate), WTA/WTB
/// +0x88/+0x8C, WTSA/WTSB +0x90/+0x94 (set), WTCA/WTCB +0x98/+0x9C (clear), ENA/ENB
/// +0xA0/+0xA4 (tristate enable), ENSA/ENSB +0xA8/+0xAC, ENCA/ENCB +0xB4/+0xB8.
const GPIO: u32 = 0x4001_0000;
/// PADKEY (+0x60): PADREGx and CFGx take writes only while it holds 0x73.
const PADKEY: u32 = 0x4001_0060;
const PADKEY_UNLOCK: u32 = 0x73;
const DEVPWREN: u32 = 0x4002_1008;
/// PWRCTRL MEMPWREN (+0x10): DTCM 2:0, SRAM groups 12:3, FLASH0 13, FLASH1 14, CACHEB0 30,
/// CACHEB2 31; all on after reset (datasheet, PWRCTRL MEMPWREN: reset 0xC000_7FFF).
const MEMPWREN: u32 = 0x4002_1010;
const MEMPWREN_RESET: u32 = 0xC000_7FFF;
/// PWRCTRL MEMPWRSTATUS (+0x14): a bit per bank that has power, DTCM00/DTCM01/DTCM1 2:0,
/// SRAM0-9 12:3, FLASH0 13, FLASH1 14 as in MEMPWREN, and CACHEB0 15, CACHEB2 16, which have
/// power only while the cache is enabled too (datasheet, PWRCTRL MEMPWREN CACHEB0/CACHEB2:
/// "works in conjunction with Cache enable"). AmbiqSuite's am_hal_pwrctrl_memory_enable polls
/// it after a MEMPWREN write.
const MEMPWRSTATUS: u32 = 0x4002_1014;
/// DEVPWRSTATUS: HCPA (bit 2) powers IOS, UART0 and UART1 (DEVPWREN bits 1, 7, 8);
/// HCPB bit 3: IOM0-2 (bits 2-4); HCPC bit 4: IOM3-5 (bits 5-7... see AmbiqSuite).
const DEVPWRSTATUS: u32 = 0x4002_1018;
/// CLKGEN CLKKEY (+0x14): CCTRL takes writes only while it holds 0x47 (datasheet, CLKGEN
/// CLKKEY; AmbiqSuite's am_hal_clkgen_control writes the key around each CCTRL write).
const CLKKEY: u32 = 0x4000_4014;
const CLKKEY_UNLOCK: u32 = 0x47;
/// CLKGEN CCTRL (+0x18): CORESEL bit 0, 1 = HFRC / 2 (24 MHz) after reset, 0 = HFRC (48 MHz)
/// (datasheet, CLKGEN CCTRL: reset 0x1).
const CCTRL: u32 = 0x4000_4018;
/// CACHECTRL CACHECFG: ENABLE bit 0.
const CACHECFG: u32 = 0x4001_8000;
const UART0_DR: u32 = 0x4001_C000;
/// FR (PL011): BUSY 3, RXFE 4, TXFF 5, RXFF 6, TXFE 7.
const UART0_FR: u32 = 0x4001_C018;

const BLOCKS: &[Block] = &[
    Block::new("CLKGEN", 0x4000_4000, 0x400),
    Block::new("GPIO", 0x4001_0000, 0x400),
    Block::new("CACHECTRL", 0x4001_8000, 0x400),
    Block::new("UART0", 0x4001_C000, 0x400),
    Block::new("PWRCTRL", 0x4002_1000, 0x400),
    Block::new("MCUCTRL", 0x4002_0000, 0x400),
];

impl ChipModel for Apollo3 {
    fn accepts(&self, name: &str) -> bool {
        name.starts_with("apollo3")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            (UART0_FR, 0x90), // TXFE | RXFE
            (CCTRL, 1),
            (MEMPWREN, MEMPWREN_RESET),
        ]);
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (50, "the pad number, 0 to 49")
    }

    fn reserved_pin(&self, pin: u32) -> Option<&'static str> {
        match pin {
            // Apollo3 datasheet, pad function table: pads 20 and 21 are SWDCK and SWDIO after
            // reset; the firmware's report goes out on UART0, pads 48 (TX) and 49 (RX).
            20 | 21 => Some("pads 20 and 21 are SWDCK and SWDIO"),
            48 | 49 => {
                Some("pads 48 and 49 are UART0 TX and RX, the firmware's report to the host")
            }
            _ => None,
        }
    }

    /// The pads 0-49, one bank.
    fn gpio_bank(&self, addr: u32) -> Option<u32> {
        (addr.wrapping_sub(GPIO) < 0x100).then_some(0)
    }

    fn gpio_levels(&self, regs: &Regs, _bank: u32) -> (u32, u64) {
        let wt = u64::from(regs.get(GPIO + 0x88)) | u64::from(regs.get(GPIO + 0x8C)) << 32;
        let en = u64::from(regs.get(GPIO + 0xA0)) | u64::from(regs.get(GPIO + 0xA4)) << 32;
        let mut levels = 0;
        for pad in 0..50u32 {
            let fncsel = (regs.get(GPIO + 4 * (pad / 4)) >> (8 * (pad % 4) + 3)) & 0b111;
            let outcfg = (regs.get(GPIO + 0x40 + 4 * (pad / 8)) >> (4 * (pad % 8) + 1)) & 0b11;
            let driven = match outcfg {
                1 => true,
                3 => en >> pad & 1 != 0,
                // Open drain drives low only; disabled drives nothing.
                _ => false,
            };
            if fncsel == 3 && driven && wt >> pad & 1 != 0 {
                levels |= 1 << pad;
            }
        }
        (0, levels)
    }

    /// The set and clear registers act on WT and EN, and read 0.
    fn gpio_write(&self, regs: &mut Regs, addr: u32, value: u32) {
        let target = match addr - GPIO {
            0x90 | 0x98 => 0x88,
            0x94 | 0x9C => 0x8C,
            0xA8 | 0xB4 => 0xA0,
            0xAC | 0xB8 => 0xA4,
            _ => return,
        };
        let set = matches!(addr - GPIO, 0x90 | 0x94 | 0xA8 | 0xAC);
        regs.update(GPIO + target, |v| if set { v | value } else { v & !value });
        regs.set(addr, 0);
    }

    fn read_reg(&self, regs: &mut Regs, addr: u32, _cycles: u64) -> u32 {
        match addr {
            DEVPWRSTATUS => {
                let en = regs.get(DEVPWREN);
                let mut v = 1; // MCUL is always on
                if en & ((1 << 1) | (1 << 7) | (1 << 8)) != 0 {
                    v |= 1 << 2; // HCPA
                }
                if en & (0b111 << 2) != 0 {
                    v |= 1 << 3; // HCPB
                }
                if en & (0b111 << 5) != 0 {
                    v |= 1 << 4; // HCPC
                }
                v
            }
            MEMPWRSTATUS => {
                let en = regs.get(MEMPWREN);
                let cache_on = regs.get(CACHECFG) & 1 != 0;
                let mut v = en & 0x7FFF;
                for (enable, status) in [(30, 15), (31, 16)] {
                    if cache_on && en >> enable & 1 != 0 {
                        v |= 1 << status;
                    }
                }
                v
            }
            UART0_FR => {
                // TX never fills (the host drains at once); RXFE when nothing is queued.
                (1 << 7) | if regs.uart_rx_empty() { 1 << 4 } else { 0 }
            }
            UART0_DR => u32::from(regs.uart_receive().unwrap_or(0)),
            _ => regs.get(addr),
        }
    }

    fn write_reg(&self, regs: &mut Regs, addr: u32, value: u32) {
        if addr == UART0_DR {
            regs.uart_send(value as u8);
        }
    }

    /// The pad configuration (PADREGx, CFGx) while PADKEY is locked (datasheet, GPIO PADKEY);
    /// CCTRL while CLKKEY is locked.
    fn write_dropped(&self, regs: &Regs, addr: u32) -> bool {
        if addr == CCTRL {
            return regs.get(CLKKEY) != CLKKEY_UNLOCK;
        }
        let off = addr.wrapping_sub(GPIO);
        (off <= 0x30 || (0x40..=0x58).contains(&off)) && regs.get(PADKEY) != PADKEY_UNLOCK
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;

    #[test]
    fn apollo3_gpio_outputs_need_fncsel_and_outcfg() {
        let changes = gpio_changes(Chip::APOLLO3, |p| {
            let g = 0x4001_0000;
            wr7(p, g + 0x60, 0x73); // PADKEY unlocked
            wr7(p, g + 0x94, 1 << (40 - 32)); // pad 40 WT set: not a GPIO output yet
            wr7(p, g + 0x28, 3 << 3); // PADREGK byte 0 (pad 40): FNCSEL 3
            wr7(p, g + 0x54, 1 << 1); // CFGF nibble 0 (pad 40): push-pull
            wr7(p, g + 0x9C, 1 << 8); // WTCB
        });
        assert_eq!(changes, [(40, true), (40, false)]);
    }

    #[test]
    fn apollo3_core_clock_select_needs_the_clock_key() {
        let mut p = ChipPeripherals::new(Chip::APOLLO3, 48_000_000);
        assert_eq!(rd(&mut p, CCTRL), 1, "HFRC / 2 after reset");
        wr(&mut p, CCTRL, 0);
        assert_eq!(rd(&mut p, CCTRL), 1, "locked: the write is dropped");
        wr(&mut p, CLKKEY, CLKKEY_UNLOCK);
        wr(&mut p, CCTRL, 0);
        wr(&mut p, CLKKEY, 0);
        assert_eq!(rd(&mut p, CCTRL), 0, "HFRC, 48 MHz");
    }

    #[test]
    fn apollo3_memory_power_status_follows_its_enables() {
        let mut p = ChipPeripherals::new(Chip::APOLLO3, 48_000_000);
        // After reset every SRAM and flash bank has power; the cache banks wait for the cache.
        assert_eq!(rd(&mut p, MEMPWRSTATUS), 0x7FFF);
        wr(&mut p, CACHECFG, 1);
        assert_eq!(rd(&mut p, MEMPWRSTATUS), 0x1_FFFF);
        // SRAM groups 1-9 off (AM_HAL_PWRCTRL_MEM_SRAM_96K and below stay on).
        wr(&mut p, MEMPWREN, MEMPWREN_RESET & !(0x1FF << 4));
        assert_eq!(rd(&mut p, MEMPWRSTATUS), 0x1_E00F);
    }

    #[test]
    fn apollo3_uart_is_a_byte_stream_both_ways() {
        let mut p = ChipPeripherals::new(Chip::APOLLO3, 48_000_000);
        let port = p.uart();
        assert_eq!(rd(&mut p, DEVPWRSTATUS) & (1 << 2), 0);
        wr(&mut p, DEVPWREN, 1 << 7);
        assert_ne!(rd(&mut p, DEVPWRSTATUS) & (1 << 2), 0, "HCPA on with UART0");
        for b in b"@done\n" {
            wr(&mut p, UART0_DR, u32::from(*b));
        }
        assert_eq!(port.take_tx(), b"@done\n");
        assert_eq!(port.take_tx(), b"");
        assert_eq!(rd(&mut p, UART0_FR) & (1 << 4), 1 << 4, "RX FIFO empty");
        port.push_rx(b"ab");
        assert_eq!(rd(&mut p, UART0_FR) & (1 << 4), 0);
        // Sending does not touch what waits to be received.
        wr(&mut p, UART0_DR, u32::from(b'x'));
        assert_eq!(port.rx_pending(), 2);
        assert_eq!(rd(&mut p, UART0_DR), u32::from(b'a'));
        assert_eq!(rd(&mut p, UART0_DR), u32::from(b'b'));
        assert_eq!(port.take_tx(), b"x");
    }
}
