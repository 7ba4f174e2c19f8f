//! The Artemis path end to end with no board: the serial back end flashes a virtual Artemis
//! through its SparkFun Variable Loader over a pseudo-terminal, the firmware runs on the
//! emulator with UART0 bridged to the terminal, and the records come back through the same
//! parser. Then the faults a real board shows: corrupted frames, a board without the loader,
//! one that stops mid-record, sends noise, or disappears. Each ends as a failed job with a
//! reason, within its time limits.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcubench::deploy::serial::SerialDeployer;
use mcubench::deploy::virtual_artemis::{AfterScript, App, PeerConfig, VirtualArtemis};
use mcubench::deploy::{svl, EmulatorDeployer, Limits};
use mcubench::firmware;
use mcubench::job::{self, PreparedJob, RunSettings};
use mcubench::project::Project;
use mcubench::results::{JobResult, JobStatus, Variant};
use mcubench::size;
use mcubench::targets::Board;
use mcubench::workloads::Workload;

struct Artemis {
    board: Board,
    elf: Vec<u8>,
    size: size::FirmwareSize,
    job: PreparedJob,
}

fn settings(timeout: Duration) -> RunSettings {
    RunSettings {
        warmup_runs: 1,
        timed_runs: 3,
        sample: 0,
        limits: Limits {
            max_instructions: Limits::default().max_instructions,
            timeout,
        },
        accuracy: None,
    }
}

/// The Artemis of targets.toml, its firmware, and the digits FIQ job.
fn artemis() -> Artemis {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::discover(Some(&root)).unwrap();
    let targets = project.targets().unwrap();
    let board = targets
        .boards
        .iter()
        .find(|b| b.name == "sparkfun-artemis")
        .unwrap()
        .clone();
    let fw = firmware::build(&project, &board).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();
    let size = size::measure(&fw.elf, &board).unwrap();
    let workloads = Workload::load_all(&project.root).unwrap();
    let digits = workloads.iter().find(|w| w.name == "digits").unwrap();
    let variant = digits
        .variants
        .iter()
        .find(|v| v.variant == Variant::Fiq)
        .unwrap();
    let job = job::prepare(&board, digits, variant, &settings(Duration::from_secs(60))).unwrap();
    Artemis {
        board,
        elf,
        size,
        job,
    }
}

fn run_on_peer(
    a: &Artemis,
    config: PeerConfig,
    timeout: Duration,
    tune: impl FnOnce(&mut SerialDeployer),
) -> (JobResult, Vec<u8>, bool, Arc<VirtualArtemis>) {
    let peer = Arc::new(VirtualArtemis::start(&a.board, config).unwrap());
    let mut deployer = SerialDeployer::with_opener(&a.board, peer.opener()).unwrap();
    tune(&mut deployer);
    let (result, log, transient) = job::execute(
        &a.board,
        &deployer,
        &a.elf,
        &a.size,
        &a.job,
        &settings(timeout),
        &AtomicBool::new(false),
    );
    (result, log, transient, peer)
}

#[test]
fn the_artemis_is_flashed_over_svl_and_reports_the_emulators_cycles() {
    let a = artemis();
    let (result, log, _, peer) =
        run_on_peer(&a, PeerConfig::default(), Duration::from_secs(120), |_| {});
    assert_eq!(
        result.status,
        JobStatus::Ok,
        "{:?}\n{}",
        result.failure,
        String::from_utf8_lossy(&log)
    );
    assert_eq!(result.deploy, "serial (SparkFun Variable Loader)");
    assert_eq!(result.cycle_model, None, "a board's figure is not emulated");
    assert_eq!(result.correct, Some(true));

    // The bootloader got firmware, erased gap and partition as one block from 0x1_0000.
    let model = a.board.model_partition().unwrap();
    let block = (model.origin - svl::APP_ORIGIN) as usize + a.job.partition.len();
    let stats = peer.stats();
    assert_eq!(stats.flashes, 1);
    assert_eq!(stats.last_image_len, block);
    assert_eq!(
        stats.frames_written as usize,
        block.div_ceil(svl::FRAME_BYTES)
    );
    assert_eq!(stats.retries_requested, 0);

    // The same job on the virtual board directly: the same cycles, run for run.
    let (direct, _, _) = job::execute(
        &a.board,
        &EmulatorDeployer,
        &a.elf,
        &a.size,
        &a.job,
        &settings(Duration::from_secs(120)),
        &AtomicBool::new(false),
    );
    assert_eq!(direct.status, JobStatus::Ok);
    assert_eq!(result.latency, direct.latency);
    assert_eq!(result.ram, direct.ram);
}

