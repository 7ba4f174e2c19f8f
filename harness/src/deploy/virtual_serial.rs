//! A virtual board behind pseudo-terminals, flashed through its serial bootloader as the real
//! one: after a reset (the reset wire, or the 1200-baud touch) a [`BootloaderPeer`] talks to the
//! host on the bootloader's terminal; what it wrote to flash then runs on the emulator with the
//! board's UART bridged to the record terminal (the same terminal, or a second one when
//! targets.toml gives the board a record port apart from its flash port). The serial back end
//! talks to it through the same code as to a USB-serial adapter; only the reset differs: a
//! pseudo-terminal has no DTR line, so the board's reset wire is a channel.
//!
//! The bootloaders: the SparkFun Variable Loader (`virtual_artemis`), the Ambiq secure
//! bootloader (`virtual_sbl`), Arduino's SAM-BA bootloader (`virtual_bossa`). Faults a real
//! board shows can be asked for: corrupted packets, a bootloader that never answers, a board
//! unplugged mid-flash, a firmware replaced by a byte script that stops mid-record, sends noise,
//! or unplugs the board (closes the terminals).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use emulator::StopReason;
use serialport::{SerialPort, TTYPort};

use super::emulator::VirtualBoard;
use super::serial::{Opener, ResetWiring, SerialLink};
use crate::targets::{Board, Deploy, Transport};

/// What runs after the bootloader.
#[derive(Debug, Clone)]
pub enum App {
    /// The flashed firmware, on the emulator.
    Emulate,
    /// Instead of the firmware: these bytes on the UART, then `then`.
    Script { bytes: Vec<u8>, then: AfterScript },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterScript {
    /// Nothing more (a board that hung).
    Silence,
    /// Endless noise without a record.
    Noise,
    /// The board disappears: the terminal closes.
    Disappear,
}

/// How the virtual board behaves.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    pub app: App,
    /// Data packets (1-based) whose first transmission arrives corrupted.
    pub corrupt_frames: Vec<usize>,
    /// Every data packet arrives corrupted (a broken line).
    pub corrupt_always: bool,
    /// How long the bootloader waits for the host after a reset (the SVL 200 ms; tests on a
    /// loaded host give it more). Zero: the bootloader never answers (not entered, or absent).
    pub listen: Duration,
    /// The board is unplugged (its terminals close) after this many data packets arrived.
    pub unplug_after_frames: Option<u32>,
    /// After the 1200-baud touch the board's USB port is gone this long (re-enumeration).
    pub reenumerate: Duration,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            app: App::Emulate,
            corrupt_frames: Vec::new(),
            corrupt_always: false,
            listen: Duration::from_secs(2),
            unplug_after_frames: None,
            reenumerate: Duration::from_millis(300),
        }
    }
}

impl PeerConfig {
    /// Whether the data packet `frame` (1-based), on its `attempt` (1-based), arrives corrupted.
    pub fn corrupts(&self, frame: usize, attempt: usize) -> bool {
        self.corrupt_always || (attempt == 1 && self.corrupt_frames.contains(&frame))
    }
}

/// What the virtual board saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerStats {
    pub resets: u32,
    /// Bootloader sessions that ended with the image written.
    pub flashes: u32,
    /// Data packets written (frames, DATA messages, 4 KiB blocks).
    pub frames_written: u32,
    /// Data packets the board asked for again (RETRY, NACK, a block rewritten).
    pub retries_requested: u32,
    /// The image the last flash wrote, and where.
    pub last_image_len: usize,
    pub last_image_origin: u32,
    pub last_image: Vec<u8>,
}

/// How the bootloader is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A reset through the adapter's modem lines.
    ResetWire,
    /// Opening the USB CDC port at this baud and closing it.
    Touch(u32),
}

/// How a bootloader session ended.
#[derive(Debug)]
pub enum Boot {
    /// The image was written from `origin`; the board resets into it.
    Flashed { origin: u32, image: Vec<u8> },
    /// No session (the host did not answer in time): the application in flash starts.
    StartApp,
    /// The host went away mid-session: nothing runs until the next reset.
    Halted,
    /// The board was unplugged.
    Unplugged,
}

/// A bootloader, board side.
pub trait BootloaderPeer: Send {
    fn entry(&self) -> Entry;
    /// From the reset to the hand-over, talking on `term`.
    fn run(&mut self, term: &mut Terminal, ctx: &PeerContext<'_>) -> Boot;
}

/// What a bootloader session may look at.
pub struct PeerContext<'a> {
    pub config: &'a PeerConfig,
    stats: &'a Mutex<PeerStats>,
}

impl PeerContext<'_> {
    pub fn stats(&self) -> MutexGuard<'_, PeerStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a data packet written; true when the board is to be unplugged now.
    pub fn frame_written(&self) -> bool {
        let mut s = self.stats();
        s.frames_written += 1;
        self.config
            .unplug_after_frames
            .is_some_and(|n| s.frames_written >= n)
    }
}

/// The board's end of a pseudo-terminal.
pub struct Terminal(TTYPort);

