//! A model from the model partition, run by the engine.

use engine::{Interpreter, Model};

use crate::workload::Workload;

/// One inference of the partition's model on the partition's input.
pub struct ModelWorkload<'m, 'a> {
    interpreter: Interpreter<'m, 'a>,
    input: &'m [u8],
}

/// Why the partition's model cannot run.
pub enum ModelError {
    Engine(engine::Error),
    /// The partition's input does not have the input tensor's size.
    InputSize {
        tensor: usize,
        given: usize,
    },
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModelError::Engine(e) => write!(f, "{e}"),
            ModelError::InputSize { tensor, given } => write!(
                f,
                "the partition's input is {given} bytes but the model's input tensor takes {tensor}"
            ),
        }
    }
}

impl From<engine::Error> for ModelError {
    fn from(e: engine::Error) -> Self {
        ModelError::Engine(e)
    }
}

impl<'m, 'a> ModelWorkload<'m, 'a> {
    /// Plans `model` in `arena`; `input` is the raw bytes of its input tensor.
    pub fn new(
        model: &Model<'m>,
        input: &'m [u8],
        arena: &'a mut [u8],
    ) -> Result<Self, ModelError> {
        let mut workload = ModelWorkload {
            interpreter: Interpreter::new(model, arena)?,
            input,
        };
        // Check the size once, so that `prepare` cannot fail on it later.
        let tensor = workload.interpreter.input_bytes_mut(0)?.len();
        if tensor != input.len() {
            return Err(ModelError::InputSize {
                tensor,
                given: input.len(),
            });
        }
        Ok(workload)
    }

    /// The input tensor's bytes, for inputs the host streams in (accuracy mode).
    pub fn input_mut(&mut self) -> &mut [u8] {
        // `new` checked that input 0 exists.
        self.interpreter.input_bytes_mut(0).unwrap_or(&mut [])
    }

    /// The number of operators.
    pub fn op_count(&self) -> usize {
        self.interpreter.ops().len()
    }

    /// The `BuiltinOperator` code of operator `index` (in execution order).
    pub fn op_code(&self, index: usize) -> u32 {
        self.interpreter
            .ops()
            .get(index)
            .map_or(u32::MAX, |op| op.code as u32)
    }

    /// Runs operator `index` alone: `prepare`, then every operator in order, is one inference.
    pub fn run_op(&mut self, index: usize) -> Result<(), ModelError> {
        Ok(self.interpreter.invoke_op(index)?)
    }

    /// Arena bytes the model's plan uses.
    pub fn arena_bytes(&self) -> usize {
        self.interpreter.layout().total_bytes()
    }
}

impl Workload for ModelWorkload<'_, '_> {
    type Error = ModelError;

    fn name(&self) -> &'static str {
        "model"
    }

    fn prepare(&mut self) -> Result<(), ModelError> {
        self.interpreter
            .input_bytes_mut(0)?
            .copy_from_slice(self.input);
        Ok(())
    }

    // One call for the timed runs and accuracy mode, so that the engine's operator loop is
    // not inlined twice (the Artemis's firmware region has little room left).
    #[inline(never)]
    fn run(&mut self) -> Result<(), ModelError> {
        Ok(self.interpreter.invoke()?)
    }

    fn output(&self) -> &[u8] {
        self.interpreter.output_bytes(0).unwrap_or(&[])
    }
}
