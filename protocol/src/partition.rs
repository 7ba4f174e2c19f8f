//! The model partition: what a job writes into the board's `model` flash region.
//!
//! The firmware is built once per board; each job writes only this partition (DESIGN.md, "One
//! firmware image per board, models as data"). It starts with a 64-byte header, followed by the
//! model (.tflite bytes), the test input and the expected output, each at a 16-byte aligned
//! offset so that the engine can read the flatbuffer and its weights in place.
//!
//! ```text
//! offset  field (all u32 little-endian)
//!  0      magic "MCBP"
//!  4      version (1)
//!  8      total_bytes (header + payload)
//! 12/16   model offset / length
//! 20/24   input offset / length
//! 28/32   expected output offset / length
//! 36      warm-up runs
//! 40      timed runs
//! 44      flags (bit 0: FLAG_ACCURACY, bit 1: FLAG_GATE; other bits 0)
//! 48      float tolerance for the output check (f32 bits; 0 = exact)
//! 52      FNV-1a of bytes 64..total_bytes
//! 56      gate GPIO (with FLAG_GATE; else 0): the chip's pin number, see [`Header::gate_pin`]
//! 60      FNV-1a of bytes 0..60
//! ```

use crate::fnv1a32;

pub const MAGIC: [u8; 4] = *b"MCBP";
pub const VERSION: u32 = 1;
pub const HEADER_BYTES: usize = 64;
/// Flag: after the timed runs, take inputs streamed by the host (`@data`, `@infer`, `@end`) and
/// answer each with `@sample` — the accuracy mode.
pub const FLAG_ACCURACY: u32 = 1;
/// Flag: hold the gate GPIO ([`Header::gate_pin`]) high from the start of the first timed run to
/// the end of the last, for an energy meter to integrate over (the runs' records are written
/// after the window).
pub const FLAG_GATE: u32 = 2;
/// Most timed runs in a gated window (their cycle counts are kept until the window closes).
pub const MAX_GATED_RUNS: u32 = 128;
const KNOWN_FLAGS: u32 = FLAG_ACCURACY | FLAG_GATE;
/// Alignment of each payload part, for in-place reads of the flatbuffer's buffers.
pub const ALIGN: usize = 16;

/// A part of the payload: offset from the start of the partition, and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Part {
    pub offset: u32,
    pub len: u32,
}

impl Part {
    /// The part's bytes within `partition`, if they are there.
    pub fn slice(self, partition: &[u8]) -> Option<&[u8]> {
        let start = self.offset as usize;
        partition.get(start..start.checked_add(self.len as usize)?)
    }
}

/// The header of a model partition.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Header {
    pub total_bytes: u32,
    pub model: Part,
    pub input: Part,
    pub expected: Part,
    pub warmup_runs: u32,
    pub timed_runs: u32,
    /// [`FLAG_ACCURACY`], [`FLAG_GATE`] or 0.
    pub flags: u32,
    /// The gate GPIO, with [`FLAG_GATE`]: the chip's own numbering (STM32: 16 x port + pin, PA0
    /// = 0, PB0 = 16 ...; nRF52840: 32 x port + pin, P1.01 = 33; Apollo3: the pad number;
    /// RP2040: the GPIO number).
    pub gate_pin: u32,
    /// Largest allowed absolute difference of float outputs; 0 means bit-exact.
    pub tolerance: f32,
    pub payload_fnv1a: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionError {
    /// Fewer bytes than a header.
    TooShort,
    /// No "MCBP" at the start: nothing was written, or not by mcubench.
    BadMagic,
    UnsupportedVersion(u32),
    /// Flags this firmware does not know (a newer host).
    UnknownFlags(u32),
    /// The header's own checksum does not match.
    HeaderCorrupt,
    /// A part lies outside the partition or before the end of the header.
    PartOutOfBounds,
    /// The payload's checksum does not match (a torn or partial write).
    PayloadCorrupt,
    /// More timed runs than a gated window holds ([`MAX_GATED_RUNS`]).
    TooManyGatedRuns(u32),
    /// The parts do not fit the partition region.
    TooLarge {
        needed: u32,
        available: u32,
    },
}

impl core::fmt::Display for PartitionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PartitionError::TooShort => f.write_str("model partition shorter than its header"),
            PartitionError::BadMagic => f.write_str("model partition is empty (no MCBP header)"),
            PartitionError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "model partition version {v} is not supported (expected {VERSION})"
                )
            }
            PartitionError::UnknownFlags(flags) => write!(
                f,
                "model partition flags {flags:#x} are not known to this firmware (rebuild it)"
            ),
            PartitionError::HeaderCorrupt => {
                f.write_str("model partition header checksum mismatch")
            }
            PartitionError::PartOutOfBounds => {
                f.write_str("model partition part lies outside the partition")
            }
            PartitionError::PayloadCorrupt => {
                f.write_str("model partition payload checksum mismatch")
            }
            PartitionError::TooManyGatedRuns(runs) => write!(
                f,
                "{runs} timed runs in a gated (energy) window; at most {MAX_GATED_RUNS}"
            ),
            PartitionError::TooLarge { needed, available } => write!(
                f,
                "model partition needs {needed} bytes but the region has {available}"
            ),
        }
    }
}

