//! Input quantization of desktop TFLite's hybrid (dynamic-range) kernels
//! (tensorflow/lite/kernels/internal/reference/portable_tensor_utils.cc): float activations are
//! quantized to int8 on the fly, per batch, and the int32 dot products are scaled back to float.

/// `PortableSymmetricQuantizeFloats`: scale = max|x| / 127, zero point 0. Returns the scale.
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
    let inv = 127.0 / range;
    for (q, &v) in out.iter_mut().zip(values) {
        // TfLiteRound is std::round: half away from zero.
        *q = (libm::roundf(v * inv) as i32).clamp(-127, 127) as i8;
    }
    range / 127.0
}

/// `PortableAsymmetricQuantizeFloats`: the range [min(0, x), max(0, x)] onto [-128, 127] with a
/// nudged zero point, computed in double as TFLite does. Returns (scale, zero point).
pub fn asymmetric_quantize(values: &[f32], out: &mut [i8]) -> (f32, i32) {
    const QMIN: f64 = -128.0;
    const QMAX: f64 = 127.0;
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for &v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let rmin = lo.min(0.0) as f64;
    let rmax = hi.max(0.0) as f64;
    if values.is_empty() || rmin == rmax {
        out.iter_mut().for_each(|q| *q = 0);
        return (1.0, 0);
    }
    let scale = (rmax - rmin) / (QMAX - QMIN);
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
    let inv = 1.0 / scale;
    for (q, &v) in out.iter_mut().zip(values) {
        *q = (libm::roundf(nudged as f32 + v * inv) as i32).clamp(-128, 127) as i8;
    }
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
}
