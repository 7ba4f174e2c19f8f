//! workload.toml validation against real model files.

use std::path::{Path, PathBuf};

use mcubench::results::Variant;
use mcubench::workloads::{sha256_file, Metric, ShapeError, Workload};

/// A workload dir named `kws` in a temp repo root, with the kws workload's fiq model, test inputs
/// and golden copied in.
fn fixture(toml_edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("workloads/kws");
    std::fs::create_dir_all(dir.join("goldens")).unwrap();
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/kws");
    std::fs::copy(real.join("fiq.tflite"), dir.join("fiq.tflite")).unwrap();
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
    assert_eq!(w.variant(Variant::Fiq).unwrap().model_bytes, 18520);
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
    // The shape mismatch is kept as the error's source, typed.
    let (root, dir) = fixture(|t| t.replace("shape = [1, 49, 10, 1]", "shape = [1, 10, 49, 1]"));
    let e = Workload::load(&dir, root.path()).unwrap_err();
    let source = std::error::Error::source(&e).expect("the shape error as the source");
    assert!(
        matches!(
            source.downcast_ref::<ShapeError>(),
            Some(ShapeError::InputShape { .. })
        ),
        "{source:?}"
    );
    let e = error(|t| t.replace("task = ", "tsak = "));
    assert!(e.contains("workload.toml:2:1: unknown field `tsak`"), "{e}");
    let e = error(|t| {
        t + "\n[[variant]]\nname = \"fiq\"\nfile = \"fiq.tflite\"\nsha256 = \"x\"\ngolden = \"goldens/fiq.npy\"\nsource = \"x\"\n"
    });
    assert!(e.contains("variant \"fiq\" is listed twice"), "{e}");
}

/// The fixture with its model moved out to a models directory (`file_root = "models"`).
fn models_fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (root, dir) = fixture(|t| {
        t.replace(
            "file = \"fiq.tflite\"",
            "file = \"kws_int8.tflite\"\nfile_root = \"models\"",
        )
    });
    let models = root.path().join("official");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::rename(dir.join("fiq.tflite"), models.join("kws_int8.tflite")).unwrap();
    (root, dir, models)
}

#[test]
fn a_workload_of_the_models_directory_is_left_out_without_one_and_loads_with_it() {
    let (root, dir, models) = models_fixture();
    let catalog = Workload::catalog(root.path(), None).unwrap();
    assert!(catalog.workloads.is_empty());
    assert_eq!(catalog.need_models_dir.len(), 1);
    assert_eq!(catalog.need_models_dir[0].files, ["kws_int8.tflite"]);
    let note = catalog.left_out_note().unwrap();
    assert!(note.starts_with("not planned: kws (their model files are not in the repository; set `[models] dir` in mcubench.toml or pass --models-dir"), "{note}");
    let e = Workload::load(&dir, root.path()).unwrap_err().to_string();
    assert!(
        e.contains(
            "its models (kws_int8.tflite) are read from the models directory, and none is set"
        ),
        "{e}"
    );

    let catalog = Workload::catalog(root.path(), Some(&models)).unwrap();
    assert!(catalog.need_models_dir.is_empty());
    let w = &catalog.workloads[0];
    assert_eq!(
        w.variant(Variant::Fiq).unwrap().model,
        models.join("kws_int8.tflite")
    );
}

#[test]
fn a_models_directory_file_with_another_hash_or_none_is_refused_by_name() {
    let (root, _dir, models) = models_fixture();
    // Same name, other bytes: not the file the goldens were made from.
    let mut bytes = std::fs::read(models.join("kws_int8.tflite")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(models.join("kws_int8.tflite"), &bytes).unwrap();
    let e = Workload::catalog(root.path(), Some(&models))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("variant \"fiq\", field `sha256`:")
            && e.contains("official/kws_int8.tflite in the models directory has SHA-256")
            && e.contains("so it is refused"),
        "{e}"
    );
    std::fs::remove_file(models.join("kws_int8.tflite")).unwrap();
    let e = Workload::catalog(root.path(), Some(&models))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field `variant.file`:")
            && e.contains("kws_int8.tflite does not exist in the models directory"),
        "{e}"
    );
    assert!(e.contains("put the file there (its SHA-256 must be"), "{e}");
}
