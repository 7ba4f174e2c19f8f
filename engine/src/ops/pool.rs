//! AVERAGE_POOL_2D and MAX_POOL_2D: int8 (TFLite Micro `reference_integer_ops::AveragePool` /
//! `MaxPool`, which keep the input's quantization) and float32 (`reference_ops`).

use super::{clamp_f32, Prep, TensorId, Window};
use crate::error::Error;
use crate::schema::TensorType;

/// Channels summed at once by the int8 average (their i32 sums on the stack).
const POOL_CHUNK: usize = 64;

#[derive(Clone, Copy, Debug)]
pub struct Pool2d {
    pub input: TensorId,
    pub w: Window,
    pub float: bool,
    pub act_min: i32,
    pub act_max: i32,
    pub act_min_f: f32,
    pub act_max_f: f32,
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Pool2d, Error> {
    p.expect_options(5)?;
    let input = p.input(0)?;
    let output = p.output(0)?;
    let float = match (input.dtype, output.dtype) {
        (TensorType::Int8, TensorType::Int8) => {
            if input.scale != output.scale || input.zero_point != output.zero_point {
                return Err(
                    p.unsupported("int8 pooling needs the same quantization on input and output")
                );
            }
            false
        }
        (TensorType::Float32, TensorType::Float32) => true,
        _ => return Err(p.unsupported("pooling runs int8 and float32")),
    };
    // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4,
    // fused_activation_function 5.
    let kw = usize::try_from(p.opt_i32(3, 0)?).unwrap_or(0);
    let kh = usize::try_from(p.opt_i32(4, 0)?).unwrap_or(0);
    let w = Window::new(
        p,
        &input,
        &output,
        (kh, kw),
        (p.opt_i32(2, 1)?, p.opt_i32(1, 1)?),
        (1, 1),
        p.opt_i8(0, 0)?,
    )?;
    if w.in_c != w.out_c {
        return Err(p.invalid("pooling changes the number of channels"));
    }
    let act = p.activation(5)?;
    let (act_min, act_max) = act.range_i8(output.scale, output.zero_point);
    let (act_min_f, act_max_f) = act.range_f32();
    Ok(Pool2d {
        input: p.id(&input),
        w,
        float,
        act_min,
        act_max,
        act_min_f,
        act_max_f,
    })
}

/// One output element's window: output index, batch, channel, window origin (may lie in the
/// padding) and the filter rows/columns that fall inside the image.
struct Tap {
    o: usize,
    b: usize,
    ch: usize,
    y0: isize,
    x0: isize,
    ys: usize,
    ye: usize,
    xs: usize,
    xe: usize,
}

/// Calls `f` for every output element, with the window clipped to
/// the image as the reference kernels clip it.
fn for_each_window(w: &Window, mut f: impl FnMut(Tap)) {
    let (in_h, in_w, c) = (w.in_h as isize, w.in_w as isize, w.in_c as usize);
    let mut o = 0;
    for b in 0..w.batches as usize {
        for oy in 0..w.out_h as isize {
            let y0 = oy * w.stride_h as isize - w.pad_h as isize;
            let fy_start = (-y0).max(0) as usize;
            let fy_end = (w.k_h as isize).min(in_h - y0).max(0) as usize;
            for ox in 0..w.out_w as isize {
                let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                let fx_start = (-x0).max(0) as usize;
                let fx_end = (w.k_w as isize).min(in_w - x0).max(0) as usize;
                for ch in 0..c {
                    f(Tap {
                        o,
                        b,
                        ch,
                        y0,
                        x0,
                        ys: fy_start,
                        ye: fy_end,
                        xs: fx_start,
                        xe: fx_end,
                    });
                    o += 1;
                }
            }
        }
    }
}

impl Tap {
    /// Folds `f` over the input elements under the window (clipped to the image), in the
    /// reference kernels' order (filter rows, then columns); returns the result and how many
    /// elements it saw.
    fn fold<T>(&self, pool: &Pool2d, init: T, mut f: impl FnMut(T, usize) -> T) -> (T, usize) {
        let mut acc = init;
        for fy in self.ys..self.ye {
            for fx in self.xs..self.xe {
                let i = pool.index(
                    self.b,
                    self.y0 + fy as isize,
                    self.x0 + fx as isize,
                    self.ch,
                );
                acc = f(acc, i);
            }
        }
        let count = (self.ye.saturating_sub(self.ys)) * (self.xe.saturating_sub(self.xs));
        (acc, count)
    }
}

impl Pool2d {
    fn index(&self, b: usize, oy: isize, ox: isize, ch: usize) -> usize {
        let w = &self.w;
        ((b * w.in_h as usize + oy as usize) * w.in_w as usize + ox as usize) * w.in_c as usize + ch
    }

    pub(crate) fn eval_average(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        if self.float {
            let input = ctx.f32(self.input)?;
            let out = ctx.out_f32()?;
            for_each_window(&self.w, |tap| {
                let (total, count) = tap.fold(self, 0.0f32, |t, i| t + input[i]);
                // The reference skips empty windows (it returns false); they cannot occur with
                // TFLite's padding, so 0 is written rather than leaving memory undefined.
                let average = if count == 0 {
                    0.0
                } else {
                    total / count as f32
                };
                out[tap.o] = clamp_f32(average, self.act_min_f, self.act_max_f);
            });
        } else {
            let input = ctx.i8(self.input)?;
            let out = ctx.out_i8();
            if (self.w.k_h as u64) * (self.w.k_w as u64) < 1 << 23 {
                self.average_int8(input, out);
            } else {
                self.average_int8_reference(input, out);
            }
        }
        Ok(())
    }

