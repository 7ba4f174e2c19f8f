//! Input quantization of desktop TFLite's hybrid (dynamic-range) kernels: float activations are
//! quantized to int8 on the fly, per batch, and the int32 dot products are scaled back to float.
//!
//! Desktop TFLite (the `ai_edge_litert` wheels the goldens come from) dispatches
//! `tensor_utils::{Symmetric,Asymmetric}QuantizeFloats` to the NEON kernels of
//! tensorflow/lite/kernels/internal/optimized/neon_tensor_utils.cc, compiled on x86 through
//! NEON_2_SSE, even under the reference op resolver. Their arithmetic differs from the portable
//! kernels in ways that flip an int8 rounding now and then, so it is reproduced here exactly:
//! - the first `len & !7` values go through the vector loop, whose `RoundToNearest` (no
//!   `vcvtnq_s32_f32` there) adds ±0.5 in float and truncates; the rest through `TfLiteRound`
//!   (half away from zero);
//! - the asymmetric kernel adds the zero point to the rounded integer (the portable one rounds
//!   `zero_point + x / scale` in float, which loses the low bits of small `x / scale`);
//! - its range is `max - min` subtracted in float, then divided by 255 in double.

/// Values per iteration of the NEON quantization loops (two float32x4 vectors).
const VECTOR_BLOCK: usize = 8;

/// `RoundToNearest` of neon_tensor_utils.cc without `vcvtnq_s32_f32`: `y ± 0.5` rounded to float,
/// then truncated (`cvttps2dq`). Differs from half-away rounding just below ±0.5, where the float
/// sum rounds up to ±1.
fn round_vector(y: f32) -> i32 {
    let half = if y < 0.0 { -0.5 } else { 0.5 };
    (y + half) as i32
}

/// Rounds `values[i] * inv` as the NEON kernels do: the vector loop's rounding for the first
/// `len & !7` values, `TfLiteRound` for the rest.
fn quantize_values(values: &[f32], inv: f32, out: &mut [i8], finish: impl Fn(i32) -> i8) {
    let vector = values.len() & !(VECTOR_BLOCK - 1);
    for (i, (q, &v)) in out.iter_mut().zip(values).enumerate() {
        let y = v * inv;
        let r = if i < vector {
            round_vector(y)
        } else {
            libm::roundf(y) as i32
        };
        *q = finish(r);
    }
}

/// `NeonSymmetricQuantizeFloats`: scale = max|x| / 127, zero point 0. Returns the scale.
pub fn symmetric_quantize(values: &[f32], out: &mut [i8]) -> f32 {
    let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values {
        min = min.min(v);
        max = max.max(v);
    }
    let range = libm::fabsf(min).max(libm::fabsf(max));
    if values.is_empty() || range == 0.0 {
        out.iter_mut().for_each(|q| *q = 0);
        return 1.0;
    }
    quantize_values(values, 127.0 / range, out, |r| r.clamp(-127, 127) as i8);
    range / 127.0
}

