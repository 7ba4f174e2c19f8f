//! Every committed workload's every variant, run by the engine on the host over its whole test
//! set, gives the golden outputs the reference interpreters made (int8 bit-exact with TFLite
//! Micro; float and hybrid within `golden::FLOAT_TOLERANCE`). The official MLPerf Tiny files are
//! read from a models directory that a user's clone does not have: that test is ignored here and
//! run by .ci/run with `--ignored`.

use std::path::{Path, PathBuf};

use engine::{Interpreter, Model};
use mcubench::golden::{check_output, tensor_input};
use mcubench::model_file::AlignedModel;
use mcubench::npy::Array;
use mcubench::workloads::Workload;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs every variant of `w` over its test inputs; one line per sample that differs.
fn mismatches(w: &Workload) -> (usize, Vec<String>) {
    let inputs = Array::read(&w.test_inputs).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for v in &w.variants {
        let file = AlignedModel::read(&v.model).unwrap();
        let model = Model::parse(&w.name, file.bytes()).unwrap();
        let info = |t: Result<usize, engine::Error>| t.and_then(|t| model.tensor(t)).unwrap();
        let (input_info, output_info) = (info(model.input_tensor(0)), info(model.output_tensor(0)));
        let golden = Array::read(&v.golden).unwrap();
        let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes() + engine::ARENA_ALIGN;
        let mut arena = vec![0u8; needed];
        let mut interp = Interpreter::new(&model, &mut arena).unwrap();
        for k in 0..inputs.rows() {
            let input = tensor_input(inputs.row(k).unwrap(), inputs.elem, &input_info).unwrap();
            interp.input_bytes_mut(0).unwrap().copy_from_slice(&input);
            interp.invoke().unwrap();
            let got = interp.output_bytes(0).unwrap();
            if let Err(e) = check_output(got, golden.row(k).unwrap(), output_info.dtype) {
                failures.push(format!("{}/{} sample {k}: {e}", w.name, v.variant));
            }
            checked += 1;
        }
    }
    (checked, failures)
}

fn check_all<'a>(workloads: impl IntoIterator<Item = &'a Workload>) -> usize {
    let mut checked = 0;
    let mut failures = Vec::new();
    for w in workloads {
        let (n, f) = mismatches(w);
        eprintln!(
            "{}: {} variants, {n} samples, {} differ",
            w.name,
            w.variants.len(),
            f.len()
        );
        checked += n;
        failures.extend(f);
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} outputs differ from the goldens:\n{}",
        failures.len(),
        failures.join("\n")
    );
    checked
}

#[test]
fn every_workload_in_the_repository_gives_its_goldens_on_the_host_engine() {
    let catalog = Workload::catalog(&root(), None).unwrap();
    // A user's clone has every workload but those that read the models directory.
    assert!(
        catalog.workloads.len() >= 9,
        "{:?}",
        catalog.workloads.len()
    );
    for w in &catalog.workloads {
        assert!(
            w.variants.iter().all(|v| v.model.starts_with(root())),
            "{} reads a model from outside the repository",
            w.name
        );
    }
    for name in ["mlperf-kws", "mlperf-vww", "mlperf-ic", "mlperf-ad"] {
        let w = catalog.workloads.iter().find(|w| w.name == name);
        let w = w.unwrap_or_else(|| panic!("workload {name} is missing"));
        assert_eq!(w.variants.len(), 4, "{name} has all four variants");
    }
    let checked = check_all(&catalog.workloads);
    assert!(checked > 1000, "{checked}");
}

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny, which a user's clone has not (.ci/run runs it with --ignored)"]
fn the_official_mlperf_tiny_files_give_their_goldens_from_the_models_directory() {
    let models = root().join("../shared/models/mlperf-tiny");
    let catalog = Workload::catalog(&root(), Some(&models)).unwrap();
    assert!(catalog.need_models_dir.is_empty());
    let official: Vec<&str> = catalog
        .workloads
        .iter()
        .filter(|w| w.variants.iter().any(|v| v.model.starts_with(&models)))
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(
        official,
        [
            "mlcommons-ad",
            "mlcommons-ic",
            "mlcommons-kws",
            "mlcommons-vww"
        ]
    );
    let checked = check_all(
        catalog
            .workloads
            .iter()
            .filter(|w| w.name.starts_with("mlcommons-")),
    );
    assert!(checked >= 26, "{checked}");
}

#[test]
fn mcubench_model_counts_the_published_macs_of_every_mlperf_variant() {
    // The MAC counts of the official int8 files (MLPerf Tiny): the project's own models are the
    // same networks, in every variant.
    for (name, macs) in [
        ("mlperf-kws", 2_656_768),
        ("mlperf-vww", 7_489_664),
        ("mlperf-ic", 12_501_632),
        ("mlperf-ad", 264_192),
    ] {
        for variant in ["fp32", "drq", "fiq", "qat"] {
            let path = root()
                .join("workloads")
                .join(name)
                .join(format!("{variant}.tflite"));
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcubench"))
                .arg("model")
                .arg(&path)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.lines().any(|l| l == format!("MACs: {macs}")),
                "{name}/{variant}: expected MACs: {macs} in\n{stdout}"
            );
        }
    }
}
