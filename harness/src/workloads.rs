//! workloads/<name>/workload.toml: a model's variants, its test data and goldens.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::model_file::AlignedModel;
use crate::npy::{Array, NpyError};
use crate::results::Variant;

/// The quality metric of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Top-1 accuracy of a classifier.
    Top1,
    /// Area under the ROC curve of an anomaly score.
    Auc,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Top1 => "top1",
            Metric::Auc => "auc",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataset {
    name: String,
    license: String,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    shape: Spanned<Vec<u32>>,
    preprocessing: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    inputs: Spanned<String>,
    labels: Option<Spanned<String>>,
}

/// What a variant's `file` is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FileRoot {
    /// The workload's directory (the default).
    Workload,
    /// The top of the checkout.
    Repo,
    /// The user's models directory (mcubench.toml `[models] dir` or `--models-dir`): model
    /// files that are not in the repository, such as the official MLPerf Tiny files.
    Models,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: Spanned<Variant>,
    file: Spanned<String>,
    file_root: Option<FileRoot>,
    sha256: Spanned<String>,
    golden: Spanned<String>,
    host_metric: Option<f64>,
    source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclude {
    board: String,
    variant: Option<Variant>,
    reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    name: Spanned<String>,
    task: String,
    description: String,
    metric: Metric,
    dataset: RawDataset,
    input: RawInput,
    test: RawTest,
    variant: Vec<RawVariant>,
    #[serde(default)]
    exclude: Vec<RawExclude>,
    #[serde(default)]
    #[allow(dead_code)]
    extra: Option<toml::Table>,
}

/// One variant's model file and reference data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVariant {
    pub variant: Variant,
    pub model: PathBuf,
    pub sha256: String,
    pub model_bytes: u64,
    pub golden: PathBuf,
    /// The metric on the host (TFLite reference) over the test set, if it applies.
    pub host_metric: Option<f64>,
    pub source: String,
}

/// A board (and optionally one variant) the workload does not run on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    pub board: String,
    pub variant: Option<Variant>,
    pub reason: String,
}

/// A validated workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    pub name: String,
    pub dir: PathBuf,
    pub task: String,
    pub description: String,
    pub metric: Metric,
    pub dataset: String,
    pub dataset_license: String,
    pub dataset_source: String,
    pub input_shape: Vec<u32>,
    pub preprocessing: String,
    pub test_inputs: PathBuf,
    pub test_labels: Option<PathBuf>,
    pub variants: Vec<ModelVariant>,
    pub exclusions: Vec<Exclusion>,
}

impl Workload {
    pub fn variant(&self, v: Variant) -> Option<&ModelVariant> {
        self.variants.iter().find(|m| m.variant == v)
    }

    /// Why (board, variant) is excluded, if it is.
    pub fn exclusion(&self, board: &str, variant: Variant) -> Option<&Exclusion> {
        self.exclusions
            .iter()
            .find(|e| e.board == board && e.variant.is_none_or(|v| v == variant))
    }
}

/// A workload.toml that cannot be used: file, line, column and what to fix, and the error
/// underneath (an io error, the TOML parser's, the model's), if any.
#[derive(Debug)]
pub struct WorkloadError {
    pub path: PathBuf,
    pub line: Option<(usize, usize)>,
    pub message: String,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl WorkloadError {
    fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

/// Why a variant's model, test inputs and goldens do not go together.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("cannot read {}: {source}", .path.display())]
    ReadModel {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", .path.display())]
    Model {
        path: PathBuf,
        #[source]
        source: Box<engine::Error>,
    },
    #[error("input.shape {shape:?} differs from the model's input shape {model_shape:?} ({})", .path.display())]
    InputShape {
        shape: Vec<u32>,
        model_shape: Vec<u32>,
        path: PathBuf,
    },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(
        "the test inputs have {row_elements} elements per row, the model's input {input_elements}"
    )]
    InputRow {
        row_elements: usize,
        input_elements: usize,
    },
    #[error("the golden outputs are {golden_rows} rows of {golden_row_elements} elements, but there are {input_rows} test inputs and the model's output has {output_elements} elements")]
    Golden {
        golden_rows: usize,
        golden_row_elements: usize,
        input_rows: usize,
        output_elements: usize,
    },
}

/// The workloads of a checkout, and those that cannot be loaded without the models directory.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub workloads: Vec<Workload>,
    /// Workloads whose model files live in the user's models directory, when none is set.
    pub need_models_dir: Vec<NeedsModels>,
}

/// A workload that reads its models from the models directory, which is not set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeedsModels {
    pub name: String,
    /// The file names it expects there.
    pub files: Vec<String>,
}

