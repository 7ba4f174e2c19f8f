//! MUL: int8 (TFLite Micro `reference_integer_ops::Mul`: (x1 - zp1) * (x2 - zp2) rescaled by
//! s1 * s2 / s_out) and float32, broadcasting as ADD does.

use super::add_sub::Broadcast;
use super::{clamp_f32, Prep, TensorId};
use crate::error::Error;
use crate::quant::{quantize_multiplier, requantize};
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Mul {
    pub input1: TensorId,
    pub input2: TensorId,
    pub shape: Broadcast,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Int8 {
        input1_offset: i32,
        input2_offset: i32,
        output_offset: i32,
        multiplier: i32,
        shift: i32,
        act_min: i32,
        act_max: i32,
    },
    F32 {
        act_min: f32,
        act_max: f32,
    },
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Mul, Error> {
    p.expect_options(21)?;
    let a = p.input(0)?;
    let b = p.input(1)?;
    let out = p.output(0)?;
    // MulOptions: fused_activation_function 0.
    let act = p.activation(0)?;
    let shape = Broadcast::new(p, &a.shape, &b.shape, &out.shape)?;
    let mode = match (a.dtype, b.dtype, out.dtype) {
        (TensorType::Int8, TensorType::Int8, TensorType::Int8) => {
            let (multiplier, shift) =
                quantize_multiplier(a.scale as f64 * b.scale as f64 / out.scale as f64);
            let (act_min, act_max) = act.range_i8(out.scale, out.zero_point);
            Mode::Int8 {
                input1_offset: -a.zero_point,
                input2_offset: -b.zero_point,
                output_offset: out.zero_point,
                multiplier,
                shift,
                act_min,
                act_max,
            }
        }
        (TensorType::Float32, TensorType::Float32, TensorType::Float32) => {
            let (act_min, act_max) = act.range_f32();
            Mode::F32 { act_min, act_max }
        }
        _ => {
            return Err(p.unsupported("MUL runs int8 and float32 with equal input and output types"))
        }
    };
    Ok(Mul {
        input1: p.id(&a),
        input2: p.id(&b),
        shape,
        mode,
    })
}

impl Mul {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        match self.mode {
            Mode::Int8 {
                input1_offset,
                input2_offset,
                output_offset,
                multiplier,
                shift,
                act_min,
                act_max,
            } => {
                let (a, b) = (ctx.i8(self.input1)?, ctx.i8(self.input2)?);
                let out = ctx.out_i8();
                self.shape.for_each(|o, i, j| {
                    let prod = (a[i] as i32 + input1_offset) * (b[j] as i32 + input2_offset);
                    out[o] = requantize(prod, multiplier, shift, output_offset, act_min, act_max);
                });
            }
            Mode::F32 { act_min, act_max } => {
                let (a, b) = (ctx.f32(self.input1)?, ctx.f32(self.input2)?);
                let out = ctx.out_f32()?;
                self.shape
                    .for_each(|o, i, j| out[o] = clamp_f32(a[i] * b[j], act_min, act_max));
            }
        }
        Ok(())
    }
}
