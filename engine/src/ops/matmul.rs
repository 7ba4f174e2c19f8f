//! The blocked int8 matrix product behind the fast paths of CONV_2D and FULLY_CONNECTED:
//! `acc(p, c) = Σ_k lhs[p][k] * rhs[c][k]` for `pixels` left-hand rows (input pixels, im2col
//! patches or FULLY_CONNECTED batches) and `channels` right-hand rows (filter rows, int8,
//! contiguous), each output handed to a [`Sink`] (the requantization, [`Requantized`]).
//!
//! The ideas are CMSIS-NN's (`arm_nn_mat_mult_kernel_s8_s16`, `arm_nn_mat_mult_nt_t_s8`,
//! `arm_convolve_1x1_s8_fast`): outputs are computed in blocks of two pixels x two channels
//! (or one pixel x four channels), so that every word loaded and unpacked (SXTB16) feeds two or
//! four SMLADs instead of one. Channels are the outer loop and pixels the inner one, so a channel
//! pair's filter rows stay in the flash data cache (STM32L4's ART: 256 bytes) while all pixels
//! pass by. Integer sums are exact (wrapping mod 2^32), so any order gives the reference's result;
//! the host runs the same algorithm on [`Emulated`](super::dot::Emulated) instructions.
//!
//! The left-hand side is int8 (input pixels, im2col patches padded with the input zero point,
//! FULLY_CONNECTED inputs): the input offset is folded into a per-channel constant
//! `bias + offset * Σ_k rhs[c][k]` computed at prepare time ([`row_offset`]).

use super::dot::{widen_pair, Rows1x4, Rows2x2, Simd};
use crate::quant::{requantize, Clamp, NarrowRequant, Requant, Requantizer, WithOffset};

/// Where the blocked product's outputs go: `put(p, c, acc)` once per (pixel, channel), or a
/// block at a time with the constants of its channels read once per channel pair ([`Sink::pair`]).
pub trait Sink {
    /// What the outputs of channels `c` and `c + 1` need, read once for all pixels.
    type Pair: Copy;
    fn pair(&self, c: usize) -> Self::Pair;
    fn put(&mut self, p: usize, c: usize, acc: i32);
    /// A 2 x 2 block: `acc` is (p, c), (p, c + 1), (p + 1, c), (p + 1, c + 1); `k` is
    /// `self.pair(c)`.
    fn put_2x2(&mut self, k: &Self::Pair, p: usize, c: usize, acc: [i32; 4]);
    /// Pixel pairs `0..pairs` of channels `c, c + 1` at once, where the sink has a loop for
    /// them ([`Simd::rows_2x2_narrow`]): rows at `x[p * stride]` (int8, `depth` values), filter
    /// rows at `f[0]` and `f[depth]`. `false` (nothing done) otherwise.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn rows_2x2<S: Simd, T: Lhs>(
        &mut self,
        _k: &Self::Pair,
        _x: &[T],
        _stride: usize,
        _pairs: usize,
        _f: &[i8],
        _depth: usize,
        _c: usize,
    ) -> bool {
        false
    }
    /// Channels `0..4 * groups` of one left-hand row `x` (pixel `p`; filter rows at
    /// `f[c * depth]`), four at a time, where the sink has a loop for them
    /// ([`Simd::rows_1x4_narrow`]). `false` (nothing done) otherwise.
    #[inline(always)]
    fn rows_1x4<S: Simd, T: Lhs>(
        &mut self,
        _x: &[T],
        _f: &[i8],
        _depth: usize,
        _groups: usize,
        _p: usize,
    ) -> bool {
        false
    }
    /// A 1 x 4 block: (p, c) to (p, c + 3).
    #[inline(always)]
    fn put_1x4(&mut self, p: usize, c: usize, acc: [i32; 4]) {
        for (i, &a) in acc.iter().enumerate() {
            self.put(p, c + i, a);
        }
    }
}

