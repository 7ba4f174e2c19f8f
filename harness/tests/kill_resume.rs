//! Overnight safety: the harness is killed (SIGKILL) at arbitrary points of a matrix and resumed
//! until done; no finished job is lost or repeated, and the results equal an uninterrupted run's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use mcubench::results::{JobResult, RunDir};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const MATRIX: &[&str] = &[
    "--board",
    "pico,nrf52840-dk",
    "--workload",
    "digits",
    "--runs",
    "2",
    "-j",
    "1",
];

/// The matrix, or `--resume <id>` alone: a resumed run takes its filters from its manifest.
fn command(runs_dir: &Path, resume: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcubench"));
    cmd.arg("--root").arg(root()).arg("run");
    if resume.is_none() {
        cmd.args(MATRIX);
    }
    cmd.arg("--runs-dir").arg(runs_dir);
    cmd.arg("--no-report")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(id) = resume {
        cmd.args(["--resume", id]);
    }
    cmd
}

fn only_run(runs_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(runs_dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.is_dir())
}

/// Results without what legitimately differs between runs (host time).
fn comparable(results: Vec<JobResult>) -> Vec<JobResult> {
    let mut out: Vec<JobResult> = results
        .into_iter()
        .map(|mut r| {
            r.duration_s = 0.0;
            r
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

#[test]
fn killed_and_resumed_runs_lose_and_repeat_nothing() {
    let clean = tempfile::tempdir().unwrap();
    let status = command(clean.path(), None).status().unwrap();
    assert!(status.success());
    let expected = comparable(
        RunDir::open(&only_run(clean.path()).unwrap())
            .unwrap()
            .results()
            .unwrap(),
    );
    assert_eq!(expected.len(), 8);

    let killed = tempfile::tempdir().unwrap();
    // Fixed "random" kill points, in milliseconds after start.
    for delay_ms in [150u64, 900, 1700, 400, 2500, 1200] {
        let id =
            only_run(killed.path()).map(|p| p.file_name().unwrap().to_string_lossy().into_owned());
        let mut child = command(killed.path(), id.as_deref()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no handler runs, a write may be cut mid-line
        let _ = child.wait();
        if let Some(run) = only_run(killed.path()) {
            // Whatever is stored so far is readable and has no job twice.
            let so_far = RunDir::open(&run).and_then(|r| r.results());
            if let Ok(so_far) = so_far {
                let mut keys: Vec<_> = so_far.iter().map(|r| r.key.clone()).collect();
                keys.sort();
                keys.dedup();
                assert_eq!(keys.len(), so_far.len(), "a job was stored twice");
            }
        }
    }
    let id = only_run(killed.path()).map(|p| p.file_name().unwrap().to_string_lossy().into_owned());
    let status = command(killed.path(), id.as_deref()).status().unwrap();
    assert!(status.success());
    let run = only_run(killed.path()).unwrap();
    let got = comparable(RunDir::open(&run).unwrap().results().unwrap());
    assert_eq!(got, expected);
}

#[test]
fn resume_alone_takes_the_runs_selection_and_a_different_one_is_refused() {
    let runs = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mcubench"))
            .arg("--root")
            .arg(root())
            .arg("run")
            .args(args)
            .arg("--runs-dir")
            .arg(runs.path())
            .arg("--no-report")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[
        "--board",
        "pico",
        "--workload",
        "digits",
        "--variant",
        "fiq",
        "--runs",
        "1",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let dir = only_run(runs.path()).unwrap();
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    // Drop the stored job, as if the run had been killed before it finished.
    std::fs::write(dir.join("results.jsonl"), "").unwrap();
    let (code, err) = run(&["--resume", &id]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("plan: 1 jobs to run"), "{err}");
    let results = RunDir::open(&dir).unwrap().results().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].key.to_string(), "pico/digits/fiq");
    assert_eq!(
        results[0].latency.as_ref().unwrap().cycles.len(),
        1,
        "--runs 1 kept"
    );

    let (code, err) = run(&["--resume", &id, "--workload", "kws", "--runs", "2"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot resume"), "{err}");
    assert!(
        err.contains(
            "--workload kws (the run has digits); --runs 2 (the run has 1); give --resume alone"
        ),
        "{err}"
    );
}
