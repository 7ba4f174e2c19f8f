//! A virtual SparkFun Artemis behind a pseudo-terminal, answering like the real board: after a
//! reset its SparkFun Variable Loader listens for the baud-detection byte, takes the image frame
//! by frame (checking each CRC, asking for a resend when one fails), resets, and the firmware it
//! was given runs on the emulator with UART0 bridged to the terminal. The serial back end talks
//! to it through the same code as to a USB-serial adapter; only the reset differs: a
//! pseudo-terminal has no DTR line, so the board's reset wire is a channel.
//!
//! Faults a real board shows can be asked for: corrupted frames, a firmware replaced by a byte
//! script that stops mid-record, sends noise, or unplugs the board (closes the terminal).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use emulator::StopReason;
use serialport::{SerialPort, TTYPort};

use super::emulator::VirtualBoard;
use super::serial::{Opener, ResetWiring, SerialLink};
use super::svl;
use crate::targets::Board;

/// The SVL version the virtual board reports (SVL_VERSION_NUMBER of the bootloader's main.c).
pub const SVL_VERSION: u8 = 6;

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
    /// Frames (1-based) whose first transmission arrives corrupted.
    pub corrupt_frames: Vec<usize>,
    /// Every frame arrives corrupted (a broken line).
    pub corrupt_always: bool,
    /// How long the bootloader listens for the baud-detection byte after a reset (the real one
    /// 200 ms; tests on a loaded host give it more).
    pub listen: Duration,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            app: App::Emulate,
            corrupt_frames: Vec::new(),
            corrupt_always: false,
            listen: Duration::from_secs(2),
        }
    }
}

/// What the virtual board saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerStats {
    pub resets: u32,
    /// Bootloader sessions that ended with DONE.
    pub flashes: u32,
    pub frames_written: u32,
    pub retries_requested: u32,
    /// The image the last flash wrote from 0x1_0000.
    pub last_image_len: usize,
}

/// The running virtual board; dropping it powers it off.
pub struct VirtualArtemis {
    path: String,
    slave: Mutex<TTYPort>,
    wire: Mutex<Sender<()>>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<PeerStats>>,
    thread: Option<JoinHandle<()>>,
}

impl VirtualArtemis {
    /// Powers on a virtual `board` (an Artemis of targets.toml) behind a new pseudo-terminal.
    pub fn start(board: &Board, config: PeerConfig) -> io::Result<VirtualArtemis> {
        let (master, slave) = TTYPort::pair()?;
        let path = slave.name().unwrap_or_else(|| "pty".into());
        let (wire, reset) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(PeerStats::default()));
        let peer = Peer {
            board: board.clone(),
            config,
            master,
            reset,
            stop: stop.clone(),
            stats: stats.clone(),
            flash: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("virtual-artemis".into())
            .spawn(move || peer.serve())?;
        Ok(VirtualArtemis {
            path,
            slave: Mutex::new(slave),
            wire: Mutex::new(wire),
            stop,
            stats,
            thread: Some(thread),
        })
    }

    /// The terminal's path (what targets.toml's port would be).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn stats(&self) -> PeerStats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Opens the board's port, whatever path is asked for, with the reset wire attached.
    pub fn opener(self: &Arc<Self>) -> Box<Opener> {
        let me = self.clone();
        Box::new(move |_path, baud| {
            let mut port = me
                .slave
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_clone_native()?;
            port.set_baud_rate(baud)?;
            let wire = me.wire.lock().unwrap_or_else(|e| e.into_inner()).clone();
            Ok(Box::new(PtyLink { port, wire }) as Box<dyn SerialLink>)
        })
    }
}

impl Drop for VirtualArtemis {
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
    master: TTYPort,
    reset: Receiver<()>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<PeerStats>>,
    /// Flash from 0x1_0000, as the bootloader wrote it.
    flash: Vec<u8>,
}

/// Instructions between two looks at the terminal.
const SLICE: u64 = 200_000;

