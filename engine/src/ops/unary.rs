//! RELU, RELU6 (int8 as TFLite Micro's `ReluQuantized`/`Relu6Quantized`: rescale input to output,
//! clamp; and float32), LOGISTIC and TANH (float32 only: TFLite Micro's int8 versions use
//! fixed-point approximations not implemented here, so int8 models with them are rejected).

use super::{same_elements, Prep, TensorId};
use crate::error::Error;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::schema::{op, TensorType};

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
        _ => return Err(p.unsupported("this activation runs float32 (and int8 for RELU/RELU6)")),
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
