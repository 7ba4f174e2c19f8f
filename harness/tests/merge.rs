//! `mcubench merge`: shards that belong together become one run; anything else is refused with
//! the field that differs, and nothing already stored is overwritten.

mod common;
use common::mcubench;

use std::path::{Path, PathBuf};

use mcubench::results::{JobKey, JobResult, Manifest, RunDir, ShardOf, Variant};

/// The whole selection of the fixture plan, in order: job k goes to shard (k mod n) + 1.
fn selection() -> Vec<JobResult> {
    let mut out = Vec::new();
    for board in ["nrf52840-dk", "pico"] {
        for variant in [Variant::Fp32, Variant::Fiq, Variant::Qat] {
            out.push(common::job(board, "digits", variant, &[1000, 1000]));
        }
    }
    out
}

/// Writes shard `index`/`count` of the fixture plan as `run --shard` would.
fn shard(dir: &Path, index: usize, count: usize) -> PathBuf {
    let mut manifest = common::manifest();
    let mut results = Vec::new();
    let mut positions = Vec::new();
    for (k, r) in selection().into_iter().enumerate() {
        if k % count == index - 1 {
            positions.push(k);
            results.push(r);
        }
    }
    manifest.run_id = format!("shard{index}");
    manifest.plan = results.iter().map(|r| r.key.clone()).collect();
    manifest.plan_sha256 = Some("ab12".into());
    manifest.shard = Some(ShardOf {
        index,
        count,
        positions,
    });
    manifest.firmware = [("pico".into(), "f1".into())].into();
    write_run(&dir.join(format!("shard{index}")), &manifest, &results)
}

fn write_run(path: &Path, manifest: &Manifest, results: &[JobResult]) -> PathBuf {
    let run = RunDir::create(path, manifest).unwrap();
    for r in results {
        run.append(r).unwrap();
        std::fs::write(run.log_path(&r.key), format!("log of {}\n", r.key)).unwrap();
    }
    path.to_owned()
}

