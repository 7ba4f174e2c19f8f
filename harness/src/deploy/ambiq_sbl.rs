//! The Ambiq secure bootloader (SBL) of the Apollo3, over its UART wired update protocol, as
//! the SparkFun Edge is flashed. From AmbiqSuite's host scripts as SparkFun ships them
//! (sparkfun/AmbiqSuiteSDK `tools/apollo3_scripts/`: `uart_wired_update.py`, `am_defines.py`,
//! `create_cust_image_blob.py`, `create_cust_wireupdate_blob.py`; the default `keys_info.py`,
//! as in tock/tock `boards/apollo3/ambiq/keys_info.py`) and SparkFun's one-step
//! `ambiq_bin2board.py` (sparkfun/Arduino_Apollo3 `tools/ambiq/`), which adds the automatic
//! entry into the bootloader.
//!
//! The image goes through two wrappers. The OTA blob (`create_cust_image_blob.py`, magic 0xCB,
//! "non-secure") is a 128-byte header (w0: magic, length; w1: CRC32 of the rest; w2: security
//! word, CRC check at install on, no signing, key indices 8 as the default keys give; at 112 the
//! load address 0xC000) then the image padded to words. The wired update blob
//! (`create_cust_wireupdate_blob.py`, image type 6 "non-secure", option bit 0 "install by OTA
//! after the download") wraps it in pieces of at most 0x48000 bytes, each behind a 96-byte
//! header (image type, options on the first piece only, the flash key 0x12344321, where in
//! flash the SBL stores the piece, its size). The SBL stores the pieces, and on the reset
//! installs the OTA blob at its load address after checking its CRC32.
//!
//! Messages (`uart_wired_update.py`): the CRC32 of the message (u32, little endian), then the
//! message: a word `(length << 16) | type`, the length counting the CRC, then its words. HELLO
//! is answered by an 88-byte STATUS; OTADESC (the OTA descriptor page, 0xFE000), UPDATE (size
//! and CRC32 of one piece), DATA (the offset in the piece, then at most 8180 bytes: the SBL's
//! 8 KiB message buffer less the header) and RESET are answered by a 20-byte ACK carrying the
//! acknowledged type, a status (0 success, else a NACK: 3 a CRC error, ...) and the sequence
//! number. A NACK is answered by sending the same message again, four times at most. The
//! pieces are sent last first (the script's order: the first piece, which carries the install
//! option, arrives last). The CRC32 is binascii's (IEEE 802.3, reflected). The scripts do not
//! check the CRC word of the SBL's answers, and no source here says what it covers; so neither
//! does this host: an answer is checked by its length and type words.

use std::io::{self, Read, Write};

pub const MSG_HELLO: u16 = 0;
pub const MSG_STATUS: u16 = 1;
pub const MSG_OTADESC: u16 = 2;
pub const MSG_UPDATE: u16 = 3;
pub const MSG_ABORT: u16 = 4;
pub const MSG_RESET: u16 = 6;
pub const MSG_ACK: u16 = 7;
pub const MSG_DATA: u16 = 8;

pub const ACK_SUCCESS: u32 = 0;
pub const ACK_CRC: u32 = 3;
pub const ACK_SEQ: u32 = 10;

/// The SBL's message buffer (AM_MAX_UART_MSG_SIZE): a DATA message carries at most this less
/// its 12-byte head.
pub const MAX_MSG_BYTES: usize = 8192;
pub const DATA_CHUNK_BYTES: usize = MAX_MSG_BYTES - 12;
/// Largest piece of a wired update (MAX_DOWNLOAD_SIZE, 288 KiB).
pub const MAX_PIECE_BYTES: usize = 0x48000;
/// Flash page of the Apollo3 (FLASH_PAGE_SIZE).
pub const FLASH_PAGE: u32 = 0x2000;
/// Where a non-secure image is installed (AM_SECBOOT_DEFAULT_NONSECURE_MAIN): the SparkFun
/// Edge's application origin.
pub const APP_ORIGIN: u32 = 0xC000;
/// Where SparkFun's and TensorFlow's Edge instructions store the wired blob
/// (`--load-address 0x20000` of create_cust_wireupdate_blob.py).
pub const DEFAULT_STORAGE: u32 = 0x2_0000;
/// The OTA descriptor page (uart_wired_update.py's `-o` default, the end of main flash).
pub const OTA_DESC: u32 = 0xF_E000;
/// RESET's option: 1 = POI (a software reset; uart_wired_update.py's default), 2 = POR.
pub const RESET_POI: u32 = 1;
/// Sends of one message before the host gives up (send_ackd_command's range(1, 5)).
pub const MAX_TRIES: u32 = 4;