impl<F: FnMut(usize, usize, i32)> Sink for F {
    type Pair = ();
    #[inline(always)]
    fn pair(&self, _: usize) {}
    #[inline(always)]
    fn put(&mut self, p: usize, c: usize, acc: i32) {
        self(p, c, acc)
    }
    #[inline(always)]
    fn put_2x2(&mut self, _: &(), p: usize, c: usize, acc: [i32; 4]) {
        self(p, c, acc[0]);
        self(p, c + 1, acc[1]);
        self(p + 1, c, acc[2]);
        self(p + 1, c + 1, acc[3]);
    }
}

/// TFLite's int8 output stage: per-channel (or one per-tensor) multiplier and shift, output
/// offset, activation clamp.
#[derive(Clone, Copy)]
pub struct Int8Output<'a> {
    pub mult: &'a [i32],
    pub shift: &'a [i32],
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
    /// Every accumulator is narrow ([`crate::quant::fits_narrow`], checked at load): the
    /// blocks requantize with [`NarrowRequant`].
    pub narrow: bool,
}

impl Int8Output<'_> {
    #[inline(always)]
    pub fn apply(&self, c: usize, acc: i32) -> i8 {
        let (mult, shift) = self.channel(c);
        self.with(mult, shift, acc)
    }
    /// Channel `c`'s multiplier and shift.
    #[inline(always)]
    fn channel(&self, c: usize) -> (i32, i32) {
        let i = if self.mult.len() > 1 { c } else { 0 };
        (self.mult[i], self.shift[i])
    }
    #[inline(always)]
    fn with(&self, mult: i32, shift: i32, acc: i32) -> i8 {
        requantize(
            acc,
            mult,
            shift,
            self.output_offset,
            self.act_min,
            self.act_max,
        )
    }
}

/// Writes `out[p * channels + c]`: the accumulator plus `offsets[c]` (the bias and the folded
/// input offset), requantized by `R` ([`Requant`], or [`NarrowRequant`] when the operator's
/// accumulators were found narrow at load). The blocks' outputs are requantized inline with
/// their channels' constants unpacked once per channel pair (called, the requantization took
/// 100 cycles an output on the M4: a third of a pointwise convolution).
pub struct Requantized<'a, 'b, R> {
    pub out: &'b mut [i8],
    pub channels: usize,
    pub offsets: &'a [i32],
    pub stage: Int8Output<'a>,
    /// Scratch for a channel pair's filter rows widened ([`Rows2x2::wide`]): `depth` words
    /// (empty: the rows stay int8).
    pub wide: &'b mut [u32],
    pub form: core::marker::PhantomData<R>,
}

/// Pixel pairs from which a channel pair's filter rows are widened ([`Rows2x2::wide`]): the
/// widening costs about 12 cycles a quad, each pixel pair then saves about 2.6 on the M4, and
/// the rows' later reads come from RAM rather than flash (measured on VWW, KWS and IC: 3 pairs
/// gain, 2 and 5 lose).
const WIDE_MIN_PAIRS: usize = 3;

/// Two channels' constants: offset and requantization.
pub type PairConstants<R> = [WithOffset<R>; 2];

impl<'a, 'b, R: Requantizer> Requantized<'a, 'b, R> {
    pub fn new(
        out: &'b mut [i8],
        channels: usize,
        offsets: &'a [i32],
        stage: Int8Output<'a>,
        wide: &'b mut [u32],
    ) -> Self {
        Requantized {
            out,
            channels,
            offsets,
            stage,
            wide,
            form: core::marker::PhantomData,
        }
    }

    /// Channel `c`'s requantization (the multipliers of the weighted operators are never
    /// `i32::MIN`: negative scales are refused at load).
    #[inline(always)]
    fn requant(&self, c: usize) -> R {
        let (mult, shift) = self.stage.channel(c);
        R::new(mult, shift, self.stage.output_offset)
    }
    #[inline(always)]
    fn clamp(&self) -> Clamp {
        Clamp::new(self.stage.act_min, self.stage.act_max)
    }
}

impl<R: Requantizer> Sink for Requantized<'_, '_, R> {
    type Pair = PairConstants<R>;

    #[inline(always)]
    fn pair(&self, c: usize) -> PairConstants<R> {
        let k = |c: usize| WithOffset {
            offset: self.offsets[c],
            q: self.requant(c),
        };
        [k(c), k(c + 1)]
    }

