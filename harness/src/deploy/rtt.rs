//! SEGGER RTT from the host's side, over any target memory interface: a debug probe's
//! (probe-rs), the emulator's, or a test's fake. Reads the up channel (the firmware's records)
//! and writes the down channel (inputs for accuracy runs), as a probe does: only the host's
//! own offsets are written (RdOff of an up buffer, WrOff of a down buffer).
//!
//! Control block (SEGGER RTT, `SEGGER_RTT.h`): 16-byte id "SEGGER RTT", i32 MaxNumUpBuffers,
//! i32 MaxNumDownBuffers, then the up and then the down buffer descriptors, 24 bytes each:
//! {sName, pBuffer, SizeOfBuffer, WrOff, RdOff, Flags}.

use std::fmt;

/// The target's memory, as a probe or an emulator sees it.
pub trait TargetMemory {
    fn read(&mut self, addr: u32, out: &mut [u8]) -> Result<(), MemoryError>;
    fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError>;

    fn read_u32(&mut self, addr: u32) -> Result<u32, MemoryError> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
}

/// Which way a target memory access went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "reading",
            Access::Write => "writing",
        })
    }
}

/// A target memory access that failed, and where.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("{len} bytes at {addr:#010x} are not memory")]
    NotMemory { addr: u32, len: usize },
    /// The debug probe's access failed; its error is the source.
    #[error("{access} {addr:#010x}: {source}")]
    Probe {
        access: Access,
        addr: u32,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl<T: emulator::Timing> TargetMemory for emulator::Machine<T> {
    fn read(&mut self, addr: u32, out: &mut [u8]) -> Result<(), MemoryError> {
        if self.read_memory(addr, out) {
            Ok(())
        } else {
            Err(MemoryError::NotMemory {
                addr,
                len: out.len(),
            })
        }
    }
    fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
        if self.write_memory(addr, bytes) {
            Ok(())
        } else {
            Err(MemoryError::NotMemory {
                addr,
                len: bytes.len(),
            })
        }
    }
}

/// The id at the start of the control block.
pub const ID: &[u8; 11] = b"SEGGER RTT\0";
/// The ELF symbol of the control block.
pub const SYMBOL: &str = "_SEGGER_RTT";
const DESCRIPTOR_BYTES: u32 = 24;
/// More channels than any firmware declares: the block is corrupt (or not a block).
const MAX_CHANNELS: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum RttError {
    #[error("no RTT control block at {addr:#010x} (the address of ELF symbol `{SYMBOL}`): the firmware has not started yet, or this ELF is not the one on the board")]
    NotAtSymbol { addr: u32 },
    #[error("the ELF has no symbol `{SYMBOL}`, and no RTT control block was found in RAM: the firmware does not use RTT (its transport may be the UART)")]
    NotFound,
    #[error("the RTT control block at {addr:#010x} is corrupt: {reason}")]
    Corrupt { addr: u32, reason: String },
    #[error("RTT: the firmware has no {direction} channel {channel}")]
    NoChannel {
        direction: &'static str,
        channel: u32,
    },
    #[error("RTT: {0}")]
    Memory(#[from] MemoryError),
}

/// An attached RTT control block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtt {
    pub control_block: u32,
    pub up_channels: u32,
    pub down_channels: u32,
}

impl Rtt {
    /// Attaches to the control block at `addr` (from the ELF symbol).
    pub fn attach(mem: &mut dyn TargetMemory, addr: u32) -> Result<Rtt, RttError> {
        let mut id = [0u8; 11];
        mem.read(addr, &mut id)?;
        if &id != ID {
            return Err(RttError::NotAtSymbol { addr });
        }
        let up = mem.read_u32(addr + 16)?;
        let down = mem.read_u32(addr + 20)?;
        if up == 0 || up > MAX_CHANNELS || down > MAX_CHANNELS {
            return Err(RttError::Corrupt {
                addr,
                reason: format!("{up} up and {down} down channels"),
            });
        }
        Ok(Rtt {
            control_block: addr,
            up_channels: up,
            down_channels: down,
        })
    }