fn edit_manifest(run: &Path, edit: impl FnOnce(&mut Manifest)) {
    let dir = RunDir::open(run).unwrap();
    let mut m = dir.manifest().unwrap();
    edit(&mut m);
    dir.write_manifest(&m).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn shards_merge_into_the_unsharded_order_with_logs_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (1..=3).map(|i| shard(tmp.path(), i, 3)).collect();
    let out = tmp.path().join("merged");
    // Given in any order.
    let (code, _, err) = mcubench(&[
        "merge",
        s(&parts[2]),
        s(&parts[0]),
        s(&parts[1]),
        "-o",
        s(&out),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("merged 3 runs into") && err.contains("6 jobs stored of 6 planned"),
        "{err}"
    );
    let merged = RunDir::open(&out).unwrap();
    let keys: Vec<JobKey> = selection().into_iter().map(|r| r.key).collect();
    let m = merged.manifest().unwrap();
    assert_eq!(m.plan, keys);
    assert_eq!(m.shard, None);
    assert_eq!(m.plan_sha256.as_deref(), Some("ab12"));
    assert_eq!(m.merged_from, ["shard3", "shard1", "shard2"]);
    assert_eq!(m.run_id, "merged");
    assert_eq!(merged.results().unwrap(), selection());
    assert!(out.join("results.csv").is_file());
    assert_eq!(std::fs::read_dir(out.join("logs")).unwrap().count(), 6);

    // Nothing already stored is overwritten, unless asked.
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    let (code, _, err) = mcubench(&[
        "merge",
        s(&parts[0]),
        s(&parts[1]),
        s(&parts[2]),
        "-o",
        s(&out),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("exists and is not empty; merge into a new directory, or pass --force"),
        "{err}"
    );
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    let (code, _, err) = mcubench(&[
        "merge",
        s(&parts[0]),
        s(&parts[1]),
        s(&parts[2]),
        "-o",
        s(&out),
        "--force",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        RunDir::open(&out).unwrap().manifest().unwrap().merged_from,
        ["shard1", "shard2", "shard3"]
    );
    // A run is never its own output.
    let (code, _, err) = mcubench(&["merge", s(&parts[0]), "-o", s(&parts[0]), "--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("is one of the runs to merge"), "{err}");
}

/// Merges shards 1/2 and 2/2 after `edit` changed shard 2; returns the error message.
fn refused(edit: impl FnOnce(&mut Manifest)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (shard(tmp.path(), 1, 2), shard(tmp.path(), 2, 2));
    edit_manifest(&b, edit);
    let out = tmp.path().join("merged");
    let (code, _, err) = mcubench(&["merge", s(&a), s(&b), "-o", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(!out.exists(), "a refused merge wrote {}", out.display());
    err.replace(s(tmp.path()), "<tmp>")
}

#[test]
fn shards_of_different_plans_or_builds_are_refused_naming_the_field() {
    type Edit = Box<dyn FnOnce(&mut Manifest)>;
    let cases: [(&str, Edit); 8] = [
        (
            "the git revision differs (<tmp>/shard1: none; <tmp>/shard2: 1a2b3c)",
            Box::new(|m| m.git_revision = Some("1a2b3c".into())),
        ),
        (
            "the targets.toml hash differs (<tmp>/shard1: 0; <tmp>/shard2: 99)",
            Box::new(|m| m.targets_sha256 = "99".into()),
        ),
        (
            "the firmware hash of board pico differs (<tmp>/shard1: f1; <tmp>/shard2: f2)",
            Box::new(|m| m.firmware = [("pico".into(), "f2".into())].into()),
        ),
        (
            "the cycle-model version differs (<tmp>/shard1: 1; <tmp>/shard2: 2)",
            Box::new(|m| m.cycle_model = Some("2".into())),
        ),
        (
            "the number of timed runs differs (<tmp>/shard1: 10; <tmp>/shard2: 3)",
            Box::new(|m| m.timed_runs = 3),
        ),
        (
            "the plan (the jobs selected before sharding) differs (<tmp>/shard1: --board all --workload all --variant all, plan ab12; <tmp>/shard2: --board all --workload all --variant all, plan cd34)",
            Box::new(|m| m.plan_sha256 = Some("cd34".into())),
        ),
        (
            "the shard count differs (<tmp>/shard1: 1/2; <tmp>/shard2: 2/3)",
            Box::new(|m| m.shard.as_mut().unwrap().count = 3),
        ),
        (
            "<tmp>/shard2/manifest.json does not record its plan (plan_sha256) (it was written by an older mcubench)",
            Box::new(|m| m.plan_sha256 = None),
        ),
    ];
    for (expected, edit) in cases {
        let err = refused(edit);
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    }
}

#[test]
fn missing_repeated_and_overlapping_shards_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (1..=3).map(|i| shard(tmp.path(), i, 3)).collect();
    let out = tmp.path().join("merged");
    let (code, _, err) = mcubench(&["merge", s(&parts[0]), s(&parts[2]), "-o", s(&out)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("shard 2/3 of the plan is missing (given: 1/3, 3/3); merge needs every shard"),
        "{err}"
    );
    let (code, _, err) = mcubench(&["merge", s(&parts[0]), s(&parts[0]), "-o", s(&out)]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 1/3 is given twice"), "{err}");
    assert!(!out.exists());

    // Whole runs on different boards merge; the same board twice does not.
    let whole = |name: &str, board: &str| {
        let mut m = common::manifest();
        m.run_id = name.into();
        m.selection.as_mut().unwrap().boards = vec![board.into()];
        let results: Vec<JobResult> = selection()
            .into_iter()
            .filter(|r| r.key.board == board)
            .collect();
        m.plan = results.iter().map(|r| r.key.clone()).collect();
        write_run(&tmp.path().join(name), &m, &results)
    };
    let (nrf, pico, pico2) = (
        whole("nrf", "nrf52840-dk"),
        whole("pico", "pico"),
        whole("pico-again", "pico"),
    );
    let (code, _, err) = mcubench(&["merge", s(&nrf), s(&pico), "-o", s(&out)]);
    assert_eq!(code, 0, "{err}");
    let merged = RunDir::open(&out).unwrap();
    assert_eq!(merged.results().unwrap(), selection());
    assert_eq!(
        merged.manifest().unwrap().selection.unwrap().boards,
        ["nrf52840-dk", "pico"]
    );
    let out2 = tmp.path().join("merged2");
    let (code, _, err) = mcubench(&["merge", s(&pico), s(&pico2), "-o", s(&out2)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("job pico/digits/fp32 is planned in both")
            && err.contains("a job may be in one part only"),
        "{err}"
    );
    // A shard and a whole run do not mix.
    let (code, _, err) = mcubench(&["merge", s(&parts[0]), s(&pico), "-o", s(&out2)]);
    assert_eq!(code, 2);
    assert!(err.contains("is shard 1/3 of a plan but"), "{err}");
    assert!(!out2.exists());
}

#[test]
fn a_manifest_from_before_plans_were_recorded_still_reads_and_merge_says_why_it_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (shard(tmp.path(), 1, 2), shard(tmp.path(), 2, 2));
    // The manifest as mcubench wrote it before it recorded selection, plan hash and shard.
    let path = b.join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for key in ["selection", "plan_sha256", "shard", "merged_from"] {
        json.as_object_mut().unwrap().remove(key);
    }
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let old = RunDir::open(&b).unwrap().manifest().unwrap();
    assert_eq!(
        (old.selection, old.plan_sha256, old.shard),
        (None, None, None)
    );
    assert_eq!(old.plan.len(), 3);

    let out = tmp.path().join("merged");
    let (code, _, err) = mcubench(&["merge", s(&a), s(&b), "-o", s(&out)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("shard2/manifest.json does not record its plan (plan_sha256) (it was written by an older mcubench); run that shard again with this version to merge it"),
        "{err}"
    );
    assert!(!out.exists());
}
