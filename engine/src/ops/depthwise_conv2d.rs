//! DEPTHWISE_CONV_2D: int8 per-channel (TFLite Micro `reference_integer_ops::DepthwiseConvPerChannel`),
//! float32 (`reference_ops::DepthwiseConv`) and hybrid (desktop TFLite depthwise_conv.cc
//! `EvalHybridPerChannel` with `reference_integer_ops::DepthwiseConvHybridPerChannel`).

use super::conv2d::{
    check_int8_scales, check_scales, filter_dims, narrow_accumulators, push_multipliers,
};
use super::dot::{copy_words, DwRow, Native};
use super::matmul::Int8Output;
use super::{
    clamp_f32, hybrid, push_channel_scales, tap_range, weighted_kernel, Constants, OpKind, Prep,
    Prepared, TensorId, Weighted, Window, NO_TENSOR,
};
use crate::error::Error;
use crate::quant::{Clamp, NarrowRequant, Requant, Requantizer};

#[derive(Clone, Copy, Debug)]
pub struct DepthwiseConv2d {
    pub input: TensorId,
    pub filter: TensorId,
    pub bias: TensorId,
    pub w: Window,
    pub depth_multiplier: u16,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Multipliers at `pool[at..at+C]`, shifts at `pool[at+C..at+2C]`.
    Int8 {
        input_offset: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
        at: u32,
        /// Accumulators narrow enough for [`NarrowRequant`] (checked at load).
        narrow: bool,
    },
    F32 {
        act_min: f32,
        act_max: f32,
    },
    /// Per-channel filter scales (f32 bits) at `pool[at..at+C]`.
    Hybrid {
        act_min: f32,
        act_max: f32,
        at: u32,
    },
}

pub fn prepare(p: &Prep<'_, '_>, pool: &mut Constants<'_>) -> Result<Prepared, Error> {
    p.expect_options(2)?;
    let input = p.input(0)?;
    let filter = p.input(1)?;
    let bias = p.optional_input(2)?;
    let output = p.output(0)?;
    let out_c = output.shape.dim(3);
    let in_c = input.shape.dim(3);
    let [one, kh, kw, fc] = filter_dims(p, &filter, bias.as_ref(), out_c)?;
    if one != 1 || fc != out_c {
        return Err(p.invalid("the filter is not [1, H, W, output channels]"));
    }
    if in_c == 0 || out_c % in_c != 0 {
        return Err(p.invalid("output channels are not a multiple of input channels"));
    }
    // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
    // fused_activation_function 4, dilation_w_factor 5, dilation_h_factor 6. The multiplier is
    // implied by the shapes (newer converters write 0), so it is taken from them.
    let w = Window::new(
        p,
        &input,
        &output,
        (kh, kw),
        (p.opt_i32(2, 1)?, p.opt_i32(1, 1)?),
        (p.opt_i32(6, 1)?, p.opt_i32(5, 1)?),
        p.opt_i8(0, 0)?,
    )?;
    let act = p.activation(4)?;
    // int8 and hybrid: one i32 accumulator per output channel (16-byte-aligned scratch).
    let mut scratch_bytes = 0;
    let unsupported =
        "DEPTHWISE_CONV_2D runs int8, float32 and hybrid (float32 input, int8 filter)";
    let mode = match weighted_kernel(p, &input, &filter, &output, bias.as_ref(), unsupported)? {
        Weighted::Int8 => {
            check_scales(p, &filter, out_c)?;
            check_int8_scales(p, &input, &filter, &output, out_c)?;
            let (act_min, act_max) = act.range_i8(output.scale, output.zero_point);
            let at = push_multipliers(pool, &input, &filter, &output, out_c);
            // The filter is [1, H, W, C]: tap-major.
            let narrow = narrow_accumulators(
                &input,
                &filter,
                &output,
                bias.as_ref(),
                out_c,
                kh * kw,
                false,
                None,
            );
            scratch_bytes = out_c * 4;
            if out_c == in_c {
                // Depth multiplier 1: a copy of the filter in RAM (see `quads_in_ram`), and the
                // padded rows of one output row's windows (see `Band`).
                scratch_bytes += (kh * kw * out_c).div_ceil(4) * 4;
                scratch_bytes += Band::of(&w, -input.zero_point).map_or(0, |b| b.bytes());
            }
            Mode::Int8 {
                input_offset: -input.zero_point,
                output_offset: output.zero_point,
                act_min,
                act_max,
                at,
                narrow,
            }
        }
        Weighted::F32 => {
            let (act_min, act_max) = act.range_f32();
            Mode::F32 { act_min, act_max }
        }
        Weighted::Hybrid => {
            check_scales(p, &filter, out_c)?;
            let at = push_channel_scales(pool, &filter, out_c);
            // Accumulators, each channel's scale x the batch's factor, the quantized input.
            scratch_bytes = 2 * out_c * 4 + input.shape.elements() / input.shape.dim(0).max(1);
            let (act_min, act_max) = act.range_f32();
            Mode::Hybrid {
                act_min,
                act_max,
                at,
            }
        }
    };
    let kind = OpKind::DepthwiseConv2d(DepthwiseConv2d {
        input: p.id(&input),
        filter: p.id(&filter),
        bias: bias.as_ref().map_or(NO_TENSOR, |b| p.id(b)),
        w,
        depth_multiplier: p.dim16(out_c / in_c)?,
        mode,
    });
    Ok(Prepared {
        kind,
        scratch_bytes,
    })
}

