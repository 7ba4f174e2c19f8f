//! A run of the benchmark matrix, from a request to stored results, in the steps a caller
//! shows between: `select` (the resumed run's selection, mcubench.toml's defaults, the
//! workloads), `Selected::plan` (the jobs, checked on the host), `Planned::start` (the run
//! directory, the firmware once per board), `Started::run` (the jobs on a pool of workers,
//! every event to the results store first, then to the caller's sinks).
//!
//! Nothing here prints: what a user sees comes from the sinks the caller gives (`cmd::run`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{builtin, Config, RunDefaults};
use crate::deploy::emulator::Limits;
use crate::deploy::{deployer_for, DeployError, Deployer, Mode};
use crate::firmware::{self, BuildError};
use crate::job::{PreparedJob, RunSettings};
use crate::plan::{self, Filter, Plan, PlanError, Shard};
use crate::project::Project;
use crate::results::{BoardSetup, JobKey, JobResult, JobStatus, ResultsError, RunDir};
use crate::size::{self, FirmwareSize, SizeError};
use crate::targets::{Targets, TargetsError};
use crate::workloads::{Catalog, Workload, WorkloadError};

pub mod manifest;
pub mod pool;
mod resume;
pub mod store;

pub use pool::{BoardFirmware, Event, Sink};

/// Why a run could not start or go on. Errors of the modules a run uses keep their own words.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Targets(#[from] TargetsError),
    #[error(transparent)]
    Workloads(#[from] WorkloadError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Size(#[from] SizeError),
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("no workloads under {}: add workloads/<name>/workload.toml", .0.display())]
    NoWorkloads(PathBuf),
    #[error("nothing to run: every selected job was rejected (see above)")]
    NothingToRun,
    #[error(
        "--workload {pattern:?} selects {workloads} whose model files are not in the repository; set `[models] dir` in mcubench.toml or pass --models-dir to the folder that holds them ({files})"
    )]
    NeedsModelsDir {
        pattern: String,
        workloads: String,
        files: String,
    },
    #[error(
        "cannot resume {}: {differences}; give --resume alone (the run's selection is taken from its manifest) or the same values",
        .path.display()
    )]
    SelectionDiffers { path: PathBuf, differences: String },
    #[error(
        "cannot resume {}: the plan differs from the run's (not planned now: [{missing}]; new now: [{extra}]); the workloads or targets.toml changed since the run started",
        .path.display()
    )]
    PlanChanged {
        path: PathBuf,
        missing: String,
        extra: String,
    },
    #[error("cannot read {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a run is asked for: the command line's selection and settings; `None` leaves a value to
/// a resumed run's manifest, then to mcubench.toml's `[run]`, then to the built-in default.
#[derive(Debug, Clone)]
pub struct Request {
    /// Board, workload and variant globs (empty: all).
    pub boards: Vec<String>,
    pub workloads: Vec<String>,
    pub variants: Vec<String>,
    /// Jobs in parallel (default: the number of cores on the virtual boards, one per real board).
    pub jobs: Option<usize>,
    pub warmup: Option<u32>,
    pub runs: Option<u32>,
    pub timeout_s: Option<u64>,
    pub max_instructions: Option<u64>,
    pub retries: Option<u32>,
    /// The run to continue: an id under `runs_dir`, or a directory.
    pub resume: Option<String>,
    pub models_dir: Option<PathBuf>,
    pub shard: Option<Shard>,
    pub runs_dir: PathBuf,
    pub accuracy: bool,
    pub accuracy_samples: Option<usize>,
    pub portable_kernels: bool,
    pub deploy: Mode,
    pub probe: Option<String>,
}

impl Request {
    /// The request, with what it leaves out taken from mcubench.toml's `[run]`.
    pub fn with_defaults(&self, d: &RunDefaults) -> Request {
        let mut r = self.clone();
        r.warmup = r.warmup.or(d.warmup);
        r.runs = r.runs.or(d.runs.as_ref().map(|v| *v.get_ref()));
        r.timeout_s = r.timeout_s.or(d.timeout_s.as_ref().map(|v| *v.get_ref()));
        r.max_instructions = r
            .max_instructions
            .or(d.max_instructions.as_ref().map(|v| *v.get_ref()));
        r.retries = r.retries.or(d.retries);
        r.jobs = r.jobs.or(d.jobs.as_ref().map(|v| *v.get_ref()));
        // --accuracy-samples alone turns accuracy mode on; the file's limit does not.
        r.accuracy |= r.accuracy_samples.is_some();
        r.accuracy_samples = r
            .accuracy_samples
            .or(d.accuracy_samples.as_ref().map(|v| *v.get_ref()));
        r
    }
}

/// A run's selection, settled: the request with a resumed run's selection and the defaults, and
/// the workloads it can load.
#[derive(Debug)]
pub struct Selected {
    project: Project,
    targets: Targets,
    pub request: Request,
    pub models_dir: Option<PathBuf>,
    pub workloads: Vec<Workload>,
    /// Workloads left out for want of the models directory, in a sentence for the user.
    pub left_out_note: Option<String>,
    resumed: Option<RunDir>,
}

