//! The STM32L4 family's GPIO as the gate output (RM0432 for the L4+, RM0351 for the L47x: the
//! same RCC_AHB2ENR and GPIO registers at the same addresses).

use crate::reg::Reg;

// SAFETY (`Reg::at` below): addresses of STM32L4 registers, from RM0432 and RM0351.

/// RCC_AHB2ENR (RM0432 §6.4.17, RM0351 §6.4.17): GPIOxEN, bit n for port n (0 = A).
const RCC_AHB2ENR: Reg = unsafe { Reg::at(0x4002_104C) };
/// GPIO ports (RM0432 §2.2.2, memory map): 0x400 apart from 0x4800_0000.
const GPIO_BASE: usize = 0x4800_0000;
const GPIO_PORT_STRIDE: usize = 0x400;
/// GPIOx_MODER (§8.5.1): two bits per pin, 01 = general-purpose output.
const GPIO_MODER: usize = 0x00;
/// GPIOx_BSRR (§8.5.7): bits 15:0 set, bits 31:16 reset the pin.
const GPIO_BSRR: usize = 0x18;

/// The gate GPIO: `pin` = 16 x port + pin of the chip's `ports` ports (`pins` describes the
/// numbering), a push-pull output driven low (OTYPER resets to push-pull, §8.5.2). Registers:
/// RCC_AHB2ENR (the port's clock, read back so that it is on before the port is touched),
/// GPIOx_BSRR (low), GPIOx_MODER.
pub fn gate_init(
    pin: u32,
    ports: u32,
    pins: &'static str,
) -> Result<super::Gate, super::GateError> {
    if pin >= ports * 16 {
        return Err(super::GateError::NoSuchPin { pin, pins });
    }
    let (port, bit) = (pin / 16, pin % 16);
    RCC_AHB2ENR.modify(|v| v | (1 << port));
    let _ = RCC_AHB2ENR.read();
    let base = GPIO_BASE + port as usize * GPIO_PORT_STRIDE;
    // SAFETY: GPIO port registers of RM0432/RM0351 §8.5 (port < ports).
    let (moder, bsrr) = unsafe { (Reg::at(base + GPIO_MODER), Reg::at(base + GPIO_BSRR)) };
    bsrr.write(1 << (bit + 16));
    moder.modify(|v| (v & !(0b11 << (2 * bit))) | (0b01 << (2 * bit)));
    Ok(super::Gate {
        set: bsrr,
        set_value: 1 << bit,
        clear: bsrr,
        clear_value: 1 << (bit + 16),
    })
}
