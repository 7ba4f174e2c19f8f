//! Operators: one file each, the reference path first. Each operator has a `prepare` that reads its
//! tensors and options once at load (validating everything an `eval` relies on) into a small `Copy`
//! struct, and an `eval` that runs it without allocating.

use crate::error::{Error, TypeList};
use crate::quant::Activation;
use crate::schema::{op, Model, OperatorRef, TensorInfo, TensorType};

pub mod add_sub;
pub mod concatenation;
pub mod conv2d;
pub mod depthwise_conv2d;
pub mod dot;
pub mod fully_connected;
pub mod hybrid;
pub mod matmul;
pub mod mean;
pub mod mul;
pub mod pad;
pub mod pool;
pub mod quantize;
pub mod reshape;
pub mod softmax;
pub mod strided_slice;
pub mod unary;

/// Tensor index inside the engine (models have at most 65535 tensors).
pub type TensorId = u16;
/// Marks an absent optional tensor (a missing bias).
pub const NO_TENSOR: TensorId = u16::MAX;

/// An operator resolved once at load, with everything its kernel needs.
#[derive(Clone, Copy, Debug)]
pub enum OpKind {
    Conv2d(conv2d::Conv2d),
    DepthwiseConv2d(depthwise_conv2d::DepthwiseConv2d),
    FullyConnected(fully_connected::FullyConnected),
    AveragePool2d(pool::Pool2d),
    MaxPool2d(pool::Pool2d),
    Add(add_sub::AddSub),
    Sub(add_sub::AddSub),
    Mul(mul::Mul),
    Reshape(reshape::Reshape),
    Softmax(softmax::Softmax),
    Unary(unary::Unary),
    Quantize(quantize::Quantize),
    Dequantize(quantize::Dequantize),
    Mean(mean::Mean),
    Pad(pad::Pad),
    Concatenation(concatenation::Concatenation),
    StridedSlice(strided_slice::StridedSlice),
}

impl OpKind {
    /// Multiply-accumulates of one inference (0 for data movement), as reports count them.
    pub fn macs(&self) -> u64 {
        match self {
            OpKind::Conv2d(p) => p.macs(),
            OpKind::DepthwiseConv2d(p) => p.macs(),
            OpKind::FullyConnected(p) => p.macs(),
            _ => 0,
        }
    }

    /// Runs the operator. Errors here mean a planner or engine bug, never bad model bytes:
    /// `prepare` validated shapes, types and data lengths.
    pub(crate) fn eval(&self, ctx: &mut Ctx<'_>) -> Result<(), &'static str> {
        match self {
            OpKind::Conv2d(p) => p.eval(ctx),
            OpKind::DepthwiseConv2d(p) => p.eval(ctx),
            OpKind::FullyConnected(p) => p.eval(ctx),
            OpKind::AveragePool2d(p) => p.eval_average(ctx),
            OpKind::MaxPool2d(p) => p.eval_max(ctx),
            OpKind::Add(p) => p.eval(ctx, false),
            OpKind::Sub(p) => p.eval(ctx, true),
            OpKind::Mul(p) => p.eval(ctx),
            OpKind::Reshape(p) => p.eval(ctx),
            OpKind::Softmax(p) => p.eval(ctx),
            OpKind::Unary(p) => p.eval(ctx),
            OpKind::Quantize(p) => p.eval(ctx),
            OpKind::Dequantize(p) => p.eval(ctx),
            OpKind::Mean(p) => p.eval(ctx),
            OpKind::Pad(p) => p.eval(ctx),
            OpKind::Concatenation(p) => p.eval(ctx),
            OpKind::StridedSlice(p) => p.eval(ctx),
        }
    }
}

/// The result of preparing one operator.
#[derive(Clone, Copy, Debug)]
pub struct Prepared {
    pub kind: OpKind,
    /// Scratch bytes the kernel needs while it runs (planned in the arena, live for this op only).
    pub scratch_bytes: usize,
}

/// Per-channel constants (multipliers, shifts, scales) go in one `i32` pool kept in the arena's
/// persistent part. Preparing runs twice: once counting (`buf: None`) to size the pool, once writing.
pub struct Constants<'p> {
    pub(crate) buf: Option<&'p mut [i32]>,
    pub(crate) len: usize,
}

