//! The SparkFun Variable Loader (SVL), the Artemis' serial bootloader, from its documentation
//! (SparkFun's Apollo3_Uploader_SVL: svl.py and the bootloader's main.c).
//!
//! After a reset the SVL listens for 200 ms for the baud-detection character `U` (0x55: its
//! alternating bits give five rising edges to time); at 57600, 115200, 230400, 460800 or
//! 921600 baud it answers with a VERSION packet, else it starts the application at 0x1_0000.
//! The host then sends BL (enter bootload mode); the board asks for each frame with NEXT, or
//! for the same frame again with RETRY when a frame's CRC failed; the host sends FRAME packets
//! of at most 2048 bytes (512 words), which the board writes one after another from 0x1_0000,
//! and DONE when the image is sent, upon which the board resets into the application.
//!
//! Packet: length (u16, big endian, counting command + data + CRC), command (u8), data, CRC-16
//! (big endian) over command and data. The CRC is CRC-16/UMTS (poly 0x8005, init 0, no
//! reflection, no final xor): computed over command, data and CRC it gives 0.

use std::io::{self, Read, Write};

/// The baud-detection character.
pub const BAUD_DETECT: u8 = b'U';
pub const CMD_VERSION: u8 = 0x01;
pub const CMD_BL: u8 = 0x02;
pub const CMD_NEXT: u8 = 0x03;
pub const CMD_FRAME: u8 = 0x04;
pub const CMD_RETRY: u8 = 0x05;
pub const CMD_DONE: u8 = 0x06;

/// Largest frame payload: the bootloader's frame buffer of 512 words.
pub const FRAME_BYTES: usize = 2048;
/// Where the bootloader writes the image (USERCODE_OFFSET in its main.c).
pub const APP_ORIGIN: u32 = 0x1_0000;
/// The bauds the bootloader can detect.
pub const BAUDS: [u32; 5] = [57_600, 115_200, 230_400, 460_800, 921_600];
/// Resends of one frame before the host gives up (svl.py's resend_max).
pub const MAX_RESENDS: u32 = 4;
/// The largest packet a well-behaved peer sends: a full frame.
const MAX_PACKET_LEN: usize = FRAME_BYTES + 3;

