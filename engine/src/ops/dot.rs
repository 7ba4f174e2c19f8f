//! The int8 dot product at the heart of CONV_2D and FULLY_CONNECTED: `Σ f[i] * (x[i] + offset)`.
//!
//! The reference is a scalar loop. The Cortex-M4/M7 fast path (`dsp` feature, Armv7E-M only) does
//! what CMSIS-NN does (arm_nnsupportfunctions.h: `read_and_pad`, `__SXTB16`, `__SMLAD`): four int8
//! values per 32-bit load, sign-extended into two pairs of int16 (SXTB16, SXTB16 ROR #8), the
//! input offset added to both halves (SADD16), two multiply-accumulates per SMLAD. Integer sums are
//! exact (wrapping mod 2^32 in both), so the result is bit-identical to the reference; the host
//! runs the same algorithm on emulated instructions to test that.

#[cfg(all(target_arch = "arm", feature = "dsp"))]
use crate::quant::{narrow_requant, narrow_requant_quad};
use crate::quant::{Clamp, NarrowRequant, Requantizer, WithOffset};

/// The reference: what TFLite Micro's kernels compute.
#[inline(always)]
pub fn offset_dot_reference(x: &[i8], f: &[i8], offset: i32) -> i32 {
    let mut acc: i32 = 0;
    for (&xv, &fv) in x.iter().zip(f) {
        acc = acc.wrapping_add(fv as i32 * (xv as i32 + offset));
    }
    acc
}

/// `Σ f[i] * (x[i] + offset)` over the shorter slice; `offset` is an int8 zero point negated
/// (-127..=128), so `x + offset` fits in int16.
#[inline(always)]
pub fn offset_dot(x: &[i8], f: &[i8], offset: i32) -> i32 {
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    {
        offset_dot_packed::<Dsp>(x, f, offset)
    }
    #[cfg(not(all(target_arch = "arm", feature = "dsp")))]
    {
        offset_dot_reference(x, f, offset)
    }
}

/// The instructions the packed paths run on: the DSP extension's on Armv7E-M with the `dsp`
/// feature, their portable model elsewhere (the host, the Cortex-M0+).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
pub type Native = Dsp;
#[cfg(not(all(target_arch = "arm", feature = "dsp")))]
pub type Native = Scalar;

/// `dst.copy_from_slice(src)` (equal lengths). On the M4 (`dsp`), where both are word-aligned,
/// the multiples of 32 and 16 bytes by LDM/STM of eight and four words (about 0.7 cycles a
/// byte, against 1.25 for the library's memcpy loop and its call), the rest as the library
/// copies it.
#[inline(always)]
pub fn copy_words(dst: &mut [i8], src: &[i8]) {
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    {
        let n = dst.len();
        let aligned = (dst.as_ptr() as usize | src.as_ptr() as usize) % 4 == 0;
        if aligned && n == src.len() && n >= 16 {
            let bulk = n / 16 * 16;
            // SAFETY: reads `bulk <= n` bytes of `src` and writes as many of `dst`, both
            // word-aligned; the slices do not overlap (one is borrowed mutably).
            unsafe {
                core::arch::asm!(
                    "cmp r2, #32",
                    "blo 3f",
                    "2:",
                    "ldm r0!, {{r3, r4, r5, r8, r9, r10, r11, r12}}",
                    "stm r1!, {{r3, r4, r5, r8, r9, r10, r11, r12}}",
                    "subs r2, r2, #32",
                    "cmp r2, #32",
                    "bhs 2b",
                    "3:",
                    "cbz r2, 4f",
                    "ldm r0!, {{r3, r4, r5, r8}}",
                    "stm r1!, {{r3, r4, r5, r8}}",
                    "4:",
                    inout("r0") src.as_ptr() => _,
                    inout("r1") dst.as_mut_ptr() => _,
                    inout("r2") bulk => _,
                    out("r3") _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r9") _,
                    out("r10") _,
                    out("r11") _,
                    out("r12") _,
                    options(nostack)
                );
            }
            dst[bulk..].copy_from_slice(&src[bulk..]);
            return;
        }
    }
    dst.copy_from_slice(src);
}

/// The SIMD instructions the packed paths use (ARM Architecture Reference Manual, Armv7-M:
/// A7.7.187 SXTB16, A7.7.114 SADD16, A7.7.129 SMLAD, A7.7.93 PKHBT/PKHTB).
pub trait Simd {
    /// Bytes 0 and 2, sign-extended into the two halfwords.
    fn sxtb16(x: u32) -> u32;
    /// Bytes 1 and 3 (SXTB16 with ROR #8).
    fn sxtb16_ror8(x: u32) -> u32;
    /// Halfword-wise add, wrapping.
    fn sadd16(a: u32, b: u32) -> u32;
    /// acc + a.lo * b.lo + a.hi * b.hi (signed halfwords), wrapping.
    fn smlad(a: u32, b: u32, acc: i32) -> i32;
    /// PKHBT a, b, LSL #16: bottom halfword of a, bottom halfword of b on top.
    fn pkhbt(a: u32, b: u32) -> u32;
    /// PKHTB a, b, ASR #16: top halfword of b at the bottom, top halfword of a on top.
    fn pkhtb(a: u32, b: u32) -> u32;
    /// SMLABB (A7.7.127): acc + a.lo * b.lo (signed halfwords), wrapping.
    fn smlabb(a: u32, b: u32, acc: i32) -> i32;
    /// SMLATT (A7.7.127): acc + a.hi * b.hi (signed halfwords), wrapping.
    fn smlatt(a: u32, b: u32, acc: i32) -> i32;

    /// The inner loop of the blocked matrix product (`ops::matmul`) for two int8 left-hand
    /// rows `x` and two filter rows `f` over `quads` quads: `acc` (x0f0, x0f1, x1f0, x1f1) plus
    /// the four dot products. This default is the algorithm in the instructions above; the DSP
    /// implementation is the same instruction sequence in assembly, with its registers chosen
    /// by hand (the compiler spilled accumulators to the stack in this loop).
    ///
    /// # Safety
    /// Each pointer must be valid for reads of `4 * quads` bytes.
    #[inline(always)]
    unsafe fn quads_2x2_s8(
        x: [*const i8; 2],
        f: [*const i8; 2],
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let [mut a00, mut a01, mut a10, mut a11] = acc;
        let word = |p: *const i8, k: usize| {
            // SAFETY: k < quads, and the caller guarantees 4 * quads readable bytes.
            u32::from_le_bytes(unsafe { p.add(4 * k).cast::<[u8; 4]>().read_unaligned() })
        };
        for k in 0..quads {
            let (f0, f1) = (word(f[0], k), word(f[1], k));
            let (a02, a13) = (Self::sxtb16(f0), Self::sxtb16_ror8(f0));
            let (b02, b13) = (Self::sxtb16(f1), Self::sxtb16_ror8(f1));
            let x0 = word(x[0], k);
            let (x02, x13) = (Self::sxtb16(x0), Self::sxtb16_ror8(x0));
            a00 = Self::smlad(a13, x13, Self::smlad(a02, x02, a00));
            a01 = Self::smlad(b13, x13, Self::smlad(b02, x02, a01));
            let x1 = word(x[1], k);
            let (x02, x13) = (Self::sxtb16(x1), Self::sxtb16_ror8(x1));
            a10 = Self::smlad(a13, x13, Self::smlad(a02, x02, a10));
            a11 = Self::smlad(b13, x13, Self::smlad(b02, x02, a11));
        }
        [a00, a01, a10, a11]
    }

    /// DEPTHWISE_CONV_2D with depth multiplier 1, four channels of one output pixel over its
    /// taps: `taps` holds each in-image tap's (input, filter) byte offsets from `x` and `f`
    /// (already at the four channels); `acc` plus, per channel, Σ f * (x + offset). `offset_pair`
    /// is the input offset in both halfwords. Default: the algorithm in the instructions above.
    ///
    /// # Safety
    /// `x + taps[t][0]` and `f + taps[t][1]` must be valid for reads of 4 bytes for every tap.
    #[inline(always)]
    unsafe fn depthwise_quad(
        taps: &[[u32; 2]],
        x: *const i8,
        f: *const i8,
        offset_pair: u32,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        for &[i, j] in taps {
            // SAFETY: the caller's guarantee.
            let (xw, fw) = unsafe {
                (
                    u32::from_le_bytes(x.add(i as usize).cast::<[u8; 4]>().read_unaligned()),
                    u32::from_le_bytes(f.add(j as usize).cast::<[u8; 4]>().read_unaligned()),
                )
            };
            let x02 = Self::sadd16(Self::sxtb16(xw), offset_pair);
            let x13 = Self::sadd16(Self::sxtb16_ror8(xw), offset_pair);
            let (f02, f13) = (Self::sxtb16(fw), Self::sxtb16_ror8(fw));
            a0 = Self::smlabb(x02, f02, a0);
            a1 = Self::smlabb(x13, f13, a1);
            a2 = Self::smlatt(x02, f02, a2);
            a3 = Self::smlatt(x13, f13, a3);
        }
        [a0, a1, a2, a3]
    }

