//! The PPK2 driver against an emulated PPK2 behind a pseudo-terminal: the commands it sends
//! (metadata, source mode, voltage, power on, start, stop), the calibration it reads, and the
//! energy of a synthesised capture with a known gated window.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcubench::energy::ppk2::{self, Calibration, Ppk2};
use mcubench::energy::{gated_energy, Meter};
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

/// An emulated PPK2: answers the metadata request, streams the capture after AVERAGE_START,
/// records every command. Returns its port, its commands, and its off switch.
fn fake_ppk2() -> (String, Commands, Arc<AtomicBool>) {
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
                    ppk2::AVERAGE_START => master.write_all(&capture()).unwrap(),
                    _ => {}
                }
                log.lock().unwrap().push(cmd);
            }
        }
    });
    (path, commands, stop)
}

#[test]
fn the_ppk2_driver_sources_the_board_and_measures_a_known_energy() {
    let (path, commands, stop) = fake_ppk2();
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
    assert!(e.contains("no END: the port is not a PPK2"), "{e}");
    drop((master, slave));
    let e = match Ppk2::open("/dev/mcubench-no-such-port", 3.3) {
        Ok(_) => panic!("no such port"),
        Err(e) => e,
    };
    assert!(
        e.contains("cannot open the PPK2 on /dev/mcubench-no-such-port"),
        "{e}"
    );
}
