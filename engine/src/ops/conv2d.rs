//! CONV_2D: int8 per-channel (TFLite Micro `reference_integer_ops::ConvPerChannel`), float32
//! (`reference_ops::Conv`) and hybrid int8-weight / float-activation (desktop TFLite conv.cc
//! `EvalHybrid` / `EvalHybridPerChannel`).

use super::{
    clamp_f32, hybrid, push_channel_scales, weighted_kernel, Constants, OpKind, Prep, Prepared,
    TensorId, Weighted, Window, NO_TENSOR,
};
use crate::error::Error;
use crate::quant::{quantize_multiplier, requantize};
use crate::schema::TensorInfo;

#[derive(Clone, Copy, Debug)]
pub struct Conv2d {
    pub input: TensorId,
    pub filter: TensorId,
    pub bias: TensorId,
    pub w: Window,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Per-channel multipliers at `pool[at..at+C]`, shifts at `pool[at+C..at+2C]`.
    Int8 {
        input_offset: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
        at: u32,
    },
    F32 {
        act_min: f32,
        act_max: f32,
    },
    /// `per_channel`: per-channel scales (f32 bits) at `pool[at..at+C]`, asymmetric input quantization.
    Hybrid {
        act_min: f32,
        act_max: f32,
        filter_scale: f32,
        per_channel: bool,
        at: u32,
    },
}

/// Checks a filter and bias against the output channels; returns the filter's [C, H, W, I] dims.
pub(crate) fn filter_dims(
    p: &Prep<'_, '_>,
    filter: &TensorInfo<'_>,
    bias: Option<&TensorInfo<'_>>,
    out_c: usize,
) -> Result<[usize; 4], Error> {
    if filter.shape.rank != 4 {
        return Err(p.invalid("the filter is not 4-D"));
    }
    let d = filter.shape.nhwc().unwrap_or([0; 4]);
    if let Some(b) = bias {
        if b.shape.elements() != out_c {
            return Err(p.invalid("the bias does not have one value per output channel"));
        }
    }
    Ok(d)
}

/// Per-channel scales must be one per output channel (or a single per-tensor scale).
pub(crate) fn check_scales(
    p: &Prep<'_, '_>,
    filter: &TensorInfo<'_>,
    channels: usize,
) -> Result<(), Error> {
    let n = filter.scale_count();
    if n != 1 && n != channels {
        return Err(p.invalid("the filter has neither one scale nor one per output channel"));
    }
    if filter.scale <= 0.0 {
        return Err(p.invalid("the filter's quantization scale is missing or not positive"));
    }
    Ok(())
}

/// Pushes TFLite's per-channel requantization constants (`PopulateConvolutionQuantizationParams`):
/// effective scale = input_scale * filter_scale[c] / output_scale, in double.
pub(crate) fn push_multipliers(
    pool: &mut Constants<'_>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    output: &TensorInfo<'_>,
    channels: usize,
) -> u32 {
    let at = pool.at();
    for c in 0..channels {
        let scale = input.scale as f64 * filter.scale_at(c) as f64 / output.scale as f64;
        pool.push(quantize_multiplier(scale).0);
    }
    for c in 0..channels {
        let scale = input.scale as f64 * filter.scale_at(c) as f64 / output.scale as f64;
        pool.push(quantize_multiplier(scale).1);
    }
    at
}

/// Whether a hybrid filter is per-channel: TFLite treats it so only if its scales differ (conv.cc).
pub(crate) fn hybrid_per_channel(filter: &TensorInfo<'_>) -> bool {
    let n = filter.scale_count();
    (1..n).any(|c| filter.scale_at(c) != filter.scale)
}

