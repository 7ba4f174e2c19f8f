//! The PPK2 driver against an emulated PPK2 behind a pseudo-terminal: the commands it sends
//! (metadata, source mode, voltage, power on, start, stop), the calibration it reads, and the
//! energy of a synthesised capture with a known gated window; then the whole metered path on
//! every virtual board: the metered back end asks the firmware for its gate, the emulated chip's
//! gate pin drives the emulated PPK2's D0, and the energy per inference comes back through the
//! driver's sample decoding and the gated integration.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcubench::deploy::emulator::VirtualBoard;
use mcubench::deploy::metered::Metered;
use mcubench::deploy::{DeployError, Deployer, DeviceJob, DeviceRun, End, Limits};
use mcubench::energy::ppk2::{self, Calibration, CalibrationError, Ppk2, Ppk2Error};
use mcubench::energy::{gated_energy, Meter};
use mcubench::firmware;
use mcubench::job::{self, RunSettings};
use mcubench::project::Project;
use mcubench::results::Variant;
use mcubench::workloads::Workload;
use serialport::{SerialPort, TTYPort};

const METADATA: &str = "Calibrated: 1\nR0: 1018.6\nR1: 100.9\nR2: 10.09\nR3: 0.955\nR4: 0.044\nGS0: 0.0\nGS1: 0.0\nGS2: 0.0\nGS3: 0.0\nGS4: 0.0\nGI0: 1.0\nGI1: 1.0\nGI2: 1.0\nGI3: 1.0\nGI4: 1.0\nO0: 0.0\nO1: 0.0\nO2: 0.0\nO3: 0.0\nO4: 0.0\nUG0: 1.0\nUG1: 1.0\nUG2: 1.0\nUG3: 1.0\nUG4: 1.0\nHW: 9173\nIA: 56\nEND\n";

/// Range 2 (10.09 ohm) samples: idle, then the gated runs with D1 high, then idle.
const IDLE: u32 = 1_000 | (2 << 14);
const BUSY: u32 = 9_000 | (2 << 14) | (0b10 << 24);

fn capture() -> Vec<u8> {
    let mut raw = vec![IDLE; 1500];
    raw.extend(std::iter::repeat_n(BUSY, 3000));
    raw.extend(std::iter::repeat_n(IDLE, 1500));
    raw.iter().flat_map(|r| r.to_le_bytes()).collect()
}

/// The commands a fake PPK2 received, in order.
type Commands = Arc<Mutex<Vec<Vec<u8>>>>;

/// What a fake PPK2 streams once AVERAGE_START arrives.
enum Feed {
    /// This capture, at once.
    OnStart(Vec<u8>),
    /// Each capture that arrives, as it arrives; the sender is told when it has been written.
    Live(Receiver<(Vec<u8>, SyncSender<()>)>),
}

/// An emulated PPK2: answers the metadata request, streams its feed after AVERAGE_START,
/// records every command. Returns its port, its commands, and its off switch.
fn fake_ppk2(feed: Feed) -> (String, Commands, Arc<AtomicBool>) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    let commands = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (log, done) = (commands.clone(), stop.clone());
    std::thread::spawn(move || {
        let _slave = slave; // Kept open so that the master never sees a hang-up.
        master.set_timeout(Duration::from_millis(20)).unwrap();
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; 64];
        let mut streaming = false;
        while !done.load(Ordering::Relaxed) {
            if let Ok(n) = master.read(&mut buf) {
                pending.extend_from_slice(&buf[..n]);
            }
            loop {
                let len = match pending.first() {
                    Some(&ppk2::SET_POWER_MODE) | Some(&ppk2::DEVICE_RUNNING_SET) => 2,
                    Some(&ppk2::REGULATOR_SET) => 3,
                    Some(_) => 1,
                    None => break,
                };
                if pending.len() < len {
                    break;
                }
                let cmd: Vec<u8> = pending.drain(..len).collect();
                match cmd[0] {
                    ppk2::GET_META_DATA => master.write_all(METADATA.as_bytes()).unwrap(),
                    ppk2::AVERAGE_START => {
                        streaming = true;
                        if let Feed::OnStart(capture) = &feed {
                            master.write_all(capture).unwrap();
                        }
                    }
                    ppk2::AVERAGE_STOP => streaming = false,
                    _ => {}
                }
                log.lock().unwrap().push(cmd);
            }
            if let (true, Feed::Live(captures)) = (streaming, &feed) {
                if let Ok((capture, written)) = captures.try_recv() {
                    master.write_all(&capture).unwrap();
                    let _ = written.send(());
                }
            }
        }
    });
    (path, commands, stop)
}

