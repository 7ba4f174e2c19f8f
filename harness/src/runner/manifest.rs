//! A new run's manifest.json: everything needed to know what a run's figures mean.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{Request, RunError};
use crate::deploy::emulator::CYCLE_MODEL_VERSION;
use crate::deploy::Mode;
use crate::job::RunSettings;
use crate::plan::Plan;
use crate::project::Project;
use crate::results::{JobKey, Manifest, Selection, ShardOf};
use crate::workloads::{sha256_file, Workload};

/// The manifest of a new run: what ran (the plan, its settings and selection) on what (host,
/// git revision, toolchain, targets.toml and model hashes, cycle model); the firmware hashes
/// are added once the firmware is built.
pub fn new(
    project: &Project,
    keys: &[JobKey],
    plan: &Plan,
    workloads: &[Workload],
    settings: &RunSettings,
    request: &Request,
    models_dir: Option<&Path>,
) -> Result<Manifest, RunError> {
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
        cycle_model: (request.deploy == Mode::Emulator).then(|| CYCLE_MODEL_VERSION.into()),
        plan: keys.to_vec(),
        warmup_runs: settings.warmup_runs,
        timed_runs: settings.timed_runs,
        boards: BTreeMap::new(),
        selection: Some(Selection {
            boards: request.boards.clone(),
            workloads: request.workloads.clone(),
            variants: request.variants.clone(),
            models_dir: models_dir.map(|d| d.display().to_string()),
        }),
        plan_sha256: Some(plan.selection_sha256.clone()),
        shard: request.shard.map(|s| ShardOf {
            index: s.index,
            count: s.count,
            positions: plan.positions.clone(),
        }),
        merged_from: Vec::new(),
    })
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, H. Hinnant).
pub fn utc_stamp(secs: u64) -> String {
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

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamps() {
        assert_eq!(super::utc_stamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_stamp(1_795_045_800), "2026-11-18T23:50:00Z");
        assert_eq!(super::utc_stamp(951_782_400), "2000-02-29T00:00:00Z");
    }
}
