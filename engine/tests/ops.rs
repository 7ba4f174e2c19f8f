//! One operator at a time, with the edge cases the MLPerf models do not reach (SAME/VALID padding,
//! strides, dilation, depth multipliers, zero points at the ends of the int8 range, per-tensor and
//! per-channel scales, broadcasting, hybrid asymmetric inputs). Models and reference outputs come
//! from scripts/goldens/make_op_goldens.py: TFLite Micro for int8/float32, desktop TFLite's
//! reference kernels for hybrid cases. int8 must be bit-exact, float32 within 1e-6 relative.

mod common;

use common::{arena, read_npy, AlignedModel};
use engine::{Interpreter, Model, TensorType};
use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ops");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    cases
}

/// Runs one case; returns the worst relative float error (0 for int8 outputs, which must match).
fn run(case: &std::path::Path) -> Result<f32, String> {
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let m = AlignedModel::from_bytes(&std::fs::read(case.join("model.tflite")).unwrap());
    let model = Model::parse(&name, m.bytes()).map_err(|e| e.to_string())?;
    let layout = Interpreter::arena_bytes(&model).map_err(|e| e.to_string())?;
    let mut words = arena(layout.total_bytes());
    let mut interp = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words))
        .map_err(|e| e.to_string())?;
    for i in 0..model.input_count() {
        let path = case.join(format!("in_{i}.npy"));
        match interp.input_info(i).unwrap().dtype {
            TensorType::Int8 => interp.set_input_i8(i, &read_npy::<i8>(&path)),
            _ => interp.set_input_f32(i, &read_npy::<f32>(&path)),
        }
        .map_err(|e| e.to_string())?;
    }
    interp.invoke().map_err(|e| e.to_string())?;
    let expected = case.join("out.npy");
    match interp.output_info(0).unwrap().dtype {
        TensorType::Int8 => {
            let want = read_npy::<i8>(&expected);
            let got = interp.output_i8(0).unwrap();
            if got != &want[..] {
                let diffs = got.iter().zip(&want).filter(|(g, w)| g != w).count();
                return Err(format!(
                    "{diffs} of {} int8 outputs differ: got {got:?}, want {want:?}",
                    want.len()
                ));
            }
            Ok(0.0)
        }
        _ => {
            let want = read_npy::<f32>(&expected);
            let got = interp.output_f32(0).unwrap();
            assert_eq!(got.len(), want.len());
            Ok(got
                .iter()
                .zip(&want)
                .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
                .fold(0.0, f32::max))
        }
    }
}

#[test]
fn every_operator_case_matches_the_reference() {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 30, "op goldens missing");
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        match run(case) {
            Ok(err) if err <= 1e-6 => eprintln!("{name}: ok (worst relative error {err:e})"),
            Ok(err) => failures.push(format!("{name}: worst relative error {err:e} > 1e-6")),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
