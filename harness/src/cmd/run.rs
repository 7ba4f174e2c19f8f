//! `mcubench run`: the benchmark matrix (boards x workloads x variants) on the virtual boards,
//! or with `--deploy hw` on the real ones. Parses the command line and shows the run; the run
//! itself is `runner`'s.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::deploy::Mode;
use crate::plan::Shard;
use crate::project::Project;
use crate::results::{JobKey, JobStatus, RunDir};
use crate::runner::{self, Event, RunError, Sink};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Boards to run on (globs, comma-separated; default: all of targets.toml).
    #[arg(long, value_delimiter = ',')]
    pub board: Vec<String>,
    /// Workloads to run (globs, comma-separated; default: all of workloads/).
    #[arg(long, value_delimiter = ',')]
    pub workload: Vec<String>,
    /// Variants to run (fp32, drq, fiq, qat; globs, comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    pub variant: Vec<String>,
    /// Print the plan (and what it rejects, with the numbers) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Jobs run in parallel on the virtual boards (default: mcubench.toml [run] jobs, else the
    /// number of cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Warm-up runs before the timed runs (default: mcubench.toml [run] warmup, else 1).
    #[arg(long)]
    pub warmup: Option<u32>,
    /// Timed runs per job (default: mcubench.toml [run] runs, else 3). Emulated cycles are
    /// deterministic, so a few suffice.
    #[arg(long)]
    pub runs: Option<u32>,
    /// Per-job limit of host time, in seconds (default: mcubench.toml, else 900).
    #[arg(long)]
    pub timeout_s: Option<u64>,
    /// Per-job limit of emulated instructions (default: mcubench.toml, else 20 billion).
    #[arg(long)]
    pub max_instructions: Option<u64>,
    /// Retries of a job that failed in a way that may pass (a host-time limit), with backoff
    /// (default: mcubench.toml, else 1).
    #[arg(long)]
    pub retries: Option<u32>,
    /// Continue the run with this id (or directory): skip the jobs already stored, redo the rest.
    /// The run's selection (boards, workloads, variants, shard, runs, models directory) is taken
    /// from its manifest; filters given with it must be the same.
    #[arg(long)]
    pub resume: Option<String>,
    /// The folder of model files that are not in the repository, such as the official MLPerf
    /// Tiny files of the mlcommons-* workloads (default: mcubench.toml [models] dir).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Run only shard i of n of the job list (e.g. 2/4), for CI matrices.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Where run directories go.
    #[arg(long, default_value = "results/runs")]
    pub runs_dir: PathBuf,
    /// Do not write the report (tables and charts) at the end.
    #[arg(long)]
    pub no_report: bool,
    /// Accuracy mode: after the timed runs, stream the workload's test set to the device and
    /// store its metric (top-1, AUC) next to the host reference's (workloads with labels).
    #[arg(long)]
    pub accuracy: bool,
    /// In accuracy mode, stream at most this many test samples (default: the whole test set).
    #[arg(long, value_name = "N")]
    pub accuracy_samples: Option<usize>,
    /// Build the firmware with the engine's portable kernels only (no Cortex-M4 DSP kernels).
    #[arg(long)]
    pub portable_kernels: bool,
    /// Where jobs run: the virtual boards, or the real boards as targets.toml's `deploy` and
    /// `transport` say (docs/HARDWARE.md).
    #[arg(long, value_enum, default_value = "emulator")]
    pub deploy: Mode,
    /// The debug probe to use (serial number, or VID:PID[:serial]), over targets.toml's
    /// deploy.probe; with --deploy hw.
    #[arg(long)]
    pub probe: Option<String>,
}

impl Args {
    /// What the command line asks the runner for.
    fn request(&self) -> runner::Request {
        runner::Request {
            boards: self.board.clone(),
            workloads: self.workload.clone(),
            variants: self.variant.clone(),
            jobs: self.jobs,
            warmup: self.warmup,
            runs: self.runs,
            timeout_s: self.timeout_s,
            max_instructions: self.max_instructions,
            retries: self.retries,
            resume: self.resume.clone(),
            models_dir: self.models_dir.clone(),
            shard: self.shard,
            runs_dir: self.runs_dir.clone(),
            accuracy: self.accuracy,
            accuracy_samples: self.accuracy_samples,
            portable_kernels: self.portable_kernels,
            deploy: self.deploy,
            probe: self.probe.clone(),
        }
    }
}

