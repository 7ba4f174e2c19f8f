//! MEAN over constant axes, any combination of up to 4 dimensions, with or without keep_dims.
//! float32 as `reference_ops::Mean` (sum in input order, then divide). int8 as TensorFlow Lite
//! Micro's `EvalIntegerMean` (reduce_common.cc), which runs `reference_ops::QuantizedMeanOrSum`
//! (reduce.h) for every axis set: 1/count is folded into the requantization multiplier, and the
//! only rounding is `MultiplyByQuantizedMultiplier`'s. Older TFLM and desktop TFLite send axes
//! {1, 2} with keep_dims to `reference_integer_ops::Mean` instead (requantize the sum, then divide
//! rounding half away from zero), which differs by 1 on some outputs; the `tflite-micro` goldens
//! (tests/ops.rs, mean_int8_*) follow `QuantizedMeanOrSum` on every axis set, {1, 2} included.

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

/// Requantization of int8 MEAN: `QuantizedMeanOrSum`'s multiplier with 1/count folded in.
#[derive(Clone, Copy, Debug)]
pub struct Int8Mean {
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    /// Elements summed into each output.
    pub count: u32,
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
    // keep_dims (ReducerOptions field 0) changes only the output shape, checked above.
    let count: usize = (0..4).filter(|&d| reduced[d]).map(|d| dims[d]).product();
    let int8 = if int8 {
        let (multiplier, shift) = quantize_multiplier(input.scale as f64 / output.scale as f64);
        let (multiplier, shift) = fold_count(multiplier, shift, count as u64);
        Some(Int8Mean {
            input_zero_point: input.zero_point,
            output_zero_point: output.zero_point,
            count: u32::try_from(count)
                .map_err(|_| p.invalid("a MEAN reduces too many elements"))?,
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

/// `QuantizedMeanOrSum` (mean case): the multiplier times 2^k / count, with k = floor(log2(count))
/// kept at most 32 and at most 31 + shift so that the shift stays a valid right shift.
fn fold_count(multiplier: i32, shift: i32, count: u64) -> (i32, i32) {
    if count == 0 {
        return (multiplier, shift);
    }
    let k = (63 - count.leading_zeros() as i32)
        .min(32)
        .min(31 + shift)
        .max(0);
    let folded = ((multiplier as i64) << k) / count as i64;
    (folded as i32, shift - k)
}

impl Mean {
    /// `QuantizedMeanOrSum`: the int32 sum of the raw inputs (wrapping, as
    /// `AddTensorValuesWithExpectedOverflow`), minus input zero point times count, requantized with
    /// the folded multiplier, plus the output zero point, saturated. Integer sums do not depend on
    /// the order, so each output sums its own elements (no scratch buffer).
    fn eval_int8(&self, ctx: &mut super::Ctx<'_>, q: Int8Mean) -> Result<(), &'static str> {
        let input = ctx.i8(self.input)?;
        let out = ctx.out_i8();
        let d = self.dims.map(|v| v as usize);
        let r = self.reduced;
        // Output dims (1 where reduced) and the reduced block each output sums over.
        let od: [usize; 4] = core::array::from_fn(|k| if r[k] { 1 } else { d[k] });
        let rd: [usize; 4] = core::array::from_fn(|k| if r[k] { d[k] } else { 1 });
        let index = |i: [usize; 4]| ((i[0] * d[1] + i[1]) * d[2] + i[2]) * d[3] + i[3];
        if q.count == 0 {
            out.iter_mut().for_each(|o| *o = 0);
            return Ok(());
        }
        let bias = (q.input_zero_point as i64 * q.count as i64) as i32;
        let mut o = 0;
        for a in 0..od[0] {
            for b in 0..od[1] {
                for c in 0..od[2] {
                    for e in 0..od[3] {
                        let mut sum: i32 = 0;
                        for ra in 0..rd[0] {
                            for rb in 0..rd[1] {
                                for rc in 0..rd[2] {
                                    // Channels are innermost: a reduced channel axis is a run.
                                    let row = index([a + ra, b + rb, c + rc, e]);
                                    for &v in &input[row..row + rd[3]] {
                                        sum = sum.wrapping_add(v as i32);
                                    }
                                }
                            }
                        }
                        let scaled = multiply_by_quantized_multiplier(
                            sum.wrapping_sub(bias),
                            q.multiplier,
                            q.shift,
                        );
                        let v = scaled.saturating_add(q.output_zero_point);
                        out[o] = v.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
                        o += 1;
                    }
                }
            }
        }
        Ok(())
    }
}
