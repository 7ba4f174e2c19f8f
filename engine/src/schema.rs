//! Typed, zero-copy views of the TFLite schema (tensorflow/lite/schema/schema.fbs, version 3).
//! Field ids are the schema's declaration order; a union takes two ids (type, then value).

use core::fmt;

use crate::error::{Error, ModelName, ReadError};
use crate::fb::{Table, Vector};

/// `TensorType` (schema.fbs). Only the types the engine can meet are named; others keep their code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TensorType {
    Float32,
    Float16,
    Int32,
    Uint8,
    Int64,
    Int16,
    Int8,
    /// Any other code (string, bool, complex, ...), not supported by any kernel.
    Other(i8),
}

impl TensorType {
    pub fn from_code(code: i8) -> Self {
        match code {
            0 => TensorType::Float32,
            1 => TensorType::Float16,
            2 => TensorType::Int32,
            3 => TensorType::Uint8,
            4 => TensorType::Int64,
            7 => TensorType::Int16,
            9 => TensorType::Int8,
            c => TensorType::Other(c),
        }
    }
    /// Bytes per element (0 for types the engine cannot store).
    pub fn size(self) -> usize {
        match self {
            TensorType::Float32 | TensorType::Int32 => 4,
            TensorType::Float16 | TensorType::Int16 => 2,
            TensorType::Uint8 | TensorType::Int8 => 1,
            TensorType::Int64 => 8,
            TensorType::Other(_) => 0,
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorType::Float32 => f.write_str("float32"),
            TensorType::Float16 => f.write_str("float16"),
            TensorType::Int32 => f.write_str("int32"),
            TensorType::Uint8 => f.write_str("uint8"),
            TensorType::Int64 => f.write_str("int64"),
            TensorType::Int16 => f.write_str("int16"),
            TensorType::Int8 => f.write_str("int8"),
            TensorType::Other(c) => write!(f, "type {c}"),
        }
    }
}

/// The name of a `BuiltinOperator` code ("CONV_2D"), or "?" for an unknown code.
pub fn builtin_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| BUILTIN_NAMES.get(c))
        .copied()
        .unwrap_or("?")
}

/// `BuiltinOperator` codes the engine runs (schema.fbs).
pub mod op {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONCATENATION: i32 = 2;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const LOGISTIC: i32 = 14;
    pub const MAX_POOL_2D: i32 = 17;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const TANH: i32 = 28;
    pub const PAD: i32 = 34;
    pub const MEAN: i32 = 40;
    pub const SUB: i32 = 41;
    pub const STRIDED_SLICE: i32 = 45;
    pub const QUANTIZE: i32 = 114;
}

/// The most dimensions a tensor may have in this engine (TFLite Micro kernels use at most 5; 6 is
/// enough for reshapes).
pub const MAX_RANK: usize = 6;

/// A tensor shape, inline.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Shape {
    pub dims: [u32; MAX_RANK],
    pub rank: u8,
}

impl Shape {
    pub fn dims(&self) -> &[u32] {
        &self.dims[..self.rank as usize]
    }
    /// Number of elements (1 for a scalar). Saturates rather than wraps on forged shapes.
    pub fn elements(&self) -> usize {
        self.dims()
            .iter()
            .fold(1usize, |n, &d| n.saturating_mul(d as usize))
    }
    /// Dimension `i` counted from the front, 1 if the tensor has fewer dimensions.
    pub fn dim(&self, i: usize) -> usize {
        if i < self.rank as usize {
            self.dims[i] as usize
        } else {
            1
        }
    }
    /// The shape as 4-D NHWC, padding leading dimensions with 1 (TFLite's `RuntimeShape::ExtendedShape(4, ..)`).
    pub fn nhwc(&self) -> Option<[usize; 4]> {
        let r = self.rank as usize;
        if r > 4 {
            return None;
        }
        let mut out = [1usize; 4];
        for i in 0..r {
            out[4 - r + i] = self.dims[i] as usize;
        }
        Some(out)
    }
}

