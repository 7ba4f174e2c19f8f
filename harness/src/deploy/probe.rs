//! The probe-rs back end: SWD through a debug probe (the NUCLEO's ST-LINK, the nRF52840-DK's
//! J-Link, a CMSIS-DAP v2 probe on the Pico). probe-rs is used as a library, built without its
//! hidapi (CMSIS-DAP v1) support so that it needs no system library.
//!
//! Per board: open the probe (by serial number from targets.toml or `--probe`), attach to the
//! chip of targets.toml, check the chip's identity register, flash the firmware once (verified);
//! per job: flash only the model partition, reset, run, read the RTT up channel (or the UART,
//! for a board whose transport is one) into the same record parser as every other transport,
//! then halt and cross-check DWT CYCCNT and the painted
//! stack against what the firmware reported.
//!
//! Only the parts up to the probe are tested here (no probe on the build machines): the RTT
//! reader (deploy::rtt, on a fake memory and on the emulator), the probe selection, the chip
//! identity and cross-check rules, and the messages.

use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use probe_rs::flashing::{DownloadOptions, FlashError};
use probe_rs::probe::list::Lister;
use probe_rs::probe::DebugProbeError;
use probe_rs::{Core, MemoryInterface, Permissions, Session};
use sha2::{Digest, Sha256};

use super::rtt::{self, Access, MemoryError, Rtt, TargetMemory};
use super::serial::{SerialLink, SerialOptions, SystemPort, UartReport};
use super::{image, DeployError, Deployer, DeviceJob, DeviceRun, End};
use crate::stream::RecordStream;
use crate::targets::{Board, Core as CoreKind, Deploy, Transport};

/// A debug probe on the host's USB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSummary {
    pub name: String,
    pub vendor_id: u16,
    pub product_id: u16,
    pub serial: Option<String>,
}

impl std::fmt::Display for ProbeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({:04x}:{:04x}, serial {})",
            self.name,
            self.vendor_id,
            self.product_id,
            self.serial.as_deref().unwrap_or("none")
        )
    }
}

/// The probes attached now.
pub fn list() -> Vec<ProbeSummary> {
    Lister::new()
        .list_all()
        .into_iter()
        .map(|p| ProbeSummary {
            name: p.identifier.clone(),
            vendor_id: p.vendor_id,
            product_id: p.product_id,
            serial: p.serial_number.clone(),
        })
        .collect()
}

/// The sentence for "no probe".
pub const NO_PROBE: &str = "no debug probe found: plug in the board's USB (ST-LINK, J-Link) or the CMSIS-DAP probe, and on Linux install the udev rules of docs/HARDWARE.md";

/// Why a probe cannot be chosen, the chip behind it is not the board's, or what it reads back
/// contradicts the firmware.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("{}", NO_PROBE)]
    NoProbe,
    #[error("{count} debug probes are attached and board \"{board}\" names none: set deploy.probe in targets.toml (or --probe) to one of the serial numbers: {attached}")]
    Ambiguous {
        count: usize,
        board: String,
        /// The attached probes, `; `-separated.
        attached: String,
    },
    #[error(
        "no attached debug probe matches \"{selector}\" (board \"{board}\"); attached: {attached}"
    )]
    NoMatch {
        selector: String,
        board: String,
        attached: String,
    },
    #[error("wrong chip: {register} reads {read:#x}, but a {chip} reads {expected:#x}; is the probe wired to the right board, and deploy.probe_rs_chip right?")]
    WrongChip {
        register: &'static str,
        read: u32,
        chip: String,
        expected: u32,
    },
    #[error("the timed runs report {claimed} cycles in all, but DWT CYCCNT read {cyccnt} at the end: the firmware's cycle count is wrong")]
    CycleCount { claimed: u64, cyccnt: u32 },
    #[error("board \"{board}\" is not deployed through probe-rs")]
    NotProbeRs { board: String },
}

