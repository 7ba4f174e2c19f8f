//! `mcubench run`: the benchmark matrix (boards x workloads x variants) on the virtual boards,
//! or with `--deploy hw` on the real ones.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::config::{builtin, Config, RunDefaults};
use crate::deploy::emulator::{Limits, CYCLE_MODEL_VERSION};
use crate::deploy::{deployer_for, Mode};
use crate::job::RunSettings;
use crate::plan::{self, Filter, Shard};
use crate::project::Project;
use crate::results::{BoardSetup, JobKey, JobStatus, Manifest, RunDir, Selection, ShardOf};
use crate::runner::{self, BoardFirmware, Event, Sink};
use crate::workloads::{sha256_file, Catalog, Workload};
use crate::{firmware, size};

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
    /// The command line, with what it leaves out taken from mcubench.toml's `[run]`.
    fn with_defaults(&self, d: &RunDefaults) -> Args {
        let mut a = self.clone();
        a.warmup = a.warmup.or(d.warmup);
        a.runs = a.runs.or(d.runs.as_ref().map(|v| *v.get_ref()));
        a.timeout_s = a.timeout_s.or(d.timeout_s.as_ref().map(|v| *v.get_ref()));
        a.max_instructions = a
            .max_instructions
            .or(d.max_instructions.as_ref().map(|v| *v.get_ref()));
        a.retries = a.retries.or(d.retries);
        a.jobs = a.jobs.or(d.jobs.as_ref().map(|v| *v.get_ref()));
        // --accuracy-samples alone turns accuracy mode on; the file's limit does not.
        a.accuracy |= a.accuracy_samples.is_some();
        a.accuracy_samples = a
            .accuracy_samples
            .or(d.accuracy_samples.as_ref().map(|v| *v.get_ref()));
        a
    }
}

