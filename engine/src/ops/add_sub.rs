//! ADD and SUB: int8 with TFLite Micro's scheme (add_common.cc / sub_common.cc: both inputs shifted
//! left by 20 bits, rescaled to twice the larger input scale, summed, then rescaled to the output;
//! reference_integer_ops/add.h), and float32. Broadcasting up to 4-D as `BroadcastAdd4DSlow`.

use super::{clamp_f32, Prep, TensorId};
use crate::error::Error;
use crate::quant::{
    fits_narrow_bound, multiply_by_quantized_multiplier, quantize_multiplier, Clamp, NarrowRequant,
    Requant, Requantizer,
};
use crate::schema::{Shape, TensorType};

/// Elementwise int8 ADD/SUB of at least this many elements tabulates each input's term.
const TABLE_ELEMENTS: usize = 1024;

/// Element strides of two inputs broadcast against a 4-D output (0 along broadcast dimensions).
#[derive(Clone, Copy, Debug)]
pub struct Broadcast {
    pub out: [u32; 4],
    pub stride1: [u32; 4],
    pub stride2: [u32; 4],
}

impl Broadcast {
    pub fn new(p: &Prep<'_, '_>, a: &Shape, b: &Shape, out: &Shape) -> Result<Self, Error> {
        let bad = || {
            p.unsupported("broadcasting is supported up to 4-D with matching or unit dimensions")
        };
        let (a4, b4, o4) = (
            a.nhwc().ok_or_else(bad)?,
            b.nhwc().ok_or_else(bad)?,
            out.nhwc().ok_or_else(bad)?,
        );
        let strides = |s: [usize; 4]| -> Result<[u32; 4], Error> {
            let mut st = [0u32; 4];
            let mut acc = 1usize;
            for d in (0..4).rev() {
                if s[d] == o4[d] {
                    st[d] = u32::try_from(acc).map_err(|_| bad())?;
                } else if s[d] != 1 {
                    return Err(bad());
                }
                acc = acc.saturating_mul(s[d]);
            }
            Ok(st)
        };
        let mut o = [0u32; 4];
        for d in 0..4 {
            o[d] = u32::try_from(o4[d]).map_err(|_| bad())?;
        }
        Ok(Broadcast {
            out: o,
            stride1: strides(a4)?,
            stride2: strides(b4)?,
        })
    }

    /// No broadcasting: both inputs have the output's shape (element `i` of each input goes
    /// to output element `i`).
    pub fn elementwise(&self) -> bool {
        let mut st = [0u32; 4];
        let mut acc = 1u32;
        for d in (0..4).rev() {
            st[d] = acc;
            acc = acc.saturating_mul(self.out[d]);
        }
        // A dimension of 1 has any stride.
        let same = |s: [u32; 4]| (0..4).all(|d| self.out[d] == 1 || s[d] == st[d]);
        same(self.stride1) && same(self.stride2)
    }

