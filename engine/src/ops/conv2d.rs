//! CONV_2D: int8 per-channel (TFLite Micro `reference_integer_ops::ConvPerChannel`), float32
//! (`reference_ops::Conv`) and hybrid int8-weight / float-activation (desktop TFLite conv.cc
//! `EvalHybrid` / `EvalHybridPerChannel`).

use super::dot::{Native, Simd};
use super::{
    clamp_f32, hybrid, matmul, push_channel_scales, weighted_kernel, Constants, OpKind, Prep,
    Prepared, TensorId, Weighted, Window, NO_TENSOR,
};
use crate::error::Error;
use crate::quant::quantize_multiplier;
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
        path: Int8Path,
        /// Accumulators narrow enough for [`crate::quant::NarrowRequant`] (checked at load).
        narrow: bool,
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
        /// `Σ filter row` per output channel at `pool[sums_at..]` (a constant filter): the
        /// blocked product path ([`conv_hybrid_blocked`]); `None`: [`conv_generic`].
        sums_at: Option<u32>,
    },
}

/// How an int8 convolution runs (both bit-exact with [`conv_int8`], the reference, which the
/// tests run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8Path {
    /// A 1x1 window without padding (any stride) over a constant filter: the int8 input pixels
    /// are the left-hand rows of the blocked matrix product, and `pool[offsets_at..+C]` holds
    /// `bias + input_offset * Σ filter row`, computed at prepare time.
    Pointwise { offsets_at: u32 },
    /// Any other window over a constant filter: several output pixels' int8 patches at a time
    /// gathered in the operator's scratch buffer (taps outside the image filled with the input
    /// zero point, so that with the input offset they add nothing, as the reference skips
    /// them), then the blocked matrix product; `pool[offsets_at..+C]` as for `Pointwise`, over
    /// the whole window. `padded_at`: when the window's depth is not a multiple of 4 and the
    /// filter small ([`PADDED_FILTER_BYTES`]), a copy of the filter at `pool[padded_at..]` with
    /// each row padded with zeros to a multiple of 4 ([`padded_depth`]), and the patches padded
    /// alike: the product then runs whole quads from RAM, without the per-value tail (VWW's and
    /// IC's first 3 x 3 x 3 convolutions).
    Im2col {
        offsets_at: u32,
        padded_at: Option<u32>,
    },
}

/// The largest filter [`Int8Path::Im2col`] copies padded into the constants (RAM).
pub const PADDED_FILTER_BYTES: usize = 1024;

/// A window's depth rounded up to a multiple of 4: the row length of a padded filter and patch.
pub fn padded_depth(depth: usize) -> usize {
    depth.div_ceil(4) * 4
}

/// Pushes `filter` (`channels` rows of `depth` int8 values) with each row padded with zeros to
/// [`padded_depth`], as little-endian words; returns where it starts.
fn push_padded_filter(pool: &mut Constants<'_>, rows: &[u8], channels: usize, depth: usize) -> u32 {
    let at = pool.at();
    let stride = padded_depth(depth);
    let byte = |i: usize| {
        let (c, k) = (i / stride, i % stride);
        if k < depth {
            rows[c * depth + k]
        } else {
            0
        }
    };
    for w in 0..channels * stride / 4 {
        pool.push(i32::from_le_bytes(core::array::from_fn(|j| {
            byte(4 * w + j)
        })));
    }
    at
}

/// Pushes `bias[c] + input_offset * Σ filter[c]` for each output channel and returns where they
/// start, when the filter (and the bias, if any) are constant data of the expected size.
pub(crate) fn push_row_offsets(
    pool: &mut Constants<'_>,
    filter: &TensorInfo<'_>,
    bias: Option<&TensorInfo<'_>>,
    channels: usize,
    depth: usize,
    input_offset: i32,
) -> Option<u32> {
    let rows = filter.data.filter(|d| d.len() == channels * depth)?;
    let bias = match bias {
        Some(b) => Some(b.data.filter(|d| d.len() == channels * 4)?),
        None => None,
    };
    let at = pool.at();
    for c in 0..channels {
        let b = bias.map_or(0, |d| {
            i32::from_le_bytes([d[4 * c], d[4 * c + 1], d[4 * c + 2], d[4 * c + 3]])
        });
        pool.push(matmul::row_offset(
            &rows[c * depth..][..depth],
            input_offset,
            b,
        ));
    }
    Some(at)
}