/// CRC-16/UMTS, MSB first.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The bytes of one packet on the wire.
pub fn encode(cmd: u8, data: &[u8]) -> Vec<u8> {
    let len = (data.len() + 3) as u16;
    let mut out = Vec::with_capacity(data.len() + 5);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(cmd);
    out.extend_from_slice(data);
    let crc = crc16(&out[2..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A received packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub cmd: u8,
    pub data: Vec<u8>,
}

/// What went wrong talking to the bootloader.
#[derive(Debug, thiserror::Error)]
pub enum SvlError {
    #[error("no answer from the board while waiting for {waiting_for}")]
    Timeout { waiting_for: &'static str },
    #[error("the serial port closed while waiting for {waiting_for} ({source})")]
    Closed {
        waiting_for: &'static str,
        source: io::Error,
    },
    #[error("a packet announced {len} bytes (a packet has 3 to {max})", max = MAX_PACKET_LEN)]
    BadLength { len: usize },
    #[error("a packet's CRC-16 does not check (command byte {cmd:#04x}, {len} bytes)")]
    Crc { cmd: u8, len: usize },
    #[error("expected {waiting_for}, got command {cmd:#04x}")]
    Unexpected { cmd: u8, waiting_for: &'static str },
    #[error("the board rejected frame {frame} of {frames} {tries} times (CRC errors on the line): check the cable, or lower deploy.baud")]
    Rejected {
        frame: usize,
        frames: usize,
        tries: u32,
    },
}

fn io_error(e: io::Error, waiting_for: &'static str) -> SvlError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => SvlError::Timeout { waiting_for },
        _ => SvlError::Closed {
            waiting_for,
            source: e,
        },
    }
}

/// Reads one packet's payload (command, data, CRC) without checking it.
pub fn read_raw(r: &mut impl Read, waiting_for: &'static str) -> Result<Vec<u8>, SvlError> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len)
        .map_err(|e| io_error(e, waiting_for))?;
    let len = usize::from(u16::from_be_bytes(len));
    if !(3..=MAX_PACKET_LEN).contains(&len) {
        return Err(SvlError::BadLength { len });
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)
        .map_err(|e| io_error(e, waiting_for))?;
    Ok(payload)
}

/// Checks a payload's CRC and splits it.
pub fn decode(payload: &[u8]) -> Result<Packet, SvlError> {
    let len = payload.len();
    if len < 3 {
        return Err(SvlError::BadLength { len });
    }
    if crc16(payload) != 0 {
        return Err(SvlError::Crc {
            cmd: payload[0],
            len,
        });
    }
    Ok(Packet {
        cmd: payload[0],
        data: payload[1..len - 2].to_vec(),
    })
}

pub fn read_packet(r: &mut impl Read, waiting_for: &'static str) -> Result<Packet, SvlError> {
    decode(&read_raw(r, waiting_for)?)
}

fn send(w: &mut impl Write, cmd: u8, data: &[u8]) -> Result<(), SvlError> {
    w.write_all(&encode(cmd, data))
        .and_then(|()| w.flush())
        .map_err(|e| io_error(e, "the port to take a packet"))
}

/// The setup phase, after the board was reset and the input cleared: the baud-detection
/// character, the VERSION answer, then BL. Returns the bootloader's version.
pub fn enter(link: &mut (impl Read + Write)) -> Result<u8, SvlError> {
    link.write_all(&[BAUD_DETECT])
        .and_then(|()| link.flush())
        .map_err(|e| io_error(e, "the port to take the baud-detection byte"))?;
    let version = read_packet(link, "the bootloader's VERSION packet")?;
    if version.cmd != CMD_VERSION {
        return Err(SvlError::Unexpected {
            cmd: version.cmd,
            waiting_for: "VERSION",
        });
    }
    send(link, CMD_BL, &[])?;
    Ok(version.data.last().copied().unwrap_or(0))
}

/// What sending an image took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub frames: usize,
    pub resends: u32,
}

/// The bootload phase: answers NEXT with the next frame (DONE after the last), RETRY with the
/// same frame again, at most [`MAX_RESENDS`] times in a row.
pub fn send_image(link: &mut (impl Read + Write), image: &[u8]) -> Result<Sent, SvlError> {
    let frames = image.len().div_ceil(FRAME_BYTES);
    let mut sent = Sent::default();
    // The frame last sent (1-based; 0 before the first).
    let mut current = 0usize;
    let mut resends_in_a_row = 0u32;
    loop {
        let request = read_packet(link, "the board's request for the next frame")?;
        match request.cmd {
            CMD_NEXT => {
                current += 1;
                resends_in_a_row = 0;
            }
            CMD_RETRY if current > 0 => {
                resends_in_a_row += 1;
                sent.resends += 1;
                if resends_in_a_row >= MAX_RESENDS {
                    return Err(SvlError::Rejected {
                        frame: current,
                        frames,
                        tries: resends_in_a_row,
                    });
                }
            }
            cmd => {
                return Err(SvlError::Unexpected {
                    cmd,
                    waiting_for: "NEXT or RETRY",
                })
            }
        }
        if current > frames {
            send(link, CMD_DONE, &[])?;
            sent.frames = frames;
            return Ok(sent);
        }
        let start = (current - 1) * FRAME_BYTES;
        let end = (start + FRAME_BYTES).min(image.len());
        send(link, CMD_FRAME, &image[start..end])?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted board: answers the host's writes from a queue, records what the host sent.
    struct Script {
        replies: VecDeque<u8>,
        written: Vec<u8>,
    }

    impl Script {
        fn new(packets: &[(u8, &[u8])]) -> Script {
            Script {
                replies: packets.iter().flat_map(|(c, d)| encode(*c, d)).collect(),
                written: Vec::new(),
            }
        }

        /// The packets the host wrote, decoded.
        fn sent(&self) -> Vec<Packet> {
            let mut r = &self.written[..];
            let mut out = Vec::new();
            while !r.is_empty() {
                out.push(read_packet(&mut r, "test").unwrap());
            }
            out
        }
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.replies.is_empty() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
            }
            let n = buf.len().min(self.replies.len());
            for b in buf.iter_mut().take(n) {
                *b = self.replies.pop_front().unwrap_or(0);
            }
            Ok(n)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn crc16_is_crc16_umts() {
        // The catalogue check value of CRC-16/UMTS (alias BUYPASS) over "123456789".
        assert_eq!(crc16(b"123456789"), 0xfee8);
        // svl.py's table: entry 1 is the polynomial.
        assert_eq!(crc16(&[0x01]) ^ crc16(&[0x00]), 0x8005);
    }

    #[test]
    fn packets_match_the_bytes_svl_py_sends() {
        // The VERSION packet of SVL v6, with the CRC from svl.py's table-driven get_crc16.
        let version = encode(CMD_VERSION, &[6]);
        assert_eq!(version, [0x00, 0x04, 0x01, 0x06, 0x86, 0x17]);
        // BL, NEXT and DONE carry no data.
        assert_eq!(encode(CMD_BL, &[]), [0x00, 0x03, 0x02, 0x80, 0x0f]);
        assert_eq!(encode(CMD_NEXT, &[]), [0x00, 0x03, 0x03, 0x00, 0x0a]);
        let p = read_packet(&mut &version[..], "test").unwrap();
        assert_eq!(
            p,
            Packet {
                cmd: CMD_VERSION,
                data: vec![6]
            }
        );
    }

    #[test]
    fn a_corrupted_short_or_oversized_packet_is_an_error() {
        let mut bad = encode(CMD_FRAME, &[1, 2, 3, 4]);
        bad[4] ^= 0x10;
        assert!(matches!(
            read_packet(&mut &bad[..], "test"),
            Err(SvlError::Crc { cmd: CMD_FRAME, .. })
        ));
        assert!(matches!(
            read_packet(&mut &[0x00u8, 0x02, 0x01, 0x02][..], "test"),
            Err(SvlError::BadLength { len: 2 })
        ));
        assert!(matches!(
            read_packet(&mut &[0xffu8, 0xff, 0x01][..], "test"),
            Err(SvlError::BadLength { len: 65535 })
        ));
        // Stops mid-packet: the read runs out.
        let cut = &encode(CMD_VERSION, &[6])[..4];
        assert!(matches!(
            read_packet(&mut &cut[..], "the VERSION packet"),
            Err(SvlError::Closed { .. })
        ));
    }

    #[test]
    fn setup_sends_u_reads_the_version_and_enters_bootload_mode() {
        let mut board = Script::new(&[(CMD_VERSION, &[6])]);
        assert_eq!(enter(&mut board).unwrap(), 6);
        assert_eq!(board.written[0], b'U');
        board.written.remove(0);
        assert_eq!(board.sent()[0].cmd, CMD_BL);
        // A board that never answers.
        let mut silent = Script::new(&[]);
        let e = enter(&mut silent).unwrap_err();
        assert!(e.to_string().contains("VERSION"), "{e}");
    }

    #[test]
    fn frames_of_2048_bytes_then_done_and_a_retry_resends_the_same_frame() {
        let image: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mut board = Script::new(&[
            (CMD_NEXT, &[]),
            (CMD_NEXT, &[]),
            (CMD_RETRY, &[]),
            (CMD_NEXT, &[]),
            (CMD_NEXT, &[]),
        ]);
        let sent = send_image(&mut board, &image).unwrap();
        assert_eq!(
            sent,
            Sent {
                frames: 3,
                resends: 1
            }
        );
        let packets = board.sent();
        let lens: Vec<(u8, usize)> = packets.iter().map(|p| (p.cmd, p.data.len())).collect();
        assert_eq!(
            lens,
            [
                (CMD_FRAME, 2048),
                (CMD_FRAME, 2048),
                (CMD_FRAME, 2048),
                (CMD_FRAME, 904),
                (CMD_DONE, 0)
            ]
        );
        assert_eq!(packets[1].data, packets[2].data, "RETRY resends frame 2");
        let flashed: Vec<u8> = [&packets[0], &packets[2], &packets[3]]
            .iter()
            .flat_map(|p| p.data.clone())
            .collect();
        assert_eq!(flashed, image);
    }

    #[test]
    fn four_retries_of_one_frame_give_up_with_a_sentence() {
        let mut board = Script::new(&[
            (CMD_NEXT, &[]),
            (CMD_RETRY, &[]),
            (CMD_RETRY, &[]),
            (CMD_RETRY, &[]),
            (CMD_RETRY, &[]),
        ]);
        let e = send_image(&mut board, &[0u8; 100]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the board rejected frame 1 of 1 4 times (CRC errors on the line): check the cable, or lower deploy.baud"
        );
        // A RETRY before any frame, or a stray command, is a protocol error.
        let mut board = Script::new(&[(CMD_RETRY, &[])]);
        assert!(matches!(
            send_image(&mut board, &[0u8; 10]),
            Err(SvlError::Unexpected { .. })
        ));
    }
}
