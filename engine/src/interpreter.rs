//! The interpreter: resolves every operator once, plans the tensors into the caller's arena and
//! runs the operators in order.
//!
//! Arena layout (offsets from the arena's first 16-byte-aligned byte):
//! `[operators | tensor slots | per-channel constants | planned tensors and scratch]`, each part
//! 16-byte aligned. The first three are the persistent part (TFLite Micro keeps the same data in its
//! persistent arena); the last is planned by lifetime.

use core::mem::{align_of, size_of};

use crate::error::Error;
use crate::ops::{self, Constants, Ctx, OpKind, Place, TensorId, TensorSlot};
use crate::plan;
use crate::schema::{Model, TensorInfo, TensorType};

/// Alignment of every arena part and planned tensor, as TFLite Micro's `MicroArenaBufferAlignment`.
pub const ARENA_ALIGN: usize = 16;

/// One resolved operator.
#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub kind: OpKind,
    /// `BuiltinOperator` code.
    pub code: i32,
    pub output: TensorId,
    /// Scratch bytes and their planned offset in the arena (`u32::MAX` before planning).
    pub scratch_bytes: u32,
    pub scratch_at: u32,
}

const fn align_up(n: usize) -> usize {
    n.div_ceil(ARENA_ALIGN) * ARENA_ALIGN
}

/// Sizes of the arena's parts for one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaLayout {
    pub ops_bytes: usize,
    pub slots_bytes: usize,
    pub pool_bytes: usize,
    /// Planned activations and scratch (known only after planning).
    pub planned_bytes: usize,
}

impl ArenaLayout {
    pub fn persistent_bytes(&self) -> usize {
        self.ops_bytes + self.slots_bytes + self.pool_bytes
    }
    /// Arena bytes needed from a 16-byte-aligned start (add 15 for an arbitrary start).
    pub fn total_bytes(&self) -> usize {
        self.persistent_bytes().saturating_add(self.planned_bytes)
    }
}

/// Resolves every operator of the model (the check the host runs before building firmware) and
/// returns the persistent part's sizes. An unsupported operator or type is an [`Error::Unsupported`].
pub fn resolve(model: &Model<'_>) -> Result<ArenaLayout, Error> {
    let mut pool = Constants { buf: None, len: 0 };
    for i in 0..model.operator_count() {
        ops::prepare(model, i, &mut pool)?;
    }
    Ok(ArenaLayout {
        ops_bytes: align_up(model.operator_count() * size_of::<Op>()),
        slots_bytes: align_up(model.tensor_count() * size_of::<TensorSlot>()),
        pool_bytes: align_up(pool.len * size_of::<i32>()),
        planned_bytes: 0,
    })
}

/// Takes `n` values of `T`, each set to `init`, from the front of `bytes`, which must be aligned
/// for `T` and large enough (the caller sized it with `size_of::<T>()`).
fn carve<T: Copy>(bytes: &mut [u8], n: usize, init: T) -> Option<&mut [T]> {
    let size = n.checked_mul(size_of::<T>())?;
    if bytes.len() < size || bytes.as_ptr().align_offset(align_of::<T>()) != 0 {
        return None;
    }
    let ptr = bytes.as_mut_ptr().cast::<T>();
    for i in 0..n {
        // SAFETY: i < n and n * size_of::<T>() <= bytes.len(), so the write is inside `bytes`,
        // which is exclusively borrowed; the pointer is aligned for T (checked above).
        unsafe { ptr.add(i).write(init) };
    }
    // SAFETY: the memory is inside `bytes` (exclusively borrowed for the returned lifetime), aligned for T, and all n
    // elements were initialised above. T: Copy, so nothing needs dropping.
    Some(unsafe { core::slice::from_raw_parts_mut(ptr, n) })
}

