//! The serial back end: flash through a serial bootloader (the SparkFun Variable Loader on the
//! Artemis, the Ambiq secure bootloader on the SparkFun Edge, Arduino's SAM-BA bootloader over
//! USB on the Nano 33 BLE), then read the protocol records from the UART at the baud of
//! targets.toml: on the flash port, or on a port of its own (the Nano's TX pin through a
//! USB-serial adapter while the bootloader speaks over the board's USB). The record reader
//! serves any board whose transport is a UART.
//!
//! The port is reached through [`SerialLink`], so the same code drives a USB-serial adapter
//! (`serialport`, no system library) or a pseudo-terminal with an emulated board behind it
//! (`virtual_serial`, in tests).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{
    ambiq_sbl, bossa, image, svl, DeployError, Deployer, DeviceJob, DeviceRun, End, HostInput,
    Limits,
};
use crate::stream::RecordStream;
use crate::targets::{Board, Bootloader, Deploy, Transport};

/// A serial port as the back end uses it.
pub trait SerialLink: Read + Write + Send {
    fn set_baud(&mut self, baud: u32) -> io::Result<()>;
    /// How long a read waits for a byte before it fails with `TimedOut`.
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()>;
    /// Drops what was received and not read yet.
    fn clear_input(&mut self) -> io::Result<()>;
    /// Resets the board through the adapter's modem lines, as the board wires them.
    fn reset(&mut self, wiring: ResetWiring) -> io::Result<()>;
}

/// How a board's reset pin hangs on the USB-serial adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetWiring {
    /// DTR through a capacitor to nRESET (SparkFun Artemis boards, Arduino style): asserting
    /// DTR after a pause gives the reset pulse.
    DtrPulse,
    /// DTR to nRESET and RTS to the Apollo3's boot pin through an RC (the SparkFun Edge 2, or
    /// an Edge on a SparkFun Serial Basic): both asserted hold the chip in reset, both released
    /// let it out of reset while the boot pin is still high (ambiq_bin2board.py: 5 ms, then
    /// DTR and RTS off, then 100 ms before HELLO).
    AmbiqBoot,
}

/// Opens the port at a path and baud.
pub type Opener = dyn Fn(&str, u32) -> io::Result<Box<dyn SerialLink>> + Send + Sync;

/// A real serial port.
pub struct SystemPort(Box<dyn serialport::SerialPort>);

impl SystemPort {
    pub fn open(path: &str, baud: u32) -> io::Result<SystemPort> {
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(500))
            .open()?;
        Ok(SystemPort(port))
    }
}

impl Read for SystemPort {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for SystemPort {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl SerialLink for SystemPort {
    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        Ok(self.0.set_baud_rate(baud)?)
    }
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        Ok(self.0.set_timeout(timeout)?)
    }
    fn clear_input(&mut self) -> io::Result<()> {
        Ok(self.0.clear(serialport::ClearBuffer::Input)?)
    }
    fn reset(&mut self, wiring: ResetWiring) -> io::Result<()> {
        match wiring {
            ResetWiring::DtrPulse => {
                self.0.write_data_terminal_ready(false)?;
                std::thread::sleep(Duration::from_millis(20));
                self.0.write_data_terminal_ready(true)?;
                Ok(())
            }
            ResetWiring::AmbiqBoot => {
                self.0.write_data_terminal_ready(true)?;
                self.0.write_request_to_send(true)?;
                std::thread::sleep(Duration::from_millis(5));
                self.0.write_data_terminal_ready(false)?;
                self.0.write_request_to_send(false)?;
                Ok(())
            }
        }
    }
}

/// Timing of the serial back end.
#[derive(Debug, Clone, Copy)]
pub struct SerialOptions {
    /// From the reset to the baud-detection byte (svl.py: 0.15 s; the bootloader needs at
    /// least 0.095 s to come out of reset and listens for 0.2 s).
    pub boot_wait: Duration,
    /// How long to wait for each bootloader packet (svl.py: 0.5 s).
    pub packet_timeout: Duration,
    /// Resets and tries to enter the bootloader before giving up (svl.py: 3).
    pub attempts: u32,
    /// The board sent nothing for this long: it stopped (mid-record, or hung).
    pub idle_timeout: Duration,
    /// How long the Ambiq bootloader may take to acknowledge a message: it may write a whole
    /// piece to flash before it answers (uart_wired_update.py: 12 s).
    pub ack_timeout: Duration,
    /// How long a SAM-BA erase or CRC may take (Samba.cpp's TIMEOUT_LONG: 5 s).
    pub long_timeout: Duration,
    /// After the 1200-baud touch: a pause while the board's USB port goes away, then how long
    /// to wait for it to come back (arduino-cli waits up to 10 s).
    pub touch_settle: Duration,
    pub port_return: Duration,
}