#[test]
fn corrupted_frames_are_asked_for_again_and_the_job_passes() {
    let a = artemis();
    let config = PeerConfig {
        corrupt_frames: vec![1, 7, 50],
        ..PeerConfig::default()
    };
    let (result, _, _, peer) = run_on_peer(&a, config, Duration::from_secs(120), |_| {});
    assert_eq!(result.status, JobStatus::Ok, "{:?}", result.failure);
    assert_eq!(peer.stats().retries_requested, 3);
}

#[test]
fn a_line_that_corrupts_every_frame_fails_the_job_after_four_resends() {
    let a = artemis();
    let config = PeerConfig {
        corrupt_always: true,
        ..PeerConfig::default()
    };
    let (result, _, transient, peer) = run_on_peer(&a, config, Duration::from_secs(30), |_| {});
    assert_eq!(result.status, JobStatus::Failed);
    let reason = result.failure.unwrap();
    assert!(
        reason.contains("rejected frame 1 of") && reason.contains("4 times"),
        "{reason}"
    );
    assert!(transient, "a bad line may be better on a retry");
    assert_eq!(peer.stats().retries_requested, 4);
    assert!(result.latency.is_none() && result.energy.is_none());
}

#[test]
fn a_board_without_the_bootloader_is_named_after_three_resets() {
    let a = artemis();
    // It never hears the baud-detection byte in time: no bootloader answers.
    let config = PeerConfig {
        listen: Duration::ZERO,
        ..PeerConfig::default()
    };
    let started = Instant::now();
    let (result, _, _, peer) = run_on_peer(&a, config, Duration::from_secs(30), |_| {});
    let reason = result.failure.unwrap();
    assert!(
        reason.contains("did not enter the SparkFun Variable Loader after 3 resets"),
        "{reason}"
    );
    assert!(reason.contains("VERSION"), "{reason}");
    assert_eq!(peer.stats().resets, 3);
    assert!(started.elapsed() < Duration::from_secs(20));
}

fn script(bytes: &[u8], then: AfterScript) -> PeerConfig {
    PeerConfig {
        app: App::Script {
            bytes: bytes.to_vec(),
            then,
        },
        ..PeerConfig::default()
    }
}

#[test]
fn a_board_that_stops_mid_record_fails_with_what_it_sent() {
    let a = artemis();
    let config = script(
        b"@mcubench 1 board=sparkfun-artemis\n@run index=0 cycles=81234\n@run index=1 cyc",
        AfterScript::Silence,
    );
    let (result, log, transient, _) = run_on_peer(&a, config, Duration::from_secs(60), |d| {
        d.options.idle_timeout = Duration::from_secs(1)
    });
    assert_eq!(result.status, JobStatus::Failed);
    let reason = result.failure.unwrap();
    assert!(reason.contains("sent nothing"), "{reason}");
    assert!(reason.contains("mid-report after 1 timed runs"), "{reason}");
    assert!(reason.contains("@run index=1 cyc"), "{reason}");
    assert!(!transient);
    assert!(log.ends_with(b"@run index=1 cyc"));
}