    /// [`Simd::depthwise_quad`] without the input offset (`acc` plus Σ f * x): for windows
    /// whose taps are all in the image, where the offset's part is folded into the bias.
    /// Default: `depthwise_quad` with a zero offset.
    ///
    /// # Safety
    /// As [`Simd::depthwise_quad`].
    #[inline(always)]
    unsafe fn depthwise_quad_raw(
        taps: &[[u32; 2]],
        x: *const i8,
        f: *const i8,
        acc: [i32; 4],
    ) -> [i32; 4] {
        // SAFETY: the caller's guarantee.
        unsafe { Self::depthwise_quad(taps, x, f, 0, acc) }
    }

    /// [`Simd::depthwise_quad_raw`] over a 3 x 3 window with every tap in the image and no
    /// dilation across: input words at `x + r row + k c` (row `r`, column `k`), the filter's
    /// nine words of the four channels contiguous at `f` (tap after tap). `taps` lists the
    /// same offsets (input `r row + k c`, filter `4 (3 r + k)`), for the implementations that
    /// loop over them; this default does.
    ///
    /// # Safety
    /// As [`Simd::depthwise_quad`], and `f` valid for reads of 36 bytes.
    #[inline(always)]
    unsafe fn depthwise_3x3_raw(
        taps: &[[u32; 2]],
        x: *const i8,
        _c: usize,
        _row: usize,
        f: *const i8,
        acc: [i32; 4],
    ) -> [i32; 4] {
        // SAFETY: the caller's guarantee.
        unsafe { Self::depthwise_quad_raw(taps, x, f, acc) }
    }

    /// The whole run of 2 x 2 blocks of one channel pair with [`NarrowRequant`]: for each of
    /// `s.pairs` pixel pairs, [`Simd::quads_2x2_s8`] over `s.quads` quads, the offsets and
    /// requantization of `s.k` ([`Requantizer::apply_2x2`]), the clamp of `s.clamp`
    /// ([`Clamp::four`]), the pair's two outputs stored, then every pointer advanced
    /// ([`rows_2x2_portable`]). `false` (and nothing done) where there is no such loop: the
    /// caller runs the blocks one by one. On the M4 one assembly loop, its state in `s`.
    ///
    /// # Safety
    /// `s` as [`Rows2x2`] describes it: every row and output it reaches valid, `pairs > 0`,
    /// `quads > 0`.
    #[inline(always)]
    unsafe fn rows_2x2_narrow(_s: &mut Rows2x2) -> bool {
        false
    }

    /// Whether [`Simd::rows_2x2_narrow`] runs [`Rows2x2::wide`] (known at compile time: the
    /// callers widen filter rows only for it).
    const WIDE_ROWS: bool = false;

    /// Groups of four filter rows against one left-hand row with [`NarrowRequant`]
    /// (FULLY_CONNECTED with one batch, per-channel constants): for each of `s.groups` groups,
    /// [`Simd::quads_1x4_s8`], each output's offset and requantization, the clamp, the four
    /// outputs stored, every pointer advanced ([`rows_1x4_portable`]). `false` (nothing done)
    /// where there is no such loop. On the M4 one assembly loop, its state in `s`.
    ///
    /// # Safety
    /// `s` as [`Rows1x4`] describes it: the row, `4 * s.groups` filter rows, constants and
    /// outputs valid, `groups > 0`, `quads > 0`, every shift within [`NarrowRequant`]'s bounds.
    #[inline(always)]
    unsafe fn rows_1x4_narrow(_s: &mut Rows1x4) -> bool {
        false
    }

    /// A row of 3 x 3 depthwise windows (depth multiplier 1, no dilation across) over one quad
    /// of channels with [`NarrowRequant`]: for each of `s.pixels` pixels,
    /// [`Simd::depthwise_3x3_raw`] from `s.init`, the four requantizations of `s.k`, the clamp
    /// of `s.clamp`, the four outputs stored, the window and output pointers advanced
    /// ([`depthwise_row_portable`]). `false` (nothing done) where there is no such loop: the
    /// caller runs the pixels one by one. On the M4 one assembly loop, its state in `s`.
    ///
    /// # Safety
    /// `s` as [`DwRow`] describes it: every window's nine words, the quad's nine filter words,
    /// the four constants and every output valid, `pixels > 0`, every shift within
    /// [`NarrowRequant`]'s bounds.
    #[inline(always)]
    unsafe fn depthwise_row_3x3_narrow(_s: &mut DwRow) -> bool {
        false
    }

    /// One int8 left-hand row `x` and four filter rows, at `f + r * stride` for `r` in 0..4,
    /// over `quads` quads (a FULLY_CONNECTED with one batch): `acc` plus the four dot products.
    /// Default: the algorithm in the instructions above.
    ///
    /// # Safety
    /// `x` and each row must be valid for reads of `4 * quads` bytes.
    #[inline(always)]
    unsafe fn quads_1x4_s8(
        x: *const i8,
        f: *const i8,
        stride: usize,
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let mut acc = acc;
        let word = |p: *const i8, k: usize| {
            // SAFETY: k < quads, and the caller guarantees 4 * quads readable bytes.
            u32::from_le_bytes(unsafe { p.add(4 * k).cast::<[u8; 4]>().read_unaligned() })
        };
        for k in 0..quads {
            let xw = word(x, k);
            let (x02, x13) = (Self::sxtb16(xw), Self::sxtb16_ror8(xw));
            for (r, a) in acc.iter_mut().enumerate() {
                // SAFETY: row r starts r * stride bytes on (the caller's guarantee).
                let fw = word(unsafe { f.add(r * stride) }, k);
                *a = Self::smlad(
                    Self::sxtb16_ror8(fw),
                    x13,
                    Self::smlad(Self::sxtb16(fw), x02, *a),
                );
            }
        }
        acc
    }
}

/// The state of [`Simd::rows_2x2_narrow`], in the order its assembly loads it (`repr(C)`,
/// byte offsets in the comments).
#[repr(C)]
pub struct Rows2x2 {
    /// 0, 4: the current pixel pair's left-hand rows (`quads` quads each).
    pub x: [*const i8; 2],
    /// 8, 12: the two filter rows (`quads` quads each).
    pub f: [*const i8; 2],
    /// 16: bytes from one pixel pair's rows to the next's.
    pub x_step: usize,
    /// 20: quads of a row, at least 1.
    pub quads: usize,
    /// 24: the pair's first output (pixel 0, channel 0); pixel 1's is `channels` bytes on.
    pub out: *mut i8,
    /// 28: output bytes per pixel.
    pub channels: usize,
    /// 32: the two channels' offsets and requantizations.
    pub k: *const WithOffset<NarrowRequant>,
    /// 36, 40: [`Clamp::words`].
    pub clamp: [u32; 2],
    /// 44: pixel pairs left, at least 1.
    pub pairs: usize,
    /// 48: values of a row after its quads (`depth % 4`), one multiply-accumulate each.
    pub tail: usize,
    /// 52: null, or the two filter rows widened ([`widen_pair`]; then `tail` is 0): per quad
    /// four words, row 0's values (0, 2) and (1, 3) as int16 pairs, then row 1's, read by one
    /// LDM where the int8 rows take two loads and four SXTB16.
    pub wide: *const u32,
}

/// Filter rows `f0` and `f1` (`quads` quads each) widened for [`Rows2x2::wide`]: per quad
/// `[SXTB16(f0), SXTB16(f0 ROR 8), SXTB16(f1), SXTB16(f1 ROR 8)]` of its words.
#[inline(always)]
pub fn widen_pair<S: Simd>(f0: &[i8], f1: &[i8], quads: usize, wide: &mut [u32]) {
    // Every read and write below lies inside the slices.
    assert!(f0.len() >= 4 * quads && f1.len() >= 4 * quads && wide.len() >= 4 * quads);
    let (f0, f1, w) = (f0.as_ptr(), f1.as_ptr(), wide.as_mut_ptr());
    for k in 0..quads {
        // SAFETY: k < quads, the assert above.
        unsafe {
            let a = u32::from_le_bytes(f0.add(4 * k).cast::<[u8; 4]>().read_unaligned());
            let b = u32::from_le_bytes(f1.add(4 * k).cast::<[u8; 4]>().read_unaligned());
            w.add(4 * k).cast::<[u32; 4]>().write([
                S::sxtb16(a),
                S::sxtb16_ror8(a),
                S::sxtb16(b),
                S::sxtb16_ror8(b),
            ]);
        }
    }
}