impl DepthwiseConv2d {
    pub fn macs(&self) -> u64 {
        let w = &self.w;
        [w.batches, w.out_h, w.out_w, w.out_c, w.k_h, w.k_w]
            .iter()
            .map(|&d| d as u64)
            .product()
    }

    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let dm = self.depth_multiplier as usize;
        match self.mode {
            Mode::Int8 {
                input_offset,
                output_offset,
                act_min,
                act_max,
                at,
                narrow,
            } => {
                let c = self.w.out_c as usize;
                let mult = ctx.pool(at, c)?;
                let shift = ctx.pool(at + c as u32, c)?;
                let input = ctx.i8(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_i32(self.bias)?;
                let out = ctx.out_i8();
                let (acc_bytes, rest) = ctx.scratch().split_at_mut(c * 4);
                let acc = accumulators(acc_bytes, c)?;
                let stage = Int8Output {
                    mult,
                    shift,
                    output_offset,
                    act_min,
                    act_max,
                    narrow,
                };
                if dm == 1 {
                    let taps = self.w.k_h as usize * self.w.k_w as usize;
                    let (quad_bytes, band) = rest.split_at_mut((c / 4 * 4 * taps).div_ceil(4) * 4);
                    let quads = quads_in_ram(filter, c, taps, quad_bytes)?;
                    depthwise_int8_dm1::<Native>(
                        &self.w,
                        input,
                        filter,
                        quads,
                        bias,
                        input_offset,
                        stage,
                        acc,
                        bytemuck::cast_slice_mut(band),
                        out,
                    );
                    return Ok(());
                }
                window_loop(
                    &self.w,
                    dm,
                    input,
                    filter,
                    input_offset,
                    acc,
                    out,
                    |acc, out| {
                        let bias = bias.unwrap_or(&[]);
                        for (c, (o, &a)) in out.iter_mut().zip(acc.iter()).enumerate() {
                            let b = bias.get(c).copied().unwrap_or(0);
                            *o = stage.apply(c, a.wrapping_add(b));
                        }
                    },
                );
            }
            Mode::F32 { act_min, act_max } => {
                let input = ctx.f32(self.input)?;
                let filter = ctx.f32(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                depthwise_f32(&self.w, dm, input, filter, bias, out, act_min, act_max);
            }
            Mode::Hybrid {
                act_min,
                act_max,
                at,
            } => {
                let w = &self.w;
                let c = w.out_c as usize;
                let scales = ctx.pool(at, c)?;
                let input = ctx.f32(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                let (acc_bytes, scratch) = ctx.scratch().split_at_mut(c * 4);
                let acc = accumulators(acc_bytes, c)?;
                let (scale_bytes, scratch) = scratch.split_at_mut(c * 4);
                let channel_scales: &mut [f32] = bytemuck::try_cast_slice_mut(scale_bytes)
                    .map_err(|_| "depthwise scratch misaligned (planner bug)")?;
                let scratch: &mut [i8] = bytemuck::cast_slice_mut(scratch);
                let in_size = w.in_h as usize * w.in_w as usize * w.in_c as usize;
                let out_size = w.out_h as usize * w.out_w as usize * c;
                let q = scratch
                    .get_mut(..in_size)
                    .ok_or("hybrid scratch too small (planner bug)")?;
                let one = Window { batches: 1, ..*w };
                for b in 0..w.batches as usize {
                    let (factor, offset) =
                        hybrid::asymmetric_quantize(&input[b * in_size..(b + 1) * in_size], q);
                    // scale * factor once per channel, not per output (the same product).
                    for (cs, &s) in channel_scales.iter_mut().zip(scales) {
                        *cs = f32::from_bits(s as u32) * factor;
                    }
                    let channel_scales = &*channel_scales;
                    window_loop(
                        &one,
                        dm,
                        q,
                        filter,
                        -offset,
                        acc,
                        &mut out[b * out_size..(b + 1) * out_size],
                        |acc, out| {
                            let scaled = out.iter_mut().zip(acc).zip(channel_scales);
                            for (oc, ((o, &a), &scale)) in scaled.enumerate() {
                                let mut v = a as f32 * scale;
                                if let Some(bias) = bias {
                                    v += bias[oc];
                                }
                                *o = clamp_f32(v, act_min, act_max);
                            }
                        },
                    );
                }
            }
        }
        Ok(())
    }
}

/// The filter's channels in quads, copied into the scratch buffer: quad after quad (channels
/// `4q..4q + 4`), in each its taps' words one after the other (`[quad][tap][4]`), the channels
/// past the last multiple of four left out. The four-channel paths read one word per tap: in
/// the filter's own layout those are `channels` bytes apart, with 64 channels all in one set of
/// the STM32L4 ART's data cache (8 sets of 8-byte lines), missing on every read (5 wait states)
/// in flash; here they are in RAM and consecutive, for post-incremented loads. Copied at each
/// inference: a few hundred bytes.
fn quads_in_ram<'s>(
    filter: &[i8],
    channels: usize,
    taps: usize,
    scratch: &'s mut [u8],
) -> Result<&'s [i8], &'static str> {
    let quads = channels / 4;
    if filter.len() < channels * taps {
        return Err("depthwise filter smaller than its shape");
    }
    let copy: &mut [i8] = bytemuck::cast_slice_mut(
        scratch
            .get_mut(..quads * 4 * taps)
            .ok_or("depthwise scratch too small (planner bug)")?,
    );
    // Word by word through pointers (checked once: 18 cycles a word with a check each).
    let (src, dst) = (filter.as_ptr(), copy.as_mut_ptr());
    for q in 0..quads {
        for t in 0..taps {
            // SAFETY: `t * channels + 4 q + 4 <= channels * taps <= filter.len()` (the check
            // above) and `(q taps + t) 4 + 4 <= copy.len()`.
            unsafe {
                let w = src.add(t * channels + 4 * q).cast::<u32>().read_unaligned();
                dst.add((q * taps + t) * 4).cast::<u32>().write_unaligned(w);
            }
        }
    }
    Ok(copy)
}

/// The i32 accumulators (one per output channel) at the start of the scratch buffer.
fn accumulators(scratch: &mut [u8], channels: usize) -> Result<&mut [i32], &'static str> {
    scratch
        .get_mut(..channels * 4)
        .and_then(|b| bytemuck::try_cast_slice_mut(b).ok())
        .ok_or("depthwise scratch too small or misaligned (planner bug)")
}