#[test]
fn a_board_that_sends_noise_times_out_with_a_reason() {
    let a = artemis();
    let config = script(b"\x00\xff\x13", AfterScript::Noise);
    let started = Instant::now();
    let (result, log, transient, _) = run_on_peer(&a, config, Duration::from_secs(2), |_| {});
    assert_eq!(result.status, JobStatus::Failed);
    let reason = result.failure.unwrap();
    assert!(reason.contains("no @done"), "{reason}");
    assert!(reason.contains("no @mcubench record"), "{reason}");
    assert!(
        reason.contains("115200"),
        "names the baud to check: {reason}"
    );
    assert!(transient);
    assert!(log.len() > 1000, "the noise is in the job's log");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_board_that_disappears_fails_the_job_at_once() {
    let a = artemis();
    let config = script(
        b"@mcubench 1 board=sparkfun-artemis\n",
        AfterScript::Disappear,
    );
    let started = Instant::now();
    let (result, _, _, _) = run_on_peer(&a, config, Duration::from_secs(60), |_| {});
    assert_eq!(result.status, JobStatus::Failed);
    let reason = result.failure.unwrap();
    assert!(
        reason.contains("closed: the board was unplugged"),
        "{reason}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn each_job_resets_the_board_and_sends_firmware_and_its_partition_again() {
    let a = artemis();
    let peer = Arc::new(VirtualArtemis::start(&a.board, PeerConfig::default()).unwrap());
    let deployer = SerialDeployer::with_opener(&a.board, peer.opener()).unwrap();
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let (result, log, _) = job::execute(
            &a.board,
            &deployer,
            &a.elf,
            &a.size,
            &a.job,
            &settings(Duration::from_secs(120)),
            &AtomicBool::new(false),
        );
        assert_eq!(
            result.status,
            JobStatus::Ok,
            "{:?}\n{}",
            result.failure,
            String::from_utf8_lossy(&log)
        );
        cycles.push(result.latency.unwrap().cycles);
    }
    let stats = peer.stats();
    assert_eq!((stats.resets, stats.flashes), (2, 2));
    assert_eq!(cycles[0], cycles[1], "the same job, the same cycles");
}

/// `board` of targets.toml: its firmware flashed through its serial bootloader (`peer`, a
/// virtual board behind pseudo-terminals), run on the emulator once the bootloader installed it
/// at `origin`, reports the same cycles as the same job on the virtual board directly.
fn flashed_over_its_bootloader_reports_the_emulators_cycles(
    board: &str,
    peer: Box<dyn mcubench::deploy::virtual_serial::BootloaderPeer>,
    origin: u32,
) {
    use mcubench::deploy::virtual_serial::{PeerConfig, VirtualSerialBoard};

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::discover(Some(&root)).unwrap();
    let targets = project.targets().unwrap();
    let board = targets.board(board).unwrap().clone();
    let fw = firmware::build(&project, &board).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();
    let size = size::measure(&fw.elf, &board).unwrap();
    let workloads = Workload::load_all(&project.root).unwrap();
    let digits = workloads.iter().find(|w| w.name == "digits").unwrap();
    let variant = digits
        .variants
        .iter()
        .find(|v| v.variant == Variant::Fiq)
        .unwrap();
    let timeout = Duration::from_secs(120);
    let prepared = job::prepare(&board, digits, variant, &settings(timeout)).unwrap();

    let peer = VirtualSerialBoard::start(&board, peer, PeerConfig::default()).unwrap();
    let mut deployer = SerialDeployer::with_opener(&board, peer.opener()).unwrap();
    deployer.options.touch_settle = Duration::from_millis(50);
    let run = |deployer: &dyn mcubench::deploy::Deployer| {
        job::execute(
            &board,
            deployer,
            &elf,
            &size,
            &prepared,
            &settings(timeout),
            &AtomicBool::new(false),
        )
    };
    let (result, log, _) = run(&deployer);
    assert_eq!(
        result.status,
        JobStatus::Ok,
        "{}: {:?}\n{}",
        board.name,
        result.failure,
        String::from_utf8_lossy(&log)
    );
    assert_eq!(result.correct, Some(true));
    let stats = peer.stats();
    assert_eq!((stats.flashes, stats.last_image_origin), (1, origin));

    let (direct, _, _) = run(&EmulatorDeployer);
    assert_eq!(direct.status, JobStatus::Ok);
    assert_eq!(result.latency, direct.latency);
    assert_eq!(result.ram, direct.ram);
}

/// The SparkFun Edge through the Ambiq secure bootloader, at 0xC000.
#[test]
fn the_edge_is_flashed_over_the_ambiq_sbl_and_reports_the_emulators_cycles() {
    use mcubench::deploy::virtual_sbl::SblPeer;
    flashed_over_its_bootloader_reports_the_emulators_cycles(
        "sparkfun-edge",
        Box::new(SblPeer),
        0xC000,
    );
}

/// The Nano 33 BLE through Arduino's SAM-BA bootloader (1200-baud touch), at 0x1_0000, its
/// records on a UART port of their own.
#[test]
fn the_nano_is_flashed_over_bossa_and_reports_the_emulators_cycles() {
    use mcubench::deploy::virtual_bossa::BossaPeer;
    flashed_over_its_bootloader_reports_the_emulators_cycles(
        "nano33-ble",
        Box::new(BossaPeer),
        0x1_0000,
    );
}