impl Catalog {
    /// One line for users: which workloads were left out and how to include them.
    pub fn left_out_note(&self) -> Option<String> {
        if self.need_models_dir.is_empty() {
            return None;
        }
        let names: Vec<&str> = self
            .need_models_dir
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        Some(format!(
            "not planned: {} (their model files are not in the repository; set `[models] dir` in mcubench.toml or pass --models-dir to the folder that holds them)",
            names.join(", ")
        ))
    }
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.path.display(), self.message)
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for WorkloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The model's input is `shape`; the test inputs and the golden outputs have as many rows
/// and as many elements per row as the model's input and output tensors.
fn check_shapes(
    model_path: &Path,
    shape: &[u32],
    inputs: &Path,
    golden: &Path,
) -> Result<(), ShapeError> {
    let file = AlignedModel::read(model_path).map_err(|source| ShapeError::ReadModel {
        path: model_path.to_owned(),
        source,
    })?;
    let model_error = |source| ShapeError::Model {
        path: model_path.to_owned(),
        source: Box::new(source),
    };
    let model = engine::Model::parse("workload", file.bytes()).map_err(model_error)?;
    let tensor = |input: bool| {
        let t = if input {
            model.input_tensor(0)
        } else {
            model.output_tensor(0)
        };
        t.and_then(|t| model.tensor(t)).map_err(model_error)
    };
    let (input, output) = (tensor(true)?, tensor(false)?);
    if input.shape.dims() != shape {
        return Err(ShapeError::InputShape {
            shape: shape.to_vec(),
            model_shape: input.shape.dims().to_vec(),
            path: model_path.to_owned(),
        });
    }
    let inputs = Array::read(inputs)?;
    let golden = Array::read(golden)?;
    if inputs.row_len() != input.shape.elements() {
        return Err(ShapeError::InputRow {
            row_elements: inputs.row_len(),
            input_elements: input.shape.elements(),
        });
    }
    if golden.rows() != inputs.rows() || golden.row_len() != output.shape.elements() {
        return Err(ShapeError::Golden {
            golden_rows: golden.rows(),
            golden_row_elements: golden.row_len(),
            input_rows: inputs.rows(),
            output_elements: output.shape.elements(),
        });
    }
    Ok(())
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

impl Workload {
    /// Loads and validates `<dir>/workload.toml`; `repo_root` resolves `file_root = "repo"`.
    /// A workload with `file_root = "models"` variants is an error here: see [`Workload::load_in`].
    pub fn load(dir: &Path, repo_root: &Path) -> Result<Workload, WorkloadError> {
        match Workload::load_in(dir, repo_root, None)? {
            Loaded::Ready(w) => Ok(w),
            Loaded::NeedsModels(n) => Err(WorkloadError {
                path: dir.join("workload.toml"),
                line: None,
                message: format!(
                    "its models ({}) are read from the models directory, and none is set: set `[models] dir` in mcubench.toml or pass --models-dir",
                    n.files.join(", ")
                ),
                source: None,
            }),
        }
    }

    /// Loads `<dir>/workload.toml`, resolving `file_root = "models"` against `models_dir`; without
    /// one, such a workload is [`Loaded::NeedsModels`] rather than an error.
    pub fn load_in(
        dir: &Path,
        repo_root: &Path,
        models_dir: Option<&Path>,
    ) -> Result<Loaded, WorkloadError> {
        let path = dir.join("workload.toml");
        let err =
            |span: Option<std::ops::Range<usize>>, text: &str, message: String| WorkloadError {
                path: path.clone(),
                line: span.map(|s| line_col(text, s.start)),
                message,
                source: None,
            };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| err(None, "", format!("cannot read the file: {e}")).caused_by(e))?;
        let raw: RawWorkload = toml::from_str(&text)
            // No source: the message is the parser's, placed at its line and column (the
            // parser's own Display repeats the file's text).
            .map_err(|e| err(e.span(), &text, e.message().trim_end().to_owned()))?;
        let name = raw.name.get_ref().clone();
        let dir_name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        if dir_name.as_deref() != Some(name.as_str()) {
            return Err(err(
                Some(raw.name.span()),
                &text,
                format!(
                    "field `name`: \"{name}\" differs from the directory name \"{}\"; they must match",
                    dir_name.unwrap_or_default()
                ),
            ));
        }
        let existing =
            |file: &Spanned<String>, root: &Path, field: &str| -> Result<PathBuf, WorkloadError> {
                let p = root.join(file.get_ref());
                if p.is_file() {
                    Ok(p)
                } else {
                    Err(err(
                        Some(file.span()),
                        &text,
                        format!("field `{field}`: {} does not exist", p.display()),
                    ))
                }
            };
        let test_inputs = existing(&raw.test.inputs, dir, "test.inputs")?;
        let test_labels = match &raw.test.labels {
            Some(l) => Some(existing(l, dir, "test.labels")?),
            None => None,
        };
        let models_root = match models_dir {
            Some(d) => d,
            None => {
                let files: Vec<String> = raw
                    .variant
                    .iter()
                    .filter(|v| v.file_root == Some(FileRoot::Models))
                    .map(|v| v.file.get_ref().clone())
                    .collect();
                if !files.is_empty() {
                    return Ok(Loaded::NeedsModels(NeedsModels { name, files }));
                }
                repo_root
            }
        };
        let mut variants: Vec<ModelVariant> = Vec::new();
        for v in &raw.variant {
            let variant = *v.name.get_ref();
            if variants.iter().any(|m| m.variant == variant) {
                return Err(err(
                    Some(v.name.span()),
                    &text,
                    format!("variant \"{variant}\" is listed twice"),
                ));
            }
            let root = match v.file_root.unwrap_or(FileRoot::Workload) {
                FileRoot::Workload => dir,
                FileRoot::Repo => repo_root,
                FileRoot::Models => models_root,
            };
            let model = existing(&v.file, root, "variant.file").map_err(|mut e| {
                if v.file_root == Some(FileRoot::Models) {
                    e.message.push_str(&format!(
                        " in the models directory {}; put the file there (its SHA-256 must be {}) or point the models directory at the folder that has it",
                        models_root.display(),
                        v.sha256.get_ref()
                    ));
                }
                e
            })?;
            let actual = sha256_file(&model).map_err(|e| {
                err(
                    Some(v.file.span()),
                    &text,
                    format!("cannot read {}: {e}", model.display()),
                )
                .caused_by(e)
            })?;
            if !actual.eq_ignore_ascii_case(v.sha256.get_ref()) {
                return Err(err(
                    Some(v.sha256.span()),
                    &text,
                    if v.file_root == Some(FileRoot::Models) {
                        format!(
                            "variant \"{variant}\", field `sha256`: {} in the models directory has SHA-256 {actual}, not the {} recorded for this workload; it is not the file the workload's goldens were made from, so it is refused (point the models directory at the original file)",
                            model.display(),
                            v.sha256.get_ref()
                        )
                    } else {
                        format!(
                            "variant \"{variant}\", field `sha256`: {} has SHA-256 {actual}, not the one recorded; if the model was regenerated on purpose, record the new hash",
                            model.display()
                        )
                    },
                ));
            }
            let golden = existing(&v.golden, dir, "variant.golden")?;
            check_shapes(&model, raw.input.shape.get_ref(), &test_inputs, &golden).map_err(
                |m| {
                    err(
                        Some(raw.input.shape.span()),
                        &text,
                        format!("variant \"{variant}\": {m}"),
                    )
                    .caused_by(m)
                },
            )?;
            let model_bytes = std::fs::metadata(&model).map(|m| m.len()).unwrap_or(0);
            variants.push(ModelVariant {
                variant,
                model,
                sha256: actual,
                model_bytes,
                golden,
                host_metric: v.host_metric,
                source: v.source.clone(),
            });
        }
        if variants.is_empty() {
            return Err(err(
                None,
                &text,
                "no [[variant]] tables: a workload needs at least one model".into(),
            ));
        }
        variants.sort_by_key(|m| m.variant);
        Ok(Loaded::Ready(Workload {
            name,
            dir: dir.to_owned(),
            task: raw.task,
            description: raw.description,
            metric: raw.metric,
            dataset: raw.dataset.name,
            dataset_license: raw.dataset.license,
            dataset_source: raw.dataset.source,
            input_shape: raw.input.shape.into_inner(),
            preprocessing: raw.input.preprocessing,
            test_inputs,
            test_labels,
            variants,
            exclusions: raw
                .exclude
                .into_iter()
                .map(|e| Exclusion {
                    board: e.board,
                    variant: e.variant,
                    reason: e.reason,
                })
                .collect(),
        }))
    }

    /// Every workload under `<root>/workloads` that loads without the models directory, sorted
    /// by name (those that need it are left out: see [`Workload::catalog`]).
    pub fn load_all(root: &Path) -> Result<Vec<Workload>, WorkloadError> {
        Ok(Workload::catalog(root, None)?.workloads)
    }

    /// Every workload under `<root>/workloads`, sorted by name, with `file_root = "models"`
    /// resolved against `models_dir`; without one, those workloads are listed as left out.
    pub fn catalog(root: &Path, models_dir: Option<&Path>) -> Result<Catalog, WorkloadError> {
        let mut catalog = Catalog::default();
        for d in Workload::dirs(root)? {
            match Workload::load_in(&d, root, models_dir)? {
                Loaded::Ready(w) => catalog.workloads.push(w),
                Loaded::NeedsModels(n) => catalog.need_models_dir.push(n),
            }
        }
        Ok(catalog)
    }

    fn dirs(root: &Path) -> Result<Vec<PathBuf>, WorkloadError> {
        let dir = root.join("workloads");
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            WorkloadError {
                path: dir.clone(),
                line: None,
                message: format!("cannot list workloads: {e}"),
                source: None,
            }
            .caused_by(e)
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("workload.toml").is_file())
            .collect();
        dirs.sort();
        Ok(dirs)
    }
}

/// What [`Workload::load_in`] found.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    Ready(Workload),
    /// The workload reads its models from the models directory, which is not set.
    NeedsModels(NeedsModels),
}
