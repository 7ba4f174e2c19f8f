//! The run directory store and the compare verdict.

use mcubench::compare::{compare, markdown, Change, Metric, Thresholds};
mod common;

use common::{job, manifest};
use mcubench::results::{JobStatus, Latency, RunDir, Variant};

#[test]
fn latency_statistics() {
    let l = Latency::from_cycles(&[100, 300, 200, 400], 1_000_000).unwrap();
    assert_eq!((l.cycles_min, l.cycles_max), (100, 400));
    assert_eq!(l.cycles_median, 250.0);
    assert_eq!(l.cycles_mean, 250.0);
    assert!((l.ms_median - 0.25).abs() < 1e-12);
    assert!((l.spread_pct - 120.0).abs() < 1e-9);
    assert!(Latency::from_cycles(&[], 1).is_none());
}

#[test]
fn results_survive_a_torn_write_and_name_a_corrupted_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run");
    let run = RunDir::create(&path, &manifest()).unwrap();
    assert!(
        RunDir::create(&path, &manifest()).is_err(),
        "an existing run is never reused"
    );
    let a = job("pico", "kws", Variant::Fiq, &[10, 11, 12]);
    let b = job("pico", "kws", Variant::Fp32, &[20, 21, 22]);
    run.append(&a).unwrap();
    run.append(&b).unwrap();
    assert_eq!(run.results().unwrap(), vec![a.clone(), b.clone()]);

    // The harness was killed half-way through writing a third line.
    let file = path.join(RunDir::RESULTS);
    let mut bytes = std::fs::read(&file).unwrap();
    let full = bytes.len();
    bytes.extend_from_slice(b"{\"board\":\"pico\",\"workl");
    std::fs::write(&file, &bytes).unwrap();
    assert_eq!(run.results().unwrap(), vec![a.clone(), b.clone()]);
    run.repair().unwrap();
    assert_eq!(std::fs::read(&file).unwrap().len(), full);

    // A line edited by hand in the middle is an error naming the line; nothing is rewritten.
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text.replacen("\"status\":\"ok\"", "\"status\":\"fine\"", 1);
    std::fs::write(&file, &broken).unwrap();
    let err = run.results().unwrap_err().to_string();
    assert!(
        err.contains("results.jsonl:1: not a valid result line"),
        "{err}"
    );
    assert!(err.contains("unknown variant `fine`"), "{err}");
    assert!(run.repair().is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);

    run.write_csv().unwrap_err();
    std::fs::write(&file, &text).unwrap();
    run.write_csv().unwrap();
    let csv = std::fs::read_to_string(path.join(RunDir::CSV)).unwrap();
    let header = csv.lines().next().unwrap();
    for column in [
        "latency_ms_median",
        "flash_bytes_total",
        "ram_bytes_peak",
        "energy_uj",
    ] {
        assert!(
            header.split(',').any(|c| c == column),
            "{column} in {header}"
        );
    }
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn operator_cycles_are_stored_and_lines_without_them_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::create(&dir.path().join("run"), &manifest()).unwrap();
    let mut profiled = job("pico", "kws", Variant::Fiq, &[1000]);
    profiled.ops = common::ops(1000);
    let plain = job("pico", "kws", Variant::Qat, &[1000]);
    run.append(&profiled).unwrap();
    run.append(&plain).unwrap();
    assert_eq!(run.results().unwrap(), vec![profiled, plain.clone()]);
    let text = std::fs::read_to_string(dir.path().join("run").join(RunDir::RESULTS)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains(r#""ops":[{"index":0,"name":"CONV_2D","output_shape":[1,16,16,8],"macs":294912,"cycles":500}"#),
        "{}",
        lines[0]
    );
    // A job without a profile writes no `ops` field: lines stay as mcubench wrote them before.
    assert!(!lines[1].contains("ops"), "{}", lines[1]);
    let old: mcubench::results::JobResult = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(old, plain);
}

#[test]
fn a_missing_run_directory_is_a_clear_error() {
    let err = RunDir::open(std::path::Path::new("/nonexistent/run")).unwrap_err();
    assert!(err.to_string().contains("no such run directory"), "{err}");
}

#[test]
fn a_run_compared_with_itself_is_clean() {
    let run = vec![
        job("pico", "kws", Variant::Fiq, &[1000, 1000]),
        job("nrf52840-dk", "kws", Variant::Fiq, &[800, 800]),
    ];
    let c = compare(&run, &run, Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 0);
    assert_eq!(c.matched, 2);
    assert!(c.deltas.iter().all(|d| d.change == Change::Unchanged));
    assert!(markdown(&c, "base", "run").starts_with("## mcubench: no regression\n"));
}