#[test]
fn the_ppk2_driver_sources_the_board_and_measures_a_known_energy() {
    let (path, commands, stop) = fake_ppk2(Feed::OnStart(capture()));
    let mut meter = Ppk2::open(&path, 3.0).unwrap();
    assert!(meter.identity().contains("Nordic PPK2") && meter.identity().contains("3000 mV"));
    assert!(meter.identity().contains("HW 9173"), "{}", meter.identity());
    meter.start().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let samples = meter.stop().unwrap();
    stop.store(true, Ordering::Relaxed);
    assert_eq!(samples.len(), 6000);

    let sent = commands.lock().unwrap().clone();
    assert_eq!(
        sent,
        [
            vec![ppk2::GET_META_DATA],
            vec![ppk2::SET_POWER_MODE, ppk2::SOURCE_MODE],
            ppk2::source_voltage_command(3000).to_vec(),
            vec![ppk2::DEVICE_RUNNING_SET, 1],
            vec![ppk2::AVERAGE_START],
            vec![ppk2::AVERAGE_STOP],
        ]
    );

    // 3000 samples (30 ms) of BUSY: 9000 x 4 counts x 1.8 V / 163840 / 10.09 ohm = 39.19 mA.
    let cal = Calibration::parse(METADATA).unwrap();
    let busy_a = 36_000.0 * 1.8 / 163_840.0 / 10.09;
    assert!((cal.current_a(BUSY, 3000) - busy_a).abs() < 1e-12);
    let g = gated_energy(&samples, 1, 3.0, ppk2::SAMPLE_RATE_HZ).unwrap();
    assert_eq!(g.samples, 3000);
    let expected_uj = 3.0 * busy_a * 0.03 * 1e6;
    assert!(
        (g.energy_uj - expected_uj).abs() < 1e-6,
        "{} vs {expected_uj}",
        g.energy_uj
    );
}

