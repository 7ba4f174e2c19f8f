//! Arduino's SAM-BA bootloader over USB CDC, as `bossac -U -i -e -w -R` (Arduino's BOSSA fork)
//! flashes the Arduino Nano 33 BLE. From arduino/BOSSA `src/Samba.cpp` (the commands and
//! their answers), facchinm/BOSSA `src/NordicFlash.cpp` and `src/FlashFactory.cpp` (the
//! nRF52840: erase by the extended chip erase from the flash's start, 4 KiB pages), and the
//! session akavel/rumbac's README records against a Nano 33 BLE's bootloader:
//!
//! ```text
//! > V#   < Arduino Bootloader (SAM-BA extended) 2.0 [Arduino:IKXYZ]
//! > I#   < nRF52840-QIAA
//! > N#   < "\n\r"
//! > S00000000,00001000#   (then 4096 bytes)
//! > Y00000000,0#          < "Y\n\r"
//! > Y00000000,00001000#   < "Y\n\r"
//! > K#
//! ```
//!
//! Commands are ASCII, hexadecimal arguments, ending in `#`. `N#` selects binary mode (answer
//! `\n\r`). `V#` answers the version; its `[Arduino:...]` letters name the extensions: I
//! (identify, `I#`), K (reset, `K#`), X (erase from an address, `X<addr>#`, answer `X\n\r`),
//! Y (write buffer: `Y<src>,0#` sets the source in the bootloader's buffer, then
//! `Y<dst>,<size>#` writes it to flash, each answered `Y\n\r`), Z (CRC-16 of flash:
//! `Z<addr>,<size>#`, answer `Z<crc as 8 hex digits>#\n\r`). `S<addr>,<size>#` followed by
//! the raw bytes loads the buffer (over USB no XMODEM). The buffer and a checksum cover at most
//! 4096 bytes. The CRC is the XMODEM CRC-16 of Samba.cpp's table (polynomial 0x1021, init 0).
//!
//! Addresses are the bootloader's: 0 is the application's first byte, which the board keeps at
//! 0x1_0000 behind the bootloader (bossac is given no offset and the Arduino core links the
//! application at 0x1_0000; rumbac's flash description starts at 0).
//!
//! The board enters the bootloader by the 1200-baud touch (the running sketch's USB CDC resets
//! into the bootloader when the port is opened at 1200 baud and closed), or by a double tap of
//! its reset button (the LED then pulses).

use std::io::{self, Read, Write};

/// The bootloader's buffer and the largest checksum (Samba.cpp's checksumBufferSize, the
/// nRF52840's 4 KiB page).
pub const BUFFER_BYTES: usize = 4096;
/// Where `S` loads the buffer (the address the session above uses).
pub const BUFFER_ADDR: u32 = 0;
/// The application's origin on the board; address 0 to the bootloader.
pub const APP_ORIGIN: u32 = 0x1_0000;
/// The baud that makes the running sketch reset into the bootloader.
pub const TOUCH_BAUD: u32 = 1200;
/// The chip the bootloader names for `I#`.
pub const CHIP: &str = "nRF52840";
/// Writes of one 4 KiB block before the host gives up when its CRC keeps failing.
pub const MAX_TRIES: u32 = 3;

/// CRC-16/XMODEM, as Samba.cpp's crc16Calc.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// What went wrong talking to the bootloader.
#[derive(Debug, thiserror::Error)]
pub enum BossaError {
    #[error("no answer from the board while waiting for {waiting_for}")]
    Timeout { waiting_for: &'static str },
    #[error("the serial port closed while waiting for {waiting_for} ({source})")]
    Closed {
        waiting_for: &'static str,
        source: io::Error,
    },
    #[error("expected {waiting_for}, got {got:?}")]
    Unexpected {
        got: String,
        waiting_for: &'static str,
    },
    #[error("the bootloader ({version:?}) lacks Arduino's extension {missing} ({what}): it is not the Nano 33 BLE's bootloader, or too old")]
    Missing {
        version: String,
        missing: char,
        what: &'static str,
    },
    #[error("the bootloader runs on {chip:?}, not an {CHIP}: deploy.port is another board")]
    WrongChip { chip: String },
    #[error("verify failed {tries} times at {addr:#x} (+{APP_ORIGIN:#x}): the board's CRC-16 is {board:#06x}, the image's {host:#06x}; check the USB cable")]
    Verify {
        addr: u32,
        board: u16,
        host: u16,
        tries: u32,
    },
}

fn io_error(e: io::Error, waiting_for: &'static str) -> BossaError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => BossaError::Timeout { waiting_for },
        _ => BossaError::Closed {
            waiting_for,
            source: e,
        },
    }
}