impl Default for SerialOptions {
    fn default() -> Self {
        SerialOptions {
            boot_wait: Duration::from_millis(150),
            packet_timeout: Duration::from_millis(500),
            attempts: 3,
            idle_timeout: Duration::from_secs(60),
            ack_timeout: Duration::from_secs(12),
            long_timeout: Duration::from_secs(5),
            touch_settle: Duration::from_millis(500),
            port_return: Duration::from_secs(10),
        }
    }
}

/// What flashing took: data packets sent, and those sent again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flashed {
    pub packets: usize,
    pub resends: u32,
}

/// A board flashed through its serial bootloader, reporting over its UART.
pub struct SerialDeployer {
    bootloader: Bootloader,
    flash_port: String,
    flash_baud: u32,
    port: String,
    baud: u32,
    opener: Box<Opener>,
    pub options: SerialOptions,
    /// One job at a time on the board.
    busy: Mutex<()>,
}

impl SerialDeployer {
    /// The back end targets.toml describes for `board`, on the host's serial ports.
    pub fn for_board(board: &Board) -> Result<SerialDeployer, String> {
        SerialDeployer::with_opener(
            board,
            Box::new(|path, baud| Ok(Box::new(SystemPort::open(path, baud)?))),
        )
    }

    /// As [`SerialDeployer::for_board`], with ports opened by `opener` (a test's pseudo-terminal).
    pub fn with_opener(board: &Board, opener: Box<Opener>) -> Result<SerialDeployer, String> {
        let Deploy::Serial {
            bootloader,
            port: flash_port,
            baud: flash_baud,
        } = &board.deploy
        else {
            return Err(format!(
                "board \"{}\" is not deployed through a serial bootloader (deploy in targets.toml)",
                board.name
            ));
        };
        let Transport::Uart { port, baud, .. } = &board.transport else {
            return Err(format!(
                "board \"{}\": a serial bootloader needs transport = {{ kind = \"uart\", ... }} for the records",
                board.name
            ));
        };
        Ok(SerialDeployer {
            bootloader: *bootloader,
            flash_port: flash_port.clone(),
            flash_baud: *flash_baud,
            port: port.clone(),
            baud: *baud,
            opener,
            options: SerialOptions::default(),
            busy: Mutex::new(()),
        })
    }

