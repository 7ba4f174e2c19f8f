//! Fixed-point arithmetic exactly as TFLite (Micro) computes it: gemmlowp's
//! `SaturatingRoundingDoublingHighMul` and `RoundingDivideByPOT` (gemmlowp/fixedpoint/fixedpoint.h),
//! `MultiplyByQuantizedMultiplier` and `QuantizeMultiplier` (tensorflow/lite/kernels/internal/
//! common.h, quantization_util.cc), without `TFLITE_SINGLE_ROUNDING` (the default build).

/// gemmlowp `SaturatingRoundingDoublingHighMul`: (a * b * 2) >> 32, rounded to nearest, with the
/// single overflow case (MIN * MIN) saturated.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    // gemmlowp computes (ab + nudge) / 2^31 with C++'s division, which truncates toward zero,
    // and nudge = 2^30 for ab >= 0, 1 - 2^30 otherwise. Both cases are floor((ab + 2^30) / 2^31):
    // for ab < 0, truncating the negative ab + 1 - 2^30 is flooring ab + 1 - 2^30 + 2^31 - 1.
    // One SMULL, a 64-bit add and a shift on the M4, instead of a sign test and a signed division.
    ((widening_mul(a, b) + (1 << 30)) >> 31) as i32
}

/// `a * b` in 64 bits: SMULL where the core has it.
#[cfg(not(all(target_arch = "arm", not(feature = "dsp"))))]
#[inline(always)]
fn widening_mul(a: i32, b: i32) -> i64 {
    a as i64 * b as i64
}

/// `a * b` in 64 bits from four 16 x 16-bit products: the Cortex-M0+ has only a 32-bit MULS,
/// and the compiler's 64 x 64-bit `__aeabi_lmul` took about 100 cycles a call.
#[cfg(all(target_arch = "arm", not(feature = "dsp")))]
#[inline(always)]
fn widening_mul(a: i32, b: i32) -> i64 {
    widening_mul_by_halves(a, b)
}

#[cfg(any(test, all(target_arch = "arm", not(feature = "dsp"))))]
#[inline(always)]
fn widening_mul_by_halves(a: i32, b: i32) -> i64 {
    // a = a_hi * 2^16 + a_lo with a_lo in 0..2^16, a_hi signed; the same for b.
    let (a_lo, a_hi) = ((a & 0xFFFF) as u32, a >> 16);
    let (b_lo, b_hi) = ((b & 0xFFFF) as u32, b >> 16);
    let low = (a_lo * b_lo) as i64;
    // Each cross product fits in 32 bits (|a_hi| <= 2^15, b_lo < 2^16), not their sum.
    let cross = (a_hi * b_lo as i32) as i64 + (a_lo as i32 * b_hi) as i64;
    (((a_hi * b_hi) as i64) << 32) + (cross << 16) + low
}