fn send(w: &mut impl Write, bytes: &[u8]) -> Result<(), BossaError> {
    w.write_all(bytes)
        .and_then(|()| w.flush())
        .map_err(|e| io_error(e, "the port to take a command"))
}

/// Reads an answer up to and including `\r` (the bootloader ends lines "\n\r"), or a NUL, at
/// most `max` bytes. Returns what came before the end.
fn read_line(
    r: &mut impl Read,
    max: usize,
    waiting_for: &'static str,
) -> Result<Vec<u8>, BossaError> {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(0) => {
                return Err(BossaError::Closed {
                    waiting_for,
                    source: io::Error::new(io::ErrorKind::UnexpectedEof, "end of file"),
                })
            }
            Ok(_) => {
                if byte[0] == b'\r' || byte[0] == 0 {
                    return Ok(out);
                }
                out.push(byte[0]);
                if out.len() > max {
                    return Err(BossaError::Unexpected {
                        got: String::from_utf8_lossy(&out).into_owned(),
                        waiting_for,
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if !out.is_empty()
                    && matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
            {
                return Err(BossaError::Unexpected {
                    got: String::from_utf8_lossy(&out).into_owned(),
                    waiting_for,
                })
            }
            Err(e) => return Err(io_error(e, waiting_for)),
        }
    }
}

/// Sends `cmd` and checks that the answer is `letter` then "\n\r".
fn command_ack(
    link: &mut (impl Read + Write),
    cmd: &str,
    letter: u8,
    waiting_for: &'static str,
) -> Result<(), BossaError> {
    send(link, cmd.as_bytes())?;
    let line = read_line(link, 16, waiting_for)?;
    if line.as_slice() != [letter, b'\n'] {
        return Err(BossaError::Unexpected {
            got: String::from_utf8_lossy(&line).into_owned(),
            waiting_for,
        });
    }
    Ok(())
}

/// What the bootloader said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub version: String,
    pub chip: String,
}

/// `N#`, `V#` (the extensions bossac -e -w -R needs: X, Y, Z, K) and `I#`.
pub fn connect(link: &mut (impl Read + Write)) -> Result<Identity, BossaError> {
    send(link, b"N#")?;
    let line = read_line(link, 8, "the answer to N# (binary mode)")?;
    if line.as_slice() != b"\n" {
        return Err(BossaError::Unexpected {
            got: String::from_utf8_lossy(&line).into_owned(),
            waiting_for: "\"\\n\\r\" after N# (binary mode)",
        });
    }
    send(link, b"V#")?;
    let line = read_line(link, 255, "the bootloader's version after V#")?;
    // As Samba::version: the printable prefix.
    let version: String = line
        .iter()
        .take_while(|b| b.is_ascii_graphic() || **b == b' ')
        .map(|&b| b as char)
        .collect();
    let extensions = version
        .find("[Arduino:")
        .and_then(|i| version[i + 9..].split(']').next().map(str::to_owned))
        .ok_or_else(|| BossaError::Unexpected {
            got: version.clone(),
            waiting_for: "a version with Arduino's extensions (\"... [Arduino:IKXYZ]\")",
        })?;
    for (letter, what) in [
        ('I', "identify"),
        ('X', "erase"),
        ('Y', "write buffer"),
        ('Z', "CRC-16"),
        ('K', "reset"),
    ] {
        if !extensions.contains(letter) {
            return Err(BossaError::Missing {
                version,
                missing: letter,
                what,
            });
        }
    }
    send(link, b"I#")?;
    let chip = String::from_utf8_lossy(&read_line(link, 64, "the chip's name after I#")?)
        .trim()
        .to_owned();
    if !chip.starts_with(CHIP) {
        return Err(BossaError::WrongChip { chip });
    }
    Ok(Identity { version, chip })
}

/// What writing an image took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub blocks: usize,
    pub rewrites: u32,
}

/// The image as written: padded with 0xFF (erased flash) to whole words, as the nRF52840's
/// flash controller writes words.
pub fn padded(image: &[u8]) -> Vec<u8> {
    let mut out = image.to_vec();
    out.resize(image.len().div_ceil(4) * 4, 0xFF);
    out
}