pub const MAGIC_NONSECURE: u8 = 0xCB;
pub const IMAGETYPE_NONSECURE: u8 = 6;
/// Option bit 0: install the image by OTA after the download.
pub const OPTION_OTA: u8 = 0x1;
/// The default keys' flash key (keys_info.py's FLASH_KEY; the HAL's AM_HAL_FLASH_PROGRAM_KEY).
pub const FLASH_KEY: u32 = 0x1234_4321;
/// The default key index for authentication and key wrapping (minHmacKeyIdx, minAesKeyIdx).
const DEFAULT_KEY_INDEX: u32 = 8;

/// The OTA blob's header (AM_IMAGEHDR_SIZE_AUX) and its fields.
pub const OTA_HEADER_BYTES: usize = 128;
const OTA_OFFSET_CRC: usize = 4;
const OTA_OFFSET_ADDR: usize = 112;
const OTA_OFFSET_VERKEY: usize = 116;
const OTA_OFFSET_CHILD: usize = 120;
/// The wired update header (AM_WU_IMAGEHDR_SIZE) and its fields.
pub const WIRED_HEADER_BYTES: usize = 96;
const WU_OFFSET_IMAGETYPE: usize = 80;
const WU_OFFSET_OPTIONS: usize = 81;
const WU_OFFSET_KEY: usize = 84;
const WU_OFFSET_ADDR: usize = 88;
const WU_OFFSET_SIZE: usize = 92;

/// The STATUS answer to HELLO, and an ACK.
pub const STATUS_BYTES: usize = 88;
pub const ACK_BYTES: usize = 20;

/// CRC-32 as binascii.crc32 (IEEE 802.3: reflected polynomial 0xEDB88320, init and final xor
/// 0xFFFFFFFF), which am_defines.py names "ethernet poly, as used by Corvette hardware".
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn put_word(buf: &mut [u8], at: usize, w: u32) {
    buf[at..at + 4].copy_from_slice(&w.to_le_bytes());
}

/// The little-endian word at `at`; 0 past the end (callers check lengths first).
pub fn word(buf: &[u8], at: usize) -> u32 {
    buf.get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// `image` padded to whole words as pad_to_block_size(text, 4, 0) does: n bytes of value n.
fn pad_to_words(image: &[u8]) -> Vec<u8> {
    let mut out = image.to_vec();
    let pad = (4 - image.len() % 4) % 4;
    out.extend(std::iter::repeat_n(pad as u8, pad));
    out
}

/// The OTA blob of `image`, to be installed at `load_address` (create_cust_image_blob.py with
/// --magic-num 0xCB and its defaults: install CRC on, no boot CRC, no signing, no encryption).
pub fn ota_blob(image: &[u8], load_address: u32) -> Vec<u8> {
    let app = pad_to_words(image);
    let mut hdr = vec![0u8; OTA_HEADER_BYTES];
    let blob_len = (OTA_HEADER_BYTES + app.len()) as u32;
    put_word(&mut hdr, 0, (u32::from(MAGIC_NONSECURE) << 24) | blob_len);
    // Security: install CRC (crcI) on, the rest off; then the key indices.
    let security = 0x10u32;
    let w2 =
        (security << 24) | ((DEFAULT_KEY_INDEX << 4) & 0xf0) | ((DEFAULT_KEY_INDEX << 12) & 0xf000);
    put_word(&mut hdr, 8, w2);
    put_word(&mut hdr, OTA_OFFSET_ADDR, load_address);
    put_word(&mut hdr, OTA_OFFSET_VERKEY, 0);
    put_word(&mut hdr, OTA_OFFSET_CHILD, 0xFFFF_FFFF);
    put_word(&mut hdr, OTA_OFFSET_CHILD + 4, 0xFFFF_FFFF);
    let mut covered = hdr[OTA_OFFSET_CRC + 4..].to_vec();
    covered.extend_from_slice(&app);
    put_word(&mut hdr, OTA_OFFSET_CRC, crc32(&covered));
    hdr.extend_from_slice(&app);
    hdr
}

/// The wired update blob of an OTA blob, stored from `storage` (create_cust_wireupdate_blob.py
/// with -i 6 --options 0x1): pieces of at most [`MAX_PIECE_BYTES`], each behind its header.
pub fn wired_blob(ota: &[u8], storage: u32) -> Vec<u8> {
    let body = pad_to_words(ota);
    let mut out = Vec::with_capacity(body.len() + WIRED_HEADER_BYTES);
    let mut address = storage;
    for (i, piece) in body.chunks(MAX_PIECE_BYTES).enumerate() {
        let mut hdr = [0u8; WIRED_HEADER_BYTES];
        put_word(
            &mut hdr,
            0,
            ((DEFAULT_KEY_INDEX << 8) & 0xf00) | ((DEFAULT_KEY_INDEX << 24) & 0x0f00_0000),
        );
        hdr[WU_OFFSET_IMAGETYPE] = IMAGETYPE_NONSECURE;
        hdr[WU_OFFSET_OPTIONS] = if i == 0 { OPTION_OTA } else { 0 };
        put_word(&mut hdr, WU_OFFSET_KEY, FLASH_KEY);
        put_word(&mut hdr, WU_OFFSET_ADDR, address);
        put_word(&mut hdr, WU_OFFSET_SIZE, piece.len() as u32);
        out.extend_from_slice(&hdr);
        out.extend_from_slice(piece);
        address += MAX_PIECE_BYTES as u32;
    }
    out
}

/// One piece of a wired blob as the SBL stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiredPiece {
    pub image_type: u8,
    pub options: u8,
    pub key: u32,
    pub address: u32,
    pub bytes: Vec<u8>,
}