pub fn prepare(p: &Prep<'_, '_>, pool: &mut Constants<'_>) -> Result<Prepared, Error> {
    p.expect_options(1)?;
    let input = p.input(0)?;
    let filter = p.input(1)?;
    let bias = p.optional_input(2)?;
    let output = p.output(0)?;
    let out_c = output.shape.dim(3);
    let [fc, kh, kw, fi] = filter_dims(p, &filter, bias.as_ref(), out_c)?;
    if fc != out_c {
        return Err(p.invalid("the filter's output channels differ from the output's"));
    }
    if fi != input.shape.dim(3) {
        return Err(p.unsupported(
            "grouped convolution (filter depth differs from input depth) is not supported",
        ));
    }
    // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3,
    // dilation_w_factor 4, dilation_h_factor 5.
    let w = Window::new(
        p,
        &input,
        &output,
        (kh, kw),
        (p.opt_i32(2, 1)?, p.opt_i32(1, 1)?),
        (p.opt_i32(5, 1)?, p.opt_i32(4, 1)?),
        p.opt_i8(0, 0)?,
    )?;
    let act = p.activation(3)?;
    let bias_id = bias.as_ref().map_or(NO_TENSOR, |b| p.id(b));
    let mut scratch_bytes = 0;
    let unsupported = "CONV_2D runs int8, float32 and hybrid (float32 input, int8 filter)";
    let mode = match weighted_kernel(p, &input, &filter, &output, bias.as_ref(), unsupported)? {
        Weighted::Int8 => {
            check_scales(p, &filter, out_c)?;
            let (act_min, act_max) = act.range_i8(output.scale, output.zero_point);
            let at = push_multipliers(pool, &input, &filter, &output, out_c);
            Mode::Int8 {
                input_offset: -input.zero_point,
                output_offset: output.zero_point,
                act_min,
                act_max,
                at,
            }
        }
        Weighted::F32 => {
            let (act_min, act_max) = act.range_f32();
            Mode::F32 { act_min, act_max }
        }
        Weighted::Hybrid => {
            check_scales(p, &filter, out_c)?;
            let per_channel = hybrid_per_channel(&filter);
            let at = push_channel_scales(pool, &filter, if per_channel { out_c } else { 0 });
            // One batch of quantized input at a time.
            scratch_bytes = input.shape.elements() / input.shape.dim(0).max(1);
            let (act_min, act_max) = act.range_f32();
            Mode::Hybrid {
                act_min,
                act_max,
                filter_scale: filter.scale,
                per_channel,
                at,
            }
        }
    };
    let kind = OpKind::Conv2d(Conv2d {
        input: p.id(&input),
        filter: p.id(&filter),
        bias: bias_id,
        w,
        mode,
    });
    Ok(Prepared {
        kind,
        scratch_bytes,
    })
}