    /// Scans `range` (start, end) for the control block's id, for an ELF without the symbol.
    pub fn find(mem: &mut dyn TargetMemory, start: u32, end: u32) -> Result<Rtt, RttError> {
        const CHUNK: u32 = 4096;
        let mut at = start;
        let mut buf = vec![0u8; (CHUNK + ID.len() as u32) as usize];
        while at < end {
            let n = (end - at).min(CHUNK + ID.len() as u32) as usize;
            if mem.read(at, &mut buf[..n]).is_ok() {
                if let Some(i) = buf[..n].windows(ID.len()).position(|w| w == ID) {
                    return Rtt::attach(mem, at + i as u32);
                }
            }
            at = at.saturating_add(CHUNK);
        }
        Err(RttError::NotFound)
    }

    fn descriptor(&self, up: bool, channel: u32) -> Result<u32, RttError> {
        let (count, base) = if up {
            (self.up_channels, 0)
        } else {
            (self.down_channels, self.up_channels)
        };
        if channel >= count {
            return Err(RttError::NoChannel {
                direction: if up { "up" } else { "down" },
                channel,
            });
        }
        Ok(self.control_block + 24 + DESCRIPTOR_BYTES * (base + channel))
    }

    /// Buffer address, size, write and read offsets of a descriptor, checked.
    fn ring(
        &self,
        mem: &mut dyn TargetMemory,
        desc: u32,
    ) -> Result<(u32, u32, u32, u32), RttError> {
        let mut d = [0u8; 20];
        mem.read(desc, &mut d)?;
        let word = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
        let (buffer, size, wr, rd) = (word(4), word(8), word(12), word(16));
        if size == 0 || wr >= size || rd >= size {
            return Err(RttError::Corrupt {
                addr: self.control_block,
                reason: format!(
                    "buffer of {size} bytes with write offset {wr} and read offset {rd}"
                ),
            });
        }
        Ok((buffer, size, wr, rd))
    }

    /// Appends the bytes waiting in up `channel` to `out` and frees them; returns how many.
    pub fn read_up(
        &self,
        mem: &mut dyn TargetMemory,
        channel: u32,
        out: &mut Vec<u8>,
    ) -> Result<usize, RttError> {
        let desc = self.descriptor(true, channel)?;
        let (buffer, size, wr, rd) = self.ring(mem, desc)?;
        if wr == rd {
            return Ok(0);
        }
        let start = out.len();
        let mut span = |from: u32, to: u32| -> Result<(), RttError> {
            let at = out.len();
            out.resize(at + (to - from) as usize, 0);
            Ok(mem.read(buffer + from, &mut out[at..])?)
        };
        if wr > rd {
            span(rd, wr)?;
        } else {
            span(rd, size)?;
            span(0, wr)?;
        }
        mem.write(desc + 16, &wr.to_le_bytes())?;
        Ok(out.len() - start)
    }

    /// Writes as much of `bytes` as fits into down `channel`; returns how many were written.
    pub fn write_down(
        &self,
        mem: &mut dyn TargetMemory,
        channel: u32,
        bytes: &[u8],
    ) -> Result<usize, RttError> {
        let desc = self.descriptor(false, channel)?;
        let (buffer, size, mut wr, rd) = self.ring(mem, desc)?;
        // One slot stays empty so that full and empty differ.
        let free = if rd > wr {
            rd - wr - 1
        } else {
            size - (wr - rd) - 1
        };
        let n = (free as usize).min(bytes.len());
        let mut done = 0;
        while done < n {
            let run = ((size - wr) as usize).min(n - done);
            mem.write(buffer + wr, &bytes[done..done + run])?;
            done += run;
            wr = (wr + run as u32) % size;
        }
        mem.write(desc + 12, &wr.to_le_bytes())?;
        Ok(n)
    }
}

