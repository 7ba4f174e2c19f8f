//! `mcubench model MODEL.tflite`: what a model is made of, as the reports count it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use comfy_table::{presets::ASCII_MARKDOWN, Table};
use engine::{Interpreter, Model, TensorInfo};

pub use crate::model_file::AlignedModel;
use crate::size::format_bytes;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The .tflite file.
    pub model: PathBuf,
}

pub fn model_name(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned())
}

fn tensor_cell(t: &TensorInfo) -> String {
    let dims: Vec<String> = t.shape.dims().iter().map(|d| d.to_string()).collect();
    let mut cell = format!("#{} {} [{}]", t.index, t.dtype, dims.join("x"));
    if t.scale != 0.0 {
        if t.scale_count() > 1 {
            cell += &format!(
                " q: {} scales (axis {})",
                t.scale_count(),
                t.quantized_dimension
            );
        } else {
            cell += &format!(" q: {:.6} @ {}", t.scale, t.zero_point);
        }
    }
    if t.data.is_some() {
        cell += " const";
    }
    cell
}

pub fn run(args: &Args) -> Result<()> {
    let aligned = AlignedModel::read(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    let name = model_name(&args.model);
    let model = Model::parse(&name, aligned.bytes())?;
    let summary = engine::summary(&model)?;
    let layout = Interpreter::arena_bytes(&model)?;
    let mut table = Table::new();
    table
        .load_style(ASCII_MARKDOWN)
        .set_header(["#", "operator", "inputs", "outputs", "MACs"]);
    for i in 0..model.operator_count() {
        let op = model.operator(i)?;
        let s = engine::summary::op_summary(&model, i)?;
        let list = |ids: Vec<usize>| -> Result<String> {
            Ok(ids
                .into_iter()
                .map(|t| model.tensor(t).map(|t| tensor_cell(&t)))
                .collect::<Result<Vec<_>, _>>()?
                .join("<br>"))
        };
        let inputs: Vec<usize> = (0..op.inputs.len()).filter_map(|k| op.input(k)).collect();
        let outputs: Vec<usize> = (0..op.outputs.len()).filter_map(|k| op.output(k)).collect();
        table.add_row([
            i.to_string(),
            s.name.to_owned(),
            list(inputs)?,
            list(outputs)?,
            s.macs.to_string(),
        ]);
    }
    println!("{} ({})\n", name, args.model.display());
    println!("{table}\n");
    let io = |i: usize, input: bool| -> Result<String> {
        let t = if input {
            model.input_tensor(i)?
        } else {
            model.output_tensor(i)?
        };
        Ok(tensor_cell(&model.tensor(t)?))
    };
    println!("input:   {}", io(0, true)?);
    println!("output:  {}", io(0, false)?);
    println!(
        "operators: {}, tensors: {}",
        summary.operators, summary.tensors
    );
    println!("MACs: {}", summary.macs);
    println!(
        "weights: {} bytes ({}), file {} bytes",
        summary.weight_bytes,
        format_bytes(summary.weight_bytes as u64),
        aligned.bytes().len()
    );
    println!(
        "arena: {} bytes ({}): {} planned tensors + {} engine tables",
        layout.total_bytes(),
        format_bytes(layout.total_bytes() as u64),
        layout.planned_bytes,
        layout.persistent_bytes()
    );
    Ok(())
}
