//! The Ambiq secure bootloader, board side, for a virtual SparkFun Edge (a
//! [`VirtualSerialBoard`](super::virtual_serial::VirtualSerialBoard) with this peer): after a
//! reset with the boot pin held it answers HELLO with STATUS, takes OTADESC, UPDATE and DATA
//! (checking each message's CRC32 and answering a bad one with a NACK of status 3), stores each
//! wired piece where its header says, and on RESET installs the OTA blob at its load address
//! after checking the blob's CRC32, as `ambiq_sbl.rs` describes.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use super::ambiq_sbl as sbl;
use super::virtual_serial::{Boot, BootloaderPeer, Entry, PeerContext, Terminal};

/// The SBL version the virtual board reports in STATUS.
pub const SBL_VERSION: u32 = 3;

/// The Ambiq secure bootloader, board side.
#[derive(Debug, Default)]
pub struct SblPeer;

/// Reads one message (CRC word, head, rest); `None` when the host is silent or gone.
fn read_message(term: &mut Terminal, timeout: Duration) -> Option<Vec<u8>> {
    term.set_timeout(timeout);
    let mut head = [0u8; 8];
    term.read_exact(&mut head).ok()?;
    let len = (sbl::word(&head, 4) >> 16) as usize;
    if !(8..=sbl::MAX_MSG_BYTES).contains(&len) {
        // A length the SBL cannot hold: drop what follows.
        let _ = term.read_for(Duration::from_millis(50));
        return Some(head.to_vec());
    }
    let mut msg = head.to_vec();
    msg.resize(len, 0);
    term.read_exact(&mut msg[8..]).ok()?;
    Some(msg)
}

impl BootloaderPeer for SblPeer {
    fn entry(&self) -> Entry {
        Entry::ResetWire
    }

    fn run(&mut self, term: &mut Terminal, ctx: &PeerContext<'_>) -> Boot {
        if ctx.config.listen.is_zero() {
            // The boot pin was not held: the application starts.
            return Boot::StartApp;
        }
        match read_message(term, ctx.config.listen) {
            Some(m)
                if sbl::crc_checks(&m)
                    && sbl::word(&m, 4) & 0xffff == u32::from(sbl::MSG_HELLO) => {}
            _ => return Boot::StartApp,
        }
        term.send(&sbl::status_message(
            SBL_VERSION,
            sbl::MAX_PIECE_BYTES as u32,
        ));
        // Flash as the SBL stored it: piece address -> bytes.
        let mut stored: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
        // The piece being received: expected length, CRC32, bytes so far.
        let mut piece: Option<(usize, u32, Vec<u8>)> = None;
        let mut attempt = 0usize;
        loop {
            let Some(mut msg) = read_message(term, Duration::from_secs(2)) else {
                return Boot::Halted;
            };
            let msg_type = (sbl::word(&msg, 4) & 0xffff) as u16;
            if msg_type == sbl::MSG_DATA {
                attempt += 1;
                let frame = ctx.stats().frames_written as usize + 1;
                if ctx.config.corrupts(frame, attempt) && msg.len() > 12 {
                    msg[12] ^= 0x01;
                }
            }
            if !sbl::crc_checks(&msg) {
                if msg_type == sbl::MSG_DATA {
                    ctx.stats().retries_requested += 1;
                }
                term.send(&sbl::ack(msg_type, sbl::ACK_CRC, 0));
                continue;
            }
            let status = match msg_type {
                sbl::MSG_OTADESC => sbl::ACK_SUCCESS,
                sbl::MSG_UPDATE => {
                    let (len, crc) = (sbl::word(&msg, 8) as usize, sbl::word(&msg, 12));
                    piece = Some((len, crc, Vec::with_capacity(len)));
                    sbl::ACK_SUCCESS
                }
                sbl::MSG_DATA => match &mut piece {
                    Some((len, crc, bytes)) if sbl::word(&msg, 8) as usize == bytes.len() => {
                        bytes.extend_from_slice(&msg[12..]);
                        attempt = 0;
                        if ctx.frame_written() {
                            return Boot::Unplugged;
                        }
                        if bytes.len() < *len {
                            sbl::ACK_SUCCESS
                        } else if bytes.len() == *len && sbl::crc32(bytes) == *crc {
                            match sbl::parse_piece(bytes) {
                                Some(p) => {
                                    stored.insert(p.address, p.bytes);
                                    sbl::ACK_SUCCESS
                                }
                                None => 9,
                            }
                        } else {
                            sbl::ACK_CRC
                        }
                    }
                    _ => sbl::ACK_SEQ,
                },
                sbl::MSG_RESET => {
                    term.send(&sbl::ack(msg_type, sbl::ACK_SUCCESS, 0));
                    break;
                }
                _ => 6,
            };
            term.send(&sbl::ack(msg_type, status, 0));
        }
        // The reset: the OTA blob, pieces in address order, is checked and installed.
        let blob: Vec<u8> = stored.into_values().flatten().collect();
        std::thread::sleep(Duration::from_millis(50));
        let _ = term.read_for(Duration::ZERO);
        match sbl::parse_ota(&blob) {
            Ok((origin, image)) => Boot::Flashed {
                origin,
                image: image.to_vec(),
            },
            Err(_) => Boot::Halted,
        }
    }
}