/// Which of `probes` to use: the one whose serial (or VID:PID[:serial]) matches `selector`,
/// else the only one.
pub fn select<'a>(
    probes: &'a [ProbeSummary],
    selector: Option<&str>,
    board: &str,
) -> Result<&'a ProbeSummary, ProbeError> {
    if probes.is_empty() {
        return Err(ProbeError::NoProbe);
    }
    let listed = || {
        probes
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    };
    match selector {
        None if probes.len() == 1 => Ok(&probes[0]),
        None => Err(ProbeError::Ambiguous {
            count: probes.len(),
            board: board.to_owned(),
            attached: listed(),
        }),
        Some(sel) => {
            let matches = |p: &ProbeSummary| {
                let vid_pid = format!("{:04x}:{:04x}", p.vendor_id, p.product_id);
                let serial = p.serial.as_deref().unwrap_or("");
                sel.eq_ignore_ascii_case(serial)
                    || sel.eq_ignore_ascii_case(&vid_pid)
                    || sel.eq_ignore_ascii_case(&format!("{vid_pid}:{serial}"))
            };
            probes
                .iter()
                .find(|p| matches(p))
                .ok_or_else(|| ProbeError::NoMatch {
                    selector: sel.to_owned(),
                    board: board.to_owned(),
                    attached: listed(),
                })
        }
    }
}

pub use emulator::chips::ChipIdentity;

/// The identity register of `chip` (a probe-rs chip name or targets.toml's), from the chip's
/// file in emulator/src/chips/ (whose model answers the same value).
pub fn chip_identity(chip: &str) -> Option<ChipIdentity> {
    emulator::chips::Chip::from_name(chip)?.identity()
}

/// Whether `value`, read from `id.register`, names `chip`.
pub fn check_identity(id: &ChipIdentity, value: u32, chip: &str) -> Result<(), ProbeError> {
    if value & id.mask == id.expected {
        Ok(())
    } else {
        Err(ProbeError::WrongChip {
            register: id.what,
            read: value & id.mask,
            chip: chip.to_owned(),
            expected: id.expected,
        })
    }
}

/// DWT CYCCNT (ARMv7-M ARM C1.8.8): the cycle counter the firmware also uses.
pub const DWT_CYCCNT: u32 = 0xE000_1004;

/// The firmware's timed runs cannot add up to more cycles than the core counted in all: a
/// report that claims more is not the firmware's own count (or the counter wrapped, which
/// the check allows for when the total passes 2^32).
pub fn cross_check_cycles(cyccnt_at_end: u32, runs: &[u64]) -> Result<(), ProbeError> {
    let claimed: u64 = runs.iter().sum();
    if claimed >= 1 << 32 || claimed <= u64::from(cyccnt_at_end) {
        Ok(())
    } else {
        Err(ProbeError::CycleCount {
            claimed,
            cyccnt: cyccnt_at_end,
        })
    }
}

/// The sentence for a failure to open a probe.
pub fn explain_open(e: &DebugProbeError, probe: &str) -> String {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("busy") || lower.contains("in use") || lower.contains("claim") {
        format!("debug probe {probe} is busy: another program (probe-rs, OpenOCD, an IDE, a second mcubench) holds it; close it and retry ({text})")
    } else if lower.contains("permission") || lower.contains("access") {
        format!("no permission to open debug probe {probe}: install the udev rules of docs/HARDWARE.md and replug it ({text})")
    } else {
        format!("cannot open debug probe {probe}: {text}")
    }
}

/// The sentence for a failure to attach to the chip.
pub fn explain_attach(e: &probe_rs::Error, chip: &str) -> String {
    match e {
        probe_rs::Error::ChipNotFound(_) => format!(
            "probe-rs does not know chip \"{chip}\" (deploy.probe_rs_chip in targets.toml); `probe-rs chip list` lists the names"
        ),
        probe_rs::Error::Probe(p) => explain_open(p, "on this board"),
        _ => format!(
            "the chip ({chip}) is not responding to the probe: check power and SWD wiring (and that the board's debug jumpers connect the on-board probe to it) ({e})"
        ),
    }
}

/// The sentence for a failure to flash.
pub fn explain_flash(e: &FlashError, what: &str) -> String {
    match e {
        FlashError::Verify => format!(
            "flash verify failed writing {what}: the flash did not read back what was written; power-cycle the board and retry, or erase it with `probe-rs erase`"
        ),
        _ => format!("flashing {what} failed: {e}"),
    }
}

/// The probe-rs back end of one board.
pub struct ProbeDeployer {
    chip: String,
    selector: Option<String>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    session: Option<Session>,
    /// SHA-256 of the firmware on the board.
    firmware: Option<Vec<u8>>,
}