/// The integer loop of `DepthwiseConvPerChannel`: for each output channel `ic * dm + m`, acc over
/// the window of filter * (input + input_offset), then `finish(accumulators, output pixel)`. The reference loops
/// channel by channel; here each in-image tap updates all channels of a pixel at once (contiguous
/// in NHWC input and [1, H, W, C] filter), accumulating in `acc` (one i32 per output channel).
/// Integer sums do not depend on order, so the results are the reference's.
#[allow(clippy::too_many_arguments)]
fn window_loop<T>(
    w: &Window,
    dm: usize,
    input: &[i8],
    filter: &[i8],
    input_offset: i32,
    acc: &mut [i32],
    out: &mut [T],
    finish: impl Fn(&[i32], &mut [T]),
) {
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_w, out_c) = (w.k_w as usize, w.out_c as usize);
    let acc = &mut acc[..out_c];
    let mut list = [[0u32; 2]; MAX_LISTED_TAPS];
    let mut o = 0;
    for b in 0..w.batches as usize {
        for oy in 0..w.out_h as isize {
            let y0 = oy * w.stride_h as isize - w.pad_h as isize;
            let (fy0, fy1) = tap_range(y0, in_h, w.k_h as usize, w.dil_h as usize);
            for ox in 0..w.out_w as isize {
                let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                let (fx0, fx1) = tap_range(x0, in_w, k_w, w.dil_w as usize);
                acc.fill(0);
                let row = b * in_h;
                let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
                // (input index, filter index) of each in-image tap, row by row.
                let taps = (fy0..fy1).flat_map(move |fy| {
                    let y = (y0 + (dil_h * fy) as isize) as usize;
                    (fx0..fx1).map(move |fx| {
                        let x = (x0 + (dil_w * fx) as isize) as usize;
                        (((row + y) * in_w + x) * in_c, (fy * k_w + fx) * out_c)
                    })
                });
                if dm == 1 {
                    // The taps' byte offsets once into a list, walked for every four channels.
                    let mut n = 0;
                    for (slot, (i, f)) in list.iter_mut().zip(taps.clone()) {
                        *slot = [i as u32, f as u32];
                        n += 1;
                    }
                    if n == (fy1 - fy0) * (fx1 - fx0) {
                        pixel(&list[..n], input, filter, input_offset, acc);
                    } else {
                        pixel_reference(taps, input, filter, input_offset, acc);
                    }
                } else {
                    for (i, f) in taps {
                        let (xs, fs) = (&input[i..][..in_c], &filter[f..][..out_c]);
                        for (ic, &x) in xs.iter().enumerate() {
                            let xv = x as i32 + input_offset;
                            for m in 0..dm {
                                let oc = ic * dm + m;
                                acc[oc] = acc[oc].wrapping_add(fs[oc] as i32 * xv);
                            }
                        }
                    }
                }
                finish(acc, &mut out[o..o + out_c]);
                o += out_c;
            }
        }
    }
}

/// int8 with depth multiplier 1, [`depthwise_int8_dm1_with`] with the operator's requantization.
/// `quads` is the filter as [`quads_in_ram`] lays it out.
#[allow(clippy::too_many_arguments)]
fn depthwise_int8_dm1<S: super::dot::Simd>(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    quads: &[i8],
    bias: Option<&[i32]>,
    input_offset: i32,
    stage: Int8Output<'_>,
    acc: &mut [i32],
    band: &mut [i8],
    out: &mut [i8],
) {
    if let Some(b) = Band::of(w, input_offset).filter(|b| b.bytes() <= band.len()) {
        let kernel = if stage.narrow {
            depthwise_int8_dm1_banded::<S, NarrowRequant>
        } else {
            depthwise_int8_dm1_banded::<S, Requant>
        };
        return kernel(
            w,
            &b,
            input,
            filter,
            quads,
            bias,
            input_offset,
            stage,
            band,
            out,
        );
    }
    let kernel = if stage.narrow {
        depthwise_int8_dm1_with::<S, NarrowRequant>
    } else {
        depthwise_int8_dm1_with::<S, Requant>
    };
    kernel(w, input, filter, quads, bias, input_offset, stage, acc, out)
}

/// Tap `t`'s weight of channel `ch` (depth multiplier 1): the quads' channels from the copy in
/// RAM ([`quads_in_ram`]), the channels past the last multiple of four from the filter.
#[inline(always)]
fn weight_at(quads: &[i8], filter: &[i8], c: usize, full: usize, t: usize, ch: usize) -> i8 {
    if ch < c - c % 4 {
        quads[(ch / 4 * full + t) * 4 + ch % 4]
    } else {
        filter[t * c + ch]
    }
}

/// The requantizations of the chunk of `N` channels from `start` (of `c`; channels past `c`
/// repeat the last one's). Multipliers are never i32::MIN: negative scales are refused at load.
#[inline(always)]
fn chunk_requants<R: Requantizer, const N: usize>(
    start: usize,
    c: usize,
    stage: &Int8Output<'_>,
) -> [R; N] {
    core::array::from_fn(|i| {
        let ch = (start + i).min(c - 1);
        R::new(stage.mult[ch], stage.shift[ch], stage.output_offset)
    })
}

/// The biases of the chunk of `N` channels from `start` (0 past `c`).
#[inline(always)]
fn chunk_biases<const N: usize>(start: usize, c: usize, bias: Option<&[i32]>) -> [i32; N] {
    core::array::from_fn(|i| {
        let ch = start + i;
        bias.map_or(0, |b| if ch < c { b[ch] } else { 0 })
    })
}

/// The chunk's biases `b` plus the input offset times the sum of each channel's `full` taps'
/// weights (0 past `c`, or everywhere unless `fold`): the quads' sums from their words in RAM
/// ([`quads_in_ram`], a quad's taps one after the other), the other channels' from the filter.
/// Run per chunk at each inference: byte sums, not [`weight_at`] per tap (160 k cycles of
/// VWW's).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn chunk_folded<const N: usize>(
    b: &[i32; N],
    start: usize,
    c: usize,
    fold: bool,
    full: usize,
    input_offset: i32,
    quads: &[i8],
    filter: &[i8],
) -> [i32; N] {
    let mut sums = [0i32; N];
    if !fold {
        return sums;
    }
    let end = (start + N).min(c);
    let c4 = c - c % 4;
    let mut ch = start;
    while ch + 4 <= end.min(c4) {
        let mut s = [0i32; 4];
        for w in quads[ch * full..][..4 * full].chunks_exact(4) {
            for (s, &v) in s.iter_mut().zip(w) {
                *s = s.wrapping_add(v as i32);
            }
        }
        sums[ch - start..][..4].copy_from_slice(&s);
        ch += 4;
    }
    for ch in ch..end {
        let column = (0..full).map(|t| filter[t * c + ch] as i32);
        sums[ch - start] = column.fold(0i32, |s, v| s.wrapping_add(v));
    }
    core::array::from_fn(|i| {
        if start + i < c {
            b[i].wrapping_add(input_offset.wrapping_mul(sums[i]))
        } else {
            0
        }
    })
}

/// Bands take at most this many bytes of scratch; larger ones leave the operator to
/// [`depthwise_int8_dm1_with`].
const MAX_BAND_BYTES: usize = 8192;

/// Channels per chunk over a [`Band`]: 64 (KWS's depthwise layers) take one chunk, their band
/// rows copied whole; the chunk's constants take 1.5 KB of stack.
const BAND_CHUNK: usize = 64;

