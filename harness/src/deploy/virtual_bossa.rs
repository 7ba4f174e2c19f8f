//! Arduino's SAM-BA bootloader, board side, for a virtual Arduino Nano 33 BLE (a
//! [`VirtualSerialBoard`](super::virtual_serial::VirtualSerialBoard) with this peer): the
//! 1200-baud touch resets the board into the bootloader, which answers the commands of
//! `bossa.rs` (version with the [Arduino:IKXYZ] extensions, erase, the 4 KiB buffer, write,
//! CRC-16) and on `K#` resets into the application at 0x1_0000.

use std::collections::HashMap;
use std::time::Duration;

use super::bossa::{self, Command};
use super::virtual_serial::{Boot, BootloaderPeer, Entry, PeerContext, Terminal};

/// The version the Nano 33 BLE's bootloader reports (akavel/rumbac's README).
pub const VERSION: &str = "Arduino Bootloader (SAM-BA extended) 2.0 [Arduino:IKXYZ]";
/// Its chip name.
pub const CHIP_NAME: &str = "nRF52840-QIAA";
/// The flash the bootloader may write, from the application's origin (1 MiB less 64 KiB).
const APP_FLASH_BYTES: usize = 0x10_0000 - bossa::APP_ORIGIN as usize;

/// The Arduino bootloader, board side.
#[derive(Debug, Default)]
pub struct BossaPeer;

/// Reads bytes up to a `#`; `None` when the host is silent for `timeout` or gone.
fn read_command(term: &mut Terminal, pending: &mut Vec<u8>, timeout: Duration) -> Option<String> {
    loop {
        if let Some(end) = pending.iter().position(|&b| b == b'#') {
            let text = String::from_utf8_lossy(&pending[..end]).into_owned();
            pending.drain(..=end);
            return Some(text);
        }
        let bytes = term.read_for(timeout).ok()?;
        if bytes.is_empty() {
            return None;
        }
        pending.extend_from_slice(&bytes);
    }
}

/// Reads exactly `len` raw bytes after an `S` command.
fn read_raw(term: &mut Terminal, pending: &mut Vec<u8>, len: usize) -> Option<Vec<u8>> {
    while pending.len() < len {
        let bytes = term.read_for(Duration::from_secs(2)).ok()?;
        if bytes.is_empty() {
            return None;
        }
        pending.extend_from_slice(&bytes);
    }
    Some(pending.drain(..len).collect())
}

impl BootloaderPeer for BossaPeer {
    fn entry(&self) -> Entry {
        Entry::Touch(bossa::TOUCH_BAUD)
    }

    fn run(&mut self, term: &mut Terminal, ctx: &PeerContext<'_>) -> Boot {
        if ctx.config.listen.is_zero() {
            // A sketch that does not reset on the touch: the bootloader never answers.
            return Boot::StartApp;
        }
        let mut pending = Vec::new();
        let mut flash = vec![0xFFu8; APP_FLASH_BYTES];
        let mut written = 0usize;
        let mut buffer = vec![0u8; bossa::BUFFER_BYTES];
        let mut source = 0usize;
        // Writes of each flash address in this session (a second one is a rewrite).
        let mut attempts: HashMap<usize, usize> = HashMap::new();
        // The first command may take the host the re-enumeration and the port's opening.
        let mut wait = ctx.config.listen + ctx.config.reenumerate;
        loop {
            let Some(text) = read_command(term, &mut pending, wait) else {
                return Boot::Halted;
            };
            wait = Duration::from_secs(2);
            match bossa::parse_command(&text) {
                Command::Binary => term.send(b"\n\r"),
                Command::Version => term.send(format!("{VERSION}\n\r").as_bytes()),
                Command::Identify => term.send(format!("{CHIP_NAME}\n\r").as_bytes()),
                Command::Erase(addr) => {
                    if let Some(rest) = flash.get_mut(addr as usize..) {
                        rest.fill(0xFF);
                    }
                    term.send(b"X\n\r");
                }
                Command::Load { addr, len } => {
                    let Some(bytes) = read_raw(term, &mut pending, len) else {
                        return Boot::Halted;
                    };
                    let at = addr as usize;
                    if let Some(dst) = buffer.get_mut(at..at + len) {
                        dst.copy_from_slice(&bytes);
                    }
                }
                Command::WriteBuffer { addr, len: 0 } => {
                    source = addr as usize;
                    term.send(b"Y\n\r");
                }
                Command::WriteBuffer { addr, len } => {
                    let (dst, src) = (addr as usize, source);
                    let attempt = attempts.entry(dst).or_insert(0);
                    *attempt += 1;
                    let corrupt = ctx.config.corrupts(dst / bossa::BUFFER_BYTES + 1, *attempt);
                    if let (Some(to), Some(from)) =
                        (flash.get_mut(dst..dst + len), buffer.get(src..src + len))
                    {
                        to.copy_from_slice(from);
                        if corrupt && len > 0 {
                            // A bit lost between the host and the flash: the CRC-16 tells.
                            to[0] ^= 0x01;
                        }
                        written = written.max(dst + len);
                    }
                    if *attempt > 1 {
                        ctx.stats().retries_requested += 1;
                    } else if ctx.frame_written() {
                        return Boot::Unplugged;
                    }
                    term.send(b"Y\n\r");
                }
                Command::Checksum { addr, len } => {
                    let at = addr as usize;
                    let crc = flash.get(at..at + len).map_or(0, bossa::crc16);
                    term.send(format!("Z{crc:08X}#\n\r").as_bytes());
                }
                Command::Reset | Command::Go(_) => {
                    flash.truncate(written);
                    return Boot::Flashed {
                        origin: bossa::APP_ORIGIN,
                        image: flash,
                    };
                }
                // The bootloader ignores what it does not know.
                Command::Other(_) => {}
            }
        }
    }
}
