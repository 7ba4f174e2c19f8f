//! What a job measured, and the run directory that keeps it.
//!
//! A run directory (results/runs/<id>/) holds everything needed to regenerate its tables and
//! charts without re-running: manifest.json, results.jsonl (one line per finished job, appended
//! and fsynced before the next job starts), results.csv and logs/. A job that is cut half-way
//! leaves no line, so `--resume` redoes it; a finished job is never repeated.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The four variants of a model (DESIGN.md, the survey's Table 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Float32 weights and activations.
    Fp32,
    /// Dynamic-range quantization: int8 weights, float activations.
    Drq,
    /// Full-integer post-training quantization: int8 weights, activations, input and output.
    Fiq,
    /// Quantization-aware training, then full-integer conversion.
    Qat,
}

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::Fp32, Variant::Drq, Variant::Fiq, Variant::Qat];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Fp32 => "fp32",
            Variant::Drq => "drq",
            Variant::Fiq => "fiq",
            Variant::Qat => "qat",
        }
    }

    /// As the paper tables print it.
    pub fn label(self) -> &'static str {
        match self {
            Variant::Fp32 => "FP32",
            Variant::Drq => "DRQ",
            Variant::Fiq => "FIQ",
            Variant::Qat => "QAT",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Variant::ALL
            .into_iter()
            .find(|v| v.name() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown variant \"{s}\" (known: fp32, drq, fiq, qat)"))
    }
}

/// A job is identified by (board, workload, variant).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobKey {
    pub board: String,
    pub workload: String,
    pub variant: Variant,
}

impl fmt::Display for JobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.board, self.workload, self.variant)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Ok,
    Failed,
}

/// Latency of the timed runs, from the cycles the firmware counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Cycles of each timed run, in order.
    pub cycles: Vec<u64>,
    pub cycles_min: u64,
    pub cycles_median: f64,
    pub cycles_mean: f64,
    pub cycles_max: u64,
    pub ms_min: f64,
    pub ms_median: f64,
    pub ms_mean: f64,
    pub ms_max: f64,
    /// (max - min) / median, in percent: how repeatable the runs were.
    pub spread_pct: f64,
}

impl Latency {
    /// Statistics of `cycles` at `clock_hz`; `None` for no runs.
    pub fn from_cycles(cycles: &[u64], clock_hz: u64) -> Option<Latency> {
        if cycles.is_empty() || clock_hz == 0 {
            return None;
        }
        let mut sorted = cycles.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2] as f64
        } else {
            (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0
        };
        let mean = sorted.iter().map(|&c| c as f64).sum::<f64>() / n as f64;
        let (min, max) = (sorted[0], sorted[n - 1]);
        let ms = |c: f64| c * 1e3 / clock_hz as f64;
        Some(Latency {
            cycles: cycles.to_vec(),
            cycles_min: min,
            cycles_median: median,
            cycles_mean: mean,
            cycles_max: max,
            ms_min: ms(min as f64),
            ms_median: ms(median),
            ms_mean: ms(mean),
            ms_max: ms(max as f64),
            spread_pct: if median > 0.0 {
                (max - min) as f64 / median * 100.0
            } else {
                0.0
            },
        })
    }
}

/// Flash for a job = firmware image + model partition contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flash {
    /// Code and read-only data of the firmware (text + rodata + data load image).
    pub firmware_bytes: u64,
    /// The model's bytes in the partition.
    pub model_bytes: u64,
    /// Everything written to the partition (model, test input, expected output, header).
    pub partition_bytes: u64,
    pub total_bytes: u64,
}

/// RAM of a job, each part shown separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ram {
    pub data_bytes: u64,
    /// Zero-initialised statics other than the engine arena's reserve.
    pub bss_bytes: u64,
    /// Peak stack found by stack painting.
    pub stack_peak_bytes: u64,
    /// Engine arena bytes the model used.
    pub arena_bytes: u64,
    /// data + bss + stack peak + arena used.
    pub peak_bytes: u64,
}