    /// Calls `f(out_index, in1_index, in2_index)` for every output element, in order.
    #[inline(always)]
    pub fn for_each(&self, mut f: impl FnMut(usize, usize, usize)) {
        let [n0, n1, n2, n3] = self.out.map(|d| d as usize);
        let (s1, s2) = (
            self.stride1.map(|d| d as usize),
            self.stride2.map(|d| d as usize),
        );
        let mut o = 0;
        for i0 in 0..n0 {
            for i1 in 0..n1 {
                for i2 in 0..n2 {
                    for i3 in 0..n3 {
                        let a = i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3];
                        let b = i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3];
                        f(o, a, b);
                        o += 1;
                    }
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct AddSub {
    pub input1: TensorId,
    pub input2: TensorId,
    pub shape: Broadcast,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Int8(QuantParams),
    F32 { act_min: f32, act_max: f32 },
}

/// TFLite's `ArithmeticParams` for int8 ADD/SUB.
#[derive(Clone, Copy, Debug)]
pub struct QuantParams {
    pub input1_offset: i32,
    pub input2_offset: i32,
    pub output_offset: i32,
    pub left_shift: i32,
    pub input1_multiplier: i32,
    pub input1_shift: i32,
    pub input2_multiplier: i32,
    pub input2_shift: i32,
    pub output_multiplier: i32,
    pub output_shift: i32,
    pub act_min: i32,
    pub act_max: i32,
}

pub fn prepare(p: &Prep<'_, '_>, sub: bool) -> Result<AddSub, Error> {
    p.expect_options(if sub { 28 } else { 11 })?;
    let a = p.input(0)?;
    let b = p.input(1)?;
    let out = p.output(0)?;
    // AddOptions / SubOptions: fused_activation_function 0.
    let act = p.activation(0)?;
    let shape = Broadcast::new(p, &a.shape, &b.shape, &out.shape)?;
    let mode = match (a.dtype, b.dtype, out.dtype) {
        (TensorType::Int8, TensorType::Int8, TensorType::Int8) => {
            let left_shift = 20;
            let twice_max_input_scale = 2.0 * a.scale.max(b.scale) as f64;
            let (m1, s1) = quantize_multiplier(a.scale as f64 / twice_max_input_scale);
            let (m2, s2) = quantize_multiplier(b.scale as f64 / twice_max_input_scale);
            let (mo, so) = quantize_multiplier(
                twice_max_input_scale / ((1 << left_shift) as f64 * out.scale as f64),
            );
            let (act_min, act_max) = act.range_i8(out.scale, out.zero_point);
            Mode::Int8(QuantParams {
                input1_offset: -a.zero_point,
                input2_offset: -b.zero_point,
                output_offset: out.zero_point,
                left_shift,
                input1_multiplier: m1,
                input1_shift: s1,
                input2_multiplier: m2,
                input2_shift: s2,
                output_multiplier: mo,
                output_shift: so,
                act_min,
                act_max,
            })
        }
        (TensorType::Float32, TensorType::Float32, TensorType::Float32) => {
            let (act_min, act_max) = act.range_f32();
            Mode::F32 { act_min, act_max }
        }
        _ => {
            return Err(
                p.unsupported("ADD/SUB run int8 and float32 with equal input and output types")
            )
        }
    };
    Ok(AddSub {
        input1: p.id(&a),
        input2: p.id(&b),
        shape,
        mode,
    })
}

impl QuantParams {
    /// `AddFunc` / `SubFunc` of reference_integer_ops (add.h, sub.h).
    #[inline(always)]
    fn apply(&self, x: i8, y: i8, sub: bool) -> i8 {
        self.finish(self.scaled1(x), self.scaled2(y), sub)
    }
    /// The first input's term: it depends on the int8 value only.
    #[inline(always)]
    fn scaled1(&self, x: i8) -> i32 {
        // Offsets are int8 zero points (checked at load), so the shifted values fit in i32; the
        // sums below wrap only for forged scales.
        let v1 = (self.input1_offset + x as i32) << self.left_shift;
        multiply_by_quantized_multiplier(v1, self.input1_multiplier, self.input1_shift)
    }
    #[inline(always)]
    fn scaled2(&self, y: i8) -> i32 {
        let v2 = (self.input2_offset + y as i32) << self.left_shift;
        multiply_by_quantized_multiplier(v2, self.input2_multiplier, self.input2_shift)
    }
    /// `out[i] = finish(t1[a[i]], t2[b[i]], sub)` over whole slices (the lengths are equal
    /// for an elementwise operator; the shortest one bounds the loop): the output stage through
    /// a [`Requantizer`], [`NarrowRequant`] when the tables' largest sum allows it, four
    /// elements at a time.
    fn tabulated(
        &self,
        t1: &[i32; 256],
        t2: &[i32; 256],
        a: &[i8],
        b: &[i8],
        out: &mut [i8],
        sub: bool,
    ) {
        let peak = |t: &[i32; 256]| t.iter().map(|v| v.unsigned_abs() as i64).max().unwrap_or(0);
        // `Requantizer`s take positive multipliers (every positive scale's); anything else keeps
        // the per-element arithmetic.
        if self.output_multiplier < 0 {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = self.finish(t1[x as u8 as usize], t2[y as u8 as usize], sub);
            }
        } else if fits_narrow_bound(peak(t1) + peak(t2), self.output_shift, self.output_offset) {
            self.tabulated_with::<NarrowRequant>(t1, t2, a, b, out, sub)
        } else {
            self.tabulated_with::<Requant>(t1, t2, a, b, out, sub)
        }
    }

    fn tabulated_with<R: Requantizer>(
        &self,
        t1: &[i32; 256],
        t2: &[i32; 256],
        a: &[i8],
        b: &[i8],
        out: &mut [i8],
        sub: bool,
    ) {
        if sub {
            self.tabulated_as::<R, true>(t1, t2, a, b, out)
        } else {
            self.tabulated_as::<R, false>(t1, t2, a, b, out)
        }
    }

    #[inline(always)]
    fn tabulated_as<R: Requantizer, const SUB: bool>(
        &self,
        t1: &[i32; 256],
        t2: &[i32; 256],
        a: &[i8],
        b: &[i8],
        out: &mut [i8],
    ) {
        let r = R::new(
            self.output_multiplier,
            self.output_shift,
            self.output_offset,
        );
        let clamp = Clamp::new(self.act_min, self.act_max);
        let raw = |x: u32, y: u32| {
            let (s1, s2) = (t1[(x & 0xff) as usize], t2[(y & 0xff) as usize]);
            if SUB {
                s1.wrapping_sub(s2)
            } else {
                s1.wrapping_add(s2)
            }
        };
        let n = out.len().min(a.len()).min(b.len());
        let (out, a, b) = (&mut out[..n], &a[..n], &b[..n]);
        let mut o4 = out.chunks_exact_mut(4);
        let mut a4 = a.chunks_exact(4);
        let mut b4 = b.chunks_exact(4);
        for ((o, x), y) in (&mut o4).zip(&mut a4).zip(&mut b4) {
            // One word of each input; the same constants for all four.
            let x = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
            let y = u32::from_le_bytes([y[0] as u8, y[1] as u8, y[2] as u8, y[3] as u8]);
            let q = [
                r.apply(raw(x, y)),
                r.apply(raw(x >> 8, y >> 8)),
                r.apply(raw(x >> 16, y >> 16)),
                r.apply(raw(x >> 24, y >> 24)),
            ];
            o.copy_from_slice(&clamp.four(q));
        }
        let rest = o4.into_remainder().iter_mut();
        for ((o, &x), &y) in rest.zip(a4.remainder()).zip(b4.remainder()) {
            *o = clamp.one(r.apply(raw(x as u8 as u32, y as u8 as u32)));
        }
    }

    #[inline(always)]
    fn finish(&self, s1: i32, s2: i32, sub: bool) -> i8 {
        let raw = if sub {
            s1.wrapping_sub(s2)
        } else {
            s1.wrapping_add(s2)
        };
        let out = multiply_by_quantized_multiplier(raw, self.output_multiplier, self.output_shift)
            .wrapping_add(self.output_offset);
        out.clamp(self.act_min, self.act_max) as i8
    }
}

impl AddSub {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>, sub: bool) -> Result<(), &'static str> {
        match self.mode {
            Mode::Int8(q) => {
                let (a, b) = (ctx.i8(self.input1)?, ctx.i8(self.input2)?);
                let out = ctx.out_i8();
                if self.shape.elementwise() && out.len() >= TABLE_ELEMENTS {
                    // Each input's term tabulated for its 256 values once, then per element
                    // two lookups and the output stage: the same arithmetic, 256 + 256 times
                    // instead of once per element.
                    let t1: [i32; 256] = core::array::from_fn(|v| q.scaled1(v as u8 as i8));
                    let t2: [i32; 256] = core::array::from_fn(|v| q.scaled2(v as u8 as i8));
                    q.tabulated(&t1, &t2, a, b, out, sub);
                } else {
                    self.shape
                        .for_each(|o, i, j| out[o] = q.apply(a[i], b[j], sub));
                }
            }
            Mode::F32 { act_min, act_max } => {
                let (a, b) = (ctx.f32(self.input1)?, ctx.f32(self.input2)?);
                let out = ctx.out_f32()?;
                self.shape.for_each(|o, i, j| {
                    let v = if sub { a[i] - b[j] } else { a[i] + b[j] };
                    out[o] = clamp_f32(v, act_min, act_max);
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strides(out: [u32; 4], s1: [u32; 4], s2: [u32; 4]) -> Broadcast {
        Broadcast {
            out,
            stride1: s1,
            stride2: s2,
        }
    }

    #[test]
    fn elementwise_only_without_broadcasting() {
        // [1, 4, 3, 2]: contiguous strides [24, 6, 2, 1] (the batch dimension's is free).
        let same = strides([1, 4, 3, 2], [0, 6, 2, 1], [24, 6, 2, 1]);
        assert!(same.elementwise());
        // The second input broadcast along the last dimension, or along the rows.
        assert!(!strides([1, 4, 3, 2], [0, 6, 2, 1], [0, 3, 1, 0]).elementwise());
        assert!(!strides([1, 4, 3, 2], [0, 6, 2, 1], [0, 0, 2, 1]).elementwise());
        assert!(!strides([2, 4, 3, 2], [24, 6, 2, 1], [0, 6, 2, 1]).elementwise());
    }

    #[test]
    fn tabulated_terms_give_apply() {
        for (sa, sb, so) in [
            (0.05f64, 0.02f64, 0.04f64),
            (0.1, 0.1, 0.3),
            (0.003, 0.2, 0.01),
        ] {
            let twice = 2.0 * sa.max(sb);
            let (m1, s1) = quantize_multiplier(sa / twice);
            let (m2, s2) = quantize_multiplier(sb / twice);
            let (mo, s_o) = quantize_multiplier(twice / ((1 << 20) as f64 * so));
            let q = QuantParams {
                input1_offset: 3,
                input2_offset: -17,
                output_offset: -5,
                left_shift: 20,
                input1_multiplier: m1,
                input1_shift: s1,
                input2_multiplier: m2,
                input2_shift: s2,
                output_multiplier: mo,
                output_shift: s_o,
                act_min: -128,
                act_max: 120,
            };
            let t1: [i32; 256] = core::array::from_fn(|v| q.scaled1(v as u8 as i8));
            let t2: [i32; 256] = core::array::from_fn(|v| q.scaled2(v as u8 as i8));
            // Every pair, in an odd length (the tail after the fours).
            let pairs = (i8::MIN..=i8::MAX).flat_map(|x| (i8::MIN..=i8::MAX).map(move |y| (x, y)));
            let (a, b): (std::vec::Vec<i8>, std::vec::Vec<i8>) =
                pairs.chain([(1, 2), (-128, 127), (0, 0)]).unzip();
            for sub in [false, true] {
                let mut out = std::vec![0i8; a.len()];
                let mut wide = out.clone();
                q.tabulated(&t1, &t2, &a, &b, &mut out, sub);
                q.tabulated_with::<Requant>(&t1, &t2, &a, &b, &mut wide, sub);
                for i in 0..a.len() {
                    let want = q.apply(a[i], b[i], sub);
                    assert_eq!((out[i], wide[i]), (want, want), "{sa} {sb} {so} {sub}");
                }
            }
            for x in i8::MIN..=i8::MAX {
                for y in i8::MIN..=i8::MAX {
                    for sub in [false, true] {
                        assert_eq!(
                            q.finish(t1[x as u8 as usize], t2[y as u8 as usize], sub),
                            q.apply(x, y, sub)
                        );
                    }
                }
            }
        }
    }
}