pub fn run(project: &Project, args: &Args) -> Result<i32> {
    let targets = project.targets()?;
    let config = Config::load(&project.root)?;
    // A resumed run takes its selection from its manifest, before any default applies.
    let resumed = match &args.resume {
        Some(id) => Some(open_run(project, &args.runs_dir, id)?),
        None => None,
    };
    let mut args = args.clone();
    if let Some(run) = &resumed {
        take_selection(&mut args, &run.manifest()?, &run.path)?;
    }
    let args = &args.with_defaults(&config.run);
    let models_dir = config.models_dir_or(&project.root, args.models_dir.as_deref());
    let catalog = Workload::catalog(&project.root, models_dir.as_deref())?;
    check_left_out(&catalog, &args.workload)?;
    if let Some(note) = catalog.left_out_note() {
        eprintln!("{note}");
    }
    let workloads = catalog.workloads;
    if workloads.is_empty() {
        bail!(
            "no workloads under {}: add workloads/<name>/workload.toml",
            project.root.join("workloads").display()
        );
    }
    let settings = RunSettings {
        warmup_runs: args.warmup.unwrap_or(builtin::WARMUP),
        timed_runs: args.runs.unwrap_or(builtin::RUNS).max(1),
        sample: 0,
        accuracy: args
            .accuracy
            .then(|| args.accuracy_samples.unwrap_or(usize::MAX)),
        limits: Limits {
            max_instructions: args
                .max_instructions
                .unwrap_or(Limits::default().max_instructions),
            timeout: Duration::from_secs(args.timeout_s.unwrap_or(builtin::TIMEOUT_S)),
        },
    };
    let filter = Filter {
        boards: args.board.clone(),
        workloads: args.workload.clone(),
        variants: args.variant.clone(),
    };
    let interactive = std::io::stderr().is_terminal();
    let planning = ProgressBar::new_spinner().with_message("planning");
    if !interactive {
        planning.set_draw_target(ProgressDrawTarget::hidden());
    }
    let plan = plan::plan(
        &targets,
        &workloads,
        &filter,
        args.shard,
        &settings,
        |key| {
            planning.set_message(format!("checking {key}"));
            planning.tick();
        },
    )?;
    planning.finish_and_clear();

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
    if plan.jobs.is_empty() {
        bail!("nothing to run: every selected job was rejected (see above)");
    }

    // The run directory: a new one, or the one to resume.
    let keys: Vec<JobKey> = plan.jobs.iter().map(|j| j.key.clone()).collect();
    let (run_dir, done) = match resumed {
        Some(run) => resume(run, &keys)?,
        None => {
            let mut manifest = manifest(
                project,
                &keys,
                &plan,
                &workloads,
                &settings,
                args,
                models_dir.as_deref(),
            )?;
            // Two runs of one plan started within the same second get the same id: the later
            // one takes the next free suffix (-2, -3 ...) rather than failing or reusing it.
            let runs = project.root.join(&args.runs_dir);
            let base = manifest.run_id.clone();
            let mut n = 1;
            while runs.join(&manifest.run_id).exists() {
                n += 1;
                manifest.run_id = format!("{base}-{n}");
            }
            let path = runs.join(&manifest.run_id);
            (RunDir::create(&path, &manifest)?, Vec::new())
        }
    };
    let todo: Vec<_> = plan
        .jobs
        .into_iter()
        .filter(|j| !done.contains(&j.key))
        .collect();
    if !done.is_empty() {
        eprintln!(
            "resuming {}: {} jobs stored, {} to run",
            run_dir.path.display(),
            done.len(),
            todo.len()
        );
    }

    // Firmware once per board, then the jobs.
    let mut firmware_of = HashMap::new();
    let mut firmware_hashes = BTreeMap::new();
    let mut setups = BTreeMap::new();
    for board in &targets.boards {
        if !todo.iter().any(|j| j.key.board == board.name) {
            continue;
        }
        eprintln!("building firmware for {}", board.name);
        let options = firmware::Options {
            portable_kernels: args.portable_kernels,
            ..Default::default()
        };
        let fw = firmware::build_with(project, board, options)?;
        let elf =
            std::fs::read(&fw.elf).with_context(|| format!("cannot read {}", fw.elf.display()))?;
        let size = size::measure(&fw.elf, board)?;
        firmware_hashes.insert(board.name.clone(), fw.hash.clone());
        let deployer =
            deployer_for(board, args.deploy, args.probe.as_deref()).map_err(anyhow::Error::msg)?;
        if args.deploy == Mode::Hw {
            eprintln!(
                "{}: deploy {}, energy {}",
                board.name,
                deployer.label(),
                deployer
                    .meter()
                    .unwrap_or_else(|| "estimated (no meter)".into())
            );
        }
        setups.insert(
            board.name.clone(),
            BoardSetup {
                deploy: deployer.label(),
                voltage_v: board.energy.voltage_v,
                meter: deployer.meter(),
            },
        );
        firmware_of.insert(
            board.name.clone(),
            BoardFirmware {
                board,
                deployer,
                elf,
                size,
            },
        );
    }
    if args.resume.is_none() {
        let mut m = run_dir.manifest()?;
        m.firmware = firmware_hashes;
        if args.deploy == Mode::Hw {
            m.boards = setups;
        }
        run_dir.write_manifest(&m)?;
    }

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
    let workers = args.jobs.unwrap_or_else(|| match args.deploy {
        Mode::Emulator => std::thread::available_parallelism().map_or(1, |n| n.get()),
        // A real board runs one job at a time: one worker per board.
        Mode::Hw => firmware_of.len(),
    });
    let total = todo.len() as u64;
    let mut store = StoreSink { run: &run_dir };
    let mut progress = ProgressSink::new(total, interactive);
    let results = runner::run(
        todo,
        &firmware_of,
        &settings,
        workers,
        args.retries.unwrap_or(builtin::RETRIES),
        &cancel,
        &mut [&mut store, &mut progress],
    )?;
    progress.finish();

    run_dir.write_csv()?;
    let all = run_dir.results()?;
    let failed = all.iter().filter(|r| r.status == JobStatus::Failed).count();
    let interrupted = cancel.load(Ordering::Relaxed);
    eprintln!(
        "\n{} jobs stored in {} ({} this time, {} failed)",
        all.len(),
        run_dir.path.display(),
        results.len(),
        failed
    );
    if interrupted {
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
            &all,
            &super::report::capacities(&targets),
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
    Ok(if failed > 0 { 1 } else { 0 })
}

/// The run directory `id` names (a run id under `runs_dir`, or a directory).
fn open_run(project: &Project, runs_dir: &std::path::Path, id: &str) -> Result<RunDir> {
    let direct = PathBuf::from(id);
    let path = if direct.join(RunDir::MANIFEST).is_file() {
        direct
    } else {
        project.root.join(runs_dir).join(id)
    };
    Ok(RunDir::open(&path)?)
}

/// Fills what the command line leaves out with the resumed run's selection, and refuses a
/// command line that selects something else (its jobs would not be the run's).
fn take_selection(args: &mut Args, manifest: &Manifest, path: &std::path::Path) -> Result<()> {
    let mut differences = Vec::new();
    let mut take = |flag: &str, given: &mut Vec<String>, recorded: &[String]| {
        if given.is_empty() {
            *given = recorded.to_vec();
        } else if given.as_slice() != recorded {
            differences.push(format!(
                "--{flag} {} (the run has {})",
                given.join(","),
                if recorded.is_empty() {
                    "all".to_owned()
                } else {
                    recorded.join(",")
                }
            ));
        }
    };
    if let Some(sel) = &manifest.selection {
        take("board", &mut args.board, &sel.boards);
        take("workload", &mut args.workload, &sel.workloads);
        take("variant", &mut args.variant, &sel.variants);
        if let Some(recorded) = &sel.models_dir {
            match &args.models_dir {
                None => args.models_dir = Some(PathBuf::from(recorded)),
                Some(given) if given != std::path::Path::new(recorded) => differences.push(
                    format!("--models-dir {} (the run has {recorded})", given.display()),
                ),
                Some(_) => {}
            }
        }
    }
    let recorded_shard = manifest.shard.as_ref().map(|s| Shard {
        index: s.index,
        count: s.count,
    });
    match (args.shard, recorded_shard) {
        (None, r) => args.shard = r,
        (Some(g), Some(r)) if g == r => {}
        (Some(g), r) => differences.push(format!(
            "--shard {}/{} (the run has {})",
            g.index,
            g.count,
            r.map_or("no shard".to_owned(), |r| format!(
                "{}/{}",
                r.index, r.count
            ))
        )),
    }
    let mut counts = |flag: &str, given: &mut Option<u32>, recorded: u32| match *given {
        None => *given = Some(recorded),
        Some(g) if g != recorded => {
            differences.push(format!("--{flag} {g} (the run has {recorded})"))
        }
        Some(_) => {}
    };
    counts("warmup", &mut args.warmup, manifest.warmup_runs);
    counts("runs", &mut args.runs, manifest.timed_runs);
    if !differences.is_empty() {
        bail!(
            "cannot resume {}: {}; give --resume alone (the run's selection is taken from its manifest) or the same values",
            path.display(),
            differences.join("; ")
        );
    }
    Ok(())
}

/// A --workload pattern that selects only workloads left out for want of the models directory
/// is an error that says so, not "matches nothing".
fn check_left_out(catalog: &Catalog, patterns: &[String]) -> Result<()> {
    for p in patterns {
        let loaded = catalog
            .workloads
            .iter()
            .any(|w| plan::glob_match(p, &w.name));
        let left: Vec<&str> = catalog
            .need_models_dir
            .iter()
            .filter(|n| plan::glob_match(p, &n.name))
            .map(|n| n.name.as_str())
            .collect();
        if !loaded && !left.is_empty() {
            bail!(
                "--workload {p:?} selects {} whose model files are not in the repository; set `[models] dir` in mcubench.toml or pass --models-dir to the folder that holds them ({})",
                left.join(", "),
                catalog
                    .need_models_dir
                    .iter()
                    .filter(|n| left.contains(&n.name.as_str()))
                    .flat_map(|n| n.files.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

/// Opens a run to resume: its plan must be the same jobs.
fn resume(run: RunDir, keys: &[JobKey]) -> Result<(RunDir, Vec<JobKey>)> {
    let manifest = run.manifest()?;
    if manifest.plan != keys {
        let planned: std::collections::BTreeSet<_> = manifest.plan.iter().collect();
        let now: std::collections::BTreeSet<_> = keys.iter().collect();
        let missing: Vec<String> = planned.difference(&now).map(|k| k.to_string()).collect();
        let extra: Vec<String> = now.difference(&planned).map(|k| k.to_string()).collect();
        bail!(
            "cannot resume {}: the plan differs from the run's (not planned now: [{}]; new now: [{}]); the workloads or targets.toml changed since the run started",
            run.path.display(),
            missing.join(", "),
            extra.join(", ")
        );
    }
    run.repair()?;
    let done = run.results()?.into_iter().map(|r| r.key).collect();
    Ok((run, done))
}

fn manifest(
    project: &Project,
    keys: &[JobKey],
    plan: &plan::Plan,
    workloads: &[Workload],
    settings: &RunSettings,
    args: &Args,
    models_dir: Option<&std::path::Path>,
) -> Result<Manifest> {
    let git = |a: &[&str]| {
        std::process::Command::new("git")
            .current_dir(&project.root)
            .args(a)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let revision = git(&["rev-parse", "HEAD"]);
    let dirty = git(&["status", "--porcelain"]).map(|s| !s.is_empty());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let stamp = utc_stamp(now);
    let mut plan_hash = Sha256::new();
    for k in keys {
        plan_hash.update(k.to_string().as_bytes());
        plan_hash.update(b"\n");
    }
    let short: String = plan_hash
        .finalize()
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut models = BTreeMap::new();
    for w in workloads {
        for v in &w.variants {
            if keys
                .iter()
                .any(|k| k.workload == w.name && k.variant == v.variant)
            {
                models.insert(format!("{}/{}", w.name, v.variant), v.sha256.clone());
            }
        }
    }
    let toolchain = std::process::Command::new("rustc")
        .current_dir(&project.root)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Ok(Manifest {
        mcubench_version: env!("CARGO_PKG_VERSION").into(),
        run_id: format!(
            "{}-{short}",
            stamp
                .replace([':', '-'], "")
                .replace('T', "-")
                .trim_end_matches('Z')
        ),
        created_utc: stamp,
        host: std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default(),
        git_revision: revision,
        git_dirty: dirty,
        toolchain,
        targets_sha256: sha256_file(&project.targets_path())?,
        firmware: BTreeMap::new(),
        models,
        cycle_model: (args.deploy == Mode::Emulator).then(|| CYCLE_MODEL_VERSION.into()),
        plan: keys.to_vec(),
        warmup_runs: settings.warmup_runs,
        timed_runs: settings.timed_runs,
        boards: BTreeMap::new(),
        selection: Some(Selection {
            boards: args.board.clone(),
            workloads: args.workload.clone(),
            variants: args.variant.clone(),
            models_dir: models_dir.map(|d| d.display().to_string()),
        }),
        plan_sha256: Some(plan.selection_sha256.clone()),
        shard: args.shard.map(|s| ShardOf {
            index: s.index,
            count: s.count,
            positions: plan.positions.clone(),
        }),
        merged_from: Vec::new(),
    })
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, H. Hinnant).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Appends each finished job to results.jsonl (fsynced) and writes its log.
struct StoreSink<'a> {
    run: &'a RunDir,
}

impl Sink for StoreSink<'_> {
    fn event(&mut self, event: &Event) -> Result<()> {
        if let Event::Finished { result, log } = event {
            let path = self.run.log_path(&result.key);
            std::fs::write(&path, log)
                .with_context(|| format!("cannot write {}", path.display()))?;
            self.run.append(result)?;
        }
        Ok(())
    }
}

/// One bar for the matrix with its ETA and a line per running job; plain lines when stderr
/// is not a terminal (CI logs).
struct ProgressSink {
    multi: MultiProgress,
    bar: ProgressBar,
    running: HashMap<JobKey, ProgressBar>,
    interactive: bool,
}

impl ProgressSink {
    fn new(total: u64, interactive: bool) -> ProgressSink {
        let multi = MultiProgress::new();
        if !interactive {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        let bar = multi.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} jobs  {elapsed_precise} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        ProgressSink {
            multi,
            bar,
            running: HashMap::new(),
            interactive,
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
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
    fn event(&mut self, event: &Event) -> Result<()> {
        match event {
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
                self.bar.inc(1);
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

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamps() {
        assert_eq!(super::utc_stamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_stamp(1_795_045_800), "2026-11-18T23:50:00Z");
        assert_eq!(super::utc_stamp(951_782_400), "2000-02-29T00:00:00Z");
    }
}