/// Whether depth multiplier 1 runs over a [`Band`]: not on the Cortex-M0+, where a padded tap
/// costs as much as the listed edge taps save (KWS int8 on the pico 27.4 -> 28.8 M cycles with
/// the band).
const BANDED: bool = !cfg!(all(target_arch = "arm", not(feature = "dsp")));

/// The rows one output row's windows read, for one chunk of channels, copied into scratch and
/// padded on every side with the input's zero point (`-input_offset`, for which
/// `x + input_offset = 0`: a padded tap adds nothing, exactly as a skipped one): `[k_h][width]
/// [chunk channels]`, tap row `fy` holding input row `y0 + fy * dil_h` (all padding when outside
/// the image). Every window is then inside the band: no edge cases, one list of tap offsets for
/// all pixels, the input offset's part folded into the bias.
#[derive(Clone, Copy, Debug)]
struct Band {
    /// Columns, padding included.
    width: usize,
    /// Padding columns before the input's first.
    left: usize,
    /// Channels of the widest chunk.
    channels: usize,
    rows: usize,
}

impl Band {
    /// The band of `w` (depth multiplier 1), if it fits [`MAX_BAND_BYTES`], its windows have at
    /// most [`MAX_LISTED_TAPS`] taps and the zero point is an int8 value.
    fn of(w: &Window, input_offset: i32) -> Option<Band> {
        let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
        if !BANDED
            || i8::try_from(-(input_offset as i64)).is_err()
            || k_h * k_w > MAX_LISTED_TAPS
            || k_h == 0
            || k_w == 0
            || w.out_w == 0
        {
            return None;
        }
        let left = w.pad_w as usize;
        // One past the last column a window reaches, from the band's first.
        let reach = (w.out_w as usize - 1) * w.stride_w as usize + (k_w - 1) * w.dil_w as usize + 1;
        let band = Band {
            width: reach.max(left + w.in_w as usize),
            left,
            channels: (w.in_c as usize).min(BAND_CHUNK),
            rows: k_h,
        };
        (band.bytes() <= MAX_BAND_BYTES).then_some(band)
    }

    fn bytes(&self) -> usize {
        (self.rows * self.width * self.channels).div_ceil(4) * 4
    }
}

/// Channels whose bias and unpacked requantization are kept on the stack while every output
/// pixel passes by.
const CHANNEL_CHUNK: usize = 32;

