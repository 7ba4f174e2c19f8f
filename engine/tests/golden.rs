//! The nine MLPerf Tiny models against reference outputs written by scripts/goldens/make_goldens.py:
//! int8 models bit-exact with TensorFlow Lite Micro, float32 models close to TensorFlow Lite Micro,
//! dynamic-range (hybrid) models close to desktop TensorFlow Lite's reference kernels.

mod common;

use common::{arena, golden_count, golden_dir, read_npy, AlignedModel};
use engine::{Interpreter, Model};

/// Tensor index of the last operator's first input when that operator is SOFTMAX.
fn logits_tensor(model: &Model<'_>) -> Option<usize> {
    let last = model.operator(model.operator_count() - 1).unwrap();
    (engine::builtin_name(last.code) == "SOFTMAX").then(|| last.input(0).unwrap())
}

fn run_int8(stem: &str) {
    let model_bytes = AlignedModel::load_official(stem);
    let model = Model::parse(stem, model_bytes.bytes()).unwrap();
    let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes();
    let mut words = arena(needed);
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let mut interp = Interpreter::new(&model, bytes).unwrap();
    let n = golden_count(stem);
    assert!(n >= 2, "{stem}: golden data missing");
    for k in 0..n {
        let input: Vec<i8> = read_npy(&golden_dir(stem).join(format!("in_{k}.npy")));
        let expected: Vec<i8> = read_npy(&golden_dir(stem).join(format!("out_{k}.npy")));
        interp.set_input_i8(0, &input).unwrap();
        interp.invoke().unwrap();
        assert_eq!(
            interp.output_i8(0).unwrap(),
            &expected[..],
            "{stem} input {k}"
        );
        if let Some(t) = logits_tensor(&model) {
            let expected: Vec<i8> = read_npy(&golden_dir(stem).join(format!("logits_{k}.npy")));
            let got: &[i8] = bytemuck::cast_slice(interp.tensor_bytes(t).unwrap());
            assert_eq!(got, &expected[..], "{stem} input {k}: softmax input");
        }
    }
}

/// Largest |engine - reference| / max(|reference|, 1) over all golden inputs, outputs and logits.
fn run_f32(stem: &str) -> f32 {
    let model_bytes = AlignedModel::load_official(stem);
    let model = Model::parse(stem, model_bytes.bytes()).unwrap();
    let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes();
    let mut words = arena(needed);
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let mut interp = Interpreter::new(&model, bytes).unwrap();
    let n = golden_count(stem);
    assert!(n >= 2, "{stem}: golden data missing");
    let mut worst = 0.0f32;
    for k in 0..n {
        let input: Vec<f32> = read_npy(&golden_dir(stem).join(format!("in_{k}.npy")));
        let expected: Vec<f32> = read_npy(&golden_dir(stem).join(format!("out_{k}.npy")));
        interp.set_input_f32(0, &input).unwrap();
        interp.invoke().unwrap();
        let got = interp.output_f32(0).unwrap();
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            worst = worst.max((g - e).abs() / e.abs().max(1.0));
        }
        if let Some(t) = logits_tensor(&model) {
            let expected: Vec<f32> = read_npy(&golden_dir(stem).join(format!("logits_{k}.npy")));
            let got: &[f32] = bytemuck::cast_slice(interp.tensor_bytes(t).unwrap());
            assert_eq!(got.len(), expected.len());
            for (g, e) in got.iter().zip(&expected) {
                worst = worst.max((g - e).abs() / e.abs().max(1.0));
            }
        }
    }
    eprintln!("{stem}: worst relative error {worst:e}");
    worst
}

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn kws_int8_bit_exact() {
    run_int8("kws_int8");
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn vww_int8_bit_exact() {
    run_int8("vww_int8");
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn ic_int8_bit_exact() {
    run_int8("ic_int8");
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn ad_int8_bit_exact() {
    run_int8("ad_int8");
}

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn vww_fp32_close() {
    assert!(run_f32("vww_fp32") <= 1e-6);
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn ic_fp32_close() {
    assert!(run_f32("ic_fp32") <= 1e-6);
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn ad_fp32_close() {
    assert!(run_f32("ad_fp32") <= 1e-6);
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn kws_drq_close() {
    assert!(run_f32("kws_drq") <= 1e-6);
}
#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn ad_drq_close() {
    assert!(run_f32("ad_drq") <= 1e-6);
}
