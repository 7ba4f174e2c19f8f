//! QUANTIZE (float32 -> int8 as `reference_ops::AffineQuantize`; int8 -> int8 requantization as
//! TFLite Micro's `Requantize`) and DEQUANTIZE (int8 -> float32, `reference_ops::Dequantize`).

use super::{same_elements, Prep, TensorId};
use crate::error::Error;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Quantize {
    pub input: TensorId,
    pub mode: QuantizeMode,
}

#[derive(Clone, Copy, Debug)]
pub enum QuantizeMode {
    FromF32 {
        scale: f32,
        zero_point: i32,
    },
    Requantize {
        input_zero_point: i32,
        output_zero_point: i32,
        multiplier: i32,
        shift: i32,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Dequantize {
    pub input: TensorId,
    pub scale: f32,
    pub zero_point: i32,
}

pub fn prepare_quantize(p: &Prep<'_, '_>) -> Result<Quantize, Error> {
    let input = p.input(0)?;
    let output = p.output(0)?;
    same_elements(p, &input, &output)?;
    if output.scale_count() > 1 {
        return Err(p.unsupported("per-channel QUANTIZE is not supported"));
    }
    let mode = match (input.dtype, output.dtype) {
        (TensorType::Float32, TensorType::Int8) => QuantizeMode::FromF32 {
            scale: output.scale,
            zero_point: output.zero_point,
        },
        (TensorType::Int8, TensorType::Int8) => {
            let (multiplier, shift) = quantize_multiplier(input.scale as f64 / output.scale as f64);
            QuantizeMode::Requantize {
                input_zero_point: input.zero_point,
                output_zero_point: output.zero_point,
                multiplier,
                shift,
            }
        }
        _ => return Err(p.unsupported("QUANTIZE runs float32 -> int8 and int8 -> int8")),
    };
    Ok(Quantize {
        input: p.id(&input),
        mode,
    })
}

pub fn prepare_dequantize(p: &Prep<'_, '_>) -> Result<Dequantize, Error> {
    let input = p.input(0)?;
    let output = p.output(0)?;
    same_elements(p, &input, &output)?;
    if input.dtype != TensorType::Int8 || output.dtype != TensorType::Float32 {
        return Err(p.unsupported("DEQUANTIZE runs int8 -> float32"));
    }
    if input.scale_count() > 1 {
        return Err(p.unsupported("per-channel DEQUANTIZE is not supported"));
    }
    Ok(Dequantize {
        input: p.id(&input),
        scale: input.scale,
        zero_point: input.zero_point,
    })
}

impl Quantize {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        match self.mode {
            QuantizeMode::FromF32 { scale, zero_point } => {
                let input = ctx.f32(self.input)?;
                let out = ctx.out_i8();
                for (o, &v) in out.iter_mut().zip(input) {
                    let q = (libm::roundf(v / scale) as i32).saturating_add(zero_point);
                    *o = q.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
                }
            }
            QuantizeMode::Requantize {
                input_zero_point,
                output_zero_point,
                multiplier,
                shift,
            } => {
                let input = ctx.i8(self.input)?;
                let out = ctx.out_i8();
                for (o, &v) in out.iter_mut().zip(input) {
                    let q = multiply_by_quantized_multiplier(
                        v as i32 - input_zero_point,
                        multiplier,
                        shift,
                    )
                    .wrapping_add(output_zero_point);
                    *o = q.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
                }
            }
        }
        Ok(())
    }
}

impl Dequantize {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let input = ctx.i8(self.input)?;
        let out = ctx.out_f32()?;
        // DequantizationParams.scale is a double: the product is taken in double, then narrowed.
        let scale = self.scale as f64;
        for (o, &v) in out.iter_mut().zip(input) {
            *o = (scale * (v as i32 - self.zero_point) as f64) as f32;
        }
        Ok(())
    }
}
