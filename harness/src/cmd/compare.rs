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
    let md = compare::markdown(
        &comparison,
        &args.baseline.display().to_string(),
        &args.run.display().to_string(),
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
    } else {
        print!("{md}");
    }
    if let Some(path) = &args.output {
        std::fs::write(path, &md).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(comparison.exit_code())
}
