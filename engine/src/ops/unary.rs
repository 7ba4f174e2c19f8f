//! RELU and RELU6 (int8 as TFLite Micro's `ReluQuantized` / `Relu6Quantized`), LOGISTIC and TANH
//! (int8 in gemmlowp fixed point as `reference_integer_ops::Logistic` / `Tanh`, inputs in Q4.27),
//! and all four in float32.

use super::{same_elements, Prep, TensorId};
use crate::error::Error;
use crate::fixedpoint;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier, rounding_divide_by_pot};
use crate::schema::{op, TensorType};

/// Integer bits of the int8 LOGISTIC/TANH input (`kInputIntegerBits`).
const FIXED_INPUT_INTEGER_BITS: i32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Relu,
    Relu6,
    Logistic,
    Tanh,
}

#[derive(Clone, Copy, Debug)]
pub struct Unary {
    pub input: TensorId,
    pub function: Function,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Int8 {
        input_zero_point: i32,
        output_zero_point: i32,
        multiplier: i32,
        shift: i32,
        act_min: i32,
        act_max: i32,
    },
    /// int8 LOGISTIC/TANH in fixed point.
    Int8Fixed {
        input_zero_point: i32,
        radius: i32,
        multiplier: i32,
        left_shift: i32,
    },
    /// Clamp without rescaling (int8 RELU6).
    Int8Clamp {
        lo: i32,
        hi: i32,
    },
    F32,
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Unary, Error> {
    let input = p.input(0)?;
    let output = p.output(0)?;
    same_elements(p, &input, &output)?;
    let function = match p.op.code {
        op::RELU => Function::Relu,
        op::RELU6 => Function::Relu6,
        op::LOGISTIC => Function::Logistic,
        _ => Function::Tanh,
    };
    let mode = match (input.dtype, output.dtype, function) {
        (TensorType::Float32, TensorType::Float32, _) => Mode::F32,
        (TensorType::Int8, TensorType::Int8, Function::Relu) => {
            // activations.cc ReluPrepare: rescale input to output, clamp at the output's 0.
            let act_min = (i8::MIN as i32).max(
                output
                    .zero_point
                    .saturating_add(libm::roundf(0.0 / output.scale) as i32),
            );
            let (multiplier, shift) = quantize_multiplier(input.scale as f64 / output.scale as f64);
            Mode::Int8 {
                input_zero_point: input.zero_point,
                output_zero_point: output.zero_point,
                multiplier,
                shift,
                act_min,
                act_max: i8::MAX as i32,
            }
        }
        (TensorType::Int8, TensorType::Int8, Function::Relu6) => {
            // activations.cc Relu6Prepare: no rescaling; the input is clamped to its own quantized
            // 0 and 6 (FloatToQuantizedType), so the output must share the input's quantization.
            let six = input
                .zero_point
                .saturating_add(libm::roundf(6.0 / input.scale) as i32);
            Mode::Int8Clamp {
                lo: input.zero_point,
                hi: six.clamp(i8::MIN as i32, i8::MAX as i32),
            }
        }
        (TensorType::Int8, TensorType::Int8, Function::Logistic | Function::Tanh) => {
            // logistic_common.cc / tanh_common.cc: the output quantization is fixed.
            let (scale, zero_point) = if function == Function::Logistic {
                (1.0 / 256.0, -128)
            } else {
                (1.0 / 128.0, 0)
            };
            if output.scale != scale || output.zero_point != zero_point {
                return Err(p.unsupported(
                    "int8 LOGISTIC needs output scale 1/256 and zero point -128, TANH 1/128 and 0",
                ));
            }
            // input_real_multiplier = scale * 2^(31 - 4), split by frexp (not QuantizeMultiplier).
            let (q, left_shift) =
                libm::frexp(input.scale as f64 * (1i64 << (31 - FIXED_INPUT_INTEGER_BITS)) as f64);
            if !(0..=31).contains(&left_shift) {
                return Err(
                    p.unsupported("int8 LOGISTIC/TANH with this input scale is not supported")
                );
            }
            // The C++ converts the rounded double to int32 directly; it reaches 2^31 only for q
            // within 2^-32 of 1, where this saturates.
            let multiplier = libm::round(q * (1i64 << 31) as f64) as i32;
            // CalculateInputRadius(4, left_shift, 31).
            let radius = libm::floor(
                ((1i64 << FIXED_INPUT_INTEGER_BITS) - 1) as f64
                    * (1i64 << (31 - FIXED_INPUT_INTEGER_BITS)) as f64
                    / (1i64 << left_shift) as f64,
            ) as i32;
            Mode::Int8Fixed {
                input_zero_point: input.zero_point,
                radius,
                multiplier,
                left_shift,
            }
        }
        _ => return Err(p.unsupported("this activation runs float32 and int8")),
    };
    Ok(Unary {
        input: p.id(&input),
        function,
        mode,
    })
}

impl Unary {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        match self.mode {
            Mode::Int8 {
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
                act_min,
                act_max,
            } => {
                let input = ctx.i8(self.input)?;
                let out = ctx.out_i8();
                for (o, &v) in out.iter_mut().zip(input) {
                    let r = output_zero_point.wrapping_add(multiply_by_quantized_multiplier(
                        v as i32 - input_zero_point,
                        multiplier,
                        shift,
                    ));
                    *o = r.clamp(act_min, act_max) as i8;
                }
            }
            Mode::Int8Fixed {
                input_zero_point,
                radius,
                multiplier,
                left_shift,
            } => {
                let input = ctx.i8(self.input)?;
                let out = ctx.out_i8();
                let logistic = self.function == Function::Logistic;
                for (o, &v) in out.iter_mut().zip(input) {
                    let x = v as i32 - input_zero_point;
                    *o = if x <= -radius {
                        if logistic {
                            i8::MIN
                        } else {
                            -128
                        }
                    } else if x >= radius {
                        i8::MAX
                    } else {
                        let q4 = multiply_by_quantized_multiplier(x, multiplier, left_shift);
                        let r = if logistic {
                            // Q0.31 -> 1/256 steps, output zero point -128.
                            rounding_divide_by_pot(
                                fixedpoint::logistic(q4, FIXED_INPUT_INTEGER_BITS),
                                31 - 8,
                            ) - 128
                        } else {
                            // Q0.31 -> 1/128 steps (kOutputScale 7).
                            rounding_divide_by_pot(
                                fixedpoint::tanh(q4, FIXED_INPUT_INTEGER_BITS),
                                31 - 7,
                            )
                        };
                        r.clamp(i8::MIN as i32, i8::MAX as i32) as i8
                    };
                }
            }
            Mode::Int8Clamp { lo, hi } => {
                let input = ctx.i8(self.input)?;
                let out = ctx.out_i8();
                for (o, &v) in out.iter_mut().zip(input) {
                    *o = (v as i32).clamp(lo, hi) as i8;
                }
            }
            Mode::F32 => {
                let input = ctx.f32(self.input)?;
                let out = ctx.out_f32()?;
                for (o, &v) in out.iter_mut().zip(input) {
                    *o = match self.function {
                        Function::Relu => v.max(0.0),
                        Function::Relu6 => super::clamp_f32(v, 0.0, 6.0),
                        Function::Logistic => 1.0 / (1.0 + libm::expf(-v)),
                        Function::Tanh => libm::tanhf(v),
                    };
                }
            }
        }
        Ok(())
    }
}
