#!/usr/bin/env python3
"""Write single-operator models with edge cases and their reference outputs for the engine's
per-operator tests (engine/tests/golden/ops/<case>/: model.tflite, in_<i>.npy, out.npy).

Each case is one operator built with TFLite's schema (object API of ai-edge-litert's
schema_py_generated), run in TensorFlow Lite Micro (`tflite-micro`) for int8/float32, or in desktop
TFLite with BUILTIN_REF for hybrid cases, as make_goldens.py does for whole models. The case with
constant data stored after the flatbuffer (buffer offset/size) is referenced by TFLite Micro running
the same model with its buffers inline: the `tflite-micro` Python interpreter reads offset buffers
wrongly (its outputs are garbage), and desktop TFLite's int8 arithmetic is not TFLite Micro's.

Usage: python scripts/goldens/make_op_goldens.py [--out engine/tests/golden/ops]
"""

import argparse
import pathlib
import shutil

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

# Constant buffers 16-byte aligned, as the TFLite converter writes them (schema: force_align 16).
S.BufferStartDataVector = lambda builder, n: builder.StartVector(1, n, 16)

INT8, INT32, FLOAT32, INT16 = S.TensorType.INT8, S.TensorType.INT32, S.TensorType.FLOAT32, S.TensorType.INT16
SEED = 7