/// Energy per inference: measured with a meter, or estimated from the energy model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Energy {
    pub energy_uj: f64,
    /// True when computed from targets.toml's energy model rather than measured.
    pub estimated: bool,
    /// How: the meter's identity, or the model's parameters and their source.
    pub method: String,
}

/// On-device quality over the streamed test set, against the host reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accuracy {
    /// "top1" or "auc".
    pub metric: String,
    pub device: f64,
    pub host: f64,
    /// Fraction of samples whose device output equals the host reference's.
    pub agreement: f64,
    pub samples: u32,
}

/// One operator of the firmware's profiling run (`@op`): its cycles, with what the host's
/// engine says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpProfile {
    /// Position in execution order.
    pub index: u32,
    /// The TFLite operator ("CONV_2D").
    pub name: String,
    /// Shape of its output tensor.
    pub output_shape: Vec<u32>,
    pub macs: u64,
    /// Cycles of this operator in one inference (the profiling run, after the timed runs).
    pub cycles: u64,
}

/// One line of results.jsonl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobResult {
    #[serde(flatten)]
    pub key: JobKey,
    pub status: JobStatus,
    /// Why the job failed, in a sentence (None when it did not).
    pub failure: Option<String>,
    /// "emulator", "probe-rs" or "serial".
    pub deploy: String,
    /// Cycle-model version when the latency is emulated; None on silicon.
    pub cycle_model: Option<String>,
    pub clock_hz: u64,
    pub latency: Option<Latency>,
    pub flash: Option<Flash>,
    pub ram: Option<Ram>,
    pub energy: Option<Energy>,
    /// The output matched the golden output.
    pub correct: Option<bool>,
    pub accuracy: Option<Accuracy>,
    /// Cycles of each operator of one inference, in execution order; empty for a failed job,
    /// a firmware that does not profile, or results stored before mcubench recorded them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<OpProfile>,
    pub attempts: u32,
    pub duration_s: f64,
}

impl JobResult {
    pub fn emulated(&self) -> bool {
        self.cycle_model.is_some()
    }
}

/// Host and inputs of a run: enough to tell whether two runs can be compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub mcubench_version: String,
    pub run_id: String,
    pub created_utc: String,
    pub host: String,
    pub git_revision: Option<String>,
    pub git_dirty: Option<bool>,
    pub toolchain: String,
    pub targets_sha256: String,
    /// Firmware hash per board.
    pub firmware: std::collections::BTreeMap<String, String>,
    /// Model file hash per workload/variant.
    pub models: std::collections::BTreeMap<String, String>,
    pub cycle_model: Option<String>,
    /// The planned jobs, in order (resume and merge check against it).
    pub plan: Vec<JobKey>,
    pub warmup_runs: u32,
    pub timed_runs: u32,
    /// How each board was reached, and what measured its energy (real boards only).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub boards: std::collections::BTreeMap<String, BoardSetup>,
    /// The --board/--workload/--variant patterns the plan was made from (None in manifests
    /// written before mcubench recorded them).
    #[serde(default)]
    pub selection: Option<Selection>,
    /// SHA-256 of the whole selection before sharding: the same for every shard of one plan
    /// and for the unsharded run (None in manifests written before mcubench recorded it).
    #[serde(default)]
    pub plan_sha256: Option<String>,
    /// Set when the run is one shard of a larger plan (`run --shard i/n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
    /// The runs a merged run was made from (`mcubench merge`), by run id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
}

/// What `run` was asked to select (globs; empty = everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub boards: Vec<String>,
    pub workloads: Vec<String>,
    pub variants: Vec<String>,
    /// The models directory the run read `file_root = "models"` files from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<String>,
}

/// One shard of a plan: shard `index` of `count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOf {
    pub index: usize,
    pub count: usize,
    /// Where each job of the manifest's `plan` stands in the whole selection (parallel to
    /// `plan`), so that merge restores the unsharded order.
    pub positions: Vec<usize>,
}

