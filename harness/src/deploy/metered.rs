//! The metered back end: any back end with an energy meter on the board's supply. The job's
//! partition asks the firmware to hold a GPIO high around its timed runs; the meter records
//! meanwhile, and the energy of one inference is the gated window's over the runs (`energy`).

use std::sync::{Arc, Mutex};

use protocol::partition::{PartitionError, MAX_GATED_RUNS};

use super::{DeployError, Deployer, DeviceJob, DeviceRun, End, MeasuredEnergy};
use crate::energy::{gated_energy, Meter};

/// Why a job's partition cannot be gated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatedError {
    // protocol's PartitionError is no_std and not a std::error::Error: kept as a value.
    #[error("{0}")]
    Partition(PartitionError),
    #[error("{timed_runs} timed runs: a board with an energy meter takes at most {MAX_GATED_RUNS} (--runs), as the firmware keeps their counts until the gated window closes")]
    TooManyRuns { timed_runs: u32 },
}

/// `partition` with the gate flag and pin set in its header: the firmware then holds `pin` high
/// over its timed runs (`protocol::partition::FLAG_GATE`).
pub fn gated(partition: &[u8], pin: u32) -> Result<Vec<u8>, GatedError> {
    use protocol::partition::{Header, FLAG_GATE, HEADER_BYTES};
    let mut header = Header::parse(partition).map_err(GatedError::Partition)?;
    if header.timed_runs > MAX_GATED_RUNS {
        return Err(GatedError::TooManyRuns {
            timed_runs: header.timed_runs,
        });
    }
    header.flags |= FLAG_GATE;
    header.gate_pin = pin;
    let mut out = partition.to_vec();
    out[..HEADER_BYTES].copy_from_slice(&header.to_bytes());
    Ok(out)
}

/// A board's back end with a meter on its supply.
pub struct Metered {
    pub inner: Arc<dyn Deployer>,
    pub meter: Mutex<Box<dyn Meter>>,
    /// The meter's digital input wired to the firmware's gate GPIO.
    pub input: u8,
    /// The firmware's gate GPIO (the chip's pin numbering), set in each job's partition.
    pub gate_gpio: u32,
    pub voltage_v: f64,
    pub sample_rate_hz: f64,
}

impl Deployer for Metered {
    fn label(&self) -> String {
        self.inner.label()
    }

    fn cycle_model(&self) -> Option<String> {
        self.inner.cycle_model()
    }

    fn meter(&self) -> Option<String> {
        Some(
            self.meter
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .identity(),
        )
    }

    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
        let partition =
            gated(job.partition, self.gate_gpio).map_err(|e| DeployError::new(e.to_string()))?;
        let mut meter = self.meter.lock().unwrap_or_else(|e| e.into_inner());
        meter
            .start()
            .map_err(|e| DeployError::transient(e.to_string()))?;
        let run = self.inner.run(DeviceJob {
            board: job.board,
            elf: job.elf,
            partition: &partition,
            limits: job.limits,
            cancel: job.cancel,
            input: &mut *job.input,
        });
        let samples = meter.stop();
        let mut run = run?;
        if run.end != End::Done {
            return Ok(run);
        }
        let runs = run.stream.measurements.cycles.len();
        match samples.map_err(|e| e.to_string()).and_then(|s| {
            gated_energy(&s, self.input, self.voltage_v, self.sample_rate_hz)
                .map_err(|e| e.to_string())
        }) {
            Ok(g) if runs > 0 => {
                run.measured_energy = Some(MeasuredEnergy {
                    energy_uj_per_inference: g.energy_uj / runs as f64,
                    method: format!(
                        "measured: {}, {:.3} ms gated window over {runs} runs",
                        meter.identity(),
                        g.window_s * 1e3
                    ),
                });
            }
            Ok(_) => {}
            // The latency is good; the energy is not: fail the job, never print an estimate
            // where a measurement was asked for.
            Err(e) => run.end = End::Stopped(format!("energy measurement failed: {e}")),
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Limits;
    use crate::energy::{MeterError, Sample};
    use crate::stream::RecordStream;
    use std::sync::atomic::AtomicBool;

    fn stream(samples: &mut Vec<Sample>, n: usize, current_a: f64, logic: u8) {
        samples.extend(std::iter::repeat_n(Sample { current_a, logic }, n));
    }

    /// A meter that plays back a synthesised capture.
    struct Playback(Vec<Sample>);

    impl Meter for Playback {
        fn identity(&self) -> String {
            "playback meter".into()
        }
        fn start(&mut self) -> Result<(), MeterError> {
            Ok(())
        }
        fn stop(&mut self) -> Result<Vec<Sample>, MeterError> {
            Ok(self.0.clone())
        }
    }

    /// A board that reports four timed runs.
    struct FourRuns;

    impl Deployer for FourRuns {
        fn label(&self) -> String {
            "test".into()
        }
        fn cycle_model(&self) -> Option<String> {
            None
        }
        fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
            // The metered back end asks the firmware for its gate.
            let header = protocol::partition::Header::parse(job.partition).unwrap();
            assert_eq!(header.flags, protocol::partition::FLAG_GATE);
            assert_eq!(header.gate_pin, 27);
            let mut stream = RecordStream::new();
            stream.feed(b"@mcubench 1 board=x\n@run index=0 cycles=10\n@run index=1 cycles=10\n@run index=2 cycles=10\n@run index=3 cycles=10\n@done\n");
            Ok(DeviceRun {
                end: End::Done,
                stream,
                measured_energy: None,
            })
        }
    }

    #[test]
    fn energy_per_inference_is_the_window_over_the_runs() {
        let mut s = Vec::new();
        stream(&mut s, 300, 2e-3, 0);
        // 4 runs in 8 ms at 6 mA and 3.0 V: 144 uJ, 36 uJ each.
        stream(&mut s, 800, 6e-3, 1);
        stream(&mut s, 300, 2e-3, 0);
        let metered = Metered {
            inner: Arc::new(FourRuns),
            meter: Mutex::new(Box::new(Playback(s))),
            input: 0,
            gate_gpio: 27,
            voltage_v: 3.0,
            sample_rate_hz: 100_000.0,
        };
        let mut header = protocol::partition::Header::layout(4, 2, 2, 256).unwrap();
        header.timed_runs = 4;
        let mut partition = vec![0u8; header.total_bytes as usize];
        header.write(&mut partition, b"mode", b"in", b"ou").unwrap();
        let board = crate::targets::parse(
            std::path::Path::new("targets.toml"),
            include_str!("../../../targets.toml"),
        )
        .unwrap()
        .boards
        .remove(0);
        let run = metered
            .run(DeviceJob {
                board: &board,
                elf: &[],
                partition: &partition,
                limits: Limits::default(),
                cancel: &AtomicBool::new(false),
                input: &mut crate::deploy::no_input,
            })
            .unwrap();
        let e = run.measured_energy.unwrap();
        assert!((e.energy_uj_per_inference - 36.0).abs() < 1e-9);
        assert!(e.method.contains("playback meter") && e.method.contains("over 4 runs"));
        assert_eq!(metered.meter().as_deref(), Some("playback meter"));
        // More runs than a gated window holds: refused before the board is touched.
        header.timed_runs = protocol::partition::MAX_GATED_RUNS + 1;
        header.write(&mut partition, b"mode", b"in", b"ou").unwrap();
        let e = gated(&partition, 27).unwrap_err();
        assert_eq!(e, GatedError::TooManyRuns { timed_runs: 129 });
        assert!(e.to_string().contains("at most 128 (--runs)"), "{e}");
    }
}
