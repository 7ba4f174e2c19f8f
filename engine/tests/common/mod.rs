//! Shared helpers of the engine's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The official MLPerf Tiny files (../shared/models/mlperf-tiny beside the repository: on this
/// project's CI and development machines only, so the tests that read them are #[ignore]d).
pub fn official_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models/mlperf-tiny")
}

/// The repository's own MLPerf Tiny models (workloads/mlperf-*: the reference architectures,
/// trained by scripts/), by the official files' stems: `kws_int8` is workloads/mlperf-kws/fiq.tflite.
pub fn repo_model(stem: &str) -> PathBuf {
    let (task, kind) = stem.split_once('_').expect("stem like kws_int8");
    let variant = match kind {
        "int8" => "fiq",
        other => other,
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../workloads")
        .join(format!("mlperf-{task}"))
        .join(format!("{variant}.tflite"))
}

pub fn golden_dir(model: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(model)
}

/// A model's bytes in a 16-byte-aligned buffer, as firmware places it (float weights are read in
/// place and must be aligned).
pub struct AlignedModel {
    words: Vec<u128>,
    len: usize,
}

impl AlignedModel {
    /// The repository's own model for `stem` (see [`repo_model`]).
    pub fn load(stem: &str) -> Self {
        Self::read(&repo_model(stem))
    }
    /// The official MLPerf Tiny file `<stem>.tflite` (see [`official_dir`]).
    pub fn load_official(stem: &str) -> Self {
        Self::read(&official_dir().join(format!("{stem}.tflite")))
    }
    fn read(path: &std::path::Path) -> Self {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self::from_bytes(&bytes)
    }
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedModel {
            words,
            len: bytes.len(),
        }
    }
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u128, u8>(&self.words)[..self.len]
    }
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<u128, u8>(&mut self.words)[..self.len]
    }
}

/// A 16-byte-aligned arena.
pub fn arena(bytes: usize) -> Vec<u128> {
    vec![0u128; bytes.div_ceil(16)]
}

pub fn read_npy<T: npyz::Deserialize>(path: &std::path::Path) -> Vec<T> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    npyz::NpyFile::new(&bytes[..])
        .expect("npy header")
        .into_vec::<T>()
        .expect("npy data")
}

/// Number of golden input/output pairs stored for a model.
pub fn golden_count(model: &str) -> usize {
    (0..)
        .take_while(|k| golden_dir(model).join(format!("in_{k}.npy")).exists())
        .count()
}
