#![no_std]
//! mcubench's TFLite inference engine (see DESIGN.md, section Engine): `no_std`, no allocation.
//!
//! * [`Model::parse`] reads a `.tflite` flatbuffer in place, every offset bounds-checked;
//! * [`resolve`] checks every operator has a kernel for its types (the host's check before a
//!   firmware build) and [`summary()`] gives the figures reports use (MACs, weights, arena);
//! * [`Interpreter::new`] resolves the operators once and plans the tensors in a caller-provided
//!   arena; [`Interpreter::invoke`] runs them.
//!
//! Semantics: int8 bit-exact with TFLite Micro's reference kernels, float32 as its reference kernels
//! (summation order kept), hybrid (dynamic-range) models as desktop TFLite's hybrid kernels, which
//! TFLite Micro cannot run.
//!
//! ```no_run
//! # fn run(bytes: &[u8], input: &[i8]) -> Result<(), engine::Error> {
//! let model = engine::Model::parse("kws_int8", bytes)?;
//! let mut arena = [0u8; 64 * 1024];
//! let mut interpreter = engine::Interpreter::new(&model, &mut arena)?;
//! interpreter.set_input_i8(0, input)?;
//! interpreter.invoke()?;
//! let scores = interpreter.output_i8(0)?;
//! # let _ = scores; Ok(()) }
//! ```

#[cfg(target_endian = "big")]
compile_error!("the engine reads little-endian flatbuffers and tensors in place: big-endian targets are not supported");

// Unit tests use std (Vec) for their data; the library never does.
#[cfg(test)]
extern crate std;

pub mod error;
mod fb;
pub mod fixedpoint;
pub mod interpreter;
pub mod ops;
mod plan;
pub mod quant;
pub mod schema;
pub mod summary;

pub use error::{Error, ModelName, ReadError, TypeList};
pub use fb::{Table, Vector};
pub use interpreter::{resolve, ArenaLayout, Interpreter, Op, ARENA_ALIGN};
pub use ops::OpKind;
pub use schema::{builtin_name, Model, OperatorRef, Shape, TensorInfo, TensorType};
pub use summary::{summary, ModelSummary, OpSummary};
