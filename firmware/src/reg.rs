//! Memory-mapped registers: volatile 32-bit access and bounded waits on ready bits.
//!
//! Every register the firmware touches is a `Reg` constant in its board module, declared once
//! with its address and the manual section it comes from; the emulator models exactly those.

use core::fmt;

/// How often a ready bit is polled before bring-up gives up. Each poll is a few cycles, so
/// this is tens of milliseconds or more at any clock these chips start on, far longer than
/// any oscillator, PLL or power domain takes to become ready.
const READY_POLLS: u32 = 1_000_000;

/// A 32-bit memory-mapped register.
#[derive(Clone, Copy)]
pub struct Reg(usize);

impl Reg {
    /// # Safety
    ///
    /// `addr` must be the address of a 32-bit peripheral register of the chip the firmware is
    /// built for, which reads and writes of any value may touch without breaking memory safety.
    pub const unsafe fn at(addr: usize) -> Reg {
        Reg(addr)
    }

    pub fn read(self) -> u32 {
        // SAFETY: `Reg::at` requires a valid, always-accessible register address.
        unsafe { core::ptr::read_volatile(self.0 as *const u32) }
    }

    pub fn write(self, value: u32) {
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, value) }
    }

    /// Read-modify-write: `f` gets the current value and returns the new one.
    pub fn modify(self, f: impl FnOnce(u32) -> u32) {
        self.write(f(self.read()));
    }
}

/// Something the board waited for did not become ready within [`READY_POLLS`] polls.
#[derive(Debug, Clone, Copy)]
pub struct NotReady(pub &'static str);

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bring-up: {} did not become ready", self.0)
    }
}

/// Polls `ready` until it holds, at most [`READY_POLLS`] times; `what` names the condition
/// (with its register and bit) for the `@error` record when it never does.
pub fn wait_for(what: &'static str, mut ready: impl FnMut() -> bool) -> Result<(), NotReady> {
    for _ in 0..READY_POLLS {
        if ready() {
            return Ok(());
        }
    }
    Err(NotReady(what))
}