/// Reads a piece (wired header and its data) back, as the SBL does; `None` when it is cut.
pub fn parse_piece(piece: &[u8]) -> Option<WiredPiece> {
    if piece.len() < WIRED_HEADER_BYTES {
        return None;
    }
    let size = word(piece, WU_OFFSET_SIZE) as usize;
    let bytes = piece.get(WIRED_HEADER_BYTES..WIRED_HEADER_BYTES.checked_add(size)?)?;
    Some(WiredPiece {
        image_type: piece[WU_OFFSET_IMAGETYPE],
        options: piece[WU_OFFSET_OPTIONS],
        key: word(piece, WU_OFFSET_KEY),
        address: word(piece, WU_OFFSET_ADDR),
        bytes: bytes.to_vec(),
    })
}

/// What installing an OTA blob gives: the load address and the image (with its word padding).
pub fn parse_ota(blob: &[u8]) -> Result<(u32, &[u8]), String> {
    if blob.len() < OTA_HEADER_BYTES {
        return Err(format!("an OTA blob of {} bytes has no header", blob.len()));
    }
    let w0 = word(blob, 0);
    if (w0 >> 24) as u8 != MAGIC_NONSECURE {
        return Err(format!("magic {:#04x} is not 0xcb", w0 >> 24));
    }
    let len = (w0 & 0x7f_ffff) as usize;
    let blob = blob
        .get(..len)
        .ok_or("the blob is shorter than its header says")?;
    if crc32(&blob[OTA_OFFSET_CRC + 4..]) != word(blob, OTA_OFFSET_CRC) {
        return Err("its CRC32 does not check".into());
    }
    Ok((word(blob, OTA_OFFSET_ADDR) & !3, &blob[OTA_HEADER_BYTES..]))
}

/// The bytes of one message on the wire: CRC32, then the length/type word and `words`, then
/// `data`.
pub fn encode(msg_type: u16, words: &[u32], data: &[u8]) -> Vec<u8> {
    let len = 4 + 4 + 4 * words.len() + data.len();
    let mut params = Vec::with_capacity(len);
    params.extend_from_slice(&(((len as u32) << 16) | u32::from(msg_type)).to_le_bytes());
    for w in words {
        params.extend_from_slice(&w.to_le_bytes());
    }
    params.extend_from_slice(data);
    let mut out = crc32(&params).to_le_bytes().to_vec();
    out.extend_from_slice(&params);
    out
}

/// A message as received: its type, the length field, and what follows the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub msg_type: u16,
    pub len: usize,
    pub body: Vec<u8>,
}