impl Conv2d {
    pub fn macs(&self) -> u64 {
        let w = &self.w;
        [w.batches, w.out_h, w.out_w, w.out_c, w.k_h, w.k_w, w.in_c]
            .iter()
            .map(|&d| d as u64)
            .product()
    }

    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        match self.mode {
            Mode::Int8 {
                input_offset,
                output_offset,
                act_min,
                act_max,
                at,
            } => {
                let c = self.w.out_c as usize;
                let mult = ctx.pool(at, c)?;
                let shift = ctx.pool(at + c as u32, c)?;
                let input = ctx.i8(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_i32(self.bias)?;
                let out = ctx.out_i8();
                conv_int8(
                    &self.w,
                    input,
                    filter,
                    bias,
                    out,
                    input_offset,
                    |oc, acc| requantize(acc, mult[oc], shift[oc], output_offset, act_min, act_max),
                );
            }
            Mode::F32 { act_min, act_max } => {
                let input = ctx.f32(self.input)?;
                let filter = ctx.f32(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                conv_f32(&self.w, input, filter, bias, out, act_min, act_max);
            }
            Mode::Hybrid {
                act_min,
                act_max,
                filter_scale,
                per_channel,
                at,
            } => {
                let c = self.w.out_c as usize;
                let scales = if per_channel {
                    Some(ctx.pool(at, c)?)
                } else {
                    None
                };
                let input = ctx.f32(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                let scratch: &mut [i8] = bytemuck::cast_slice_mut(ctx.scratch());
                let w = &self.w;
                let in_size = w.in_h as usize * w.in_w as usize * w.in_c as usize;
                let out_size = w.out_h as usize * w.out_w as usize * c;
                let q = scratch
                    .get_mut(..in_size)
                    .ok_or("hybrid scratch too small (planner bug)")?;
                for b in 0..w.batches as usize {
                    let x = &input[b * in_size..(b + 1) * in_size];
                    let y = &mut out[b * out_size..(b + 1) * out_size];
                    let one = Window { batches: 1, ..*w };
                    match scales {
                        // conv.cc EvalHybrid: symmetric input, scaling factor *= filter scale,
                        // then HybridConv: output = dot * factor, then + bias, clamp.
                        None => {
                            let factor = hybrid::symmetric_quantize(x, q) * filter_scale;
                            conv_generic(
                                &one,
                                q,
                                filter,
                                0,
                                |oc, acc| {
                                    let v = acc as f32 * factor;
                                    let v = match bias {
                                        Some(bias) => v + bias[oc],
                                        None => v,
                                    };
                                    clamp_f32(v, act_min, act_max)
                                },
                                y,
                            );
                        }
                        // reference_ops::HybridConvPerChannel: asymmetric input,
                        // acc * per_channel_scale * scaling_factor, + bias, clamp.
                        Some(scales) => {
                            let (factor, offset) = hybrid::asymmetric_quantize(x, q);
                            conv_generic(
                                &one,
                                q,
                                filter,
                                -offset,
                                |oc, acc| {
                                    let mut v =
                                        acc as f32 * f32::from_bits(scales[oc] as u32) * factor;
                                    if let Some(bias) = bias {
                                        v += bias[oc];
                                    }
                                    clamp_f32(v, act_min, act_max)
                                },
                                y,
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The int8 convolution loop of TFLite Micro's `ConvPerChannel`: acc over the window of
/// filter * (input + input_offset), plus bias, then `finish(channel, acc)`.
fn conv_int8(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    out: &mut [i8],
    input_offset: i32,
    finish: impl Fn(usize, i32) -> i8,
) {
    conv_generic(
        w,
        input,
        filter,
        input_offset,
        |oc, acc| finish(oc, acc.wrapping_add(bias.map_or(0, |b| b[oc]))),
        out,
    );
}

/// The integer window loop shared by int8 and hybrid convolution.
fn conv_generic<T>(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    input_offset: i32,
    finish: impl Fn(usize, i32) -> T,
    out: &mut [T],
) {
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
    let out_c = w.out_c as usize;
    let mut o = 0;
    for b in 0..w.batches as usize {
        for oy in 0..w.out_h as isize {
            let y0 = oy * w.stride_h as isize - w.pad_h as isize;
            // Only in-image taps, as the reference's per-tap test keeps.
            let (fy0, fy1) = super::tap_range(y0, in_h, k_h, dil_h);
            for ox in 0..w.out_w as isize {
                let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                let (fx0, fx1) = super::tap_range(x0, in_w, k_w, dil_w);
                for oc in 0..out_c {
                    let mut acc: i32 = 0;
                    for fy in fy0..fy1 {
                        let y = (y0 + (dil_h * fy) as isize) as usize;
                        let row = (b * in_h + y) * in_w;
                        let frow = (oc * k_h + fy) * k_w;
                        if dil_w == 1 {
                            // Undilated: the row's taps are contiguous in input and filter, one dot
                            // product (integer sums do not depend on order).
                            let x = (x0 + fx0 as isize) as usize;
                            let n = (fx1 - fx0) * in_c;
                            let xs = &input[(row + x) * in_c..][..n];
                            let fs = &filter[(frow + fx0) * in_c..][..n];
                            acc = acc.wrapping_add(super::dot::offset_dot(xs, fs, input_offset));
                        } else {
                            for fx in fx0..fx1 {
                                let x = (x0 + (dil_w * fx) as isize) as usize;
                                let xs = &input[(row + x) * in_c..][..in_c];
                                let fs = &filter[(frow + fx) * in_c..][..in_c];
                                acc =
                                    acc.wrapping_add(super::dot::offset_dot(xs, fs, input_offset));
                            }
                        }
                    }
                    out[o] = finish(oc, acc);
                    o += 1;
                }
            }
        }
    }
}

/// `reference_ops::Conv` for float: sum in window order, then + bias, then clamp.
fn conv_f32(
    w: &Window,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    act_min: f32,
    act_max: f32,
) {
    let (in_h, in_w, in_c) = (w.in_h as isize, w.in_w as isize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let out_c = w.out_c as usize;
    let mut o = 0;
    for b in 0..w.batches as usize {
        for oy in 0..w.out_h as isize {
            let y0 = oy * w.stride_h as isize - w.pad_h as isize;
            for ox in 0..w.out_w as isize {
                let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                for oc in 0..out_c {
                    let mut total = 0.0f32;
                    for fy in 0..k_h {
                        let y = y0 + (w.dil_h as usize * fy) as isize;
                        if y < 0 || y >= in_h {
                            continue;
                        }
                        for fx in 0..k_w {
                            let x = x0 + (w.dil_w as usize * fx) as isize;
                            if x < 0 || x >= in_w {
                                continue;
                            }
                            let ib = ((b * in_h as usize + y as usize) * in_w as usize
                                + x as usize)
                                * in_c;
                            let fb = ((oc * k_h + fy) * k_w + fx) * in_c;
                            for (&xv, &fv) in
                                input[ib..ib + in_c].iter().zip(&filter[fb..fb + in_c])
                            {
                                total += xv * fv;
                            }
                        }
                    }
                    let bias = bias.map_or(0.0, |bias| bias[oc]);
                    out[o] = clamp_f32(total + bias, act_min, act_max);
                    o += 1;
                }
            }
        }
    }
}
