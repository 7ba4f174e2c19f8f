//! Stack painting: fill the unused stack with a pattern at start, find the deepest word that
//! lost it after the runs.
//!
//! The stack reserve is `_stack_end`..`_stack_start` (generated memory.x: the top
//! `stack_bytes` of RAM); the stack grows down from `_stack_start`.

use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0xCCCC_CCCC;

/// Left unpainted below the stack pointer of `paint`, for its own spills and an exception
/// frame (up to 104 bytes with FP context on the M4) should one be taken while it runs.
const MARGIN_BYTES: usize = 128;

extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the linker symbols are taken, never their (meaningless) values.
    (
        addr_of!(_stack_end) as usize,
        addr_of!(_stack_start) as usize,
    )
}

/// Paints from the bottom of the stack reserve up to a little below the current stack
/// pointer. Call first thing in `main`, before any interrupt is enabled.
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    let sp: usize;
    // SAFETY: reads the stack pointer, nothing else.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    let limit = (sp - MARGIN_BYTES) & !3;
    let mut word = bottom;
    while word < limit {
        // SAFETY: `bottom..limit` is unused stack below this function's frame: nothing live
        // is stored there, and the loop makes no calls that could use it.
        unsafe { write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// Bytes of the stack reserve that were ever used: from the top down to the lowest word that no
/// longer holds the paint.
pub fn used_bytes() -> u32 {
    let (bottom, top) = bounds();
    let mut word = bottom;
    // SAFETY: `bottom..top` is the stack reserve, readable RAM.
    while word < top && unsafe { read_volatile(word as *const u32) } == PAINT {
        word += 4;
    }
    (top - word) as u32
}
