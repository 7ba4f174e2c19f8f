//! Continuing a run: its directory, its selection from its manifest, and the check that its
//! plan is still the same jobs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Request, RunError};
use crate::plan::Shard;
use crate::project::Project;
use crate::results::{JobKey, Manifest, RunDir};

/// The run directory `id` names (a run id under `runs_dir`, or a directory).
pub fn open(project: &Project, runs_dir: &Path, id: &str) -> Result<RunDir, RunError> {
    let direct = PathBuf::from(id);
    let path = if direct.join(RunDir::MANIFEST).is_file() {
        direct
    } else {
        project.root.join(runs_dir).join(id)
    };
    Ok(RunDir::open(&path)?)
}

/// Fills what the request leaves out with the resumed run's selection, and refuses a request
/// that selects something else (its jobs would not be the run's).
pub fn take_selection(
    request: &mut Request,
    manifest: &Manifest,
    path: &Path,
) -> Result<(), RunError> {
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
        take("board", &mut request.boards, &sel.boards);
        take("workload", &mut request.workloads, &sel.workloads);
        take("variant", &mut request.variants, &sel.variants);
        if let Some(recorded) = &sel.models_dir {
            match &request.models_dir {
                None => request.models_dir = Some(PathBuf::from(recorded)),
                Some(given) if given != Path::new(recorded) => differences.push(format!(
                    "--models-dir {} (the run has {recorded})",
                    given.display()
                )),
                Some(_) => {}
            }
        }
    }
    let recorded_shard = manifest.shard.as_ref().map(|s| Shard {
        index: s.index,
        count: s.count,
    });
    match (request.shard, recorded_shard) {
        (None, r) => request.shard = r,
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
    counts("warmup", &mut request.warmup, manifest.warmup_runs);
    counts("runs", &mut request.runs, manifest.timed_runs);
    if !differences.is_empty() {
        return Err(RunError::SelectionDiffers {
            path: path.to_owned(),
            differences: differences.join("; "),
        });
    }
    Ok(())
}

/// A run to resume, checked: its plan must be the same jobs. Repairs a line cut short by a
/// crash and returns the jobs it has stored.
pub fn check(run: RunDir, keys: &[JobKey]) -> Result<(RunDir, Vec<JobKey>), RunError> {
    let manifest = run.manifest()?;
    if manifest.plan != keys {
        let planned: BTreeSet<_> = manifest.plan.iter().collect();
        let now: BTreeSet<_> = keys.iter().collect();
        let missing: Vec<String> = planned.difference(&now).map(|k| k.to_string()).collect();
        let extra: Vec<String> = now.difference(&planned).map(|k| k.to_string()).collect();
        return Err(RunError::PlanChanged {
            path: run.path.clone(),
            missing: missing.join(", "),
            extra: extra.join(", "),
        });
    }
    run.repair()?;
    let done = run.results()?.into_iter().map(|r| r.key).collect();
    Ok((run, done))
}