/// gemmlowp `RoundingDivideByPOT`: x / 2^exponent, rounded half away from zero.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    // Valid models give 0..=31; the clamp keeps forged parameters from panicking.
    let exponent = exponent.clamp(0, 31);
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLite `MultiplyByQuantizedMultiplier` (double rounding): x * multiplier * 2^shift.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = shift.clamp(0, 31) as u32;
    let right = (-shift).max(0);
    // x * (1 << left) wraps as the C++ does on the targets TFLite runs on.
    let shifted = x.wrapping_mul((1u32 << left) as i32);
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right,
    )
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT` with a positive exponent: a saturating left shift.
#[inline(always)]
pub fn saturating_shift_left(x: i32, exponent: i32) -> i32 {
    let threshold = ((1i64 << (31 - exponent.clamp(0, 31))) - 1) as i32;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x.wrapping_shl(exponent as u32)
    }
}

/// TFLite `QuantizeMultiplier`: a real multiplier as a Q31 significand and a power-of-two shift,
/// using `frexp` and round-half-away-from-zero on doubles, as quantization_util.cc does.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(real);
    let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    (
        q_fixed.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
        shift,
    )
}

/// `ActivationFunctionType` of schema.fbs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

impl Activation {
    /// Decodes the schema byte; TANH and SIGN_BIT fused activations are not supported (`None`).
    pub fn from_code(code: i8) -> Option<Self> {
        match code {
            0 => Some(Activation::None),
            1 => Some(Activation::Relu),
            2 => Some(Activation::ReluN1To1),
            3 => Some(Activation::Relu6),
            _ => None,
        }
    }

    /// TFLite `CalculateActivationRange` for float.
    pub fn range_f32(self) -> (f32, f32) {
        match self {
            Activation::None => (f32::MIN, f32::MAX),
            Activation::Relu => (0.0, f32::MAX),
            Activation::ReluN1To1 => (-1.0, 1.0),
            Activation::Relu6 => (0.0, 6.0),
        }
    }

    /// TFLite `CalculateActivationRangeQuantized` for int8 (kernel_util.cc): the clamp bounds in the
    /// output's quantized domain.
    pub fn range_i8(self, scale: f32, zero_point: i32) -> (i32, i32) {
        let (qmin, qmax) = (i8::MIN as i32, i8::MAX as i32);
        // zero_point + TfLiteRound(f / scale), in float as TFLite computes it.
        let quantize = |f: f32| zero_point.saturating_add(libm::roundf(f / scale) as i32);
        match self {
            Activation::None => (qmin, qmax),
            Activation::Relu => (qmin.max(quantize(0.0)), qmax),
            Activation::Relu6 => (qmin.max(quantize(0.0)), qmax.min(quantize(6.0))),
            Activation::ReluN1To1 => (qmin.max(quantize(-1.0)), qmax.min(quantize(1.0))),
        }
    }
}

/// Requantizes an int32 accumulator to int8: scale, add the output zero point, clamp.
#[inline(always)]
pub fn requantize(
    acc: i32,
    multiplier: i32,
    shift: i32,
    output_offset: i32,
    min: i32,
    max: i32,
) -> i8 {
    let v = multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(output_offset);
    v.clamp(min, max) as i8
}

/// [`requantize`]'s constants for one channel, unpacked once (shifts clamped, the rounding mask
/// and threshold of [`rounding_divide_by_pot`]), for a multiplier that is not `i32::MIN`: every
/// positive scale's ([`quantize_multiplier`] gives 0 or 2^30..2^31-1; the weighted operators refuse
/// negative scales at load). Then `SaturatingRoundingDoublingHighMul` cannot saturate and
/// [`Requant::apply`] skips that test: the same result in fewer instructions.
#[derive(Clone, Copy, Debug)]
pub struct Requant {
    mult: i32,
    left: u32,
    right: u32,
    mask: i32,
    half: i32,
    offset: i32,
}

impl Requant {
    #[inline(always)]
    pub fn new(mult: i32, shift: i32, output_offset: i32) -> Requant {
        let right = (-shift).clamp(0, 31) as u32;
        let mask = ((1i64 << right) - 1) as i32;
        Requant {
            mult,
            left: shift.clamp(0, 31) as u32,
            right,
            mask,
            half: mask >> 1,
            offset: output_offset,
        }
    }

    /// `requantize(acc, mult, shift, output_offset, ..)` before the clamp: the scaled
    /// accumulator plus the output offset (wrapping, as TFLite's int32 addition).
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        debug_assert!(self.mult != i32::MIN);
        let x = acc.wrapping_shl(self.left);
        let high = ((widening_mul(x, self.mult) + (1 << 30)) >> 31) as i32;
        let threshold = self.half + (high < 0) as i32;
        let q = (high >> self.right) + ((high & self.mask) > threshold) as i32;
        q.wrapping_add(self.offset)
    }
}

/// A channel's requantization unpacked from (multiplier, shift, output offset): [`Requant`] or
/// [`NarrowRequant`], chosen per operator at load. `apply` gives the value before the
/// activation's clamp ([`Clamp`]).
pub trait Requantizer: Copy {
    fn new(mult: i32, shift: i32, output_offset: i32) -> Self;
    fn apply(self, acc: i32) -> i32;
    /// Four channels at once: `[q[0].apply(acc[0]), .., q[3].apply(acc[3])]`.
    #[inline(always)]
    fn apply4(q: &[Self; 4], acc: [i32; 4]) -> [i32; 4] {
        core::array::from_fn(|i| q[i].apply(acc[i]))
    }
    /// `k` as [`NarrowRequant`]s, when `Self` is that form (for the fused block loop,
    /// [`Simd::rows_2x2_narrow`](crate::ops::dot::Simd::rows_2x2_narrow)).
    #[inline(always)]
    fn narrow_pair(_k: &[WithOffset<Self>; 2]) -> Option<&[WithOffset<NarrowRequant>; 2]> {
        None
    }
    /// `q` as [`NarrowRequant`]s, when `Self` is that form (for the fused depthwise row,
    /// [`Simd::depthwise_row_3x3_narrow`](crate::ops::dot::Simd::depthwise_row_3x3_narrow)).
    #[inline(always)]
    fn narrow_quad(_q: &[Self; 4]) -> Option<&[NarrowRequant; 4]> {
        None
    }
    /// Whether `Self` is [`NarrowRequant`] (known at compile time: the loops written for it
    /// leave the other forms' code).
    const NARROW: bool = false;
    /// A 2 x 2 block of two pixels and two channels, `acc` = (pixel 0 channel 0, pixel 0
    /// channel 1, pixel 1 channel 0, pixel 1 channel 1): each channel's offset added, then its
    /// requantization.
    #[inline(always)]
    fn apply_2x2(k: &[WithOffset<Self>; 2], acc: [i32; 4]) -> [i32; 4] {
        let f = |j: usize, a: i32| k[j].q.apply(a.wrapping_add(k[j].offset));
        [f(0, acc[0]), f(1, acc[1]), f(0, acc[2]), f(1, acc[3])]
    }
}

/// A channel's accumulator offset (bias and folded input offset) and requantization, in this
/// order in memory (`repr(C)`: the M4's [`Requantizer::apply_2x2`] loads both with one LDM).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct WithOffset<R> {
    pub offset: i32,
    pub q: R,
}

/// [`NarrowRequant::apply`] as Armv7E-M assembly text, registers named by the caller: `$acc`
/// (in and out), the struct's `$mult`, `$left`, `$add`, `$right`, and `$tmp` for the sum (it may
/// be `$add` when the constants are reloaded before the next use): LSL, SMMULR, two ADDs with
/// shifted operands, ASR.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! narrow_requant {
    ($acc:literal, $mult:literal, $left:literal, $add:literal, $right:literal, $tmp:literal) => {
        concat!(
            "lsl ",
            $acc,
            ", ",
            $acc,
            ", ",
            $left,
            "\n",
            "smmulr ",
            $acc,
            ", ",
            $acc,
            ", ",
            $mult,
            "\n",
            "add ",
            $tmp,
            ", ",
            $add,
            ", ",
            $acc,
            ", lsl #1\n",
            "add ",
            $tmp,
            ", ",
            $tmp,
            ", ",
            $acc,
            ", asr #31\n",
            "asr ",
            $acc,
            ", ",
            $tmp,
            ", ",
            $right,
            "\n",
        )
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
pub(crate) use narrow_requant;

/// Four channels' [`NarrowRequant`]s in a row, as Armv7E-M assembly text: per accumulator (`$a0`
/// to `$a3`) one LDM of its channel's four constants from `$p` (post-incremented) into `$mult`,
/// `$left`, `$add`, `$right` (ascending registers), then [`narrow_requant!`] with `$add` as the
/// sum's register.
#[cfg(all(target_arch = "arm", feature = "dsp"))]
macro_rules! narrow_requant_quad {
    ($p:literal, [$($a:literal),*], $mult:literal, $left:literal, $add:literal, $right:literal) => {
        concat!($(
            "ldm ", $p, "!, {{", $mult, ", ", $left, ", ", $add, ", ", $right, "}}\n",
            narrow_requant!($a, $mult, $left, $add, $right, $add),
        )*)
    };
}
#[cfg(all(target_arch = "arm", feature = "dsp"))]
pub(crate) use narrow_requant_quad;

impl Requantizer for Requant {
    #[inline(always)]
    fn new(mult: i32, shift: i32, output_offset: i32) -> Self {
        Requant::new(mult, shift, output_offset)
    }
    #[inline(always)]
    fn apply(self, acc: i32) -> i32 {
        Requant::apply(self, acc)
    }
}

impl Requantizer for NarrowRequant {
    #[inline(always)]
    fn new(mult: i32, shift: i32, output_offset: i32) -> Self {
        NarrowRequant::new(mult, shift, output_offset)
    }
    #[inline(always)]
    fn narrow_pair(k: &[WithOffset<Self>; 2]) -> Option<&[WithOffset<NarrowRequant>; 2]> {
        Some(k)
    }
    #[inline(always)]
    fn narrow_quad(q: &[Self; 4]) -> Option<&[NarrowRequant; 4]> {
        Some(q)
    }
    const NARROW: bool = true;
    #[inline(always)]
    fn apply(self, acc: i32) -> i32 {
        NarrowRequant::apply(self, acc)
    }
    /// On the M4 in assembly: per channel one LDM of its four constants (in field order, the
    /// struct is `repr(C)`) and the five instructions of [`NarrowRequant::apply`]; the compiler
    /// spread the same work over single loads from the stack, 24 cycles an output.
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    #[inline(always)]
    fn apply4(q: &[Self; 4], acc: [i32; 4]) -> [i32; 4] {
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        // SAFETY: reads the 64 bytes of `q`; register-only otherwise.
        unsafe {
            core::arch::asm!(
                narrow_requant_quad!("r0", ["r1", "r2", "r3", "r4"], "r5", "r8", "r9", "r10"),
                inout("r0") q.as_ptr() => _,
                inout("r1") a0,
                inout("r2") a1,
                inout("r3") a2,
                inout("r4") a3,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                options(readonly, nostack, preserves_flags)
            );
        }
        [a0, a1, a2, a3]
    }

    /// On the M4 in assembly: per channel one LDM of its offset and four constants, then its
    /// two outputs (an ADD and the five instructions of [`NarrowRequant::apply`] each).
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    #[inline(always)]
    fn apply_2x2(k: &[WithOffset<Self>; 2], acc: [i32; 4]) -> [i32; 4] {
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        // SAFETY: reads the 40 bytes of `k`; register-only otherwise.
        unsafe {
            core::arch::asm!(
                "ldm r4!, {{r5, r8, r9, r10, r11}}",
                "add r0, r0, r5",
                narrow_requant!("r0", "r8", "r9", "r10", "r11", "r12"),
                "add r2, r2, r5",
                narrow_requant!("r2", "r8", "r9", "r10", "r11", "r12"),
                "ldm r4, {{r5, r8, r9, r10, r11}}",
                "add r1, r1, r5",
                narrow_requant!("r1", "r8", "r9", "r10", "r11", "r12"),
                "add r3, r3, r5",
                narrow_requant!("r3", "r8", "r9", "r10", "r11", "r12"),
                inout("r0") a0,
                inout("r1") a1,
                inout("r2") a2,
                inout("r3") a3,
                inout("r4") k.as_ptr() => _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                options(readonly, nostack, preserves_flags)
            );
        }
        [a0, a1, a2, a3]
    }
}

/// SMMULR: `(a * b + 2^31) >> 32`, the high word of the signed product, rounded.
#[inline(always)]
pub fn smmulr(a: i32, b: i32) -> i32 {
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    {
        let r: i32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("smmulr {0}, {1}, {2}", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(not(all(target_arch = "arm", feature = "dsp")))]
    {
        ((widening_mul(a, b) + (1 << 31)) >> 32) as i32
    }
}

/// The largest right shift [`NarrowRequant`] takes: with it the output offset folds into the
/// rounding constant without overflow (see [`fits_narrow`]).
const NARROW_MAX_RIGHT: u32 = 21;

/// [`requantize`] before the clamp, for accumulators known at load to be narrow
/// ([`fits_narrow`]): `|acc| * 2^(left + 2) < 2^31`, a right shift `r` of at most
/// [`NARROW_MAX_RIGHT`] and an output offset `o` with `|o| <= 128`. Then `x = acc << (left + 1)`
/// does not overflow, `SaturatingRoundingDoublingHighMul(acc << left, m)` is `h = SMMULR(x, m)`
/// with `|h| <= 2^29`, and `RoundingDivideByPOT(h, r) + o` is
/// `(2^r + o 2^(r+1) + 2h + [h < 0 ? -1 : 0]) >> (r + 1)`: for `r > 0` the doubled form of
/// `(h + 2^(r-1) - [h < 0]) >> r` (the odd numerator of the negative case never crosses a
/// multiple of `2^(r+1)`), for `r = 0` it is `h`; adding `o 2^(r+1)` before the shift adds `o`
/// after it. Every term stays within `2^30 + 2^21 + 2^29 < 2^31`. On the M4: LSL, SMMULR, two
/// ADDs with shifted operands and an ASR, four constants per channel.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct NarrowRequant {
    mult: i32,
    left: u32,
    add: i32,
    right: u32,
}

impl NarrowRequant {
    #[inline(always)]
    pub fn new(mult: i32, shift: i32, output_offset: i32) -> NarrowRequant {
        // `shift` is within the bounds of `fits_narrow` (-21 ..= 29); outside them the result
        // is meaningless but defined: both shifts are masked below 32, so that the unchecked
        // shifts of `apply` are always defined (masks rather than clamps: two instructions an
        // output less where the constants are made per output).
        let r = (shift.wrapping_neg().max(0) as u32) & 31;
        NarrowRequant {
            mult,
            left: (shift.max(0) as u32 + 1) & 31,
            // 2^r + o 2^(r+1).
            add: output_offset
                .wrapping_mul(2)
                .wrapping_add(1)
                .wrapping_shl(r),
            right: (r + 1) & 31,
        }
    }

    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        // SAFETY: `left` and `right` are at most 31 (see `new`).
        let x = unsafe { acc.unchecked_shl(self.left) };
        let high = smmulr(x, self.mult);
        let n = self
            .add
            .wrapping_add(high.wrapping_add(high))
            .wrapping_add(high >> 31);
        // SAFETY: as above.
        unsafe { n.unchecked_shr(self.right) }
    }
}

/// The activation's clamp, `min..=max` within int8 (TFLite's `CalculateActivationRangeQuantized`
/// keeps it there), on one requantized value or on four at once: on the M4 four SSATs, three
/// BFIs and SSUB8/SEL for the maximum and the minimum of the four bytes.
#[derive(Clone, Copy, Debug)]
pub struct Clamp {
    min: i32,
    max: i32,
}

impl Clamp {
    /// `min` and `max` are clamped into int8, which leaves every int8 range unchanged.
    #[inline(always)]
    pub fn new(min: i32, max: i32) -> Clamp {
        let min = min.clamp(i8::MIN as i32, i8::MAX as i32);
        Clamp {
            min,
            max: max.clamp(min, i8::MAX as i32),
        }
    }

    #[inline(always)]
    pub fn one(self, q: i32) -> i8 {
        q.clamp(self.min, self.max) as i8
    }

    /// [`Clamp::words`] of the whole int8 range: no clamp past SSAT's.
    pub const WHOLE_WORDS: [u32; 2] = [0x8080_8080, 0x7f7f_7f7f];

    /// The minimum and the maximum, each in the four bytes of a word (for SSUB8/SEL).
    #[inline(always)]
    pub fn words(self) -> [u32; 2] {
        [self.min, self.max].map(|v| (v as u8 as u32) * 0x0101_0101)
    }

    /// The clamp of [`Clamp::words`].
    #[inline(always)]
    pub fn from_words(w: [u32; 2]) -> Clamp {
        Clamp::new(w[0] as u8 as i8 as i32, w[1] as u8 as i8 as i32)
    }

    /// `[one(q[0]), .., one(q[3])]`, as the bytes of a little-endian word.
    #[inline(always)]
    pub fn four(self, q: [i32; 4]) -> [i8; 4] {
        #[cfg(all(target_arch = "arm", feature = "dsp"))]
        {
            let [min4, max4] = self.words();
            let w: u32;
            // SAFETY: register-only instructions; the GE flags SSUB8 sets are read by the SEL
            // after it within this block.
            unsafe {
                core::arch::asm!(
                    "ssat {w}, #8, {a}",
                    "ssat {t}, #8, {b}",
                    "bfi {w}, {t}, #8, #8",
                    "ssat {t}, #8, {c}",
                    "bfi {w}, {t}, #16, #8",
                    "ssat {t}, #8, {d}",
                    "bfi {w}, {t}, #24, #8",
                    "ssub8 {t}, {w}, {lo}",
                    "sel {w}, {w}, {lo}",
                    "ssub8 {t}, {w}, {hi}",
                    "sel {w}, {hi}, {w}",
                    w = out(reg) w,
                    t = out(reg) _,
                    a = in(reg) q[0],
                    b = in(reg) q[1],
                    c = in(reg) q[2],
                    d = in(reg) q[3],
                    lo = in(reg) min4,
                    hi = in(reg) max4,
                    options(pure, nomem, nostack)
                );
            }
            w.to_le_bytes().map(|b| b as i8)
        }
        #[cfg(not(all(target_arch = "arm", feature = "dsp")))]
        {
            q.map(|v| self.one(v))
        }
    }
}

/// Whether every accumulator of a weighted int8 operator is narrow enough for
/// [`NarrowRequant`]: for each channel `c`, `(255 Σ_k |w(c, k)| + |bias(c)|) * 2^(left_c + 2) <
/// 2^31`, where 255 bounds `|x + input offset|` (int8 input, int8 zero point) and `left_c` is the
/// channel's left shift (`max(shift, 0)`); its right shift (`max(-shift, 0)`) at most
/// [`NARROW_MAX_RIGHT`]; and `|output_offset| <= 128`. Run once at load.
pub fn fits_narrow(
    channels: usize,
    taps: usize,
    weight: impl Fn(usize, usize) -> i8,
    bias: impl Fn(usize) -> i32,
    shift: impl Fn(usize) -> i32,
    output_offset: i32,
) -> bool {
    (0..channels).all(|c| {
        let sum: i64 = (0..taps).map(|k| (weight(c, k) as i64).abs()).sum();
        fits_narrow_bound(255 * sum + (bias(c) as i64).abs(), shift(c), output_offset)
    })
}