    /// The edge outputs: one copy of the requantization, called.
    #[inline(never)]
    fn put(&mut self, p: usize, c: usize, acc: i32) {
        let acc = acc.wrapping_add(self.offsets[c]);
        self.out[p * self.channels + c] = self.stage.apply(c, acc);
    }

    /// The four outputs requantized, clamped together ([`Clamp::four`]) and stored as two
    /// pairs of bytes.
    #[inline(always)]
    fn put_2x2(&mut self, k: &PairConstants<R>, p: usize, c: usize, acc: [i32; 4]) {
        let n = self.channels;
        let at = p * n + c;
        let v = self.clamp().four(R::apply_2x2(k, acc));
        let out = &mut self.out[at..at + n + 2];
        out[..2].copy_from_slice(&v[..2]);
        out[n..n + 2].copy_from_slice(&v[2..]);
    }

    #[inline(always)]
    fn rows_2x2<S: Simd, T: Lhs>(
        &mut self,
        k: &PairConstants<R>,
        x: &[T],
        stride: usize,
        pairs: usize,
        f: &[i8],
        depth: usize,
        c: usize,
    ) -> bool {
        let Some(k) = R::narrow_pair(k) else {
            return false;
        };
        let n = self.channels;
        if !T::INT8 || depth < 4 || pairs == 0 || c + 2 > n {
            return false;
        }
        // Everything the loop reads and writes lies inside the slices.
        assert!((2 * pairs - 1) * stride + depth <= x.len() && 2 * depth <= f.len());
        let out = &mut self.out[c..];
        assert!((2 * pairs - 1) * n + 2 <= out.len());
        let x = x.as_ptr().cast::<i8>();
        let quads = depth / 4;
        let wide = match self.wide.get_mut(..4 * quads) {
            Some(wide) if S::WIDE_ROWS && pairs >= WIDE_MIN_PAIRS && depth.is_multiple_of(4) => {
                widen_pair::<S>(f, &f[depth..], quads, wide);
                wide.as_ptr()
            }
            _ => core::ptr::null(),
        };
        let mut s = Rows2x2 {
            // SAFETY: inside `x`, by the assert above.
            x: [x, unsafe { x.add(stride) }],
            f: [f.as_ptr(), f[depth..].as_ptr()],
            x_step: 2 * stride,
            quads: depth / 4,
            out: out.as_mut_ptr(),
            channels: n,
            k: k.as_ptr(),
            clamp: self.clamp().words(),
            pairs,
            tail: depth % 4,
            wide,
        };
        // SAFETY: `T` is `i8` (`T::INT8`), and the asserts above bound every row and output.
        unsafe { S::rows_2x2_narrow(&mut s) }
    }

    #[inline(always)]
    fn rows_1x4<S: Simd, T: Lhs>(
        &mut self,
        x: &[T],
        f: &[i8],
        depth: usize,
        groups: usize,
        p: usize,
    ) -> bool {
        let st = &self.stage;
        // The loop takes per-channel NarrowRequant constants and whole quads.
        if !R::NARROW || !T::INT8 || !st.narrow || st.mult.len() < 4 * groups || groups == 0 {
            return false;
        }
        if !depth.is_multiple_of(4) || depth == 0 {
            return false;
        }
        let n = 4 * groups;
        let at = p * self.channels;
        // Everything the loop reads and writes lies inside the slices.
        assert!(x.len() >= depth && f.len() >= n * depth && self.out.len() >= at + n);
        assert!(self.offsets.len() >= n && st.shift.len() >= n);
        let x = x.as_ptr().cast::<i8>();
        let mut s = Rows1x4 {
            x,
            f: f.as_ptr(),
            stride: depth,
            stride3: 3 * depth,
            x_end: x.wrapping_add(depth),
            quads: depth / 4,
            out: self.out[at..].as_mut_ptr(),
            offsets: self.offsets.as_ptr(),
            mult: st.mult.as_ptr(),
            shift: st.shift.as_ptr(),
            half_offset: st.output_offset.wrapping_mul(2).wrapping_add(1),
            clamp: self.clamp().words(),
            groups,
        };
        // SAFETY: `T` is `i8` (`T::INT8`); the asserts above bound the row, the filter rows,
        // the constants and the outputs; `narrow` holds every shift within NarrowRequant's
        // bounds (checked at load).
        unsafe { S::rows_1x4_narrow(&mut s) }
    }