/// [`Simd::rows_2x2_narrow`] in portable form: what the assembly does, step by step.
///
/// # Safety
/// As [`Simd::rows_2x2_narrow`].
#[inline(always)]
pub unsafe fn rows_2x2_portable<S: Simd>(s: &mut Rows2x2) {
    let clamp = Clamp::from_words(s.clamp);
    // SAFETY: the caller's guarantee for `k`.
    let k = unsafe { &*s.k.cast::<[WithOffset<NarrowRequant>; 2]>() };
    while s.pairs > 0 {
        // SAFETY: the caller's guarantee for the rows and the outputs.
        unsafe {
            let mut acc = if s.wide.is_null() {
                S::quads_2x2_s8(s.x, s.f, s.quads, [0; 4])
            } else {
                wide_quads_2x2::<S>(s.x, s.wide, s.quads)
            };
            for i in 4 * s.quads..4 * s.quads + s.tail {
                let (x0, x1) = (*s.x[0].add(i) as i32, *s.x[1].add(i) as i32);
                let (f0, f1) = (*s.f[0].add(i) as i32, *s.f[1].add(i) as i32);
                acc[0] = acc[0].wrapping_add(x0 * f0);
                acc[1] = acc[1].wrapping_add(x0 * f1);
                acc[2] = acc[2].wrapping_add(x1 * f0);
                acc[3] = acc[3].wrapping_add(x1 * f1);
            }
            let [a, b, c, d] = clamp.four(NarrowRequant::apply_2x2(k, acc));
            s.out.cast::<[i8; 2]>().write_unaligned([a, b]);
            s.out
                .add(s.channels)
                .cast::<[i8; 2]>()
                .write_unaligned([c, d]);
            s.out = s.out.add(2 * s.channels);
            s.x = s.x.map(|x| x.add(s.x_step));
        }
        s.pairs -= 1;
    }
}

/// [`Rows2x2::wide`]'s quads: per quad the two rows' words split by SXTB16 and two SMLADs
/// against each filter row's pair of words.
///
/// # Safety
/// `x` valid for `4 * quads` bytes each, `wide` for `4 * quads` words.
#[inline(always)]
unsafe fn wide_quads_2x2<S: Simd>(x: [*const i8; 2], wide: *const u32, quads: usize) -> [i32; 4] {
    let mut acc = [0i32; 4];
    for k in 0..quads {
        // SAFETY: k < quads, the caller's guarantee.
        let (w, xw) = unsafe {
            (
                wide.add(4 * k).cast::<[u32; 4]>().read_unaligned(),
                x.map(|x| u32::from_le_bytes(x.add(4 * k).cast::<[u8; 4]>().read_unaligned())),
            )
        };
        for (p, &xw) in xw.iter().enumerate() {
            let (x02, x13) = (S::sxtb16(xw), S::sxtb16_ror8(xw));
            for c in 0..2 {
                let a = &mut acc[2 * p + c];
                *a = S::smlad(w[2 * c + 1], x13, S::smlad(w[2 * c], x02, *a));
            }
        }
    }
    acc
}

/// The state of [`Simd::rows_1x4_narrow`], in the order its assembly loads it (`repr(C)`,
/// byte offsets in the comments).
#[repr(C)]
pub struct Rows1x4 {
    /// 0: the left-hand row (`4 * quads` int8 values).
    pub x: *const i8,
    /// 4: the group's first filter row; rows 1 to 3 follow at `stride` bytes each.
    pub f: *const i8,
    /// 8, 12: bytes from one filter row to the next, and three times that.
    pub stride: usize,
    pub stride3: usize,
    /// 16: the end of the row's quads (`x + 4 * quads`).
    pub x_end: *const i8,
    /// 20: quads of a row, at least 1.
    pub quads: usize,
    /// 24: the group's first output.
    pub out: *mut i8,
    /// 28, 32, 36: the group's first offset, multiplier and shift (one per channel).
    pub offsets: *const i32,
    pub mult: *const i32,
    pub shift: *const i32,
    /// 40: `2 * output offset + 1` (the rounding term is this times `2^r`).
    pub half_offset: i32,
    /// 44, 48: [`Clamp::words`].
    pub clamp: [u32; 2],
    /// 52: groups left, at least 1.
    pub groups: usize,
}

/// [`Simd::rows_1x4_narrow`] in portable form: what the assembly does, step by step.
///
/// # Safety
/// As [`Simd::rows_1x4_narrow`].
#[inline(always)]
pub unsafe fn rows_1x4_portable<S: Simd>(s: &mut Rows1x4) {
    let clamp = Clamp::from_words(s.clamp);
    let output_offset = (s.half_offset - 1) / 2;
    while s.groups > 0 {
        // SAFETY: the caller's guarantee for the rows, constants and outputs.
        unsafe {
            let acc = S::quads_1x4_s8(s.x, s.f, s.stride, s.quads, [0; 4]);
            let q: [i32; 4] = core::array::from_fn(|i| {
                let r = NarrowRequant::new(*s.mult.add(i), *s.shift.add(i), output_offset);
                r.apply(acc[i].wrapping_add(*s.offsets.add(i)))
            });
            s.out.cast::<[i8; 4]>().write_unaligned(clamp.four(q));
            s.out = s.out.add(4);
            s.f = s.f.add(4 * s.stride);
            s.offsets = s.offsets.add(4);
            s.mult = s.mult.add(4);
            s.shift = s.shift.add(4);
        }
        s.groups -= 1;
    }
}

/// The state of [`Simd::depthwise_row_3x3_narrow`], in the order its assembly loads it
/// (`repr(C)`, byte offsets in the comments). The assembly leaves `x`, `out` and `pixels`
/// as they were; the portable loop advances them.
#[repr(C)]
pub struct DwRow {
    /// 0: the quad's nine filter words, tap after tap (row-major).
    pub f: *const i8,
    /// 4, 8: bytes from one column of the input to the next, and from one tap row to the next.
    pub c: usize,
    pub row: usize,
    /// 12: the accumulators' start (bias, input offset folded in).
    pub init: [i32; 4],
    /// 28: the quad's four requantizations.
    pub k: *const NarrowRequant,
    /// 32, 36: [`Clamp::words`].
    pub clamp: [u32; 2],
    /// 40: bytes from one pixel's window to the next's.
    pub step: usize,
    /// 44: bytes from one pixel's outputs to the next's.
    pub out_step: usize,
    /// 48: pixels left, at least 1.
    pub pixels: usize,
    /// 52: the current pixel's window: its top-left tap's first channel of the quad.
    pub x: *const i8,
    /// 56: the current pixel's first output of the quad.
    pub out: *mut i8,
}

/// [`Simd::depthwise_row_3x3_narrow`] in portable form: what the assembly does, step by step.
///
/// # Safety
/// As [`Simd::depthwise_row_3x3_narrow`].
#[inline(always)]
pub unsafe fn depthwise_row_portable<S: Simd>(s: &mut DwRow) {
    let clamp = Clamp::from_words(s.clamp);
    // SAFETY: the caller's guarantee for `k`.
    let k = unsafe { &*s.k.cast::<[NarrowRequant; 4]>() };
    let taps: [[u32; 2]; 9] =
        core::array::from_fn(|t| [(t / 3 * s.row + t % 3 * s.c) as u32, 4 * t as u32]);
    while s.pixels > 0 {
        // SAFETY: the caller's guarantee for the windows, the filter and the outputs.
        unsafe {
            let sums = S::depthwise_3x3_raw(&taps, s.x, s.c, s.row, s.f, s.init);
            let y = clamp.four(NarrowRequant::apply4(k, sums));
            s.out.cast::<[i8; 4]>().write_unaligned(y);
            s.out = s.out.add(s.out_step);
            s.x = s.x.add(s.step);
        }
        s.pixels -= 1;
    }
}

/// The instructions computed in portable Rust: the host's model of the M4's.
pub struct Emulated;

impl Simd for Emulated {
    /// The portable loop, so that the host tests check the state the callers build.
    #[inline(always)]
    unsafe fn rows_2x2_narrow(s: &mut Rows2x2) -> bool {
        // SAFETY: the caller's guarantee.
        unsafe { rows_2x2_portable::<Self>(s) };
        true
    }
    const WIDE_ROWS: bool = true;

    #[inline(always)]
    unsafe fn rows_1x4_narrow(s: &mut Rows1x4) -> bool {
        // SAFETY: the caller's guarantee.
        unsafe { rows_1x4_portable::<Self>(s) };
        true
    }