/// Erases from the application's start, writes `image` block by block through the buffer,
/// checks each block's CRC-16 (a block whose CRC fails is written again, [`MAX_TRIES`] times
/// at most), then resets the board into the application.
pub fn flash(link: &mut (impl Read + Write), image: &[u8]) -> Result<Sent, BossaError> {
    command_ack(link, "X00000000#", b'X', "\"X\\n\\r\" after the erase")?;
    let image = padded(image);
    let mut sent = Sent::default();
    for (i, block) in image.chunks(BUFFER_BYTES).enumerate() {
        let addr = (i * BUFFER_BYTES) as u32;
        let host = crc16(block);
        let mut tries = 0;
        loop {
            tries += 1;
            send(
                link,
                format!("S{BUFFER_ADDR:08X},{:08X}#", block.len()).as_bytes(),
            )?;
            // Samba.cpp flushes between the command and the data: the bootloader mistakes a
            // USB packet holding both.
            send(link, block)?;
            command_ack(
                link,
                &format!("Y{BUFFER_ADDR:08X},0#"),
                b'Y',
                "\"Y\\n\\r\" after Y (buffer)",
            )?;
            command_ack(
                link,
                &format!("Y{addr:08X},{:08X}#", block.len()),
                b'Y',
                "\"Y\\n\\r\" after Y (write)",
            )?;
            let board = checksum(link, addr, block.len())?;
            if board == host {
                break;
            }
            if tries >= MAX_TRIES {
                return Err(BossaError::Verify {
                    addr,
                    board,
                    host,
                    tries,
                });
            }
            sent.rewrites += 1;
        }
        sent.blocks += 1;
    }
    send(link, b"K#")?;
    Ok(sent)
}

/// `Z<addr>,<size>#`: the board's CRC-16 of its flash.
pub fn checksum(link: &mut (impl Read + Write), addr: u32, len: usize) -> Result<u16, BossaError> {
    const WAITING: &str = "\"Z<crc>#\\n\\r\" after Z (verify)";
    send(link, format!("Z{addr:08X},{len:08X}#").as_bytes())?;
    let line = read_line(link, 16, WAITING)?;
    let bad = || BossaError::Unexpected {
        got: String::from_utf8_lossy(&line).into_owned(),
        waiting_for: WAITING,
    };
    let text = std::str::from_utf8(&line).map_err(|_| bad())?;
    let hex = text
        .strip_prefix('Z')
        .and_then(|t| t.strip_suffix("#\n"))
        .ok_or_else(bad)?;
    let value = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
    u16::try_from(value).map_err(|_| bad())
}

/// A parsed host command (for the virtual board).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Binary,
    Version,
    Identify,
    Erase(u32),
    Load { addr: u32, len: usize },
    WriteBuffer { addr: u32, len: usize },
    Checksum { addr: u32, len: usize },
    Reset,
    Go(u32),
    Other(String),
}

