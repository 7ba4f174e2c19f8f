//! FULLY_CONNECTED: int8 (TFLite Micro `reference_integer_ops::FullyConnected`, per-tensor or
//! per-channel), float32 (`reference_ops::FullyConnected`) and hybrid (desktop TFLite
//! fully_connected.cc `EvalHybridDense`: per-batch symmetric or asymmetric input quantization,
//! per-tensor or per-channel weights).

use super::conv2d::{
    check_int8_scales, check_scales, narrow_accumulators, push_multipliers, push_row_offsets,
};
use super::dot::Native;
use super::{
    clamp_f32, hybrid, matmul, push_channel_scales, weighted_kernel, Constants, OpKind, Prep,
    Prepared, TensorId, Weighted, NO_TENSOR,
};
use crate::error::Error;
use crate::quant::{quantize_multiplier, requantize};

#[derive(Clone, Copy, Debug)]
pub struct FullyConnected {
    pub input: TensorId,
    pub filter: TensorId,
    pub bias: TensorId,
    pub batches: u32,
    pub depth: u32,
    pub units: u32,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// `channels` multipliers at `pool[at..]`, then as many shifts (1 channel when per-tensor).
    /// `offsets_at`: `bias + input_offset * Σ row` per unit at `pool[offsets_at..]`, for the
    /// blocked matrix product (constant symmetric weights); `None`: the reference loop.
    Int8 {
        input_offset: i32,
        filter_offset: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
        channels: u32,
        at: u32,
        offsets_at: Option<u32>,
        /// Accumulators narrow enough for [`crate::quant::NarrowRequant`] (checked at load).
        narrow: bool,
    },
    F32 {
        act_min: f32,
        act_max: f32,
    },
    /// Per-channel scales (f32 bits) at `pool[at..at+units]` when `per_channel`.
    Hybrid {
        act_min: f32,
        act_max: f32,
        filter_scale: f32,
        per_channel: bool,
        asymmetric: bool,
        at: u32,
    },
}

pub fn prepare(p: &Prep<'_, '_>, pool: &mut Constants<'_>) -> Result<Prepared, Error> {
    p.expect_options(8)?;
    let input = p.input(0)?;
    let filter = p.input(1)?;
    let bias = p.optional_input(2)?;
    let output = p.output(0)?;
    // FullyConnectedOptions: fused_activation_function 0, weights_format 1, keep_num_dims 2,
    // asymmetric_quantize_inputs 3.
    let act = p.activation(0)?;
    if p.opt_i8(1, 0)? != 0 {
        return Err(p.unsupported("shuffled FULLY_CONNECTED weights are not supported"));
    }
    let asymmetric = p.opt_bool(3)?;
    if filter.shape.rank != 2 {
        return Err(p.invalid("the weights are not 2-D"));
    }
    let units = filter.shape.dim(0);
    let depth = filter.shape.dim(1);
    if depth == 0 || input.shape.elements() % depth != 0 {
        return Err(p.invalid("the input size is not a multiple of the weights' depth"));
    }
    let batches = input.shape.elements() / depth;
    if output.shape.elements() != batches * units {
        return Err(p.invalid("the output does not hold batches x units values"));
    }
    if let Some(b) = &bias {
        if b.shape.elements() != units {
            return Err(p.invalid("the bias does not have one value per unit"));
        }
    }
    let mut scratch_bytes = 0;
    let unsupported = "FULLY_CONNECTED runs int8, float32 and hybrid (float32 input, int8 weights)";
    let mode = match weighted_kernel(p, &input, &filter, &output, bias.as_ref(), unsupported)? {
        Weighted::Int8 => {
            check_scales(p, &filter, units)?;
            check_int8_scales(p, &input, &filter, &output, filter.scale_count())?;
            let (act_min, act_max) = act.range_i8(output.scale, output.zero_point);
            let (channels, at, tensor_shift) = if filter.scale_count() > 1 {
                (
                    units,
                    push_multipliers(pool, &input, &filter, &output, units),
                    None,
                )
            } else {
                // GetQuantizedConvolutionMultipler (kernel_util.cc): the input*filter product is
                // taken in float, then divided by the output scale in double.
                let real = (input.scale * filter.scale) as f64 / output.scale as f64;
                let (m, s) = quantize_multiplier(real);
                let at = pool.at();
                pool.push(m);
                pool.push(s);
                (1, at, Some(s))
            };
            let narrow = narrow_accumulators(
                &input,
                &filter,
                &output,
                bias.as_ref(),
                units,
                depth,
                true,
                tensor_shift,
            );
            let input_offset = -input.zero_point;
            let offsets_at = if filter.zero_point == 0 {
                push_row_offsets(pool, &filter, bias.as_ref(), units, depth, input_offset)
            } else {
                None
            };
            Mode::Int8 {
                input_offset,
                filter_offset: -filter.zero_point,
                output_offset: output.zero_point,
                act_min,
                act_max,
                channels: channels as u32,
                at,
                offsets_at,
                narrow,
            }
        }
        Weighted::F32 => {
            let (act_min, act_max) = act.range_f32();
            Mode::F32 { act_min, act_max }
        }
        Weighted::Hybrid => {
            check_scales(p, &filter, units)?;
            let per_channel = filter.scale_count() > 1;
            let at = push_channel_scales(pool, &filter, if per_channel { units } else { 0 });
            scratch_bytes = depth;
            let (act_min, act_max) = act.range_f32();
            Mode::Hybrid {
                act_min,
                act_max,
                filter_scale: filter.scale,
                per_channel,
                asymmetric,
                at,
            }
        }
    };
    let u32_of = |v: usize| u32::try_from(v).map_err(|_| p.unsupported("a dimension exceeds 2^32"));
    let kind = OpKind::FullyConnected(FullyConnected {
        input: p.id(&input),
        filter: p.id(&filter),
        bias: bias.as_ref().map_or(NO_TENSOR, |b| p.id(b)),
        batches: u32_of(batches)?,
        depth: u32_of(depth)?,
        units: u32_of(units)?,
        mode,
    });
    Ok(Prepared {
        kind,
        scratch_bytes,
    })
}

