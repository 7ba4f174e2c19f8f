//! Golden data and tensor bytes: a test input row as the model's input tensor takes it, and a
//! device's output checked against the golden output. Shared by a job's output check, accuracy
//! mode and `mcubench infer`; a leaf (it knows npy element types and engine tensor types only).

use engine::{TensorInfo, TensorType};

use crate::npy::Elem;

/// Largest |device - golden| / max(|golden|, 1) allowed for float outputs. int8 outputs must be
/// bit-exact. Float kernels keep the reference's summation order, so only the last bits of
/// transcendental functions (exp, tanh) may differ.
pub const FLOAT_TOLERANCE: f32 = 1e-4;

/// Quantizes float32 input bytes for an int8 input tensor as TFLite's QUANTIZE kernel does
/// (`AffineQuantize`): `x / scale` in float32, rounded half away from zero (`TfLiteRound`), plus
/// the zero point, saturated. scripts/ makes the goldens from inputs quantized the same way.
pub fn quantize_input(input_f32: &[u8], scale: f32, zero_point: i32) -> Vec<u8> {
    input_f32
        .chunks_exact(4)
        .map(|c| {
            let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            let q = (x / scale).round() as i64 + i64::from(zero_point);
            q.clamp(-128, 127) as i8 as u8
        })
        .collect()
}

/// A test input row (elements `elem`) as the bytes of the model's input tensor `info`: float
/// inputs are quantized for an int8 tensor.
pub fn tensor_input(raw: &[u8], elem: Elem, info: &TensorInfo) -> Result<Vec<u8>, String> {
    match (info.dtype, elem) {
        (TensorType::Int8, Elem::F32) => Ok(quantize_input(raw, info.scale, info.zero_point)),
        (TensorType::Float32, Elem::F32) | (TensorType::Int8, Elem::I8) => Ok(raw.to_vec()),
        (t, e) => Err(format!(
            "the model's input tensor is {t:?} but the test inputs are {e:?}"
        )),
    }
}

/// Compares the device's output with the golden output.
pub fn check_output(got: &[u8], expected: &[u8], output_type: TensorType) -> Result<(), String> {
    if got.len() != expected.len() {
        return Err(format!(
            "the output has {} bytes, the golden output {}",
            got.len(),
            expected.len()
        ));
    }
    match output_type {
        TensorType::Float32 => {
            for (i, (g, e)) in got
                .chunks_exact(4)
                .zip(expected.chunks_exact(4))
                .enumerate()
            {
                let g = f32::from_le_bytes([g[0], g[1], g[2], g[3]]);
                let e = f32::from_le_bytes([e[0], e[1], e[2], e[3]]);
                let err = (g - e).abs() / e.abs().max(1.0);
                if err.is_nan() || err > FLOAT_TOLERANCE {
                    return Err(format!(
                        "output element {i} is {g}, the golden output {e} (relative error {err:.2e} > {FLOAT_TOLERANCE:e})"
                    ));
                }
            }
            Ok(())
        }
        _ => match got.iter().zip(expected).position(|(g, e)| g != e) {
            None => Ok(()),
            Some(i) => Err(format!(
                "output byte {i} is {}, the golden output {} (int8 outputs must be bit-exact)",
                got[i] as i8, expected[i] as i8
            )),
        },
    }
}