    #[inline(always)]
    unsafe fn depthwise_row_3x3_narrow(s: &mut DwRow) -> bool {
        // SAFETY: the caller's guarantee.
        unsafe { depthwise_row_portable::<Self>(s) };
        true
    }

    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        let lo = (x as u8 as i8 as i16) as u16 as u32;
        let hi = ((x >> 16) as u8 as i8 as i16) as u16 as u32;
        lo | hi << 16
    }
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        Self::sxtb16(x.rotate_right(8))
    }
    #[inline(always)]
    fn sadd16(a: u32, b: u32) -> u32 {
        let lo = (a as u16).wrapping_add(b as u16) as u32;
        let hi = ((a >> 16) as u16).wrapping_add((b >> 16) as u16) as u32;
        lo | hi << 16
    }
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let p0 = (a as u16 as i16 as i32) * (b as u16 as i16 as i32);
        let p1 = ((a >> 16) as u16 as i16 as i32) * ((b >> 16) as u16 as i16 as i32);
        acc.wrapping_add(p0).wrapping_add(p1)
    }
    #[inline(always)]
    fn pkhbt(a: u32, b: u32) -> u32 {
        (a & 0xFFFF) | (b << 16)
    }
    #[inline(always)]
    fn pkhtb(a: u32, b: u32) -> u32 {
        (a & 0xFFFF_0000) | (b >> 16)
    }
    #[inline(always)]
    fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        acc.wrapping_add((a as u16 as i16 as i32) * (b as u16 as i16 as i32))
    }
    #[inline(always)]
    fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        acc.wrapping_add(((a >> 16) as u16 as i16 as i32) * ((b >> 16) as u16 as i16 as i32))
    }

    /// The addressing of the DSP version (from `c` and `row`, not the list), so that the host
    /// tests check it.
    #[inline(always)]
    unsafe fn depthwise_3x3_raw(
        _taps: &[[u32; 2]],
        x: *const i8,
        c: usize,
        row: usize,
        f: *const i8,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let taps: [[u32; 2]; 9] =
            core::array::from_fn(|t| [(t / 3 * row + t % 3 * c) as u32, 4 * t as u32]);
        // SAFETY: the caller's guarantee, for the same nine taps.
        unsafe { Self::depthwise_quad_raw(&taps, x, f, acc) }
    }
}

/// What cores without the DSP extension run (the Cortex-M0+, the host): [`Emulated`]'s
/// instructions, but the blocked product's inner loops as plain multiply-accumulates, one
/// MULS a MAC, as packing pairs into words only to unpack them again costs more than it saves
/// there (13 cycles a MAC on the M0+ against about 5).
pub struct Scalar;

impl Simd for Scalar {
    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        Emulated::sxtb16(x)
    }
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        Emulated::sxtb16_ror8(x)
    }
    #[inline(always)]
    fn sadd16(a: u32, b: u32) -> u32 {
        Emulated::sadd16(a, b)
    }
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        Emulated::smlad(a, b, acc)
    }
    #[inline(always)]
    fn pkhbt(a: u32, b: u32) -> u32 {
        Emulated::pkhbt(a, b)
    }
    #[inline(always)]
    fn pkhtb(a: u32, b: u32) -> u32 {
        Emulated::pkhtb(a, b)
    }
    #[inline(always)]
    fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        Emulated::smlabb(a, b, acc)
    }
    #[inline(always)]
    fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        Emulated::smlatt(a, b, acc)
    }
    /// Byte by byte: LDRSB, ADD, MULS, ADD per MAC, the four accumulators in registers.
    #[inline(always)]
    unsafe fn depthwise_quad(
        taps: &[[u32; 2]],
        x: *const i8,
        f: *const i8,
        offset_pair: u32,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let offset = offset_pair as u16 as i16 as i32;
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        for &[i, j] in taps {
            // SAFETY: the caller's guarantee: 4 bytes at each tap's offsets.
            let (xs, fs) = unsafe {
                (
                    x.add(i as usize).cast::<[i8; 4]>().read_unaligned(),
                    f.add(j as usize).cast::<[i8; 4]>().read_unaligned(),
                )
            };
            a0 = a0.wrapping_add(fs[0] as i32 * (xs[0] as i32 + offset));
            a1 = a1.wrapping_add(fs[1] as i32 * (xs[1] as i32 + offset));
            a2 = a2.wrapping_add(fs[2] as i32 * (xs[2] as i32 + offset));
            a3 = a3.wrapping_add(fs[3] as i32 * (xs[3] as i32 + offset));
        }
        [a0, a1, a2, a3]
    }
    /// On the Cortex-M0+ (Armv6-M), assembly: the compiler kept the accumulators on the stack
    /// (eight low registers). Here they live in high registers (ADD reaches them), the four
    /// rows and the index in low registers (LDRSB takes only a register offset), MULS
    /// overwriting one factor: 4 LDRSB, 3 MOV, 4 MULS, 4 ADD and the loop, about 23 cycles
    /// for 4 MACs, against about 40.
    #[cfg(all(target_arch = "arm", not(feature = "dsp")))]
    #[inline(always)]
    unsafe fn quads_2x2_s8(
        x: [*const i8; 2],
        f: [*const i8; 2],
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        if quads == 0 {
            return acc;
        }
        let (s00, s01, s10, s11): (i32, i32, i32, i32);
        // SAFETY: reads 4 * quads bytes behind every pointer (the caller's guarantee); r6, r7
        // and the stack are restored before the block ends. High registers can only be
        // clobbers in Thumb-1 inline assembly: the sums leave through r0-r3.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                "lsls r4, r4, #2",
                "mov r12, r4",
                "movs r4, #0",
                "mov r8, r4",
                "mov r9, r4",
                "mov r10, r4",
                "mov r11, r4",
                "2:",
                "ldrsb r5, [r0, r4]",
                "ldrsb r6, [r2, r4]",
                "ldrsb r7, [r3, r4]",
                "mov lr, r6",
                "muls r6, r5, r6",
                "add r8, r6",
                "mov r6, r7",
                "muls r6, r5, r6",
                "add r9, r6",
                "ldrsb r5, [r1, r4]",
                "mov r6, lr",
                "muls r6, r5, r6",
                "add r10, r6",
                "muls r7, r5, r7",
                "add r11, r7",
                "adds r4, #1",
                "cmp r4, r12",
                "blt 2b",
                "pop {{r6, r7}}",
                "mov r0, r8",
                "mov r1, r9",
                "mov r2, r10",
                "mov r3, r11",
                inout("r0") x[0] => s00,
                inout("r1") x[1] => s01,
                inout("r2") f[0] => s10,
                inout("r3") f[1] => s11,
                inout("r4") quads => _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
                options(readonly)
            );
        }
        [
            acc[0].wrapping_add(s00),
            acc[1].wrapping_add(s01),
            acc[2].wrapping_add(s10),
            acc[3].wrapping_add(s11),
        ]
    }

    #[cfg(not(all(target_arch = "arm", not(feature = "dsp"))))]
    #[inline(always)]
    unsafe fn quads_2x2_s8(
        x: [*const i8; 2],
        f: [*const i8; 2],
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        // SAFETY: the caller guarantees 4 * quads readable bytes behind every pointer.
        let (x0, x1, f0, f1) = unsafe {
            (
                core::slice::from_raw_parts(x[0], 4 * quads),
                core::slice::from_raw_parts(x[1], 4 * quads),
                core::slice::from_raw_parts(f[0], 4 * quads),
                core::slice::from_raw_parts(f[1], 4 * quads),
            )
        };
        let [mut a00, mut a01, mut a10, mut a11] = acc;
        for (((&x0, &x1), &f0), &f1) in x0.iter().zip(x1).zip(f0).zip(f1) {
            let (x0, x1, f0, f1) = (x0 as i32, x1 as i32, f0 as i32, f1 as i32);
            a00 = a00.wrapping_add(x0 * f0);
            a01 = a01.wrapping_add(x0 * f1);
            a10 = a10.wrapping_add(x1 * f0);
            a11 = a11.wrapping_add(x1 * f1);
        }
        [a00, a01, a10, a11]
    }
}

/// The instructions themselves (Armv7E-M DSP extension).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
pub struct Dsp;

/// One quad of the 2 x 2 block in DSP assembly: the two filter rows' words (r2, r3) unpacked by
/// SXTB16 into r10, r6 and r11, r7, then each left-hand row's word (r0, r1) unpacked and fed to
/// four SMLADs (accumulators r4, r5 for row 0, r8, r9 for row 1). Its loop runs it twice a pass.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! quad_2x2 {
    () => {
        concat!(
            "ldr r6, [r2], #4\n",
            "ldr r7, [r3], #4\n",
            "sxtb16 r10, r6\n",
            "sxtb16 r6, r6, ror #8\n",
            "sxtb16 r11, r7\n",
            "sxtb16 r7, r7, ror #8\n",
            "ldr r12, [r0], #4\n",
            "sxtb16 lr, r12\n",
            "sxtb16 r12, r12, ror #8\n",
            "smlad r4, r10, lr, r4\n",
            "smlad r5, r11, lr, r5\n",
            "smlad r4, r6, r12, r4\n",
            "smlad r5, r7, r12, r5\n",
            "ldr r12, [r1], #4\n",
            "sxtb16 lr, r12\n",
            "sxtb16 r12, r12, ror #8\n",
            "smlad r8, r10, lr, r8\n",
            "smlad r9, r11, lr, r9\n",
            "smlad r8, r6, r12, r8\n",
            "smlad r9, r7, r12, r9\n",
        )
    };
}