    /// The int8 average, element by element as the reference loops (in i64, so that a forged
    /// huge window cannot overflow): for windows of 2^23 elements and more, and the tests.
    fn average_int8_reference(&self, input: &[i8], out: &mut [i8]) {
        for_each_window(&self.w, |tap| {
            let (acc, count) = tap.fold(self, 0i64, |a, i| a + input[i] as i64);
            out[tap.o] = self.rounded_average(acc, count as i64);
        });
    }

    /// The int8 average, a pixel at a time: the window's elements summed for up to
    /// [`POOL_CHUNK`] channels at once (contiguous in NHWC; i32 sums, exact below 2^23 elements
    /// of at most 128), then each channel's rounded average. Integer sums, so the reference's
    /// results; KWS's 25 x 5 pool took 15 cycles an element on the M4 the reference's way, 9 so.
    /// Out of line: its sums stay out of the frame of the operator dispatch.
    #[inline(never)]
    fn average_int8(&self, input: &[i8], out: &mut [i8]) {
        let w = &self.w;
        let (in_h, in_w, c) = (w.in_h as isize, w.in_w as isize, w.in_c as usize);
        let mut o = 0;
        for b in 0..w.batches as usize {
            for oy in 0..w.out_h as isize {
                let y0 = oy * w.stride_h as isize - w.pad_h as isize;
                let (ys, ye) = ((-y0).max(0), (w.k_h as isize).min(in_h - y0).max(0));
                for ox in 0..w.out_w as isize {
                    let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                    let (xs, xe) = ((-x0).max(0), (w.k_w as isize).min(in_w - x0).max(0));
                    let count = ((ye - ys).max(0) * (xe - xs).max(0)) as i64;
                    for start in (0..c).step_by(POOL_CHUNK) {
                        let n = (c - start).min(POOL_CHUNK);
                        let mut acc = [0i32; POOL_CHUNK];
                        for y in y0 + ys..y0 + ye {
                            for x in x0 + xs..x0 + xe {
                                let at = self.index(b, y, x, start);
                                for (a, &v) in acc[..n].iter_mut().zip(&input[at..at + n]) {
                                    *a += v as i32;
                                }
                            }
                        }
                        for (y, &a) in out[o + start..o + start + n].iter_mut().zip(&acc[..n]) {
                            *y = self.rounded_average(a as i64, count);
                        }
                    }
                    o += c;
                }
            }
        }
    }

    /// Rounded to the nearest integer, half away from zero (reference_integer_ops/pooling.h),
    /// then clamped; an empty window (impossible with TFLite's padding) gives 0.
    #[inline(always)]
    fn rounded_average(&self, acc: i64, count: i64) -> i8 {
        let avg = if count == 0 {
            0
        } else if acc > 0 {
            (acc + count / 2) / count
        } else {
            (acc - count / 2) / count
        };
        avg.clamp(self.act_min as i64, self.act_max as i64) as i8
    }

    pub(crate) fn eval_max(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        if self.float {
            let input = ctx.f32(self.input)?;
            let out = ctx.out_f32()?;
            for_each_window(&self.w, |tap| {
                let (max, _) = tap.fold(self, f32::MIN, |m, i| m.max(input[i]));
                out[tap.o] = clamp_f32(max, self.act_min_f, self.act_max_f);
            });
        } else {
            let input = ctx.i8(self.input)?;
            let out = ctx.out_i8();
            for_each_window(&self.w, |tap| {
                let (max, _) = tap.fold(self, i8::MIN as i32, |m, i| m.max(input[i] as i32));
                out[tap.o] = max.clamp(self.act_min, self.act_max) as i8;
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_average_by_pixel_is_the_reference() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for c in [1usize, 3, 4, 63, 64, 65, 130] {
            for (k, stride, pad) in [(1u16, 1u16, 0u16), (3, 2, 1), (5, 1, 2), (25, 1, 0)] {
                let (in_h, in_w) = (25usize, 5usize);
                let out_dim = |n: usize| {
                    (n + 2 * pad as usize).saturating_sub(k as usize) / stride as usize + 1
                };
                if in_h + 2 * (pad as usize) < k as usize || in_w + 2 * (pad as usize) < k as usize
                {
                    continue;
                }
                let w = Window {
                    batches: 2,
                    in_h: in_h as u16,
                    in_w: in_w as u16,
                    in_c: c as u16,
                    out_h: out_dim(in_h) as u16,
                    out_w: out_dim(in_w) as u16,
                    out_c: c as u16,
                    k_h: k,
                    k_w: k.min(5),
                    stride_h: stride,
                    stride_w: stride,
                    dil_h: 1,
                    dil_w: 1,
                    pad_h: pad,
                    pad_w: pad,
                };
                let input: std::vec::Vec<i8> =
                    (0..2 * in_h * in_w * c).map(|_| next() as i8).collect();
                let pool = Pool2d {
                    input: 0,
                    w,
                    float: false,
                    act_min: -100,
                    act_max: 127,
                    act_min_f: 0.0,
                    act_max_f: 0.0,
                };
                let n = 2 * w.out_h as usize * w.out_w as usize * c;
                let (mut got, mut want) = (std::vec![0i8; n], std::vec![1i8; n]);
                pool.average_int8(&input, &mut got);
                pool.average_int8_reference(&input, &mut want);
                assert_eq!(got, want, "c {c} k {k} stride {stride} pad {pad}");
            }
        }
    }
}