impl Constants<'_> {
    /// Appends a value; returns its index. Out of line: it runs at load only, from many sites.
    #[inline(never)]
    pub fn push(&mut self, v: i32) -> usize {
        if let Some(slot) = self.buf.as_mut().and_then(|b| b.get_mut(self.len)) {
            *slot = v;
        }
        self.len += 1;
        self.len - 1
    }
    pub fn at(&self) -> u32 {
        self.len as u32
    }
}

/// What `prepare` sees: the model and one operator, with helpers that make the errors.
pub struct Prep<'m, 'r> {
    pub model: &'r Model<'m>,
    pub op: OperatorRef<'m>,
}

impl<'m> Prep<'m, '_> {
    /// Reads a tensor and checks what every kernel assumes of it: an int8 zero point is in range.
    fn tensor(&self, t: usize) -> Result<TensorInfo<'m>, Error> {
        let info = self.model.tensor(t)?;
        if info.dtype == TensorType::Int8 && i8::try_from(info.zero_point).is_err() {
            return Err(self.invalid("an int8 tensor's zero point is outside -128..=127"));
        }
        Ok(info)
    }
    pub fn input(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = self
            .op
            .input(i)
            .ok_or_else(|| self.invalid("an input is missing"))?;
        self.tensor(t)
    }
    pub fn optional_input(&self, i: usize) -> Result<Option<TensorInfo<'m>>, Error> {
        match self.op.input(i) {
            None => Ok(None),
            Some(t) => self.tensor(t).map(Some),
        }
    }
    pub fn output(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        let t = self
            .op
            .output(i)
            .ok_or_else(|| self.invalid("an output is missing"))?;
        self.tensor(t)
    }
    /// Tensor types of the operator's inputs and outputs.
    pub fn types(&self) -> (TypeList, TypeList) {
        let mut lists = [TypeList::default(), TypeList::default()];
        for (list, v) in lists.iter_mut().zip([self.op.inputs, self.op.outputs]) {
            for k in 0..v.len() {
                let t = v.i32(k).and_then(|t| usize::try_from(t).ok());
                list.push(t.and_then(|t| self.model.tensor(t).ok()).map(|t| t.dtype));
            }
        }
        (lists[0], lists[1])
    }
    pub fn unsupported(&self, reason: &'static str) -> Error {
        let (inputs, outputs) = self.types();
        Error::Unsupported {
            model: self.model.name(),
            op_index: self.op.index,
            op: self.op.code,
            inputs,
            outputs,
            reason,
        }
    }
    pub fn invalid(&self, detail: &'static str) -> Error {
        Error::InvalidOperator {
            model: self.model.name(),
            op_index: self.op.index,
            op: self.op.code,
            detail,
        }
    }
    /// Options table field reader; absent options read as defaults.
    pub fn opt_i32(&self, id: u16, default: i32) -> Result<i32, Error> {
        match self.op.options {
            None => Ok(default),
            Some(t) => t.i32(id, default).map_err(|source| Error::Read {
                model: self.model.name(),
                source,
            }),
        }
    }
    pub fn opt_i8(&self, id: u16, default: i8) -> Result<i8, Error> {
        match self.op.options {
            None => Ok(default),
            Some(t) => t.i8(id, default).map_err(|source| Error::Read {
                model: self.model.name(),
                source,
            }),
        }
    }
    pub fn opt_f32(&self, id: u16, default: f32) -> Result<f32, Error> {
        match self.op.options {
            None => Ok(default),
            Some(t) => t.f32(id, default).map_err(|source| Error::Read {
                model: self.model.name(),
                source,
            }),
        }
    }
    pub fn opt_bool(&self, id: u16) -> Result<bool, Error> {
        Ok(self.opt_i8(id, 0)? != 0)
    }
    /// A fused activation option.
    pub fn activation(&self, id: u16) -> Result<Activation, Error> {
        Activation::from_code(self.opt_i8(id, 0)?)
            .ok_or_else(|| self.unsupported("fused activation TANH/SIGN_BIT is not supported"))
    }
    /// Checks the builtin-options union type, when present, is the one the operator expects.
    pub fn expect_options(&self, union_type: u8) -> Result<(), Error> {
        if self.op.options.is_some() && self.op.options_type != union_type {
            return Err(self.invalid("builtin_options has the wrong type for this operator"));
        }
        Ok(())
    }
    pub fn id(&self, t: &TensorInfo<'_>) -> TensorId {
        t.index as TensorId
    }
    /// A u16 dimension; larger ones are rejected (MCU tensors are far smaller).
    pub fn dim16(&self, d: usize) -> Result<u16, Error> {
        u16::try_from(d).map_err(|_| self.unsupported("a dimension exceeds 65535"))
    }
}