/// The assembly of [`Dsp::rows_2x2_narrow`], with `$tail` (a template string: empty, or
/// [`rows_2x2_tail!`]) between the quads and the requantization, so that rows without a tail
/// pay nothing for it. The filter's form is in `$ends` (r2 from `s` and the quads in r10: the
/// end of the filter's quads), `$start` (a pair's filter pointers) and `$quads` (the quads'
/// loop, closed): [`int8_ends!`] and its pair, or [`wide_ends!`] and its pair. `$clamp` is
/// [`clamp_2x2!`], or empty where the clamp is the whole int8 range (SSAT's own).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! rows_2x2_asm {
    ($s:expr, $tail:expr, $ends:expr, $frame:expr, $start:expr, $quads:expr, $clamp:expr) => {
        core::arch::asm!(
            "push {{r6, r7}}",
            "sub sp, #56",
            // A frame of 56 bytes, filled once: `s` (0), the end of the filter's quads (4), the
            // step from one pair's rows (at their ends) to the next pair's (8), the end of the
            // outputs (12), what a pair's start loads at once (16 to 36: `$frame`), channel
            // 0's requantization (36; channel 1's 20 bytes on), the clamp words (40), the
            // current output and the channels (48).
            "mov lr, r0",
            "str lr, [sp]",
            "ldr r10, [lr, #20]",
            $ends,
            "str r2, [sp, #4]",
            "ldr r3, [lr, #48]",
            "add r3, r3, r10, lsl #2",
            "ldr r2, [lr, #16]",
            "sub r2, r2, r3",
            "str r2, [sp, #8]",
            "ldrd r2, r3, [lr, #24]",
            "strd r2, r3, [sp, #48]",
            "ldr r1, [lr, #44]",
            "mul r1, r1, r3",
            "add r2, r2, r1, lsl #1",
            "str r2, [sp, #12]",
            "ldrd r2, r3, [lr, #36]",
            "strd r2, r3, [sp, #40]",
            "ldr r12, [lr, #32]",
            "ldr r4, [r12]",
            "ldr r5, [r12, #20]",
            "add r12, r12, #4",
            "str r12, [sp, #36]",
            $frame,
            // The rows stay in r0 and r1 from pair to pair.
            "ldrd r0, r1, [lr]",
            // A pixel pair: filter pointer(s), the accumulators from the channels' offsets, the
            // entry into the quads.
            "1:",
            "add r12, sp, #16",
            $start,
            "mov r8, r4",
            "mov r9, r5",
            "ands r12, r10, #3",
            $quads,
            $tail,
            // Channel 0 (pixels 0, 1 in r4, r8), then channel 1 (r5, r9): mult, left, add,
            // right by one LDM each.
            "ldr r12, [sp, #36]",
            "ldm r12!, {{r3, r6, r7, r10}}",
            narrow_requant!("r4", "r3", "r6", "r7", "r10", "r2"),
            narrow_requant!("r8", "r3", "r6", "r7", "r10", "r2"),
            "add r12, r12, #4",
            "ldm r12, {{r3, r6, r7, r10}}",
            narrow_requant!("r5", "r3", "r6", "r7", "r10", "r2"),
            narrow_requant!("r9", "r3", "r6", "r7", "r10", "r2"),
            // Saturated to int8, packed (pixel 0's two channels, then pixel 1's), clamped.
            "ssat r4, #8, r4",
            "ssat r5, #8, r5",
            "ssat r8, #8, r8",
            "ssat r9, #8, r9",
            "bfi r4, r5, #8, #8",
            "bfi r4, r8, #16, #8",
            "bfi r4, r9, #24, #8",
            $clamp,
            // Stored; the output and the rows move on a pair.
            "ldrd r2, r3, [sp, #48]",
            "strh r4, [r2]",
            "lsrs r4, r4, #16",
            "strh r4, [r2, r3]",
            "add r2, r2, r3, lsl #1",
            "str r2, [sp, #48]",
            "ldrd r3, r4, [sp, #8]",
            "add r0, r0, r3",
            "add r1, r1, r3",
            "cmp r2, r4",
            "bne 1b",
            "add sp, #56",
            "pop {{r6, r7}}",
            inout("r0") $s as *mut Rows2x2 => _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
        )
    };
}

/// The rows' last `tail` values (`Rows2x2::tail`, at least 1), byte by byte: LDRSB and SMLABB.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! rows_2x2_tail {
    () => {
        concat!(
            "ldr lr, [sp]\n",
            "ldr r10, [lr, #48]\n",
            "6:\n",
            "ldrsb r6, [r2], #1\n",
            "ldrsb r7, [r3], #1\n",
            "ldrsb r11, [r0], #1\n",
            "ldrsb r12, [r1], #1\n",
            "smlabb r4, r11, r6, r4\n",
            "smlabb r5, r11, r7, r5\n",
            "smlabb r8, r12, r6, r8\n",
            "smlabb r9, r12, r7, r9\n",
            "subs r10, r10, #1\n",
            "bne 6b\n",
        )
    };
}

/// The assembly of [`Dsp::rows_1x4_narrow`], with `$clamp` ([`clamp_1x4!`], or empty where
/// the clamp is the whole int8 range, SSAT's own).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! rows_1x4_asm {
    ($s:expr, $clamp:expr) => {
        core::arch::asm!(
            "push {{r6, r12}}",
            "6:",
            "ldr lr, [sp, #4]",
            "ldm lr, {{r0, r1, r2, r3, r4}}",
            "ldr r11, [lr, #20]",
            "movs r5, #0",
            "mov r8, #0",
            "mov r9, #0",
            "mov r10, #0",
            "lsls r11, r11, #31",
            "bcc 1f",
            "bmi 3f",
            "b 4f",
            "1:",
            "bmi 5f",
            "2:",
            quad_1x4!(),
            "3:",
            quad_1x4!(),
            "4:",
            quad_1x4!(),
            "5:",
            quad_1x4!(),
            "cmp r0, r4",
            "bne 2b",
            // Row 0 is `stride` on: the next group starts three strides further.
            "ldr lr, [sp, #4]",
            "add r1, r1, r3",
            "str r1, [lr, #4]",
            "add r0, lr, #28",
            "ldm r0, {{r0, r2, r3, r4}}",
            requant_1x4!("r5", "0"),
            requant_1x4!("r8", "4"),
            requant_1x4!("r9", "8"),
            requant_1x4!("r10", "12"),
            "ssat r5, #8, r5",
            "ssat r8, #8, r8",
            "ssat r9, #8, r9",
            "ssat r10, #8, r10",
            "bfi r5, r8, #8, #8",
            "bfi r5, r9, #16, #8",
            "bfi r5, r10, #24, #8",
            $clamp,
            "ldr r6, [lr, #24]",
            "str r5, [r6], #4",
            "str r6, [lr, #24]",
            "adds r0, #16",
            "adds r2, #16",
            "adds r3, #16",
            "add r12, lr, #28",
            "stm r12, {{r0, r2, r3}}",
            "ldr r6, [lr, #52]",
            "subs r6, #1",
            "str r6, [lr, #52]",
            "bne 6b",
            "pop {{r6, r12}}",
            in("r12") core::ptr::from_mut($s),
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("lr") _,
        )
    };
}

/// [`Clamp::four`] in [`rows_1x4_asm!`]: the words at `s + 44`, the packed outputs in r5.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! clamp_1x4 {
    () => {
        "ldrd r6, r11, [lr, #44]\nssub8 r12, r5, r6\nsel r5, r5, r6\nssub8 r12, r5, r11\nsel r5, r11, r5"
    };
}

/// The assembly of [`Dsp::depthwise_row_3x3_narrow`], with `$clamp` ([`clamp_row!`], or
/// empty where the clamp is the whole int8 range, SSAT's own).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! depthwise_row_asm {
    ($s:expr, $clamp:expr) => {
        core::arch::asm!(
            // A frame of 40 bytes: the accumulators' start (0), the constants' pointer (16),
            // the window and output steps (20, 24), the end of the outputs (28), the clamp
            // words (32).
            "push {{r6, r7, r12}}",
            "sub sp, #40",
            "mov lr, r12",
            "add r0, lr, #12",
            "ldm r0, {{r1, r2, r3, r5, r6}}",
            "stm sp, {{r1, r2, r3, r5, r6}}",
            "ldrd r0, r1, [lr, #40]",
            "strd r0, r1, [sp, #20]",
            "ldrd r2, r3, [lr, #32]",
            "strd r2, r3, [sp, #32]",
            "ldrd r4, r7, [lr, #52]",
            "ldr r0, [lr, #48]",
            "mla r0, r0, r1, r7",
            "str r0, [sp, #28]",
            // The filter pointer and the column and row steps stay in r1-r3.
            "ldm lr, {{r1, r2, r3}}",
            "6:",
            "ldm sp, {{r5, r8, r9, r10}}",
            "mov r0, r4",
            depthwise_3x3_row!(),
            "add r0, r0, r3",
            depthwise_3x3_row!(),
            "add r0, r0, r3",
            depthwise_3x3_row!(),
            "sub r1, r1, #36",
            "ldr r0, [sp, #16]",
            narrow_requant_quad!("r0", ["r5", "r8", "r9", "r10"], "r6", "r11", "r12", "lr"),
            "ssat r5, #8, r5",
            "ssat r8, #8, r8",
            "ssat r9, #8, r9",
            "ssat r10, #8, r10",
            "bfi r5, r8, #8, #8",
            "bfi r5, r9, #16, #8",
            "bfi r5, r10, #24, #8",
            $clamp,
            "ldrd r0, r6, [sp, #20]",
            "str r5, [r7]",
            "add r7, r7, r6",
            "add r4, r4, r0",
            "ldr r0, [sp, #28]",
            "cmp r7, r0",
            "bne 6b",
            "add sp, #40",
            "pop {{r6, r7, r12}}",
            in("r12") core::ptr::from_mut($s),
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            out("lr") _,
        )
    };
}