/// A model ready to run in a caller-provided arena. Nothing is allocated.
pub struct Interpreter<'m, 'a> {
    model: Model<'m>,
    ops: &'a [Op],
    slots: &'a [TensorSlot],
    pool: &'a [i32],
    /// The planned part of the arena.
    arena: &'a mut [u8],
    layout: ArenaLayout,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Resolves the model's operators and plans its tensors in `arena`. Fails with
    /// [`Error::ArenaTooSmall`] naming the size needed when `arena` is too small.
    pub fn new(model: &Model<'m>, arena: &'a mut [u8]) -> Result<Self, Error> {
        let mut layout = resolve(model)?;
        let given = arena.len();
        let pad = arena.as_ptr().align_offset(ARENA_ALIGN).min(given);
        let arena = &mut arena[pad..];
        let too_small = |needed: usize| Error::ArenaTooSmall {
            model: model.name(),
            needed,
            given,
        };
        if arena.len() < layout.persistent_bytes() {
            // Planning needs the tensor table, so only a lower bound is known here.
            return Err(Error::ArenaTooSmallForTables {
                model: model.name(),
                at_least: layout.persistent_bytes() + pad,
                given,
            });
        }
        let (ops_part, rest) = arena.split_at_mut(layout.ops_bytes);
        let (slots_part, rest) = rest.split_at_mut(layout.slots_bytes);
        let (pool_part, planned) = rest.split_at_mut(layout.pool_bytes);
        let placeholder = Op {
            kind: OpKind::Reshape(ops::reshape::Reshape { input: 0 }),
            code: 0,
            output: 0,
            scratch_bytes: 0,
            scratch_at: u32::MAX,
        };
        let internal = |detail| Error::InvalidTensor {
            model: model.name(),
            tensor: 0,
            detail,
        };
        let op_table = carve(ops_part, model.operator_count(), placeholder)
            .ok_or_else(|| internal("cannot lay out the operator table"))?;
        let slots = carve(slots_part, model.tensor_count(), TensorSlot::default())
            .ok_or_else(|| internal("cannot lay out the tensor table"))?;
        let pool_words: &mut [i32] = bytemuck::try_cast_slice_mut(pool_part)
            .map_err(|_| internal("cannot lay out the constant pool"))?;

        let mut pool = Constants {
            buf: Some(pool_words),
            len: 0,
        };
        for (i, slot) in op_table.iter_mut().enumerate() {
            let prepared = ops::prepare(model, i, &mut pool)?;
            let op = model.operator(i)?;
            let output = op.output(0).ok_or(Error::InvalidOperator {
                model: model.name(),
                op_index: i,
                op: op.code,
                detail: "the operator has no output",
            })?;
            *slot = Op {
                kind: prepared.kind,
                code: op.code,
                output: output as TensorId,
                scratch_bytes: u32::try_from(prepared.scratch_bytes)
                    .map_err(|_| internal("scratch buffer too large"))?,
                scratch_at: u32::MAX,
            };
        }
        let pool = pool.buf.unwrap_or_default();

        plan::lifetimes(model, op_table, slots)?;
        layout.planned_bytes = plan::greedy(model.name(), slots, op_table)?;
        if planned.len() < layout.planned_bytes {
            return Err(too_small(layout.total_bytes().saturating_add(pad)));
        }
        let arena = &mut planned[..layout.planned_bytes];
        Ok(Interpreter {
            model: *model,
            ops: op_table,
            slots,
            pool,
            arena,
            layout,
        })
    }