/// Settles what a run selects. A resumed run takes its selection from its manifest, before any
/// default applies.
pub fn select(project: &Project, request: &Request) -> Result<Selected, RunError> {
    let targets = project.targets()?;
    let config = Config::load(&project.root)?;
    let resumed = match &request.resume {
        Some(id) => Some(resume::open(project, &request.runs_dir, id)?),
        None => None,
    };
    let mut request = request.clone();
    if let Some(run) = &resumed {
        resume::take_selection(&mut request, &run.manifest()?, &run.path)?;
    }
    let request = request.with_defaults(&config.run);
    let models_dir = config.models_dir_or(&project.root, request.models_dir.as_deref());
    let catalog = Workload::catalog(&project.root, models_dir.as_deref())?;
    check_left_out(&catalog, &request.workloads)?;
    let left_out_note = catalog.left_out_note();
    Ok(Selected {
        project: project.clone(),
        targets,
        request,
        models_dir,
        workloads: catalog.workloads,
        left_out_note,
        resumed,
    })
}

/// A --workload pattern that selects only workloads left out for want of the models directory
/// is an error that says so, not "matches nothing".
fn check_left_out(catalog: &Catalog, patterns: &[String]) -> Result<(), RunError> {
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
            return Err(RunError::NeedsModelsDir {
                pattern: p.clone(),
                workloads: left.join(", "),
                files: catalog
                    .need_models_dir
                    .iter()
                    .filter(|n| left.contains(&n.name.as_str()))
                    .flat_map(|n| n.files.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

impl Selected {
    /// Plans the matrix; `on_check` is told of each job as the host checks it.
    pub fn plan(self, on_check: impl FnMut(&JobKey)) -> Result<Planned, RunError> {
        let request = &self.request;
        if self.workloads.is_empty() {
            return Err(RunError::NoWorkloads(self.project.root.join("workloads")));
        }
        let settings = RunSettings {
            warmup_runs: request.warmup.unwrap_or(builtin::WARMUP),
            timed_runs: request.runs.unwrap_or(builtin::RUNS).max(1),
            sample: 0,
            accuracy: request
                .accuracy
                .then(|| request.accuracy_samples.unwrap_or(usize::MAX)),
            limits: Limits {
                max_instructions: request
                    .max_instructions
                    .unwrap_or(Limits::default().max_instructions),
                timeout: Duration::from_secs(request.timeout_s.unwrap_or(builtin::TIMEOUT_S)),
            },
        };
        let filter = Filter {
            boards: request.boards.clone(),
            workloads: request.workloads.clone(),
            variants: request.variants.clone(),
        };
        let plan = plan::plan(
            &self.targets,
            &self.workloads,
            &filter,
            request.shard,
            &settings,
            on_check,
        )?;
        Ok(Planned {
            selected: self,
            settings,
            plan,
        })
    }
}

/// A run's plan: the jobs to run and those rejected, with the reasons.
#[derive(Debug)]
pub struct Planned {
    selected: Selected,
    pub settings: RunSettings,
    pub plan: Plan,
}

impl Planned {
    /// The run's boards, as targets.toml has them.
    pub fn targets(&self) -> &Targets {
        &self.selected.targets
    }

    /// Opens the run directory (a new one, or the one to resume) and builds the firmware of
    /// each board with a job to run; a resumed run's stored jobs are not run again.
    pub fn start(self, sinks: &mut [&mut dyn Sink]) -> Result<Started, RunError> {
        let Planned {
            selected,
            settings,
            plan,
        } = self;
        if plan.jobs.is_empty() {
            return Err(RunError::NothingToRun);
        }
        let project = &selected.project;
        let request = &selected.request;
        let keys: Vec<JobKey> = plan.jobs.iter().map(|j| j.key.clone()).collect();
        let new_run = selected.resumed.is_none();
        let (run_dir, done) = match selected.resumed {
            Some(run) => resume::check(run, &keys)?,
            None => {
                let mut m = manifest::new(
                    project,
                    &keys,
                    &plan,
                    &selected.workloads,
                    &settings,
                    request,
                    selected.models_dir.as_deref(),
                )?;
                // Two runs of one plan started within the same second get the same id: the
                // later one takes the next free suffix (-2, -3 ...) rather than failing or
                // reusing it.
                let runs = project.root.join(&request.runs_dir);
                let base = m.run_id.clone();
                let mut n = 1;
                while runs.join(&m.run_id).exists() {
                    n += 1;
                    m.run_id = format!("{base}-{n}");
                }
                let path = runs.join(&m.run_id);
                (RunDir::create(&path, &m)?, Vec::new())
            }
        };
        let todo: Vec<_> = plan
            .jobs
            .into_iter()
            .filter(|j| !done.contains(&j.key))
            .collect();
        if !done.is_empty() {
            emit(
                sinks,
                &Event::Resuming {
                    path: &run_dir.path,
                    stored: done.len(),
                    to_run: todo.len(),
                },
            )?;
        }

        // Firmware once per board, then the jobs.
        let mut boards = BTreeMap::new();
        let mut firmware_hashes = BTreeMap::new();
        let mut setups = BTreeMap::new();
        for board in &selected.targets.boards {
            if !todo.iter().any(|j| j.key.board == board.name) {
                continue;
            }
            emit(sinks, &Event::BuildingFirmware { board: &board.name })?;
            let options = firmware::Options {
                portable_kernels: request.portable_kernels,
                ..Default::default()
            };
            let fw = firmware::build_with(project, board, options)?;
            let elf = std::fs::read(&fw.elf).map_err(|source| RunError::Read {
                path: fw.elf.clone(),
                source,
            })?;
            let size = size::measure(&fw.elf, board)?;
            firmware_hashes.insert(board.name.clone(), fw.hash.clone());
            let deployer = deployer_for(board, request.deploy, request.probe.as_deref())?;
            if request.deploy == Mode::Hw {
                emit(
                    sinks,
                    &Event::Deploying {
                        board: &board.name,
                        deploy: &deployer.label(),
                        meter: deployer.meter().as_deref(),
                    },
                )?;
            }
            setups.insert(
                board.name.clone(),
                BoardSetup {
                    deploy: deployer.label(),
                    voltage_v: board.energy.voltage_v,
                    meter: deployer.meter(),
                },
            );
            boards.insert(
                board.name.clone(),
                BuiltBoard {
                    deployer,
                    elf,
                    size,
                },
            );
        }
        if new_run {
            let mut m = run_dir.manifest()?;
            m.firmware = firmware_hashes;
            if request.deploy == Mode::Hw {
                m.boards = setups;
            }
            run_dir.write_manifest(&m)?;
        }
        Ok(Started {
            targets: selected.targets,
            request: selected.request,
            settings,
            run_dir,
            todo,
            boards,
        })
    }
}

/// A run with its directory open and its firmware built, ready for its jobs.
pub struct Started {
    targets: Targets,
    request: Request,
    settings: RunSettings,
    pub run_dir: RunDir,
    todo: Vec<PreparedJob>,
    /// Each board's back end, firmware ELF and firmware size.
    boards: BTreeMap<String, BuiltBoard>,
}

/// A board's back end and its firmware, built once before the jobs.
struct BuiltBoard {
    deployer: Arc<dyn Deployer>,
    elf: Vec<u8>,
    size: FirmwareSize,
}

/// How a run ended.
#[derive(Debug)]
pub struct Finished {
    pub run_dir: RunDir,
    /// Every job the run directory holds, this time's and before.
    pub results: Vec<JobResult>,
    /// Jobs that finished this time.
    pub finished_now: usize,
    pub failed: usize,
    /// Stopped by `cancel` (Ctrl-C): finished jobs are stored, the rest is redone on resume.
    pub interrupted: bool,
}

impl Started {
    /// Runs the jobs; every event goes to the results store, then to `sinks`. Setting `cancel`
    /// stops taking jobs.
    pub fn run(
        self,
        cancel: &AtomicBool,
        sinks: &mut [&mut dyn Sink],
    ) -> Result<Finished, RunError> {
        let Started {
            targets,
            request,
            settings,
            run_dir,
            todo,
            mut boards,
        } = self;
        let mut firmware_of = HashMap::new();
        for board in &targets.boards {
            if let Some(BuiltBoard {
                deployer,
                elf,
                size,
            }) = boards.remove(&board.name)
            {
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
        }
        let workers = request.jobs.unwrap_or_else(|| match request.deploy {
            Mode::Emulator => std::thread::available_parallelism().map_or(1, |n| n.get()),
            // A real board runs one job at a time: one worker per board.
            Mode::Hw => firmware_of.len(),
        });
        emit(sinks, &Event::Running { jobs: todo.len() })?;
        let finished = {
            let mut store = store::StoreSink::new(&run_dir);
            let mut all_sinks: Vec<&mut dyn Sink> = vec![&mut store];
            for s in sinks.iter_mut() {
                all_sinks.push(&mut **s);
            }
            pool::run(
                todo,
                &firmware_of,
                &settings,
                workers,
                request.retries.unwrap_or(builtin::RETRIES),
                cancel,
                &mut all_sinks,
            )?
        };
        run_dir.write_csv()?;
        let results = run_dir.results()?;
        let failed = results
            .iter()
            .filter(|r| r.status == JobStatus::Failed)
            .count();
        Ok(Finished {
            run_dir,
            results,
            finished_now: finished.len(),
            failed,
            interrupted: cancel.load(Ordering::Relaxed),
        })
    }
}

fn emit(sinks: &mut [&mut dyn Sink], event: &Event) -> Result<(), RunError> {
    for s in sinks.iter_mut() {
        s.event(event)?;
    }
    Ok(())
}