/// Resolves operator `index`: picks the kernel for its code and tensor types, or says why not.
pub fn prepare(
    model: &Model<'_>,
    index: usize,
    pool: &mut Constants<'_>,
) -> Result<Prepared, Error> {
    let p = Prep {
        model,
        op: model.operator(index)?,
    };
    let plain = |kind| {
        Ok(Prepared {
            kind,
            scratch_bytes: 0,
        })
    };
    match p.op.code {
        op::CONV_2D => conv2d::prepare(&p, pool),
        op::DEPTHWISE_CONV_2D => depthwise_conv2d::prepare(&p, pool),
        op::FULLY_CONNECTED => fully_connected::prepare(&p, pool),
        op::AVERAGE_POOL_2D => plain(OpKind::AveragePool2d(pool::prepare(&p)?)),
        op::MAX_POOL_2D => plain(OpKind::MaxPool2d(pool::prepare(&p)?)),
        op::ADD => plain(OpKind::Add(add_sub::prepare(&p, false)?)),
        op::SUB => plain(OpKind::Sub(add_sub::prepare(&p, true)?)),
        op::MUL => plain(OpKind::Mul(mul::prepare(&p)?)),
        op::RESHAPE => plain(OpKind::Reshape(reshape::prepare(&p)?)),
        op::SOFTMAX => plain(OpKind::Softmax(softmax::prepare(&p)?)),
        op::RELU | op::RELU6 | op::LOGISTIC | op::TANH => plain(OpKind::Unary(unary::prepare(&p)?)),
        op::QUANTIZE => plain(OpKind::Quantize(quantize::prepare_quantize(&p)?)),
        op::DEQUANTIZE => plain(OpKind::Dequantize(quantize::prepare_dequantize(&p)?)),
        op::MEAN => plain(OpKind::Mean(mean::prepare(&p)?)),
        op::PAD => plain(OpKind::Pad(pad::prepare(&p)?)),
        op::CONCATENATION => plain(OpKind::Concatenation(concatenation::prepare(&p)?)),
        op::STRIDED_SLICE => plain(OpKind::StridedSlice(strided_slice::prepare(&p)?)),
        _ => Err(p.unsupported("the engine has no kernel for this operator")),
    }
}

/// Where a tensor's bytes are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Place {
    /// Not used by any operator.
    #[default]
    Unused,
    /// Constant data at this byte range of the model.
    Model { start: u32, len: u32 },
    /// Planned at this byte range of the arena.
    Arena { start: u32, len: u32 },
}

/// A tensor's place plus the lifetime the planner computed (operator indices, inclusive).
#[derive(Clone, Copy, Debug, Default)]
pub struct TensorSlot {
    pub place: Place,
    pub first_op: u16,
    pub last_op: u16,
}