#[test]
fn a_slower_and_bigger_run_is_a_regression_naming_job_metric_and_size() {
    let base = vec![job("pico", "kws", Variant::Fiq, &[1_000_000])];
    let mut slow = job("pico", "kws", Variant::Fiq, &[1_050_000]);
    slow.flash.as_mut().unwrap().total_bytes += 4096;
    let c = compare(&base, &[slow], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 1);
    let regressions: Vec<_> = c.regressions().map(|d| d.metric).collect();
    assert_eq!(regressions, [Metric::LatencyCycles, Metric::FlashBytes]);
    let md = markdown(&c, "results/baseline", "results/runs/x");
    assert!(
        md.contains("| pico/kws/fiq | latency (cycles, median) | 1000000 | 1050000 | +5.00 % |"),
        "{md}"
    );
    insta::assert_snapshot!("regression_verdict", md);

    // Within the threshold it is not.
    let tiny = job("pico", "kws", Variant::Fiq, &[1_005_000]);
    assert_eq!(
        compare(&base, &[tiny], Thresholds::default())
            .unwrap()
            .exit_code(),
        0
    );
    // Faster is an improvement, not a regression.
    let fast = job("pico", "kws", Variant::Fiq, &[900_000]);
    let c = compare(&base, &[fast], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 0);
    assert_eq!(c.improvements().count(), 1);
}

#[test]
fn a_slower_job_names_the_operators_whose_cycles_grew_most() {
    let mut base = job("pico", "kws", Variant::Fiq, &[1_000_000]);
    base.ops = common::ops(1_000_000);
    let mut slow = job("pico", "kws", Variant::Fiq, &[1_050_000]);
    slow.ops = common::ops(1_000_000);
    slow.ops[1].cycles += 45_000; // DEPTHWISE_CONV_2D
    slow.ops[0].cycles += 10_000; // CONV_2D
    slow.ops[4].cycles -= 5_000; // SOFTMAX got faster: not named
    let c = compare(&[base.clone()], &[slow.clone()], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 1);
    let named: Vec<(u32, &str, u64, u64)> = c
        .operators
        .iter()
        .map(|g| (g.index, g.name.as_str(), g.baseline_cycles, g.run_cycles))
        .collect();
    assert_eq!(
        named,
        [
            (1, "DEPTHWISE_CONV_2D", 250_000, 295_000),
            (0, "CONV_2D", 500_000, 510_000)
        ]
    );
    let md = markdown(&c, "results/baseline", "results/runs/x");
    assert!(
        md.contains("| pico/kws/fiq | #1 DEPTHWISE_CONV_2D | 250000 | 295000 | +18.00 % |"),
        "{md}"
    );
    insta::assert_snapshot!("regression_verdict_with_operators", md);

    // A baseline stored before per-operator cycles (no `ops`) still compares: the regression
    // is found, no operator is named.
    base.ops.clear();
    let c = compare(&[base.clone()], &[slow.clone()], Thresholds::default()).unwrap();
    assert_eq!(c.regressions().count(), 1);
    assert!(c.operators.is_empty());
    assert!(!markdown(&c, "b", "r").contains("Operators that grew"));

    // Another model (other operators) is not compared operator by operator.
    base.ops = common::ops(1_000_000);
    base.ops[2].name = "MAX_POOL_2D".into();
    let c = compare(&[base], &[slow.clone()], Thresholds::default()).unwrap();
    assert!(c.operators.is_empty());

    // Operators that grew in a job that did not regress are not named.
    let mut same = slow.clone();
    same.latency = job("pico", "kws", Variant::Fiq, &[1_000_000]).latency;
    let mut base = job("pico", "kws", Variant::Fiq, &[1_000_000]);
    base.ops = common::ops(1_000_000);
    let c = compare(&[base], &[same], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 0);
    assert!(c.operators.is_empty());
}

#[test]
fn emulated_latency_is_not_compared_across_cycle_model_versions() {
    let base = vec![job("pico", "kws", Variant::Fiq, &[1_000_000])];
    let mut other = job("pico", "kws", Variant::Fiq, &[2_000_000]);
    other.cycle_model = Some("2".into());
    let c = compare(&base, &[other], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 0);
    assert!(c
        .not_compared
        .iter()
        .any(|n| n.metric == Metric::LatencyCycles
            && n.reason
                .contains("cycle model 1 in the baseline and 2 in the run")));
}

#[test]
fn failed_jobs_new_and_missing_jobs_and_a_foreign_baseline() {
    let base = vec![
        job("pico", "kws", Variant::Fiq, &[1000]),
        job("pico", "kws", Variant::Fp32, &[1000]),
    ];
    let mut failed = job("pico", "kws", Variant::Fiq, &[]);
    failed.status = JobStatus::Failed;
    failed.failure = Some("output differs from the golden output at byte 3".into());
    let added = job("pico", "digits", Variant::Fiq, &[10]);
    let c = compare(&base, &[failed, added], Thresholds::default()).unwrap();
    assert_eq!(c.exit_code(), 1);
    assert_eq!(c.new_jobs.len(), 1);
    assert_eq!(c.missing_jobs.len(), 1);
    let md = markdown(&c, "b", "r");
    assert!(md.starts_with("## mcubench: 1 failed job\n"), "{md}");
    assert!(md.contains("| pico/kws/fiq | output differs from the golden output at byte 3 |"));

    let foreign = vec![job("esp32", "kws", Variant::Fiq, &[1000])];
    let err = compare(&base, &foreign, Thresholds::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no job in common (baseline boards: pico; run boards: esp32)"),
        "{err}"
    );
}
