//! CONCATENATION of up to 4 inputs along one axis, float32 or int8 with one shared quantization
//! (a plain copy, as TFLite Micro does when the scales match; requantizing inputs is rejected).

use super::{Prep, TensorId, NO_TENSOR};
use crate::error::Error;
use crate::schema::TensorType;

/// The most inputs one CONCATENATION may have here.
pub const MAX_INPUTS: usize = 4;

#[derive(Clone, Copy, Debug)]
pub struct Concatenation {
    pub inputs: [TensorId; MAX_INPUTS],
    /// Bytes each input contributes per outer step (its axis size x inner size x element size).
    pub chunk: [u32; MAX_INPUTS],
    pub outer: u32,
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Concatenation, Error> {
    p.expect_options(10)?;
    let output = p.output(0)?;
    let n = p.op.inputs.len();
    if n == 0 || n > MAX_INPUTS {
        return Err(p.unsupported("CONCATENATION supports 1 to 4 inputs"));
    }
    if !matches!(output.dtype, TensorType::Float32 | TensorType::Int8) {
        return Err(p.unsupported("CONCATENATION runs float32 and int8"));
    }
    // ConcatenationOptions: axis 0, fused_activation_function 1.
    if p.opt_i8(1, 0)? != 0 {
        return Err(p.unsupported("CONCATENATION with a fused activation is not supported"));
    }
    let rank = output.shape.rank as i32;
    let mut axis = p.opt_i32(0, 0)?;
    if axis < 0 {
        axis += rank;
    }
    if axis < 0 || axis >= rank {
        return Err(p.invalid("the axis is out of range"));
    }
    let axis = axis as usize;
    let dims = output.shape.dims();
    let outer: usize = dims[..axis].iter().map(|&d| d as usize).product();
    let inner: usize = dims[axis + 1..].iter().map(|&d| d as usize).product();
    let mut inputs = [NO_TENSOR; MAX_INPUTS];
    let mut chunk = [0u32; MAX_INPUTS];
    let mut total = 0;
    for k in 0..n {
        let t = p.input(k)?;
        if t.dtype != output.dtype || t.shape.rank != output.shape.rank {
            return Err(p.unsupported("CONCATENATION inputs must match the output's type and rank"));
        }
        if t.dtype == TensorType::Int8
            && (t.scale != output.scale || t.zero_point != output.zero_point)
        {
            return Err(
                p.unsupported("int8 CONCATENATION with differing quantization is not supported")
            );
        }
        let a = t.shape.dim(axis);
        if t.shape.elements() != outer * a * inner {
            return Err(
                p.invalid("an input's dimensions other than the axis differ from the output's")
            );
        }
        total += a;
        inputs[k] = p.id(&t);
        chunk[k] = u32::try_from(a * inner * t.dtype.size())
            .map_err(|_| p.unsupported("tensor too large"))?;
    }
    if total != output.shape.dim(axis) {
        return Err(p.invalid("the inputs do not add up to the output along the axis"));
    }
    Ok(Concatenation {
        inputs,
        chunk,
        outer: outer as u32,
    })
}

impl Concatenation {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let mut srcs: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
        for (s, &t) in srcs.iter_mut().zip(&self.inputs) {
            if t != NO_TENSOR {
                *s = ctx.bytes(t)?;
            }
        }
        let out = ctx.out_bytes();
        let mut o = 0;
        for i in 0..self.outer as usize {
            for (s, &c) in srcs.iter().zip(&self.chunk) {
                let c = c as usize;
                if c > 0 {
                    out[o..o + c].copy_from_slice(&s[i * c..(i + 1) * c]);
                    o += c;
                }
            }
        }
        Ok(())
    }
}