/// [`Clamp::four`] in [`depthwise_row_asm!`]: the words at `sp + 32`, the packed outputs in r5.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! clamp_row {
    () => {
        "ldrd r6, r11, [sp, #32]\nssub8 r12, r5, r6\nsel r5, r5, r6\nssub8 r12, r5, r11\nsel r5, r11, r5"
    };
}

/// [`Clamp::four`] in [`rows_2x2_asm!`]: the words at `sp + 40`, the packed outputs in r4.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! clamp_2x2 {
    () => {
        "ldrd r2, r3, [sp, #40]\nssub8 r6, r4, r2\nsel r4, r4, r2\nssub8 r6, r4, r3\nsel r4, r3, r4"
    };
}

/// [`rows_2x2_asm!`] over the int8 filter rows `s.f`: their end, the frame, a pair's start
/// (the two pointers in r2, r3), the quads' loop (its test against the end on the stack).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! int8_ends {
    () => {
        "ldr r2, [lr, #8]\nadd r2, r2, r10, lsl #2"
    };
}
/// The frame's words 16 to 36: the two filter rows, the two offsets (in r4, r5), the quads.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! int8_frame {
    () => {
        "ldrd r2, r3, [lr, #8]\nstrd r2, r3, [sp, #16]\nstrd r4, r5, [sp, #24]\nstr r10, [sp, #32]"
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! int8_start {
    () => {
        "ldm r12, {{r2, r3, r4, r5, r10}}"
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! int8_quads {
    () => {
        concat!(
            quads_2x2_unrolled!(),
            "\nldr r10, [sp, #4]\ncmp r2, r10\nbne 2b"
        )
    };
}

/// [`rows_2x2_asm!`] over the widened filter pair `s.wide` ([`Rows2x2::wide`]): its end, the
/// frame, a pair's start (the pointer in r2, the end in lr), the quads' loop.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! wide_ends {
    () => {
        "ldr r2, [lr, #52]\nadd r2, r2, r10, lsl #4"
    };
}
/// The frame's words 16 to 36: the widened rows, the two offsets (in r4, r5), the quads, the
/// rows' end (the frame's word 4).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! wide_frame {
    () => {
        "ldr r2, [sp, #4]\nstr r2, [sp, #32]\nldr r2, [lr, #52]\nstr r2, [sp, #16]\nstrd r4, r5, [sp, #20]\nstr r10, [sp, #28]"
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! wide_start {
    () => {
        "ldm r12, {{r2, r4, r5, r10, lr}}"
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! wide_quads {
    () => {
        concat!(
            "beq 2f\n",
            "cmp r12, #2\n",
            "blo 5f\n",
            "beq 4f\n",
            "b 3f\n",
            ".p2align 3\n",
            "2:\n",
            quad_2x2_wide!(),
            "3:\n",
            quad_2x2_wide!(),
            "4:\n",
            quad_2x2_wide!(),
            "5:\n",
            quad_2x2_wide!(),
            "cmp r2, lr\n",
            "bne 2b",
        )
    };
}

/// One quad of [`Rows2x2::wide`]'s loop: the pair's four filter words by one LDM, each row's
/// word split by SXTB16 into values (0, 2) and (1, 3), four SMLADs a row: 3 loads, 4 SXTB16,
/// 8 SMLAD per 16 MACs.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! quad_2x2_wide {
    () => {
        concat!(
            "ldm r2!, {{r3, r6, r7, r10}}\n",
            "ldr r12, [r0], #4\n",
            "sxtb16 r11, r12\n",
            "sxtb16 r12, r12, ror #8\n",
            "smlad r4, r3, r11, r4\n",
            "smlad r4, r6, r12, r4\n",
            "smlad r5, r7, r11, r5\n",
            "smlad r5, r10, r12, r5\n",
            "ldr r12, [r1], #4\n",
            "sxtb16 r11, r12\n",
            "sxtb16 r12, r12, ror #8\n",
            "smlad r8, r3, r11, r8\n",
            "smlad r8, r6, r12, r8\n",
            "smlad r9, r7, r11, r9\n",
            "smlad r9, r10, r12, r9\n",
        )
    };
}

/// The 2 x 2 loop's body, four quads ([`quad_2x2!`]) a pass, entered after `ands r12, <quads>,
/// #3` set the flags: a count of 4n + k (k > 0) enters at quad 4 - k. The caller closes the loop.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! quads_2x2_unrolled {
    () => {
        concat!(
            "beq 2f\n",
            "cmp r12, #2\n",
            "blo 5f\n",
            "beq 4f\n",
            "b 3f\n",
            ".p2align 3\n",
            "2:\n",
            quad_2x2!(),
            "3:\n",
            quad_2x2!(),
            "4:\n",
            quad_2x2!(),
            "5:\n",
            quad_2x2!(),
        )
    };
}

/// One output of [`Dsp::rows_1x4_narrow`]: accumulator `$a` plus the offset at `r0 + $at`,
/// then [`NarrowRequant`] with the multiplier at `r2 + $at` and the shift at `r3 + $at`, `r4`
/// holding `2 * output offset + 1`: left = max(shift, 0) + 1, r = max(-shift, 0),
/// `((2o + 1) << r + 2h + (h < 0 ? -1 : 0)) >> (r + 1)` with `h = SMMULR(acc << left, mult)`.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! requant_1x4 {
    ($a:literal, $at:literal) => {
        concat!(
            "ldr r6, [r0, #",
            $at,
            "]\n",
            "ldr r11, [r3, #",
            $at,
            "]\n",
            "ldr r12, [r2, #",
            $at,
            "]\n",
            "add ",
            $a,
            ", ",
            $a,
            ", r6\n",
            "bic r6, r11, r11, asr #31\n",
            "add r6, r6, #1\n",
            "lsl ",
            $a,
            ", ",
            $a,
            ", r6\n",
            "smmulr ",
            $a,
            ", ",
            $a,
            ", r12\n",
            "rsb r6, r11, #0\n",
            "bic r6, r6, r6, asr #31\n",
            "lsl r12, r4, r6\n",
            "add r12, r12, ",
            $a,
            ", lsl #1\n",
            "add r12, r12, ",
            $a,
            ", asr #31\n",
            "add r6, r6, #1\n",
            "asr ",
            $a,
            ", r12, r6\n",
        )
    };
}

/// One quad of the 1 x 4 block in DSP assembly: the row's word (r0) unpacked into r12, r11, then
/// the words of filter rows 1, 2, 3 (at r1 + r2, r1 + 2 r2, r1 + r3) and 0 (r1, advanced)
/// unpacked and fed to two SMLADs each (accumulators r8, r9, r10, r5). Its loop runs it four
/// times a pass.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! quad_1x4 {
    () => {
        concat!(
            "ldr r11, [r0], #4\n",
            "ldr lr, [r1, r2]\n",
            "sxtb16 r12, r11\n",
            "sxtb16 r11, r11, ror #8\n",
            "sxtb16 r6, lr\n",
            "sxtb16 lr, lr, ror #8\n",
            "smlad r8, r6, r12, r8\n",
            "smlad r8, lr, r11, r8\n",
            "ldr lr, [r1, r2, lsl #1]\n",
            "sxtb16 r6, lr\n",
            "sxtb16 lr, lr, ror #8\n",
            "smlad r9, r6, r12, r9\n",
            "smlad r9, lr, r11, r9\n",
            "ldr lr, [r1, r3]\n",
            "sxtb16 r6, lr\n",
            "sxtb16 lr, lr, ror #8\n",
            "smlad r10, r6, r12, r10\n",
            "smlad r10, lr, r11, r10\n",
            "ldr lr, [r1], #4\n",
            "sxtb16 r6, lr\n",
            "sxtb16 lr, lr, ror #8\n",
            "smlad r5, r6, r12, r5\n",
            "smlad r5, lr, r11, r5\n",
        )
    };
}

/// The depthwise tap loop in assembly (13 values live: 4 accumulators, 4 pointers, the offset
/// pair, 4 words; registers explicit, r6 saved): per tap LDRD of its (input, filter) offsets and
/// the two words they point at, then `$unpack` (the input word into r6 = channels 0 and 2,
/// r11 = 1 and 3, as halfwords), the filter word's SXTB16s and 2 SMLABB, 2 SMLATT.
///
/// Safety: `$taps` must be a `&[[u32; 2]]` (word aligned, for LDRD), and 4 bytes at `$x` plus
/// each tap's input offset and at `$f` plus its filter offset readable.
/// One depthwise tap of four channels once its input word is split into channels (0, 2) in r6
/// and (1, 3) in r11 (as halfwords) and its filter word is loaded in r12: the filter word split
/// by SXTB16 the same way, then SMLABB/SMLATT into the accumulators r5, r8, r9, r10 (channels
/// 0, 1, 2, 3); lr is scratch.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! depthwise_macs {
    () => {
        concat!(
            "sxtb16 lr, r12\n",
            "sxtb16 r12, r12, ror #8\n",
            "smlabb r5, r6, lr, r5\n",
            "smlatt r9, r6, lr, r9\n",
            "smlabb r8, r11, r12, r8\n",
            "smlatt r10, r11, r12, r10",
        )
    };
}

