//! mcubench.toml: the project's defaults for `mcubench run` (warm-up and timed runs, limits,
//! retries, parallel jobs, accuracy samples) and the models directory. Every value can be
//! overridden on the command line; a missing file or key falls back to the built-in default.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::targets::{Location, TargetsError};

/// The file's name at the top of the checkout.
pub const FILE: &str = "mcubench.toml";

/// `[run]` of mcubench.toml; `None` where the file does not say.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunDefaults {
    /// Warm-up runs before the timed runs.
    pub warmup: Option<u32>,
    /// Timed runs per job.
    pub runs: Option<Spanned<u32>>,
    /// Per-job host-time limit, seconds.
    pub timeout_s: Option<Spanned<u64>>,
    /// Per-job emulated instruction budget.
    pub max_instructions: Option<Spanned<u64>>,
    /// Retries of a job that failed in a way that may pass.
    pub retries: Option<u32>,
    /// Parallel jobs on the virtual boards.
    pub jobs: Option<Spanned<usize>>,
    /// Accuracy mode's sample limit.
    pub accuracy_samples: Option<Spanned<usize>>,
}

/// `[models]` of mcubench.toml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModels {
    /// The folder of model files that are not in the repository (workloads with
    /// `file_root = "models"`), relative to the checkout or absolute.
    dir: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    run: RunDefaults,
    #[serde(default)]
    models: RawModels,
}

/// The whole of mcubench.toml.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub run: RunDefaults,
    /// `[models] dir`, resolved against the checkout; not checked for existence here (the
    /// workloads that read from it say which file is missing).
    pub models_dir: Option<PathBuf>,
}

impl Config {
    /// `<root>/mcubench.toml`, or the defaults when there is no such file.
    pub fn load(root: &Path) -> Result<Config, TargetsError> {
        let path = root.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(root, &path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(TargetsError {
                path,
                location: None,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }

    pub fn parse(root: &Path, path: &Path, text: &str) -> Result<Config, TargetsError> {
        let run = RunDefaults::parse(path, text)?;
        let raw: RawConfig = toml::from_str(text).map_err(|e| TargetsError {
            path: path.to_owned(),
            location: e.span().map(|s| Location::of(text, s)),
            message: e.message().trim_end().to_owned(),
        })?;
        let models_dir = match raw.models.dir {
            Some(d) if d.get_ref().trim().is_empty() => return Err(TargetsError {
                path: path.to_owned(),
                location: Some(Location::of(text, d.span())),
                message:
                    "[models] dir is empty: give the folder of the model files, or remove the key"
                        .into(),
            }),
            Some(d) => Some(root.join(d.get_ref())),
            None => None,
        };
        Ok(Config { run, models_dir })
    }

    /// The models directory a command uses: its `--models-dir` (relative to the checkout `root`)
    /// or else `[models] dir`.
    pub fn models_dir_or(&self, root: &Path, cli: Option<&Path>) -> Option<PathBuf> {
        cli.map(|d| root.join(d))
            .or_else(|| self.models_dir.clone())
    }
}

/// The built-in defaults, when neither the command line nor mcubench.toml says.
pub mod builtin {
    pub const WARMUP: u32 = 1;
    /// Emulated cycles are deterministic, so a few timed runs suffice.
    pub const RUNS: u32 = 3;
    pub const TIMEOUT_S: u64 = 900;
    pub const RETRIES: u32 = 1;
}

impl RunDefaults {
    /// `<root>/mcubench.toml`'s `[run]`, or all `None` when there is no such file.
    pub fn load(root: &Path) -> Result<RunDefaults, TargetsError> {
        Ok(Config::load(root)?.run)
    }

    pub fn parse(path: &Path, text: &str) -> Result<RunDefaults, TargetsError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| TargetsError {
            path: path.to_owned(),
            location: span.map(|s| Location::of(text, s)),
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().trim_end().to_owned()))?;
        let run = raw.run;
        let positive = [
            (
                "runs",
                run.runs.as_ref().map(|v| (*v.get_ref() as u64, v.span())),
            ),
            (
                "timeout_s",
                run.timeout_s.as_ref().map(|v| (*v.get_ref(), v.span())),
            ),
            (
                "max_instructions",
                run.max_instructions
                    .as_ref()
                    .map(|v| (*v.get_ref(), v.span())),
            ),
            (
                "jobs",
                run.jobs.as_ref().map(|v| (*v.get_ref() as u64, v.span())),
            ),
            (
                "accuracy_samples",
                run.accuracy_samples
                    .as_ref()
                    .map(|v| (*v.get_ref() as u64, v.span())),
            ),
        ];
        for (key, value) in positive {
            if let Some((0, span)) = value {
                return Err(error(
                    Some(span),
                    format!("[run] {key} must be at least 1 (remove the key for the default)"),
                ));
            }
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RunDefaults, String> {
        RunDefaults::parse(Path::new("mcubench.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn keys_are_optional_and_read() {
        assert_eq!(parse("").unwrap(), RunDefaults::default());
        let d = parse("[run]\nwarmup = 2\nruns = 5\njobs = 1\n").unwrap();
        assert_eq!(d.warmup, Some(2));
        assert_eq!(d.runs.map(|r| r.into_inner()), Some(5));
        assert_eq!(d.jobs.map(|j| j.into_inner()), Some(1));
    }

    #[test]
    fn mistakes_name_the_file_line_and_key() {
        let e = parse("[run]\nwarmups = 2\n").unwrap_err();
        assert!(e.starts_with("mcubench.toml:2:"), "{e}");
        assert!(e.contains("warmups"), "{e}");
        let e = parse("[run]\nruns = 0\n").unwrap_err();
        assert!(e.starts_with("mcubench.toml:2:8"), "{e}");
        assert!(e.contains("runs must be at least 1"), "{e}");
        let e = parse("[run]\nruns = \"three\"\n").unwrap_err();
        assert!(e.starts_with("mcubench.toml:2:"), "{e}");
        let e = parse("[runn]\n").unwrap_err();
        assert!(e.contains("runn"), "{e}");
    }

    #[test]
    fn the_models_dir_is_resolved_against_the_checkout() {
        let root = Path::new("/checkout");
        let parse = |t: &str| Config::parse(root, Path::new("mcubench.toml"), t);
        assert_eq!(parse("").unwrap().models_dir, None);
        let c = parse("[models]\ndir = \"../official\"\n").unwrap();
        assert_eq!(c.models_dir, Some(PathBuf::from("/checkout/../official")));
        let c = parse("[models]\ndir = \"/data/mlperf\"\n").unwrap();
        assert_eq!(c.models_dir, Some(PathBuf::from("/data/mlperf")));
        let e = parse("[models]\ndir = \"\"\n").unwrap_err().to_string();
        assert!(e.starts_with("mcubench.toml:2:"), "{e}");
        assert!(e.contains("[models] dir is empty"), "{e}");
        let e = parse("[models]\nfolder = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("folder"), "{e}");
        // A command's --models-dir wins, relative to the checkout too.
        let c = parse("[models]\ndir = \"/data/mlperf\"\n").unwrap();
        let cli = |d: &str| c.models_dir_or(root, Some(Path::new(d)));
        assert_eq!(cli("m"), Some(PathBuf::from("/checkout/m")));
        assert_eq!(cli("/abs"), Some(PathBuf::from("/abs")));
        assert_eq!(
            c.models_dir_or(root, None),
            Some(PathBuf::from("/data/mlperf"))
        );
    }
}