    /// The arena's parts as this model needs them.
    pub fn layout(&self) -> ArenaLayout {
        self.layout
    }
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }
    /// The resolved operators, in execution order.
    pub fn ops(&self) -> &[Op] {
        self.ops
    }
    /// Where each tensor lives and its lifetime.
    pub fn slots(&self) -> &[TensorSlot] {
        self.slots
    }

    /// Runs every operator once.
    pub fn invoke(&mut self) -> Result<(), Error> {
        for (i, op) in self.ops.iter().enumerate() {
            self.run(i, op)?;
        }
        Ok(())
    }

    /// Runs operator `i` alone; the operators before it must have run. Lets a caller read each
    /// operator's output (with [`tensor_bytes`](Self::tensor_bytes)) before a later operator
    /// writes a tensor planned over it.
    pub fn invoke_op(&mut self, i: usize) -> Result<(), Error> {
        let op = *self.ops.get(i).ok_or(Error::InvalidOperator {
            model: self.model.name(),
            op_index: i,
            op: -1,
            detail: "no such operator",
        })?;
        self.run(i, &op)
    }

    fn run(&mut self, i: usize, op: &Op) -> Result<(), Error> {
        let fail = |detail| Error::InvalidOperator {
            model: self.model.name(),
            op_index: i,
            op: op.code,
            detail,
        };
        let Some(Place::Arena { start, len }) = self.slots.get(op.output as usize).map(|s| s.place)
        else {
            return Err(fail("the output is not in the arena"));
        };
        let out = (start as usize, len as usize);
        let scratch = if op.scratch_bytes > 0 {
            (op.scratch_at as usize, op.scratch_bytes as usize)
        } else {
            (out.0 + out.1, 0)
        };
        let (pieces, out, scratch) = split(self.arena, out, scratch)
            .ok_or_else(|| fail("output and scratch overlap (planner bug)"))?;
        let mut ctx = Ctx {
            model: self.model.bytes(),
            slots: self.slots,
            pieces,
            out,
            scratch,
            pool: self.pool,
        };
        op.kind.eval(&mut ctx).map_err(fail)
    }

    fn io(&self, tensor: usize) -> Result<(TensorInfo<'m>, usize, usize), Error> {
        let info = self.model.tensor(tensor)?;
        match self.slots.get(tensor).map(|s| s.place) {
            Some(Place::Arena { start, len }) => Ok((info, start as usize, len as usize)),
            _ => Err(Error::InvalidTensor {
                model: self.model.name(),
                tensor,
                detail: "is not an arena tensor",
            }),
        }
    }

    /// The bytes of any tensor: constant data from the model, or the tensor's arena range. An
    /// intermediate tensor's bytes are those of the last operator that wrote its range: they hold
    /// the tensor only until a tensor planned over it is written (the last operator's inputs, for
    /// example, are intact after [`invoke`](Self::invoke)).
    pub fn tensor_bytes(&self, tensor: usize) -> Result<&[u8], Error> {
        match self.slots.get(tensor).map(|s| s.place) {
            Some(Place::Arena { start, len }) => {
                Ok(&self.arena[start as usize..(start + len) as usize])
            }
            Some(Place::Model { start, len }) => {
                Ok(&self.model.bytes()[start as usize..(start + len) as usize])
            }
            _ => Err(Error::InvalidTensor {
                model: self.model.name(),
                tensor,
                detail: "is not used by any operator",
            }),
        }
    }

    /// Shape, type and quantization of subgraph input `i`.
    pub fn input_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        self.model.tensor(self.model.input_tensor(i)?)
    }
    /// Shape, type and quantization of subgraph output `i`.
    pub fn output_info(&self, i: usize) -> Result<TensorInfo<'m>, Error> {
        self.model.tensor(self.model.output_tensor(i)?)
    }

    /// The bytes of input `i`, to fill before [`invoke`](Self::invoke).
    pub fn input_bytes_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let (_, start, len) = self.io(self.model.input_tensor(i)?)?;
        Ok(&mut self.arena[start..start + len])
    }
    /// The bytes of output `i`, valid after [`invoke`](Self::invoke).
    pub fn output_bytes(&self, i: usize) -> Result<&[u8], Error> {
        let (_, start, len) = self.io(self.model.output_tensor(i)?)?;
        Ok(&self.arena[start..start + len])
    }

    fn typed(&self, tensor: usize, want: TensorType) -> Result<(usize, usize), Error> {
        let (info, start, len) = self.io(tensor)?;
        if info.dtype != want {
            return Err(Error::WrongType {
                model: self.model.name(),
                tensor,
                expected: info.dtype,
                given: want,
            });
        }
        Ok((start, len))
    }

    /// Input `i` as int8 (an error if it is another type).
    pub fn input_i8_mut(&mut self, i: usize) -> Result<&mut [i8], Error> {
        let (start, len) = self.typed(self.model.input_tensor(i)?, TensorType::Int8)?;
        Ok(bytemuck::cast_slice_mut(
            &mut self.arena[start..start + len],
        ))
    }
    /// Input `i` as float32 (an error if it is another type).
    pub fn input_f32_mut(&mut self, i: usize) -> Result<&mut [f32], Error> {
        let (start, len) = self.typed(self.model.input_tensor(i)?, TensorType::Float32)?;
        // Planned offsets are 16-byte aligned within a 16-byte-aligned arena.
        bytemuck::try_cast_slice_mut(&mut self.arena[start..start + len]).map_err(|_| {
            Error::InvalidTensor {
                model: self.model.name(),
                tensor: i,
                detail: "is misaligned (engine bug)",
            }
        })
    }
    /// Output `i` as int8.
    pub fn output_i8(&self, i: usize) -> Result<&[i8], Error> {
        let (start, len) = self.typed(self.model.output_tensor(i)?, TensorType::Int8)?;
        Ok(bytemuck::cast_slice(&self.arena[start..start + len]))
    }
    /// Output `i` as float32.
    pub fn output_f32(&self, i: usize) -> Result<&[f32], Error> {
        let (start, len) = self.typed(self.model.output_tensor(i)?, TensorType::Float32)?;
        bytemuck::try_cast_slice(&self.arena[start..start + len]).map_err(|_| {
            Error::InvalidTensor {
                model: self.model.name(),
                tensor: i,
                detail: "is misaligned (engine bug)",
            }
        })
    }

    /// Copies `data` into input `i`, checking its length.
    pub fn set_input_i8(&mut self, i: usize, data: &[i8]) -> Result<(), Error> {
        let name = self.model.name();
        let tensor = self.model.input_tensor(i)?;
        let dst = self.input_i8_mut(i)?;
        if dst.len() != data.len() {
            return Err(Error::WrongLength {
                model: name,
                tensor,
                expected: dst.len(),
                given: data.len(),
            });
        }
        dst.copy_from_slice(data);
        Ok(())
    }
    /// Copies `data` into input `i`, checking its length.
    pub fn set_input_f32(&mut self, i: usize, data: &[f32]) -> Result<(), Error> {
        let name = self.model.name();
        let tensor = self.model.input_tensor(i)?;
        let dst = self.input_f32_mut(i)?;
        if dst.len() != data.len() {
            return Err(Error::WrongLength {
                model: name,
                tensor,
                expected: dst.len(),
                given: data.len(),
            });
        }
        dst.copy_from_slice(data);
        Ok(())
    }
}