/// int8 with depth multiplier 1: the channels in chunks of [`CHANNEL_CHUNK`] (their biases and
/// requantization constants unpacked once), and per chunk, per output pixel, four channels at a
/// time over its in-image taps, accumulators in registers from the bias, each four outputs
/// requantized as soon as they are summed. Windows inside the image take their taps' offsets
/// from the window's first byte, listed once, with the input offset's part (offset x Σ taps'
/// weights) folded into the bias ([`Simd::depthwise_quad_raw`](super::dot::Simd::depthwise_quad_raw);
/// a 3 x 3 window without dilation across, [`Simd::depthwise_3x3_raw`](super::dot::Simd::depthwise_3x3_raw));
/// the others list their in-image taps per pixel ([`Simd::depthwise_quad`](super::dot::Simd::depthwise_quad)).
/// The quads' filter words come from `quads` ([`quads_in_ram`]). The channels past the last
/// multiple of four, and windows of more than [`MAX_LISTED_TAPS`] taps, take the reference loop
/// over `acc` and `filter`.
#[allow(clippy::too_many_arguments)]
fn depthwise_int8_dm1_with<S: super::dot::Simd, R: Requantizer>(
    w: &Window,
    input: &[i8],
    filter: &[i8],
    quads: &[i8],
    bias: Option<&[i32]>,
    input_offset: i32,
    stage: Int8Output<'_>,
    acc: &mut [i32],
    out: &mut [i8],
) {
    let (in_h, in_w, c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let full = k_h * k_w;
    let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
    let c4 = c - c % 4;
    let acc = &mut acc[..c];
    let offset_pair = (input_offset as u16 as u32) * 0x0001_0001;
    // Every quad's taps lie inside the copy: the pointer reads below stay in it.
    assert!(quads.len() >= c4 * full);
    let mut list = [[0u32; 2]; MAX_LISTED_TAPS];
    // Per channel (TFLite Micro's depthwise multipliers are per channel; per-tensor ones were
    // repeated for every channel at load).
    assert!(stage.mult.len() >= c && stage.shift.len() >= c);
    let clamp = Clamp::new(stage.act_min, stage.act_max);
    let pixels = w.batches as usize * w.out_h as usize * w.out_w as usize;
    // Windows with every tap in the image: the taps' offsets from the window's first byte (input)
    // and from the quad's first filter word, once.
    let mut rel = [[0u32; 2]; MAX_LISTED_TAPS];
    let rel_ok = full <= MAX_LISTED_TAPS;
    let mut rel_span = 0;
    if rel_ok {
        for (t, slot) in rel.iter_mut().take(full).enumerate() {
            let (fy, fx) = (t / k_w, t % k_w);
            let i = (fy * dil_h * in_w + fx * dil_w) * c;
            *slot = [i as u32, (t * 4) as u32];
            rel_span = rel_span.max(i + c);
        }
    }
    let rel = &rel[..if rel_ok { full } else { 0 }];
    let three_by_three = k_h == 3 && k_w == 3 && dil_w == 1;
    let row = dil_h * in_w * c;
    let mut start = 0;
    while start < c {
        // Channels start..end; the quads among them end at quads_end.
        let end = (start + CHANNEL_CHUNK).min(c);
        let quads_end = end.min(c4);
        // The chunk's index of the first channel past the last multiple of four.
        let k_rest = quads_end - start;
        let q: [R; CHANNEL_CHUNK] = chunk_requants(start, c, &stage);
        let b: [i32; CHANNEL_CHUNK] = chunk_biases(start, c, bias);
        let folded = chunk_folded(&b, start, c, rel_ok, full, input_offset, quads, filter);
        for p in 0..pixels {
            let (bt, oy, ox) = (
                p / (w.out_h as usize * w.out_w as usize),
                (p / w.out_w as usize) % w.out_h as usize,
                p % w.out_w as usize,
            );
            let y0 = oy as isize * w.stride_h as isize - w.pad_h as isize;
            let (fy0, fy1) = tap_range(y0, in_h, k_h, dil_h);
            let x0 = ox as isize * w.stride_w as isize - w.pad_w as isize;
            let (fx0, fx1) = tap_range(x0, in_w, k_w, dil_w);
            let taps = (fy0..fy1).flat_map(move |fy| {
                let y = (y0 + (dil_h * fy) as isize) as usize;
                (fx0..fx1).map(move |fx| {
                    let x = (x0 + (dil_w * fx) as isize) as usize;
                    (((bt * in_h + y) * in_w + x) * c, fy * k_w + fx)
                })
            });
            let out = &mut out[p * c..(p + 1) * c];
            let n = (fy1 - fy0) * (fx1 - fx0);
            if rel_ok && n == full && fy0 == 0 && fx0 == 0 {
                let base = ((bt * in_h + y0 as usize) * in_w + x0 as usize) * c;
                // The window lies inside the input: the reads below stay in it.
                assert!(base + rel_span <= input.len() && fy1 == k_h);
                for qs in (start..quads_end).step_by(4) {
                    let k = qs - start;
                    let init = [folded[k], folded[k + 1], folded[k + 2], folded[k + 3]];
                    // SAFETY: qs + 4 <= c4, and the asserts above.
                    let sums = unsafe {
                        let (x, f) = (input.as_ptr().add(base + qs), quads.as_ptr().add(qs * full));
                        if three_by_three {
                            S::depthwise_3x3_raw(rel, x, c, row, f, init)
                        } else {
                            S::depthwise_quad_raw(rel, x, f, init)
                        }
                    };
                    let y = clamp.four(R::apply4(quad_of(&q, k), sums));
                    out[qs..qs + 4].copy_from_slice(&y);
                }
                if quads_end < end {
                    let taps = rel.iter().map(|&[i, _]| base + i as usize);
                    let taps = taps.zip((0..full).map(|t| t * c));
                    let rest = quads_end - start..end - start;
                    let a = &mut acc[quads_end..end];
                    rest_channels(taps, input, filter, input_offset, start, rest, &b, a);
                    for (y, (q, &a)) in out[quads_end..end]
                        .iter_mut()
                        .zip(q[k_rest..].iter().zip(a.iter()))
                    {
                        *y = clamp.one(q.apply(a));
                    }
                }
                continue;
            }
            if n > MAX_LISTED_TAPS {
                let a = &mut acc[start..end];
                for (i, a) in a.iter_mut().enumerate() {
                    *a = b[i];
                }
                let taps = taps.map(|(i, t)| (i + start, t * c + start));
                pixel_reference(taps, input, filter, input_offset, a);
                for (i, (y, &a)) in out[start..end].iter_mut().zip(a.iter()).enumerate() {
                    *y = clamp.one(q[i].apply(a));
                }
                continue;
            }
            for (slot, (i, t)) in list.iter_mut().zip(taps) {
                *slot = [i as u32, t as u32];
            }
            let list = &mut list[..n];
            // Every tap's channels lie inside the input: the pointer reads below stay in it.
            assert!(list
                .iter()
                .all(|&[i, t]| i as usize + c <= input.len() && (t as usize) < full));
            if quads_end < end {
                // The last chunk's channels past the last multiple of four, from the filter.
                let taps = list.iter().map(|&[i, t]| (i as usize, t as usize * c));
                let rest = quads_end - start..end - start;
                let a = &mut acc[quads_end..end];
                rest_channels(taps, input, filter, input_offset, start, rest, &b, a);
                for (y, (q, &a)) in out[quads_end..end]
                    .iter_mut()
                    .zip(q[k_rest..].iter().zip(a.iter()))
                {
                    *y = clamp.one(q.apply(a));
                }
            }
            // The quads' filter offsets: tap t's word at 4t.
            for slot in list.iter_mut() {
                slot[1] *= 4;
            }
            let list = &*list;
            for qs in (start..quads_end).step_by(4) {
                let k = qs - start;
                let init = [b[k], b[k + 1], b[k + 2], b[k + 3]];
                // SAFETY: qs + 4 <= c4, and the asserts above.
                let sums = unsafe {
                    S::depthwise_quad(
                        list,
                        input.as_ptr().add(qs),
                        quads.as_ptr().add(qs * full),
                        offset_pair,
                        init,
                    )
                };
                let y = clamp.four(R::apply4(quad_of(&q, k), sums));
                out[qs..qs + 4].copy_from_slice(&y);
            }
        }
        start = end;
    }
}

/// [`depthwise_int8_dm1_with`] over a [`Band`]: per chunk of channels, per output row, the band
/// filled, then every pixel's quads through one kernel (the 3 x 3 one when the window is 3 x 3
/// without dilation across) from the band, with the input offset folded into the bias; the
/// channels past the last multiple of four from the band too, by the reference loop.
#[allow(clippy::too_many_arguments)]
fn depthwise_int8_dm1_banded<S: super::dot::Simd, R: Requantizer>(
    w: &Window,
    geometry: &Band,
    input: &[i8],
    filter: &[i8],
    quads: &[i8],
    bias: Option<&[i32]>,
    input_offset: i32,
    stage: Int8Output<'_>,
    band: &mut [i8],
    out: &mut [i8],
) {
    let (in_h, in_w, c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_h, k_w) = (w.k_h as usize, w.k_w as usize);
    let full = k_h * k_w;
    let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let c4 = c - c % 4;
    let zero_point = -input_offset as i8;
    let Band { width, left, .. } = *geometry;
    let weight = |t: usize, ch: usize| weight_at(quads, filter, c, full, t, ch);
    assert!(quads.len() >= c4 * full && filter.len() >= full * c && full <= MAX_LISTED_TAPS);
    assert!(stage.mult.len() >= c && stage.shift.len() >= c);
    let clamp = Clamp::new(stage.act_min, stage.act_max);
    let three_by_three = k_h == 3 && k_w == 3 && dil_w == 1;
    let mut start = 0;
    while start < c {
        let end = (start + BAND_CHUNK).min(c);
        let quads_end = end.min(c4);
        let k_rest = quads_end - start;
        // The chunk's band: pixels of `cc` bytes, rows of `row` bytes.
        let cc = end - start;
        let row = width * cc;
        let band = &mut band[..k_h * row];
        let q: [R; BAND_CHUNK] = chunk_requants(start, c, &stage);
        let b: [i32; BAND_CHUNK] = chunk_biases(start, c, bias);
        let folded = chunk_folded(&b, start, c, true, full, input_offset, quads, filter);
        // Tap t's offsets in the band (from the window's first byte) and in the quad's words.
        let mut rel = [[0u32; 2]; MAX_LISTED_TAPS];
        for (t, slot) in rel.iter_mut().take(full).enumerate() {
            let (fy, fx) = (t / k_w, t % k_w);
            *slot = [(fy * row + fx * dil_w * cc) as u32, (t * 4) as u32];
        }
        let rel = &rel[..full];
        for bt in 0..w.batches as usize {
            for oy in 0..out_h {
                let y0 = (oy * w.stride_h as usize) as isize - w.pad_h as isize;
                for (fy, band_row) in band.chunks_exact_mut(row).enumerate() {
                    let y = y0 + (fy * dil_h) as isize;
                    if y < 0 || y >= in_h as isize {
                        band_row.fill(zero_point);
                        continue;
                    }
                    let (pad, rest) = band_row.split_at_mut(left * cc);
                    let (dst, pad_right) = rest.split_at_mut(in_w * cc);
                    fill_short(pad, zero_point);
                    fill_short(pad_right, zero_point);
                    let src = &input[((bt * in_h + y as usize) * in_w) * c..][..in_w * c];
                    if cc == c {
                        // One chunk: the row as it is.
                        copy_words(dst, src);
                    } else {
                        for (d, s) in dst.chunks_exact_mut(cc).zip(src.chunks_exact(c)) {
                            copy_words(d, &s[start..end]);
                        }
                    }
                }
                let band = &*band;
                let first = ((bt * out_h + oy) * out_w) * c;
                let step = w.stride_w as usize * cc;
                // The windows' reads stay in the band: the last one's last tap ends within it.
                assert!(
                    (out_w - 1) * step + (k_h - 1) * row + ((k_w - 1) * dil_w + 1) * cc
                        <= band.len()
                );
                let out = &mut out[first..][..out_w * c];
                // Quad by quad, each along the row: its constants stay put while the pixels pass.
                for qs in (start..quads_end).step_by(4) {
                    let k = qs - start;
                    let init = [folded[k], folded[k + 1], folded[k + 2], folded[k + 3]];
                    let requant = quad_of(&q, k);
                    let f = quads[qs * full..].as_ptr();
                    if let (true, Some(k4)) = (three_by_three, R::narrow_quad(requant)) {
                        let mut s = DwRow {
                            f,
                            c: cc,
                            row,
                            init,
                            k: k4.as_ptr(),
                            clamp: clamp.words(),
                            step,
                            out_step: c,
                            pixels: out_w,
                            x: band[k..].as_ptr(),
                            out: out[qs..].as_mut_ptr(),
                        };
                        // SAFETY: the assert above for the band; qs + 4 <= c4 for the quads
                        // and for the outputs (pixel ox's at ox * c + qs, within `out`);
                        // `out_w > 0` (Band::of); the shifts are narrow (R is NarrowRequant).
                        if unsafe { S::depthwise_row_3x3_narrow(&mut s) } {
                            continue;
                        }
                    }
                    for (ox, out) in out.chunks_exact_mut(c).enumerate() {
                        // SAFETY: the assert above for the band; qs + 4 <= c4 for the quads.
                        let sums = unsafe {
                            let x = band.as_ptr().add(ox * step + k);
                            if three_by_three {
                                S::depthwise_3x3_raw(rel, x, cc, row, f, init)
                            } else {
                                S::depthwise_quad_raw(rel, x, f, init)
                            }
                        };
                        let y = clamp.four(R::apply4(requant, sums));
                        out[qs..qs + 4].copy_from_slice(&y);
                    }
                }
                for ox in 0..out_w {
                    let base = ox * step;
                    let out = &mut out[ox * c..][..c];
                    for k in k_rest..cc {
                        let mut a = folded[k];
                        for (t, &[i, _]) in rel.iter().enumerate() {
                            let x = band[base + i as usize + k] as i32;
                            a = a.wrapping_add(x * weight(t, start + k) as i32);
                        }
                        out[start + k] = clamp.one(q[k].apply(a));
                    }
                }
            }
        }
        start = end;
    }
}

/// `dst.fill(v)` without a call for the band's padding (a pixel or two of channels: the
/// library's memset call cost more than the bytes).
#[inline(always)]
fn fill_short(dst: &mut [i8], v: i8) {
    let mut words = dst.chunks_exact_mut(4);
    for w in &mut words {
        w.copy_from_slice(&[v; 4]);
    }
    for b in words.into_remainder() {
        *b = v;
    }
}

/// The four requantizations of the quad at chunk index `k`.
#[inline(always)]
fn quad_of<R, const N: usize>(q: &[R; N], k: usize) -> &[R; 4] {
    let quad = q[k..].first_chunk::<4>();
    quad.expect("a quad inside the chunk")
}

/// The chunk's channels `rest` (chunk indices, fewer than four) of one pixel, the chunk starting
/// at channel `start`: `acc[i] = bias[rest.start + i] + Σ_taps f * (x + offset)`, taps as (input
/// index, filter index) of channel 0.
#[allow(clippy::too_many_arguments)]
fn rest_channels(
    taps: impl Iterator<Item = (usize, usize)>,
    input: &[i8],
    filter: &[i8],
    offset: i32,
    start: usize,
    rest: core::ops::Range<usize>,
    bias: &[i32],
    acc: &mut [i32],
) {
    acc.copy_from_slice(&bias[rest.clone()]);
    let first = start + rest.start;
    for (i, f) in taps {
        tap_reference(&input[i + first..], &filter[f + first..], offset, acc);
    }
}

/// Depth multiplier 1, one output pixel: `acc[c] += Σ_taps f[tap][c] * (x[tap][c] + offset)`, taps
/// given as (input index, filter index) of their first channel, four channels at a time (DSP
/// instructions on Armv7E-M with the `dsp` feature, byte by byte elsewhere). Out of line.
#[inline(never)]
fn pixel(taps: &[[u32; 2]], input: &[i8], filter: &[i8], offset: i32, acc: &mut [i32]) {
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    {
        pixel_quads::<super::dot::Dsp>(taps, input, filter, offset, acc)
    }
    #[cfg(not(all(target_arch = "arm", feature = "dsp")))]
    {
        pixel_quads::<super::dot::Scalar>(taps, input, filter, offset, acc)
    }
}

/// Windows with at most this many in-image taps (7 x 7) take [`pixel_quads`]; larger ones the
/// reference.
const MAX_LISTED_TAPS: usize = 49;

/// The DSP path for windows of up to [`MAX_LISTED_TAPS`] taps, as CMSIS-NN's
/// `arm_depthwise_conv_3x3_s8`: four channels at a time, their accumulators in registers over
/// all the taps ([`Simd::depthwise_quad`](super::dot::Simd::depthwise_quad)): per tap one word of
/// input and one of filter, split by SXTB16 into channels (0, 2) and (1, 3), and one
/// SMLABB/SMLATT per channel, where pairing taps for SMLAD needs four PKHBT/PKHTB more per eight
/// MACs. Integer sums are exact, so this is bit-identical to the reference.
#[inline(always)]
pub fn pixel_quads<S: super::dot::Simd>(
    taps: &[[u32; 2]],
    input: &[i8],
    filter: &[i8],
    offset: i32,
    acc: &mut [i32],
) {
    let c = acc.len();
    let c4 = c - c % 4;
    // Every tap's channels lie inside the slices: the pointer reads below stay in them.
    assert!(taps
        .iter()
        .all(|&[i, f]| i as usize + c <= input.len() && f as usize + c <= filter.len()));
    let offset_pair = (offset as u16 as u32) * 0x0001_0001;
    for (q, a) in acc[..c4].chunks_exact_mut(4).enumerate() {
        // SAFETY: 4q + 4 <= c, and the assert above.
        let sums = unsafe {
            S::depthwise_quad(
                taps,
                input.as_ptr().add(4 * q),
                filter.as_ptr().add(4 * q),
                offset_pair,
                [a[0], a[1], a[2], a[3]],
            )
        };
        a.copy_from_slice(&sums);
    }
    for &[i, f] in taps {
        let (i, f) = (i as usize, f as usize);
        tap_reference(&input[i + c4..], &filter[f + c4..], offset, &mut acc[c4..]);
    }
}

/// The reference: tap by tap, channel by channel.
#[inline(always)]
pub fn pixel_reference(
    taps: impl Iterator<Item = (usize, usize)>,
    input: &[i8],
    filter: &[i8],
    offset: i32,
    acc: &mut [i32],
) {
    for (i, f) in taps {
        tap_reference(&input[i..], &filter[f..], offset, acc);
    }
}

/// One tap: `acc[c] += fs[c] * (xs[c] + offset)` for every channel of `acc`.
#[inline(always)]
fn tap_reference(xs: &[i8], fs: &[i8], offset: i32, acc: &mut [i32]) {
    for ((a, &f), &x) in acc.iter_mut().zip(fs).zip(xs) {
        *a = a.wrapping_add(f as i32 * (x as i32 + offset));
    }
}

/// `reference_ops::DepthwiseConv`: per output channel, Σ over the in-image taps in window order
/// of input x filter from 0.0, then + bias, clamp. Accumulated in the output pixel itself, taps
/// outer and channels inner (contiguous in NHWC), so that each channel sees the same products
/// added in the same order as the reference's per-channel loop: the same floats.
#[allow(clippy::too_many_arguments)]
fn depthwise_f32(
    w: &Window,
    dm: usize,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    act_min: f32,
    act_max: f32,
) {
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, w.in_c as usize);
    let (k_w, out_c) = (w.k_w as usize, w.out_c as usize);
    let (dil_h, dil_w) = (w.dil_h as usize, w.dil_w as usize);
    let mut o = 0;
    for b in 0..w.batches as usize {
        for oy in 0..w.out_h as isize {
            let y0 = oy * w.stride_h as isize - w.pad_h as isize;
            let (fy0, fy1) = tap_range(y0, in_h, w.k_h as usize, dil_h);
            for ox in 0..w.out_w as isize {
                let x0 = ox * w.stride_w as isize - w.pad_w as isize;
                let (fx0, fx1) = tap_range(x0, in_w, k_w, dil_w);
                let acc = &mut out[o..o + out_c];
                o += out_c;
                acc.fill(0.0);
                for fy in fy0..fy1 {
                    let y = (y0 + (dil_h * fy) as isize) as usize;
                    for fx in fx0..fx1 {
                        let x = (x0 + (dil_w * fx) as isize) as usize;
                        let xs = &input[((b * in_h + y) * in_w + x) * in_c..][..in_c];
                        let fs = &filter[(fy * k_w + fx) * out_c..][..out_c];
                        if dm == 1 {
                            for ((a, &xv), &fv) in acc.iter_mut().zip(xs).zip(fs) {
                                *a += xv * fv;
                            }
                        } else {
                            for (ic, &xv) in xs.iter().enumerate() {
                                let (a, f) = (&mut acc[ic * dm..][..dm], &fs[ic * dm..][..dm]);
                                for (a, &fv) in a.iter_mut().zip(f) {
                                    *a += xv * fv;
                                }
                            }
                        }
                    }
                }
                for (oc, a) in acc.iter_mut().enumerate() {
                    let bias = bias.map_or(0.0, |bias| bias[oc]);
                    *a = clamp_f32(*a + bias, act_min, act_max);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dot::Emulated;
    use super::*;

    /// xorshift64* bytes.
    fn bytes(seed: &mut u64, n: usize) -> std::vec::Vec<i8> {
        (0..n)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 as i8
            })
            .collect()
    }

    /// `DepthwiseConvPerChannel` with depth multiplier 1 written out as the reference does it.
    #[allow(clippy::too_many_arguments)]
    fn reference_dm1(
        w: &Window,
        input: &[i8],
        filter: &[i8],
        bias: Option<&[i32]>,
        offset: i32,
        stage: &Int8Output<'_>,
    ) -> std::vec::Vec<i8> {
        let (ih, iw, c) = (w.in_h as isize, w.in_w as isize, w.in_c as usize);
        let mut out = std::vec::Vec::new();
        for b in 0..w.batches as isize {
            for oy in 0..w.out_h as isize {
                for ox in 0..w.out_w as isize {
                    for ch in 0..c {
                        let mut acc = 0i32;
                        for fy in 0..w.k_h as isize {
                            for fx in 0..w.k_w as isize {
                                let y = oy * w.stride_h as isize - w.pad_h as isize
                                    + fy * w.dil_h as isize;
                                let x = ox * w.stride_w as isize - w.pad_w as isize
                                    + fx * w.dil_w as isize;
                                if y < 0 || y >= ih || x < 0 || x >= iw {
                                    continue;
                                }
                                let xv = input[(((b * ih + y) * iw + x) as usize) * c + ch];
                                let fv = filter[(fy * w.k_w as isize + fx) as usize * c + ch];
                                acc += fv as i32 * (xv as i32 + offset);
                            }
                        }
                        acc += bias.map_or(0, |b| b[ch]);
                        out.push(stage.apply(ch, acc));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn int8_depth_multiplier_1_is_bit_exact_with_the_reference() {
        let mut seed = 0x00de_971c_5eed_0001;
        let mut cases = 0;
        for c in [1usize, 3, 4, 5, 8, 13, 70] {
            for (k_h, k_w) in [(3usize, 3usize), (1, 1), (5, 2), (8, 8)] {
                for (stride, dil, pad) in [(1u16, 1u16, 1u16), (2, 1, 0), (1, 2, 2), (2, 1, 3)] {
                    let (in_h, in_w) = (7usize, 6usize);
                    let span = |k: usize| (k - 1) * dil as usize + 1;
                    let out_dim = |n: usize, k: usize| {
                        (n + 2 * pad as usize).saturating_sub(span(k)) / stride as usize + 1
                    };
                    if in_h + 2 * (pad as usize) < span(k_h)
                        || in_w + 2 * (pad as usize) < span(k_w)
                    {
                        continue;
                    }
                    let w = Window {
                        batches: 2,
                        in_h: in_h as u16,
                        in_w: in_w as u16,
                        in_c: c as u16,
                        out_h: out_dim(in_h, k_h) as u16,
                        out_w: out_dim(in_w, k_w) as u16,
                        out_c: c as u16,
                        k_h: k_h as u16,
                        k_w: k_w as u16,
                        stride_h: stride,
                        stride_w: stride,
                        dil_h: dil,
                        dil_w: dil,
                        pad_h: pad,
                        pad_w: pad,
                    };
                    let input = bytes(&mut seed, 2 * in_h * in_w * c);
                    let filter = bytes(&mut seed, k_h * k_w * c);
                    let bias: std::vec::Vec<i32> = bytes(&mut seed, c)
                        .iter()
                        .map(|&v| v as i32 * 517)
                        .collect();
                    let mult: std::vec::Vec<i32> = (0..c as i32)
                        .map(|i| {
                            if i == 2 {
                                i32::MAX
                            } else {
                                (1 << 30) + i * 7_654_321
                            }
                        })
                        .collect();
                    let shift: std::vec::Vec<i32> = (0..c as i32).map(|i| -(i % 9) - 2).collect();
                    // Narrow holds here: 255 * 128 * 64 + 128 * 517 < 2^30.
                    for (offset, narrow) in [-128, 0, 5, 127]
                        .into_iter()
                        .flat_map(|o| [(o, false), (o, true)])
                    {
                        for bias in [Some(&bias[..]), None] {
                            let stage = Int8Output {
                                mult: &mult,
                                shift: &shift,
                                output_offset: -3,
                                act_min: -120,
                                act_max: 110,
                                narrow,
                            };
                            let want = reference_dm1(&w, &input, &filter, bias, offset, &stage);
                            let pixels = 2 * w.out_h as usize * w.out_w as usize;
                            let mut scratch = std::vec![0u8; filter.len()];
                            let quads = quads_in_ram(&filter, c, k_h * k_w, &mut scratch).unwrap();
                            for path in 0..4 {
                                let mut got = std::vec![0i8; pixels * c];
                                let mut acc = std::vec![0i32; c];
                                // Paths 2 and 3 without a band (too little scratch).
                                let band_bytes = Band::of(&w, offset).map_or(0, |b| b.bytes());
                                let mut band =
                                    std::vec![0i8; if path < 2 { band_bytes } else { 0 }];
                                let band = &mut band[..];
                                let args = (&w, &input[..], &filter[..], quads, bias, offset);
                                if path % 2 == 0 {
                                    depthwise_int8_dm1::<Emulated>(
                                        args.0, args.1, args.2, args.3, args.4, args.5, stage,
                                        &mut acc, band, &mut got,
                                    );
                                } else {
                                    depthwise_int8_dm1::<super::super::dot::Scalar>(
                                        args.0, args.1, args.2, args.3, args.4, args.5, stage,
                                        &mut acc, band, &mut got,
                                    );
                                }
                                assert_eq!(
                                    got, want,
                                    "path {path}: c {c} k {k_h}x{k_w} stride {stride} dil {dil} pad {pad} offset {offset}"
                                );
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(cases > 500, "{cases} cases");
    }

    #[test]
    fn four_channel_pixel_is_bit_exact_with_the_reference() {
        let mut seed = 0x0bad_cafe_f00d_1234;
        for channels in 1..=13 {
            for taps in 0..=9 {
                for offset in [-127, 0, 3, 128] {
                    // Taps at scattered, unaligned positions, as in-image taps of a window are.
                    let input = bytes(&mut seed, 40 * channels + 7);
                    let filter = bytes(&mut seed, 9 * channels + 5);
                    let list: std::vec::Vec<(usize, usize)> = (0..taps)
                        .map(|t| ((t * 37 + 3) % 40 * channels, t * channels + t % 3))
                        .collect();
                    let mut want = bytes(&mut seed, channels)
                        .iter()
                        .map(|&v| v as i32 * 1000)
                        .collect::<std::vec::Vec<_>>();
                    let mut got = want.clone();
                    pixel_reference(list.iter().copied(), &input, &filter, offset, &mut want);
                    let words: std::vec::Vec<[u32; 2]> =
                        list.iter().map(|&(i, f)| [i as u32, f as u32]).collect();
                    pixel_quads::<Emulated>(&words, &input, &filter, offset, &mut got);
                    assert_eq!(
                        got, want,
                        "quads: channels {channels} taps {taps} offset {offset}"
                    );
                }
            }
        }
        // Every product at its largest magnitude.
        let (input, filter) = ([-128i8; 64], [-128i8; 64]);
        let list = [(0, 0), (8, 8), (16, 16), (24, 24), (32, 32)];
        let (mut want, mut got) = ([0i32; 8], [0i32; 8]);
        pixel_reference(list.iter().copied(), &input, &filter, -127, &mut want);
        let words = list.map(|(i, f)| [i as u32, f as u32]);
        pixel_quads::<Emulated>(&words, &input, &filter, -127, &mut got);
        assert_eq!(got, want);
    }
}
