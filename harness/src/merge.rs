//! Merging run directories: the shards of one plan (`run --shard i/n`), or runs of the same
//! workloads and variants on different boards (a board matrix where each board has its own
//! machine), into one run that reads as if it had been made in one go.
//!
//! Nothing is merged that could not have come out of one run: the parts must agree on
//! everything their manifests record about the inputs (mcubench version, git revision,
//! toolchain, targets.toml, firmware per board, models, cycle model, warm-up and timed runs),
//! and no job may be in two parts.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::results::{JobKey, JobResult, Manifest};

/// One run directory to merge, already read.
#[derive(Debug, Clone)]
pub struct Part {
    /// How the user named it (its path), for messages.
    pub name: String,
    pub manifest: Manifest,
    pub results: Vec<JobResult>,
}

/// The merged run, ready to store.
#[derive(Debug, Clone)]
pub struct Merged {
    pub manifest: Manifest,
    /// In plan order.
    pub results: Vec<JobResult>,
    /// Planned jobs no part has a result for (a part was interrupted).
    pub unfinished: Vec<JobKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the run directories of the shards")]
    NoParts,
    #[error("{run} and {first} are not from the same plan: the {field} differs ({first}: {first_value}; {run}: {value}); merge only the shards of one matrix, run from the same checkout and build")]
    Differs {
        field: String,
        first: String,
        first_value: String,
        run: String,
        value: String,
    },
    #[error("{run}/manifest.json does not record its {field} (it was written by an older mcubench); run that shard again with this version to merge it")]
    NotRecorded { run: String, field: &'static str },
    #[error("{sharded} is shard {index}/{count} of a plan but {whole} is not a shard; merge either all the shards of one plan (`run --shard i/n`) or whole runs on different boards (`run --board ...`)")]
    MixedSharding {
        sharded: String,
        index: usize,
        count: usize,
        whole: String,
    },
    #[error("shard {index}/{count} is given twice: {first} and {run}")]
    ShardTwice {
        index: usize,
        count: usize,
        first: String,
        run: String,
    },
    #[error("shard{} {} of the plan {} missing (given: {}); merge needs every shard", if .missing.len() == 1 { "" } else { "s" }, .missing.join(", "), if .missing.len() == 1 { "is" } else { "are" }, .given.join(", "))]
    ShardsMissing {
        missing: Vec<String>,
        given: Vec<String>,
    },
    #[error("job {key} is planned in both {first} and {run}; a job may be in one part only (the same run given twice, or board filters that overlap)")]
    DuplicateJob {
        key: JobKey,
        first: String,
        run: String,
    },
    #[error("{run} stores a result for {key}, which its manifest's plan does not list; the run directory was edited or mixed up with another one")]
    NotPlanned { key: JobKey, run: String },
    #[error("{run}/manifest.json is inconsistent: its plan lists {plan} jobs but its shard positions {positions}; the file was edited")]
    BadPositions {
        run: String,
        plan: usize,
        positions: usize,
    },
}

/// Merges `parts` into one run named `run_id`.
pub fn merge(parts: &[Part], run_id: &str) -> Result<Merged, MergeError> {
    let first = parts.first().ok_or(MergeError::NoParts)?;
    for part in parts {
        if part.manifest.plan_sha256.is_none() {
            return Err(MergeError::NotRecorded {
                run: part.name.clone(),
                field: "plan (plan_sha256)",
            });
        }
        if part.manifest.selection.is_none() {
            return Err(MergeError::NotRecorded {
                run: part.name.clone(),
                field: "selection (--board/--workload/--variant)",
            });
        }
    }
    for part in &parts[1..] {
        same_inputs(first, part)?;
    }

    // Shards of one plan, or whole runs on different boards; never a mix.
    let sharded = parts.iter().find(|p| p.manifest.shard.is_some());
    let whole = parts.iter().find(|p| p.manifest.shard.is_none());
    let (ordered, plan_sha256, selection) = match (sharded, whole) {
        (Some(s), Some(w)) => {
            let shard = s.manifest.shard.as_ref().expect("found as sharded");
            return Err(MergeError::MixedSharding {
                sharded: s.name.clone(),
                index: shard.index,
                count: shard.count,
                whole: w.name.clone(),
            });
        }
        (Some(_), None) => shards_in_order(parts)?,
        _ => boards_in_order(parts)?,
    };

    // Every stored result is planned, and no job is in two parts.
    let mut owner: BTreeMap<&JobKey, &str> = BTreeMap::new();
    for part in parts {
        for key in &part.manifest.plan {
            if let Some(first) = owner.insert(key, &part.name) {
                return Err(MergeError::DuplicateJob {
                    key: key.clone(),
                    first: first.to_owned(),
                    run: part.name.clone(),
                });
            }
        }
        let planned: BTreeSet<&JobKey> = part.manifest.plan.iter().collect();
        if let Some(r) = part.results.iter().find(|r| !planned.contains(&r.key)) {
            return Err(MergeError::NotPlanned {
                key: r.key.clone(),
                run: part.name.clone(),
            });
        }
    }

    let mut by_key: BTreeMap<&JobKey, &JobResult> = BTreeMap::new();
    for part in parts {
        for r in &part.results {
            // A part's results.jsonl holds a job once (resume never repeats one); if an edited
            // file holds it twice, the later line is the one `report` would show too.
            by_key.insert(&r.key, r);
        }
    }
    let results: Vec<JobResult> = ordered
        .iter()
        .filter_map(|k| by_key.get(k).map(|r| (*r).clone()))
        .collect();
    let unfinished: Vec<JobKey> = ordered
        .iter()
        .filter(|k| !by_key.contains_key(k))
        .cloned()
        .collect();

    let mut manifest = first.manifest.clone();
    manifest.run_id = run_id.to_owned();
    manifest.created_utc = parts
        .iter()
        .map(|p| p.manifest.created_utc.clone())
        .min()
        .unwrap_or_default();
    let hosts: BTreeSet<&str> = parts.iter().map(|p| p.manifest.host.as_str()).collect();
    manifest.host = hosts.into_iter().collect::<Vec<_>>().join(", ");
    manifest.git_dirty = parts
        .iter()
        .map(|p| p.manifest.git_dirty)
        .reduce(|a, b| match (a, b) {
            (Some(x), Some(y)) => Some(x || y),
            _ => None,
        })
        .flatten();
    for part in &parts[1..] {
        for (k, v) in &part.manifest.firmware {
            manifest.firmware.insert(k.clone(), v.clone());
        }
        for (k, v) in &part.manifest.models {
            manifest.models.insert(k.clone(), v.clone());
        }
    }
    manifest.plan = ordered;
    manifest.plan_sha256 = Some(plan_sha256);
    manifest.selection = Some(selection);
    manifest.shard = None;
    manifest.merged_from = parts.iter().map(|p| p.manifest.run_id.clone()).collect();
    Ok(Merged {
        manifest,
        results,
        unfinished,
    })
}

/// Everything the manifests say about the inputs must be equal.
fn same_inputs(first: &Part, part: &Part) -> Result<(), MergeError> {
    let (a, b) = (&first.manifest, &part.manifest);
    let differs = |field: &str, x: String, y: String| MergeError::Differs {
        field: field.to_owned(),
        first: first.name.clone(),
        first_value: x,
        run: part.name.clone(),
        value: y,
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    let checks: [(&str, String, String); 7] = [
        (
            "mcubench version",
            a.mcubench_version.clone(),
            b.mcubench_version.clone(),
        ),
        ("git revision", opt(&a.git_revision), opt(&b.git_revision)),
        ("toolchain", a.toolchain.clone(), b.toolchain.clone()),
        (
            "targets.toml hash",
            a.targets_sha256.clone(),
            b.targets_sha256.clone(),
        ),
        (
            "cycle-model version",
            opt(&a.cycle_model),
            opt(&b.cycle_model),
        ),
        (
            "number of warm-up runs",
            a.warmup_runs.to_string(),
            b.warmup_runs.to_string(),
        ),
        (
            "number of timed runs",
            a.timed_runs.to_string(),
            b.timed_runs.to_string(),
        ),
    ];
    for (field, x, y) in checks {
        if x != y {
            return Err(differs(field, x, y));
        }
    }
    for (board, hash) in &b.firmware {
        if let Some(other) = a.firmware.get(board) {
            if other != hash {
                return Err(differs(
                    &format!("firmware hash of board {board}"),
                    other.clone(),
                    hash.clone(),
                ));
            }
        }
    }
    for (model, hash) in &b.models {
        if let Some(other) = a.models.get(model) {
            if other != hash {
                return Err(differs(
                    &format!("model hash of {model}"),
                    other.clone(),
                    hash.clone(),
                ));
            }
        }
    }
    Ok(())
}

/// Shards of one plan: same plan and shard count, each index once, none missing. Returns the
/// plan in the unsharded order.
fn shards_in_order(
    parts: &[Part],
) -> Result<(Vec<JobKey>, String, crate::results::Selection), MergeError> {
    let first = &parts[0];
    let shard_of = |p: &Part| p.manifest.shard.clone().expect("every part is a shard");
    let count = shard_of(first).count;
    let mut seen: BTreeMap<usize, &str> = BTreeMap::new();
    let mut positioned: Vec<(usize, JobKey)> = Vec::new();
    for part in parts {
        let shard = shard_of(part);
        if part.manifest.plan_sha256 != first.manifest.plan_sha256 {
            return Err(MergeError::Differs {
                field: "plan (the jobs selected before sharding)".into(),
                first: first.name.clone(),
                first_value: describe_selection(&first.manifest),
                run: part.name.clone(),
                value: describe_selection(&part.manifest),
            });
        }
        if shard.count != count {
            return Err(MergeError::Differs {
                field: "shard count".into(),
                first: first.name.clone(),
                first_value: format!("{}/{count}", shard_of(first).index),
                run: part.name.clone(),
                value: format!("{}/{}", shard.index, shard.count),
            });
        }
        if let Some(other) = seen.insert(shard.index, &part.name) {
            return Err(MergeError::ShardTwice {
                index: shard.index,
                count,
                first: other.to_owned(),
                run: part.name.clone(),
            });
        }
        if shard.positions.len() != part.manifest.plan.len() {
            return Err(MergeError::BadPositions {
                run: part.name.clone(),
                plan: part.manifest.plan.len(),
                positions: shard.positions.len(),
            });
        }
        positioned.extend(
            shard
                .positions
                .iter()
                .copied()
                .zip(part.manifest.plan.iter().cloned()),
        );
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::ShardsMissing {
            missing,
            given: seen.keys().map(|i| format!("{i}/{count}")).collect(),
        });
    }
    positioned.sort_by_key(|(position, _)| *position);
    Ok((
        positioned.into_iter().map(|(_, k)| k).collect(),
        first.manifest.plan_sha256.clone().unwrap_or_default(),
        first.manifest.selection.clone().unwrap_or_default(),
    ))
}

/// Whole runs on different boards: the same workloads and variants selected. Returns the plan
/// (the parts' plans one after the other), a hash naming the combined plan, and its selection.
fn boards_in_order(
    parts: &[Part],
) -> Result<(Vec<JobKey>, String, crate::results::Selection), MergeError> {
    let first = &parts[0];
    let selection = |p: &Part| p.manifest.selection.clone().unwrap_or_default();
    let mut merged = selection(first);
    let mut hasher = Sha256::new();
    let mut plan = Vec::new();
    for part in parts {
        let s = selection(part);
        for (field, x, y) in [
            (
                "workload selection (--workload)",
                &merged.workloads,
                &s.workloads,
            ),
            (
                "variant selection (--variant)",
                &merged.variants,
                &s.variants,
            ),
        ] {
            if x != y {
                return Err(MergeError::Differs {
                    field: field.into(),
                    first: first.name.clone(),
                    first_value: patterns(x),
                    run: part.name.clone(),
                    value: patterns(y),
                });
            }
        }
        if !std::ptr::eq(part, first) {
            merged.boards.extend(s.boards);
        }
        hasher.update(part.manifest.plan_sha256.clone().unwrap_or_default());
        hasher.update(b"\n");
        plan.extend(part.manifest.plan.iter().cloned());
    }
    let hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((plan, hash, merged))
}

fn patterns(p: &[String]) -> String {
    if p.is_empty() {
        "all".into()
    } else {
        p.join(",")
    }
}

fn describe_selection(m: &Manifest) -> String {
    let s = m.selection.clone().unwrap_or_default();
    format!(
        "--board {} --workload {} --variant {}, plan {}",
        patterns(&s.boards),
        patterns(&s.workloads),
        patterns(&s.variants),
        m.plan_sha256
            .as_deref()
            .map_or("unknown", |h| &h[..h.len().min(12)])
    )
}