/// What the engine needs of one tensor, read from the flatbuffer.
#[derive(Clone, Copy, Debug)]
pub struct TensorInfo<'a> {
    pub index: usize,
    pub dtype: TensorType,
    pub shape: Shape,
    /// Constant data from the model (weights, biases, shapes); `None` for activations.
    pub data: Option<&'a [u8]>,
    /// First quantization scale (0.0 if the tensor is not quantized).
    pub scale: f32,
    /// First zero point.
    pub zero_point: i32,
    /// All scales (per-channel quantization has one per channel along `quantized_dimension`).
    pub scales: Option<Vector<'a>>,
    pub zero_points: Option<Vector<'a>>,
    pub quantized_dimension: i32,
    pub name: &'a [u8],
}

impl TensorInfo<'_> {
    pub fn scale_count(&self) -> usize {
        self.scales.map_or(0, |v| v.len())
    }
    /// Scale of channel `c`, or the per-tensor scale when there is one scale.
    pub fn scale_at(&self, c: usize) -> f32 {
        match self.scales {
            Some(v) if v.len() > 1 => v.f32(c).unwrap_or(0.0),
            _ => self.scale,
        }
    }
    pub fn bytes(&self) -> usize {
        self.shape.elements().saturating_mul(self.dtype.size())
    }
}

/// A parsed model: the root table of a TFLite flatbuffer, with its first subgraph.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    buf: &'a [u8],
    name: ModelName,
    operator_codes: Vector<'a>,
    buffers: Vector<'a>,
    tensors: Vector<'a>,
    operators: Vector<'a>,
    inputs: Vector<'a>,
    outputs: Vector<'a>,
    description: &'a [u8],
    version: u32,
}

/// One operator as stored in the model.
#[derive(Clone, Copy, Debug)]
pub struct OperatorRef<'a> {
    pub index: usize,
    /// `BuiltinOperator` code: the larger of `deprecated_builtin_code` and `builtin_code`, as
    /// TFLite's `GetBuiltinCode` (schema_utils.cc) reads it.
    pub code: i32,
    pub inputs: Vector<'a>,
    pub outputs: Vector<'a>,
    /// `builtin_options` union type and table.
    pub options_type: u8,
    pub options: Option<Table<'a>>,
}

impl<'a> OperatorRef<'a> {
    /// Tensor index of input `i` (`None` for an absent optional input, stored as -1).
    pub fn input(&self, i: usize) -> Option<usize> {
        self.inputs.i32(i).and_then(|t| usize::try_from(t).ok())
    }
    pub fn output(&self, i: usize) -> Option<usize> {
        self.outputs.i32(i).and_then(|t| usize::try_from(t).ok())
    }
}

impl<'a> Model<'a> {
    /// Reads the model header and its first subgraph. `name` is used in error messages only.
    pub fn parse(name: &str, buf: &'a [u8]) -> Result<Self, Error> {
        let model = ModelName::new(name);
        Self::read(buf, model).map_err(|source| Error::Read { model, source })
    }

