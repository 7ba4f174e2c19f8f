//! Runs a float32 or hybrid model on one sample, one operator at a time, and writes each
//! operator's output as raw little-endian bytes (`<out_dir>/op<i>.bin`), to compare layer by layer
//! with a reference interpreter's intermediate tensors (e.g. litert's
//! `experimental_preserve_all_tensors=True`).
//!
//! `cargo run -p mcubench-engine --example dump_tensors -- MODEL.tflite INPUTS.npy SAMPLE OUT_DIR`
//! (INPUTS.npy: float32, one row per sample).

use engine::{Interpreter, Model};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_path, inputs_path, sample, out_dir] = &args[..] else {
        eprintln!("usage: dump_tensors MODEL.tflite INPUTS.npy SAMPLE OUT_DIR");
        std::process::exit(2);
    };
    let sample: usize = sample.parse().expect("SAMPLE is a row index");
    let bytes = std::fs::read(model_path).expect("readable model");
    // The reader needs the flatbuffer 16-byte aligned.
    let mut words = vec![0u128; bytes.len().div_ceil(16)];
    let aligned: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    aligned[..bytes.len()].copy_from_slice(&bytes);
    let model = Model::parse(model_path, &aligned[..bytes.len()]).expect("a valid model");

    let npy = std::fs::read(inputs_path).expect("readable inputs");
    let file = npyz::NpyFile::new(&npy[..]).expect("an .npy file");
    let row: usize = file.shape()[1..].iter().map(|&d| d as usize).product();
    let inputs: Vec<f32> = file.into_vec().expect("float32 inputs");
    let input = &inputs[sample * row..(sample + 1) * row];

    let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes() + engine::ARENA_ALIGN;
    let mut arena = vec![0u8; needed];
    let mut interp = Interpreter::new(&model, &mut arena).expect("a supported model");
    interp.set_input_f32(0, input).expect("a float32 input");
    std::fs::create_dir_all(out_dir).expect("an output directory");
    for i in 0..interp.ops().len() {
        interp.invoke_op(i).expect("the operator runs");
        let out = interp.ops()[i].output as usize;
        let path = format!("{out_dir}/op{i}.bin");
        std::fs::write(&path, interp.tensor_bytes(out).unwrap()).expect("writable output");
    }
    println!("{} operator outputs in {out_dir}", interp.ops().len());
}