impl Terminal {
    /// Bytes from the host within `wait` (none when it sent nothing); `Err` when the terminal
    /// is gone.
    pub fn read_for(&mut self, wait: Duration) -> io::Result<Vec<u8>> {
        let _ = self.0.set_timeout(wait);
        let mut buf = [0u8; 4096];
        match self.0.read(&mut buf) {
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(Vec::new()),
            Err(e) => {
                // No host has the port open at the moment: as good as silence.
                std::thread::sleep(wait.max(Duration::from_millis(1)));
                Err(e)
            }
        }
    }

    /// Writes what fits: a host that does not read fills the terminal's buffer, and a UART
    /// without flow control drops the rest.
    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.0.set_timeout(Duration::from_millis(200));
        let _ = self.0.write_all(bytes);
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        let _ = self.0.set_timeout(timeout);
    }
}

impl Read for Terminal {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Terminal {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// One pseudo-terminal: the host's end and its path.
struct Pty {
    path: String,
    slave: Mutex<TTYPort>,
}

impl Pty {
    fn open() -> io::Result<(Pty, TTYPort)> {
        let (master, slave) = TTYPort::pair()?;
        let path = slave.name().unwrap_or_else(|| "pty".into());
        Ok((
            Pty {
                path,
                slave: Mutex::new(slave),
            },
            master,
        ))
    }

    fn clone_slave(&self) -> io::Result<TTYPort> {
        Ok(self
            .slave
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_clone_native()?)
    }
}

/// What the openers share.
struct Shared {
    boot: Pty,
    /// The record port, when it is not the flash port; with the board's path for it.
    record: Option<(Pty, String)>,
    wire: Mutex<Sender<()>>,
    entry: Entry,
    reenumerate: Duration,
    /// The USB port is away (re-enumerating) until then.
    gone_until: Mutex<Option<Instant>>,
}

/// The running virtual board; dropping it powers it off.
pub struct VirtualSerialBoard {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<PeerStats>>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualSerialBoard {
    /// Powers on a virtual `board` with `bootloader` behind new pseudo-terminals: one, or two
    /// when the board's transport port differs from its deploy port.
    pub fn start(
        board: &Board,
        bootloader: Box<dyn BootloaderPeer>,
        config: PeerConfig,
    ) -> io::Result<VirtualSerialBoard> {
        let (boot, boot_master) = Pty::open()?;
        let flash_port = match &board.deploy {
            Deploy::Serial { port, .. } => Some(port.as_str()),
            Deploy::ProbeRs { .. } => None,
        };
        let (record, record_master) = match &board.transport {
            Transport::Uart { port, .. } if Some(port.as_str()) != flash_port => {
                let (pty, master) = Pty::open()?;
                (Some((pty, port.clone())), Some(master))
            }
            _ => (None, None),
        };
        let (wire, reset) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(PeerStats::default()));
        let shared = Arc::new(Shared {
            boot,
            record,
            wire: Mutex::new(wire),
            entry: bootloader.entry(),
            reenumerate: config.reenumerate,
            gone_until: Mutex::new(None),
        });
        let peer = Peer {
            board: board.clone(),
            config,
            bootloader,
            boot: Terminal(boot_master),
            record: record_master.map(Terminal),
            reset,
            stop: stop.clone(),
            stats: stats.clone(),
            flash: None,
        };
        let thread = std::thread::Builder::new()
            .name(format!("virtual-{}", board.name))
            .spawn(move || peer.serve())?;
        Ok(VirtualSerialBoard {
            shared,
            stop,
            stats,
            thread: Some(thread),
        })
    }

    /// The bootloader terminal's path.
    pub fn path(&self) -> &str {
        &self.shared.boot.path
    }

    /// The record terminal's path, when it is apart from the bootloader's.
    pub fn record_path(&self) -> Option<&str> {
        self.shared
            .record
            .as_ref()
            .map(|(pty, _)| pty.path.as_str())
    }

    pub fn stats(&self) -> PeerStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens the board's ports: the record port at the board's transport path (or the record
    /// terminal's own path), any other path the bootloader's, with the reset wire attached.
    pub fn opener(&self) -> Box<Opener> {
        let shared = self.shared.clone();
        Box::new(move |path, baud| {
            if let Some((pty, board_path)) = &shared.record {
                if path == board_path || path == pty.path {
                    let mut port = pty.clone_slave()?;
                    port.set_baud_rate(baud)?;
                    let wire = shared
                        .wire
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone();
                    return Ok(Box::new(PtyLink { port, wire }) as Box<dyn SerialLink>);
                }
            }
            let mut gone = shared.gone_until.lock().unwrap_or_else(|e| e.into_inner());
            if gone.is_some_and(|until| Instant::now() < until) {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{path}: no such device (the board is re-enumerating)"),
                ));
            }
            let mut port = shared.boot.clone_slave()?;
            port.set_baud_rate(baud)?;
            let wire = shared
                .wire
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if shared.entry == Entry::Touch(baud) {
                // The sketch's USB stack sees the 1200-baud line coding and resets into the
                // bootloader; its port goes away while the bootloader enumerates.
                let _ = wire.send(());
                *gone = Some(Instant::now() + shared.reenumerate);
            }
            Ok(Box::new(PtyLink { port, wire }) as Box<dyn SerialLink>)
        })
    }
}

impl Drop for VirtualSerialBoard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The host's end: the terminal, and the reset wire instead of DTR.
struct PtyLink {
    port: TTYPort,
    wire: Sender<()>,
}

impl Read for PtyLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.port.read(buf)
    }
}

