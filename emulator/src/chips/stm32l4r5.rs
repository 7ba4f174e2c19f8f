//! STM32L4R5 (RM0432): PWR, RCC, FLASH, the GPIO ports A-I and DBGMCU.

use super::{Block, Chip, ChipIdentity, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig, FlashSettings};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// STM32L4R5 (RM0432).
    pub const STM32L4R5: Chip = Chip::new("STM32L4R5*", &Stm32l4r5);
}

/// The STM32L4R5's model.
struct Stm32l4r5;

/// STM32L4R5 (RM0432 rev 9): flash at 0x0800_0000 read 64 bits at a time (§3.3.1), LATENCY
/// wait states from FLASH_ACR (5 at 120 MHz, range 1 boost, Table 12), the ART accelerator's
/// prefetch buffer, instruction cache (1 KB: "32 lines of 4 x 64 bits") and data cache
/// (256 bytes: "8 lines of 4 x 64 bits"), §3.3.4. The ART's associativity is not documented:
/// modelled as 4-way with LRU on 64-bit lines (the unit a flash read fills).
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "STM32L4R5ZI",
    flash: (0x0800_0000, 0x0820_0000),
    fetch_bytes: 8,
    fixed_wait_states: 0,
    icache: CacheGeometry {
        line_bytes: 8,
        sets: 32,
        ways: 4,
    },
    dcache: Some(CacheGeometry {
        line_bytes: 8,
        sets: 8,
        ways: 4,
    }),
    config: FlashConfig {
        addr: 0x4002_2000,
        // RM0432 §3.7.1: ICEN and DCEN set at reset, LATENCY 0, PRFTEN 0.
        reset: 0x0000_0600,
        decode: flash_acr,
        // LATENCY 5, PRFTEN, ICEN, DCEN (firmware/src/board/stm32l4r5.rs).
        firmware: Some(0x0000_0705),
    },
    io_port: (0, 0),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 14016719989702337398);

/// FLASH_ACR (RM0432 §3.7.1): LATENCY bits 3:0 = wait states, PRFTEN bit 8, ICEN bit 9,
/// DCEN bit 10.
pub(super) fn flash_acr(_: &ChipMemoryTiming, value: u32) -> FlashSettings {
    FlashSettings {
        wait_states: value & 0xf,
        prefetch: value & (1 << 8) != 0,
        icache: value & (1 << 9) != 0,
        dcache: value & (1 << 10) != 0,
        icache_geometry: None,
    }
}

// Register addresses used by the dynamic behaviour below (the blocks list the rest).
/// GPIO ports A-I (RM0432 §8.5): MODER +0x00 (01 = output), ODR +0x14, BSRR +0x18 (set
/// 15:0, reset 31:16, set wins), BRR +0x28 (reset 15:0); 0x400 apart.
const GPIO: u32 = 0x4800_0000;
const GPIO_PORTS: u32 = 9;
/// RCC_CR (RM0432 §6.4.1): MSION 0 / MSIRDY 1, HSION 8 / HSIRDY 10, HSEON 16 / HSERDY 17,
/// PLLON 24 / PLLRDY 25, PLLSAI1ON 26 / RDY 27, PLLSAI2ON 28 / RDY 29.
const RCC_CR: u32 = 0x4002_1000;
/// RCC_CFGR (§6.4.3): SWS (3:2) follows SW (1:0).
const RCC_CFGR: u32 = 0x4002_1008;
/// RCC_BDCR (§6.4.29): LSERDY 1 follows LSEON 0.
const RCC_BDCR: u32 = 0x4002_1090;
/// RCC_CSR (§6.4.30): LSIRDY 1 follows LSION 0.
const RCC_CSR: u32 = 0x4002_1094;
/// RCC_CRRCR (§6.4.31): HSI48RDY 1 follows HSI48ON 0.
const RCC_CRRCR: u32 = 0x4002_1098;
/// PWR_SR2 (§5.4.20): VOSF (bit 10) reads 0: voltage scaling completes at once.
const PWR_SR2: u32 = 0x4000_7014;
/// RCC_AHB2ENR (§6.4.17): GPIOxEN, bits 0 (port A) to 8 (port I); a port whose clock is
/// off ignores writes.
const RCC_AHB2ENR: u32 = 0x4002_104C;

const BLOCKS: &[Block] = &[
    Block::new("PWR", 0x4000_7000, 0x400),
    Block::new("RCC", 0x4002_1000, 0x400),
    Block::new("FLASH", 0x4002_2000, 0x400),
    Block::new("GPIO", 0x4800_0000, 0x2400),
    Block::new("DBGMCU", 0xE004_2000, 0x400),
];

