//! What the timed-run loop measures: a model from the model partition run by the engine
//! (`crate::model`), or, when the partition is empty, the fixed integer self-test here.

use core::hint::black_box;

/// A benchmark workload: one call of `run` is one timed run.
pub trait Workload {
    type Error: core::fmt::Display;
    /// The name reported as `@meta workload=<name>`.
    fn name(&self) -> &'static str;
    /// Untimed work before each run (e.g. the input copied into the input tensor, whose arena
    /// bytes the previous run may have reused).
    fn prepare(&mut self) -> Result<(), Self::Error>;
    /// Does the whole computation once (an inference, for a model).
    fn run(&mut self) -> Result<(), Self::Error>;
    /// The output of the last run, digested for the `@output` record.
    fn output(&self) -> &[u8];
}

/// Elements per vector: 2 x 4 KiB of RAM, a few thousand multiply-accumulates per run.
pub const DOT_LEN: usize = 4096;

/// The dot product of two int8 vectors into an i32, like the inner loop of an int8 fully
/// connected layer. The inputs are pseudo-random but fixed (xorshift32 with a fixed seed), so
/// every board computes the same result, which the host can check against its own.
pub struct DotI8 {
    a: [i8; DOT_LEN],
    b: [i8; DOT_LEN],
    result: [u8; 4],
}

impl DotI8 {
    /// All zero, so that a `static` of it lives in .bss; `fill` makes the inputs.
    pub const fn zeroed() -> DotI8 {
        DotI8 {
            a: [0; DOT_LEN],
            b: [0; DOT_LEN],
            result: [0; 4],
        }
    }

    /// Fills both vectors from xorshift32 (Marsaglia 2003) seeded with a fixed value.
    pub fn fill(&mut self) {
        let mut state: u32 = 0x1234_5678;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8 as i8
        };
        for (a, b) in self.a.iter_mut().zip(self.b.iter_mut()) {
            *a = next();
            *b = next();
        }
    }
}

impl Workload for DotI8 {
    type Error = core::convert::Infallible;

    fn name(&self) -> &'static str {
        "dot_i8"
    }

    fn prepare(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn run(&mut self) -> Result<(), Self::Error> {
        // black_box keeps the compiler from computing the result once and reusing it.
        let (a, b) = black_box((&self.a, &self.b));
        let sum = a.iter().zip(b.iter()).fold(0i32, |acc, (&x, &y)| {
            acc.wrapping_add(i32::from(x) * i32::from(y))
        });
        self.result = black_box(sum).to_le_bytes();
        Ok(())
    }

    fn output(&self) -> &[u8] {
        &self.result
    }
}
