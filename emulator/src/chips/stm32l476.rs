//! STM32L476 (RM0351 rev 9, datasheet DS10198): PWR, RCC, FLASH, the GPIO ports A-H and
//! DBGMCU. The registers are the STM32L4 family's, at the addresses of the STM32L4R5, whose file
//! holds their behaviour; this file has what differs: the flash, the ports, the reset values and
//! the pins of the NUCLEO-L476RG's LQFP64 package.

use super::stm32l4r5::{flash_acr, gpio_bank, gpio_levels, gpio_write, read_reg, write_dropped};
use super::{Block, Chip, ChipIdentity, ChipModel, Regs};
use crate::timing::memory::{CacheGeometry, FlashConfig};
use crate::timing::ChipMemoryTiming;

impl Chip {
    /// STM32L476 (RM0351).
    pub const STM32L476: Chip = Chip::new("STM32L476*", &Stm32l476);
}

/// The STM32L476's model.
struct Stm32l476;

/// STM32L476 (RM0351 rev 9): 1 MB of flash at 0x0800_0000 in two banks, read 64 bits at a time
/// (§3.3.1), LATENCY wait states from FLASH_ACR (4 at 80 MHz in range 1, §3.3.3 Table 11), the
/// ART accelerator's prefetch buffer, instruction cache ("32 lines of 4 x 64 bits", 1 KB) and
/// data cache ("8 lines of 4 x 64 bits", 256 bytes), §3.3.4: the L4R5's geometry, modelled the
/// same way (4-way LRU on 64-bit lines, the unit a flash read fills).
pub const TIMING: ChipMemoryTiming = ChipMemoryTiming {
    chip: "STM32L476RG",
    flash: (0x0800_0000, 0x0810_0000),
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
        // RM0351 §3.7.1: ICEN and DCEN set at reset, LATENCY 0, PRFTEN 0.
        reset: 0x0000_0600,
        decode: flash_acr,
        // LATENCY 4, PRFTEN, ICEN, DCEN (firmware/src/board/stm32l476.rs).
        firmware: Some(0x0000_0704),
    },
    io_port: (0, 0),
    small_multiplier: false,
};

/// [`TIMING`]'s fingerprint (`timing::chip_fingerprint`) and the cycle model version it was taken
/// at: a change to [`TIMING`] fails `timing::tests` until both are updated (and the version bumped,
/// in timing/mod.rs, as results of another timing are not comparable).
pub(super) const TIMING_FINGERPRINT: (&str, u64) = ("3", 11163009724005270173);

/// GPIO ports A-H (RM0351 §8.5), 0x400 apart from 0x4800_0000.
const GPIO: u32 = 0x4800_0000;
const GPIO_PORTS: u32 = 8;

const BLOCKS: &[Block] = &[
    Block::new("PWR", 0x4000_7000, 0x400),
    Block::new("RCC", 0x4002_1000, 0x400),
    Block::new("FLASH", 0x4002_2000, 0x400),
    Block::new("GPIO", 0x4800_0000, 0x2000),
    Block::new("DBGMCU", 0xE004_2000, 0x400),
];

impl ChipModel for Stm32l476 {
    fn identity(&self) -> Option<ChipIdentity> {
        // RM0351 §48.6.1: DBGMCU_IDCODE DEV_ID (bits 11:0) = 0x415 for STM32L47x/L48x.
        Some(ChipIdentity {
            register: 0xE004_2000,
            mask: 0x0000_0fff,
            expected: 0x415,
            what: "DBGMCU_IDCODE DEV_ID",
        })
    }

    fn accepts(&self, name: &str) -> bool {
        name.starts_with("stm32l476")
    }

