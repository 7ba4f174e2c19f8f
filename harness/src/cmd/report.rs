//! `mcubench report <run-dir>`: paper tables (Markdown, LaTeX, CSV) from a run directory.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::report;
use crate::results::{write_atomically, RunDir};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (results/runs/<id>).
    pub run: PathBuf,
    /// Where to write the report (default: <run>/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let run = RunDir::open(&args.run)?;
    let results = run.results()?;
    if results.is_empty() {
        bail!(
            "{} has no finished job yet; nothing to report",
            run.path.display()
        );
    }
    let out = args.out.clone().unwrap_or_else(|| run.path.join("report"));
    let written = write_report(&out, &results)?;
    println!("{} tables in {}", written, out.display());
    println!("  {}", out.join("report.md").display());
    println!("  {}", out.join("report.tex").display());
    Ok(())
}

/// Writes tables/<id>.{md,tex,csv}, report.md and report.tex; returns the number of tables.
pub fn write_report(out: &Path, results: &[crate::results::JobResult]) -> Result<usize> {
    let tables = report::tables(results);
    let dir = out.join("tables");
    std::fs::create_dir_all(&dir)?;
    let mut md = String::from("# mcubench report\n");
    let mut tex =
        String::from("% mcubench report: \\input{} this file; needs \\usepackage{booktabs}\n");
    for t in &tables {
        write_atomically(
            &dir.join(format!("{}.md", t.id)),
            t.to_markdown().as_bytes(),
        )?;
        write_atomically(&dir.join(format!("{}.tex", t.id)), t.to_latex().as_bytes())?;
        write_atomically(&dir.join(format!("{}.csv", t.id)), &t.to_csv())?;
        md.push('\n');
        md += &t.to_markdown();
        tex.push('\n');
        tex += &t.to_latex();
    }
    write_atomically(&out.join("report.md"), md.as_bytes())?;
    write_atomically(&out.join("report.tex"), tex.as_bytes())?;
    Ok(tables.len())
}