impl Write for PtyLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.port.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.port.flush()
    }
}

impl SerialLink for PtyLink {
    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        Ok(self.port.set_baud_rate(baud)?)
    }
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        Ok(self.port.set_timeout(timeout)?)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        Ok(self.port.clear(serialport::ClearBuffer::Input)?)
    }
    fn reset(&mut self, _wiring: ResetWiring) -> io::Result<()> {
        self.wire
            .send(())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the virtual board is off"))
    }
}

enum Phase {
    /// Nothing runs (before the first reset, after the firmware halted).
    Idle,
    Bootloader,
    Firmware(Box<VirtualBoard>, emulator::chips::UartPort),
    Noise(u32),
}

struct Peer {
    board: Board,
    config: PeerConfig,
    bootloader: Box<dyn BootloaderPeer>,
    boot: Terminal,
    record: Option<Terminal>,
    reset: Receiver<()>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<PeerStats>>,
    /// What the bootloader wrote: origin and bytes.
    flash: Option<(u32, Vec<u8>)>,
}

/// Instructions between two looks at the terminal.
const SLICE: u64 = 200_000;

impl Peer {
    fn stats(&self) -> MutexGuard<'_, PeerStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The terminal the application's UART is on.
    fn uart(&mut self) -> &mut Terminal {
        self.record.as_mut().unwrap_or(&mut self.boot)
    }

    fn serve(mut self) {
        let mut phase = Phase::Idle;
        while !self.stop.load(Ordering::Relaxed) {
            if self.reset.try_recv().is_ok() {
                self.stats().resets += 1;
                phase = Phase::Bootloader;
            }
            phase = match phase {
                Phase::Idle => {
                    // Input to a board that listens to nobody is lost.
                    let _ = self.boot.read_for(Duration::from_millis(5));
                    if let Some(record) = &mut self.record {
                        let _ = record.read_for(Duration::ZERO);
                    }
                    Phase::Idle
                }
                Phase::Bootloader => {
                    let ctx = PeerContext {
                        config: &self.config,
                        stats: &self.stats,
                    };
                    match self.bootloader.run(&mut self.boot, &ctx) {
                        Boot::Flashed { origin, image } => {
                            {
                                let mut s = self.stats();
                                s.flashes += 1;
                                s.last_image_len = image.len();
                                s.last_image_origin = origin;
                                s.last_image = image.clone();
                            }
                            self.flash = Some((origin, image));
                            match self.start_firmware() {
                                Some(next) => next,
                                None => return,
                            }
                        }
                        Boot::StartApp => match self.start_firmware() {
                            Some(next) => next,
                            None => return,
                        },
                        Boot::Halted => Phase::Idle,
                        Boot::Unplugged => return,
                    }
                }
                Phase::Firmware(mut vb, uart) => {
                    let stop = vb.machine.run(SLICE);
                    let tx = uart.take_tx();
                    if !tx.is_empty() {
                        self.uart().send(&tx);
                    }
                    if let Ok(rx) = self.uart().read_for(Duration::ZERO) {
                        uart.push_rx(&rx);
                    }
                    match stop {
                        StopReason::BudgetExhausted => Phase::Firmware(vb, uart),
                        _ => Phase::Idle,
                    }
                }
                Phase::Noise(seed) => {
                    // A line without newlines or records: xorshift bytes, never '\n'.
                    let mut x = seed;
                    let noise: Vec<u8> = (0..64)
                        .map(|_| {
                            x ^= x << 13;
                            x ^= x >> 17;
                            x ^= x << 5;
                            match x as u8 {
                                b'\n' => b'~',
                                b => b,
                            }
                        })
                        .collect();
                    self.uart().send(&noise);
                    std::thread::sleep(Duration::from_millis(2));
                    Phase::Noise(x)
                }
            };
        }
    }

    /// The application after a reset; `None` when the board disappears.
    fn start_firmware(&mut self) -> Option<Phase> {
        match self.config.app.clone() {
            App::Emulate => {
                let Some((origin, flash)) = &self.flash else {
                    return Some(Phase::Idle);
                };
                match VirtualBoard::from_flash(&self.board, &[(*origin, flash)]) {
                    Ok(vb) => match vb.uart() {
                        Some(uart) => Some(Phase::Firmware(Box::new(vb), uart)),
                        None => Some(Phase::Idle),
                    },
                    Err(_) => Some(Phase::Idle),
                }
            }
            App::Script { bytes, then } => {
                self.uart().send(&bytes);
                match then {
                    AfterScript::Silence => Some(Phase::Idle),
                    AfterScript::Noise => Some(Phase::Noise(0x2545_f491)),
                    AfterScript::Disappear => None,
                }
            }
        }
    }
}