    fn read(buf: &'a [u8], name: ModelName) -> Result<Self, ReadError> {
        if buf.len() < 8 {
            return Err(ReadError::TooShort { len: buf.len() });
        }
        let ident = [buf[4], buf[5], buf[6], buf[7]];
        if &ident != b"TFL3" {
            return Err(ReadError::BadIdentifier { found: ident });
        }
        let root = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let t = Table::at(buf, root, "Model")?;
        let version = t.u32(0, 0)?;
        if version != 3 {
            return Err(ReadError::UnsupportedVersion { version });
        }
        let operator_codes =
            t.vector(1, 4, "Model.operator_codes")?
                .ok_or(ReadError::MissingField {
                    what: "Model.operator_codes",
                })?;
        let subgraphs = t
            .vector(2, 4, "Model.subgraphs")?
            .ok_or(ReadError::MissingField {
                what: "Model.subgraphs",
            })?;
        if subgraphs.is_empty() {
            return Err(ReadError::MissingField {
                what: "Model.subgraphs[0]",
            });
        }
        let description = t.string(3, "Model.description")?;
        let buffers = t
            .vector(4, 4, "Model.buffers")?
            .ok_or(ReadError::MissingField {
                what: "Model.buffers",
            })?;
        let g = subgraphs.table(0, "SubGraph")?;
        let tensors = g
            .vector(0, 4, "SubGraph.tensors")?
            .ok_or(ReadError::MissingField {
                what: "SubGraph.tensors",
            })?;
        let inputs = g
            .vector(1, 4, "SubGraph.inputs")?
            .ok_or(ReadError::MissingField {
                what: "SubGraph.inputs",
            })?;
        let outputs = g
            .vector(2, 4, "SubGraph.outputs")?
            .ok_or(ReadError::MissingField {
                what: "SubGraph.outputs",
            })?;
        let operators = g
            .vector(3, 4, "SubGraph.operators")?
            .ok_or(ReadError::MissingField {
                what: "SubGraph.operators",
            })?;
        // The engine indexes tensors and operators with u16.
        if tensors.len() > u16::MAX as usize || operators.len() > u16::MAX as usize {
            return Err(ReadError::Invalid {
                what: "SubGraph",
                detail: "more than 65535 tensors or operators",
            });
        }
        Ok(Model {
            buf,
            name,
            operator_codes,
            buffers,
            tensors,
            operators,
            inputs,
            outputs,
            description,
            version,
        })
    }

