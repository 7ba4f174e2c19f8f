//! Deploy back ends: the virtual boards (default), and real boards through probe-rs or a
//! serial bootloader, behind one interface, [`Deployer`]: put the firmware and a job's model
//! partition on a board, run it, and read its report. Nothing above this module knows which
//! back end ran a job, except for the label stored with the result.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::stream::{Measurements, RecordStream};
use crate::targets::{Board, Deploy};

pub mod ambiq_sbl;
pub mod bossa;
pub mod emulator;
pub mod image;
pub mod metered;
#[cfg(feature = "probe-rs")]
pub mod probe;
pub mod rtt;
pub mod serial;
pub mod svl;
pub mod virtual_artemis;
pub mod virtual_bossa;
pub mod virtual_sbl;
pub mod virtual_serial;

pub use emulator::{End, Limits};

/// What the host sends the firmware while it runs: asked for at most `room` bytes, with what
/// the firmware has reported so far (accuracy mode's inputs; nothing otherwise).
pub type HostInput<'a> = &'a mut dyn FnMut(&Measurements, usize) -> Vec<u8>;

/// A [`HostInput`] that sends nothing.
pub fn no_input(_: &Measurements, _: usize) -> Vec<u8> {
    Vec::new()
}

/// Which kind of board a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The virtual boards (the emulator): no hardware needed.
    Emulator,
    /// The real boards, by each board's `deploy` and `transport` in targets.toml.
    Hw,
}

/// How a run on a board ended, and what the board reported.
#[derive(Debug)]
pub struct DeviceRun {
    pub end: End,
    pub stream: RecordStream,
    /// Energy measured by a meter over the timed runs, if the board has one.
    pub measured_energy: Option<MeasuredEnergy>,
}

/// Energy from a meter (PPK2), for the whole gated window of the timed runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredEnergy {
    pub energy_uj_per_inference: f64,
    /// The meter's identity (model and serial number) and its source voltage.
    pub method: String,
}

/// A failure before the firmware ran (no port, no probe, flashing failed): the reason in a
/// sentence, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct DeployError {
    pub reason: String,
    pub transient: bool,
}

impl DeployError {
    pub fn new(reason: impl Into<String>) -> DeployError {
        DeployError {
            reason: reason.into(),
            transient: false,
        }
    }

    pub fn transient(reason: impl Into<String>) -> DeployError {
        DeployError {
            reason: reason.into(),
            transient: true,
        }
    }
}

/// A way to run jobs on one board. Shared by the runner's workers: a back end that drives one
/// physical board serialises its jobs itself (a board runs one job at a time); the emulator
/// runs any number at once.
pub trait Deployer: Send + Sync {
    /// How results name this back end: "emulator", "serial (SparkFun Variable Loader)", "probe-rs".
    fn label(&self) -> String;

    /// The emulator's cycle-model version, for emulated figures; `None` on a real board.
    fn cycle_model(&self) -> Option<String>;

    /// The energy meter that measures this board, by identity; `None`: energy is estimated.
    fn meter(&self) -> Option<String> {
        None
    }

    /// Puts the firmware (if the board does not hold it yet) and the job's partition on the
    /// board, resets it, and reads its report until it ends, a limit is hit, or the job is
    /// cancelled; sends the firmware what the job's input gives (RTT down-channel 0, or the UART).
    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError>;
}

/// One job on one board, as every back end takes it.
pub struct DeviceJob<'a> {
    pub board: &'a Board,
    /// The firmware ELF.
    pub elf: &'a [u8],
    /// The job's model partition (see `protocol::partition`).
    pub partition: &'a [u8],
    pub limits: Limits,
    /// Set on Ctrl-C: the back end stops and reports.
    pub cancel: &'a AtomicBool,
    /// What the host sends the firmware (accuracy mode), given what it has reported so far.
    pub input: HostInput<'a>,
}

/// The virtual board: a fresh emulated board per job.
#[derive(Debug, Default)]
pub struct EmulatorDeployer;

impl Deployer for EmulatorDeployer {
    fn label(&self) -> String {
        "emulator".into()
    }

    fn cycle_model(&self) -> Option<String> {
        Some(emulator::CYCLE_MODEL_VERSION.into())
    }

    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
        let mut vb = emulator::VirtualBoard::with_partition(job.board, job.elf, job.partition)
            .map_err(|e| DeployError::new(e.to_string()))?;
        let run = vb.run_with_input(job.limits, job.cancel, |_| {}, job.input);
        Ok(DeviceRun {
            end: run.end,
            stream: run.stream,
            measured_energy: None,
        })
    }
}

/// The back end for `board` in `mode`: the emulator, or what targets.toml says drives the real
/// board (`deploy`): a serial bootloader, or probe-rs (with `probe` over deploy.probe), behind
/// the board's energy meter if it has one.
pub fn deployer_for(
    board: &Board,
    mode: Mode,
    probe: Option<&str>,
) -> Result<Arc<dyn Deployer>, DeployError> {
    let inner: Arc<dyn Deployer> = match mode {
        Mode::Emulator => return Ok(Arc::new(EmulatorDeployer)),
        Mode::Hw => match &board.deploy {
            Deploy::Serial { .. } => {
                Arc::new(serial::SerialDeployer::for_board(board).map_err(DeployError::new)?)
            }
            #[cfg(feature = "probe-rs")]
            Deploy::ProbeRs { .. } => Arc::new(
                probe::ProbeDeployer::for_board(board)
                    .map_err(|e| DeployError::new(e.to_string()))?
                    .with_probe(probe.map(str::to_owned)),
            ),
            #[cfg(not(feature = "probe-rs"))]
            Deploy::ProbeRs { .. } => {
                let _ = probe;
                return Err(DeployError::new(format!(
                    "board \"{}\" is deployed through probe-rs, but this mcubench was built without the `probe-rs` feature; rebuild with `cargo build --release --features probe-rs`",
                    board.name
                )));
            }
        },
    };
    // A meter on the board's supply measures the energy; without one it is estimated.
    match &board.energy.meter {
        None => Ok(inner),
        Some(setup) => {
            let meter = crate::energy::ppk2::Ppk2::open(&setup.port, board.energy.voltage_v)
                .map_err(|e| DeployError::new(e.to_string()))?;
            Ok(Arc::new(metered::Metered {
                inner,
                meter: std::sync::Mutex::new(Box::new(meter)),
                input: setup.gate_input,
                gate_gpio: setup.gate_gpio,
                voltage_v: board.energy.voltage_v,
                sample_rate_hz: crate::energy::ppk2::SAMPLE_RATE_HZ,
            }))
        }
    }
}
