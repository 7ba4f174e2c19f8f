//! MEAN over constant axes: float32 (`reference_ops::Mean`: sum in input order, then divide), and
//! int8 in the case TFLite Micro gives its own kernel (reduce_common.cc: 4-D input, axes {1, 2},
//! keep_dims; `reference_integer_ops::Mean`). Other int8 cases (TFLite Micro's
//! `QuantizedMeanOrSum`) are rejected.

use super::{Prep, TensorId};
use crate::error::Error;
use crate::quant::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Mean {
    pub input: TensorId,
    /// Input shape as 4-D.
    pub dims: [u32; 4],
    /// Which of the 4 dimensions are reduced.
    pub reduced: [bool; 4],
    /// `None` for float32.
    pub int8: Option<Int8Mean>,
}

/// Requantization of int8 MEAN over height and width.
#[derive(Clone, Copy, Debug)]
pub struct Int8Mean {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub multiplier: i32,
    pub shift: i32,
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Mean, Error> {
    p.expect_options(27)?;
    let input = p.input(0)?;
    let axes = p.input(1)?;
    let output = p.output(0)?;
    let int8 = match (input.dtype, output.dtype) {
        (TensorType::Float32, TensorType::Float32) => false,
        (TensorType::Int8, TensorType::Int8) => true,
        _ => return Err(p.unsupported("MEAN runs float32 and int8")),
    };
    let dims = input
        .shape
        .nhwc()
        .ok_or_else(|| p.unsupported("MEAN supports up to 4-D inputs"))?;
    let data = axes
        .data
        .filter(|_| axes.dtype == TensorType::Int32)
        .ok_or_else(|| p.unsupported("MEAN needs constant int32 axes"))?;
    let lead = 4 - input.shape.rank as i32;
    let mut reduced = [false; 4];
    for chunk in data.chunks_exact(4) {
        let mut axis = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        if axis < 0 {
            axis += input.shape.rank as i32;
        }
        if axis < 0 || axis >= input.shape.rank as i32 {
            return Err(p.invalid("a MEAN axis is out of range"));
        }
        reduced[(axis + lead) as usize] = true;
    }
    let kept: usize = (0..4).filter(|&d| !reduced[d]).map(|d| dims[d]).product();
    if kept != output.shape.elements() {
        return Err(p.invalid("the MEAN output size does not match the reduced axes"));
    }
    // ReducerOptions: keep_dims 0.
    let int8 = if int8 {
        if input.shape.rank != 4 || reduced != [false, true, true, false] || !p.opt_bool(0)? {
            return Err(p.unsupported(
                "int8 MEAN runs over axes 1 and 2 of a 4-D input with keep_dims only",
            ));
        }
        let (multiplier, shift) = quantize_multiplier(input.scale as f64 / output.scale as f64);
        Some(Int8Mean {
            input_zero_point: input.zero_point,
            output_zero_point: output.zero_point,
            multiplier,
            shift,
        })
    } else {
        None
    };
    Ok(Mean {
        input: p.id(&input),
        dims: dims.map(|d| d as u32),
        reduced,
        int8,
    })
}

impl Mean {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        if let Some(q) = self.int8 {
            return self.eval_int8(ctx, q);
        }
        let input = ctx.f32(self.input)?;
        let out = ctx.out_f32()?;
        out.iter_mut().for_each(|o| *o = 0.0);
        let d = self.dims.map(|v| v as usize);
        let keep = |i: usize, n: usize| if self.reduced[i] { 1 } else { n };
        let od = [keep(0, d[0]), keep(1, d[1]), keep(2, d[2]), keep(3, d[3])];
        let mut i = 0;
        for a in 0..d[0] {
            for b in 0..d[1] {
                for c in 0..d[2] {
                    for e in 0..d[3] {
                        let pick = |k: usize, v: usize| if self.reduced[k] { 0 } else { v };
                        let o = ((pick(0, a) * od[1] + pick(1, b)) * od[2] + pick(2, c)) * od[3]
                            + pick(3, e);
                        out[o] += input[i];
                        i += 1;
                    }
                }
            }
        }
        let count: usize = (0..4).filter(|&k| self.reduced[k]).map(|k| d[k]).product();
        for o in out.iter_mut() {
            *o /= count as f32;
        }
        Ok(())
    }
}

impl Mean {
    /// `reference_integer_ops::Mean`: sum of (x - input zero point) over height and width, rescaled
    /// by input/output scale, divided by the count rounding half away from zero, plus the output
    /// zero point.
    fn eval_int8(&self, ctx: &mut super::Ctx<'_>, q: Int8Mean) -> Result<(), &'static str> {
        let input = ctx.i8(self.input)?;
        let out = ctx.out_i8();
        let [n, h, w, c] = self.dims.map(|d| d as usize);
        let count = (h * w) as i64;
        for b in 0..n {
            for ch in 0..c {
                let mut acc: i32 = 0;
                for y in 0..h {
                    for x in 0..w {
                        let v = input[((b * h + y) * w + x) * c + ch] as i32;
                        acc = acc.wrapping_add(v - q.input_zero_point);
                    }
                }
                let scaled = multiply_by_quantized_multiplier(acc, q.multiplier, q.shift) as i64;
                let mean = if count == 0 {
                    0
                } else if scaled > 0 {
                    (scaled + count / 2) / count
                } else {
                    (scaled - count / 2) / count
                };
                let v = (mean + q.output_zero_point as i64).clamp(i8::MIN as i64, i8::MAX as i64);
                out[b * c + ch] = v as i8;
            }
        }
        Ok(())
    }
}
