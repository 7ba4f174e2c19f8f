//! Memory planning: tensor lifetimes over the operator order, then a greedy placement by size
//! (largest first, each at the lowest offset free during its lifetime), the strategy of TFLite
//! Micro's `GreedyMemoryPlanner` (micro/memory_planner/greedy_memory_planner.cc). It keeps no
//! tables of its own: O(n^3) in the number of buffers, which is small on microcontrollers.

use crate::error::{Error, ModelName};
use crate::interpreter::{Op, ARENA_ALIGN};
use crate::ops::{Place, TensorSlot};
use crate::schema::Model;

const UNPLACED: u32 = u32::MAX;

/// Fills `slots`: constant tensors point into the model, the others get a size and the first and
/// last operator that use them (graph inputs live from the start, outputs to the end).
pub fn lifetimes(model: &Model<'_>, ops: &[Op], slots: &mut [TensorSlot]) -> Result<(), Error> {
    let name = model.name();
    let last_op = ops.len().saturating_sub(1) as u16;
    let base = model.bytes().as_ptr() as usize;
    let touch = |t: usize, op: u16, slots: &mut [TensorSlot]| -> Result<(), Error> {
        let slot = slots.get_mut(t).ok_or(Error::InvalidTensor {
            model: name,
            tensor: t,
            detail: "index out of range",
        })?;
        match slot.place {
            Place::Model { .. } => return Ok(()),
            Place::Arena { .. } => {
                slot.first_op = slot.first_op.min(op);
                slot.last_op = slot.last_op.max(op);
                return Ok(());
            }
            Place::Unused => {}
        }
        let info = model.tensor(t)?;
        let bytes = info.bytes();
        if info.dtype.size() == 0 {
            return Err(Error::InvalidTensor {
                model: name,
                tensor: t,
                detail: "has a type the engine cannot store",
            });
        }
        let len = u32::try_from(bytes).map_err(|_| Error::InvalidTensor {
            model: name,
            tensor: t,
            detail: "is larger than 4 GB",
        })?;
        slot.place = match info.data {
            Some(data) => {
                if data.len() != bytes {
                    return Err(Error::InvalidTensor {
                        model: name,
                        tensor: t,
                        detail: "its buffer's size does not match its shape and type",
                    });
                }
                Place::Model {
                    start: (data.as_ptr() as usize - base) as u32,
                    len,
                }
            }
            None => Place::Arena {
                start: UNPLACED,
                len,
            },
        };
        slot.first_op = op;
        slot.last_op = op;
        Ok(())
    };
    for i in 0..model.input_count() {
        touch(model.input_tensor(i)?, 0, slots)?;
    }
    for (i, _) in ops.iter().enumerate() {
        let op = model.operator(i)?;
        for v in [op.inputs, op.outputs] {
            for k in 0..v.len() {
                if let Some(t) = v.i32(k).and_then(|t| usize::try_from(t).ok()) {
                    touch(t, i as u16, slots)?;
                }
            }
        }
    }
    for i in 0..model.output_count() {
        let t = model.output_tensor(i)?;
        touch(t, last_op, slots)?;
        if let Some(s) = slots.get_mut(t) {
            s.last_op = last_op;
        }
    }
    Ok(())
}

/// A planned buffer: a tensor (`id < slots.len()`) or an operator's scratch.
#[derive(Clone, Copy)]
struct Buffer {
    size: usize,
    first: u16,
    last: u16,
    offset: u32,
}

fn get(slots: &[TensorSlot], ops: &[Op], id: usize) -> Option<Buffer> {
    if id < slots.len() {
        let s = slots[id];
        match s.place {
            Place::Arena { start, len } => Some(Buffer {
                size: len as usize,
                first: s.first_op,
                last: s.last_op,
                offset: start,
            }),
            _ => None,
        }
    } else {
        let i = id - slots.len();
        let op = ops.get(i)?;
        (op.scratch_bytes > 0).then_some(Buffer {
            size: op.scratch_bytes as usize,
            first: i as u16,
            last: i as u16,
            offset: op.scratch_at,
        })
    }
}

fn set(slots: &mut [TensorSlot], ops: &mut [Op], id: usize, offset: u32) {
    if id < slots.len() {
        if let Place::Arena { len, .. } = slots[id].place {
            slots[id].place = Place::Arena { start: offset, len };
        }
    } else if let Some(op) = ops.get_mut(id - slots.len()) {
        op.scratch_at = offset;
    }
}

/// Places every arena tensor and scratch buffer; returns the planned bytes.
pub fn greedy(model: ModelName, slots: &mut [TensorSlot], ops: &mut [Op]) -> Result<usize, Error> {
    let n = slots.len() + ops.len();
    // Saturating: forged sizes near 4 GB must not overflow a 32-bit usize.
    let aligned = |b: &Buffer| b.size.div_ceil(ARENA_ALIGN).saturating_mul(ARENA_ALIGN);
    let mut total = 0usize;
    loop {
        // The largest unplaced buffer (ties: lowest id).
        let mut pick: Option<(usize, Buffer)> = None;
        for id in 0..n {
            if let Some(b) = get(slots, ops, id).filter(|b| b.offset == UNPLACED) {
                if pick.is_none_or(|(_, p)| aligned(&b) > aligned(&p)) {
                    pick = Some((id, b));
                }
            }
        }
        let Some((id, b)) = pick else { break };
        let size = aligned(&b);
        let overlapping =
            |o: &Buffer| o.offset != UNPLACED && o.first <= b.last && b.first <= o.last;
        let fits = |at: usize| {
            (0..n)
                .filter_map(|j| get(slots, ops, j))
                .filter(&overlapping)
                .all(|o| {
                    let (s, e) = (
                        o.offset as usize,
                        (o.offset as usize).saturating_add(aligned(&o)),
                    );
                    size == 0 || s == e || at.saturating_add(size) <= s || e <= at
                })
        };
        // Candidate offsets: the arena start and the end of every overlapping placed buffer.
        let mut best = if fits(0) { Some(0) } else { None };
        for o in (0..n)
            .filter_map(|j| get(slots, ops, j))
            .filter(&overlapping)
        {
            let at = (o.offset as usize).saturating_add(aligned(&o));
            if best.is_none_or(|b| at < b) && fits(at) {
                best = Some(at);
            }
        }
        // The end of the highest overlapping buffer always fits, so `best` is set.
        let at = best.unwrap_or(total);
        let offset = u32::try_from(at).map_err(|_| Error::InvalidTensor {
            model,
            tensor: id,
            detail: "the plan exceeds 4 GB",
        })?;
        set(slots, ops, id, offset);
        total = total.max(at.saturating_add(size));
    }
    Ok(total)
}
