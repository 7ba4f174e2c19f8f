//! Per-model facts for reports: operators with their MACs, weight bytes, the persistent arena part.

use crate::error::Error;
use crate::interpreter::{resolve, ArenaLayout};
use crate::ops::{self, Constants, OpKind};
use crate::schema::{builtin_name, Model};

/// One operator as reports list it.
#[derive(Clone, Copy, Debug)]
pub struct OpSummary {
    pub index: usize,
    /// `BuiltinOperator` code and name ("CONV_2D").
    pub code: i32,
    pub name: &'static str,
    pub macs: u64,
    pub kind: OpKind,
}

/// Whole-model figures.
#[derive(Clone, Copy, Debug)]
pub struct ModelSummary {
    pub operators: usize,
    pub tensors: usize,
    pub macs: u64,
    /// Bytes of constant tensor data the operators read (each buffer counted once).
    pub weight_bytes: usize,
    /// Persistent arena part (planned bytes need [`Interpreter`](crate::Interpreter)).
    pub layout: ArenaLayout,
}

/// Operator `index` resolved, with its MACs.
pub fn op_summary(model: &Model<'_>, index: usize) -> Result<OpSummary, Error> {
    let mut pool = Constants { buf: None, len: 0 };
    let p = ops::prepare(model, index, &mut pool)?;
    let code = model.operator(index)?.code;
    Ok(OpSummary {
        index,
        code,
        name: builtin_name(code),
        macs: p.kind.macs(),
        kind: p.kind,
    })
}

/// Resolves the whole model and sums its MACs and weights.
pub fn summary(model: &Model<'_>) -> Result<ModelSummary, Error> {
    let layout = resolve(model)?;
    let mut macs = 0u64;
    for i in 0..model.operator_count() {
        macs += op_summary(model, i)?.macs;
    }
    // Constant tensors used by operators; tensors sharing a buffer are counted once.
    let mut weight_bytes = 0usize;
    let n = model.tensor_count();
    for t in 0..n {
        let Some(data) = model.tensor(t)?.data else {
            continue;
        };
        let mut used = false;
        for i in 0..model.operator_count() {
            let op = model.operator(i)?;
            used |= (0..op.inputs.len()).any(|k| op.input(k) == Some(t));
        }
        let mut seen = false;
        for u in 0..t {
            seen |= model
                .tensor(u)?
                .data
                .is_some_and(|d| d.as_ptr() == data.as_ptr());
        }
        if used && !seen {
            weight_bytes += data.len();
        }
    }
    Ok(ModelSummary {
        operators: model.operator_count(),
        tensors: n,
        macs,
        weight_bytes,
        layout,
    })
}