impl FullyConnected {
    pub fn macs(&self) -> u64 {
        self.batches as u64 * self.depth as u64 * self.units as u64
    }

    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let (batches, depth, units) = (
            self.batches as usize,
            self.depth as usize,
            self.units as usize,
        );
        match self.mode {
            Mode::Int8 {
                input_offset,
                filter_offset,
                output_offset,
                act_min,
                act_max,
                channels,
                at,
                offsets_at,
                narrow,
            } => {
                let mult = ctx.pool(at, channels as usize)?;
                let shift = ctx.pool(at + channels, channels as usize)?;
                let input = ctx.i8(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_i32(self.bias)?;
                let out = ctx.out_i8();
                let per_channel = channels > 1;
                if let Some(offsets_at) = offsets_at {
                    let offsets = ctx.pool(offsets_at, units)?;
                    // Every batch against several rows at once, the input offset folded in.
                    let stage = matmul::Int8Output {
                        mult,
                        shift,
                        output_offset,
                        act_min,
                        act_max,
                        narrow,
                    };
                    matmul::requantized_product::<Native>(
                        input,
                        depth,
                        batches,
                        filter,
                        depth,
                        units,
                        out,
                        offsets,
                        stage,
                        &mut [],
                    );
                    return Ok(());
                }
                for b in 0..batches {
                    let x = &input[b * depth..(b + 1) * depth];
                    for u in 0..units {
                        let row = &filter[u * depth..(u + 1) * depth];
                        let mut acc: i32 = 0;
                        if filter_offset == 0 {
                            // Symmetric weights (all TFLite int8 converters write these).
                            acc = super::dot::offset_dot(x, row, input_offset);
                        } else {
                            for (&f, &xv) in row.iter().zip(x) {
                                acc = acc.wrapping_add(
                                    (f as i32 + filter_offset) * (xv as i32 + input_offset),
                                );
                            }
                        }
                        if let Some(bias) = bias {
                            acc = acc.wrapping_add(bias[u]);
                        }
                        let c = if per_channel { u } else { 0 };
                        out[b * units + u] =
                            requantize(acc, mult[c], shift[c], output_offset, act_min, act_max);
                    }
                }
            }
            Mode::F32 { act_min, act_max } => {
                let input = ctx.f32(self.input)?;
                let filter = ctx.f32(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                for b in 0..batches {
                    let x = &input[b * depth..(b + 1) * depth];
                    for u in 0..units {
                        let mut total = 0.0f32;
                        for (&f, &xv) in filter[u * depth..(u + 1) * depth].iter().zip(x) {
                            total += xv * f;
                        }
                        let bias = bias.map_or(0.0, |bias| bias[u]);
                        out[b * units + u] = clamp_f32(total + bias, act_min, act_max);
                    }
                }
            }
            Mode::Hybrid {
                act_min,
                act_max,
                filter_scale,
                per_channel,
                asymmetric,
                at,
            } => {
                let scales = if per_channel {
                    Some(ctx.pool(at, units)?)
                } else {
                    None
                };
                let input = ctx.f32(self.input)?;
                let filter = ctx.i8(self.filter)?;
                let bias = ctx.opt_f32(self.bias)?;
                let out = ctx.out_f32()?;
                let scratch: &mut [i8] = bytemuck::cast_slice_mut(ctx.scratch());
                let q = scratch
                    .get_mut(..depth)
                    .ok_or("hybrid scratch too small (planner bug)")?;
                for b in 0..batches {
                    let x = &input[b * depth..(b + 1) * depth];
                    // BatchQuantizeFloats, then scaling_factor *= filter scale (per-tensor only).
                    let (factor, offset) = if asymmetric {
                        hybrid::asymmetric_quantize(x, q)
                    } else {
                        (hybrid::symmetric_quantize(x, q), 0)
                    };
                    let factor = if per_channel {
                        factor
                    } else {
                        factor * filter_scale
                    };
                    for u in 0..units {
                        let row = &filter[u * depth..(u + 1) * depth];
                        // MatrixBatchVectorMultiplyAccumulate: dotprod - row_sums[row] * offset,
                        // which is Σ f (q - offset) in wrapping integers: one pass over the row
                        // (offset is 0 when symmetric).
                        let dot = super::dot::offset_dot(q, row, -offset);
                        let scale = match scales {
                            Some(s) => factor * f32::from_bits(s[u] as u32),
                            None => factor,
                        };
                        // Output starts as the bias (VectorBatchVectorAssign), then += dot * scale.
                        let start = bias.map_or(0.0, |bias| bias[u]);
                        out[b * units + u] =
                            clamp_f32(start + dot as f32 * scale, act_min, act_max);
                    }
                }
            }
        }
        Ok(())
    }
}