/// Splits a message's bytes (CRC word first); `None` when the bytes do not hold its head.
pub fn decode(bytes: &[u8]) -> Option<Message> {
    if bytes.len() < 8 {
        return None;
    }
    let head = word(bytes, 4);
    Some(Message {
        msg_type: (head & 0xffff) as u16,
        len: (head >> 16) as usize,
        body: bytes[8..].to_vec(),
    })
}

/// Whether a received message's CRC word checks (the virtual board checks the host's).
pub fn crc_checks(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && crc32(&bytes[4..]) == word(bytes, 0)
}

/// What the bootloader reported in STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub version: u32,
    pub max_storage: u32,
    pub status: u32,
    pub state: u32,
}

/// What went wrong talking to the SBL.
#[derive(Debug, thiserror::Error)]
pub enum SblError {
    #[error("no answer from the board while waiting for {waiting_for}")]
    Timeout { waiting_for: &'static str },
    #[error("the answer stopped after {got} of {expected} bytes while waiting for {waiting_for}")]
    Short {
        got: usize,
        expected: usize,
        waiting_for: &'static str,
    },
    #[error("the serial port closed while waiting for {waiting_for} ({source})")]
    Closed {
        waiting_for: &'static str,
        source: io::Error,
    },
    #[error("expected {waiting_for}, got message type {msg_type:#06x} of length {len} (bytes {head:02x?}...): not the Ambiq secure bootloader, or noise on the line")]
    Unexpected {
        msg_type: u16,
        len: usize,
        head: Vec<u8>,
        waiting_for: &'static str,
    },
    #[error("the bootloader refused {what} {tries} times (last status {status}: {}): check the cable, or lower deploy.baud", status_name(*status))]
    Refused {
        what: &'static str,
        status: u32,
        tries: u32,
    },
    #[error("the image does not fit: {0}")]
    TooLarge(String),
}

/// The names of the ACK statuses (am_defines.py).
pub fn status_name(status: u32) -> &'static str {
    match status {
        0 => "success",
        1 => "failure",
        2 => "invalid INFO0",
        3 => "CRC error",
        4 => "security error",
        5 => "message too big",
        6 => "unknown message type",
        7 => "invalid address",
        8 => "invalid operation",
        9 => "invalid parameter",
        10 => "sequence error",
        11 => "too much data",
        _ => "unknown status",
    }
}

/// Reads exactly `n` bytes, counting what arrived for the error.
fn read_answer(
    r: &mut impl Read,
    n: usize,
    waiting_for: &'static str,
) -> Result<Vec<u8>, SblError> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[got..]) {
            Ok(0) => {
                return Err(SblError::Closed {
                    waiting_for,
                    source: io::Error::new(io::ErrorKind::UnexpectedEof, "end of file"),
                })
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Err(if got == 0 {
                    SblError::Timeout { waiting_for }
                } else {
                    SblError::Short {
                        got,
                        expected: n,
                        waiting_for,
                    }
                });
            }
            Err(e) => {
                return Err(SblError::Closed {
                    waiting_for,
                    source: e,
                })
            }
        }
    }
    Ok(buf)
}

fn send(w: &mut impl Write, bytes: &[u8]) -> Result<(), SblError> {
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .map_err(|e| SblError::Closed {
            waiting_for: "the port to take a message",
            source: e,
        })
}

fn expect(
    bytes: &[u8],
    msg_type: u16,
    len: usize,
    waiting_for: &'static str,
) -> Result<(), SblError> {
    let head = word(bytes, 4);
    let (got_type, got_len) = ((head & 0xffff) as u16, (head >> 16) as usize);
    if got_type != msg_type || got_len != len {
        return Err(SblError::Unexpected {
            msg_type: got_type,
            len: got_len,
            head: bytes[..bytes.len().min(8)].to_vec(),
            waiting_for,
        });
    }
    Ok(())
}

/// HELLO, answered by STATUS: the bootloader is there.
pub fn hello(link: &mut (impl Read + Write)) -> Result<Status, SblError> {
    send(link, &encode(MSG_HELLO, &[], &[]))?;
    let answer = read_answer(
        link,
        STATUS_BYTES,
        "the bootloader's STATUS answer to HELLO",
    )?;
    expect(&answer, MSG_STATUS, STATUS_BYTES, "STATUS")?;
    Ok(Status {
        version: word(&answer, 8),
        max_storage: word(&answer, 12),
        status: word(&answer, 16),
        state: word(&answer, 20),
    })
}

