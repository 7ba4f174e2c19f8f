//! STRIDED_SLICE up to 4-D with constant int32 begin/end/strides, begin/end/shrink-axis masks and
//! the `offset` option (`reference_ops::StridedSlice` with strided_slice_logic.h); ellipsis and
//! new-axis masks are rejected. A pure copy, so float32 and int8 behave the same.

use super::{Prep, TensorId};
use crate::error::Error;
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct StridedSlice {
    pub input: TensorId,
    pub in_dims: [u32; 4],
    pub start: [i32; 4],
    pub stop: [i32; 4],
    pub stride: [i32; 4],
    pub elem: u8,
}

fn read_i32s(data: &[u8], out: &mut [i32; 4], n: usize) -> bool {
    if data.len() != n * 4 {
        return false;
    }
    for (k, c) in data.chunks_exact(4).enumerate() {
        out[k] = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    true
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<StridedSlice, Error> {
    p.expect_options(32)?;
    let input = p.input(0)?;
    let output = p.output(0)?;
    if !matches!(input.dtype, TensorType::Float32 | TensorType::Int8) || input.dtype != output.dtype
    {
        return Err(p.unsupported("STRIDED_SLICE runs float32 and int8"));
    }
    let rank = input.shape.rank as usize;
    let in4 = input
        .shape
        .nhwc()
        .ok_or_else(|| p.unsupported("STRIDED_SLICE supports up to 4-D"))?;
    let (mut begin, mut end, mut strides) = ([0i32; 4], [0i32; 4], [1i32; 4]);
    for (k, v) in [&mut begin, &mut end, &mut strides].into_iter().enumerate() {
        let t = p.input(k + 1)?;
        let data = t
            .data
            .filter(|_| t.dtype == TensorType::Int32)
            .ok_or_else(|| p.unsupported("STRIDED_SLICE needs constant int32 begin/end/strides"))?;
        if !read_i32s(data, v, rank) {
            return Err(p.invalid("begin/end/strides do not have one value per dimension"));
        }
    }
    // StridedSliceOptions: begin_mask 0, end_mask 1, ellipsis_mask 2, new_axis_mask 3,
    // shrink_axis_mask 4, offset 5.
    let begin_mask = p.opt_i32(0, 0)?;
    let end_mask = p.opt_i32(1, 0)?;
    if p.opt_i32(2, 0)? != 0 || p.opt_i32(3, 0)? != 0 {
        return Err(p.unsupported("STRIDED_SLICE ellipsis and new-axis masks are not supported"));
    }
    let shrink = p.opt_i32(4, 0)?;
    let offset = p.opt_bool(5)?;
    let lead = 4 - rank;
    let (mut start, mut stop, mut stride) = ([0i32; 4], [1i32; 4], [1i32; 4]);
    let mut count = 1usize;
    for d in 0..4 {
        if d < lead {
            continue;
        }
        let k = d - lead;
        let dim = in4[d] as i32;
        let s = strides[k];
        if s == 0 {
            return Err(p.invalid("a stride is zero"));
        }
        let (lo, hi) = if s > 0 { (0, dim) } else { (-1, dim - 1) };
        // StartForAxis / StopForAxis (strided_slice_logic.h).
        let mut b = begin[k];
        if begin_mask & (1 << k) != 0 {
            b = if s > 0 { 0 } else { dim - 1 };
        } else {
            if b < 0 {
                b += dim;
            }
            b = b.clamp(lo, hi);
        }
        let mut e = if offset {
            begin[k].saturating_add(end[k])
        } else {
            end[k]
        };
        if shrink & (1 << k) != 0 {
            if b < 0 || b >= dim {
                return Err(p.invalid("a shrunk axis starts outside the dimension"));
            }
            e = b + 1;
        } else if end_mask & (1 << k) != 0 {
            e = if s > 0 { dim } else { -1 };
        } else {
            if e < 0 {
                e += dim;
            }
            e = e.clamp(lo, hi);
        }
        let (span, step) = if s > 0 {
            ((e - b).max(0), s)
        } else {
            ((b - e).max(0), -s)
        };
        let n = (span as u32).div_ceil(step as u32);
        count *= n as usize;
        start[d] = b;
        stop[d] = e;
        stride[d] = s;
    }
    if count != output.shape.elements() {
        return Err(p.invalid("the slice does not have the output's size"));
    }
    Ok(StridedSlice {
        input: p.id(&input),
        in_dims: in4.map(|d| d as u32),
        start,
        stop,
        stride,
        elem: input.dtype.size() as u8,
    })
}

impl StridedSlice {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let input = ctx.bytes(self.input)?;
        let out = ctx.out_bytes();
        let e = self.elem as usize;
        let d = self.in_dims.map(|v| v as i32);
        let done = |k: usize, v: i32| {
            if self.stride[k] > 0 {
                v >= self.stop[k]
            } else {
                v <= self.stop[k]
            }
        };
        let mut o = 0;
        let mut a = self.start[0];
        while !done(0, a) {
            let mut b = self.start[1];
            while !done(1, b) {
                let mut c = self.start[2];
                while !done(2, c) {
                    let mut f = self.start[3];
                    while !done(3, f) {
                        let at = (((a * d[1] + b) * d[2] + c) * d[3] + f) as usize;
                        out[o * e..(o + 1) * e].copy_from_slice(&input[at * e..(at + 1) * e]);
                        o += 1;
                        f += self.stride[3];
                    }
                    c += self.stride[2];
                }
                b += self.stride[1];
            }
            a += self.stride[0];
        }
        Ok(())
    }
}