#[cfg(feature = "std")]
impl Interpreter<'_, '_> {
    /// Exact arena bytes `model` needs from a 16-byte-aligned start (host only). Only the
    /// persistent part is allocated: planning reports the rest without touching it, so a model
    /// with forged huge tensors cannot make this allocate much.
    pub fn arena_bytes(model: &Model<'_>) -> Result<ArenaLayout, Error> {
        extern crate std;
        let mut layout = resolve(model)?;
        let mut words = std::vec![0u128; layout.persistent_bytes().div_ceil(16)];
        let arena: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        match Interpreter::new(model, arena) {
            Ok(interpreter) => Ok(interpreter.layout()),
            Err(Error::ArenaTooSmall { needed, .. }) => {
                layout.planned_bytes = needed - layout.persistent_bytes();
                Ok(layout)
            }
            Err(e) => Err(e),
        }
    }
}

/// Splits the planned arena around the output and scratch ranges (which must not overlap):
/// read-only pieces (with their offsets), the output, the scratch.
#[allow(clippy::type_complexity)]
fn split(
    arena: &mut [u8],
    out: (usize, usize),
    scratch: (usize, usize),
) -> Option<([(usize, &[u8]); 3], &mut [u8], &mut [u8])> {
    let (first, second, out_first) = if out.0 <= scratch.0 {
        (out, scratch, true)
    } else {
        (scratch, out, false)
    };
    if first.0 + first.1 > second.0 || second.0 + second.1 > arena.len() {
        return None;
    }
    let (head, rest) = arena.split_at_mut(first.0);
    let (a, rest) = rest.split_at_mut(first.1);
    let (mid, rest) = rest.split_at_mut(second.0 - first.0 - first.1);
    let (b, tail) = rest.split_at_mut(second.1);
    let pieces = [
        (0, &*head),
        (first.0 + first.1, &*mid),
        (second.0 + second.1, &*tail),
    ];
    Some(if out_first {
        (pieces, a, b)
    } else {
        (pieces, b, a)
    })
}

// The tables hold no pointers or usize, so the arena size the host computes is the firmware's: these
// sizes are checked at compile time for every target the engine is built for.
const _: () = assert!(size_of::<Op>() == 124 && size_of::<TensorSlot>() == 16);
