//! `mcubench merge <run-dirs>... -o <dir>`: one run directory from the shards of a matrix.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::merge::{self, Part};
use crate::results::{write_atomically, RunDir};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directories to merge: every shard of one plan (`run --shard i/n`), or runs of
    /// the same workloads and variants on different boards (`run --board X`).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// The merged run directory to write; it must not exist, or be empty.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write into a non-empty --output, replacing its manifest.json, results.jsonl,
    /// results.csv, logs/ and report/.
    #[arg(long)]
    pub force: bool,
}

/// What a run directory holds that merge writes (and, with --force, replaces).
const RUN_FILES: [&str; 5] = [
    RunDir::MANIFEST,
    RunDir::RESULTS,
    RunDir::CSV,
    "logs",
    "report",
];

pub fn run(args: &Args) -> Result<()> {
    // Read and check everything before writing anything.
    let mut parts = Vec::new();
    for path in &args.runs {
        let dir = RunDir::open(path)?;
        parts.push(Part {
            name: path.display().to_string(),
            manifest: dir.manifest()?,
            results: dir.results()?,
        });
        if same_dir(path, &args.output) {
            bail!(
                "--output {} is one of the runs to merge; write the merged run to a new directory",
                args.output.display()
            );
        }
    }
    check_output(&args.output, args.force)?;
    let run_id = args
        .output
        .file_name()
        .map_or_else(|| "merged".to_owned(), |n| n.to_string_lossy().into_owned());
    let merged = merge::merge(&parts, &run_id)?;

    // Logs are named by job and the parts' jobs are disjoint: no two files meet.
    let mut logs = Vec::new();
    for path in &args.runs {
        let dir = path.join("logs");
        if !dir.is_dir() {
            continue;
        }
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            logs.push(entry.path());
        }
    }

    let out = &args.output;
    if args.force {
        for name in RUN_FILES {
            let path = out.join(name);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else if path.exists() {
                std::fs::remove_file(&path)
            } else {
                Ok(())
            };
            removed.with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    std::fs::create_dir_all(out.join("logs"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    let run = RunDir {
        path: out.to_owned(),
    };
    for log in &logs {
        if let Some(name) = log.file_name() {
            let to = out.join("logs").join(name);
            std::fs::copy(log, &to)
                .with_context(|| format!("cannot copy {} to {}", log.display(), to.display()))?;
        }
    }
    let mut jsonl = String::new();
    for r in &merged.results {
        jsonl += &serde_json::to_string(r)?;
        jsonl.push('\n');
    }
    write_atomically(&out.join(RunDir::RESULTS), jsonl.as_bytes())?;
    run.write_csv()?;
    // The manifest last: a directory without one is not a run, so a merge cut short is not
    // mistaken for a complete one.
    run.write_manifest(&merged.manifest)?;

    eprintln!(
        "merged {} runs into {}: {} jobs stored of {} planned",
        parts.len(),
        out.display(),
        merged.results.len(),
        merged.manifest.plan.len()
    );
    if !merged.unfinished.is_empty() {
        let shown: Vec<String> = merged
            .unfinished
            .iter()
            .take(5)
            .map(|k| k.to_string())
            .collect();
        eprintln!(
            "note: {} planned jobs have no result ({}{}); finish the part that planned them with `mcubench run --resume <id>` (same filters) and merge again",
            merged.unfinished.len(),
            shown.join(", "),
            if merged.unfinished.len() > 5 { ", ..." } else { "" }
        );
    }
    eprintln!("tables and charts: `mcubench report {}`", out.display());
    Ok(())
}

/// Refuses to write over anything stored, unless told to.
fn check_output(out: &Path, force: bool) -> Result<()> {
    if out.is_file() {
        bail!("--output {} is a file; give a directory", out.display());
    }
    if !out.is_dir() {
        return Ok(());
    }
    let mut entries =
        std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
    if entries.next().is_some() && !force {
        bail!(
            "--output {} exists and is not empty; merge into a new directory, or pass --force to replace its {}",
            out.display(),
            RUN_FILES.join(", ")
        );
    }
    Ok(())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