impl ChipModel for Stm32l4r5 {
    fn identity(&self) -> Option<ChipIdentity> {
        // RM0432 §57.6.4: DBGMCU_IDCODE DEV_ID (bits 11:0) = 0x470 for STM32L4R/S.
        Some(ChipIdentity {
            register: 0xE004_2000,
            mask: 0x0000_0fff,
            expected: 0x470,
            what: "DBGMCU_IDCODE DEV_ID",
        })
    }

    fn accepts(&self, name: &str) -> bool {
        name.starts_with("stm32l4r5")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            (RCC_CR, 0x0000_0063),      // MSI on and ready (RM0432 §6.4.1)
            (0x4002_100C, 0x0000_1000), // RCC_PLLCFGR: PLLN = 16
            (0x4000_7000, 0x0000_0200), // PWR_CR1: VOS = range 1
            (0x4000_7080, 0x0000_0100), // PWR_CR5: R1MODE = 1 (range 1 normal)
            // RCC_CSR (§6.4.30) after a power-on reset: BORRSTF and PINRSTF set, MSISRANGE 6
            // (4 MHz), the range CMSIS' SystemCoreClockUpdate reads while MSIRGSEL is 0.
            (RCC_CSR, 0x0C00_0600),
            // DBGMCU_IDCODE (§57.6.4): REV_ID 0x1000 (revision A), DEV_ID 0x470.
            (0xE004_2000, 0x1000_6470),
            // GPIOx_MODER (§8.5.1): analog mode, but the debug pins of ports A and B.
            (GPIO, 0xABFF_FFFF),
            (GPIO + 0x400, 0xFFFF_FEBF),
            (GPIO + 0x800, 0xFFFF_FFFF),
            (GPIO + 0xC00, 0xFFFF_FFFF),
            (GPIO + 0x1000, 0xFFFF_FFFF),
            (GPIO + 0x1400, 0xFFFF_FFFF),
            (GPIO + 0x1800, 0xFFFF_FFFF),
            (GPIO + 0x1C00, 0xFFFF_FFFF),
            (GPIO + 0x2000, 0xFFFF_FFFF),
        ]);
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (
            144,
            "16 x port + pin: PA0 = 0, PA3 = 3, PB7 = 23 ... PI15 = 143",
        )
    }

    fn reserved_pin(&self, pin: u32) -> Option<&'static str> {
        match pin {
            // RM0432, GPIO chapter (I/O pin alternate function after reset): PA13 and PA14 are
            // SWDIO and SWCLK, wired to the NUCLEO's ST-LINK.
            13 => Some("PA13 is SWDIO, the ST-LINK's debug line"),
            14 => Some("PA14 is SWCLK, the ST-LINK's debug clock"),
            // RM0432, PWR chapter (independent I/O supply VDDIO2): PG[15:2] are supplied by
            // VDDIO2 and isolated until PWR_CR2 IOSV is set, which the firmware does not do.
            98..=111 => Some(
                "PG2 to PG15 are on the VDDIO2 supply, which the firmware leaves isolated (PWR_CR2 IOSV)",
            ),
            _ => None,
        }
    }

    fn gpio_bank(&self, addr: u32) -> Option<u32> {
        gpio_bank(addr, GPIO_PORTS)
    }

    fn gpio_levels(&self, regs: &Regs, port: u32) -> (u32, u64) {
        gpio_levels(regs, port)
    }

    fn gpio_write(&self, regs: &mut Regs, addr: u32, value: u32) {
        gpio_write(regs, addr, value)
    }

    fn read_reg(&self, regs: &mut Regs, addr: u32, _cycles: u64) -> u32 {
        read_reg(regs, addr)
    }

    fn write_dropped(&self, regs: &Regs, addr: u32) -> bool {
        write_dropped(regs, addr, GPIO_PORTS)
    }
}

// The behaviour below is the STM32L4 family's (RM0432 for the L4+, RM0351 for the
// L47x/L48x: the same RCC, PWR, FLASH and GPIO registers at the same addresses); the other
// L4 chips' files use it.

/// A GPIO port (0 = A) of `ports`: pins 16 x port ..
pub(super) fn gpio_bank(addr: u32, ports: u32) -> Option<u32> {
    let off = addr.wrapping_sub(GPIO);
    (off < 0x400 * ports).then_some(off / 0x400)
}