class Graph:
    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [S.BufferT()], [], []
        self.inputs, self.outputs = [], []

    def tensor(self, shape, dtype, scale=None, zp=None, data=None, qdim=0, name=None):
        t = S.TensorT()
        t.shape = list(shape)
        t.type = dtype
        t.name = name or f"t{len(self.tensors)}"
        if scale is not None:
            q = S.QuantizationParametersT()
            q.scale = list(np.atleast_1d(np.asarray(scale, np.float32)))
            q.zeroPoint = list(np.atleast_1d(np.asarray(zp if zp is not None else 0, np.int64)))
            q.quantizedDimension = qdim
            t.quantization = q
        if data is not None:
            b = S.BufferT()
            b.data = list(np.ascontiguousarray(data).tobytes())
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, options_type=0, options=None):
        if code not in self.codes:
            self.codes.append(code)
        o = S.OperatorT()
        o.opcodeIndex = self.codes.index(code)
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType = options_type
        o.builtinOptions = options
        self.ops.append(o)

    def build(self, buffers_after=False):
        """The model's flatbuffer; with `buffers_after`, constant data goes after the flatbuffer
        and buffers give its offset and size (the layout of models larger than 2 GB)."""
        if buffers_after:
            datas = [b.data for b in self.buffers]
            for b in self.buffers:
                if b.data:
                    b.data, b.offset, b.size = None, 1 << 40, 1 << 40
            # The offset/size fields have a fixed width, so a first pass gives the length.
            head = len(self.build())
            blob = bytearray()
            for b, d in zip(self.buffers, datas):
                if d:
                    start = -(-(head + len(blob)) // 16) * 16
                    blob += bytes(start - head - len(blob))
                    b.offset, b.size = start, len(d)
                    blob += bytes(d)
            model = self.build()
            assert len(model) == head
            for b, d in zip(self.buffers, datas):
                b.data, b.offset, b.size = d, 0, 0
            return model + bytes(blob)
        g = S.SubGraphT()
        g.tensors, g.operators, g.inputs, g.outputs = self.tensors, self.ops, self.inputs, self.outputs
        m = S.ModelT()
        m.version = 3
        m.subgraphs = [g]
        m.buffers = self.buffers
        m.description = "mcubench op test"
        m.operatorCodes = []
        for c in self.codes:
            oc = S.OperatorCodeT()
            oc.builtinCode = c
            oc.deprecatedBuiltinCode = min(c, 127)
            oc.version = 1
            m.operatorCodes.append(oc)
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def opts(cls, **kw):
    o = cls()
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def qrand(rng, shape, dtype):
    if dtype == INT8:
        return rng.integers(-128, 128, size=shape, dtype=np.int8)
    return rng.standard_normal(size=shape).astype(np.float32)


def conv_case(rng, dtype, in_shape, out_c, k, stride, dilation, padding, act, in_zp=0, out_zp=0, hybrid=False, per_channel=True):
    g = Graph()
    n, h, w, c = in_shape
    eff = [(k[i] - 1) * dilation[i] + 1 for i in range(2)]
    if padding == S.Padding.SAME:
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
    else:
        oh, ow = (h - eff[0]) // stride[0] + 1, (w - eff[1]) // stride[1] + 1
    fshape = (out_c, k[0], k[1], c)
    if dtype == INT8:
        fscale = rng.uniform(0.002, 0.02, size=out_c if per_channel else 1).astype(np.float32)
        filt = rng.integers(-127, 128, size=fshape, dtype=np.int8)
        x = g.tensor(in_shape, INT8, 0.05, in_zp)
        f = g.tensor(fshape, INT8, fscale, 0 * fscale.astype(np.int64), filt)
        bias = rng.integers(-2000, 2000, size=out_c, dtype=np.int32)
        b = g.tensor((out_c,), INT32, 0.05 * fscale, np.zeros(len(fscale), np.int64), bias)
        y = g.tensor((n, oh, ow, out_c), INT8, 0.08, out_zp)
    elif hybrid:
        fscale = rng.uniform(0.002, 0.02, size=out_c if per_channel else 1).astype(np.float32)
        x = g.tensor(in_shape, FLOAT32)
        f = g.tensor(fshape, INT8, fscale, np.zeros(len(fscale), np.int64), rng.integers(-127, 128, size=fshape, dtype=np.int8))
        b = g.tensor((out_c,), FLOAT32, data=rng.standard_normal(out_c).astype(np.float32))
        y = g.tensor((n, oh, ow, out_c), FLOAT32)
    else:
        x = g.tensor(in_shape, FLOAT32)
        f = g.tensor(fshape, FLOAT32, data=(0.3 * rng.standard_normal(fshape)).astype(np.float32))
        b = g.tensor((out_c,), FLOAT32, data=rng.standard_normal(out_c).astype(np.float32))
        y = g.tensor((n, oh, ow, out_c), FLOAT32)
    g.op(S.BuiltinOperator.CONV_2D, [x, f, b], [y], S.BuiltinOptions.Conv2DOptions,
         opts(S.Conv2DOptionsT, padding=padding, strideH=stride[0], strideW=stride[1],
              dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act))
    g.inputs, g.outputs = [x], [y]
    return g


def dw_case(rng, dtype, in_shape, mult, k, stride, dilation, padding, act, in_zp=0, out_zp=0, hybrid=False):
    g = Graph()
    n, h, w, c = in_shape
    out_c = c * mult
    eff = [(k[i] - 1) * dilation[i] + 1 for i in range(2)]
    if padding == S.Padding.SAME:
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
    else:
        oh, ow = (h - eff[0]) // stride[0] + 1, (w - eff[1]) // stride[1] + 1
    fshape = (1, k[0], k[1], out_c)
    if dtype == INT8 or hybrid:
        fscale = rng.uniform(0.002, 0.02, size=out_c).astype(np.float32)
        f_data = rng.integers(-127, 128, size=fshape, dtype=np.int8)
    if dtype == INT8:
        x = g.tensor(in_shape, INT8, 0.05, in_zp)
        f = g.tensor(fshape, INT8, fscale, np.zeros(out_c, np.int64), f_data, qdim=3)
        b = g.tensor((out_c,), INT32, 0.05 * fscale, np.zeros(out_c, np.int64), rng.integers(-2000, 2000, size=out_c, dtype=np.int32))
        y = g.tensor((n, oh, ow, out_c), INT8, 0.08, out_zp)
    elif hybrid:
        x = g.tensor(in_shape, FLOAT32)
        f = g.tensor(fshape, INT8, fscale, np.zeros(out_c, np.int64), f_data, qdim=3)
        b = g.tensor((out_c,), FLOAT32, data=rng.standard_normal(out_c).astype(np.float32))
        y = g.tensor((n, oh, ow, out_c), FLOAT32)
    else:
        x = g.tensor(in_shape, FLOAT32)
        f = g.tensor(fshape, FLOAT32, data=(0.3 * rng.standard_normal(fshape)).astype(np.float32))
        b = g.tensor((out_c,), FLOAT32, data=rng.standard_normal(out_c).astype(np.float32))
        y = g.tensor((n, oh, ow, out_c), FLOAT32)
    g.op(S.BuiltinOperator.DEPTHWISE_CONV_2D, [x, f, b], [y], S.BuiltinOptions.DepthwiseConv2DOptions,
         opts(S.DepthwiseConv2DOptionsT, padding=padding, strideH=stride[0], strideW=stride[1], depthMultiplier=mult,
              dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=act))
    g.inputs, g.outputs = [x], [y]
    return g


def fc_case(rng, dtype, batches, depth, units, act, in_zp=0, out_zp=0, hybrid=False, per_channel=False, asymmetric=False):
    g = Graph()
    if dtype == INT8:
        scale = rng.uniform(0.002, 0.02, size=units).astype(np.float32) if per_channel else np.float32([0.01])
        x = g.tensor((batches, depth), INT8, 0.04, in_zp)
        f = g.tensor((units, depth), INT8, scale, np.zeros(len(scale), np.int64), rng.integers(-127, 128, size=(units, depth), dtype=np.int8))
        b = g.tensor((units,), INT32, 0.04 * scale, np.zeros(len(scale), np.int64), rng.integers(-3000, 3000, size=units, dtype=np.int32))
        y = g.tensor((batches, units), INT8, 0.1, out_zp)
    elif hybrid:
        scale = rng.uniform(0.002, 0.02, size=units if per_channel else 1).astype(np.float32)
        x = g.tensor((batches, depth), FLOAT32)
        f = g.tensor((units, depth), INT8, scale, np.zeros(len(scale), np.int64), rng.integers(-127, 128, size=(units, depth), dtype=np.int8))
        b = g.tensor((units,), FLOAT32, data=rng.standard_normal(units).astype(np.float32))
        y = g.tensor((batches, units), FLOAT32)
    else:
        x = g.tensor((batches, depth), FLOAT32)
        f = g.tensor((units, depth), FLOAT32, data=(0.3 * rng.standard_normal((units, depth))).astype(np.float32))
        b = g.tensor((units,), FLOAT32, data=rng.standard_normal(units).astype(np.float32))
        y = g.tensor((batches, units), FLOAT32)
    g.op(S.BuiltinOperator.FULLY_CONNECTED, [x, f, b], [y], S.BuiltinOptions.FullyConnectedOptions,
         opts(S.FullyConnectedOptionsT, fusedActivationFunction=act, asymmetricQuantizeInputs=asymmetric))
    g.inputs, g.outputs = [x], [y]
    return g


def pool_case(code, dtype, in_shape, k, stride, padding, act=0):
    g = Graph()
    n, h, w, c = in_shape
    if padding == S.Padding.SAME:
        oh, ow = -(-h // stride[0]), -(-w // stride[1])
    else:
        oh, ow = (h - k[0]) // stride[0] + 1, (w - k[1]) // stride[1] + 1
    q = (0.05, 7) if dtype == INT8 else (None, None)
    x = g.tensor(in_shape, dtype, *q)
    y = g.tensor((n, oh, ow, c), dtype, *q)
    g.op(code, [x], [y], S.BuiltinOptions.Pool2DOptions,
         opts(S.Pool2DOptionsT, padding=padding, strideH=stride[0], strideW=stride[1], filterHeight=k[0], filterWidth=k[1], fusedActivationFunction=act))
    g.inputs, g.outputs = [x], [y]
    return g


def binary_case(code, dtype, a_shape, b_shape, out_shape, act=0, qa=(0.05, -3), qb=(0.11, 20), qo=(0.09, -128)):
    g = Graph()
    if dtype == INT8:
        a, b, y = g.tensor(a_shape, INT8, *qa), g.tensor(b_shape, INT8, *qb), g.tensor(out_shape, INT8, *qo)
    else:
        a, b, y = g.tensor(a_shape, FLOAT32), g.tensor(b_shape, FLOAT32), g.tensor(out_shape, FLOAT32)
    kind = {S.BuiltinOperator.ADD: (S.BuiltinOptions.AddOptions, S.AddOptionsT),
            S.BuiltinOperator.SUB: (S.BuiltinOptions.SubOptions, S.SubOptionsT),
            S.BuiltinOperator.MUL: (S.BuiltinOptions.MulOptions, S.MulOptionsT)}[code]
    g.op(code, [a, b], [y], kind[0], opts(kind[1], fusedActivationFunction=act))
    g.inputs, g.outputs = [a, b], [y]
    return g


def unary_case(code, in_dtype, out_dtype, shape, qi=(None, None), qo=(None, None)):
    g = Graph()
    x = g.tensor(shape, in_dtype, *qi)
    y = g.tensor(shape, out_dtype, *qo)
    g.op(code, [x], [y])
    g.inputs, g.outputs = [x], [y]
    return g


def softmax_case(dtype, shape, beta, in_scale):
    g = Graph()
    x = g.tensor(shape, dtype, *((in_scale, 5) if dtype == INT8 else (None, None)))
    y = g.tensor(shape, dtype, *((1 / 256, -128) if dtype == INT8 else (None, None)))
    g.op(S.BuiltinOperator.SOFTMAX, [x], [y], S.BuiltinOptions.SoftmaxOptions, opts(S.SoftmaxOptionsT, beta=beta))
    g.inputs, g.outputs = [x], [y]
    return g


def pad_case(dtype):
    g = Graph()
    q = (0.05, -7) if dtype == INT8 else (None, None)
    x = g.tensor((1, 3, 4, 2), dtype, *q)
    p = g.tensor((4, 2), INT32, data=np.array([[0, 0], [1, 2], [2, 0], [0, 1]], np.int32))
    y = g.tensor((1, 6, 6, 3), dtype, *q)
    g.op(S.BuiltinOperator.PAD, [x, p], [y], S.BuiltinOptions.PadOptions, S.PadOptionsT())
    g.inputs, g.outputs = [x], [y]
    return g


def concat_case(dtype):
    g = Graph()
    q = (0.05, 2) if dtype == INT8 else (None, None)
    a = g.tensor((1, 2, 3, 2), dtype, *q)
    b = g.tensor((1, 2, 3, 3), dtype, *q)
    y = g.tensor((1, 2, 3, 5), dtype, *q)
    g.op(S.BuiltinOperator.CONCATENATION, [a, b], [y], S.BuiltinOptions.ConcatenationOptions, opts(S.ConcatenationOptionsT, axis=-1))
    g.inputs, g.outputs = [a, b], [y]
    return g


def strided_slice_case(dtype):
    g = Graph()
    q = (0.05, 2) if dtype == INT8 else (None, None)
    x = g.tensor((1, 6, 5, 4), dtype, *q)
    begin = g.tensor((4,), INT32, data=np.array([0, 1, -1, 0], np.int32))
    end = g.tensor((4,), INT32, data=np.array([1, 6, 0, 3], np.int32))
    strides = g.tensor((4,), INT32, data=np.array([1, 2, -2, 1], np.int32))
    y = g.tensor((1, 3, 2, 4), dtype, *q)
    g.op(S.BuiltinOperator.STRIDED_SLICE, [x, begin, end, strides], [y], S.BuiltinOptions.StridedSliceOptions,
         opts(S.StridedSliceOptionsT, beginMask=1, endMask=8))
    g.inputs, g.outputs = [x], [y]
    return g


def mean_case(dtype=FLOAT32, qi=(None, None), qo=(None, None), shape=(2, 5, 4, 3), axes=(1, 2), keep_dims=True):
    g = Graph()
    x = g.tensor(shape, dtype, *qi)
    axes_t = g.tensor((len(axes),), INT32, data=np.array(axes, np.int32))
    reduced = {a % len(shape) for a in axes}
    if keep_dims:
        out_shape = [1 if i in reduced else d for i, d in enumerate(shape)]
    else:
        out_shape = [d for i, d in enumerate(shape) if i not in reduced]
    y = g.tensor(out_shape, dtype, *qo)
    g.op(S.BuiltinOperator.MEAN, [x, axes_t], [y], S.BuiltinOptions.ReducerOptions, opts(S.ReducerOptionsT, keepDims=keep_dims))
    g.inputs, g.outputs = [x], [y]
    return g


def cases(rng):
    P, A, O = S.Padding, S.ActivationFunctionType, S.BuiltinOperator
    yield "conv_int8_same_stride2_relu6", conv_case(rng, INT8, (1, 9, 7, 3), 4, (3, 3), (2, 2), (1, 1), P.SAME, A.RELU6, in_zp=-5, out_zp=3), "tflm"
    yield "conv_int8_valid_dilation2_zp_ends", conv_case(rng, INT8, (2, 10, 9, 2), 3, (3, 2), (1, 2), (2, 2), P.VALID, A.NONE, in_zp=-128, out_zp=127), "tflm"
    yield "conv_int8_per_tensor_relu", conv_case(rng, INT8, (1, 6, 6, 5), 6, (1, 1), (1, 1), (1, 1), P.SAME, A.RELU, in_zp=127, out_zp=-128, per_channel=False), "tflm"
    yield "conv_f32_same_stride2_relu", conv_case(rng, FLOAT32, (1, 9, 7, 3), 4, (3, 3), (2, 2), (1, 1), P.SAME, A.RELU), "tflm"
    yield "conv_f32_valid_dilation2", conv_case(rng, FLOAT32, (2, 10, 9, 2), 3, (3, 2), (1, 2), (2, 2), P.VALID, A.NONE), "tflm"
    yield "conv_hybrid_per_tensor", conv_case(rng, FLOAT32, (1, 8, 8, 3), 4, (3, 3), (1, 1), (1, 1), P.SAME, A.RELU, hybrid=True, per_channel=False), "litert"
    yield "conv_hybrid_per_channel", conv_case(rng, FLOAT32, (2, 8, 7, 3), 5, (3, 3), (2, 1), (1, 1), P.VALID, A.NONE, hybrid=True), "litert"
    yield "dw_int8_mult2_same_relu", dw_case(rng, INT8, (1, 8, 8, 3), 2, (3, 3), (1, 1), (1, 1), P.SAME, A.RELU, in_zp=-128, out_zp=-20), "tflm"
    yield "dw_int8_valid_stride2_dilation2", dw_case(rng, INT8, (1, 11, 9, 4), 1, (3, 3), (2, 2), (2, 2), P.VALID, A.RELU6, in_zp=127, out_zp=5), "tflm"
    yield "dw_f32_mult3_same", dw_case(rng, FLOAT32, (1, 7, 6, 2), 3, (3, 3), (2, 1), (1, 1), P.SAME, A.NONE), "tflm"
    yield "dw_hybrid_mult2", dw_case(rng, FLOAT32, (1, 7, 6, 2), 2, (3, 3), (1, 1), (1, 1), P.SAME, A.NONE, hybrid=True), "litert"
    yield "fc_int8_batches3_relu", fc_case(rng, INT8, 3, 20, 7, A.RELU, in_zp=-128, out_zp=10), "tflm"
    yield "fc_f32_batches2", fc_case(rng, FLOAT32, 2, 16, 5, A.RELU6), "tflm"
    yield "fc_hybrid_per_tensor_symmetric", fc_case(rng, FLOAT32, 2, 24, 6, A.NONE, hybrid=True), "litert"
    yield "fc_hybrid_per_channel_asymmetric", fc_case(rng, FLOAT32, 3, 24, 6, A.RELU, hybrid=True, per_channel=True, asymmetric=True), "litert"
    yield "avgpool_int8_same_stride2", pool_case(O.AVERAGE_POOL_2D, INT8, (1, 7, 7, 3), (3, 3), (2, 2), P.SAME), "tflm"
    yield "avgpool_f32_same_stride2", pool_case(O.AVERAGE_POOL_2D, FLOAT32, (1, 7, 7, 3), (3, 3), (2, 2), P.SAME), "tflm"
    yield "maxpool_int8_valid_relu6", pool_case(O.MAX_POOL_2D, INT8, (1, 8, 9, 2), (2, 3), (2, 2), P.VALID, A.RELU6), "tflm"
    yield "maxpool_f32_same", pool_case(O.MAX_POOL_2D, FLOAT32, (1, 8, 9, 2), (3, 3), (2, 2), P.SAME), "tflm"
    yield "add_int8_broadcast_relu", binary_case(O.ADD, INT8, (1, 4, 4, 3), (1, 1, 1, 3), (1, 4, 4, 3), A.RELU), "tflm"
    yield "add_f32", binary_case(O.ADD, FLOAT32, (1, 4, 4, 3), (1, 4, 4, 3), (1, 4, 4, 3)), "tflm"
    yield "sub_int8", binary_case(O.SUB, INT8, (2, 3, 5), (2, 3, 5), (2, 3, 5)), "tflm"
    yield "mul_int8_broadcast", binary_case(O.MUL, INT8, (1, 3, 4, 2), (1, 3, 1, 2), (1, 3, 4, 2), qo=(0.3, 4)), "tflm"
    yield "mul_f32", binary_case(O.MUL, FLOAT32, (3, 4), (3, 4), (3, 4)), "tflm"
    yield "softmax_int8_beta1", softmax_case(INT8, (3, 10), 1.0, 0.1), "tflm"
    yield "softmax_int8_beta_half_wide", softmax_case(INT8, (2, 40), 0.5, 0.25), "tflm"
    yield "softmax_f32", softmax_case(FLOAT32, (2, 7), 1.0, None), "tflm"
    yield "relu_int8", unary_case(O.RELU, INT8, INT8, (2, 17), (0.05, 3), (0.03, -100)), "tflm"
    yield "relu6_int8", unary_case(O.RELU6, INT8, INT8, (2, 17), (0.05, 3), (0.03, -128)), "tflm"
    yield "logistic_f32", unary_case(O.LOGISTIC, FLOAT32, FLOAT32, (3, 9)), "tflm"
    yield "tanh_f32", unary_case(O.TANH, FLOAT32, FLOAT32, (3, 9)), "tflm"
    yield "quantize_f32_int8", unary_case(O.QUANTIZE, FLOAT32, INT8, (4, 9), (None, None), (0.02, -3)), "tflm"
    yield "requantize_int8", unary_case(O.QUANTIZE, INT8, INT8, (4, 9), (0.05, 10), (0.02, -3)), "tflm"
    yield "dequantize_int8", unary_case(O.DEQUANTIZE, INT8, FLOAT32, (4, 9), (0.05, 10)), "tflm"
    yield "pad_int8", pad_case(INT8), "tflm"
    yield "pad_f32", pad_case(FLOAT32), "tflm"
    yield "concat_int8", concat_case(INT8), "tflm"
    yield "strided_slice_f32", strided_slice_case(FLOAT32), "tflm"
    yield "mean_f32", mean_case(), "tflm"
    yield "mean_int8_rescaled", mean_case(INT8, (0.05, -20), (0.02, 9)), "tflm"
    yield "fc_int8_per_channel", fc_case(rng, INT8, 2, 30, 6, A.NONE, in_zp=-7, out_zp=-60, per_channel=True), "tflm"
    yield "buffers_after_flatbuffer_fc_int8", fc_case(rng, INT8, 2, 16, 5, A.NONE, in_zp=3, out_zp=-4), "tflm-after"
    yield "logistic_int8", unary_case(O.LOGISTIC, INT8, INT8, (4, 32), (0.06, 3), (1 / 256, -128)), "tflm"
    yield "tanh_int8", unary_case(O.TANH, INT8, INT8, (4, 32), (0.008, -10), (1 / 128, 0)), "tflm"
    # int8 MEAN: TFLite Micro's QuantizedMeanOrSum on every axis set (appended here so the cases
    # above keep their random data). hw_keepdims_wide is a case where the older axes-{1, 2} kernel
    # (reference_integer_ops::Mean) would round differently.
    yield "mean_int8_hw_keepdims_wide", mean_case(INT8, (0.04, -128), (0.03, -128), (1, 9, 9, 16), (2, 1), True), "tflm"
    yield "mean_int8_hw_no_keepdims", mean_case(INT8, (0.05, -20), (0.02, 9), (2, 6, 5, 7), (1, 2), False), "tflm"
    yield "mean_int8_hw_same_quantization", mean_case(INT8, (0.02, 5), (0.02, 5), (1, 6, 6, 8), (1, 2), False), "tflm"
    yield "mean_int8_last_axis_3d", mean_case(INT8, (0.05, -20), (0.03, 9), (3, 7, 6), (-1,), False), "tflm"
    yield "mean_int8_middle_axis_keepdims_3d", mean_case(INT8, (0.05, 4), (0.05, 4), (3, 7, 6), (-2,), True), "tflm"
    yield "mean_int8_2d_upscale", mean_case(INT8, (0.02, 0), (0.01, 3), (4, 9), (1,), False), "tflm"
    yield "mean_int8_batch_and_channel_keepdims", mean_case(INT8, (0.05, -20), (0.04, 1), (2, 3, 4, 5), (0, 3), True), "tflm"
    yield "mean_int8_three_axes", mean_case(INT8, (0.05, -20), (0.04, 1), (2, 3, 4, 5), (1, 2, 3), False), "tflm"
    yield "mean_int8_all_axes_large_count", mean_case(INT8, (0.5, -128), (0.6, -100), (1, 32, 32, 2), (0, 1, 2, 3), True), "tflm"
    yield "mean_int8_1d_zp_ends", mean_case(INT8, (0.02, 127), (0.03, 127), (9,), (0,), True), "tflm"
    yield "mean_f32_channel_no_keepdims", mean_case(FLOAT32, shape=(2, 3, 4, 5), axes=(3, 0), keep_dims=False), "tflm"


def run(kind, model, inputs):
    if kind == "tflm":
        from tflite_micro.python.tflite_micro import runtime

        interp = runtime.Interpreter.from_bytes(model)
        for i, x in enumerate(inputs):
            interp.set_input(x, i)
        interp.invoke()
        return interp.get_output(0)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), inputs):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"]).copy()


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=root / "engine/tests/golden/ops", type=pathlib.Path)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    if args.out.exists():
        shutil.rmtree(args.out)
    for name, g, kind in cases(rng):
        # The reference runs the inline-buffer build (see the module comment); the test gets the
        # same model with its buffers after the flatbuffer.
        model = g.build()
        saved = g.build(buffers_after=True) if kind.endswith("-after") else model
        kind = kind.removesuffix("-after")
        inputs = []
        for t in g.inputs:
            tensor = g.tensors[t]
            inputs.append(qrand(rng, tuple(tensor.shape), tensor.type))
        y = run(kind, model, inputs)
        d = args.out / name
        d.mkdir(parents=True)
        (d / "model.tflite").write_bytes(saved)
        for i, x in enumerate(inputs):
            np.save(d / f"in_{i}.npy", x)
        np.save(d / "out.npy", y)
        print(f"{name} ({kind}): out {y.dtype}{list(y.shape)} {y.ravel()[:5]}")


if __name__ == "__main__":
    main()