pub fn run(project: &Project, args: &Args) -> Result<i32> {
    let selected = runner::select(project, &args.request())?;
    if let Some(note) = &selected.left_out_note {
        eprintln!("{note}");
    }
    let interactive = std::io::stderr().is_terminal();
    let planning = ProgressBar::new_spinner().with_message("planning");
    if !interactive {
        planning.set_draw_target(ProgressDrawTarget::hidden());
    }
    let planned = selected.plan(|key| {
        planning.set_message(format!("checking {key}"));
        planning.tick();
    })?;
    planning.finish_and_clear();

    let plan = &planned.plan;
    eprintln!(
        "plan: {} jobs to run, {} rejected",
        plan.jobs.len(),
        plan.rejected.len()
    );
    for r in &plan.rejected {
        eprintln!("  rejected {}: {}", r.key, r.reason);
    }
    if args.dry_run {
        for job in &plan.jobs {
            println!(
                "{}  model {} B, partition {} B, arena {} B",
                job.key,
                job.model_bytes,
                job.partition.len(),
                job.arena_needed
            );
        }
        return Ok(0);
    }
    let capacities = super::report::capacities(planned.targets());

    let mut progress = ProgressSink::new(interactive);
    let started = planned.start(&mut [&mut progress])?;
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        // A second Ctrl-C while the first is being handled exits at once.
        let _ = ctrlc::set_handler(move || {
            if cancel.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let finished = started.run(&cancel, &mut [&mut progress])?;
    progress.finish();

    let run_dir = &finished.run_dir;
    eprintln!(
        "\n{} jobs stored in {} ({} this time, {} failed)",
        finished.results.len(),
        run_dir.path.display(),
        finished.finished_now,
        finished.failed
    );
    if finished.interrupted {
        let id = run_dir
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        eprintln!("interrupted: finished jobs are stored; continue with `cargo run --release -- run --resume {id}`");
        return Ok(130);
    }
    if !args.no_report {
        let out = run_dir.path.join("report");
        let written = super::report::write_report_with(
            &out,
            &finished.results,
            &capacities,
            &Default::default(),
        )?;
        eprintln!(
            "report: {} tables and {} chart files in {}",
            written.tables,
            written.charts.len(),
            out.display()
        );
    }
    eprintln!("results: {}", run_dir.path.join(RunDir::CSV).display());
    Ok(if finished.failed > 0 { 1 } else { 0 })
}

/// One bar for the matrix with its ETA and a line per running job; plain lines when stderr
/// is not a terminal (CI logs). Before the jobs start (firmware builds), plain lines.
struct ProgressSink {
    multi: MultiProgress,
    /// The matrix's bar, from the start of the jobs.
    bar: Option<ProgressBar>,
    running: HashMap<JobKey, ProgressBar>,
    interactive: bool,
}

impl ProgressSink {
    fn new(interactive: bool) -> ProgressSink {
        let multi = MultiProgress::new();
        if !interactive {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        ProgressSink {
            multi,
            bar: None,
            running: HashMap::new(),
            interactive,
        }
    }

    fn start(&mut self, total: u64) {
        let bar = self.multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} jobs  {elapsed_precise} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.bar = Some(bar);
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, text: String) {
        if self.interactive {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }
}

impl Sink for ProgressSink {
    fn event(&mut self, event: &Event) -> Result<(), RunError> {
        match event {
            Event::Resuming {
                path,
                stored,
                to_run,
            } => {
                eprintln!(
                    "resuming {}: {stored} jobs stored, {to_run} to run",
                    path.display()
                );
            }
            Event::BuildingFirmware { board } => eprintln!("building firmware for {board}"),
            Event::Deploying {
                board,
                deploy,
                meter,
            } => {
                eprintln!(
                    "{board}: deploy {deploy}, energy {}",
                    meter.unwrap_or("estimated (no meter)")
                );
            }
            Event::Running { jobs } => self.start(*jobs as u64),
            Event::Started { key, attempt } => {
                let spinner = self.multi.add(ProgressBar::new_spinner());
                spinner.enable_steady_tick(Duration::from_millis(200));
                let again = if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                };
                spinner.set_message(format!("{key}{again}"));
                if let Some(old) = self.running.insert((*key).clone(), spinner) {
                    old.finish_and_clear();
                }
            }
            Event::Finished { result, .. } => {
                if let Some(s) = self.running.remove(&result.key) {
                    s.finish_and_clear();
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                let text = match (&result.status, &result.latency) {
                    (JobStatus::Ok, Some(l)) => format!(
                        "ok      {}  {:.3} ms ({} cycles, emulated)",
                        result.key, l.ms_median, l.cycles_median
                    ),
                    (JobStatus::Ok, None) => format!("ok      {}", result.key),
                    (JobStatus::Failed, _) => format!(
                        "FAILED  {}  {}",
                        result.key,
                        result.failure.as_deref().unwrap_or("")
                    ),
                };
                self.line(text);
            }
            Event::Interrupted { key } => {
                if let Some(s) = self.running.remove(*key) {
                    s.finish_and_clear();
                }
                self.line(format!("stopped {key} (interrupted; redone on resume)"));
            }
            Event::Retrying {
                key,
                attempt,
                reason,
                wait,
            } => {
                self.line(format!(
                    "retry   {key} after attempt {attempt} in {} s: {reason}",
                    wait.as_secs()
                ));
            }
        }
        Ok(())
    }
}
