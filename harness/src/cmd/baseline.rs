//! `mcubench baseline update <run>`: make results/baseline/ from a run.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::project::Project;
use crate::results::{write_atomically, RunDir};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Replace results/baseline/ with the manifest and results of a run.
    Update {
        /// The run directory to take the baseline from.
        run: PathBuf,
    },
}

pub fn run(project: &Project, command: &Command) -> Result<()> {
    match command {
        Command::Update { run } => {
            let run = RunDir::open(run)?;
            let results = run.results()?;
            if results.is_empty() {
                bail!(
                    "{} has no finished job; a baseline needs results",
                    run.path.display()
                );
            }
            let failed: Vec<String> = results
                .iter()
                .filter(|r| r.status == crate::results::JobStatus::Failed)
                .map(|r| r.key.to_string())
                .collect();
            if !failed.is_empty() {
                bail!(
                    "the run has failed jobs ({}); a baseline must be a clean run",
                    failed.join(", ")
                );
            }
            let dir = project.root.join("results").join("baseline");
            std::fs::create_dir_all(&dir)?;
            let manifest = std::fs::read(run.path.join(RunDir::MANIFEST))?;
            // Only what compare needs: the manifest and the results.
            let mut jsonl = String::new();
            for r in &results {
                jsonl += &serde_json::to_string(r)?;
                jsonl.push('\n');
            }
            write_atomically(&dir.join(RunDir::MANIFEST), &manifest)?;
            write_atomically(&dir.join(RunDir::RESULTS), jsonl.as_bytes())?;
            println!(
                "results/baseline/ now holds {} jobs from {}",
                results.len(),
                run.path.display()
            );
            Ok(())
        }
    }
}
