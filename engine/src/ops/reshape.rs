//! RESHAPE: the data is unchanged, only the shape differs; the output is a separate tensor in the
//! arena, so the bytes are copied (as TFLite Micro does when input and output differ).
//! The target shape is the output tensor's (static shapes), whether the model gives it as
//! `ReshapeOptions.new_shape` or as a second input (the MLPerf int8 models carry no options).

use super::{same_elements, Prep, TensorId};
use crate::error::Error;

#[derive(Clone, Copy, Debug)]
pub struct Reshape {
    pub input: TensorId,
}

pub fn prepare(p: &Prep<'_, '_>) -> Result<Reshape, Error> {
    p.expect_options(17)?;
    let input = p.input(0)?;
    let output = p.output(0)?;
    if input.dtype != output.dtype {
        return Err(p.invalid("RESHAPE changes the tensor type"));
    }
    if input.dtype.size() == 0 {
        return Err(p.unsupported("RESHAPE of this tensor type is not supported"));
    }
    same_elements(p, &input, &output)?;
    Ok(Reshape {
        input: p.id(&input),
    })
}

impl Reshape {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let input = ctx.bytes(self.input)?;
        let out = ctx.out_bytes();
        if input.len() != out.len() {
            return Err("RESHAPE sizes differ (engine bug)");
        }
        out.copy_from_slice(input);
        Ok(())
    }
}
