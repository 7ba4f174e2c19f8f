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

/// Why test inputs do not fit the model's input tensor, or a device's output is not the golden
/// output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GoldenError {
    #[error("the model's input tensor is {tensor:?} but the test inputs are {inputs:?}")]
    InputType { tensor: TensorType, inputs: Elem },
    #[error("the output has {got} bytes, the golden output {expected}")]
    OutputLength { got: usize, expected: usize },
    #[error(
        "output element {index} is {got}, the golden output {expected} (relative error {relative:.2e} > {tolerance:e})",
        tolerance = FLOAT_TOLERANCE
    )]
    FloatElement {
        index: usize,
        got: f32,
        expected: f32,
        relative: f32,
    },
    #[error(
        "output byte {index} is {got}, the golden output {expected} (int8 outputs must be bit-exact)"
    )]
    Int8Byte { index: usize, got: i8, expected: i8 },
}

/// A test input row (elements `elem`) as the bytes of the model's input tensor `info`: float
/// inputs are quantized for an int8 tensor.
pub fn tensor_input(raw: &[u8], elem: Elem, info: &TensorInfo) -> Result<Vec<u8>, GoldenError> {
    match (info.dtype, elem) {
        (TensorType::Int8, Elem::F32) => Ok(quantize_input(raw, info.scale, info.zero_point)),
        (TensorType::Float32, Elem::F32) | (TensorType::Int8, Elem::I8) => Ok(raw.to_vec()),
        (tensor, inputs) => Err(GoldenError::InputType { tensor, inputs }),
    }
}

/// Compares the device's output with the golden output.
pub fn check_output(
    got: &[u8],
    expected: &[u8],
    output_type: TensorType,
) -> Result<(), GoldenError> {
    if got.len() != expected.len() {
        return Err(GoldenError::OutputLength {
            got: got.len(),
            expected: expected.len(),
        });
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
                    return Err(GoldenError::FloatElement {
                        index: i,
                        got: g,
                        expected: e,
                        relative: err,
                    });
                }
            }
            Ok(())
        }
        _ => match got.iter().zip(expected).position(|(g, e)| g != e) {
            None => Ok(()),
            Some(i) => Err(GoldenError::Int8Byte {
                index: i,
                got: got[i] as i8,
                expected: expected[i] as i8,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_say_where_in_the_same_words() {
        let f = |x: f32| x.to_le_bytes();
        assert_eq!(
            check_output(&[1, 2], &[1, 2, 3], TensorType::Int8)
                .unwrap_err()
                .to_string(),
            "the output has 2 bytes, the golden output 3"
        );
        assert_eq!(
            check_output(&[1, 0xfe], &[1, 2], TensorType::Int8),
            Err(GoldenError::Int8Byte {
                index: 1,
                got: -2,
                expected: 2
            })
        );
        assert_eq!(
            check_output(&[1, 0xfe], &[1, 2], TensorType::Int8)
                .unwrap_err()
                .to_string(),
            "output byte 1 is -2, the golden output 2 (int8 outputs must be bit-exact)"
        );
        assert_eq!(
            check_output(&f(1.5), &f(1.0), TensorType::Float32)
                .unwrap_err()
                .to_string(),
            "output element 0 is 1.5, the golden output 1 (relative error 5.00e-1 > 1e-4)"
        );
        assert_eq!(check_output(&f(1.0), &f(1.0), TensorType::Float32), Ok(()));
    }
}
