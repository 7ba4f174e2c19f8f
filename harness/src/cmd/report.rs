//! `mcubench report <run-dir>`: paper tables (Markdown, LaTeX, CSV) and charts (SVG, PNG) from
//! a run directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::project::Project;
use crate::report;
use crate::report::charts::{ChartOptions, Scale};
use crate::results::{write_atomically, JobResult, RunDir};
use crate::targets::Targets;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run directory (results/runs/<id>).
    pub run: PathBuf,
    /// Where to write the report (default: <run>/report).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Value axis of the latency charts: log when values span more than 30x (auto), or forced.
    #[arg(long, value_enum, default_value_t = LatencyScale::Auto)]
    pub latency_scale: LatencyScale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LatencyScale {
    Auto,
    Linear,
    Log,
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
    // Board capacities come from the checkout's targets.toml; outside a checkout the report
    // still works, with memory charts that have no capacity lines.
    let capacities = match Project::discover(None) {
        Ok(project) => match project.targets() {
            Ok(targets) => capacities(&targets),
            Err(e) => {
                eprintln!("warning: {e:#}; memory charts are drawn without board capacities");
                BTreeMap::new()
            }
        },
        Err(_) => BTreeMap::new(),
    };
    let out = args.out.clone().unwrap_or_else(|| run.path.join("report"));
    let options = ChartOptions {
        latency_scale: match args.latency_scale {
            LatencyScale::Auto => Scale::Auto,
            LatencyScale::Linear => Scale::Linear,
            LatencyScale::Log => Scale::Log,
        },
    };
    let written = write_report_with(&out, &results, &capacities, &options)?;
    println!(
        "{} tables and {} charts in {}",
        written.tables,
        written.charts.len() / 2,
        out.display()
    );
    println!("  {}", out.join("report.md").display());
    println!("  {}", out.join("report.tex").display());
    if !written.charts.is_empty() {
        println!("  {}", out.join("charts").display());
    }
    Ok(())
}

/// Each board's (flash_bytes, ram_bytes): flash for firmware and model together, and the RAM
/// region that holds data, bss, stack and arena.
pub fn capacities(targets: &Targets) -> BTreeMap<String, (u64, u64)> {
    targets
        .boards
        .iter()
        .map(|b| {
            (
                b.name.clone(),
                (b.flash_total_bytes(), u64::from(b.ram().size)),
            )
        })
        .collect()
}

/// What `write_report` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub tables: usize,
    /// Every chart file (SVG and PNG) under <out>/charts.
    pub charts: Vec<PathBuf>,
}

/// `write_report_with` without board capacities (memory charts get no capacity line) and
/// with default chart options. Returns the number of tables.
pub fn write_report(out: &Path, results: &[JobResult]) -> Result<usize> {
    let written = write_report_with(out, results, &BTreeMap::new(), &ChartOptions::default())?;
    Ok(written.tables)
}

/// Writes tables/<id>.{md,tex,csv}, report.md, report.tex and charts/<name>.{svg,png}.
/// `capacities` maps a board to its (flash_bytes, ram_bytes) for the memory charts (see
/// [`capacities`]).
pub fn write_report_with(
    out: &Path,
    results: &[JobResult],
    capacities: &BTreeMap<String, (u64, u64)>,
    options: &ChartOptions,
) -> Result<Written> {
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
    let charts =
        report::charts::write_charts_with(&out.join("charts"), results, capacities, options)?;
    Ok(Written {
        tables: tables.len(),
        charts,
    })
}