/// One row of a 3 x 3 depthwise window in DSP assembly: the input words at r0, r0 + r2 and
/// r0 + 2 r2 (three pixels `c` bytes apart), each with the next filter word (r1,
/// post-incremented), through [`depthwise_macs!`].
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! depthwise_3x3_row {
    () => {
        concat!(
            "ldr r11, [r0]\n",
            "ldr r12, [r1], #4\n",
            "sxtb16 r6, r11\n",
            "sxtb16 r11, r11, ror #8\n",
            depthwise_macs!(),
            "\n",
            "ldr r11, [r0, r2]\n",
            "ldr r12, [r1], #4\n",
            "sxtb16 r6, r11\n",
            "sxtb16 r11, r11, ror #8\n",
            depthwise_macs!(),
            "\n",
            "ldr r11, [r0, r2, lsl #1]\n",
            "ldr r12, [r1], #4\n",
            "sxtb16 r6, r11\n",
            "sxtb16 r11, r11, ror #8\n",
            depthwise_macs!(),
            "\n",
        )
    };
}

#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! depthwise_taps {
    ($taps:expr, $x:expr, $f:expr, $offset_pair:expr, $acc:expr, $($unpack:literal),+ $(,)?) => {{
        let taps: &[[u32; 2]] = $taps;
        let [mut a0, mut a1, mut a2, mut a3]: [i32; 4] = $acc;
        if !taps.is_empty() {
            let range = taps.as_ptr_range();
            core::arch::asm!(
                "push {{r6}}",
                "2:",
                "ldrd r11, r12, [r0], #8",
                "ldr r11, [r2, r11]",
                "ldr r12, [r3, r12]",
                $($unpack,)+
                depthwise_macs!(),
                "cmp r0, r1",
                "bne 2b",
                "pop {{r6}}",
                inout("r0") range.start => _,
                in("r1") range.end,
                in("r2") $x,
                in("r3") $f,
                in("r4") $offset_pair,
                inout("r5") a0,
                inout("r8") a1,
                inout("r9") a2,
                inout("r10") a3,
                out("r11") _,
                out("r12") _,
                out("lr") _,
                options(readonly)
            );
        }
        [a0, a1, a2, a3]
    }};
}

