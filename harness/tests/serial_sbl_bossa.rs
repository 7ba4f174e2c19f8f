//! The SparkFun Edge (Ambiq secure bootloader over its UART) and the Arduino Nano 33 BLE
//! (Arduino's SAM-BA bootloader over USB, entered by the 1200-baud touch, records on a UART
//! adapter of their own) with no board: the serial back end flashes a virtual board over
//! pseudo-terminals, the board checks it got exactly the image at the application origin, and
//! its records come back on the record port. Then the faults: a corrupted packet sent again, a
//! board that never answers (the error names the port and how to enter the bootloader), a board
//! unplugged mid-flash. The boards' firmware is not in the tree yet: after the bootloader the
//! virtual board sends a scripted report.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use mcubench::deploy::serial::SerialDeployer;
use mcubench::deploy::virtual_bossa::BossaPeer;
use mcubench::deploy::virtual_sbl::SblPeer;
use mcubench::deploy::virtual_serial::{
    AfterScript, App, BootloaderPeer, PeerConfig, VirtualSerialBoard,
};
use mcubench::deploy::{image, no_input, DeployError, Deployer, DeviceJob, DeviceRun, End, Limits};
use mcubench::targets::{self, Board};

const EDGE: &str = r#"
[[board]]
name = "sparkfun-edge"
chip = "Apollo3 Blue"
core = "cortex-m4f"
clock_hz = 48_000_000
stack_bytes = 8192
arena_bytes = 16384
memory = [
  { name = "SBL", kind = "reserved", origin = 0x0000_0000, size = 0x0000_C000 },
  { name = "FLASH", kind = "flash", origin = 0x0000_C000, size = 0x0000_4000 },
  { name = "MODEL", kind = "model", origin = 0x0001_0000, size = 0x0001_0000 },
  { name = "RAM", kind = "ram", origin = 0x1001_0000, size = 0x0004_0000 },
]
deploy = { bootloader = "ambiq-sbl", port = "/dev/ttyUSB0", baud = 921600 }
transport = { kind = "uart", port = "/dev/ttyUSB0", baud = 115200 }
energy = { voltage_v = 3.3, run_current_ua_per_mhz = 6.0, source = "test" }
"#;

const NANO: &str = r#"
[[board]]
name = "nano33ble"
chip = "nRF52840"
core = "cortex-m4f"
clock_hz = 64_000_000
stack_bytes = 8192
arena_bytes = 16384
memory = [
  { name = "BOOTLOADER", kind = "reserved", origin = 0x0000_0000, size = 0x0001_0000 },
  { name = "FLASH", kind = "flash", origin = 0x0001_0000, size = 0x0000_4000 },
  { name = "MODEL", kind = "model", origin = 0x0001_4000, size = 0x0001_0000 },
  { name = "RAM", kind = "ram", origin = 0x2000_0000, size = 0x0004_0000 },
]
deploy = { bootloader = "arduino-bossa", port = "/dev/ttyACM0", baud = 115200 }
transport = { kind = "uart", port = "/dev/ttyUSB1", baud = 115200 }
energy = { voltage_v = 3.3, run_current_ma = 6.3, source = "test" }
"#;

fn board(toml: &str) -> Board {
    targets::parse(Path::new("targets.toml"), toml)
        .unwrap()
        .boards
        .remove(0)
}

