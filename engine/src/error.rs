//! Typed errors. Every message is a sentence a user can act on; none allocates, so the firmware
//! can report them too.

use core::fmt;

use crate::schema::{builtin_name, TensorType};

/// The flatbuffer itself is malformed or not a model this reader understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("the file is {len} bytes, too short for a TFLite model (a flatbuffer starts with an 8-byte header)")]
    TooShort { len: usize },
    #[error("bad file identifier {found:?} (expected \"TFL3\"): this is not a TFLite flatbuffer")]
    BadIdentifier { found: [u8; 4] },
    #[error("{what}: offset {offset} is out of bounds of the {file_len}-byte file; the file is truncated or corrupted")]
    OutOfBounds {
        what: &'static str,
        offset: usize,
        file_len: usize,
    },
    #[error("{what}: vtable of {vtable_len} bytes is too short or odd (at least 4 bytes, 2 per field); the file is corrupted")]
    VtableTooShort {
        what: &'static str,
        vtable_len: usize,
    },
    #[error("unsupported TFLite schema version {version} (this reader reads version 3); re-export the model with a current converter")]
    UnsupportedVersion { version: u32 },
    #[error("{what} is missing, but the schema requires it")]
    MissingField { what: &'static str },
    #[error("{what}: index {index} is out of range ({len} entries)")]
    IndexOutOfRange {
        what: &'static str,
        index: usize,
        len: usize,
    },
    #[error("{what}: {detail}")]
    Invalid {
        what: &'static str,
        detail: &'static str,
    },
}

/// A model name given by the caller, kept inline (no allocation) for error messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ModelName {
    bytes: [u8; 40],
    len: u8,
}

impl ModelName {
    /// Keeps the first 40 bytes of `name` (cut at a character boundary).
    pub fn new(name: &str) -> Self {
        let mut end = name.len().min(40);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 40];
        bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
        ModelName {
            bytes,
            len: end as u8,
        }
    }
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

impl fmt::Debug for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Types of an operator's tensors (up to 6 shown), for "operator not supported" messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TypeList {
    types: [Option<TensorType>; 6],
    len: u8,
    /// More tensors than shown.
    more: bool,
}

impl TypeList {
    pub fn push(&mut self, t: Option<TensorType>) {
        if (self.len as usize) < self.types.len() {
            self.types[self.len as usize] = t;
            self.len += 1;
        } else {
            self.more = true;
        }
    }
}

impl fmt::Display for TypeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, t) in self.types[..self.len as usize].iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match t {
                Some(t) => write!(f, "{t}")?,
                None => f.write_str("none")?,
            }
        }
        if self.more {
            f.write_str(", ...")?;
        }
        f.write_str(")")
    }
}

/// Everything that can go wrong loading or running a model.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("model \"{model}\": cannot read the flatbuffer: {source}")]
    Read { model: ModelName, source: ReadError },
    #[error(
        "model \"{model}\": operator {op_index} ({}) is not supported with inputs {inputs} and outputs {outputs}: {reason}",
        builtin_name(*op)
    )]
    Unsupported {
        model: ModelName,
        op_index: usize,
        /// `BuiltinOperator` code.
        op: i32,
        inputs: TypeList,
        outputs: TypeList,
        reason: &'static str,
    },
    #[error("model \"{model}\": operator {op_index} ({}): {detail}", builtin_name(*op))]
    InvalidOperator {
        model: ModelName,
        op_index: usize,
        op: i32,
        detail: &'static str,
    },
    #[error("model \"{model}\": tensor {tensor}: {detail}")]
    InvalidTensor {
        model: ModelName,
        tensor: usize,
        detail: &'static str,
    },
    #[error("the arena is {given} bytes but model \"{model}\" needs {needed}; give at least {needed} bytes")]
    ArenaTooSmall {
        model: ModelName,
        needed: usize,
        given: usize,
    },
    #[error(
        "the arena is {given} bytes but model \"{model}\" needs more than {at_least} (its tables \
         alone); Interpreter::arena_bytes on the host gives the exact size"
    )]
    ArenaTooSmallForTables {
        model: ModelName,
        at_least: usize,
        given: usize,
    },
    #[error("model \"{model}\" has no input/output {index} (it has {count})")]
    NoSuchTensor {
        model: ModelName,
        index: usize,
        count: usize,
    },
    #[error("model \"{model}\": tensor {tensor} is {expected}, not {given}")]
    WrongType {
        model: ModelName,
        tensor: usize,
        expected: TensorType,
        given: TensorType,
    },
    #[error(
        "model \"{model}\": tensor {tensor} holds {expected} elements, but {given} were given"
    )]
    WrongLength {
        model: ModelName,
        tensor: usize,
        expected: usize,
        given: usize,
    },
}