/// Whether accumulators of at most `bound` in magnitude, with `shift` and `output_offset`, take
/// [`NarrowRequant`]: `bound * 2^(max(shift, 0) + 2) < 2^31`, `-shift <=` [`NARROW_MAX_RIGHT`],
/// `|output_offset| <= 128`.
pub fn fits_narrow_bound(bound: i64, shift: i32, output_offset: i32) -> bool {
    let left = shift.clamp(0, 31) as u32 + 2;
    output_offset.unsigned_abs() <= 128
        && shift >= -(NARROW_MAX_RIGHT as i32)
        && (0..1 << 31).contains(&bound)
        && (bound as i128) << left < 1 << 31
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64 values from `seed`.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn narrow_requantization_is_requantize_within_its_bound() {
        let mut next = xorshift(0x0bad_5eed_1234_5678);
        let mut mults = std::vec![0, 1 << 30, i32::MAX, 1_518_500_250];
        for _ in 0..100 {
            mults.push((1 << 30) + (next() % (1 << 30)) as i32);
        }
        let mut checked = 0;
        for &m in &mults {
            for shift in -(NARROW_MAX_RIGHT as i32)..=29 {
                let left = shift.clamp(0, 31) as u32 + 2;
                // The largest |acc| with |acc| << (left + 2) < 2^31.
                let limit = ((1i64 << 31) - 1) >> left;
                let mut accs = std::vec![0i64, 1, -1, limit, -limit, limit / 2, -limit / 3];
                for _ in 0..40 {
                    accs.push((next() as i64).rem_euclid(2 * limit + 1) - limit);
                }
                for off in [0, -5, 17, -128, 127, 128] {
                    let r = NarrowRequant::new(m, shift, off);
                    for &a in accs.iter().filter(|a| a.abs() <= limit) {
                        let a = a as i32;
                        for (min, max) in [(-128, 127), (-3, 100)] {
                            assert_eq!(
                                Clamp::new(min, max).one(r.apply(a)),
                                requantize(a, m, shift, off, min, max),
                                "acc {a} mult {m} shift {shift} offset {off}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000);
    }

    #[test]
    fn narrow_bound_takes_the_shift_and_the_bias() {
        let w = |_: usize, _: usize| -128i8;
        // 255 * 128 * 9 = 293,760 < 2^30 >> 11.
        // 255 * 128 * 9 = 293,760 < 2^31 >> 12.
        assert!(fits_narrow(2, 9, w, |_| 0, |_| 0, 0));
        assert!(fits_narrow(2, 9, w, |_| 0, |_| 10, -128));
        assert!(!fits_narrow(2, 9, w, |_| 0, |_| 11, 0));
        assert!(!fits_narrow(
            2,
            9,
            w,
            |c| if c == 1 { 1 << 30 } else { 0 },
            |_| -5,
            0
        ));
        assert!(!fits_narrow(1, 40_000, w, |_| 0, |_| -5, 0));
        assert!(fits_narrow(0, 9, w, |_| 0, |_| 0, 0));
        // The right shift and the output offset bound the folded rounding constant.
        assert!(fits_narrow(2, 9, w, |_| 0, |_| -21, 128));
        assert!(!fits_narrow(2, 9, w, |_| 0, |_| -22, 0));
        assert!(!fits_narrow(2, 9, w, |_| 0, |_| 0, 129));
    }

    #[test]
    fn four_clamped_are_four_clamped_ones() {
        let mut next = xorshift(0x05ee_d0fc_1a39);
        for (min, max) in [
            (-128, 127),
            (-128, 0),
            (0, 127),
            (-3, 100),
            (5, 5),
            (-200, 300),
        ] {
            let c = Clamp::new(min, max);
            for _ in 0..1000 {
                let q: [i32; 4] = core::array::from_fn(|_| (next() as i32) >> (next() % 32));
                assert_eq!(c.four(q), q.map(|v| c.one(v)));
                assert_eq!(c.one(q[0]), q[0].clamp(min.max(-128), max.min(127)) as i8);
            }
        }
    }

    #[test]
    fn unpacked_requantization_is_requantize() {
        let mut next = xorshift(0x1234_5678_9abc_def1);
        let mut mults = std::vec![0, 1 << 30, i32::MAX, 1_518_500_250];
        let mut accs = std::vec![0, 1, -1, i32::MAX, i32::MIN, 1 << 30, -(1 << 30)];
        for _ in 0..200 {
            mults.push((1 << 30) + (next() % (1 << 30)) as i32);
            accs.push(next() as i32);
            accs.push((next() as i32) >> (next() % 31));
        }
        for &m in &mults {
            for shift in -33..=33 {
                for (off, min, max) in [(0, -128, 127), (-5, -128, 127), (17, -3, 100)] {
                    let r = Requant::new(m, shift, off);
                    for &a in &accs {
                        assert_eq!(
                            Clamp::new(min, max).one(r.apply(a)),
                            requantize(a, m, shift, off, min, max),
                            "acc {a} mult {m} shift {shift}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn rounding_divide_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
    }

    /// gemmlowp's formula as written: nudge by sign, then truncating division.
    fn high_mul_as_gemmlowp(a: i32, b: i32) -> i32 {
        if a == b && a == i32::MIN {
            return i32::MAX;
        }
        let ab = a as i64 * b as i64;
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1i64 << 31)) as i32
    }

    #[test]
    fn high_mul_is_gemmlowps_formula() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -(1 << 30) - 1,
            -(1 << 30),
            -3,
            -1,
            0,
            1,
            2,
            1 << 30,
            i32::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(
                    saturating_rounding_doubling_high_mul(a, b),
                    high_mul_as_gemmlowp(a, b),
                    "{a} {b}"
                );
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let (a, b) = (seed as i32 >> (seed >> 59), (seed >> 32) as i32);
            assert_eq!(
                saturating_rounding_doubling_high_mul(a, b),
                high_mul_as_gemmlowp(a, b),
                "{a} {b}"
            );
        }
    }

    #[test]
    fn the_product_by_halves_is_the_product() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -65536,
            -65535,
            -1,
            0,
            1,
            65535,
            65536,
            i32::MAX,
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(widening_mul_by_halves(a, b), a as i64 * b as i64, "{a} {b}");
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let (a, b) = (seed as i32, (seed >> 32) as i32);
            assert_eq!(widening_mul_by_halves(a, b), a as i64 * b as i64, "{a} {b}");
        }
    }

    #[test]
    fn high_mul_saturates_and_rounds() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
        // gemmlowp's nudge for negative products is 1 - 2^30, so -0.5 rounds toward zero.
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
    }

    #[test]
    fn quantize_multiplier_matches_tflite() {
        // Values checked against tflite::QuantizeMultiplier.
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        assert_eq!(quantize_multiplier(0.1), (1717986918, -3));
        // Significand rounding up to 2^31 renormalises.
        assert_eq!(quantize_multiplier(0.999_999_999_9), (1 << 30, 1));
        // Below 2^-31 flushes to zero.
        assert_eq!(quantize_multiplier(1e-12), (0, 0));
    }

    #[test]
    fn multiply_by_quantized_multiplier_double_rounds() {
        let (m, s) = quantize_multiplier(0.1);
        assert_eq!(multiply_by_quantized_multiplier(1000, m, s), 100);
        assert_eq!(multiply_by_quantized_multiplier(-15, m, s), -2);
        let (m, s) = quantize_multiplier(3.0);
        assert_eq!(multiply_by_quantized_multiplier(7, m, s), 21);
    }

    #[test]
    fn relu6_range_in_quantized_domain() {
        assert_eq!(Activation::Relu6.range_i8(0.05, -128), (-128, -8));
        assert_eq!(Activation::Relu.range_i8(0.1, 3), (3, 127));
        assert_eq!(Activation::None.range_i8(0.1, 3), (-128, 127));
    }
}