    #[inline(always)]
    fn put_1x4(&mut self, p: usize, c: usize, acc: [i32; 4]) {
        let at = p * self.channels + c;
        let offsets: &[i32; 4] = self.offsets[c..c + 4].try_into().unwrap();
        let a = |i: usize| acc[i].wrapping_add(offsets[i]);
        // Written out: `array::from_fn` here was left out of line (120 k cycles of AD's 800 k).
        let r = |i: usize| self.requant(c + i).apply(a(i));
        let q = [r(0), r(1), r(2), r(3)];
        let v = self.clamp().four(q);
        self.out[at..at + 4].copy_from_slice(&v);
    }
}

/// The blocked product with TFLite's int8 output stage: `out[p * channels + c]` is the dot
/// product of left-hand row `p` and filter row `c`, plus `offsets[c]`, requantized by `stage`
/// (the requantization's form chosen once here, see [`Requantized`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn requantized_product<S: Simd>(
    lhs: &[i8],
    lhs_stride: usize,
    pixels: usize,
    rhs: &[i8],
    depth: usize,
    channels: usize,
    out: &mut [i8],
    offsets: &[i32],
    stage: Int8Output<'_>,
    wide: &mut [u32],
) {
    if stage.narrow {
        let mut sink = Requantized::<NarrowRequant>::new(out, channels, offsets, stage, wide);
        mat_mult::<S, i8>(lhs, lhs_stride, pixels, rhs, depth, channels, &mut sink);
    } else {
        let mut sink = Requantized::<Requant>::new(out, channels, offsets, stage, &mut []);
        mat_mult::<S, i8>(lhs, lhs_stride, pixels, rhs, depth, channels, &mut sink);
    }
}

/// An element of a left-hand row.
pub trait Lhs: Copy {
    /// The type is `i8` (the 1 x 4 block has an int8 kernel only).
    const INT8: bool;
    /// Four consecutive row values as two words of int16 pairs: values (0, 2) and (1, 3).
    fn quad<S: Simd>(q: &[Self; 4]) -> (u32, u32);
    /// One value, for the last `depth % 4` of a row.
    fn value(self) -> i32;
    /// Two rows x two filter rows over `quads` quads: [`Simd::quads_2x2_s8`].
    ///
    /// # Safety
    /// Each pointer valid for `4 * quads` values.
    unsafe fn quads_2x2<S: Simd>(x: [*const Self; 2], f: [*const i8; 2], quads: usize) -> [i32; 4];
}

impl Lhs for i8 {
    const INT8: bool = true;
    #[inline(always)]
    fn quad<S: Simd>(q: &[i8; 4]) -> (u32, u32) {
        let w = u32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8]);
        (S::sxtb16(w), S::sxtb16_ror8(w))
    }
    #[inline(always)]
    fn value(self) -> i32 {
        self as i32
    }
    #[inline(always)]
    unsafe fn quads_2x2<S: Simd>(x: [*const i8; 2], f: [*const i8; 2], quads: usize) -> [i32; 4] {
        // SAFETY: the caller's guarantee.
        unsafe { S::quads_2x2_s8(x, f, quads, [0; 4]) }
    }
}

/// `Σ_k rhs[c][k]` times `offset`, plus the bias: the part of a 1x1 CONV_2D's or
/// FULLY_CONNECTED's output that does not depend on the input, so that the kernel can multiply
/// raw int8 inputs (`Σ f (x + offset) = Σ f x + offset Σ f`, exact in wrapping integers).
///
/// It runs once at load: out of line, its sum a plain loop (`black_box` stops the compiler from
/// unrolling and vectorizing it into a kilobyte of code, flash the Artemis does not have).
#[inline(never)]
pub fn row_offset(filter_row: &[u8], offset: i32, bias: i32) -> i32 {
    let mut sum = 0i32;
    for &f in filter_row {
        sum = core::hint::black_box(sum.wrapping_add(f as i8 as i32));
    }
    bias.wrapping_add(sum.wrapping_mul(offset))
}