/// The fill pattern of the firmware's stack painting (firmware/src/stack.rs).
pub const STACK_PAINT: u32 = 0xCCCC_CCCC;

/// Bytes of the stack reserve `bottom..top` used at the deepest point: from `bottom` up, the
/// words still holding the paint were never touched.
pub fn stack_high_water(
    mem: &mut dyn TargetMemory,
    bottom: u32,
    top: u32,
) -> Result<u32, MemoryError> {
    let mut words = vec![0u8; top.saturating_sub(bottom) as usize];
    mem.read(bottom, &mut words)?;
    let untouched = words
        .chunks_exact(4)
        .take_while(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]) == STACK_PAINT)
        .count() as u32;
    Ok(top - bottom - untouched * 4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::RecordStream;

    /// A target's RAM, with a count of host writes so that tests see what the host touched.
    struct FakeRam {
        base: u32,
        bytes: Vec<u8>,
        writes: Vec<(u32, usize)>,
    }

    impl TargetMemory for FakeRam {
        fn read(&mut self, addr: u32, out: &mut [u8]) -> Result<(), MemoryError> {
            let len = out.len();
            let not_memory = MemoryError::NotMemory { addr, len };
            let Some(at) = addr.checked_sub(self.base) else {
                return Err(not_memory);
            };
            let at = at as usize;
            let src = self.bytes.get(at..at + len).ok_or(not_memory)?;
            out.copy_from_slice(src);
            Ok(())
        }
        fn write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
            let len = bytes.len();
            let not_memory = MemoryError::NotMemory { addr, len };
            let Some(at) = addr.checked_sub(self.base) else {
                return Err(not_memory);
            };
            let at = at as usize;
            self.bytes
                .get_mut(at..at + len)
                .ok_or(not_memory)?
                .copy_from_slice(bytes);
            self.writes.push((addr, bytes.len()));
            Ok(())
        }
    }

    const BASE: u32 = 0x2000_0000;
    const CB: u32 = BASE + 0x100;
    const UP_BUF: u32 = BASE + 0x400;
    const DOWN_BUF: u32 = BASE + 0x800;
    const SIZE: u32 = 64;

    /// RAM with a control block: 1 up and 1 down channel of 64 bytes each.
    fn ram() -> FakeRam {
        let mut r = FakeRam {
            base: BASE,
            bytes: vec![0; 0x1000],
            writes: Vec::new(),
        };
        let mut put = |addr: u32, b: &[u8]| {
            let at = (addr - BASE) as usize;
            r.bytes[at..at + b.len()].copy_from_slice(b);
        };
        put(CB, ID);
        put(CB + 16, &1u32.to_le_bytes());
        put(CB + 20, &1u32.to_le_bytes());
        for (desc, buf) in [(CB + 24, UP_BUF), (CB + 48, DOWN_BUF)] {
            put(desc + 4, &buf.to_le_bytes());
            put(desc + 8, &SIZE.to_le_bytes());
        }
        r
    }

    /// The firmware's side: writes into the up ring.
    fn firmware_writes(r: &mut FakeRam, bytes: &[u8]) {
        let mut wr = r.read_u32(CB + 24 + 12).unwrap();
        for &b in bytes {
            let at = (UP_BUF + wr - BASE) as usize;
            r.bytes[at] = b;
            wr = (wr + 1) % SIZE;
        }
        let at = (CB + 24 + 12 - BASE) as usize;
        r.bytes[at..at + 4].copy_from_slice(&wr.to_le_bytes());
    }

    #[test]
    fn records_through_the_up_ring_wrapping_reach_the_same_parser() {
        let mut r = ram();
        let rtt = Rtt::find(&mut r, BASE, BASE + 0x1000).unwrap();
        assert_eq!(rtt.control_block, CB);
        let report = b"@mcubench 1 board=pico\n@run index=0 cycles=1234\n@run index=1 cycles=1236\n@output len=0 fnv1a=0x811c9dc5\n@done\n";
        let mut stream = RecordStream::new();
        let mut got = Vec::new();
        // The firmware writes in pieces smaller than the ring; the host drains between them,
        // so the ring wraps several times.
        for piece in report.chunks(40) {
            firmware_writes(&mut r, piece);
            got.clear();
            rtt.read_up(&mut r, 0, &mut got).unwrap();
            stream.feed(&got);
        }
        let m = &stream.measurements;
        assert_eq!(m.board.as_deref(), Some("pico"));
        assert_eq!(m.cycles, [1234, 1236]);
        assert!(m.done);
        // The host wrote only the up buffer's RdOff.
        assert!(r.writes.iter().all(|&(a, n)| a == CB + 24 + 16 && n == 4));
    }

    #[test]
    fn the_down_ring_takes_what_fits_and_wraps() {
        let mut r = ram();
        let rtt = Rtt::attach(&mut r, CB).unwrap();
        let input: Vec<u8> = (0..100u8).collect();
        assert_eq!(
            rtt.write_down(&mut r, 0, &input).unwrap(),
            63,
            "one slot stays free"
        );
        assert_eq!(rtt.write_down(&mut r, 0, &input).unwrap(), 0, "full");
        // The firmware reads 50 bytes.
        let at = (CB + 48 + 16 - BASE) as usize;
        r.bytes[at..at + 4].copy_from_slice(&50u32.to_le_bytes());
        assert_eq!(rtt.write_down(&mut r, 0, &input[63..]).unwrap(), 37);
        let wr = r.read_u32(CB + 48 + 12).unwrap();
        assert_eq!(wr, (63 + 37) % SIZE);
        let b = |i: u32| r.bytes[(DOWN_BUF + i - BASE) as usize];
        assert_eq!((b(62), b(63), b(0), b(35)), (62, 63, 64, 99));
    }

    #[test]
    fn a_missing_or_corrupt_block_is_a_sentence() {
        let mut r = ram();
        let e = Rtt::attach(&mut r, CB + 8).unwrap_err();
        assert!(e.to_string().contains("`_SEGGER_RTT`"), "{e}");
        r.bytes[(CB - BASE) as usize] = b'X';
        assert!(matches!(
            Rtt::find(&mut r, BASE, BASE + 0x1000),
            Err(RttError::NotFound)
        ));
        let mut r = ram();
        // A write offset past the buffer.
        let at = (CB + 24 + 12 - BASE) as usize;
        r.bytes[at..at + 4].copy_from_slice(&999u32.to_le_bytes());
        let rtt = Rtt::attach(&mut r, CB).unwrap();
        let e = rtt.read_up(&mut r, 0, &mut Vec::new()).unwrap_err();
        assert!(matches!(e, RttError::Corrupt { .. }), "{e}");
        let e = rtt.read_up(&mut r, 3, &mut Vec::new()).unwrap_err();
        assert_eq!(e.to_string(), "RTT: the firmware has no up channel 3");
        // A read past the target's RAM names the address.
        let e = Rtt::attach(&mut r, BASE + 0x1000).unwrap_err();
        assert!(
            matches!(
                e,
                RttError::Memory(MemoryError::NotMemory {
                    addr: 0x2000_1000,
                    len: 11
                })
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "RTT: 11 bytes at 0x20001000 are not memory");
    }

    #[test]
    fn stack_high_water_counts_from_the_deepest_overwritten_word() {
        let mut r = ram();
        for i in 0..64u32 {
            let at = (BASE + 0xC00 + i * 4 - BASE) as usize;
            r.bytes[at..at + 4].copy_from_slice(&STACK_PAINT.to_le_bytes());
        }
        // The stack grows down from the top: the top 40 bytes were used.
        for at in (0xC00 + 256 - 40)..(0xC00 + 256) {
            r.bytes[at] = 0x11;
        }
        assert_eq!(
            stack_high_water(&mut r, BASE + 0xC00, BASE + 0xD00).unwrap(),
            40
        );
    }
}