impl ProbeDeployer {
    pub fn for_board(board: &Board) -> Result<ProbeDeployer, ProbeError> {
        let Deploy::ProbeRs { chip, probe } = &board.deploy else {
            return Err(ProbeError::NotProbeRs {
                board: board.name.clone(),
            });
        };
        Ok(ProbeDeployer {
            chip: chip.clone(),
            selector: probe.clone(),
            state: Mutex::new(State::default()),
        })
    }

    /// Overrides targets.toml's probe selector (`--probe`).
    pub fn with_probe(mut self, selector: Option<String>) -> ProbeDeployer {
        if selector.is_some() {
            self.selector = selector;
        }
        self
    }

    fn attach(&self, board: &Board) -> Result<Session, DeployError> {
        let probes = list();
        let chosen = select(&probes, self.selector.as_deref(), &board.name)
            .map_err(|e| DeployError::new(e.to_string()))?
            .clone();
        let info = Lister::new()
            .list_all()
            .into_iter()
            .find(|p| p.serial_number == chosen.serial && p.vendor_id == chosen.vendor_id)
            .ok_or_else(|| DeployError::transient(format!("debug probe {chosen} went away")))?;
        let probe = info
            .open()
            .map_err(|e| DeployError::transient(explain_open(&e, &chosen.to_string())))?;
        let mut session = probe
            .attach(self.chip.as_str(), Permissions::default())
            .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;
        if let Some(id) = chip_identity(&self.chip) {
            let mut core = session
                .core(0)
                .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;
            let value = core
                .read_word_32(u64::from(id.register))
                .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;
            check_identity(&id, value, &self.chip).map_err(|e| DeployError::new(e.to_string()))?;
        }
        Ok(session)
    }
}

fn flash_blocks(
    session: &mut Session,
    blocks: &[(u32, &[u8])],
    what: &str,
) -> Result<(), DeployError> {
    let mut loader = session.target().flash_loader();
    for &(addr, bytes) in blocks {
        loader
            .add_data(u64::from(addr), bytes)
            .map_err(|e| DeployError::new(explain_flash(&e, what)))?;
    }
    let mut options = DownloadOptions::default();
    options.verify = true;
    loader
        .commit(session, options)
        .map_err(|e| DeployError::new(explain_flash(&e, what)))
}

/// A core's memory as the RTT reader sees it.
struct CoreMemory<'a, 'b>(&'a mut Core<'b>);

impl TargetMemory for CoreMemory<'_, '_> {
    fn read(&mut self, addr: u32, out: &mut [u8]) -> Result<(), MemoryError> {
        self.0
            .read_8(u64::from(addr), out)
            .map_err(|e| MemoryError::Probe {
                access: Access::Read,
                addr,
                source: Box::new(e),
            })
    }
    fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
        self.0
            .write_8(u64::from(addr), bytes)
            .map_err(|e| MemoryError::Probe {
                access: Access::Write,
                addr,
                source: Box::new(e),
            })
    }
}

/// An ELF symbol's address.
fn symbol(elf: &[u8], name: &str) -> Option<u32> {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(elf).ok()?;
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address() as u32)
}

impl Deployer for ProbeDeployer {
    fn label(&self) -> String {
        "probe-rs".into()
    }

    fn cycle_model(&self) -> Option<String> {
        None
    }

    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let result = self.run_attached(&mut state, job);
        if !matches!(&result, Ok(run) if run.end == End::Done) {
            // The probe or the board may be gone or wedged: the next job attaches afresh
            // and flashes the firmware again.
            *state = State::default();
        }
        result
    }
}