/// A kernel's view of the tensors while one operator runs: read-only inputs (from the model or
/// from the arena around the output), the output and scratch buffers it may write.
pub struct Ctx<'x> {
    pub(crate) model: &'x [u8],
    pub(crate) slots: &'x [TensorSlot],
    /// Read-only pieces of the arena: (offset in the arena, bytes).
    pub(crate) pieces: [(usize, &'x [u8]); 3],
    pub(crate) out: &'x mut [u8],
    pub(crate) scratch: &'x mut [u8],
    pub(crate) pool: &'x [i32],
}

impl<'x> Ctx<'x> {
    /// The bytes of input tensor `t`.
    pub fn bytes(&self, t: TensorId) -> Result<&'x [u8], &'static str> {
        match self.slots.get(t as usize).map(|s| s.place) {
            Some(Place::Model { start, len }) => self
                .model
                .get(start as usize..(start + len) as usize)
                .ok_or("constant tensor outside the model"),
            Some(Place::Arena { start, len }) => {
                let (start, len) = (start as usize, len as usize);
                for (at, piece) in self.pieces {
                    if start >= at && start + len <= at + piece.len() {
                        return Ok(&piece[start - at..start - at + len]);
                    }
                }
                Err("an input overlaps the output or scratch buffer (planner bug)")
            }
            _ => Err("an input tensor has no data"),
        }
    }
    pub fn i8(&self, t: TensorId) -> Result<&'x [i8], &'static str> {
        Ok(bytemuck::cast_slice(self.bytes(t)?))
    }
    pub fn f32(&self, t: TensorId) -> Result<&'x [f32], &'static str> {
        bytemuck::try_cast_slice(self.bytes(t)?).map_err(|_| {
            "float32 data is not 4-byte aligned (place the model at an aligned address)"
        })
    }
    pub fn i32(&self, t: TensorId) -> Result<&'x [i32], &'static str> {
        bytemuck::try_cast_slice(self.bytes(t)?)
            .map_err(|_| "int32 data is not 4-byte aligned (place the model at an aligned address)")
    }
    /// An optional int32 tensor (bias), `None` for [`NO_TENSOR`].
    pub fn opt_i32(&self, t: TensorId) -> Result<Option<&'x [i32]>, &'static str> {
        if t == NO_TENSOR {
            Ok(None)
        } else {
            self.i32(t).map(Some)
        }
    }
    pub fn opt_f32(&self, t: TensorId) -> Result<Option<&'x [f32]>, &'static str> {
        if t == NO_TENSOR {
            Ok(None)
        } else {
            self.f32(t).map(Some)
        }
    }
    /// The output buffer (can be taken once per operator).
    pub fn out_bytes(&mut self) -> &'x mut [u8] {
        core::mem::take(&mut self.out)
    }
    pub fn out_i8(&mut self) -> &'x mut [i8] {
        bytemuck::cast_slice_mut(self.out_bytes())
    }
    pub fn out_f32(&mut self) -> Result<&'x mut [f32], &'static str> {
        bytemuck::try_cast_slice_mut(self.out_bytes())
            .map_err(|_| "output is not aligned (planner bug)")
    }
    pub fn scratch(&mut self) -> &'x mut [u8] {
        core::mem::take(&mut self.scratch)
    }
    pub fn pool(&self, at: u32, len: usize) -> Result<&'x [i32], &'static str> {
        self.pool
            .get(at as usize..at as usize + len)
            .ok_or("per-channel constants missing (engine bug)")
    }
}

/// 2-D window geometry shared by convolutions and pooling (NHWC).
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    pub batches: u16,
    pub in_h: u16,
    pub in_w: u16,
    pub in_c: u16,
    pub out_h: u16,
    pub out_w: u16,
    pub out_c: u16,
    pub k_h: u16,
    pub k_w: u16,
    pub stride_h: u16,
    pub stride_w: u16,
    pub dil_h: u16,
    pub dil_w: u16,
    pub pad_h: u16,
    pub pad_w: u16,
}

/// `Padding` of schema.fbs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Padding {
    Same,
    Valid,
}

/// TFLite `ComputeOutSize` (kernels/padding.h).
fn out_size(
    padding: Padding,
    image: usize,
    filter: usize,
    stride: usize,
    dilation: usize,
) -> usize {
    let effective = (filter - 1).saturating_mul(dilation).saturating_add(1);
    match padding {
        Padding::Same => image.div_ceil(stride),
        Padding::Valid => image.saturating_add(stride).saturating_sub(effective) / stride,
    }
}

/// TFLite `ComputePadding` (kernels/padding.h).
fn pad_size(stride: usize, dilation: usize, image: usize, filter: usize, out: usize) -> usize {
    // Dimensions are at most 2^32 and stride/dilation at most 2^31: i64 holds the products.
    let effective = (filter as i64 - 1) * dilation as i64 + 1;
    let total = ((out as i64 - 1) * stride as i64 + effective - image as i64) / 2;
    total.max(0) as usize
}

impl Window {
    /// Values in one output pixel's window: `k_h * k_w * in_c` (a filter row's length).
    pub fn depth(&self) -> usize {
        self.k_h as usize * self.k_w as usize * self.in_c as usize
    }

