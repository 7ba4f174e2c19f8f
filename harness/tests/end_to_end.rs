//! The whole loop on the virtual boards through the `mcubench` binary: run a small matrix,
//! check the run directory, regenerate the report, compare the run with itself.

mod common;
use common::{mcubench_here as mcubench, root};

use std::path::{Path, PathBuf};

#[test]
fn a_small_matrix_runs_reports_and_compares_clean_with_itself() {
    let runs = tempfile::tempdir().unwrap();
    let runs_dir = runs.path().to_str().unwrap();
    let (code, _, err) = mcubench(&[
        "run",
        "--board",
        "pico,nrf52840-dk",
        "--workload",
        "digits",
        "--variant",
        "fiq,qat",
        "--runs",
        "2",
        "--runs-dir",
        runs_dir,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("plan: 4 jobs to run, 0 rejected"), "{err}");
    let run: PathBuf = common::only_run(runs.path());
    for f in [
        "manifest.json",
        "results.jsonl",
        "results.csv",
        "report/report.md",
        "report/report.tex",
    ] {
        assert!(run.join(f).is_file(), "{f} missing in {}", run.display());
    }
    let jsonl = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 4);
    assert!(jsonl
        .lines()
        .all(|l| l.contains("\"status\":\"ok\"") && l.contains("\"correct\":true")));
    assert_eq!(std::fs::read_dir(run.join("logs")).unwrap().count(), 4);
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(
        manifest.contains(&format!(
            "\"cycle_model\": \"{}\"",
            emulator::CYCLE_MODEL_VERSION
        )),
        "{manifest}"
    );
    let md = std::fs::read_to_string(run.join("report/report.md")).unwrap();
    assert!(
        md.contains(&format!(
            "Emulated on mcubench virtual boards (cycle model {}).",
            emulator::CYCLE_MODEL_VERSION
        )),
        "{md}"
    );

    // Regenerating the report from the run directory gives the same bytes.
    let before = std::fs::read(run.join("report/report.md")).unwrap();
    let (code, _, err) = mcubench(&["report", run.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(run.join("report/report.md")).unwrap(), before);

    let (code, out, err) = mcubench(&["compare", run.to_str().unwrap(), run.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("## mcubench: no regression"), "{out}");

    // Resuming a finished run redoes nothing.
    let id = run.file_name().unwrap().to_str().unwrap();
    let (code, _, err) = mcubench(&[
        "run",
        "--board",
        "pico,nrf52840-dk",
        "--workload",
        "digits",
        "--variant",
        "fiq,qat",
        "--runs",
        "2",
        "--runs-dir",
        runs_dir,
        "--resume",
        id,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 jobs stored, 0 to run"), "{err}");
    assert_eq!(
        std::fs::read_to_string(run.join("results.jsonl")).unwrap(),
        jsonl
    );
}

#[test]
fn bad_filters_and_a_missing_run_are_clear_errors() {
    let (code, _, err) = mcubench(&["run", "--board", "esp32", "--dry-run"]);
    assert_eq!(code, 2);
    // The known boards are targets.toml's, in its order.
    let targets = mcubench::targets::load(&root().join("targets.toml")).unwrap();
    let known: Vec<&str> = targets.boards.iter().map(|b| b.name.as_str()).collect();
    let expected = format!(
        "--board \"esp32\" matches nothing (known: {})",
        known.join(", ")
    );
    assert!(err.contains(&expected), "{err}");
    let (code, _, err) = mcubench(&["compare", "/nonexistent/a", "/nonexistent/b"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such run directory"), "{err}");
    let (code, _, err) = mcubench(&["report", "/nonexistent/a"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn emulate_runs_a_semihosting_hello_world_and_reports_speed() {
    let elf = root().join("emulator/tests/fixtures/hello-m4f.elf");
    let (code, out, err) =
        mcubench(&["emulate", "--board", "nucleo-l4r5zi", elf.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Hello, world! 42\n");
    assert!(
        err.contains("instructions")
            && err.contains(&format!(
                "emulated, cycle model {}",
                emulator::CYCLE_MODEL_VERSION
            ))
            && err.contains("MIPS"),
        "{err}"
    );
    assert!(err.contains("exited with code 0 (semihosting)"), "{err}");
    assert!(
        err.contains("(CPI ") && err.contains("instruction cache on"),
        "{err}"
    );
    // --profile: cycles by function, from the ELF's symbols.
    let (code, _, err) = mcubench(&[
        "emulate",
        "--board",
        "nucleo-l4r5zi",
        "--profile",
        elf.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("cycles by function") && err.contains("reset"),
        "{err}"
    );
    // --profile-addresses: every address's cycles, with its function, in address order.
    let dir = tempfile::tempdir().unwrap();
    let addresses = dir.path().join("addresses.txt");
    let (code, _, err) = mcubench(&[
        "emulate",
        "--board",
        "nucleo-l4r5zi",
        "--profile",
        "--profile-addresses",
        addresses.to_str().unwrap(),
        elf.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&addresses).unwrap();
    let rows: Vec<(u32, u64)> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                u32::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap(),
                f[1].parse().unwrap(),
            )
        })
        .collect();
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "{text}");
    assert!(
        rows.iter().all(|&(_, c)| c > 0) && text.contains("reset"),
        "{text}"
    );
    // Linked for 0x0800_0000: the pico has no memory there.
    let (code, _, err) = mcubench(&["emulate", "--board", "pico", elf.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("lies outside the board's memory regions"),
        "{err}"
    );
}

#[test]
fn emulate_runs_a_workload_on_the_benchmark_firmware_with_its_profile() {
    let (code, out, err) = mcubench(&["build", "--board", "pico"]);
    assert_eq!(code, 0, "{err}");
    let elf = out
        .lines()
        .chain(err.lines())
        .find_map(|l| l.strip_prefix("pico: "))
        .map(|l| l.trim_end_matches(" (cached)").to_owned())
        .unwrap_or_else(|| panic!("no ELF path in {out} {err}"));
    let (code, out, err) = mcubench(&[
        "emulate",
        "--board",
        "pico",
        "--workload",
        "digits",
        "--variant",
        "fiq",
        "--profile",
        &elf,
    ]);
    assert_eq!(code, 0, "{err}");
    // The firmware found the partition: the job's records, then the profile of its inference.
    assert!(
        out.contains("@run index=0") && out.contains("@done"),
        "{out}"
    );
    assert!(
        err.contains("cycles by function") && err.contains("engine"),
        "{err}"
    );
    // A variant needs a workload, and an unknown workload is named.
    let (code, _, _) = mcubench(&["emulate", "--board", "pico", "--variant", "fiq", &elf]);
    assert_eq!(code, 2);
    let (code, _, err) = mcubench(&[
        "emulate",
        "--board",
        "pico",
        "--workload",
        "nope",
        "--variant",
        "fiq",
        &elf,
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("no workload \"nope\""), "{err}");
}

#[test]
fn a_slower_firmware_is_a_regression_naming_board_workload_variant_metric_and_size() {
    let runs = tempfile::tempdir().unwrap();
    let runs_dir = runs.path().to_str().unwrap();
    let matrix = [
        "run",
        "--board",
        "nucleo-l4r5zi",
        "--workload",
        "mlperf-kws",
        "--variant",
        "fiq",
        "--runs",
        "1",
        "--no-report",
        "--runs-dir",
        runs_dir,
    ];
    let (code, _, err) = mcubench(&matrix);
    assert_eq!(code, 0, "{err}");
    let baseline = common::only_run(runs.path());
    // The same matrix without the Cortex-M4 DSP kernels: a slower firmware.
    let mut slow = matrix.to_vec();
    slow.push("--portable-kernels");
    let (code, _, err) = mcubench(&slow);
    assert_eq!(code, 0, "{err}");
    let run = std::fs::read_dir(runs.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != baseline)
        .unwrap();
    let (code, out, err) =
        mcubench(&["compare", baseline.to_str().unwrap(), run.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("## mcubench: "), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("| nucleo-l4r5zi/mlperf-kws/fiq | latency (cycles, median) |"))
        .unwrap_or_else(|| panic!("{out}"));
    let change: f64 = line
        .rsplit('|')
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches(" %")
        .parse()
        .unwrap();
    assert!(change > 5.0, "{line}");
}

#[test]
fn shards_merged_equal_the_unsharded_run_job_for_job() {
    use mcubench::results::{JobResult, RunDir};
    let runs = tempfile::tempdir().unwrap();
    // Eight jobs, one of them rejected (nrf52840-dk/mlperf-ad/fp32 does not fit), so that the
    // shards' positions in the whole selection are not simply every other job.
    let matrix = |runs_dir: &str, shard: Option<&str>| {
        let mut args = vec![
            "run",
            "--board",
            "nrf52840-dk,pico",
            "--workload",
            "digits,mlperf-ad",
            "--variant",
            "fp32,fiq",
            "--warmup",
            "0",
            "--runs",
            "1",
            "--no-report",
            "--runs-dir",
        ];
        args.push(runs_dir);
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let (code, _, err) = mcubench(&args);
        assert_eq!(code, 0, "{err}");
        let dir = Path::new(runs_dir);
        let run = std::fs::read_dir(dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        (run, err)
    };
    let sub = |name: &str| {
        let p = runs.path().join(name);
        std::fs::create_dir(&p).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (whole, err) = matrix(&sub("whole"), None);
    assert!(err.contains("plan: 7 jobs to run, 1 rejected"), "{err}");
    let (one, err) = matrix(&sub("one"), Some("1/2"));
    assert!(err.contains("plan: 3 jobs to run, 1 rejected"), "{err}");
    let (two, err) = matrix(&sub("two"), Some("2/2"));
    assert!(err.contains("plan: 4 jobs to run, 0 rejected"), "{err}");

    let merged = runs.path().join("merged");
    let (code, _, err) = mcubench(&[
        "merge",
        two.to_str().unwrap(),
        one.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");

    let (whole, merged) = (
        RunDir::open(&whole).unwrap(),
        RunDir::open(&merged).unwrap(),
    );
    let (wm, mm) = (whole.manifest().unwrap(), merged.manifest().unwrap());
    assert_eq!(
        mm.plan, wm.plan,
        "the merged plan is the unsharded plan, in order"
    );
    assert_eq!(mm.plan_sha256, wm.plan_sha256);
    assert_eq!(mm.firmware, wm.firmware);
    assert_eq!(mm.models, wm.models);
    // Everything measured is equal (emulated cycles are deterministic); only the host time
    // a job took differs.
    let measured = |run: &RunDir| {
        let mut rs: Vec<JobResult> = run.results().unwrap();
        for r in &mut rs {
            r.duration_s = 0.0;
        }
        rs.sort_by(|a, b| a.key.cmp(&b.key));
        rs
    };
    let (w, m) = (measured(&whole), measured(&merged));
    assert_eq!(w.len(), 7);
    assert_eq!(m, w);
    // Per-operator cycles are kept through the merge.
    assert!(m.iter().all(|r| !r.ops.is_empty()), "{m:?}");
    assert_eq!(
        std::fs::read_dir(merged.path.join("logs")).unwrap().count(),
        7
    );

    // And compare agrees: the merged run against the unsharded one is clean.
    let (code, out, err) = mcubench(&[
        "compare",
        whole.path.to_str().unwrap(),
        merged.path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("7 jobs compared, 0 new, 0 missing"), "{out}");
}

/// Accuracy mode over both transports' host-to-device side: RTT down-channel (pico) and the
/// Artemis UART's receive FIFO. The engine in the firmware is the host engine's code, so the
/// device's metric equals the host reference's and every output agrees.
#[test]
fn accuracy_mode_streams_the_test_set_over_rtt_and_uart() {
    let runs = tempfile::tempdir().unwrap();
    let (code, _, err) = mcubench(&[
        "run",
        "--board",
        "pico,sparkfun-artemis",
        "--workload",
        "digits,anomaly",
        "--variant",
        "fiq",
        "--runs",
        "1",
        "--accuracy-samples",
        "40",
        "--runs-dir",
        runs.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let run = common::only_run(runs.path());
    let jsonl = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 4, "{jsonl}");
    for line in jsonl.lines() {
        let job: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(job["status"], "ok", "{line}");
        let accuracy = &job["accuracy"];
        assert_eq!(accuracy["samples"], 40, "{line}");
        assert_eq!(accuracy["agreement"], 1.0, "{line}");
        assert_eq!(accuracy["device"], accuracy["host"], "{line}");
        let metric = if job["workload"] == "digits" {
            "top1"
        } else {
            "auc"
        };
        assert_eq!(accuracy["metric"], metric, "{line}");
        let device = accuracy["device"].as_f64().unwrap();
        // The trained models score well above chance on their test sets.
        assert!(device > 0.7 && device <= 1.0, "{line}");
    }
    let md = std::fs::read_to_string(run.join("report/report.md")).unwrap();
    assert!(
        md.contains("**digits: top1 before and after deployment**"),
        "{md}"
    );
    assert!(md.contains("over the same 40 test samples"), "{md}");
}