impl ProbeDeployer {
    fn run_attached(
        &self,
        state: &mut State,
        job: DeviceJob<'_>,
    ) -> Result<DeviceRun, DeployError> {
        let (board, elf, limits, cancel) = (job.board, job.elf, job.limits, job.cancel);
        if state.session.is_none() {
            state.session = Some(self.attach(board)?);
            state.firmware = None;
        }
        let hash = Sha256::digest(elf).to_vec();
        let model = board.model_partition().ok_or_else(|| {
            DeployError::new(format!("board \"{}\" has no model region", board.name))
        })?;
        let rtt_symbol = symbol(elf, rtt::SYMBOL);
        let stack = (symbol(elf, "_stack_end"), symbol(elf, "_stack_start"));
        let firmware_is_current = state.firmware.as_deref() == Some(&hash[..]);
        let State { session, firmware } = state;
        let Some(session) = session.as_mut() else {
            return Err(DeployError::new("no probe session"));
        };
        if !firmware_is_current {
            let segments = image::segments(elf)
                .map_err(|e| DeployError::new(format!("the firmware ELF: {e}")))?;
            let blocks: Vec<(u32, &[u8])> =
                segments.iter().map(|(a, d)| (*a, d.as_slice())).collect();
            flash_blocks(session, &blocks, "the firmware")?;
            *firmware = Some(hash);
        }
        flash_blocks(
            session,
            &[(model.origin, job.partition)],
            "the model partition",
        )?;

        // A board whose records come over a UART (a user's own board): open it before the
        // reset so that nothing the firmware prints is lost.
        let mut uart = match &board.transport {
            Transport::Uart { port, baud, .. } => {
                let mut link = SystemPort::open(port, *baud).map_err(|e| {
                    DeployError::new(format!(
                        "cannot open serial port {port} (transport.port): {e}; `mcubench doctor` lists the serial ports"
                    ))
                })?;
                let _ = link.clear_input();
                Some((link, port.clone(), *baud))
            }
            Transport::Rtt => None,
        };
        let mut core = session
            .core(0)
            .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;
        core.reset_and_halt(Duration::from_millis(500))
            .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;
        core.run()
            .map_err(|e| DeployError::new(explain_attach(&e, &self.chip)))?;

        let started = Instant::now();
        let mut stream = RecordStream::new();
        if let Some((link, port, baud)) = &mut uart {
            let end = UartReport {
                port,
                baud: *baud,
                idle_timeout: SerialOptions::default().idle_timeout,
            }
            .read(link, limits, cancel, &mut stream, job.input);
            return Ok(DeviceRun {
                end,
                stream,
                measured_energy: None,
            });
        }
        let mut rtt: Option<Rtt> = None;
        let mut chunk = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let (mut seen, mut last_byte) = (0usize, Instant::now());
        let end = loop {
            let mut mem = CoreMemory(&mut core);
            if rtt.is_none() {
                let found = match rtt_symbol {
                    Some(addr) => Rtt::attach(&mut mem, addr),
                    None => {
                        let ram = board.ram();
                        Rtt::find(
                            &mut mem,
                            ram.origin,
                            ram.end().min(u64::from(u32::MAX)) as u32,
                        )
                    }
                };
                match found {
                    Ok(r) => rtt = Some(r),
                    // The firmware sets the block up first thing: give it a second.
                    Err(e) if started.elapsed() > Duration::from_secs(2) => {
                        break End::Stopped(e.to_string())
                    }
                    Err(_) => {}
                }
            }
            if let Some(r) = &rtt {
                chunk.clear();
                match r.read_up(&mut mem, 0, &mut chunk) {
                    Ok(_) => stream.feed(&chunk),
                    Err(e) => break End::Stopped(e.to_string()),
                }
                // The host's bytes into down-channel 0, as much as it has room for.
                if pending.is_empty() {
                    pending = (job.input)(&stream.measurements, 512);
                }
                if !pending.is_empty() {
                    match r.write_down(&mut mem, 0, &pending) {
                        Ok(n) => {
                            pending.drain(..n.min(pending.len()));
                        }
                        Err(e) => break End::Stopped(e.to_string()),
                    }
                }
            }
            if let Some(end) = End::of_report(&stream.measurements) {
                break end;
            }
            if cancel.load(Ordering::Relaxed) {
                break End::Stopped("interrupted".into());
            }
            if started.elapsed() >= limits.timeout {
                break End::TimedOut(format!(
                    "no @done over RTT within {} s",
                    limits.timeout.as_secs()
                ));
            }
            if stream.log.len() != seen {
                seen = stream.log.len();
                last_byte = Instant::now();
            } else if last_byte.elapsed() >= SerialOptions::default().idle_timeout {
                break End::Stopped(format!(
                    "the firmware wrote nothing to RTT for {} s after {} bytes: it hung",
                    SerialOptions::default().idle_timeout.as_secs(),
                    seen
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        };

        // Cross-checks with the core halted.
        let mut end = end;
        if end == End::Done {
            let _ = core.halt(Duration::from_millis(100));
            let mut notes = String::new();
            if board.core == CoreKind::CortexM4F {
                if let Ok(cyccnt) = core.read_word_32(u64::from(DWT_CYCCNT)) {
                    notes.push_str(&format!("# host: DWT CYCCNT {cyccnt} at @done\n"));
                    if let Err(e) = cross_check_cycles(cyccnt, &stream.measurements.cycles) {
                        end = End::Stopped(e.to_string());
                    }
                }
            }
            if let (Some(bottom), Some(top)) = stack {
                let mut mem = CoreMemory(&mut core);
                if let Ok(used) = rtt::stack_high_water(&mut mem, bottom, top) {
                    notes.push_str(&format!("# host: painted stack used {used} bytes\n"));
                }
            }
            stream.log.extend_from_slice(notes.as_bytes());
        }
        Ok(DeviceRun {
            end,
            stream,
            measured_energy: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(serial: &str) -> ProbeSummary {
        ProbeSummary {
            name: "STLink V3".into(),
            vendor_id: 0x0483,
            product_id: 0x374e,
            serial: Some(serial.into()),
        }
    }

    #[test]
    fn probe_selection_by_serial_vid_pid_or_the_only_one() {
        assert_eq!(select(&[], None, "pico").unwrap_err(), ProbeError::NoProbe);
        assert_eq!(ProbeError::NoProbe.to_string(), NO_PROBE);
        let one = [probe("A1")];
        assert_eq!(
            select(&one, None, "pico").unwrap().serial.as_deref(),
            Some("A1")
        );
        let two = [probe("A1"), probe("B2")];
        let e = select(&two, None, "nucleo-l4r5zi").unwrap_err();
        assert!(matches!(e, ProbeError::Ambiguous { count: 2, .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("2 debug probes") && e.contains("deploy.probe"),
            "{e}"
        );
        assert_eq!(
            select(&two, Some("b2"), "x").unwrap().serial.as_deref(),
            Some("B2")
        );
        assert_eq!(
            select(&two, Some("0483:374e:B2"), "x")
                .unwrap()
                .serial
                .as_deref(),
            Some("B2")
        );
        let e = select(&two, Some("C3"), "x").unwrap_err().to_string();
        assert!(e.contains("\"C3\"") && e.contains("serial A1"), "{e}");
    }

    #[test]
    fn chip_identity_catches_the_wrong_chip() {
        let nrf = chip_identity("nRF52840_xxAA").unwrap();
        assert!(check_identity(&nrf, 0x52840, "nRF52840_xxAA").is_ok());
        let e = check_identity(&nrf, 0x52832, "nRF52840_xxAA")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("wrong chip: FICR INFO.PART reads 0x52832"),
            "{e}"
        );
        let st = chip_identity("STM32L4R5ZITx").unwrap();
        assert!(
            check_identity(&st, 0x1000_6470, "STM32L4R5ZITx").is_ok(),
            "revision bits ignored"
        );
        let rp = chip_identity("RP2040").unwrap();
        assert!(check_identity(&rp, 0x2000_2927, "RP2040").is_ok());
        let l476 = chip_identity("STM32L476RGTx").unwrap();
        assert!(check_identity(&l476, 0x1007_6415, "STM32L476RGTx").is_ok());
        assert!(check_identity(&l476, 0x1000_6470, "STM32L476RGTx").is_err());
        assert!(chip_identity("Apollo3 Blue").is_none());
    }

    #[test]
    fn cyccnt_cross_check() {
        assert!(cross_check_cycles(10_000, &[3000, 3000, 3000]).is_ok());
        let e = cross_check_cycles(5_000, &[3000, 3000])
            .unwrap_err()
            .to_string();
        assert!(e.contains("6000 cycles") && e.contains("5000"), "{e}");
        // Past 2^32 the counter has wrapped: nothing to check.
        assert!(cross_check_cycles(5, &[1 << 31, 1 << 31]).is_ok());
    }

    #[test]
    fn no_probe_attached_lists_none() {
        // No probe is attached on the build machines: listing must work and find none.
        let probes = list();
        if probes.is_empty() {
            assert_eq!(
                select(&probes, None, "pico").unwrap_err(),
                ProbeError::NoProbe
            );
        }
    }
}
