//! `mcubench infer MODEL.tflite --input IN.npy [--output OUT.npy]`: the engine on the host.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use engine::{Interpreter, Model, TensorType};

use super::model::{model_name, AlignedModel};
use crate::golden::tensor_input;
use crate::npy::Array;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The .tflite file.
    pub model: PathBuf,
    /// The input tensor as .npy (float32 for an int8 model is quantized with the model's input
    /// scale and zero point). A leading batch of rows runs each row.
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the outputs (.npy, one row per input row); else they are printed.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let aligned = AlignedModel::read(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    let model = Model::parse(&model_name(&args.model), aligned.bytes())?;
    let needed = Interpreter::arena_bytes(&model)?.total_bytes() + engine::ARENA_ALIGN;
    let mut arena = vec![0u8; needed];
    let mut interp = Interpreter::new(&model, &mut arena)?;
    let input_info = interp.input_info(0)?;
    let output_info = interp.output_info(0)?;
    let in_bytes = interp.input_bytes_mut(0)?.len();
    let array = Array::read(&args.input)?;
    let per_row_elems = in_bytes / input_info.dtype.size().max(1);
    let total_elems = array.data.len() / array.elem.size();
    if per_row_elems == 0 || total_elems % per_row_elems != 0 {
        bail!(
            "{}: {} elements do not split into inputs of {} elements ({})",
            args.input.display(),
            total_elems,
            per_row_elems,
            tensor_desc(input_info.shape.dims())
        );
    }
    let rows = total_elems / per_row_elems;
    let mut outputs: Vec<u8> = Vec::new();
    for r in 0..rows {
        let elem_bytes = array.elem.size();
        let raw = &array.data[r * per_row_elems * elem_bytes..(r + 1) * per_row_elems * elem_bytes];
        let input = tensor_input(raw, array.elem, &input_info)
            .map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?;
        interp.input_bytes_mut(0)?.copy_from_slice(&input);
        interp.invoke()?;
        outputs.extend_from_slice(interp.output_bytes(0)?);
    }
    let out_dims = output_info.shape.dims();
    match &args.output {
        Some(path) => {
            let per_row: Vec<u64> = out_dims.iter().skip(1).map(|&d| u64::from(d)).collect();
            let mut shape = vec![rows as u64];
            shape.extend(per_row);
            write_npy(path, output_info.dtype, &shape, &outputs)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!(
                "{rows} outputs ({}) written to {}",
                output_info.dtype,
                path.display()
            );
        }
        None => {
            let row_bytes = outputs.len() / rows.max(1);
            for (r, row) in outputs.chunks(row_bytes.max(1)).enumerate() {
                let values: Vec<String> = match output_info.dtype {
                    TensorType::Float32 => row
                        .chunks_exact(4)
                        .map(|c| format!("{}", f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                        .collect(),
                    _ => row.iter().map(|&b| (b as i8).to_string()).collect(),
                };
                println!("{r}: [{}]", values.join(", "));
            }
        }
    }
    Ok(())
}

fn tensor_desc(dims: &[u32]) -> String {
    let d: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", d.join("x"))
}

fn write_npy(path: &std::path::Path, dtype: TensorType, shape: &[u64], bytes: &[u8]) -> Result<()> {
    use npyz::WriterBuilder;
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    match dtype {
        TensorType::Float32 => {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(file)
                .begin_nd()?;
            for c in bytes.chunks_exact(4) {
                w.push(&f32::from_le_bytes([c[0], c[1], c[2], c[3]]))?;
            }
            w.finish()?;
        }
        TensorType::Int8 => {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(file)
                .begin_nd()?;
            for &b in bytes {
                w.push(&(b as i8))?;
            }
            w.finish()?;
        }
        other => bail!("writing {other} outputs is not supported"),
    }
    Ok(())
}