/// A board's setup in a run: the back end, the supply voltage, and the energy meter if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSetup {
    pub deploy: String,
    pub voltage_v: f64,
    /// The meter's identity (e.g. "Nordic PPK2 serial C4A1B2...") or none: energy estimated.
    pub meter: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("{path}: no such run directory; runs are under results/runs/ (list them with `ls results/runs`)")]
    MissingRun { path: String },
    #[error("{path}:{line}: not a valid result line ({reason}); the file was edited or corrupted — fix or delete that line, the other {valid} lines are intact")]
    BadLine {
        path: String,
        line: usize,
        reason: String,
        valid: usize,
    },
    #[error("{path}: {reason}")]
    BadManifest { path: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: String) -> impl FnOnce(io::Error) -> ResultsError {
    move |source| ResultsError::Io { context, source }
}

/// A run directory on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub const RESULTS: &'static str = "results.jsonl";
    pub const CSV: &'static str = "results.csv";
    pub const MANIFEST: &'static str = "manifest.json";

    /// Creates a new run directory; refuses to reuse an existing one.
    pub fn create(path: &Path, manifest: &Manifest) -> Result<RunDir, ResultsError> {
        if path.exists() {
            return Err(ResultsError::Io {
                context: format!("cannot create run directory {}", path.display()),
                source: io::Error::new(io::ErrorKind::AlreadyExists, "it exists already"),
            });
        }
        fs::create_dir_all(path.join("logs"))
            .map_err(io_err(format!("cannot create {}", path.display())))?;
        let run = RunDir {
            path: path.to_owned(),
        };
        run.write_manifest(manifest)?;
        Ok(run)
    }

    /// Opens an existing run directory.
    pub fn open(path: &Path) -> Result<RunDir, ResultsError> {
        if !path.join(Self::MANIFEST).is_file() {
            return Err(ResultsError::MissingRun {
                path: path.display().to_string(),
            });
        }
        Ok(RunDir {
            path: path.to_owned(),
        })
    }

    pub fn manifest(&self) -> Result<Manifest, ResultsError> {
        let path = self.path.join(Self::MANIFEST);
        let text =
            fs::read_to_string(&path).map_err(io_err(format!("cannot read {}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| ResultsError::BadManifest {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), ResultsError> {
        let text = serde_json::to_string_pretty(manifest).expect("a manifest always serializes");
        write_atomically(&self.path.join(Self::MANIFEST), text.as_bytes())
    }

    /// Appends one finished job and fsyncs, so that a crash loses nothing already reported.
    pub fn append(&self, result: &JobResult) -> Result<(), ResultsError> {
        let path = self.path.join(Self::RESULTS);
        let mut line = serde_json::to_string(result).expect("a result always serializes");
        line.push('\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(format!("cannot open {}", path.display())))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io_err(format!("cannot append to {}", path.display())))
    }

    /// Every stored result, in the order stored. A torn last line (the harness was killed while
    /// writing it) is not an error: that job did not finish and is redone on resume.
    pub fn results(&self) -> Result<Vec<JobResult>, ResultsError> {
        let path = self.path.join(Self::RESULTS);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(format!("cannot read {}", path.display()))(e)),
        };
        // Every complete record ends with '\n' (it is written with its newline in one write);
        // bytes after the last newline are a record the harness was killed while writing.
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(i) => &bytes[..=i],
            None => &bytes[..0],
        };
        let mut out = Vec::new();
        for (i, line) in complete.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let result =
                serde_json::from_slice::<JobResult>(line).map_err(|e| ResultsError::BadLine {
                    path: path.display().to_string(),
                    line: i + 1,
                    reason: e.to_string(),
                    valid: out.len(),
                })?;
            out.push(result);
        }
        Ok(out)
    }

    /// Rewrites results.jsonl without a torn last line, before appending on resume.
    pub fn repair(&self) -> Result<(), ResultsError> {
        let results = self.results()?;
        let mut text = String::new();
        for r in &results {
            text += &serde_json::to_string(r).expect("a result always serializes");
            text.push('\n');
        }
        let path = self.path.join(Self::RESULTS);
        let current = fs::read(&path).unwrap_or_default();
        if current != text.as_bytes() {
            write_atomically(&path, text.as_bytes())?;
        }
        Ok(())
    }

    /// results.csv from results.jsonl: one row per job, stable column names with units.
    pub fn write_csv(&self) -> Result<(), ResultsError> {
        let results = self.results()?;
        let bytes = csv_bytes(&results);
        write_atomically(&self.path.join(Self::CSV), &bytes)
    }

    pub fn log_path(&self, key: &JobKey) -> PathBuf {
        self.path.join("logs").join(format!(
            "{}__{}__{}.log",
            key.board, key.workload, key.variant
        ))
    }
}