/// `P` x `C` outputs at once over the whole depth: the register block. `P` and `C` are 1, 2 or
/// 4, so the loops below unroll into straight-line code with the accumulators in registers.
/// Left-hand row `p` starts at `x[p * x_step]`, filter row `c` at `f[c * depth]`.
///
/// The 2 x 2 and int8 1 x 4 blocks run [`Simd`]'s loops (assembly on the Cortex-M cores, whose
/// registers the compiler could not hold them in); the others, at the edges of the product, the
/// portable loop below.
#[inline(always)]
fn block<S: Simd, T: Lhs, const P: usize, const C: usize>(
    x: &[T],
    x_step: usize,
    f: &[i8],
    depth: usize,
) -> [[i32; C]; P] {
    // Every row lies inside its slice: the pointer walk below reads nothing else.
    assert!(P == 0 || (P - 1) * x_step + depth <= x.len());
    assert!(C == 0 || C * depth <= f.len());
    let quads = depth / 4;
    let x0 = x.as_ptr();
    let f0 = f.as_ptr();
    let mut acc = [[0i32; C]; P];
    if P == 2 && C == 2 {
        // SAFETY: the asserts above: rows 0 and 1 of `x` and `f` hold `depth >= 4 * quads`
        // values each.
        let a = unsafe {
            let (x1, f1) = (x0.add(x_step), f0.add(depth));
            T::quads_2x2::<S>([x0, x1], [f0, f1], quads)
        };
        (acc[0][0], acc[0][1]) = (a[0], a[1]);
        (acc[P - 1][0], acc[P - 1][C - 1]) = (a[2], a[3]);
    } else if P == 1 && C == 4 && T::INT8 {
        // SAFETY: as above, for one row of `x` (int8: `T::INT8`) and four of `f`.
        let a = unsafe { S::quads_1x4_s8(x0.cast::<i8>(), f0, depth, quads, [0; 4]) };
        acc[0][..].copy_from_slice(&a[..C]);
    } else {
        block_quads::<S, T, P, C>(x0, x_step, f0, depth, quads, &mut acc);
    }
    for k in quads * 4..depth {
        for c in 0..C {
            let fv = f[c * depth + k] as i32;
            for p in 0..P {
                acc[p][c] = acc[p][c].wrapping_add(fv * x[p * x_step + k].value());
            }
        }
    }
    acc
}

/// The quads of [`block`] in portable form, for the blocks other than 2 x 2.
#[inline(always)]
fn block_quads<S: Simd, T: Lhs, const P: usize, const C: usize>(
    x0: *const T,
    x_step: usize,
    f0: *const i8,
    depth: usize,
    quads: usize,
    acc: &mut [[i32; C]; P],
) {
    for k in 0..quads {
        // SAFETY: 4k + 4 <= depth, and the asserts above put `depth` values of every row
        // (at p * x_step and c * depth) inside `x` and `f`.
        let (xq, fq): ([[T; 4]; P], [[i8; 4]; C]) = unsafe {
            (
                core::array::from_fn(|p| {
                    x0.add(p * x_step + 4 * k).cast::<[T; 4]>().read_unaligned()
                }),
                core::array::from_fn(|c| {
                    f0.add(c * depth + 4 * k).cast::<[i8; 4]>().read_unaligned()
                }),
            )
        };
        let xw: [(u32, u32); P] = core::array::from_fn(|p| T::quad::<S>(&xq[p]));
        for c in 0..C {
            let q = &fq[c];
            let w = u32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8]);
            let (f02, f13) = (S::sxtb16(w), S::sxtb16_ror8(w));
            for p in 0..P {
                acc[p][c] = S::smlad(f02, xw[p].0, acc[p][c]);
                acc[p][c] = S::smlad(f13, xw[p].1, acc[p][c]);
            }
        }
    }
}