impl Peer {
    fn stats(&self) -> std::sync::MutexGuard<'_, PeerStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
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
                    let _ = self.read_for(Duration::from_millis(5));
                    Phase::Idle
                }
                Phase::Bootloader => match self.bootloader() {
                    Some(next) => next,
                    None => return,
                },
                Phase::Firmware(mut vb, uart) => {
                    let stop = vb.machine.run(SLICE);
                    let tx = uart.take_tx();
                    if !tx.is_empty() {
                        self.write(&tx);
                    }
                    if let Ok(rx) = self.read_for(Duration::ZERO) {
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
                    self.write(&noise);
                    std::thread::sleep(Duration::from_millis(2));
                    Phase::Noise(x)
                }
            };
        }
    }

    /// Bytes from the host within `wait` (none when it sent nothing); `Err` when the terminal
    /// is gone.
    fn read_for(&mut self, wait: Duration) -> io::Result<Vec<u8>> {
        let _ = self.master.set_timeout(wait);
        let mut buf = [0u8; 4096];
        match self.master.read(&mut buf) {
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(Vec::new()),
            Err(e) => {
                // No host has the port open at the moment: as good as silence.
                std::thread::sleep(wait.max(Duration::from_millis(1)));
                Err(e)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        // A host that does not read fills the terminal's buffer: drop what does not fit, as a
        // UART without flow control would.
        let _ = self.master.set_timeout(Duration::from_millis(200));
        let _ = self.master.write_all(bytes);
    }

    fn send(&mut self, cmd: u8, data: &[u8]) {
        let bytes = svl::encode(cmd, data);
        self.write(&bytes);
    }

    /// The SVL from reset to the firmware; `None` when the board disappears.
    fn bootloader(&mut self) -> Option<Phase> {
        // Listen for the baud-detection byte.
        let deadline = Instant::now() + self.config.listen;
        let mut heard = false;
        while !heard && Instant::now() < deadline {
            if let Ok(bytes) = self.read_for(Duration::from_millis(10)) {
                heard = bytes.contains(&svl::BAUD_DETECT);
            }
        }
        if !heard {
            return self.start_firmware();
        }
        self.send(svl::CMD_VERSION, &[SVL_VERSION]);
        let _ = self.master.set_timeout(Duration::from_secs(2));
        match svl::read_packet(&mut self.master, "BL") {
            Ok(p) if p.cmd == svl::CMD_BL => {}
            // No confirmation: the real loader starts the application.
            _ => return self.start_firmware(),
        }
        let mut image = Vec::new();
        let mut attempt_of_frame = 0usize;
        self.send(svl::CMD_NEXT, &[]);
        loop {
            let _ = self.master.set_timeout(Duration::from_secs(2));
            let mut payload = match svl::read_raw(&mut self.master, "a frame") {
                Ok(p) => p,
                // The host went away mid-flash: the loader gives up, the flash is half written.
                Err(_) => return Some(Phase::Idle),
            };
            let frame = self.stats().frames_written as usize + 1;
            attempt_of_frame += 1;
            let corrupt = self.config.corrupt_always
                || (attempt_of_frame == 1 && self.config.corrupt_frames.contains(&frame));
            if corrupt && payload.len() > 3 {
                payload[1] ^= 0x01;
            }
            match svl::decode(&payload) {
                Ok(p) if p.cmd == svl::CMD_FRAME => {
                    image.extend_from_slice(&p.data);
                    self.stats().frames_written += 1;
                    attempt_of_frame = 0;
                    self.send(svl::CMD_NEXT, &[]);
                }
                Ok(p) if p.cmd == svl::CMD_DONE => break,
                Err(svl::SvlError::Crc { .. }) => {
                    self.stats().retries_requested += 1;
                    self.send(svl::CMD_RETRY, &[]);
                }
                _ => return Some(Phase::Idle),
            }
        }
        {
            let mut s = self.stats();
            s.flashes += 1;
            s.last_image_len = image.len();
        }
        self.flash = image;
        // The loader resets the chip; after its listening window the application starts.
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.read_for(Duration::ZERO);
        self.start_firmware()
    }

    fn start_firmware(&mut self) -> Option<Phase> {
        match self.config.app.clone() {
            App::Emulate => {
                if self.flash.is_empty() {
                    return Some(Phase::Idle);
                }
                let board = self.board.clone();
                match VirtualBoard::from_flash(&board, &[(svl::APP_ORIGIN, &self.flash)]) {
                    Ok(vb) => match vb.uart() {
                        Some(uart) => Some(Phase::Firmware(Box::new(vb), uart)),
                        None => Some(Phase::Idle),
                    },
                    Err(_) => Some(Phase::Idle),
                }
            }
            App::Script { bytes, then } => {
                self.write(&bytes);
                match then {
                    AfterScript::Silence => Some(Phase::Idle),
                    AfterScript::Noise => Some(Phase::Noise(0x2545_f491)),
                    AfterScript::Disappear => None,
                }
            }
        }
    }
}