    fn memory_timing(&self) -> &'static ChipMemoryTiming {
        &TIMING
    }

    fn blocks(&self) -> &'static [Block] {
        BLOCKS
    }

    fn reset_values(&self, regs: &mut Regs) {
        regs.set_all(&[
            (0x4002_1000, 0x0000_0063), // RCC_CR: MSI on and ready, 4 MHz (RM0351 §6.4.1)
            (0x4002_100C, 0x0000_1000), // RCC_PLLCFGR: PLLN = 16 (§6.4.4)
            (0x4000_7000, 0x0000_0200), // PWR_CR1: VOS = range 1 (§5.4.1)
            // RCC_CSR (§6.4.29) after a power-on reset: BORRSTF and PINRSTF set, MSISRANGE 6
            // (4 MHz), the range CMSIS' SystemCoreClockUpdate reads while MSIRGSEL is 0.
            (0x4002_1094, 0x0C00_0600),
            // DBGMCU_IDCODE (§48.6.1): REV_ID 0x1007 (revision 4), DEV_ID 0x415.
            (0xE004_2000, 0x1007_6415),
            // GPIOx_MODER (§8.5.1): analog mode, but the debug pins of ports A and B; port H
            // has its 2 pins in analog mode and the rest reserved.
            (GPIO, 0xABFF_FFFF),
            (GPIO + 0x400, 0xFFFF_FEBF),
            (GPIO + 0x800, 0xFFFF_FFFF),
            (GPIO + 0xC00, 0xFFFF_FFFF),
            (GPIO + 0x1000, 0xFFFF_FFFF),
            (GPIO + 0x1400, 0xFFFF_FFFF),
            (GPIO + 0x1800, 0xFFFF_FFFF),
            (GPIO + 0x1C00, 0x0000_000F),
        ]);
    }

    fn gpio_pins(&self) -> (u32, &'static str) {
        (
            128,
            "16 x port + pin: PA0 = 0, PA5 = 5, PB7 = 23, PC13 = 45 ... PH1 = 113",
        )
    }

    fn reserved_pin(&self, pin: u32) -> Option<&'static str> {
        match pin {
            // The NUCLEO-L476RG's STM32L476RGT6 (DS10198, LQFP64 pinout) bonds ports A-C,
            // PD2 and PH0/PH1 only.
            48..=49 | 51..=111 | 114..=127 => Some(
                "not bonded on the NUCLEO-L476RG's LQFP64 STM32L476RG (ports A-C, PD2, PH0, PH1)",
            ),
            // UM1724 (STM32 Nucleo-64 user manual): PA13/PA14 are SWD, wired to the ST-LINK;
            // PA2/PA3 USART2, wired to the ST-LINK's virtual COM port.
            13 => Some("PA13 is SWDIO, the ST-LINK's debug line"),
            14 => Some("PA14 is SWCLK, the ST-LINK's debug clock"),
            2 | 3 => Some("PA2 and PA3 are USART2, wired to the ST-LINK's virtual COM port"),
            // UM1724 §6.7: the 32.768 kHz crystal X2 on PC14/PC15, the HSE input on PH0/PH1.
            46 | 47 => Some("PC14 and PC15 carry the 32.768 kHz crystal (LSE)"),
            112 | 113 => Some("PH0 and PH1 are the HSE clock input (OSC_IN/OSC_OUT)"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chips::tests::{gpio_changes, rd, wr, wr7};
    use crate::chips::ChipPeripherals;
    use crate::machine::Peripherals;

    #[test]
    fn l476_is_its_own_chip_with_eight_ports() {
        assert_eq!(Chip::from_name("STM32L476RG"), Some(Chip::STM32L476));
        assert_eq!(Chip::from_name("STM32L4R5ZI"), Some(Chip::STM32L4R5));
        let mut p = ChipPeripherals::new(Chip::STM32L476, 80_000_000);
        // Port H exists (MODER reset 0xF), port I does not: a bus fault.
        assert_eq!(rd(&mut p, GPIO + 0x1C00), 0xF);
        assert_eq!(p.read(GPIO + 0x2000, 4, 0), None);
        assert_eq!(p.register(0x4002_2000), 0x600, "FLASH_ACR reset");
        wr(&mut p, 0x4002_2000, 0x704);
        assert_eq!(p.register(0x4002_2000), 0x704);
        // PLL ready follows PLL on.
        let cr = rd(&mut p, 0x4002_1000);
        wr(&mut p, 0x4002_1000, cr | (1 << 24));
        assert_ne!(rd(&mut p, 0x4002_1000) & (1 << 25), 0);
    }

    #[test]
    fn l476_gate_pin_pa0_toggles() {
        let changes = gpio_changes(Chip::STM32L476, |p| {
            wr7(p, 0x4002_104C, 1); // RCC_AHB2ENR GPIOAEN
            let moder = rd(p, GPIO);
            wr7(p, GPIO, (moder & !0b11) | 0b01);
            wr7(p, GPIO + 0x18, 1);
            wr7(p, GPIO + 0x18, 1 << 16);
        });
        assert_eq!(changes, [(0, true), (0, false)]);
        assert!(Chip::STM32L476.reserved_pin(0).is_none());
        assert!(Chip::STM32L476.reserved_pin(13).is_some());
        assert!(
            Chip::STM32L476.reserved_pin(60).is_some(),
            "PD12 is not bonded"
        );
        assert!(Chip::STM32L476.reserved_pin(50).is_none(), "PD2 is");
    }
}
