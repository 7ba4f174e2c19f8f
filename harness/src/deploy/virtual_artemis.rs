//! A virtual SparkFun Artemis: the [`virtual_serial`](super::virtual_serial) board with the
//! SparkFun Variable Loader. After a reset the loader listens for the baud-detection byte,
//! takes the image frame by frame (checking each CRC, asking for a resend when one fails),
//! resets, and the firmware runs from 0x1_0000.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::serial::Opener;
use super::svl;
pub use super::virtual_serial::{AfterScript, App, PeerConfig, PeerStats};
use super::virtual_serial::{
    Boot, BootloaderPeer, Entry, PeerContext, Terminal, VirtualSerialBoard,
};
use crate::targets::Board;

/// The SVL version the virtual board reports (SVL_VERSION_NUMBER of the bootloader's main.c).
pub const SVL_VERSION: u8 = 6;

/// The SparkFun Variable Loader, board side.
#[derive(Debug, Default)]
pub struct SvlPeer;

impl BootloaderPeer for SvlPeer {
    fn entry(&self) -> Entry {
        Entry::ResetWire
    }

    fn run(&mut self, term: &mut Terminal, ctx: &PeerContext<'_>) -> Boot {
        // Listen for the baud-detection byte.
        let deadline = Instant::now() + ctx.config.listen;
        let mut heard = false;
        while !heard && Instant::now() < deadline {
            if let Ok(bytes) = term.read_for(Duration::from_millis(10)) {
                heard = bytes.contains(&svl::BAUD_DETECT);
            }
        }
        if !heard {
            return Boot::StartApp;
        }
        term.send(&svl::encode(svl::CMD_VERSION, &[SVL_VERSION]));
        term.set_timeout(Duration::from_secs(2));
        match svl::read_packet(term, "BL") {
            Ok(p) if p.cmd == svl::CMD_BL => {}
            // No confirmation: the real loader starts the application.
            _ => return Boot::StartApp,
        }
        let mut image = Vec::new();
        let mut attempt_of_frame = 0usize;
        term.send(&svl::encode(svl::CMD_NEXT, &[]));
        loop {
            term.set_timeout(Duration::from_secs(2));
            let mut payload = match svl::read_raw(term, "a frame") {
                Ok(p) => p,
                // The host went away mid-flash: the loader gives up, the flash is half written.
                Err(_) => return Boot::Halted,
            };
            let frame = ctx.stats().frames_written as usize + 1;
            attempt_of_frame += 1;
            if ctx.config.corrupts(frame, attempt_of_frame) && payload.len() > 3 {
                payload[1] ^= 0x01;
            }
            match svl::decode(&payload) {
                Ok(p) if p.cmd == svl::CMD_FRAME => {
                    image.extend_from_slice(&p.data);
                    attempt_of_frame = 0;
                    if ctx.frame_written() {
                        return Boot::Unplugged;
                    }
                    term.send(&svl::encode(svl::CMD_NEXT, &[]));
                }
                Ok(p) if p.cmd == svl::CMD_DONE => break,
                Err(svl::SvlError::Crc { .. }) => {
                    ctx.stats().retries_requested += 1;
                    term.send(&svl::encode(svl::CMD_RETRY, &[]));
                }
                _ => return Boot::Halted,
            }
        }
        // The loader resets the chip; after its listening window the application starts.
        std::thread::sleep(Duration::from_millis(200));
        let _ = term.read_for(Duration::ZERO);
        Boot::Flashed {
            origin: svl::APP_ORIGIN,
            image,
        }
    }
}

/// The running virtual Artemis; dropping it powers it off.
pub struct VirtualArtemis(VirtualSerialBoard);

impl VirtualArtemis {
    /// Powers on a virtual `board` (an Artemis of targets.toml) behind a new pseudo-terminal.
    pub fn start(board: &Board, config: PeerConfig) -> io::Result<VirtualArtemis> {
        Ok(VirtualArtemis(VirtualSerialBoard::start(
            board,
            Box::new(SvlPeer),
            config,
        )?))
    }

    /// The terminal's path (what targets.toml's port would be).
    pub fn path(&self) -> &str {
        self.0.path()
    }

    pub fn stats(&self) -> PeerStats {
        self.0.stats()
    }

    /// Opens the board's port, whatever path is asked for, with the reset wire attached.
    pub fn opener(self: &Arc<Self>) -> Box<Opener> {
        self.0.opener()
    }
}