    /// Builds the window of an NHWC input/output pair and checks the output size the model states
    /// against TFLite's `ComputeOutSize`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        p: &Prep<'_, '_>,
        input: &TensorInfo<'_>,
        output: &TensorInfo<'_>,
        k: (usize, usize),
        stride: (i32, i32),
        dilation: (i32, i32),
        padding: i8,
    ) -> Result<Window, Error> {
        let [n, ih, iw, ic] = input
            .shape
            .nhwc()
            .filter(|_| input.shape.rank == 4)
            .ok_or_else(|| p.invalid("the input is not 4-D (NHWC)"))?;
        let [on, oh, ow, oc] = output
            .shape
            .nhwc()
            .filter(|_| output.shape.rank == 4)
            .ok_or_else(|| p.invalid("the output is not 4-D (NHWC)"))?;
        let padding = match padding {
            0 => Padding::Same,
            1 => Padding::Valid,
            _ => return Err(p.invalid("unknown padding")),
        };
        let pos = |v: i32| usize::try_from(v).ok().filter(|&v| v > 0);
        let (sh, sw) = (pos(stride.0), pos(stride.1));
        let (dh, dw) = (pos(dilation.0), pos(dilation.1));
        let (Some(sh), Some(sw), Some(dh), Some(dw)) = (sh, sw, dh, dw) else {
            return Err(p.invalid("strides and dilations must be positive"));
        };
        if k.0 == 0 || k.1 == 0 {
            return Err(p.invalid("the filter is empty"));
        }
        if on != n
            || out_size(padding, ih, k.0, sh, dh) != oh
            || out_size(padding, iw, k.1, sw, dw) != ow
        {
            return Err(p.invalid(
                "the output shape does not match the input, filter, strides and padding",
            ));
        }
        let pad_h = pad_size(sh, dh, ih, k.0, oh);
        let pad_w = pad_size(sw, dw, iw, k.1, ow);
        Ok(Window {
            batches: p.dim16(n)?,
            in_h: p.dim16(ih)?,
            in_w: p.dim16(iw)?,
            in_c: p.dim16(ic)?,
            out_h: p.dim16(oh)?,
            out_w: p.dim16(ow)?,
            out_c: p.dim16(oc)?,
            k_h: p.dim16(k.0)?,
            k_w: p.dim16(k.1)?,
            stride_h: p.dim16(sh)?,
            stride_w: p.dim16(sw)?,
            dil_h: p.dim16(dh)?,
            dil_w: p.dim16(dw)?,
            pad_h: p.dim16(pad_h)?,
            pad_w: p.dim16(pad_w)?,
        })
    }
}

/// The filter taps `start..end` of a window starting at `origin` (may be negative: padding) that
/// fall inside an image of `size`, with taps `dilation` apart: the same taps the reference kernels
/// keep with their per-tap `is_point_inside_image` test.
#[inline(always)]
pub fn tap_range(origin: isize, size: usize, taps: usize, dilation: usize) -> (usize, usize) {
    let d = dilation as isize;
    // First tap with origin + d * t >= 0, first tap with origin + d * t >= size.
    let start = if origin < 0 { (-origin + d - 1) / d } else { 0 };
    let end = if (size as isize) > origin {
        (size as isize - origin + d - 1) / d
    } else {
        0
    };
    (
        start.min(taps as isize) as usize,
        end.clamp(0, taps as isize) as usize,
    )
}

/// The outputs along one axis whose windows lie wholly inside an image of `size`: window `o`
/// starts at `o * stride - pad` and has `taps` taps `dil` apart. Empty (at `first..first`) when
/// none does.
#[inline(always)]
pub fn inside_outputs(
    pad: u16,
    stride: u16,
    taps: usize,
    dil: u16,
    size: usize,
) -> core::ops::Range<usize> {
    let (pad, stride) = (pad as usize, (stride as usize).max(1));
    let first = pad.div_ceil(stride);
    // Last: o * stride + (taps - 1) * dil <= size - 1 + pad.
    let reach = taps.saturating_sub(1) * dil as usize;
    let end = match (size + pad).checked_sub(1 + reach) {
        Some(limit) => limit / stride + 1,
        None => 0,
    };
    first..end.max(first)
}

/// How an operator with weights (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weighted {
    /// int8 input, weights and output, int32 bias.
    Int8,
    /// float32 throughout.
    F32,
    /// Hybrid (dynamic range): float32 input and output, int8 weights, float32 bias.
    Hybrid,
}

/// The kernel the input, weights and output types call for, with the bias type checked
/// against it; `unsupported` is the reason given for any other combination.
pub(crate) fn weighted_kernel(
    p: &Prep<'_, '_>,
    input: &TensorInfo<'_>,
    filter: &TensorInfo<'_>,
    output: &TensorInfo<'_>,
    bias: Option<&TensorInfo<'_>>,
    unsupported: &'static str,
) -> Result<Weighted, Error> {
    use TensorType::{Float32, Int32, Int8};
    let (kernel, bias_type, reason) = match (input.dtype, filter.dtype, output.dtype) {
        (Int8, Int8, Int8) => (Weighted::Int8, Int32, "an int8 kernel needs an int32 bias"),
        (Float32, Float32, Float32) => (
            Weighted::F32,
            Float32,
            "a float kernel needs a float32 bias",
        ),
        (Float32, Int8, Float32) => (
            Weighted::Hybrid,
            Float32,
            "a hybrid kernel (float32 input, int8 weights) needs a float32 bias",
        ),
        _ => return Err(p.unsupported(unsupported)),
    };
    if let Some(b) = bias {
        expect_type(p, b, bias_type, reason)?;
    }
    Ok(kernel)
}