#[test]
fn a_port_that_is_not_a_ppk2_is_named() {
    let (master, slave) = TTYPort::pair().unwrap();
    let path = slave.name().unwrap();
    // Nothing answers the metadata request.
    let e = match Ppk2::open(&path, 3.3) {
        Ok(_) => panic!("a silent port is not a PPK2"),
        Err(e) => e,
    };
    assert!(
        matches!(
            e,
            Ppk2Error::Metadata {
                source: CalibrationError::NoEnd,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("no END: the port is not a PPK2"),
        "{e}"
    );
    drop((master, slave));
    let e = match Ppk2::open("/dev/mcubench-no-such-port", 3.3) {
        Ok(_) => panic!("no such port"),
        Err(e) => e,
    };
    assert!(matches!(e, Ppk2Error::Open { .. }), "{e:?}");
    assert!(std::error::Error::source(&e).is_some());
    assert!(
        e.to_string()
            .contains("cannot open the PPK2 on /dev/mcubench-no-such-port"),
        "{e}"
    );
}

const TIMED_RUNS: u32 = 5;
/// The PPK2's range-2 sample the emulated board draws throughout (without logic bits).
const DRAW: u32 = 3_000 | (2 << 14);

/// A virtual board whose gate pin is wired to an emulated PPK2's D0: it runs the partition the
/// metered back end hands it, then sends the PPK2 what it would have sampled over the run, at
/// 100 kHz, a constant current with D0 following the gate pin's edges.
struct WiredToPpk2 {
    gate_gpio: u32,
    ppk2: SyncSender<(Vec<u8>, SyncSender<()>)>,
}

impl Deployer for WiredToPpk2 {
    fn label(&self) -> String {
        "emulator wired to an emulated PPK2".into()
    }

    fn cycle_model(&self) -> Option<String> {
        None
    }

    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
        let (board, limits) = (job.board, job.limits);
        let mut vb = VirtualBoard::with_partition(board, job.elf, job.partition)
            .map_err(|e| DeployError::new(e.to_string()))?;
        let run = vb.run(limits, |_| {});
        let edges: Vec<(u64, bool)> = vb
            .gpio()
            .iter()
            .filter(|c| c.pin == self.gate_gpio)
            .map(|c| (c.cycles, c.high))
            .collect();
        let clock = board.clock_hz as f64;
        let high_at = |cycles: u64| {
            edges
                .iter()
                .take_while(|&&(at, _)| at <= cycles)
                .last()
                .is_some_and(|&(_, high)| high)
        };
        let capture: Vec<u8> = (0u64..)
            .map(|i| (i as f64 / ppk2::SAMPLE_RATE_HZ * clock) as u64)
            .take_while(|&c| c < run.cycles)
            .map(|c| DRAW | if high_at(c) { 1 << 24 } else { 0 })
            .flat_map(u32::to_le_bytes)
            .collect();
        let (written, wait) = mpsc::sync_channel(1);
        self.ppk2
            .send((capture, written))
            .map_err(|e| DeployError::new(e.to_string()))?;
        wait.recv_timeout(Duration::from_secs(10))
            .map_err(|e| DeployError::new(e.to_string()))?;
        Ok(DeviceRun {
            end: run.end,
            stream: run.stream,
            measured_energy: None,
        })
    }
}

#[test]
fn a_metered_virtual_board_gets_the_energy_of_its_timed_runs_from_the_ppk2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let project = Project::discover(Some(&root)).unwrap();
    let digits = Workload::load_all(&project.root)
        .unwrap()
        .into_iter()
        .find(|w| w.name == "digits")
        .unwrap();
    let variant = digits
        .variants
        .iter()
        .find(|v| v.variant == Variant::Fiq)
        .unwrap();
    let settings = RunSettings {
        warmup_runs: 1,
        timed_runs: TIMED_RUNS,
        sample: 0,
        limits: Limits::default(),
        accuracy: None,
    };
    let draw_a = Calibration::parse(METADATA).unwrap().current_a(DRAW, 3000);
    // The free pin docs/HARDWARE.md suggests on each board.
    for (board, gate_gpio) in [
        ("nucleo-l4r5zi", 3),
        ("nrf52840-dk", 33),
        ("sparkfun-artemis", 40),
        ("pico", 22),
    ] {
        let board = project.targets().unwrap().board(board).unwrap().clone();
        let (feed, captures) = mpsc::sync_channel(1);
        let (path, commands, stop) = fake_ppk2(Feed::Live(captures));
        let metered = Metered {
            inner: Arc::new(WiredToPpk2 {
                gate_gpio,
                ppk2: feed,
            }),
            meter: Mutex::new(Box::new(Ppk2::open(&path, 3.0).unwrap())),
            input: 0,
            gate_gpio,
            voltage_v: 3.0,
            sample_rate_hz: ppk2::SAMPLE_RATE_HZ,
        };
        let job = job::prepare(&board, &digits, variant, &settings).unwrap();
        let elf = std::fs::read(firmware::build(&project, &board).unwrap().elf).unwrap();
        let run = metered
            .run(DeviceJob {
                board: &board,
                elf: &elf,
                partition: &job.partition,
                limits: Limits::default(),
                cancel: &AtomicBool::new(false),
                input: &mut mcubench::deploy::no_input,
            })
            .unwrap();
        stop.store(true, Ordering::Relaxed);
        assert_eq!(run.end, End::Done, "{}", board.name);
        let m = &run.stream.measurements;
        assert_eq!(m.meta("gate_gpio"), Some(gate_gpio.to_string().as_str()));
        assert!(commands.lock().unwrap().contains(&vec![ppk2::AVERAGE_STOP]));

        let energy = run
            .measured_energy
            .expect("a metered run measures its energy");
        let timed_s = m.cycles.iter().sum::<u64>() as f64 / board.clock_hz as f64;
        let expected_uj = 3.0 * draw_a * timed_s / f64::from(TIMED_RUNS) * 1e6;
        eprintln!(
            "{}: {:.3} uJ per inference through the PPK2, {expected_uj:.3} uJ from the cycles ({})",
            board.name, energy.energy_uj_per_inference, energy.method
        );
        // The window also holds the input copies between the runs (energy_gate.rs: within 6 %).
        assert!(
            (energy.energy_uj_per_inference - expected_uj).abs() / expected_uj < 0.06,
            "{}: {:.3} uJ through the PPK2, {expected_uj:.3} uJ from the cycles",
            board.name,
            energy.energy_uj_per_inference
        );
        assert!(
            energy.method.contains("Nordic PPK2") && energy.method.contains("over 5 runs"),
            "{}",
            energy.method
        );
    }
}