#[cfg(all(target_arch = "arm", feature = "dsp"))]
impl Simd for Dsp {
    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("sxtb16 {0}, {1}", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("sxtb16 {0}, {1}, ror #8", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn sadd16(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: register-only; it sets APSR.GE, which no Rust code reads.
        unsafe {
            core::arch::asm!("sadd16 {0}, {1}, {2}", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack))
        };
        r
    }
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only; it may set APSR.Q on overflow, which no Rust code reads.
        unsafe {
            core::arch::asm!("smlad {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[inline(always)]
    fn pkhbt(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("pkhbt {0}, {1}, {2}, lsl #16", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn pkhtb(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("pkhtb {0}, {1}, {2}, asr #16", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only; it may set APSR.Q on overflow, which no Rust code reads.
        unsafe {
            core::arch::asm!("smlabb {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[inline(always)]
    fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only; it may set APSR.Q on overflow, which no Rust code reads.
        unsafe {
            core::arch::asm!("smlatt {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }

    /// 13 values live (4 accumulators, 4 pointers, the offset pair, 4 words): registers
    /// explicit, r6 saved. Per tap: LDRD of its offsets, 2 loads, 4 SXTB16, 2 SADD16, 2 SMLABB,
    /// 2 SMLATT for 4 MACs.
    #[inline(always)]
    unsafe fn depthwise_quad(
        taps: &[[u32; 2]],
        x: *const i8,
        f: *const i8,
        offset_pair: u32,
        acc: [i32; 4],
    ) -> [i32; 4] {
        // SAFETY: the caller's guarantee.
        unsafe {
            depthwise_taps!(
                taps,
                x,
                f,
                offset_pair,
                acc,
                "sxtb16 r6, r11",
                "sadd16 r6, r6, r4",
                "sxtb16 r11, r11, ror #8",
                "sadd16 r11, r11, r4",
            )
        }
    }

    /// [`Simd::depthwise_quad`]'s loop without the two SADD16s: per tap LDRD of its offsets,
    /// 2 loads, 4 SXTB16, 2 SMLABB, 2 SMLATT for 4 MACs.
    #[inline(always)]
    unsafe fn depthwise_quad_raw(
        taps: &[[u32; 2]],
        x: *const i8,
        f: *const i8,
        acc: [i32; 4],
    ) -> [i32; 4] {
        // SAFETY: the caller's guarantee.
        unsafe {
            depthwise_taps!(
                taps,
                x,
                f,
                0,
                acc,
                "sxtb16 r6, r11",
                "sxtb16 r11, r11, ror #8",
            )
        }
    }

    /// Unrolled, no tap list: per tap a load of input (at `x`, `x + c` or `x + 2c`, the row
    /// added after three) and one of filter (post-incremented), 4 SXTB16, 2 SMLABB, 2 SMLATT:
    /// about 11 cycles a tap against 18 for the listed loop.
    #[inline(always)]
    unsafe fn depthwise_3x3_raw(
        _taps: &[[u32; 2]],
        x: *const i8,
        c: usize,
        row: usize,
        f: *const i8,
        acc: [i32; 4],
    ) -> [i32; 4] {
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        // SAFETY: reads the nine taps' words the caller guarantees readable; r6 is restored.
        unsafe {
            core::arch::asm!(
                "push {{r6}}",
                depthwise_3x3_row!(),
                "add r0, r0, r3",
                depthwise_3x3_row!(),
                "add r0, r0, r3",
                depthwise_3x3_row!(),
                "pop {{r6}}",
                inout("r0") x => _,
                inout("r1") f => _,
                in("r2") c,
                in("r3") row,
                inout("r5") a0,
                inout("r8") a1,
                inout("r9") a2,
                inout("r10") a3,
                out("r11") _,
                out("r12") _,
                out("lr") _,
                options(readonly)
            );
        }
        [a0, a1, a2, a3]
    }

    /// 14 values live in the loop (4 accumulators, 4 pointers, 6 unpacked words): the 12
    /// registers inline assembly may name, all given explicitly so that no operand lands in r6
    /// (the compiler may pick it for a `reg` operand), plus r6 and r7, saved and restored
    /// around the loop; the end pointer waits on the stack. 4 loads, 8 SXTB16 and 8 SMLAD per
    /// 16 MACs, unrolled twice so that the loop's test (a load, a compare, a branch) comes
    /// every 32 (an odd count of quads enters the loop at its second half).
    #[inline(always)]
    unsafe fn quads_2x2_s8(
        x: [*const i8; 2],
        f: [*const i8; 2],
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        if quads == 0 {
            return acc;
        }
        let [mut a00, mut a01, mut a10, mut a11] = acc;
        // SAFETY: reads 4 * quads bytes from each pointer (the caller's guarantee); r6/r7 and
        // the stack are restored before the block ends.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                // Four quads a pass; a count of 4n + k (k > 0) enters at quad 4 - k.
                "ands r12, r10, #3",
                "add r10, r2, r10, lsl #2",
                "push {{r10}}",
                quads_2x2_unrolled!(),
                "ldr r10, [sp]",
                "cmp r2, r10",
                "bne 2b",
                "add sp, #4",
                "pop {{r6, r7}}",
                inout("r0") x[0] => _,
                inout("r1") x[1] => _,
                inout("r2") f[0] => _,
                inout("r3") f[1] => _,
                inout("r4") a00,
                inout("r5") a01,
                inout("r8") a10,
                inout("r9") a11,
                inout("r10") quads => _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
                options(readonly)
            );
        }
        [a00, a01, a10, a11]
    }

    /// The loop of [`Simd::quads_2x2_s8`] inside the loop over pixel pairs, with the
    /// requantization of [`NarrowRequant::apply_2x2`] and the clamp of [`Clamp::four`]: the
    /// state between pairs lives in `s` (one LDRD brings back two pointers), not in registers
    /// the inner loop needs, and the compiler's spills around three separate blocks (about 40
    /// cycles a pair) go. r6 and r7 saved; the stack holds `s` and the quads' end pointer.
    #[inline(always)]
    unsafe fn rows_2x2_narrow(s: &mut Rows2x2) -> bool {
        // SAFETY: reads the rows and writes the outputs `s` describes (the caller's
        // guarantee), and `s` itself; r6/r7 and the stack are restored before the block ends.
        unsafe {
            let clamp = s.clamp != Clamp::WHOLE_WORDS;
            match (s.wide.is_null(), s.tail == 0, clamp) {
                (true, true, true) => {
                    rows_2x2_asm!(
                        s,
                        "",
                        int8_ends!(),
                        int8_frame!(),
                        int8_start!(),
                        int8_quads!(),
                        clamp_2x2!()
                    )
                }
                (true, true, false) => {
                    rows_2x2_asm!(
                        s,
                        "",
                        int8_ends!(),
                        int8_frame!(),
                        int8_start!(),
                        int8_quads!(),
                        ""
                    )
                }
                (true, false, _) => rows_2x2_asm!(
                    s,
                    rows_2x2_tail!(),
                    int8_ends!(),
                    int8_frame!(),
                    int8_start!(),
                    int8_quads!(),
                    clamp_2x2!()
                ),
                (false, _, true) => {
                    rows_2x2_asm!(
                        s,
                        "",
                        wide_ends!(),
                        wide_frame!(),
                        wide_start!(),
                        wide_quads!(),
                        clamp_2x2!()
                    )
                }
                (false, _, false) => {
                    rows_2x2_asm!(
                        s,
                        "",
                        wide_ends!(),
                        wide_frame!(),
                        wide_start!(),
                        wide_quads!(),
                        ""
                    )
                }
            }
        }
        true
    }
    const WIDE_ROWS: bool = true;

    /// The group loop around [`quad_1x4!`]'s: per group the four accumulators zeroed, the
    /// quads, then the four outputs' offsets and [`NarrowRequant`] (its constants derived
    /// from the multiplier and shift in registers: no clamps needed within its bounds, which
    /// the caller guarantees), [`Clamp::four`], one word stored, the pointers advanced in `s`.
    #[inline(always)]
    unsafe fn rows_1x4_narrow(s: &mut Rows1x4) -> bool {
        // SAFETY: reads the row, rows, constants and writes the outputs `s` describes (the
        // caller's guarantee), and `s` itself; r6 and the stack are restored before the end.
        unsafe {
            if s.clamp != Clamp::WHOLE_WORDS {
                rows_1x4_asm!(s, clamp_1x4!())
            } else {
                rows_1x4_asm!(s, "")
            }
        }
        true
    }

    /// The pixel loop around [`depthwise_3x3_row!`]'s: per pixel one LDM of the filter
    /// pointer, the column and row steps and the four accumulators' start, the nine taps, then
    /// per channel one LDM of its [`NarrowRequant`] and its five instructions, [`Clamp::four`],
    /// one word stored. The window and output pointers stay in r4 and r7; the loop ends at the
    /// last output.
    #[inline(always)]
    unsafe fn depthwise_row_3x3_narrow(s: &mut DwRow) -> bool {
        // SAFETY: reads the windows, filter and constants and writes the outputs `s`
        // describes (the caller's guarantee), and `s` itself; r6, r7 and the stack are
        // restored before the block ends.
        unsafe {
            if s.clamp != Clamp::WHOLE_WORDS {
                depthwise_row_asm!(s, clamp_row!())
            } else {
                depthwise_row_asm!(s, "")
            }
        }
        true
    }

    /// 13 values live (4 accumulators, the row and filter pointers, the filter's row stride
    /// and three times it, the row's end, 4 words): registers explicit, r6 saved, unrolled
    /// twice (the per-channel loop, [`Dsp::rows_1x4_narrow`], four times). Rows 1 to 3 are read at register offsets from row 0's pointer, which frees a
    /// register for the end (the loop's test: CMP, no load), and the filter row 1 load follows
    /// the row's load (pipelined). 5 loads, 10 SXTB16 and 8 SMLAD per 16 MACs.
    #[inline(always)]
    unsafe fn quads_1x4_s8(
        x: *const i8,
        f: *const i8,
        stride: usize,
        quads: usize,
        acc: [i32; 4],
    ) -> [i32; 4] {
        if quads == 0 {
            return acc;
        }
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        let end = x.wrapping_add(4 * quads);
        // SAFETY: reads 4 * quads bytes of `x` and of each row (the caller's guarantee); r6
        // is restored before the block ends.
        unsafe {
            core::arch::asm!(
                "push {{r6}}",
                "tst r11, #1",
                "bne 3f",
                ".p2align 3",
                "2:",
                quad_1x4!(),
                "3:",
                quad_1x4!(),
                "cmp r0, r4",
                "bne 2b",
                "pop {{r6}}",
                inout("r0") x => _,
                inout("r1") f => _,
                in("r2") stride,
                in("r3") 3 * stride,
                in("r4") end,
                inout("r5") a0,
                inout("r8") a1,
                inout("r9") a2,
                inout("r10") a3,
                inout("r11") quads => _,
                out("r12") _,
                out("lr") _,
                options(readonly)
            );
        }
        [a0, a1, a2, a3]
    }
}

/// The packed algorithm over any [`Simd`]: four values per step, the rest scalar.
#[inline(always)]
pub fn offset_dot_packed<S: Simd>(x: &[i8], f: &[i8], offset: i32) -> i32 {
    let n = x.len().min(f.len());
    let (x, f) = (&x[..n], &f[..n]);
    let offset_pair = (offset as u16 as u32) * 0x0001_0001;
    let mut acc: i32 = 0;
    let mut xs = x.chunks_exact(4);
    let mut fs = f.chunks_exact(4);
    for (xc, fc) in (&mut xs).zip(&mut fs) {
        // Little-endian loads: byte 0 in bits 0..8, as CMSIS-NN's arm_nn_read_s8x4.
        let xw = u32::from_le_bytes([xc[0] as u8, xc[1] as u8, xc[2] as u8, xc[3] as u8]);
        let fw = u32::from_le_bytes([fc[0] as u8, fc[1] as u8, fc[2] as u8, fc[3] as u8]);
        let x02 = S::sadd16(S::sxtb16(xw), offset_pair);
        let x13 = S::sadd16(S::sxtb16_ror8(xw), offset_pair);
        acc = S::smlad(S::sxtb16(fw), x02, acc);
        acc = S::smlad(S::sxtb16_ror8(fw), x13, acc);
    }
    acc.wrapping_add(offset_dot_reference(xs.remainder(), fs.remainder(), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64* bytes.
    fn bytes(seed: &mut u64, n: usize) -> std::vec::Vec<i8> {
        (0..n)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 as i8
            })
            .collect()
    }

    #[test]
    fn packed_path_is_bit_exact_with_the_reference() {
        let mut seed = 0x1234_5678_9abc_def0;
        for n in 0..70 {
            for offset in [-127, -1, 0, 1, 5, 127, 128] {
                let x = bytes(&mut seed, n);
                let f = bytes(&mut seed, n);
                assert_eq!(
                    offset_dot_packed::<Emulated>(&x, &f, offset),
                    offset_dot_reference(&x, &f, offset),
                    "n {n} offset {offset}"
                );
            }
        }
        // The extremes: every product at its largest magnitude.
        let x = [-128i8; 64];
        let f = [-128i8; 64];
        assert_eq!(
            offset_dot_packed::<Emulated>(&x, &f, -127),
            offset_dot_reference(&x, &f, -127)
        );
        let x = [127i8; 64];
        assert_eq!(
            offset_dot_packed::<Emulated>(&x, &f, 128),
            offset_dot_reference(&x, &f, 128)
        );
    }

    #[test]
    fn emulated_instructions_match_the_manual() {
        assert_eq!(Emulated::sxtb16(0x80_7F_01_FF), 0x007F_FFFF);
        assert_eq!(Emulated::sxtb16_ror8(0x80_7F_01_FF), 0xFF80_0001);
        assert_eq!(Emulated::sadd16(0xFFFF_0001, 0x0001_0001), 0x0000_0002);
        assert_eq!(Emulated::smlad(0xFFFF_0002, 0x0003_0004, 10), 10 + 8 - 3);
        assert_eq!(Emulated::pkhbt(0x1111_2222, 0x3333_4444), 0x4444_2222);
        assert_eq!(Emulated::pkhtb(0x1111_2222, 0x3333_4444), 0x1111_3333);
        assert_eq!(Emulated::smlabb(0x0003_FFFE, 0x7FFF_0005, 1), 1 - 10);
        assert_eq!(Emulated::smlatt(0xFFFE_0003, 0x0005_7FFF, 1), 1 - 10);
    }
}
