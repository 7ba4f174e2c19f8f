//! The real-board commands on a host with no hardware: `probes` and `doctor` say what is
//! missing, `run --deploy hw` stores a failed job with the reason instead of hanging, and the
//! probe back end's RTT reader follows the real firmware through the emulator's memory.

mod common;
use common::{mcubench_here as mcubench, root};

use std::path::Path;

use mcubench::deploy::emulator::{Limits, VirtualBoard};
use mcubench::deploy::rtt::{self, Rtt};
use mcubench::firmware;
use mcubench::project::Project;
use mcubench::stream::RecordStream;

#[test]
fn probes_with_none_attached_says_so_in_one_sentence() {
    let (code, stdout, _) = mcubench(&["probes"]);
    assert_eq!(code, 0);
    // The build machines have no probe; a developer's may.
    if stdout.starts_with("no debug probe found") {
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(stdout.contains("udev rules of docs/HARDWARE.md"));
    }
}

#[test]
fn doctor_with_no_hardware_names_what_each_board_needs() {
    let (code, stdout, stderr) = mcubench(&["doctor"]);
    assert_eq!(code, 0, "{stderr}");
    for board in ["nucleo-l4r5zi", "nrf52840-dk", "sparkfun-artemis", "pico"] {
        assert!(stdout.contains(&format!("  {board}: ")), "{stdout}");
    }
    assert!(stdout.contains("debug probes:") && stdout.contains("energy meters:"));
    if !Path::new("/dev/ttyUSB0").exists() {
        assert!(
            stdout.contains("/dev/ttyUSB0 is not a serial port of this host"),
            "{stdout}"
        );
    }
}

#[test]
fn a_hardware_run_without_the_board_stores_a_failed_job_with_the_reason() {
    if Path::new("/dev/ttyUSB0").exists() {
        return; // A real Artemis may be on this host.
    }
    let runs = tempfile::tempdir().unwrap();
    let (code, _, stderr) = mcubench(&[
        "run",
        "--deploy",
        "hw",
        "--board",
        "sparkfun-artemis",
        "--workload",
        "digits",
        "--variant",
        "fiq",
        "--no-report",
        "--runs-dir",
        runs.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "one failed job: {stderr}");
    let run = common::only_run(runs.path());
    let line = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    assert!(line.contains("\"status\":\"failed\""), "{line}");
    assert!(
        line.contains("cannot open serial port /dev/ttyUSB0") && line.contains("mcubench doctor"),
        "{line}"
    );
    assert!(
        line.contains("\"deploy\":\"serial (SparkFun Variable Loader)\""),
        "{line}"
    );
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"voltage_v\": 3.3"), "{manifest}");
    assert!(!manifest.contains("\"cycle_model\": \"0\""), "{manifest}");
}

#[test]
fn a_probe_board_without_a_probe_fails_its_job_with_the_probe_sentence() {
    let (_, probes, _) = mcubench(&["probes"]);
    if !probes.starts_with("no debug probe found") {
        return; // A probe is attached to this host.
    }
    let runs = tempfile::tempdir().unwrap();
    let (code, _, stderr) = mcubench(&[
        "run",
        "--deploy",
        "hw",
        "--board",
        "pico",
        "--workload",
        "digits",
        "--variant",
        "fiq",
        "--no-report",
        "--runs-dir",
        runs.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let run = common::only_run(runs.path());
    let line = std::fs::read_to_string(run.join("results.jsonl")).unwrap();
    assert!(line.contains("\"deploy\":\"probe-rs\""), "{line}");
    assert!(line.contains("no debug probe found: plug in"), "{line}");
}

#[test]
fn the_rtt_reader_follows_the_pico_firmware_in_emulated_memory() {
    let project = Project::discover(Some(&root())).unwrap();
    let targets = project.targets().unwrap();
    let pico = targets.boards.iter().find(|b| b.name == "pico").unwrap();
    let fw = firmware::build(&project, pico).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();

    // The reference: the virtual board's own RTT reading.
    let reference = VirtualBoard::new(pico, &elf, "fw.elf")
        .unwrap()
        .run(Limits::default(), |_| {});

    // The probe back end's reader, polling memory between slices as a probe would.
    let mut vb = VirtualBoard::new(pico, &elf, "fw.elf").unwrap();
    let cb = vb.machine.symbols().address_of(rtt::SYMBOL).unwrap();
    let mut stream = RecordStream::new();
    let mut reader: Option<Rtt> = None;
    let mut chunk = Vec::new();
    for _ in 0..100_000 {
        let stop = vb.machine.run(100_000);
        if reader.is_none() {
            reader = Rtt::attach(&mut vb.machine, cb).ok();
        }
        if let Some(r) = &reader {
            chunk.clear();
            r.read_up(&mut vb.machine, 0, &mut chunk).unwrap();
            stream.feed(&chunk);
        }
        if stream.measurements.finished() || stop != emulator::StopReason::BudgetExhausted {
            break;
        }
    }
    assert!(
        stream.measurements.done,
        "{}",
        String::from_utf8_lossy(&stream.log)
    );
    assert_eq!(stream.measurements, reference.stream.measurements);
}