/// Sends a message until it is acknowledged with success, at most [`MAX_TRIES`] times; returns
/// the resends.
pub fn send_acked(
    link: &mut (impl Read + Write),
    message: &[u8],
    what: &'static str,
) -> Result<u32, SblError> {
    let mut status = ACK_SUCCESS;
    for tries in 1..=MAX_TRIES {
        send(link, message)?;
        let answer = read_answer(link, ACK_BYTES, what)?;
        expect(&answer, MSG_ACK, ACK_BYTES, "ACK")?;
        status = word(&answer, 12);
        if status == ACK_SUCCESS {
            return Ok(tries - 1);
        }
    }
    Err(SblError::Refused {
        what,
        status,
        tries: MAX_TRIES,
    })
}

/// What sending an image took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub pieces: usize,
    pub data_messages: usize,
    pub resends: u32,
}

/// Where the wired blob of an image of `image_len` bytes is stored: SparkFun's 0x20000, or the
/// first flash page after the installed image when the image reaches past it (the SBL copies
/// from the stored blob to the load address, so the two must not overlap). Fails when the blob
/// would reach the OTA descriptor page.
pub fn storage_for(image_len: usize) -> Result<u32, SblError> {
    let end = APP_ORIGIN as usize + image_len;
    let after = end.div_ceil(FLASH_PAGE as usize) * FLASH_PAGE as usize;
    let storage = (DEFAULT_STORAGE as usize).max(after);
    let blob = image_len
        + 3
        + OTA_HEADER_BYTES
        + WIRED_HEADER_BYTES * image_len.div_ceil(MAX_PIECE_BYTES).max(1);
    if storage + blob > OTA_DESC as usize {
        return Err(SblError::TooLarge(format!(
            "{image_len} bytes from {APP_ORIGIN:#x} and their {blob}-byte wired copy from {storage:#x} reach past the OTA descriptor at {OTA_DESC:#x}; the Ambiq bootloader needs room for both (at most about {} bytes of image)",
            (OTA_DESC - APP_ORIGIN) as usize / 2 - OTA_HEADER_BYTES - WIRED_HEADER_BYTES
        )));
    }
    Ok(storage as u32)
}

/// The whole update after HELLO: OTADESC, each piece (UPDATE, then its DATA messages), RESET.
pub fn program(link: &mut (impl Read + Write), wired: &[u8]) -> Result<Sent, SblError> {
    let mut sent = Sent::default();
    sent.resends += send_acked(link, &encode(MSG_OTADESC, &[OTA_DESC], &[]), "OTADESC")?;
    let piece_bytes = WIRED_HEADER_BYTES + MAX_PIECE_BYTES;
    let pieces: Vec<&[u8]> = wired.chunks(piece_bytes).collect();
    // Last first, as uart_wired_update.py sends them.
    for piece in pieces.iter().rev() {
        let update = encode(MSG_UPDATE, &[piece.len() as u32, crc32(piece), 0], &[]);
        sent.resends += send_acked(link, &update, "UPDATE")?;
        for (i, chunk) in piece.chunks(DATA_CHUNK_BYTES).enumerate() {
            let data = encode(MSG_DATA, &[(i * DATA_CHUNK_BYTES) as u32], chunk);
            sent.resends += send_acked(link, &data, "a DATA message")?;
            sent.data_messages += 1;
        }
        sent.pieces += 1;
    }
    sent.resends += send_acked(link, &encode(MSG_RESET, &[RESET_POI], &[]), "RESET")?;
    Ok(sent)
}

/// An ACK as the SBL sends it (for the virtual board and tests).
pub fn ack(acked: u16, status: u32, seq: u32) -> Vec<u8> {
    encode(MSG_ACK, &[u32::from(acked), status, seq], &[])
}