/// Calls `sink.put(p, c, acc)` once for every left-hand row `p < pixels` (row `p` starts at
/// `lhs[p * lhs_stride]`) and filter row `c < channels` (at `rhs[c * depth]`). Not inlined: one
/// copy per left-hand type and sink serves every caller.
#[inline(never)]
pub fn mat_mult<S: Simd, T: Lhs>(
    lhs: &[T],
    lhs_stride: usize,
    pixels: usize,
    rhs: &[i8],
    depth: usize,
    channels: usize,
    sink: &mut impl Sink,
) {
    let x = |p: usize| &lhs[p * lhs_stride..];
    let f = |c: usize| &rhs[c * depth..];
    let mut c = 0;
    if pixels == 1 {
        // One pixel (FULLY_CONNECTED with one batch): four filter rows share each input word.
        if sink.rows_1x4::<S, T>(x(0), rhs, depth, channels / 4, 0) {
            c = channels / 4 * 4;
        }
        while c + 4 <= channels {
            let [acc] = block::<S, T, 1, 4>(x(0), lhs_stride, f(c), depth);
            sink.put_1x4(0, c, acc);
            c += 4;
        }
    } else {
        while c + 2 <= channels {
            let k = sink.pair(c);
            let mut p = 0;
            let pairs = pixels / 2;
            if sink.rows_2x2::<S, T>(&k, lhs, lhs_stride, pairs, f(c), depth, c) {
                p = 2 * pairs;
            }
            while p + 2 <= pixels {
                let [a0, a1] = block::<S, T, 2, 2>(x(p), lhs_stride, f(c), depth);
                sink.put_2x2(&k, p, c, [a0[0], a0[1], a1[0], a1[1]]);
                p += 2;
            }
            c += 2;
        }
        // An odd last pixel: the paired channels four at a time, then one by one (the edges
        // share the 1 x 1 block).
        if pixels % 2 == 1 {
            let p = pixels - 1;
            let mut k = 0;
            if sink.rows_1x4::<S, T>(x(p), rhs, depth, c / 4, p) {
                k = c / 4 * 4;
            }
            while k + 4 <= c {
                let [acc] = block::<S, T, 1, 4>(x(p), lhs_stride, f(k), depth);
                sink.put_1x4(p, k, acc);
                k += 4;
            }
            for k in k..c {
                let [[a]] = block::<S, T, 1, 1>(x(p), lhs_stride, f(k), depth);
                sink.put(p, k, a);
            }
        }
    }
    for c in c..channels {
        for p in 0..pixels {
            let [[a]] = block::<S, T, 1, 1>(x(p), lhs_stride, f(c), depth);
            sink.put(p, c, a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dot::Emulated;
    use super::*;
    use std::vec::Vec;

    /// xorshift64* bytes.
    fn bytes(seed: &mut u64, n: usize) -> Vec<i8> {
        (0..n)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 as i8
            })
            .collect()
    }

    /// Every (pixel, channel) output, as the sink sees them, with [`Emulated`] (the DSP
    /// algorithm), checked equal to [`Scalar`](super::super::dot::Scalar)'s.
    fn products<T: Lhs>(
        lhs: &[T],
        stride: usize,
        pixels: usize,
        rhs: &[i8],
        depth: usize,
        channels: usize,
    ) -> Vec<i32> {
        let mut out = std::vec![i32::MIN; pixels * channels];
        let mut put = |p: usize, c: usize, acc: i32| {
            assert_eq!(
                out[p * channels + c],
                i32::MIN,
                "output ({p}, {c}) written twice"
            );
            out[p * channels + c] = acc;
        };
        mat_mult::<Emulated, T>(lhs, stride, pixels, rhs, depth, channels, &mut put);
        let mut scalar = std::vec![0; pixels * channels];
        let mut put = |p: usize, c: usize, acc: i32| scalar[p * channels + c] = acc;
        mat_mult::<super::super::dot::Scalar, T>(
            lhs, stride, pixels, rhs, depth, channels, &mut put,
        );
        assert_eq!(scalar, out, "the scalar blocked product differs");
        out
    }

    #[test]
    fn blocked_product_is_every_dot_product_once() {
        let mut seed = 0x0005_eed0_fb10_c4ed;
        for pixels in 1..=5 {
            for channels in 1..=9 {
                for depth in [1, 3, 4, 7, 8, 13, 64] {
                    let stride = depth + pixels % 3;
                    let lhs = bytes(&mut seed, pixels * stride);
                    let rhs = bytes(&mut seed, channels * depth);
                    let got = products(&lhs, stride, pixels, &rhs, depth, channels);
                    for p in 0..pixels {
                        for c in 0..channels {
                            let (x, f) = (&lhs[p * stride..][..depth], &rhs[c * depth..][..depth]);
                            let want: i32 =
                                x.iter().zip(f).map(|(&x, &f)| x as i32 * f as i32).sum();
                            let at = p * channels + c;
                            assert_eq!(
                                got[at], want,
                                "int8 p {p} c {c} of {pixels}x{channels}x{depth}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// One left-hand row (FULLY_CONNECTED with one batch) through the requantizing sink, on
    /// [`Emulated`] (whose group loop is the assembly's portable twin) and
    /// [`Scalar`](super::super::dot::Scalar): TFLite's requantization of every dot product,
    /// per-channel and per-tensor, narrow and not.
    #[test]
    fn one_row_product_is_requantized_as_the_reference() {
        let mut seed = 0x1a4_0017_f00d_0003;
        let mut narrow_cases = 0;
        for channels in [1, 3, 4, 5, 8, 12, 13] {
            for depth in [1, 3, 4, 8, 12, 17, 64] {
                let x = bytes(&mut seed, depth);
                let rhs = bytes(&mut seed, channels * depth);
                let bias: Vec<i32> = bytes(&mut seed, channels)
                    .iter()
                    .map(|&b| b as i32 * 37)
                    .collect();
                for per_channel in [true, false] {
                    let m = if per_channel { channels } else { 1 };
                    let mult: Vec<i32> = (0..m).map(|c| (1 << 30) + 7_919 * c as i32).collect();
                    let shift: Vec<i32> = (0..m).map(|c| -((c % 5) as i32) - 6).collect();
                    let rhs_bytes: Vec<u8> = rhs.iter().map(|&v| v as u8).collect();
                    let input_offset = 3;
                    let offsets: Vec<i32> = (0..channels)
                        .map(|c| {
                            row_offset(&rhs_bytes[c * depth..][..depth], input_offset, bias[c])
                        })
                        .collect();
                    for narrow in [false, true] {
                        let stage = Int8Output {
                            mult: &mult,
                            shift: &shift,
                            output_offset: -5,
                            act_min: -100,
                            act_max: 120,
                            narrow,
                        };
                        let want: Vec<i8> = (0..channels)
                            .map(|c| {
                                let dot: i32 = x
                                    .iter()
                                    .zip(&rhs[c * depth..][..depth])
                                    .map(|(&x, &f)| (x as i32 + input_offset) * f as i32)
                                    .sum();
                                stage.apply(c, dot + bias[c])
                            })
                            .collect();
                        let paths = [
                            requantized_product::<Emulated>,
                            requantized_product::<super::super::dot::Scalar>,
                        ];
                        for (emulated, product) in [true, false].into_iter().zip(paths) {
                            let mut got = std::vec![0x55i8; channels];
                            product(
                                &x,
                                depth,
                                1,
                                &rhs,
                                depth,
                                channels,
                                &mut got,
                                &offsets,
                                stage,
                                &mut [],
                            );
                            assert_eq!(
                                got, want,
                                "{channels} x {depth}, per-channel {per_channel}, narrow {narrow}, emulated {emulated}"
                            );
                        }
                        narrow_cases += narrow as usize;
                    }
                }
            }
        }
        assert!(narrow_cases > 50);
    }

    #[test]
    fn folded_offset_gives_the_offset_dot_product() {
        let mut seed = 77;
        for offset in [-127, -1, 0, 128] {
            let (x, f) = (bytes(&mut seed, 37), bytes(&mut seed, 37));
            let f_bytes: Vec<u8> = f.iter().map(|&v| v as u8).collect();
            let raw: i32 = x.iter().zip(&f).map(|(&x, &f)| x as i32 * f as i32).sum();
            assert_eq!(
                raw + row_offset(&f_bytes, offset, 1234),
                super::super::dot::offset_dot_reference(&x, &f, offset) + 1234
            );
        }
    }
}