    fn open(&self, path: &str, baud: u32) -> Result<Box<dyn SerialLink>, DeployError> {
        (self.opener)(path, baud).map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                "add yourself to group dialout or install the udev rules of docs/HARDWARE.md"
            } else {
                "is the board plugged in, and is the port in targets.toml right? `mcubench doctor` lists the serial ports"
            };
            DeployError::new(format!("cannot open serial port {path}: {e}; {hint}"))
        })
    }

    /// Resets the board into its bootloader (the Nano 33 BLE: already entered by
    /// [`SerialDeployer::open_bossa`]) and writes `image` from the application origin.
    pub fn flash(&self, link: &mut dyn SerialLink, image: &[u8]) -> Result<Flashed, DeployError> {
        match self.bootloader {
            Bootloader::SparkfunVariableLoader => self.flash_svl(link, image),
            Bootloader::AmbiqSbl => self.flash_sbl(link, image),
            Bootloader::ArduinoBossa => self.flash_bossa(link, image),
        }
    }

    fn flash_svl(&self, link: &mut dyn SerialLink, image: &[u8]) -> Result<Flashed, DeployError> {
        if !svl::BAUDS.contains(&self.flash_baud) {
            return Err(DeployError::new(format!(
                "deploy.baud {} cannot be detected by the SparkFun Variable Loader (it knows {:?})",
                self.flash_baud,
                svl::BAUDS
            )));
        }
        let o = self.options;
        let port = &self.flash_port;
        let io = |e: io::Error| DeployError::transient(format!("serial port {port}: {e}"));
        let mut last = String::new();
        let mut no_reset = String::new();
        for _ in 0..o.attempts.max(1) {
            link.set_timeout(o.packet_timeout).map_err(io)?;
            if let Err(e) = link.reset(ResetWiring::DtrPulse) {
                // A port without modem lines (a pseudo-terminal, some adapters) cannot reset
                // the board: the user presses reset, or the board is already in the loader.
                no_reset = format!("; DTR could not reset the board ({e}): press its reset button as mcubench starts");
            }
            std::thread::sleep(o.boot_wait);
            link.clear_input().map_err(io)?;
            match svl::enter(&mut Link(link)) {
                Ok(_version) => {
                    let sent = svl::send_image(&mut Link(link), image).map_err(|e| match e {
                        svl::SvlError::Closed { .. } => DeployError::new(format!(
                            "flashing through {port} failed: {e}; the board was unplugged or reset"
                        )),
                        e => DeployError::transient(format!("flashing through {port} failed: {e}")),
                    })?;
                    return Ok(Flashed {
                        packets: sent.frames,
                        resends: sent.resends,
                    });
                }
                Err(svl::SvlError::Closed { source, .. }) => {
                    return Err(DeployError::new(format!(
                        "serial port {port} closed while entering the bootloader ({source}): the board was unplugged"
                    )))
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(DeployError::transient(format!(
            "the board on {port} did not enter the SparkFun Variable Loader after {} resets ({last}): check the port, that the board has the SVL bootloader (burn it with Arduino's \"Burn Bootloader\" if not), and that no other program holds the port{no_reset}",
            o.attempts.max(1)
        )))
    }

    fn flash_sbl(&self, link: &mut dyn SerialLink, image: &[u8]) -> Result<Flashed, DeployError> {
        let port = &self.flash_port;
        let storage = ambiq_sbl::storage_for(image.len())
            .map_err(|e| DeployError::new(format!("cannot flash through {port}: {e}")))?;
        let wired =
            ambiq_sbl::wired_blob(&ambiq_sbl::ota_blob(image, ambiq_sbl::APP_ORIGIN), storage);
        let o = self.options;
        let io = |e: io::Error| DeployError::transient(format!("serial port {port}: {e}"));
        let mut last = String::new();
        let mut no_reset = String::new();
        for _ in 0..o.attempts.max(1) {
            link.set_timeout(o.packet_timeout).map_err(io)?;
            if let Err(e) = link.reset(ResetWiring::AmbiqBoot) {
                no_reset = format!("; DTR/RTS could not reset the board ({e})");
            }
            std::thread::sleep(o.boot_wait);
            link.clear_input().map_err(io)?;
            match ambiq_sbl::hello(&mut Link(link)) {
                Ok(_status) => {
                    link.set_timeout(o.ack_timeout).map_err(io)?;
                    let sent = ambiq_sbl::program(&mut Link(link), &wired).map_err(|e| match e {
                        ambiq_sbl::SblError::Closed { .. } => DeployError::new(format!(
                            "flashing through {port} failed: {e}; the board was unplugged or reset"
                        )),
                        e => DeployError::transient(format!("flashing through {port} failed: {e}")),
                    })?;
                    return Ok(Flashed {
                        packets: sent.data_messages,
                        resends: sent.resends,
                    });
                }
                Err(ambiq_sbl::SblError::Closed { source, .. }) => {
                    return Err(DeployError::new(format!(
                        "serial port {port} closed while entering the bootloader ({source}): the board was unplugged"
                    )))
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(DeployError::transient(format!(
            "the board on {port} did not answer the Ambiq secure bootloader after {} resets ({last}): to enter it on a SparkFun Edge, hold button 14, press and release RST, and keep 14 held until flashing starts (on an Edge 2, or with DTR/RTS wired to reset and boot as on a SparkFun Serial Basic, mcubench does this itself); check deploy.port and that deploy.baud is the bootloader's (SparkFun sets the Edge to 921600, AmbiqSuite's script defaults to 115200){no_reset}",
            o.attempts.max(1)
        )))
    }

    /// The 1200-baud touch on the flash port, then the port opened again once the board's
    /// bootloader has enumerated.
    pub fn open_bossa(&self) -> Result<Box<dyn SerialLink>, DeployError> {
        let port = &self.flash_port;
        let o = self.options;
        match (self.opener)(port, bossa::TOUCH_BAUD) {
            // Closing the port at 1200 baud resets the sketch into the bootloader.
            Ok(link) => drop(link),
            // No port: the board may already be in its bootloader, enumerating.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                self.open(port, bossa::TOUCH_BAUD)?;
            }
        }
        std::thread::sleep(o.touch_settle);
        let deadline = Instant::now() + o.port_return;
        loop {
            match (self.opener)(port, self.flash_baud) {
                Ok(link) => return Ok(link),
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    return Err(self.open(port, self.flash_baud).err().unwrap_or_else(|| {
                        DeployError::new(format!("serial port {port}: {e}"))
                    }))
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(DeployError::transient(format!(
                        "serial port {port} did not come back within {} s of the 1200-baud touch ({e}): is deploy.port the board's USB port (e.g. /dev/ttyACM0)? Double-tap the board's reset button (the LED pulses) to enter the bootloader by hand",
                        o.port_return.as_secs_f64()
                    )))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn flash_bossa(&self, link: &mut dyn SerialLink, image: &[u8]) -> Result<Flashed, DeployError> {
        let port = &self.flash_port;
        let o = self.options;
        let io = |e: io::Error| DeployError::transient(format!("serial port {port}: {e}"));
        link.set_timeout(o.packet_timeout.max(Duration::from_secs(1)))
            .map_err(io)?;
        link.clear_input().map_err(io)?;
        match bossa::connect(&mut Link(link)) {
            Ok(_) => {}
            Err(bossa::BossaError::Closed { source, .. }) => {
                return Err(DeployError::new(format!(
                    "serial port {port} closed while entering the bootloader ({source}): the board was unplugged"
                )))
            }
            Err(e @ (bossa::BossaError::Timeout { .. } | bossa::BossaError::Unexpected { .. })) => {
                return Err(DeployError::transient(format!(
                    "the board on {port} did not answer Arduino's SAM-BA bootloader after the 1200-baud touch ({e}): double-tap the board's reset button (the LED pulses) to enter the bootloader by hand, check that deploy.port is the board's USB port (e.g. /dev/ttyACM0) and not the UART adapter of transport.port, and that no other program holds the port"
                )))
            }
            Err(e) => return Err(DeployError::new(format!("flashing through {port} failed: {e}"))),
        }
        link.set_timeout(o.long_timeout).map_err(io)?;
        let sent = bossa::flash(&mut Link(link), image).map_err(|e| match e {
            bossa::BossaError::Closed { .. } => DeployError::new(format!(
                "flashing through {port} failed: {e}; the board was unplugged or reset"
            )),
            e => DeployError::transient(format!("flashing through {port} failed: {e}")),
        })?;
        Ok(Flashed {
            packets: sent.blocks,
            resends: sent.rewrites,
        })
    }

    /// Reads the report from `link` into `stream` until it ends or a limit is hit.
    pub fn read_into(
        &self,
        link: &mut dyn SerialLink,
        limits: Limits,
        cancel: &AtomicBool,
        stream: &mut RecordStream,
        input: HostInput,
    ) -> End {
        UartReport {
            port: &self.port,
            baud: self.baud,
            idle_timeout: self.options.idle_timeout,
        }
        .read(link, limits, cancel, stream, input)
    }
}

/// Bytes the host sends the board per look at the port (a PL011 receive FIFO is 32 deep).
const UART_SEND_BYTES: usize = 32;

/// Reading a firmware's report from a UART: any board whose transport is `uart`.
pub struct UartReport<'a> {
    pub port: &'a str,
    pub baud: u32,
    /// The board sent nothing for this long: it stopped (mid-record, or hung).
    pub idle_timeout: Duration,
}

impl UartReport<'_> {
    /// Reads the report from `link` into `stream` until it ends or a limit is hit.
    pub fn read(
        &self,
        link: &mut dyn SerialLink,
        limits: Limits,
        cancel: &AtomicBool,
        stream: &mut RecordStream,
        input: HostInput,
    ) -> End {
        let started = Instant::now();
        let mut last_byte = Instant::now();
        let mut buf = [0u8; 1024];
        if let Err(e) = link.set_timeout(Duration::from_millis(50)) {
            return End::Stopped(format!("serial port {}: {e}", self.port));
        }
        loop {
            if let Some(end) = End::of_report(&stream.measurements) {
                return end;
            }
            if cancel.load(Ordering::Relaxed) {
                return End::Stopped("interrupted".into());
            }
            if last_byte.elapsed() >= self.idle_timeout {
                return End::Stopped(format!(
                    "the board sent nothing on {} for {} s {}",
                    self.port,
                    self.idle_timeout.as_secs_f64(),
                    self.what_arrived(stream)
                ));
            }
            if started.elapsed() >= limits.timeout {
                return End::TimedOut(format!(
                    "no @done on {} within {} s {}",
                    self.port,
                    limits.timeout.as_secs_f64(),
                    self.what_arrived(stream)
                ));
            }
            // The host's bytes, a UART FIFO's worth at a time (the firmware reads as it goes).
            let out = input(&stream.measurements, UART_SEND_BYTES);
            if !out.is_empty() {
                if let Err(e) = link.write_all(&out).and_then(|()| link.flush()) {
                    return End::Stopped(format!(
                        "serial port {}: cannot send to the board ({e}) {}",
                        self.port,
                        self.what_arrived(stream)
                    ));
                }
            }
            match link.read(&mut buf) {
                Ok(0) => {
                    return End::Stopped(format!(
                        "serial port {} closed: the board was unplugged or reset {}",
                        self.port,
                        self.what_arrived(stream)
                    ))
                }
                Ok(n) => {
                    last_byte = Instant::now();
                    stream.feed(&buf[..n]);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    return End::Stopped(format!(
                        "serial port {} closed: the board was unplugged or reset ({e}) {}",
                        self.port,
                        self.what_arrived(stream)
                    ))
                }
            }
        }
    }

    /// What the board said before it stopped, for the reason of a failure.
    fn what_arrived(&self, stream: &RecordStream) -> String {
        let m = &stream.measurements;
        if stream.log.is_empty() {
            return format!(
                "(nothing arrived: is the firmware's UART on this port, at {} baud?)",
                self.baud
            );
        }
        if m.board.is_none() {
            return format!(
                "({} bytes arrived but no @mcubench record: noise on the line, or a baud other than transport.baud = {}?)",
                stream.log.len(),
                self.baud
            );
        }
        let tail_start = stream.log.len().saturating_sub(40);
        format!(
            "(it stopped mid-report after {} timed runs; last bytes: {:?})",
            m.cycles.len(),
            String::from_utf8_lossy(&stream.log[tail_start..])
        )
    }
}

/// `&mut dyn SerialLink` as `Read + Write` for the bootloader code.
struct Link<'a>(&'a mut dyn SerialLink);

impl Read for Link<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Link<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Deployer for SerialDeployer {
    fn label(&self) -> String {
        format!("serial ({})", self.bootloader)
    }

    fn cycle_model(&self) -> Option<String> {
        None
    }

    fn run(&self, job: DeviceJob<'_>) -> Result<DeviceRun, DeployError> {
        let DeviceJob {
            board,
            elf,
            partition,
            limits,
            cancel,
            input,
        } = job;
        let _busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let flash = board.flash();
        let model = board.model_partition().ok_or_else(|| {
            DeployError::new(format!(
                "board \"{}\" has no model region in targets.toml",
                board.name
            ))
        })?;
        let origin = match self.bootloader {
            Bootloader::SparkfunVariableLoader => svl::APP_ORIGIN,
            Bootloader::AmbiqSbl => ambiq_sbl::APP_ORIGIN,
            Bootloader::ArduinoBossa => bossa::APP_ORIGIN,
        };
        if flash.origin != origin {
            return Err(DeployError::new(format!(
                "board \"{}\": the {} writes from {origin:#x}, but region {} starts at {:#x}",
                board.name, self.bootloader, flash.name, flash.origin
            )));
        }
        let firmware = image::flat_image(elf, flash.origin, flash.end())
            .map_err(|e| DeployError::new(format!("the firmware ELF: {e}")))?;
        // The bootloader writes one block from the origin: firmware, erased gap, partition.
        let block = image::with_partition(&firmware, flash.origin, partition, model.origin)
            .map_err(|e| DeployError::new(e.to_string()))?;
        // A record port of its own is opened first: the firmware prints as soon as the
        // bootloader hands over.
        let mut record = if self.port == self.flash_port {
            None
        } else {
            let mut link = self.open(&self.port, self.baud)?;
            link.clear_input()
                .map_err(|e| DeployError::transient(format!("serial port {}: {e}", self.port)))?;
            Some(link)
        };
        let mut link = match self.bootloader {
            Bootloader::ArduinoBossa => self.open_bossa()?,
            _ => self.open(&self.flash_port, self.flash_baud)?,
        };
        self.flash(link.as_mut(), &block)?;
        // After the last packet the board resets into the firmware, which prints at the
        // transport's baud.
        let mut link = if let Some(record) = record.take() {
            drop(link);
            record
        } else {
            if let Err(e) = link.set_baud(self.baud) {
                // EIO or a broken pipe: the port is gone, as when a read finds it closed.
                let gone = e.kind() == io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(5);
                let reason = if gone {
                    format!(
                        "serial port {} closed: the board was unplugged or reset ({e})",
                        self.port
                    )
                } else {
                    format!(
                        "serial port {}: cannot set {} baud: {e}",
                        self.port, self.baud
                    )
                };
                return Err(DeployError::new(reason));
            }
            link
        };
        let mut stream = RecordStream::new();
        let end = self.read_into(link.as_mut(), limits, cancel, &mut stream, input);
        Ok(DeviceRun {
            end,
            stream,
            measured_energy: None,
        })
    }
}
