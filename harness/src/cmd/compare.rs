//! `mcubench compare <baseline> <run>`: a regression verdict for a pull request.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::compare::{self, Thresholds};
use crate::results::RunDir;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline: a run directory or results/baseline/.
    pub baseline: PathBuf,
    /// The run to check.
    pub run: PathBuf,
    /// Print JSON instead of Markdown.
    #[arg(long)]
    pub json: bool,
    /// Write the Markdown verdict to this file too (e.g. a CI job summary).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Latency threshold for emulated results, in percent (cycles are deterministic).
    #[arg(long, default_value_t = Thresholds::default().latency_pct_emulated)]
    pub latency_pct: f64,
    /// Latency threshold for silicon results, in percent.
    #[arg(long, default_value_t = Thresholds::default().latency_pct_silicon)]
    pub latency_pct_silicon: f64,
    /// Flash growth that counts as a regression, in bytes.
    #[arg(long, default_value_t = Thresholds::default().flash_bytes)]
    pub flash_bytes: u64,
    /// RAM growth that counts as a regression, in bytes.
    #[arg(long, default_value_t = Thresholds::default().ram_bytes)]
    pub ram_bytes: u64,
    /// Energy threshold, in percent.
    #[arg(long, default_value_t = Thresholds::default().energy_pct)]
    pub energy_pct: f64,
    /// Drop of the on-device metric (accuracy, AUC) that counts as a regression.
    #[arg(long, default_value_t = Thresholds::default().metric_drop)]
    pub metric_drop: f64,
    /// Also exit 1 when the baseline is stale: a baseline job missing from the run, or a
    /// metric that could not be compared (another cycle-model version). For CI, so that a
    /// change that outdates the baseline does not pass unchecked.
    #[arg(long)]
    pub strict: bool,
}

/// Returns the exit code: 0 no regression, 1 regression or failed job (errors are 2, in main).
pub fn run(args: &Args) -> Result<i32> {
    let baseline = RunDir::open(&args.baseline)?;
    let run = RunDir::open(&args.run)?;
    let thresholds = Thresholds {
        latency_pct_emulated: args.latency_pct,
        latency_pct_silicon: args.latency_pct_silicon,
        flash_bytes: args.flash_bytes,
        ram_bytes: args.ram_bytes,
        energy_pct: args.energy_pct,
        metric_drop: args.metric_drop,
    };
    let comparison = compare::compare(&baseline.results()?, &run.results()?, thresholds)?;
    let mut md = compare::markdown(
        &comparison,
        &args.baseline.display().to_string(),
        &args.run.display().to_string(),
    );
    let stale =
        args.strict && (!comparison.missing_jobs.is_empty() || !comparison.not_compared.is_empty());
    if stale {
        md += &format!(
            "\n**Failing (--strict): the baseline is stale** ({} baseline jobs missing from the run, {} metrics not compared). If this change is meant to alter the matrix or the cycle model, update the baseline in this pull request: `scripts/ci/update-baseline` (see results/baseline/README.md).\n",
            comparison.missing_jobs.len(),
            comparison.not_compared.len()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{md}");
    }
    if let Some(path) = &args.output {
        std::fs::write(path, &md).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if stale { 1 } else { comparison.exit_code() })
}
