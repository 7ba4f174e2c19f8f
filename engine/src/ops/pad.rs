//! PAD with constant int32 paddings, up to 4-D: float32 pads with 0.0, int8 with the zero point
//! (the quantized 0.0), as `reference_ops::Pad`.

use super::{Prep, TensorId};
use crate::error::Error;
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Pad {
    pub input: TensorId,
    pub in_dims: [u32; 4],
    pub out_dims: [u32; 4],
    pub before: [u32; 4],
    pub elem: u8,
    /// The padding value's bytes (little-endian, `elem` of them used).
    pub value: [u8; 4],
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Pad, Error> {
    p.expect_options(22)?;
    let input = p.input(0)?;
    let paddings = p.input(1)?;
    let output = p.output(0)?;
    let value = match (input.dtype, output.dtype) {
        (TensorType::Float32, TensorType::Float32) => 0.0f32.to_le_bytes(),
        (TensorType::Int8, TensorType::Int8) => [output.zero_point as i8 as u8, 0, 0, 0],
        _ => return Err(p.unsupported("PAD runs float32 and int8")),
    };
    let in4 = input
        .shape
        .nhwc()
        .ok_or_else(|| p.unsupported("PAD supports up to 4-D"))?;
    let out4 = output
        .shape
        .nhwc()
        .ok_or_else(|| p.unsupported("PAD supports up to 4-D"))?;
    let data = paddings
        .data
        .filter(|_| paddings.dtype == TensorType::Int32)
        .ok_or_else(|| p.unsupported("PAD needs constant int32 paddings"))?;
    let rank = input.shape.rank as usize;
    if data.len() != rank * 8 {
        return Err(p.invalid("the paddings are not [rank, 2]"));
    }
    let mut before = [0u32; 4];
    for k in 0..rank {
        let at = |j: usize| i32::from_le_bytes([data[j], data[j + 1], data[j + 2], data[j + 3]]);
        let (b, a) = (at(k * 8), at(k * 8 + 4));
        let d = 4 - rank + k;
        if b < 0 || a < 0 || in4[d] + b as usize + a as usize != out4[d] {
            return Err(p.invalid("the paddings do not match the output shape"));
        }
        before[d] = b as u32;
    }
    Ok(Pad {
        input: p.id(&input),
        in_dims: in4.map(|d| d as u32),
        out_dims: out4.map(|d| d as u32),
        before,
        elem: input.dtype.size() as u8,
        value,
    })
}

impl Pad {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let input = ctx.bytes(self.input)?;
        let out = ctx.out_bytes();
        let e = self.elem as usize;
        let (i, o, b) = (
            self.in_dims.map(|v| v as usize),
            self.out_dims.map(|v| v as usize),
            self.before.map(|v| v as usize),
        );
        let mut k = 0;
        for n in 0..o[0] {
            for h in 0..o[1] {
                for w in 0..o[2] {
                    for c in 0..o[3] {
                        let src = [n, h, w, c];
                        let inside = (0..4).all(|d| src[d] >= b[d] && src[d] < b[d] + i[d]);
                        let dst = &mut out[k * e..(k + 1) * e];
                        if inside {
                            let at = (((n - b[0]) * i[1] + (h - b[1])) * i[2] + (w - b[2])) * i[3]
                                + (c - b[3]);
                            dst.copy_from_slice(&input[at * e..(at + 1) * e]);
                        } else {
                            dst.copy_from_slice(&self.value[..e]);
                        }
                        k += 1;
                    }
                }
            }
        }
        Ok(())
    }
}
