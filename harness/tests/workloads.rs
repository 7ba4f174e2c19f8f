//! workload.toml validation against real model files.

use std::path::{Path, PathBuf};

use mcubench::results::Variant;
use mcubench::workloads::{sha256_file, Metric, Workload};

fn shared_model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/models/mlperf-tiny")
        .join(name)
}

/// A workload dir named `kws` in a temp repo root, with kws_int8.tflite copied in as fiq.
fn fixture(toml_edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("workloads/kws");
    std::fs::create_dir_all(dir.join("goldens")).unwrap();
    std::fs::copy(shared_model("kws_int8.tflite"), dir.join("fiq.tflite")).unwrap();
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/mlperf-kws");
    std::fs::copy(real.join("test_inputs.npy"), dir.join("test_inputs.npy")).unwrap();
    std::fs::copy(real.join("goldens/fiq.npy"), dir.join("goldens/fiq.npy")).unwrap();
    let sha = sha256_file(&dir.join("fiq.tflite")).unwrap();
    let text = format!(
        r#"name = "kws"
task = "keyword spotting"
description = "DS-CNN"
metric = "top1"

[dataset]
name = "random"
license = "n/a"
source = "seeded random inputs"

[input]
shape = [1, 49, 10, 1]
preprocessing = "none"

[test]
inputs = "test_inputs.npy"

[[variant]]
name = "fiq"
file = "fiq.tflite"
sha256 = "{sha}"
golden = "goldens/fiq.npy"
source = "MLPerf Tiny"

[[exclude]]
board = "pico"
reason = "testing"
"#
    );
    std::fs::write(dir.join("workload.toml"), toml_edit(text)).unwrap();
    (root, dir)
}

fn error(edit: impl Fn(String) -> String) -> String {
    let (root, dir) = fixture(edit);
    Workload::load(&dir, root.path()).unwrap_err().to_string()
}

#[test]
fn a_valid_workload_loads() {
    let (root, dir) = fixture(|t| t);
    let w = Workload::load(&dir, root.path()).unwrap();
    assert_eq!(w.metric, Metric::Top1);
    assert_eq!(w.variants.len(), 1);
    assert_eq!(w.variant(Variant::Fiq).unwrap().model_bytes, 53936);
    assert!(w.exclusion("pico", Variant::Fiq).is_some());
    assert!(w.exclusion("nrf52840-dk", Variant::Fiq).is_none());
    assert_eq!(Workload::load_all(root.path()).unwrap().len(), 1);
}

#[test]
fn mistakes_name_the_line_and_field() {
    let e = error(|t| t.replace("sha256 = \"", "sha256 = \"00"));
    assert!(
        e.contains("workload.toml:21:10: variant \"fiq\", field `sha256`"),
        "{e}"
    );
    assert!(e.contains("record the new hash"), "{e}");
    let e = error(|t| t.replace("golden = \"goldens/fiq.npy\"", "golden = \"goldens/x.npy\""));
    assert!(
        e.contains("workload.toml:22:10: field `variant.golden`"),
        "{e}"
    );
    assert!(e.contains("does not exist"), "{e}");
    let e = error(|t| t.replace("name = \"fiq\"", "name = \"int4\""));
    assert!(
        e.contains("workload.toml:19:8: unknown variant `int4`"),
        "{e}"
    );
    let e = error(|t| t.replace("metric = \"top1\"", "metric = \"top5\""));
    assert!(
        e.contains("workload.toml:4:10: unknown variant `top5`"),
        "{e}"
    );
    let e = error(|t| t.replace("name = \"kws\"", "name = \"kws2\""));
    assert!(e.contains("differs from the directory name \"kws\""), "{e}");
    let e = error(|t| t.replace("shape = [1, 49, 10, 1]", "shape = [1, 10, 49, 1]"));
    assert!(e.contains("workload.toml:12:9: variant \"fiq\": input.shape [1, 10, 49, 1] differs from the model's input shape [1, 49, 10, 1]"), "{e}");
    let e = error(|t| t.replace("task = ", "tsak = "));
    assert!(e.contains("workload.toml:2:1: unknown field `tsak`"), "{e}");
    let e = error(|t| {
        t + "\n[[variant]]\nname = \"fiq\"\nfile = \"fiq.tflite\"\nsha256 = \"x\"\ngolden = \"goldens/fiq.npy\"\nsource = \"x\"\n"
    });
    assert!(e.contains("variant \"fiq\" is listed twice"), "{e}");
}