/// `NeonAsymmetricQuantizeFloats`: the range [min(0, x), max(0, x)] onto [-128, 127] with a
/// nudged zero point, computed in double as TFLite does. Returns (scale, zero point).
pub fn asymmetric_quantize(values: &[f32], out: &mut [i8]) -> (f32, i32) {
    const QMIN: f64 = -128.0;
    const QMAX: f64 = 127.0;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let (rmin, rmax) = (lo.min(0.0), hi.max(0.0));
    if values.is_empty() || rmin == rmax {
        out.iter_mut().for_each(|q| *q = 0);
        return (1.0, 0);
    }
    // `(rmax - rmin) / (qmax_double - qmin_double)` with float rmin, rmax: a float subtraction.
    let scale = (rmax - rmin) as f64 / (QMAX - QMIN);
    let (rmin, rmax) = (rmin as f64, rmax as f64);
    let zero_point_from_min = QMIN - rmin / scale;
    let zero_point_from_max = QMAX - rmax / scale;
    let zero_point_from_min_error = QMIN.abs() + (rmin / scale).abs();
    let zero_point_from_max_error = QMAX.abs() + (rmax / scale).abs();
    let zero_point = if zero_point_from_min_error < zero_point_from_max_error {
        zero_point_from_min
    } else {
        zero_point_from_max
    };
    let nudged = if zero_point <= QMIN {
        -128
    } else if zero_point >= QMAX {
        127
    } else {
        libm::round(zero_point) as i32
    };
    let scale = scale as f32;
    // `1.0 / *scaling_factor`: a double division, stored as float.
    let inv = (1.0 / scale as f64) as f32;
    quantize_values(values, inv, out, |r| (nudged + r).clamp(-128, 127) as i8);
    (scale, nudged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_maps_max_magnitude_to_127() {
        let mut q = [0i8; 4];
        let s = symmetric_quantize(&[-2.0, 1.0, 0.5, 0.0], &mut q);
        assert_eq!(s, 2.0 / 127.0);
        assert_eq!(q, [-127, 64, 32, 0]);
    }

    #[test]
    fn symmetric_all_zero_has_unit_scale() {
        let mut q = [5i8; 3];
        assert_eq!(symmetric_quantize(&[0.0; 3], &mut q), 1.0);
        assert_eq!(q, [0; 3]);
    }

    #[test]
    fn asymmetric_positive_range_uses_full_int8() {
        let mut q = [0i8; 3];
        let (s, zp) = asymmetric_quantize(&[0.0, 1.0, 2.55], &mut q);
        assert_eq!(zp, -128);
        assert!((s - 0.01).abs() < 1e-7);
        assert_eq!(q, [-128, -28, 127]);
    }

    /// Just below 0.5 the vector loop's `y + 0.5` rounds up to 1.0 in float: 1, where
    /// `TfLiteRound` (the loop's remainder, past `len & !7`) gives 0.
    #[test]
    fn symmetric_rounds_as_the_neon_vector_loop_then_the_remainder() {
        let below_half = 0.5 - f32::EPSILON / 4.0;
        let mut x = [0.0f32; 9];
        x[0] = 127.0;
        x[1] = below_half;
        x[8] = below_half;
        let mut q = [0i8; 9];
        assert_eq!(symmetric_quantize(&x, &mut q), 1.0);
        assert_eq!((q[0], q[1], q[8]), (127, 1, 0));
        assert_eq!(round_vector(-below_half), -1);
        assert_eq!(round_vector(-0.25), 0);
        assert_eq!(round_vector(2.5), 3);
        assert_eq!(round_vector(-2.5), -3);
    }

    /// kws/drq.tflite sample 199, CONV_2D 2: x / scale = 0.5000029 with zero point -128.
    /// `-128 + 0.5000029` in float is -127.5, which rounds to -128; TFLite rounds first and
    /// adds the zero point after: -127 (in both the vector loop and the remainder).
    #[test]
    fn asymmetric_adds_the_zero_point_after_rounding() {
        let mut x = [0.0f32; 10];
        x[0] = 9.502_838;
        x[1] = 0.018_633_123;
        x[9] = 0.018_633_123;
        let mut q = [0i8; 10];
        let (scale, zp) = asymmetric_quantize(&x, &mut q);
        assert_eq!((scale, zp), (0.037_266_03, -128));
        assert_eq!((q[0], q[1], q[2], q[9]), (127, -127, -128, -127));
    }

    /// The range is `max - min` subtracted in float before the double division.
    #[test]
    fn asymmetric_range_is_a_float_subtraction() {
        let (lo, hi) = (f32::from_bits(3_221_957_378), f32::from_bits(1_089_429_736));
        let mut q = [0i8; 2];
        let (scale, _) = asymmetric_quantize(&[lo, hi], &mut q);
        assert_eq!(scale, ((hi - lo) as f64 / 255.0) as f32);
        assert_ne!(scale, ((hi as f64 - lo as f64) / 255.0) as f32);
    }
}