    pub fn name(&self) -> ModelName {
        self.name
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    pub fn version(&self) -> u32 {
        self.version
    }
    pub fn description(&self) -> &'a [u8] {
        self.description
    }
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
    }
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    fn wrap<T>(&self, r: Result<T, ReadError>) -> Result<T, Error> {
        r.map_err(|source| Error::Read {
            model: self.name,
            source,
        })
    }

    /// Tensor index of subgraph input `i`.
    pub fn input_tensor(&self, i: usize) -> Result<usize, Error> {
        self.io_tensor(self.inputs, i)
    }
    /// Tensor index of subgraph output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<usize, Error> {
        self.io_tensor(self.outputs, i)
    }
    fn io_tensor(&self, v: Vector<'a>, i: usize) -> Result<usize, Error> {
        let t = v.i32(i).ok_or(Error::NoSuchTensor {
            model: self.name,
            index: i,
            count: v.len(),
        })?;
        usize::try_from(t)
            .ok()
            .filter(|&t| t < self.tensors.len())
            .ok_or(Error::InvalidTensor {
                model: self.name,
                tensor: i,
                detail: "a subgraph input/output names no tensor",
            })
    }

    /// Operator `i` with its builtin code resolved.
    pub fn operator(&self, i: usize) -> Result<OperatorRef<'a>, Error> {
        self.wrap(self.read_operator(i))
    }

    fn read_operator(&self, i: usize) -> Result<OperatorRef<'a>, ReadError> {
        let o = self.operators.table(i, "Operator")?;
        let opcode_index = o.u32(0, 0)? as usize;
        let c = self.operator_codes.table(opcode_index, "OperatorCode")?;
        let deprecated = c.i8(0, 0)? as i32;
        let builtin = c.i32(3, 0)?;
        let code = deprecated.max(builtin);
        let inputs = o
            .vector(1, 4, "Operator.inputs")?
            .ok_or(ReadError::MissingField {
                what: "Operator.inputs",
            })?;
        let outputs = o
            .vector(2, 4, "Operator.outputs")?
            .ok_or(ReadError::MissingField {
                what: "Operator.outputs",
            })?;
        let options_type = o.u8(3, 0)?;
        let options = o.table(4, "Operator.builtin_options")?;
        for v in [inputs, outputs] {
            for k in 0..v.len() {
                let t = v.i32(k).unwrap_or(-1);
                if t < -1 || t >= self.tensors.len() as i32 {
                    return Err(ReadError::Invalid {
                        what: "Operator",
                        detail: "a tensor index is out of range",
                    });
                }
            }
        }
        Ok(OperatorRef {
            index: i,
            code,
            inputs,
            outputs,
            options_type,
            options,
        })
    }

    /// Tensor `i` with its constant data, if any.
    pub fn tensor(&self, i: usize) -> Result<TensorInfo<'a>, Error> {
        self.wrap(self.read_tensor(i))
    }

    fn read_tensor(&self, i: usize) -> Result<TensorInfo<'a>, ReadError> {
        let t = self.tensors.table(i, "Tensor")?;
        let mut shape = Shape::default();
        if let Some(v) = t.vector(0, 4, "Tensor.shape")? {
            if v.len() > MAX_RANK {
                return Err(ReadError::Invalid {
                    what: "Tensor.shape",
                    detail: "more than 6 dimensions",
                });
            }
            for k in 0..v.len() {
                let d = v.i32(k).unwrap_or(0);
                // -1 marks a dynamic dimension; the engine runs static shapes, as TFLite Micro does.
                shape.dims[k] = u32::try_from(d).map_err(|_| ReadError::Invalid {
                    what: "Tensor.shape",
                    detail: "a dimension is negative (dynamic shapes are not supported)",
                })?;
            }
            shape.rank = v.len() as u8;
        }
        let dtype = TensorType::from_code(t.i8(1, 0)?);
        let buffer = t.u32(2, 0)? as usize;
        let name = t.string(3, "Tensor.name")?;
        let data = self.read_buffer(buffer)?;
        let (mut scale, mut zero_point, mut scales, mut zero_points, mut quantized_dimension) =
            (0.0, 0, None, None, 0);
        if let Some(q) = t.table(4, "QuantizationParameters")? {
            scales = q.vector(2, 4, "QuantizationParameters.scale")?;
            zero_points = q.vector(3, 8, "QuantizationParameters.zero_point")?;
            quantized_dimension = q.i32(6, 0)?;
            scale = scales.and_then(|v| v.f32(0)).unwrap_or(0.0);
            zero_point = zero_points
                .and_then(|v| v.i64(0))
                .unwrap_or(0)
                .clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        }
        Ok(TensorInfo {
            index: i,
            dtype,
            shape,
            data,
            scale,
            zero_point,
            scales,
            zero_points,
            quantized_dimension,
            name,
        })
    }

    /// Data of buffer `i`: the `data` vector, or the `offset`/`size` range that large models
    /// (> 2 GB converter output) store after the flatbuffer. Buffer 0 and empty buffers give `None`.
    fn read_buffer(&self, i: usize) -> Result<Option<&'a [u8]>, ReadError> {
        if i == 0 {
            return Ok(None);
        }
        let b = self.buffers.table(i, "Buffer")?;
        if let Some(v) = b.vector(0, 1, "Buffer.data")? {
            return Ok(if v.is_empty() { None } else { Some(v.bytes()) });
        }
        let offset = b.u64(1, 0)?;
        let size = b.u64(2, 0)?;
        // schema.fbs: offset 1 with size 0 marks an empty buffer; offset is from the file's start.
        if offset <= 1 || size == 0 {
            return Ok(None);
        }
        let oob = ReadError::OutOfBounds {
            what: "Buffer.offset",
            offset: offset.min(usize::MAX as u64) as usize,
            file_len: self.buf.len(),
        };
        let start = usize::try_from(offset).map_err(|_| oob)?;
        let end = usize::try_from(size)
            .ok()
            .and_then(|s| start.checked_add(s))
            .ok_or(oob)?;
        self.buf.get(start..end).map(Some).ok_or(oob)
    }
}

/// Names of TFLite's `BuiltinOperator` codes, indexed by code (schema.fbs, enum BuiltinOperator).
const BUILTIN_NAMES: [&str; 210] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
];
