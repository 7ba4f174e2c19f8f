//! Per-operator cycles: the firmware's profiling run after the timed runs reports one `@op`
//! record per operator of the model, and the operators' cycles add up to a timed run's.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use mcubench::deploy::{EmulatorDeployer, Limits};
use mcubench::firmware;
use mcubench::job::{self, RunSettings};
use mcubench::project::Project;
use mcubench::results::{JobStatus, Variant};
use mcubench::size;
use mcubench::workloads::Workload;

#[test]
fn a_job_reports_each_operators_cycles_and_they_add_up_to_a_timed_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::discover(Some(&root)).unwrap();
    let targets = project.targets().unwrap();
    let workloads = Workload::load_all(&project.root).unwrap();
    let digits = workloads.iter().find(|w| w.name == "digits").unwrap();
    let variant = digits.variant(Variant::Fiq).unwrap();
    let bytes = std::fs::read(&variant.model).unwrap();
    let model = engine::Model::parse("digits/fiq", &bytes).unwrap();
    let settings = RunSettings {
        warmup_runs: 1,
        timed_runs: 2,
        sample: 0,
        limits: Limits::default(),
        accuracy: None,
    };
    // One core of each kind: the M4's DWT cycle counter and the M0+'s SysTick.
    for name in ["nucleo-l4r5zi", "pico"] {
        let board = targets.boards.iter().find(|b| b.name == name).unwrap();
        let fw = firmware::build(&project, board).unwrap();
        let elf = std::fs::read(&fw.elf).unwrap();
        let size = size::measure(&fw.elf, board).unwrap();
        let prepared = job::prepare(board, digits, variant, &settings).unwrap();
        let (result, log, _) = job::execute(
            board,
            &EmulatorDeployer,
            &elf,
            &size,
            &prepared,
            &settings,
            &AtomicBool::new(false),
        );
        let log = String::from_utf8_lossy(&log);
        assert_eq!(result.status, JobStatus::Ok, "{name}: {log}");
        assert_eq!(result.ops.len(), model.operator_count(), "{name}: {log}");
        for (i, op) in result.ops.iter().enumerate() {
            let summary = engine::summary::op_summary(&model, i).unwrap();
            assert_eq!(op.index as usize, i);
            assert_eq!((op.name.as_str(), op.macs), (summary.name, summary.macs));
            assert!(op.cycles > 0, "{name}: operator {i} took no cycles");
        }
        // The profiling run adds a cycle-counter read and a call per operator, and the records
        // written between operators evict some of the flash cache (the pico's 16 KB XIP cache
        // most): within 2 % of the median timed run (measured: 0.19 % nucleo, 0.75 % pico).
        let sum: u64 = result.ops.iter().map(|o| o.cycles).sum();
        let median = result.latency.as_ref().unwrap().cycles_median;
        let diff_pct = (sum as f64 - median).abs() / median * 100.0;
        assert!(
            diff_pct < 2.0,
            "{name}: operators sum to {sum} cycles, the median timed run is {median} ({diff_pct:.2} % apart)"
        );
        eprintln!(
            "{name}: {sum} cycles in operators, {median} per timed run ({diff_pct:.3} % apart)"
        );
    }
}