/// Pushes the first `channels` scales of `filter` (as f32 bits) for a hybrid kernel; returns
/// where they start in the pool.
pub(crate) fn push_channel_scales(
    pool: &mut Constants<'_>,
    filter: &TensorInfo<'_>,
    channels: usize,
) -> u32 {
    let at = pool.at();
    for c in 0..channels {
        pool.push(filter.scale_at(c).to_bits() as i32);
    }
    at
}

/// Checks a tensor has the given type.
pub fn expect_type(
    p: &Prep<'_, '_>,
    t: &TensorInfo<'_>,
    want: TensorType,
    reason: &'static str,
) -> Result<(), Error> {
    if t.dtype == want {
        Ok(())
    } else {
        Err(p.unsupported(reason))
    }
}

/// Checks two shapes hold the same number of elements.
pub fn same_elements(
    p: &Prep<'_, '_>,
    a: &TensorInfo<'_>,
    b: &TensorInfo<'_>,
) -> Result<(), Error> {
    if a.shape.elements() == b.shape.elements() {
        Ok(())
    } else {
        Err(p.invalid("input and output hold different numbers of elements"))
    }
}

/// Clamps a float to an activation range as TFLite's `ActivationFunctionWithMinMax` does:
/// `std::min(std::max(x, min), max)`, that is two comparisons (a NaN passes through, as there;
/// `f32::max`/`min` would turn it into a bound, and on a core without an FPU they are calls into
/// libm that each compare twice).
#[inline(always)]
pub fn clamp_f32(x: f32, min: f32, max: f32) -> f32 {
    let low = if x < min { min } else { x };
    if max < low {
        max
    } else {
        low
    }
}

#[cfg(test)]
mod tests {
    use super::{inside_outputs, tap_range};

    #[test]
    fn float_clamp_is_tflites() {
        use super::clamp_f32;
        assert_eq!(clamp_f32(-1.5, 0.0, 6.0), 0.0);
        assert_eq!(clamp_f32(7.0, 0.0, 6.0), 6.0);
        assert_eq!(clamp_f32(2.5, 0.0, 6.0), 2.5);
        assert_eq!(clamp_f32(f32::INFINITY, f32::MIN, f32::MAX), f32::MAX);
        // std::max(-0.0, 0.0) is its first argument; a NaN compares false and passes.
        assert_eq!(clamp_f32(-0.0, 0.0, 6.0).to_bits(), (-0.0f32).to_bits());
        assert!(clamp_f32(f32::NAN, 0.0, 6.0).is_nan());
    }

    #[test]
    fn inside_outputs_are_the_windows_with_every_tap_in_the_image() {
        for pad in 0u16..4 {
            for stride in 1u16..4 {
                for taps in 1usize..5 {
                    for dil in 1u16..3 {
                        for size in 0usize..12 {
                            let r = inside_outputs(pad, stride, taps, dil, size);
                            for o in 0..20usize {
                                let origin = (o * stride as usize) as isize - pad as isize;
                                let (a, b) = tap_range(origin, size, taps, dil as usize);
                                let whole = a == 0 && b == taps && taps > 0;
                                assert_eq!(
                                    r.contains(&o),
                                    whole,
                                    "pad {pad} stride {stride} taps {taps} dil {dil} size {size} o {o}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn tap_range_keeps_exactly_the_in_image_taps() {
        for origin in -7isize..12 {
            for size in 0usize..9 {
                for taps in 1usize..6 {
                    for dilation in 1usize..4 {
                        let inside: std::vec::Vec<usize> = (0..taps)
                            .filter(|&t| {
                                let p = origin + (dilation * t) as isize;
                                p >= 0 && p < size as isize
                            })
                            .collect();
                        let (start, end) = tap_range(origin, size, taps, dilation);
                        let got: std::vec::Vec<usize> = (start..end).collect();
                        assert_eq!(
                            got, inside,
                            "origin {origin} size {size} taps {taps} dilation {dilation}"
                        );
                    }
                }
            }
        }
    }
}
