//! Shared by the harness's integration tests: results for tests of the store, compare and
//! report, and running the mcubench binary.
#![allow(dead_code)]

use mcubench::results::{
    Accuracy, Energy, Flash, JobKey, JobResult, JobStatus, Latency, Manifest, OpProfile, Ram,
    Variant,
};

pub fn job(board: &str, workload: &str, variant: Variant, cycles: &[u64]) -> JobResult {
    let clock_hz = 64_000_000;
    JobResult {
        key: JobKey {
            board: board.into(),
            workload: workload.into(),
            variant,
        },
        status: JobStatus::Ok,
        failure: None,
        deploy: "emulator".into(),
        cycle_model: Some("1".into()),
        clock_hz,
        latency: Latency::from_cycles(cycles, clock_hz),
        flash: Some(Flash {
            firmware_bytes: 20_000,
            model_bytes: 53_936,
            partition_bytes: 55_000,
            total_bytes: 75_000,
        }),
        ram: Some(Ram {
            data_bytes: 8,
            bss_bytes: 90_000,
            stack_peak_bytes: 2_000,
            arena_bytes: 60_000,
            peak_bytes: 92_008,
        }),
        energy: Some(Energy {
            energy_uj: 150.0,
            estimated: true,
            method: "3.0 V x 3.3 mA x latency".into(),
        }),
        correct: Some(true),
        accuracy: None,
        ops: Vec::new(),
        attempts: 1,
        duration_s: 1.5,
    }
}

/// The profile of a small CNN (conv, depthwise, pool, dense, softmax) whose operators' cycles
/// sum to `total`, split 50/25/5/15/5 %.
pub fn ops(total: u64) -> Vec<OpProfile> {
    let layers: [(&str, &[u32], u64, u64); 5] = [
        ("CONV_2D", &[1, 16, 16, 8], 294_912, 50),
        ("DEPTHWISE_CONV_2D", &[1, 16, 16, 8], 18_432, 25),
        ("AVERAGE_POOL_2D", &[1, 1, 1, 8], 0, 5),
        ("FULLY_CONNECTED", &[1, 10], 80, 15),
        ("SOFTMAX", &[1, 10], 0, 5),
    ];
    layers
        .iter()
        .enumerate()
        .map(|(i, (name, shape, macs, pct))| OpProfile {
            index: i as u32,
            name: (*name).into(),
            output_shape: shape.to_vec(),
            macs: *macs,
            cycles: total * pct / 100,
        })
        .collect()
}

pub fn manifest() -> Manifest {
    Manifest {
        mcubench_version: "0.1.0".into(),
        run_id: "test".into(),
        created_utc: "2026-11-24T00:00:00Z".into(),
        host: "test".into(),
        git_revision: None,
        git_dirty: None,
        toolchain: "rustc 1.95.0".into(),
        targets_sha256: "0".into(),
        firmware: Default::default(),
        models: Default::default(),
        cycle_model: Some("1".into()),
        plan: vec![],
        warmup_runs: 2,
        timed_runs: 10,
        boards: Default::default(),
        selection: Some(Default::default()),
        plan_sha256: Some("0".into()),
        shard: None,
        merged_from: Vec::new(),
    }
}

/// A small matrix as a run would store it: two boards, two workloads, several variants,
/// one failed job and accuracy for one workload.
pub fn matrix() -> Vec<JobResult> {
    let mut out = Vec::new();
    for (board, clock, scale) in [
        ("nrf52840-dk", 64_000_000u64, 1.0),
        ("pico", 125_000_000, 2.6),
    ] {
        for (workload, base) in [("digits", 400_000.0), ("kws", 2_600_000.0)] {
            for (variant, factor) in [
                (Variant::Fp32, 1.0),
                (Variant::Drq, 0.8),
                (Variant::Fiq, 0.35),
                (Variant::Qat, 0.36),
            ] {
                let cycles = (base * factor * scale) as u64;
                let mut r = job(board, workload, variant, &[cycles, cycles + 7, cycles]);
                r.clock_hz = clock;
                r.latency = Latency::from_cycles(&[cycles, cycles + 7, cycles], clock);
                if workload == "digits" {
                    r.accuracy = Some(Accuracy {
                        metric: "top1".into(),
                        device: 0.95 - factor / 100.0,
                        host: 0.95 - factor / 100.0,
                        agreement: 1.0,
                        samples: 200,
                    });
                }
                if board == "pico" && workload == "kws" && variant == Variant::Fp32 {
                    r.status = JobStatus::Failed;
                    r.failure = Some("model does not fit: arena needs 300 KiB".into());
                    r.latency = None;
                }
                out.push(r);
            }
        }
    }
    out
}

/// The mcubench checkout these tests run in.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the mcubench binary with `args`: its exit code, stdout and stderr.
pub fn mcubench(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mcubench"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`mcubench`] in this checkout (`--root`).
pub fn mcubench_here(args: &[&str]) -> (i32, String, String) {
    let root = root();
    let mut all = vec!["--root", root.to_str().unwrap()];
    all.extend_from_slice(args);
    mcubench(&all)
}

/// The one run directory `mcubench run --runs-dir runs` made.
pub fn only_run(runs: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(runs)
        .unwrap()
        .next()
        .expect("a run directory")
        .unwrap()
        .path()
}
