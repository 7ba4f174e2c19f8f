//! The Cortex-M4 cycle counter: DWT CYCCNT, extended to 64 bits in software.
//!
//! ARMv7-M Architecture Reference Manual, C1.6.5 (DEMCR) and C1.8 (DWT).
//!
//! Registers touched, in order, and what is waited for:
//!
//! | address     | register   | written / waited for                                     |
//! | ----------- | ---------- | -------------------------------------------------------- |
//! | 0xE000_EDFC | DEMCR      | TRCENA (bit 24) set                                      |
//! | 0xE000_1000 | DWT_CTRL   | read: NOCYCCNT (bit 25) must be 0; CYCCNTENA (bit 0) set |
//! | 0xE000_1004 | DWT_CYCCNT | 0, then wait until it reads non-zero (counting); read by `cycles` |

use core::sync::atomic::{AtomicU32, Ordering};

use crate::reg::{wait_for, NotReady, Reg};

/// DEMCR, Debug Exception and Monitor Control Register (ARMv7-M ARM C1.6.5).
/// Bit 24 TRCENA enables the DWT.
const DEMCR: Reg = unsafe { Reg::at(0xE000_EDFC) };
const DEMCR_TRCENA: u32 = 1 << 24;
/// DWT_CTRL (C1.8.7). Bit 0 CYCCNTENA starts the counter; bit 25 NOCYCCNT says there is none.
const DWT_CTRL: Reg = unsafe { Reg::at(0xE000_1000) };
const DWT_CTRL_CYCCNTENA: u32 = 1 << 0;
const DWT_CTRL_NOCYCCNT: u32 = 1 << 25;
/// DWT_CYCCNT (C1.8.8): counts core clock cycles, wraps at 2^32.
const DWT_CYCCNT: Reg = unsafe { Reg::at(0xE000_1004) };

/// Wraps of CYCCNT seen so far, and the last value read, for the 64-bit extension.
static WRAPS: AtomicU32 = AtomicU32::new(0);
static LAST: AtomicU32 = AtomicU32::new(0);

/// Enables and starts CYCCNT; waits (bounded) until it is seen counting.
pub fn init() -> Result<(), NotReady> {
    DEMCR.modify(|v| v | DEMCR_TRCENA);
    if DWT_CTRL.read() & DWT_CTRL_NOCYCCNT != 0 {
        return Err(NotReady(
            "DWT cycle counter (DWT_CTRL.NOCYCCNT is set: none on this core)",
        ));
    }
    DWT_CYCCNT.write(0);
    DWT_CTRL.modify(|v| v | DWT_CTRL_CYCCNTENA);
    wait_for("DWT CYCCNT counting (DWT_CTRL.CYCCNTENA)", || {
        DWT_CYCCNT.read() != 0
    })?;
    LAST.store(DWT_CYCCNT.read(), Ordering::Relaxed);
    Ok(())
}

/// Core clock cycles since `init`. The 32-bit counter is extended by counting wraps between
/// reads, so this must be called at least once every 2^32 cycles (35 s at 120 MHz): the
/// timed-run loop reads it before and after every run.
pub fn cycles() -> u64 {
    let now = DWT_CYCCNT.read();
    let mut wraps = WRAPS.load(Ordering::Relaxed);
    if now < LAST.load(Ordering::Relaxed) {
        wraps += 1;
        WRAPS.store(wraps, Ordering::Relaxed);
    }
    LAST.store(now, Ordering::Relaxed);
    (u64::from(wraps) << 32) | u64::from(now)
}