/// A STATUS as the SBL sends it: version, max storage, status, state, then 16 words of AMInfo.
pub fn status_message(version: u32, max_storage: u32) -> Vec<u8> {
    let mut words = vec![version, max_storage, 0, 0];
    words.extend([0u32; 16]);
    encode(MSG_STATUS, &words, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A scripted board: answers from a queue, records what the host sent.
    struct Script {
        replies: VecDeque<u8>,
        written: Vec<u8>,
    }

    impl Script {
        fn new(answers: &[Vec<u8>]) -> Script {
            Script {
                replies: answers.iter().flatten().copied().collect(),
                written: Vec::new(),
            }
        }

        /// The messages the host wrote.
        fn sent(&self) -> Vec<Message> {
            let mut out = Vec::new();
            let mut rest = &self.written[..];
            while rest.len() >= 8 {
                let len = (word(rest, 4) >> 16) as usize;
                assert!(crc_checks(&rest[..len]), "the host's CRC checks");
                out.push(decode(&rest[..len]).unwrap());
                rest = &rest[len..];
            }
            assert!(rest.is_empty());
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
    fn crc32_is_binascii_crc32() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn hello_is_the_eight_bytes_uart_wired_update_py_sends() {
        // fill_word(hello, 0, (8 << 16) | HELLO), preceded by its CRC32.
        let hello = encode(MSG_HELLO, &[], &[]);
        let params = [0x00, 0x00, 0x08, 0x00];
        assert_eq!(hello[4..], params);
        assert_eq!(hello[..4], crc32(&params).to_le_bytes());
        // DATA: length counts CRC, head, sequence number and data.
        let data = encode(MSG_DATA, &[8180], &[1, 2, 3]);
        assert_eq!(word(&data, 4), (15 << 16) | 8);
        assert_eq!(word(&data, 8), 8180);
    }

    #[test]
    fn the_ota_blob_header_matches_create_cust_image_blob_py() {
        // The figures create_cust_image_blob.py prints for an 8740-byte image at 0xC000
        // (sparkfun/Arduino_Apollo3 issue 461): w0 = 0xcb0022a4, w2 = 0x10008080.
        let image = vec![0x5au8; 0x2224];
        let blob = ota_blob(&image, 0xC000);
        assert_eq!(word(&blob, 0), 0xcb00_22a4);
        assert_eq!(word(&blob, 8), 0x1000_8080);
        assert_eq!(word(&blob, 112), 0xC000);
        assert_eq!(word(&blob, 120), 0xFFFF_FFFF);
        assert_eq!(blob.len(), 0x22a4);
        let (addr, app) = parse_ota(&blob).unwrap();
        assert_eq!((addr, app), (0xC000, &image[..]));
        // A length off a word boundary is padded with n bytes of n.
        let blob = ota_blob(&[1, 2, 3, 4, 5], 0xC000);
        assert_eq!(&blob[OTA_HEADER_BYTES..], [1, 2, 3, 4, 5, 3, 3, 3]);
        // A corrupted blob is not installed.
        let mut bad = ota_blob(&image, 0xC000);
        bad[200] ^= 1;
        assert!(parse_ota(&bad).unwrap_err().contains("CRC32"));
    }

    #[test]
    fn the_wired_blob_splits_into_pieces_with_their_headers() {
        let ota = vec![7u8; MAX_PIECE_BYTES + 100];
        let wired = wired_blob(&ota, 0x2_0000);
        assert_eq!(wired.len(), ota.len() + 2 * WIRED_HEADER_BYTES);
        let first = parse_piece(&wired[..WIRED_HEADER_BYTES + MAX_PIECE_BYTES]).unwrap();
        assert_eq!(
            (first.image_type, first.options, first.key, first.address),
            (6, 1, 0x1234_4321, 0x2_0000)
        );
        let second = parse_piece(&wired[WIRED_HEADER_BYTES + MAX_PIECE_BYTES..]).unwrap();
        assert_eq!((second.options, second.address), (0, 0x2_0000 + 0x48000));
        assert_eq!(second.bytes.len(), 100);
        // w0 of the default keys: key indices 8 in bits 8-11 and 24-27.
        assert_eq!(word(&wired, 0), 0x0800_0800);
        assert!(parse_piece(&wired[..50]).is_none());
    }

    #[test]
    fn hello_reads_the_status_and_garbage_or_silence_is_an_error_naming_status() {
        let mut board = Script::new(&[status_message(3, 0x48000)]);
        let status = hello(&mut board).unwrap();
        assert_eq!((status.version, status.max_storage), (3, 0x48000));
        assert_eq!(board.sent()[0].msg_type, MSG_HELLO);

        let e = hello(&mut Script::new(&[])).unwrap_err();
        assert!(matches!(e, SblError::Timeout { .. }));
        assert!(e.to_string().contains("STATUS"), "{e}");

        // A board that answers 11 bytes (the Edge running its application, at another baud).
        let e = hello(&mut Script::new(&[vec![
            0xd4, 0x70, 7, 0x87, 0x84, 0x80, 0x80, 0x83, 0x80, 0x80, 0x80,
        ]]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the answer stopped after 11 of 88 bytes while waiting for the bootloader's STATUS answer to HELLO"
        );

        // 88 bytes of noise.
        let e = hello(&mut Script::new(&[vec![0xffu8; 88]])).unwrap_err();
        assert!(
            matches!(
                e,
                SblError::Unexpected {
                    msg_type: 0xffff,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("expected STATUS, got message type 0xffff"),
            "{e}"
        );

        // An ACK where STATUS belongs: right length read, wrong type.
        let mut ack_then = ack(MSG_HELLO, 0, 0);
        ack_then.extend(vec![0u8; 68]);
        let e = hello(&mut Script::new(&[ack_then])).unwrap_err();
        assert!(
            matches!(
                e,
                SblError::Unexpected {
                    msg_type: MSG_ACK,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn an_image_goes_as_otadesc_update_data_and_reset_with_a_nack_resent() {
        let image: Vec<u8> = (0..20_000u32).map(|i| (i * 13) as u8).collect();
        let wired = wired_blob(&ota_blob(&image, APP_ORIGIN), DEFAULT_STORAGE);
        let chunks = wired.len().div_ceil(DATA_CHUNK_BYTES);
        assert_eq!(chunks, 3);
        let mut answers = vec![ack(MSG_OTADESC, 0, 0), ack(MSG_UPDATE, 0, 0)];
        answers.push(ack(MSG_DATA, ACK_CRC, 0)); // the first DATA arrived corrupted
        for _ in 0..chunks {
            answers.push(ack(MSG_DATA, 0, 0));
        }
        answers.push(ack(MSG_RESET, 0, 0));
        let mut board = Script::new(&answers);
        let sent = program(&mut board, &wired).unwrap();
        assert_eq!(
            sent,
            Sent {
                pieces: 1,
                data_messages: 3,
                resends: 1
            }
        );
        let msgs = board.sent();
        let types: Vec<u16> = msgs.iter().map(|m| m.msg_type).collect();
        assert_eq!(types, [2, 3, 8, 8, 8, 8, 6]);
        assert_eq!(word(&msgs[0].body, 0), OTA_DESC);
        assert_eq!(word(&msgs[1].body, 0) as usize, wired.len());
        assert_eq!(word(&msgs[1].body, 4), crc32(&wired));
        assert_eq!(msgs[2], msgs[3], "the NACKed DATA is sent again, the same");
        let offsets: Vec<u32> = msgs[3..6].iter().map(|m| word(&m.body, 0)).collect();
        assert_eq!(offsets, [0, 8180, 16360]);
        let received: Vec<u8> = msgs[3..6]
            .iter()
            .flat_map(|m| m.body[4..].to_vec())
            .collect();
        assert_eq!(received, wired);
        assert_eq!(word(&msgs[6].body, 0), RESET_POI);
    }

    #[test]
    fn four_nacks_give_up_with_the_status_named() {
        let mut answers = vec![ack(MSG_OTADESC, 0, 0)];
        for _ in 0..4 {
            answers.push(ack(MSG_UPDATE, ACK_CRC, 0));
        }
        let e = program(&mut Script::new(&answers), &[0u8; 200]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the bootloader refused UPDATE 4 times (last status 3: CRC error): check the cable, or lower deploy.baud"
        );
        // An answer that is not an ACK.
        let e = program(&mut Script::new(&[status_message(1, 0)]), &[0u8; 8]).unwrap_err();
        assert!(
            matches!(
                e,
                SblError::Unexpected {
                    msg_type: MSG_STATUS,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn storage_moves_past_a_large_image_and_refuses_one_too_large() {
        assert_eq!(storage_for(10_000).unwrap(), 0x2_0000);
        // 200 KiB from 0xC000 ends at 0x3E000: the copy starts at the next 8 KiB page.
        assert_eq!(storage_for(200 * 1024).unwrap(), 0x3_E000);
        let e = storage_for(600 * 1024).unwrap_err();
        assert!(e.to_string().contains("OTA descriptor"), "{e}");
    }
}