/// The pins of `port` that MODER makes outputs, at their ODR levels.
pub(super) fn gpio_levels(regs: &Regs, port: u32) -> (u32, u64) {
    let base = GPIO + 0x400 * port;
    let (moder, odr) = (regs.get(base), regs.get(base + 0x14));
    let outputs = (0..16)
        .filter(|i| (moder >> (2 * i)) & 0b11 == 0b01)
        .fold(0u64, |m, i| m | (1 << i));
    (16 * port, u64::from(odr) & outputs)
}

/// BSRR and BRR act on ODR and read 0.
pub(super) fn gpio_write(regs: &mut Regs, addr: u32, value: u32) {
    let (port, off) = (addr & !0x3FF, addr & 0x3FF);
    match off {
        0x18 => {
            regs.update(port + 0x14, |odr| (odr & !(value >> 16)) | (value & 0xFFFF));
            regs.set(addr, 0);
        }
        0x28 => {
            regs.update(port + 0x14, |odr| odr & !(value & 0xFFFF));
            regs.set(addr, 0);
        }
        _ => {}
    }
}

/// RCC's ready bits follow their enables, SWS follows SW, and voltage scaling completes at once.
pub(super) fn read_reg(regs: &mut Regs, addr: u32) -> u32 {
    let stored = regs.get(addr);
    match addr {
        RCC_CR => {
            // Each xxxRDY follows its xxxON.
            let mut v =
                stored & !((1 << 1) | (1 << 10) | (1 << 17) | (1 << 25) | (1 << 27) | (1 << 29));
            for (on, rdy) in [(0, 1), (8, 10), (16, 17), (24, 25), (26, 27), (28, 29)] {
                if stored & (1 << on) != 0 {
                    v |= 1 << rdy;
                }
            }
            v
        }
        RCC_CFGR => (stored & !0b1100) | ((stored & 0b11) << 2),
        RCC_BDCR | RCC_CSR | RCC_CRRCR => (stored & !0b10) | ((stored & 1) << 1),
        PWR_SR2 => stored & !(1 << 10),
        _ => stored,
    }
}

/// A GPIO port of `ports` whose clock is off (RCC_AHB2ENR, RM0432 §6.4.17) ignores writes.
pub(super) fn write_dropped(regs: &Regs, addr: u32, ports: u32) -> bool {
    let port = addr.wrapping_sub(GPIO) / 0x400;
    addr >= GPIO && port < ports && regs.get(RCC_AHB2ENR) >> port & 1 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;
    use crate::machine::Peripherals;

    #[test]
    fn stm32_gpio_outputs_follow_bsrr_and_moder() {
        // PB7 (pin 23): BSRR set while still analog changes nothing; as an output it rises;
        // BSRR reset and BRR bring it down; set wins over reset in one write.
        let changes = gpio_changes(Chip::STM32L4R5, |p| {
            let b = 0x4800_0400;
            wr7(p, 0x4002_104C, 1 << 1); // RCC_AHB2ENR GPIOBEN
            wr7(p, b + 0x18, 1 << 7);
            let moder = rd(p, b);
            wr7(p, b, (moder & !(0b11 << 14)) | (0b01 << 14));
            wr7(p, b + 0x18, 1 << 23);
            wr7(p, b + 0x18, (1 << 7) | (1 << 23));
            wr7(p, b + 0x28, 1 << 7);
            assert_eq!(rd(p, b + 0x18), 0, "BSRR reads 0");
        });
        assert_eq!(changes, [(23, true), (23, false), (23, true), (23, false)]);
    }

    #[test]
    fn stm32_ready_bits_follow_their_enables_and_writes_are_kept() {
        let mut p = ChipPeripherals::new(Chip::STM32L4R5, 120_000_000);
        assert_eq!(rd(&mut p, RCC_CR) & (1 << 10), 0, "HSI off after reset");
        let cr = rd(&mut p, RCC_CR);
        wr(&mut p, RCC_CR, cr | (1 << 8) | (1 << 24));
        let cr = rd(&mut p, RCC_CR);
        assert_ne!(cr & (1 << 10), 0, "HSIRDY");
        assert_ne!(cr & (1 << 25), 0, "PLLRDY");
        wr(&mut p, RCC_CFGR, 0b11);
        assert_eq!(rd(&mut p, RCC_CFGR) & 0b1100, 0b1100, "SWS follows SW");
        // FLASH_ACR keeps the wait states for the timing model; ICEN/DCEN set at reset.
        assert_eq!(p.register(0x4002_2000), 0x600);
        wr(&mut p, 0x4002_2000, 0x705);
        assert_eq!(p.register(0x4002_2000), 0x705);
        // Byte writes replace only their lane.
        assert!(p.write(0x4002_2001, 1, 0x01, 0));
        assert_eq!(p.register(0x4002_2000), 0x105);
    }
}