/// Writes through a temporary file and a rename, so that a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let tmp = path.with_extension("partial");
    let mut file =
        File::create(&tmp).map_err(io_err(format!("cannot create {}", tmp.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_err(format!("cannot write {}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(io_err(format!("cannot write {}", path.display())))
}

/// The CSV columns, in order. Names carry their units; they are a stable interface.
pub const CSV_COLUMNS: &[&str] = &[
    "board",
    "workload",
    "variant",
    "status",
    "failure",
    "deploy",
    "emulated",
    "cycle_model",
    "clock_hz",
    "runs",
    "latency_cycles_min",
    "latency_cycles_median",
    "latency_cycles_mean",
    "latency_cycles_max",
    "latency_ms_min",
    "latency_ms_median",
    "latency_ms_mean",
    "latency_ms_max",
    "latency_spread_pct",
    "flash_bytes_firmware",
    "flash_bytes_model",
    "flash_bytes_partition",
    "flash_bytes_total",
    "ram_bytes_data",
    "ram_bytes_bss",
    "ram_bytes_stack_peak",
    "ram_bytes_arena",
    "ram_bytes_peak",
    "energy_uj",
    "energy_estimated",
    "correct",
    "metric",
    "metric_device",
    "metric_host",
    "agreement",
];

fn csv_bytes(results: &[JobResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).expect("writing to memory");
    for r in results {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let l = r.latency.as_ref();
        let f = r.flash.as_ref();
        let m = r.ram.as_ref();
        let e = r.energy.as_ref();
        let a = r.accuracy.as_ref();
        let row: Vec<String> = vec![
            r.key.board.clone(),
            r.key.workload.clone(),
            r.key.variant.to_string(),
            match r.status {
                JobStatus::Ok => "ok".into(),
                JobStatus::Failed => "failed".into(),
            },
            opt(r.failure.clone()),
            r.deploy.clone(),
            r.emulated().to_string(),
            opt(r.cycle_model.clone()),
            r.clock_hz.to_string(),
            opt(l.map(|l| l.cycles.len().to_string())),
            opt(l.map(|l| l.cycles_min.to_string())),
            opt(l.map(|l| l.cycles_median.to_string())),
            opt(l.map(|l| format!("{:.1}", l.cycles_mean))),
            opt(l.map(|l| l.cycles_max.to_string())),
            opt(l.map(|l| format!("{:.6}", l.ms_min))),
            opt(l.map(|l| format!("{:.6}", l.ms_median))),
            opt(l.map(|l| format!("{:.6}", l.ms_mean))),
            opt(l.map(|l| format!("{:.6}", l.ms_max))),
            opt(l.map(|l| format!("{:.3}", l.spread_pct))),
            opt(f.map(|f| f.firmware_bytes.to_string())),
            opt(f.map(|f| f.model_bytes.to_string())),
            opt(f.map(|f| f.partition_bytes.to_string())),
            opt(f.map(|f| f.total_bytes.to_string())),
            opt(m.map(|m| m.data_bytes.to_string())),
            opt(m.map(|m| m.bss_bytes.to_string())),
            opt(m.map(|m| m.stack_peak_bytes.to_string())),
            opt(m.map(|m| m.arena_bytes.to_string())),
            opt(m.map(|m| m.peak_bytes.to_string())),
            opt(e.map(|e| format!("{:.3}", e.energy_uj))),
            opt(e.map(|e| e.estimated.to_string())),
            opt(r.correct.map(|c| c.to_string())),
            opt(a.map(|a| a.metric.clone())),
            opt(a.map(|a| format!("{:.4}", a.device))),
            opt(a.map(|a| format!("{:.4}", a.host))),
            opt(a.map(|a| format!("{:.4}", a.agreement))),
        ];
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