/// [`crate::quant::fits_narrow`] for a constant filter of `channels` x `taps` int8 values,
/// channel-major (`[C][taps]`, CONV_2D and FULLY_CONNECTED) or tap-major (`[taps][C]`,
/// DEPTHWISE_CONV_2D), with the shifts [`push_multipliers`] gives (or `per_tensor_shift`).
/// `false` when the filter or bias is not a constant of the expected size.
#[allow(clippy::too_many_arguments)]
pub(crate) fn narrow_accumulators(
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    output: &TensorInfo<'_>,
    bias: Option<&TensorInfo<'_>>,
    channels: usize,
    taps: usize,
    channel_major: bool,
    per_tensor_shift: Option<i32>,
) -> bool {
    let Some(w) = filter.data.filter(|d| d.len() == channels * taps) else {
        return false;
    };
    let b = match bias {
        Some(b) => match b.data.filter(|d| d.len() == channels * 4) {
            Some(d) => Some(d),
            None => return false,
        },
        None => None,
    };
    let shift = |c: usize| {
        per_tensor_shift.unwrap_or_else(|| {
            let scale = input.scale as f64 * filter.scale_at(c) as f64 / output.scale as f64;
            quantize_multiplier(scale).1
        })
    };
    let weight = |c: usize, k: usize| {
        let i = if channel_major {
            c * taps + k
        } else {
            k * channels + c
        };
        w[i] as i8
    };
    let bias = |c: usize| {
        b.map_or(0, |d| {
            i32::from_le_bytes([d[4 * c], d[4 * c + 1], d[4 * c + 2], d[4 * c + 3]])
        })
    };
    crate::quant::fits_narrow(channels, taps, weight, bias, shift, output.zero_point)
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

/// int8 weighted operators: no scale of the input, filter (any channel) or output is negative, so
/// that every requantization multiplier is 0 or positive ([`crate::quant::Requant`]). TFLite's
/// converters write positive scales; a negative one is a damaged model.
pub(crate) fn check_int8_scales(
    p: &Prep<'_, '_>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    output: &TensorInfo<'_>,
    channels: usize,
) -> Result<(), Error> {
    let negative = input.scale < 0.0
        || output.scale < 0.0
        || (0..channels.max(1)).any(|c| filter.scale_at(c) < 0.0);
    if negative {
        return Err(p.invalid("a quantization scale of the input, filter or output is negative"));
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
            check_int8_scales(p, &input, &filter, &output, out_c)?;
            let (act_min, act_max) = act.range_i8(output.scale, output.zero_point);
            let at = push_multipliers(pool, &input, &filter, &output, out_c);
            let input_offset = -input.zero_point;
            let pointwise = kh == 1 && kw == 1 && w.pad_h == 0 && w.pad_w == 0;
            let depth = kh * kw * fi;
            let offsets =
                push_row_offsets(pool, &filter, bias.as_ref(), out_c, depth, input_offset);
            // The filter rows' length in the product (the patches' slot for im2col).
            let mut row_len = depth;
            let path = match offsets {
                Some(offsets_at) if pointwise => Int8Path::Pointwise { offsets_at },
                Some(offsets_at) => {
                    let stride = padded_depth(depth);
                    let padded_at = match filter.data {
                        Some(rows)
                            if stride != depth
                                && rows.len() == out_c * depth
                                && out_c * stride <= PADDED_FILTER_BYTES =>
                        {
                            Some(push_padded_filter(pool, rows, out_c, depth))
                        }
                        _ => None,
                    };
                    let slot = if padded_at.is_some() { stride } else { depth };
                    row_len = slot;
                    scratch_bytes = im2col_pixels(slot) * slot;
                    Int8Path::Im2col {
                        offsets_at,
                        padded_at,
                    }
                }
                // Real models' filters and biases are constants; keeping a loop for the others
                // would cost flash the Artemis does not have.
                None => {
                    return Err(p.unsupported(
                        "int8 CONV_2D needs a constant filter and bias (per-channel sums are computed at load)",
                    ))
                }
            };
            let narrow = narrow_accumulators(
                &input,
                &filter,
                &output,
                bias.as_ref(),
                out_c,
                depth,
                true,
                None,
            );
            scratch_bytes += wide_bytes(row_len, narrow);
            Mode::Int8 {
                input_offset,
                output_offset: output.zero_point,
                act_min,
                act_max,
                at,
                path,
                narrow,
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
            // One batch of quantized input at a time, then the patches of the blocked product.
            let depth = kh * kw * fi;
            let sums_at = push_row_offsets(pool, &filter, None, out_c, depth, 1);
            scratch_bytes = input.shape.elements() / input.shape.dim(0).max(1)
                + sums_at.map_or(0, |_| im2col_pixels(depth) * depth);
            let (act_min, act_max) = act.range_f32();
            Mode::Hybrid {
                act_min,
                act_max,
                filter_scale: filter.scale,
                per_channel,
                at,
                sums_at,
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
                path,
                narrow,
            } => {
                let c = self.w.out_c as usize;
                let mult = ctx.pool(at, c)?;
                let shift = ctx.pool(at + c as u32, c)?;
                let input = ctx.i8(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let stage = matmul::Int8Output {
                    mult,
                    shift,
                    output_offset,
                    act_min,
                    act_max,
                    narrow,
                };
                match path {
                    Int8Path::Pointwise { offsets_at } => {
                        let offsets = ctx.pool(offsets_at, c)?;
                        let out = ctx.out_i8();
                        let depth = self.w.in_c as usize;
                        let (wide, _) = split_wide(ctx.scratch(), depth, stage.narrow);
                        conv_pointwise::<Native>(&self.w, input, filter, offsets, out, stage, wide);
                    }
                    Int8Path::Im2col {
                        offsets_at,
                        padded_at,
                    } => {
                        let offsets = ctx.pool(offsets_at, c)?;
                        let (filter, slot) = match padded_at {
                            Some(at) => {
                                let stride = padded_depth(self.w.depth());
                                let words = ctx.pool(at, c * stride / 4)?;
                                (bytemuck::cast_slice::<i32, i8>(words), stride)
                            }
                            None => (filter, self.w.depth()),
                        };
                        let out = ctx.out_i8();
                        let scratch = ctx.scratch();
                        conv_im2col::<Native>(
                            &self.w,
                            input,
                            filter,
                            slot,
                            offsets,
                            out,
                            input_offset,
                            scratch,
                            stage,
                        )?;
                    }
                }
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
                sums_at,
            } => {
                let c = self.w.out_c as usize;
                let scales = if per_channel {
                    Some(ctx.pool(at, c)?)
                } else {
                    None
                };
                let sums = match sums_at {
                    Some(at) => Some(ctx.pool(at, c)?),
                    None => None,
                };
                let input = ctx.f32(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                let scratch: &mut [i8] = bytemuck::cast_slice_mut(ctx.scratch());
                let w = &self.w;
                let in_size = w.in_h as usize * w.in_w as usize * w.in_c as usize;
                let out_size = w.out_h as usize * w.out_w as usize * c;
                if scratch.len() < in_size {
                    return Err("hybrid scratch too small (planner bug)");
                }
                let (q, patches) = scratch.split_at_mut(in_size);
                for b in 0..w.batches as usize {
                    let x = &input[b * in_size..(b + 1) * in_size];
                    let y = &mut out[b * out_size..(b + 1) * out_size];
                    let one = Window { batches: 1, ..*w };
                    // The integer dot products (conv_generic's, or the blocked product's: the
                    // same integers), then the float stage of the quantization used.
                    let dots = |q: &[i8],
                                patches: &mut [i8],
                                y: &mut [f32],
                                input_offset: i32,
                                finish: &dyn Fn(usize, i32) -> f32| {
                        match sums {
                            Some(sums) => conv_hybrid_blocked::<Native>(
                                &one,
                                q,
                                filter,
                                input_offset,
                                sums,
                                patches,
                                y,
                                finish,
                            ),
                            None => {
                                conv_generic(&one, q, filter, input_offset, finish, y);
                                Ok(())
                            }
                        }
                    };
                    match scales {
                        // conv.cc EvalHybrid: symmetric input, scaling factor *= filter scale,
                        // then HybridConv: output = dot * factor, then + bias, clamp.
                        None => {
                            let factor = hybrid::symmetric_quantize(x, q) * filter_scale;
                            dots(q, patches, y, 0, &|oc, acc| {
                                let v = acc as f32 * factor;
                                let v = match bias {
                                    Some(bias) => v + bias[oc],
                                    None => v,
                                };
                                clamp_f32(v, act_min, act_max)
                            })?;
                        }
                        // reference_ops::HybridConvPerChannel: asymmetric input,
                        // acc * per_channel_scale * scaling_factor, + bias, clamp.
                        Some(scales) => {
                            let (factor, offset) = hybrid::asymmetric_quantize(x, q);
                            dots(q, patches, y, -offset, &|oc, acc| {
                                let mut v = acc as f32 * f32::from_bits(scales[oc] as u32) * factor;
                                if let Some(bias) = bias {
                                    v += bias[oc];
                                }
                                clamp_f32(v, act_min, act_max)
                            })?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Hybrid CONV_2D's integer part through the blocked product: `Σ f (q + input_offset)` for every
/// output as the raw product `Σ f q` plus `input_offset * sums[c]` (`sums`: each filter row's
/// sum), exact in wrapping integers, so the same integers as [`conv_generic`]; then
/// `finish(channel, acc)`. A 1x1 window with stride 1 and no padding multiplies the quantized
/// pixels directly; other windows gather [`im2col_pixels`] patches at a time into `patches`, the
/// taps outside the image as `-input_offset` (the quantized zero point), which add nothing.
#[allow(clippy::too_many_arguments)]
fn conv_hybrid_blocked<S: Simd>(
    w: &Window,
    q: &[i8],
    filter: &[i8],
    input_offset: i32,
    sums: &[i32],
    patches: &mut [i8],
    out: &mut [f32],
    finish: &dyn Fn(usize, i32) -> f32,
) -> Result<(), &'static str> {
    let (in_c, out_c) = (w.in_c as usize, w.out_c as usize);
    let depth = w.k_h as usize * w.k_w as usize * in_c;
    let sums = &sums[..out_c];
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let pixels = w.batches as usize * out_h * out_w;
    let pointwise = w.k_h == 1
        && w.k_w == 1
        && w.stride_h == 1
        && w.stride_w == 1
        && w.pad_h == 0
        && w.pad_w == 0;
    if pointwise {
        let mut put = |p: usize, c: usize, acc: i32| {
            out[p * out_c + c] = finish(c, acc.wrapping_add(input_offset.wrapping_mul(sums[c])));
        };
        matmul::mat_mult::<S, i8>(q, in_c, pixels, filter, in_c, out_c, &mut put);
        return Ok(());
    }
    let batch = im2col_pixels(depth);
    let patches = patches
        .get_mut(..batch * depth)
        .ok_or("hybrid im2col scratch too small (planner bug)")?;
    let zero_point = (-input_offset) as i8;
    let mut n = 0;
    while n < pixels {
        let count = (pixels - n).min(batch);
        gather_patches(w, q, n, count, zero_point, patches, depth);
        let y = &mut out[n * out_c..][..count * out_c];
        let mut put = |p: usize, c: usize, acc: i32| {
            y[p * out_c + c] = finish(c, acc.wrapping_add(input_offset.wrapping_mul(sums[c])));
        };
        matmul::mat_mult::<S, i8>(patches, depth, count, filter, depth, out_c, &mut put);
        n += count;
    }
    Ok(())
}

/// Scratch bytes for a channel pair's widened filter rows ([`matmul::Requantized::wide`]):
/// `depth` words, where the rows are whole quads and the accumulators narrow (the loop that
/// reads them, [`Rows2x2::wide`](super::dot::Rows2x2::wide)); placed first in the scratch.
fn wide_bytes(depth: usize, narrow: bool) -> usize {
    if narrow && depth.is_multiple_of(4) {
        4 * depth
    } else {
        0
    }
}

/// The scratch split into [`wide_bytes`] as words (empty if the arena gave less, or misaligned)
/// and the rest.
fn split_wide(scratch: &mut [u8], depth: usize, narrow: bool) -> (&mut [u32], &mut [u8]) {
    let n = wide_bytes(depth, narrow).min(scratch.len());
    let (wide, rest) = scratch.split_at_mut(n);
    (bytemuck::try_cast_slice_mut(wide).unwrap_or_default(), rest)
}

/// [`Int8Path::Pointwise`]: a 1x1 window without padding is a matrix product of the input pixels
/// (int8, the input offset folded into `offsets`) with the filter rows, one output row at a time
/// (a stride skips pixels within a row and whole rows).
pub fn conv_pointwise<S: Simd>(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    offsets: &[i32],
    out: &mut [i8],
    stage: matmul::Int8Output<'_>,
    wide: &mut [u32],
) {
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, w.out_c as usize);
    let (stride_h, stride_w) = (w.stride_h as usize, w.stride_w as usize);
    let offsets = &offsets[..out_c];
    let mut product = |x: &[i8], x_stride: usize, pixels: usize, out: &mut [i8]| {
        matmul::requantized_product::<S>(
            x, x_stride, pixels, filter, in_c, out_c, out, offsets, stage, wide,
        );
    };
    if stride_h == 1 && stride_w == 1 {
        // The output has the input's pixels: one product over all of them.
        let pixels = w.batches as usize * in_h * in_w;
        product(input, in_c, pixels, out);
        return;
    }
    for b in 0..w.batches as usize {
        for oy in 0..out_h {
            let x = &input[((b * in_h + oy * stride_h) * in_w) * in_c..];
            let y = &mut out[(b * out_h + oy) * out_w * out_c..][..out_w * out_c];
            product(x, stride_w * in_c, out_w, y);
        }
    }
}

/// Output pixels whose patches [`conv_im2col`] gathers at once: an even count, at least 2, up to
/// 64, with the patches in at most 4 KB of scratch (more pixels per pass read each filter row
/// pair, from flash, once for more of them, and spread the product's per-pass costs: from 2 KB
/// and 16 to 4 KB and 64, nucleo-l4r5zi int8 IC 28.8 -> 26.3 M cycles, VWW 19.7 -> 19.3 M).
pub fn im2col_pixels(depth: usize) -> usize {
    ((4096 / depth.max(1)).clamp(2, 64)) & !1
}

/// [`Int8Path::Im2col`]: for each [`im2col_pixels`] output pixels, their input patches in filter order
/// (tap row, tap column, channel) are gathered into `scratch`, taps outside the image as the input
/// zero point (`-input_offset`: with the offset, 0), then multiplied with the filter rows;
/// `offsets` holds `bias + input_offset * Σ filter row` per channel.
///
/// The patches stay int8 (CMSIS-NN expands them to int16 with the offset added): the product
/// then shares [`Int8Path::Pointwise`]'s kernel, which measured as fast per MAC on the M4 as an
/// int16 one (its SXTB16s replace the int16 version's extra loads), with half the scratch and
/// 6 KB less code, which the Artemis's 192 KB of flash did not have.
#[allow(clippy::too_many_arguments)]
pub fn conv_im2col<S: Simd>(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    slot: usize,
    offsets: &[i32],
    out: &mut [i8],
    input_offset: i32,
    scratch: &mut [u8],
    stage: matmul::Int8Output<'_>,
) -> Result<(), &'static str> {
    let out_c = w.out_c as usize;
    let batch = im2col_pixels(slot);
    let (wide, scratch) = split_wide(scratch, slot, stage.narrow);
    let scratch: &mut [i8] = bytemuck::cast_slice_mut(scratch);
    let scratch = scratch
        .get_mut(..batch * slot)
        .ok_or("im2col scratch too small (planner bug)")?;
    let zero_point = (-input_offset) as i8;
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let pixels = w.batches as usize * out_h * out_w;
    let mut n = 0;
    while n < pixels {
        let count = (pixels - n).min(batch);
        gather_patches(w, input, n, count, zero_point, scratch, slot);
        matmul::requantized_product::<S>(
            scratch,
            slot,
            count,
            filter,
            slot,
            out_c,
            &mut out[n * out_c..][..count * out_c],
            offsets,
            stage,
            wide,
        );
        n += count;
    }
    Ok(())
}

/// The patches of output pixels `first..first + count` (pixels counted over batches, rows and
/// columns) into `patches`, one every `slot` values (the window's depth, or [`padded_depth`]),
/// [`im2col`] each.
fn gather_patches(
    w: &Window,
    input: &[i8],
    first: usize,
    count: usize,
    zero_point: i8,
    patches: &mut [i8],
    slot: usize,
) {
    let depth = w.depth();
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    if out_h == 0 || out_w == 0 {
        return;
    }
    // The first pixel's coordinates divided out once, the others counted along.
    let (mut b, mut oy, mut ox) = (
        first / (out_h * out_w),
        first / out_w % out_h,
        first % out_w,
    );
    // The output rows and columns whose windows lie inside the image (contiguous rows when
    // `dil_w` is 1): their patches are `k_h` row copies from a start that steps along.
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let inside = super::inside_outputs;
    let rows = inside(w.pad_h, w.stride_h, k_h, w.dil_h, in_h);
    let cols = if w.dil_w == 1 {
        inside(w.pad_w, w.stride_w, k_w, 1, in_w)
    } else {
        0..0
    };
    let row_len = k_w * in_c;
    let row_step = w.dil_h as usize * in_w * in_c;
    let x_step = w.stride_w as usize * in_c;
    let slot = slot.max(1);
    let whole = depth <= slot && depth == k_h * row_len && k_h > 0;
    let mut n = 0;
    while n < count {
        // A run of windows inside the image along an output row: one start, stepped along,
        // when the run's last window ends inside the input (one check for the run).
        let run = if whole && rows.contains(&oy) && cols.contains(&ox) {
            let run = (cols.end - ox).min(count - n);
            let y0 = oy * w.stride_h as usize - w.pad_h as usize;
            let x0 = ox * w.stride_w as usize - w.pad_w as usize;
            let start = ((b * in_h + y0) * in_w + x0) * in_c;
            let end = start + (run - 1) * x_step + (k_h - 1) * row_step + row_len;
            (end <= input.len() && (n + run) * slot <= patches.len()).then_some((run, start))
        } else {
            None
        };
        let step = match run {
            Some((run, start)) => {
                let (src, dst) = (input.as_ptr(), patches.as_mut_ptr());
                for p in 0..run {
                    let (from, to) = (start + p * x_step, (n + p) * slot);
                    for fy in 0..k_h {
                        // SAFETY: row fy of window p reads `row_len` bytes from `from + fy *
                        // row_step`, inside `input` (the run's check), and writes them at
                        // `to + fy * row_len`, inside patch n + p (`depth <= slot`).
                        unsafe {
                            copy_row(
                                src.add(from + fy * row_step),
                                dst.add(to + fy * row_len),
                                row_len,
                            )
                        };
                    }
                }
                run
            }
            None => {
                // The padding after `depth` is left as it is: its products are zero (the
                // padded filter's values), whatever it holds.
                let patch = &mut patches[n * slot..][..slot];
                im2col(
                    w,
                    input,
                    b,
                    oy,
                    ox,
                    zero_point,
                    &mut patch[..depth.min(slot)],
                );
                1
            }
        };
        n += step;
        ox += step;
        if ox == out_w {
            ox = 0;
            oy += 1;
            if oy == out_h {
                oy = 0;
                b += 1;
            }
        }
    }
}

/// One output pixel's patch, the taps outside the image as `zero_point` (the windows inside
/// it [`gather_patches`] copies itself).
fn im2col(
    w: &Window,
    input: &[i8],
    b: usize,
    oy: usize,
    ox: usize,
    zero_point: i8,
    patch: &mut [i8],
) {
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
    let y0 = (oy * w.stride_h as usize) as isize - w.pad_h as isize;
    let x0 = (ox * w.stride_w as usize) as isize - w.pad_w as isize;
    let row_len = k_w * in_c;
    let (fy0, fy1) = super::tap_range(y0, in_h, k_h, dil_h);
    let (fx0, fx1) = super::tap_range(x0, in_w, k_w, dil_w);
    patch[..fy0 * row_len].fill(zero_point);
    patch[fy1 * row_len..].fill(zero_point);
    for fy in fy0..fy1 {
        let y = (y0 + (dil_h * fy) as isize) as usize;
        let row = &mut patch[fy * row_len..][..row_len];
        row[..fx0 * in_c].fill(zero_point);
        row[fx1 * in_c..].fill(zero_point);
        let src_row = (b * in_h + y) * in_w;
        if dil_w == 1 {
            let x = (x0 + fx0 as isize) as usize;
            let n = (fx1 - fx0) * in_c;
            row[fx0 * in_c..][..n].copy_from_slice(&input[(src_row + x) * in_c..][..n]);
        } else {
            for fx in fx0..fx1 {
                let x = (x0 + (dil_w * fx) as isize) as usize;
                row[fx * in_c..][..in_c].copy_from_slice(&input[(src_row + x) * in_c..][..in_c]);
            }
        }
    }
}

/// Copies `n` bytes from `src` to `dst` (not overlapping): below 32 bytes as straight-line
/// copies of 16, 8, 4, 2 and 1 bytes (unaligned loads and stores), a memcpy call above.
///
/// # Safety
/// `src` valid for reads and `dst` for writes of `n` bytes, the two not overlapping.
#[inline(always)]
unsafe fn copy_row(src: *const i8, dst: *mut i8, n: usize) {
    if n >= 32 {
        // SAFETY: the caller's guarantee.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, n) };
        return;
    }
    let mut at = 0;
    macro_rules! piece {
        ($t:ty, $size:literal) => {
            if n & $size != 0 {
                // SAFETY: `at + $size <= n`: the bits of `n` below `$size` are still ahead.
                unsafe {
                    let v = src.add(at).cast::<$t>().read_unaligned();
                    dst.add(at).cast::<$t>().write_unaligned(v);
                }
                at += $size;
            }
        };
    }
    piece!([u32; 4], 16);
    piece!(u64, 8);
    piece!(u32, 4);
    piece!(u16, 2);
    piece!(u8, 1);
    let _ = at;
}

/// The int8 convolution loop of TFLite Micro's `ConvPerChannel`: acc over the window of
/// filter * (input + input_offset), plus bias, then `finish(channel, acc)`. The reference the
/// fast paths are tested against.
pub fn conv_int8(
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

#[cfg(test)]
mod tests {
    use super::super::dot::Emulated;
    use super::*;
    use crate::quant::quantize_multiplier;
    use std::vec::Vec;

    /// xorshift64* values.
    fn next(seed: &mut u64) -> u64 {
        *seed ^= *seed >> 12;
        *seed ^= *seed << 25;
        *seed ^= *seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(seed: &mut u64, n: usize) -> Vec<i8> {
        (0..n).map(|_| (next(seed) >> 56) as u8 as i8).collect()
    }

    /// A window with the output size and padding TFLite computes for SAME (`same`) or VALID.
    #[allow(clippy::too_many_arguments)]
    fn window(
        batches: u16,
        (in_h, in_w, in_c): (u16, u16, u16),
        out_c: u16,
        (k_h, k_w): (u16, u16),
        (stride_h, stride_w): (u16, u16),
        (dil_h, dil_w): (u16, u16),
        same: bool,
    ) -> Window {
        let size = |image: u16, k: u16, s: u16, d: u16| {
            let effective = (k - 1) * d + 1;
            if same {
                let out = image.div_ceil(s);
                let pad = ((out as i32 - 1) * s as i32 + effective as i32 - image as i32) / 2;
                (out, pad.max(0) as u16)
            } else {
                ((image + s).saturating_sub(effective) / s, 0)
            }
        };
        let (out_h, pad_h) = size(in_h, k_h, stride_h, dil_h);
        let (out_w, pad_w) = size(in_w, k_w, stride_w, dil_w);
        Window {
            batches,
            in_h,
            in_w,
            in_c,
            out_h,
            out_w,
            out_c,
            k_h,
            k_w,
            stride_h,
            stride_w,
            dil_h,
            dil_w,
            pad_h,
            pad_w,
        }
    }

    /// Runs the reference and the fast path of `w` on random data with per-channel (or one
    /// per-tensor) multipliers and checks every output byte.
    fn check(w: &Window, per_channel: bool, seed: &mut u64) {
        let (in_c, out_c) = (w.in_c as usize, w.out_c as usize);
        let depth = w.k_h as usize * w.k_w as usize * in_c;
        let input = bytes(
            seed,
            w.batches as usize * w.in_h as usize * w.in_w as usize * in_c,
        );
        let filter = bytes(seed, out_c * depth);
        let bias: Vec<i32> = (0..out_c)
            .map(|_| (next(seed) >> 48) as i32 - 32768)
            .collect();
        let input_offset = (next(seed) >> 56) as i32 - 127;
        let output_offset = (next(seed) >> 57) as i32 - 64;
        let (mult, shift): (Vec<i32>, Vec<i32>) = (0..out_c)
            .map(|c| {
                let c = if per_channel { c } else { 0 };
                quantize_multiplier(0.0004 + 0.0007 * c as f64)
            })
            .unzip();
        let stage = matmul::Int8Output {
            mult: &mult,
            shift: &shift,
            output_offset,
            act_min: -128,
            act_max: 100,
            narrow: false,
        };
        let requant = |oc: usize, acc| stage.apply(oc, acc);
        let outputs = w.batches as usize * w.out_h as usize * w.out_w as usize * out_c;
        let mut want = std::vec![0i8; outputs];
        conv_int8(
            w,
            &input,
            &filter,
            Some(&bias),
            &mut want,
            input_offset,
            requant,
        );

        let filter_bytes: Vec<u8> = filter.iter().map(|&v| v as u8).collect();
        let offsets: Vec<i32> = (0..out_c)
            .map(|c| matmul::row_offset(&filter_bytes[c * depth..][..depth], input_offset, bias[c]))
            .collect();
        // The narrow requantization where the load-time bound allows it (it does for these
        // multipliers, whose shifts are negative, and |bias| < 2^15).
        let narrow = crate::quant::fits_narrow(
            out_c,
            depth,
            |c, k| filter[c * depth + k],
            |c| bias[c],
            |c| shift[c],
            stage.output_offset,
        );
        // The filter as it is, and padded (rows rounded up to a multiple of 4, as the patches).
        let slot = padded_depth(depth);
        let padded: Vec<i8> = (0..out_c * slot)
            .map(|i| {
                if i % slot < depth {
                    filter[i / slot * depth + i % slot]
                } else {
                    0
                }
            })
            .collect();
        for stage in [stage, matmul::Int8Output { narrow, ..stage }] {
            for (rows, slot) in [(&filter[..], depth), (&padded[..], slot)] {
                let mut got = std::vec![0x55i8; outputs];
                // Words, so that the widened rows at its start are aligned.
                let bytes = wide_bytes(slot, stage.narrow) + im2col_pixels(slot) * slot;
                let mut scratch = std::vec![0x5555_5555u32; bytes.div_ceil(4)];
                conv_im2col::<Emulated>(
                    w,
                    &input,
                    rows,
                    slot,
                    &offsets,
                    &mut got,
                    input_offset,
                    bytemuck::cast_slice_mut(&mut scratch),
                    stage,
                )
                .unwrap();
                assert_eq!(
                    got, want,
                    "im2col {w:?} slot {slot} narrow {}",
                    stage.narrow
                );
            }

            if w.k_h == 1 && w.k_w == 1 && w.pad_h == 0 && w.pad_w == 0 {
                // The filter rows int8, and widened where the scratch has room.
                let mut wide = std::vec![0x5555_5555u32; w.in_c as usize];
                for wide in [&mut [][..], &mut wide[..]] {
                    let mut got = std::vec![0x55i8; outputs];
                    conv_pointwise::<Emulated>(w, &input, &filter, &offsets, &mut got, stage, wide);
                    assert_eq!(got, want, "pointwise {w:?} narrow {}", stage.narrow);
                }
            }
        }
        assert!(
            narrow || depth > 10_000,
            "narrow should hold for depth {depth}"
        );
    }

    #[test]
    fn fast_paths_are_bit_exact_with_the_reference() {
        let mut seed = 0xc0de_0017_f00d_0001;
        // Channels that are and are not multiples of 4, odd pixel counts, both paddings,
        // strides, dilations, batches, per-channel and per-tensor multipliers.
        for in_c in [1, 3, 4, 5, 8, 16] {
            for out_c in [1, 2, 3, 5, 8] {
                for (k, stride, dil) in [
                    ((1, 1), (1, 1), (1, 1)),
                    ((1, 1), (2, 2), (1, 1)),
                    ((1, 1), (1, 2), (1, 1)),
                    ((3, 3), (1, 1), (1, 1)),
                    ((3, 3), (2, 2), (1, 1)),
                    ((3, 2), (1, 2), (2, 1)),
                    ((2, 3), (2, 1), (1, 2)),
                    ((10, 4), (2, 2), (1, 1)),
                ] {
                    for same in [true, false] {
                        for (batches, h, wd) in [(1, 5, 5), (2, 3, 7), (1, 11, 4)] {
                            let w = window(batches, (h, wd, in_c), out_c, k, stride, dil, same);
                            if w.out_h == 0 || w.out_w == 0 {
                                continue;
                            }
                            check(&w, (in_c + out_c) % 2 == 0, &mut seed);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn hybrid_blocked_product_gives_conv_generic_integers() {
        let mut seed = 0x4b1d_0017_f00d_0002;
        let mut cases = 0;
        for in_c in [1, 3, 4, 16] {
            for out_c in [1, 3, 8] {
                for (k, stride, dil) in [
                    ((1, 1), (1, 1), (1, 1)),
                    ((1, 1), (2, 2), (1, 1)),
                    ((3, 3), (1, 1), (1, 1)),
                    ((3, 3), (2, 2), (1, 1)),
                    ((3, 2), (1, 2), (2, 1)),
                    ((10, 4), (2, 2), (1, 1)),
                ] {
                    for same in [true, false] {
                        for (h, wd) in [(5, 5), (11, 4)] {
                            let w = window(1, (h, wd, in_c), out_c, k, stride, dil, same);
                            if w.out_h == 0 || w.out_w == 0 {
                                continue;
                            }
                            let depth = w.k_h as usize * w.k_w as usize * in_c as usize;
                            let q = bytes(&mut seed, h as usize * wd as usize * in_c as usize);
                            let filter = bytes(&mut seed, out_c as usize * depth);
                            let sums: Vec<i32> = (0..out_c as usize)
                                .map(|c| {
                                    filter[c * depth..][..depth].iter().map(|&f| f as i32).sum()
                                })
                                .collect();
                            let outputs = w.out_h as usize * w.out_w as usize * out_c as usize;
                            // The integer carried through the float output bit for bit.
                            let finish = |_: usize, acc: i32| f32::from_bits(acc as u32);
                            // Symmetric (offset 0) and asymmetric (zero points at both ends).
                            for offset in [0, 128, -127, 5] {
                                let mut want = std::vec![0f32; outputs];
                                conv_generic(&w, &q, &filter, offset, finish, &mut want);
                                let mut got = std::vec![0f32; outputs];
                                let mut patches = std::vec![0x55i8; im2col_pixels(depth) * depth];
                                conv_hybrid_blocked::<Emulated>(
                                    &w,
                                    &q,
                                    &filter,
                                    offset,
                                    &sums,
                                    &mut patches,
                                    &mut got,
                                    &finish,
                                )
                                .unwrap();
                                let bits =
                                    |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                                assert_eq!(bits(&got), bits(&want), "{w:?} offset {offset}");
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(cases > 300, "{cases}");
    }

    #[test]
    fn fast_paths_hold_the_extreme_products() {
        // Inputs 127 with input offset 128 (zero point -128) and weights -128: every product
        // -32640, 576 of them in a full 3x3x64 window.
        let w = window(1, (4, 4, 64), 4, (3, 3), (1, 1), (1, 1), true);
        let depth = 9 * 64;
        let (input, filter) = (std::vec![127i8; 16 * 64], std::vec![-128i8; 4 * depth]);
        // 0.5 * 2^-17: the sums of 4 to 9 taps land inside the int8 range.
        let stage = matmul::Int8Output {
            mult: &[1 << 30],
            shift: &[-17],
            output_offset: 0,
            act_min: -128,
            act_max: 127,
            narrow: false,
        };
        let finish = |c: usize, acc: i32| stage.apply(c, acc);
        let mut want = std::vec![0i8; 16 * 4];
        conv_int8(&w, &input, &filter, None, &mut want, 128, finish);
        assert!(want.contains(&-72) && want.contains(&-32));
        let mut got = std::vec![0i8; 16 * 4];
        let mut scratch = std::vec![0u8; im2col_pixels(depth) * depth];
        let filter_bytes: std::vec::Vec<u8> = filter.iter().map(|&v| v as u8).collect();
        let offsets: std::vec::Vec<i32> = (0..4)
            .map(|c| matmul::row_offset(&filter_bytes[c * depth..][..depth], 128, 0))
            .collect();
        conv_im2col::<Emulated>(
            &w,
            &input,
            &filter,
            depth,
            &offsets,
            &mut got,
            128,
            &mut scratch,
            stage,
        )
        .unwrap();
        assert_eq!(got, want);
    }
}