/// A minimal ELF32 (ARM, executable) with one loadable segment: `code` at `addr`.
fn elf(addr: u32, code: &[u8]) -> Vec<u8> {
    let mut out = vec![0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let u16s = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32s = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    u16s(&mut out, 2); // ET_EXEC
    u16s(&mut out, 40); // EM_ARM
    u32s(&mut out, 1);
    u32s(&mut out, addr | 1); // entry
    u32s(&mut out, 52); // program headers
    u32s(&mut out, 0); // no sections
    u32s(&mut out, 0x0500_0400);
    for x in [52u16, 32, 1, 40, 0, 0] {
        u16s(&mut out, x);
    }
    for x in [
        1u32,
        84,
        addr,
        addr,
        code.len() as u32,
        code.len() as u32,
        5,
        4,
    ] {
        u32s(&mut out, x);
    }
    out.extend_from_slice(code);
    out
}

struct Job {
    board: Board,
    elf: Vec<u8>,
    partition: Vec<u8>,
    /// What the bootloader must write from the flash origin.
    block: Vec<u8>,
}

fn job(toml: &str) -> Job {
    let board = board(toml);
    let flash = board.flash().clone();
    let code: Vec<u8> = (0..9000u32).map(|i| (i * 31 + 7) as u8).collect();
    let elf = elf(flash.origin, &code);
    let partition: Vec<u8> = (0..8192u32).map(|i| (i * 5) as u8).collect();
    let model = board.model_partition().unwrap().origin;
    let firmware = image::flat_image(&elf, flash.origin, flash.end()).unwrap();
    let block = image::with_partition(&firmware, flash.origin, &partition, model).unwrap();
    Job {
        board,
        elf,
        partition,
        block,
    }
}

const REPORT: &[u8] = b"@mcubench 1 board=virtual\n@run index=0 cycles=81234\n@run index=1 cyc";

fn scripted(config: PeerConfig) -> PeerConfig {
    PeerConfig {
        app: App::Script {
            bytes: REPORT.to_vec(),
            then: AfterScript::Silence,
        },
        ..config
    }
}

fn run(
    j: &Job,
    peer: Box<dyn BootloaderPeer>,
    config: PeerConfig,
) -> (Result<DeviceRun, DeployError>, VirtualSerialBoard, Duration) {
    let board = VirtualSerialBoard::start(&j.board, peer, config).unwrap();
    let mut deployer = SerialDeployer::with_opener(&j.board, board.opener()).unwrap();
    deployer.options.idle_timeout = Duration::from_secs(1);
    deployer.options.touch_settle = Duration::from_millis(50);
    let started = Instant::now();
    let result = deployer.run(DeviceJob {
        board: &j.board,
        elf: &j.elf,
        partition: &j.partition,
        limits: Limits {
            max_instructions: 1_000_000,
            timeout: Duration::from_secs(30),
        },
        cancel: &AtomicBool::new(false),
        input: &mut no_input,
    });
    (result, board, started.elapsed())
}

/// The scripted report arrived: the run stops mid-report, with what it got.
fn assert_report_arrived(run: &DeviceRun) {
    match &run.end {
        End::Stopped(reason) => {
            assert!(reason.contains("mid-report after 1 timed runs"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(run.stream.log.ends_with(b"@run index=1 cyc"));
}

#[test]
fn the_edge_is_flashed_through_the_ambiq_sbl_at_0xc000_and_reports_on_its_uart() {
    let j = job(EDGE);
    let (result, board, _) = run(&j, Box::new(SblPeer), scripted(PeerConfig::default()));
    let device_run = result.unwrap();
    assert_report_arrived(&device_run);
    let stats = board.stats();
    assert_eq!((stats.resets, stats.flashes), (1, 1));
    assert_eq!(stats.last_image_origin, 0xC000);
    assert_eq!(j.block.len() % 4, 0);
    assert_eq!(
        stats.last_image, j.block,
        "exactly the image, installed at 0xC000"
    );
    // The wired blob (image, 128-byte OTA header, 96-byte wired header) in 8180-byte DATA.
    assert_eq!(
        stats.frames_written as usize,
        (j.block.len() + 224).div_ceil(8180)
    );
    assert_eq!(stats.retries_requested, 0);
    assert_eq!(board.record_path(), None, "records come on the flash port");
}

#[test]
fn an_edge_nacks_corrupted_data_messages_and_gets_them_again() {
    let j = job(EDGE);
    let config = scripted(PeerConfig {
        corrupt_frames: vec![1, 3],
        ..PeerConfig::default()
    });
    let (result, board, _) = run(&j, Box::new(SblPeer), config);
    assert_report_arrived(&result.unwrap());
    let stats = board.stats();
    assert_eq!(stats.retries_requested, 2);
    assert_eq!(stats.last_image, j.block);
}

#[test]
fn an_edge_whose_bootloader_never_answers_names_the_port_and_button_14() {
    let j = job(EDGE);
    let config = scripted(PeerConfig {
        listen: Duration::ZERO,
        ..PeerConfig::default()
    });
    let (result, board, took) = run(&j, Box::new(SblPeer), config);
    let e = result.err().unwrap();
    assert!(e.transient);
    assert!(e.reason.starts_with("the board on /dev/ttyUSB0 did not answer the Ambiq secure bootloader after 3 resets (no answer from the board while waiting for the bootloader's STATUS answer to HELLO)"), "{}", e.reason);
    assert!(
        e.reason.contains("hold button 14, press and release RST"),
        "{}",
        e.reason
    );
    assert!(e.reason.contains("921600"), "{}", e.reason);
    assert_eq!(board.stats().resets, 3);
    assert_eq!(board.stats().flashes, 0);
    assert!(took < Duration::from_secs(15));
}

#[test]
fn an_edge_unplugged_mid_flash_fails_the_job_at_once() {
    let j = job(EDGE);
    let config = scripted(PeerConfig {
        unplug_after_frames: Some(2),
        ..PeerConfig::default()
    });
    let (result, _, took) = run(&j, Box::new(SblPeer), config);
    let e = result.err().unwrap();
    assert!(!e.transient);
    assert!(
        e.reason.starts_with("flashing through /dev/ttyUSB0 failed"),
        "{}",
        e.reason
    );
    assert!(
        e.reason.ends_with("the board was unplugged or reset"),
        "{}",
        e.reason
    );
    assert!(took < Duration::from_secs(15));
}

#[test]
fn the_nano_is_touched_into_its_bootloader_flashed_at_0x10000_and_reports_on_its_own_uart() {
    let j = job(NANO);
    let (result, board, _) = run(&j, Box::new(BossaPeer), scripted(PeerConfig::default()));
    let device_run = result.unwrap();
    assert_report_arrived(&device_run);
    let stats = board.stats();
    assert_eq!(
        (stats.resets, stats.flashes),
        (1, 1),
        "one touch, one flash"
    );
    assert_eq!(stats.last_image_origin, 0x1_0000);
    assert_eq!(stats.last_image, j.block, "exactly the image, from 0x10000");
    assert_eq!(stats.frames_written as usize, j.block.len().div_ceil(4096));
    let record = board.record_path().expect("a record port of its own");
    assert_ne!(record, board.path());
}

#[test]
fn a_nano_block_that_fails_its_crc_is_written_again() {
    let j = job(NANO);
    let config = scripted(PeerConfig {
        corrupt_frames: vec![2],
        ..PeerConfig::default()
    });
    let (result, board, _) = run(&j, Box::new(BossaPeer), config);
    assert_report_arrived(&result.unwrap());
    let stats = board.stats();
    assert_eq!(stats.retries_requested, 1);
    assert_eq!(stats.last_image, j.block);
}

#[test]
fn a_nano_line_that_corrupts_every_block_fails_verify_with_a_reason() {
    let j = job(NANO);
    let config = scripted(PeerConfig {
        corrupt_always: true,
        ..PeerConfig::default()
    });
    let (result, _, _) = run(&j, Box::new(BossaPeer), config);
    let e = result.err().unwrap();
    assert!(e.transient);
    assert!(
        e.reason.starts_with(
            "flashing through /dev/ttyACM0 failed: verify failed 3 times at 0x0 (+0x10000)"
        ),
        "{}",
        e.reason
    );
}

#[test]
fn a_nano_that_never_enters_its_bootloader_names_the_port_and_the_double_tap() {
    let j = job(NANO);
    let config = scripted(PeerConfig {
        listen: Duration::ZERO,
        ..PeerConfig::default()
    });
    let (result, board, took) = run(&j, Box::new(BossaPeer), config);
    let e = result.err().unwrap();
    assert!(e.reason.starts_with("the board on /dev/ttyACM0 did not answer Arduino's SAM-BA bootloader after the 1200-baud touch (no answer from the board while waiting for the answer to N# (binary mode))"), "{}", e.reason);
    assert!(
        e.reason.contains("double-tap the board's reset button"),
        "{}",
        e.reason
    );
    assert_eq!(board.stats().flashes, 0);
    assert!(took < Duration::from_secs(15));
}

#[test]
fn a_nano_unplugged_mid_flash_fails_the_job_at_once() {
    let j = job(NANO);
    let config = scripted(PeerConfig {
        unplug_after_frames: Some(2),
        ..PeerConfig::default()
    });
    let (result, _, took) = run(&j, Box::new(BossaPeer), config);
    let e = result.err().unwrap();
    assert!(!e.transient);
    assert!(
        e.reason.starts_with("flashing through /dev/ttyACM0 failed"),
        "{}",
        e.reason
    );
    assert!(
        e.reason.ends_with("the board was unplugged or reset"),
        "{}",
        e.reason
    );
    assert!(took < Duration::from_secs(15));
}

#[test]
fn targets_toml_names_the_three_bootloaders() {
    assert_eq!(
        board(EDGE).deploy,
        mcubench::targets::Deploy::Serial {
            bootloader: mcubench::targets::Bootloader::AmbiqSbl,
            port: "/dev/ttyUSB0".into(),
            baud: 921600,
        }
    );
    let e =
        targets::parse(Path::new("targets.toml"), &EDGE.replace("ambiq-sbl", "uf2")).unwrap_err();
    assert!(
        e.to_string().ends_with("unknown bootloader \"uf2\" (known: sparkfun-variable-loader, ambiq-sbl, arduino-bossa)"),
        "{e}"
    );
    assert_eq!(
        format!("{}", mcubench::targets::Bootloader::ArduinoBossa),
        "Arduino SAM-BA bootloader"
    );
}