fn align_up(x: usize) -> usize {
    x.div_ceil(ALIGN) * ALIGN
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl Header {
    /// Lays out a model, input and expected output after the header.
    pub fn layout(
        model_len: usize,
        input_len: usize,
        expected_len: usize,
        available: usize,
    ) -> Result<Header, PartitionError> {
        let model_at = HEADER_BYTES;
        let input_at = align_up(model_at + model_len);
        let expected_at = align_up(input_at + input_len);
        let total = expected_at + expected_len;
        if total > available || total > u32::MAX as usize {
            return Err(PartitionError::TooLarge {
                needed: total.min(u32::MAX as usize) as u32,
                available: available.min(u32::MAX as usize) as u32,
            });
        }
        let part = |offset: usize, len: usize| Part {
            offset: offset as u32,
            len: len as u32,
        };
        Ok(Header {
            total_bytes: total as u32,
            model: part(model_at, model_len),
            input: part(input_at, input_len),
            expected: part(expected_at, expected_len),
            ..Header::default()
        })
    }

    /// The 64 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        let fields = [
            u32::from_le_bytes(MAGIC),
            VERSION,
            self.total_bytes,
            self.model.offset,
            self.model.len,
            self.input.offset,
            self.input.len,
            self.expected.offset,
            self.expected.len,
            self.warmup_runs,
            self.timed_runs,
            self.flags,
            self.tolerance.to_bits(),
            self.payload_fnv1a,
            self.gate_pin,
        ];
        for (i, v) in fields.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        let check = fnv1a32(&out[..60]);
        out[60..].copy_from_slice(&check.to_le_bytes());
        out
    }

    /// Reads and checks the header and payload of a partition (the whole region may be given;
    /// bytes past `total_bytes` are ignored).
    pub fn parse(partition: &[u8]) -> Result<Header, PartitionError> {
        if partition.len() < HEADER_BYTES {
            return Err(PartitionError::TooShort);
        }
        if partition[..4] != MAGIC {
            return Err(PartitionError::BadMagic);
        }
        if fnv1a32(&partition[..60]) != u32_at(partition, 60) {
            return Err(PartitionError::HeaderCorrupt);
        }
        let version = u32_at(partition, 4);
        if version != VERSION {
            return Err(PartitionError::UnsupportedVersion(version));
        }
        let part = |at: usize| Part {
            offset: u32_at(partition, at),
            len: u32_at(partition, at + 4),
        };
        let header = Header {
            total_bytes: u32_at(partition, 8),
            model: part(12),
            input: part(20),
            expected: part(28),
            warmup_runs: u32_at(partition, 36),
            timed_runs: u32_at(partition, 40),
            flags: u32_at(partition, 44),
            tolerance: f32::from_bits(u32_at(partition, 48)),
            payload_fnv1a: u32_at(partition, 52),
            gate_pin: u32_at(partition, 56),
        };
        if header.flags & !KNOWN_FLAGS != 0 {
            return Err(PartitionError::UnknownFlags(header.flags));
        }
        if header.flags & FLAG_GATE != 0 && header.timed_runs > MAX_GATED_RUNS {
            return Err(PartitionError::TooManyGatedRuns(header.timed_runs));
        }
        let total = header.total_bytes as usize;
        if total < HEADER_BYTES || total > partition.len() {
            return Err(PartitionError::PartOutOfBounds);
        }
        for p in [header.model, header.input, header.expected] {
            let end = (p.offset as u64) + (p.len as u64);
            if (p.offset as usize) < HEADER_BYTES || end > total as u64 {
                return Err(PartitionError::PartOutOfBounds);
            }
        }
        if fnv1a32(&partition[HEADER_BYTES..total]) != header.payload_fnv1a {
            return Err(PartitionError::PayloadCorrupt);
        }
        Ok(header)
    }

    /// Writes header and payload into `out` (at least `total_bytes` long), computing the
    /// payload checksum. Bytes between parts are zero.
    pub fn write(
        mut self,
        out: &mut [u8],
        model: &[u8],
        input: &[u8],
        expected: &[u8],
    ) -> Result<Header, PartitionError> {
        let total = self.total_bytes as usize;
        if out.len() < total
            || model.len() != self.model.len as usize
            || input.len() != self.input.len as usize
            || expected.len() != self.expected.len as usize
        {
            return Err(PartitionError::PartOutOfBounds);
        }
        out[..total].fill(0);
        for (part, bytes) in [
            (self.model, model),
            (self.input, input),
            (self.expected, expected),
        ] {
            let at = part.offset as usize;
            out[at..at + bytes.len()].copy_from_slice(bytes);
        }
        self.payload_fnv1a = fnv1a32(&out[HEADER_BYTES..total]);
        out[..HEADER_BYTES].copy_from_slice(&self.to_bytes());
        Ok(self)
    }
}