/// Parses the text of one command, without its `#`.
pub fn parse_command(text: &str) -> Command {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok();
    let two = |s: &str| {
        let (a, b) = s.split_once(',')?;
        Some((hex(a)?, hex(b)? as usize))
    };
    let (head, args) = text.split_at(text.len().min(1));
    let parsed = match head {
        "N" if args.is_empty() => Some(Command::Binary),
        "V" if args.is_empty() => Some(Command::Version),
        "I" if args.is_empty() => Some(Command::Identify),
        "K" if args.is_empty() => Some(Command::Reset),
        "X" => hex(args).map(Command::Erase),
        "G" => hex(args).map(Command::Go),
        "S" => two(args).map(|(addr, len)| Command::Load { addr, len }),
        "Y" => two(args).map(|(addr, len)| Command::WriteBuffer { addr, len }),
        "Z" => two(args).map(|(addr, len)| Command::Checksum { addr, len }),
        _ => None,
    };
    parsed.unwrap_or_else(|| Command::Other(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    struct Script {
        replies: VecDeque<u8>,
        written: Vec<u8>,
    }

    impl Script {
        fn new(answers: &[&[u8]]) -> Script {
            Script {
                replies: answers.iter().flat_map(|a| a.iter().copied()).collect(),
                written: Vec::new(),
            }
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

    const VERSION: &[u8] = b"Arduino Bootloader (SAM-BA extended) 2.0 [Arduino:IKXYZ]\n\r";

    #[test]
    fn crc16_is_samba_cpps_xmodem_crc() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        // Samba.cpp's table: entry 1 is the polynomial.
        assert_eq!(crc16(&[0x01]), 0x1021);
    }

    #[test]
    fn connect_reads_the_nano_33_bles_version_and_chip() {
        let mut board = Script::new(&[b"\n\r", VERSION, b"nRF52840-QIAA\n\r"]);
        let id = connect(&mut board).unwrap();
        assert_eq!(id.chip, "nRF52840-QIAA");
        assert!(id.version.ends_with("[Arduino:IKXYZ]"), "{}", id.version);
        assert_eq!(board.written, b"N#V#I#");
    }

    #[test]
    fn a_wrong_silent_or_garbled_bootloader_is_named() {
        let e = connect(&mut Script::new(&[])).unwrap_err();
        assert!(matches!(e, BossaError::Timeout { .. }));
        assert!(e.to_string().contains("N#"), "{e}");

        // A SAMD bootloader without the CRC extension.
        let e = connect(&mut Script::new(&[b"\n\r", b"v1.1 [Arduino:XY]\n\r"])).unwrap_err();
        assert!(e.to_string().contains("lacks Arduino's extension I"), "{e}");

        // A plain SAM-BA ROM: no extensions at all.
        let e = connect(&mut Script::new(&[b"\n\r", b"v2.0 Nov 2010\n\r"])).unwrap_err();
        assert!(e.to_string().contains("[Arduino:IKXYZ]"), "{e}");

        // Another chip.
        let e = connect(&mut Script::new(&[b"\n\r", VERSION, b"ATSAMD21G18A\n\r"])).unwrap_err();
        assert!(
            e.to_string().contains("\"ATSAMD21G18A\", not an nRF52840"),
            "{e}"
        );

        // Noise where "\n\r" belongs, and a line that never ends.
        let e = connect(&mut Script::new(&[b"\xff\xfe@\r"])).unwrap_err();
        assert!(
            e.to_string().starts_with("expected \"\\n\\r\" after N#"),
            "{e}"
        );
        let e = connect(&mut Script::new(&[b"\n\r", &[b'x'; 300]])).unwrap_err();
        assert!(matches!(e, BossaError::Unexpected { .. }), "{e}");
    }

    #[test]
    fn flash_erases_writes_verifies_each_block_and_resets() {
        let image: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let padded_image = padded(&image);
        let z = |b: &[u8]| format!("Z{:08X}#\n\r", crc16(b)).into_bytes();
        let z1 = z(&padded_image[..4096]);
        let z2 = z(&padded_image[4096..]);
        let mut board = Script::new(&[b"X\n\r", b"Y\n\r", b"Y\n\r", &z1, b"Y\n\r", b"Y\n\r", &z2]);
        let sent = flash(&mut board, &image).unwrap();
        assert_eq!(
            sent,
            Sent {
                blocks: 2,
                rewrites: 0
            }
        );
        let mut expected = b"X00000000#S00000000,00001000#".to_vec();
        expected.extend_from_slice(&padded_image[..4096]);
        expected.extend_from_slice(
            b"Y00000000,0#Y00000000,00001000#Z00000000,00001000#S00000000,00000388#",
        );
        expected.extend_from_slice(&padded_image[4096..]);
        expected.extend_from_slice(b"Y00000000,0#Y00001000,00000388#Z00001000,00000388#K#");
        assert_eq!(board.written, expected);
        assert_eq!(padded_image.len(), 5000);
        assert_eq!(padded(&[1, 2, 3, 4, 5]), [1, 2, 3, 4, 5, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn a_block_whose_crc_fails_is_written_again_then_given_up() {
        let image = vec![0x42u8; 100];
        let good = format!("Z{:08X}#\n\r", crc16(&image)).into_bytes();
        let bad = format!("Z{:08X}#\n\r", crc16(&image) ^ 1).into_bytes();
        let mut board = Script::new(&[
            b"X\n\r", b"Y\n\r", b"Y\n\r", &bad, b"Y\n\r", b"Y\n\r", &good,
        ]);
        assert_eq!(
            flash(&mut board, &image).unwrap(),
            Sent {
                blocks: 1,
                rewrites: 1
            }
        );

        let mut answers: Vec<&[u8]> = vec![b"X\n\r"];
        for _ in 0..3 {
            answers.extend([b"Y\n\r".as_slice(), b"Y\n\r", &bad]);
        }
        let e = flash(&mut Script::new(&answers), &image).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("verify failed 3 times at 0x0 (+0x10000)"),
            "{e}"
        );

        // A garbled checksum answer, and an erase that is not acknowledged.
        let e = flash(
            &mut Script::new(&[b"X\n\r", b"Y\n\r", b"Y\n\r", b"Zxyz#\n\r"]),
            &image,
        )
        .unwrap_err();
        assert!(e.to_string().contains("got \"Zxyz#\\n\""), "{e}");
        let e = flash(&mut Script::new(&[b"?\n\r"]), &image).unwrap_err();
        assert!(e.to_string().contains("after the erase"), "{e}");
    }

    #[test]
    fn commands_parse_as_the_virtual_board_reads_them() {
        assert_eq!(
            parse_command("S00000000,00001000"),
            Command::Load { addr: 0, len: 4096 }
        );
        assert_eq!(
            parse_command("Y00001000,00000388"),
            Command::WriteBuffer {
                addr: 0x1000,
                len: 0x388
            }
        );
        assert_eq!(parse_command("X00000000"), Command::Erase(0));
        assert_eq!(parse_command("N"), Command::Binary);
        assert_eq!(parse_command("Zzz,1"), Command::Other("Zzz,1".into()));
        assert_eq!(parse_command(""), Command::Other(String::new()));
    }
}
