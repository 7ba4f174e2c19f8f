//! MEAN over constant axes, float32 (`reference_ops::Mean`: sum in input order, then divide).
//! int8 MEAN (TFLite Micro's requantizing `QuantizedMeanOrSum`) is not implemented and is rejected.

use super::{Prep, TensorId};
use crate::error::Error;
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Mean {
    pub input: TensorId,
    /// Input shape as 4-D.
    pub dims: [u32; 4],
    /// Which of the 4 dimensions are reduced.
    pub reduced: [bool; 4],
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Mean, Error> {
    p.expect_options(27)?;
    let input = p.input(0)?;
    let axes = p.input(1)?;
    let output = p.output(0)?;
    if input.dtype != TensorType::Float32 || output.dtype != TensorType::Float32 {
        return Err(p.unsupported("MEAN runs float32 only"));
    }
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
    Ok(Mean {
        input: p.id(&input),
        dims: dims.map(|d| d as u32),
        reduced,
    })
}

impl Mean {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
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
