//! From a transport's bytes to protocol records: line splitting and the measurements a
//! report carries. The same code serves RTT, a UART and the emulator.

use protocol::{parse_line, Record};

/// A line longer than this is noise (or a firmware that never ends its lines), not a record.
pub const MAX_LINE_BYTES: usize = 4096;

/// The largest model output the host accepts over `@data` (a 1 MiB tensor is no TinyML model).
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;

/// One answer of accuracy mode: `@sample` and the bytes of its `@data` records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleOutput {
    pub index: u32,
    pub len: u32,
    pub digest: u32,
    pub bytes: Vec<u8>,
}

impl SampleOutput {
    /// The bytes, when they are the announced length and digest; else why not.
    pub fn checked(&self) -> Result<&[u8], OutputError> {
        check_bytes(&self.bytes, self.len, self.digest).map_err(|bytes| OutputError::Sample {
            index: self.index,
            bytes,
        })
    }
}

/// Why the `@data` bytes are not the ones a record announced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BytesError {
    #[error("announced {announced} bytes but @data carried {carried}")]
    Length { announced: u32, carried: usize },
    #[error(
        "the @data bytes have digest {actual:#010x}, not the announced {announced:#010x} (bytes lost on the transport?)"
    )]
    Digest { actual: u32, announced: u32 },
}

/// Why a report's output, or one answer of accuracy mode, is not there intact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error("the firmware reported no @output")]
    NoOutput,
    #[error("@output {0}")]
    Output(BytesError),
    #[error("@sample index={index}: {bytes}")]
    Sample { index: u32, bytes: BytesError },
}

/// `bytes` against the length and digest a record announced.
fn check_bytes(bytes: &[u8], len: u32, digest: u32) -> Result<&[u8], BytesError> {
    if bytes.len() != len as usize {
        return Err(BytesError::Length {
            announced: len,
            carried: bytes.len(),
        });
    }
    let actual = protocol::fnv1a32(bytes);
    if actual != digest {
        return Err(BytesError::Digest {
            actual,
            announced: digest,
        });
    }
    Ok(bytes)
}

/// One `@op` record: an operator's cycles in the profiling run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpCycles {
    pub index: u32,
    /// TFLite `BuiltinOperator` code, as the firmware resolved it.
    pub code: u32,
    pub cycles: u64,
}

/// What the record stream of one benchmark run said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    pub board: Option<String>,
    pub meta: Vec<(String, String)>,
    /// Cycles of each `@run`, in order.
    pub cycles: Vec<u64>,
    /// `@op` records of the profiling run, in the order received.
    pub ops: Vec<OpCycles>,
    /// `@output`: length and FNV-1a digest.
    pub output: Option<(u32, u32)>,
    /// Output bytes from `@data` records, assembled at their offsets.
    pub output_bytes: Vec<u8>,
    /// Accuracy mode's answers, in the order received; `@data` after a `@sample` belongs to it.
    pub samples: Vec<SampleOutput>,
    /// `@stack`: used and reserved bytes.
    pub stack: Option<(u32, u32)>,
    /// `@arena`: used and available bytes.
    pub arena: Option<(u32, u32)>,
    pub done: bool,
    /// `@error` reason.
    pub error: Option<String>,
    /// The first malformed record, quoted.
    pub malformed: Option<String>,
}

impl Measurements {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The report is over: done, failed, or broken.
    pub fn finished(&self) -> bool {
        self.done || self.error.is_some() || self.malformed.is_some()
    }

    /// The output bytes, when `@data` covered exactly the length `@output` announced and their
    /// digest matches; else why not.
    pub fn checked_output(&self) -> Result<&[u8], OutputError> {
        let Some((len, digest)) = self.output else {
            return Err(OutputError::NoOutput);
        };
        check_bytes(&self.output_bytes, len, digest).map_err(OutputError::Output)
    }

    fn apply(&mut self, record: Record) {
        match record {
            Record::Data { offset, hex } => {
                let start = offset as usize;
                let end = start + hex.len() / 2;
                if end > MAX_OUTPUT_BYTES {
                    self.malformed = Some(format!(
                        "@data offset={offset} runs past {MAX_OUTPUT_BYTES} bytes of output"
                    ));
                    return;
                }
                let bytes = match self.samples.last_mut() {
                    Some(sample) => &mut sample.bytes,
                    None => &mut self.output_bytes,
                };
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                // The parser checked the hex, so decoding cannot fail.
                let _ = protocol::decode_hex(hex, &mut bytes[start..end]);
            }
            Record::Sample { index, len, digest } => self.samples.push(SampleOutput {
                index,
                len,
                digest,
                bytes: Vec::new(),
            }),
            Record::Infer { .. } | Record::End => {
                self.malformed = Some(format!(
                    "the firmware sent a host-to-device record ({})",
                    if matches!(record, Record::End) {
                        "@end"
                    } else {
                        "@infer"
                    }
                ));
            }
            Record::Hello { board, .. } => self.board = Some(board.to_owned()),
            Record::Meta { key, value } => self.meta.push((key.to_owned(), value.to_owned())),
            Record::Run { cycles, .. } => self.cycles.push(cycles),
            Record::Op {
                index,
                code,
                cycles,
            } => self.ops.push(OpCycles {
                index,
                code,
                cycles,
            }),
            Record::Output { len, digest } => self.output = Some((len, digest)),
            Record::Stack {
                used_bytes,
                size_bytes,
            } => self.stack = Some((used_bytes, size_bytes)),
            Record::Arena {
                used_bytes,
                size_bytes,
            } => self.arena = Some((used_bytes, size_bytes)),
            Record::Done => self.done = true,
            Record::Error { reason } => self.error = Some(reason.to_owned()),
        }
    }
}

/// Splits a byte stream into lines and parses the records among them.
#[derive(Debug, Default)]
pub struct RecordStream {
    partial: Vec<u8>,
    /// Everything received, for the job's log.
    pub log: Vec<u8>,
    pub measurements: Measurements,
}

impl RecordStream {
    pub fn new() -> RecordStream {
        RecordStream::default()
    }

    /// Feeds received bytes; complete lines are parsed at once.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.log.extend_from_slice(bytes);
        for &b in bytes {
            if b == b'\n' {
                let line = std::mem::take(&mut self.partial);
                self.line(&line);
            } else if self.partial.len() < MAX_LINE_BYTES {
                self.partial.push(b);
            }
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.measurements.finished() {
            return;
        }
        match parse_line(line) {
            Ok(Some(record)) => self.measurements.apply(record),
            Ok(None) => {}
            Err(e) => self.measurements.malformed = Some(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_split_across_chunks_and_noise_between_them() {
        let mut s = RecordStream::new();
        for chunk in [
            &b"boot banner\r\n@mcubench 1 bo"[..],
            b"ard=pico\n\x00\xff garbage\n@run index=0 cyc",
            b"les=100\n@run index=1 cycles=101\n@output len=4 fnv1a=0x00000001\n@do",
            b"ne\n@run index=2 cycles=1\n",
        ] {
            s.feed(chunk);
        }
        let m = &s.measurements;
        assert_eq!(m.board.as_deref(), Some("pico"));
        assert_eq!(m.cycles, [100, 101], "nothing after @done counts");
        assert!(m.ops.is_empty());
        assert_eq!(m.output, Some((4, 1)));
        assert!(m.done && m.finished());
    }

    #[test]
    fn output_bytes_are_assembled_and_checked_against_the_digest() {
        let bytes = [1u8, 2, 3, 250];
        let mut text = format!("@output len=4 fnv1a={:#010x}\n", protocol::fnv1a32(&bytes));
        protocol::write_data(&mut text, 0, &bytes).unwrap();
        let mut s = RecordStream::new();
        s.feed(text.as_bytes());
        assert_eq!(s.measurements.checked_output(), Ok(&bytes[..]));
        let mut s = RecordStream::new();
        s.feed(b"@output len=4 fnv1a=0x00000000\n@data offset=0 hex=010203fa\n");
        assert_eq!(
            s.measurements.checked_output(),
            Err(OutputError::Output(BytesError::Digest {
                actual: protocol::fnv1a32(&bytes),
                announced: 0
            }))
        );
        assert!(s
            .measurements
            .checked_output()
            .unwrap_err()
            .to_string()
            .starts_with("@output the @data bytes have digest 0x"));
        let mut s = RecordStream::new();
        s.feed(b"@output len=5 fnv1a=0x00000000\n@data offset=0 hex=010203fa\n");
        assert_eq!(
            s.measurements.checked_output().unwrap_err().to_string(),
            "@output announced 5 bytes but @data carried 4"
        );
        let mut s = RecordStream::new();
        s.feed(b"@data offset=4294967295 hex=01\n");
        assert!(s.measurements.malformed.is_some());
    }

    #[test]
    fn op_records_are_kept_in_order_apart_from_the_timed_runs() {
        let mut s = RecordStream::new();
        s.feed(b"@mcubench 2 board=pico\n@run index=0 cycles=100\n@op index=0 code=3 cycles=60\n@op index=1 code=9 cycles=39\n@done\n");
        let m = &s.measurements;
        assert_eq!(m.cycles, [100]);
        assert_eq!(
            m.ops,
            [
                OpCycles {
                    index: 0,
                    code: 3,
                    cycles: 60
                },
                OpCycles {
                    index: 1,
                    code: 9,
                    cycles: 39
                }
            ]
        );
    }

    #[test]
    fn a_malformed_record_ends_the_report_with_the_raw_line() {
        let mut s = RecordStream::new();
        s.feed(b"@mcubench 1 board=pico\n@run index=0 cycles=x\n");
        let m = &s.measurements;
        assert!(m.finished());
        assert!(m
            .malformed
            .as_deref()
            .unwrap()
            .contains("@run index=0 cycles=x"));
    }

    #[test]
    fn an_endless_line_is_capped() {
        let mut s = RecordStream::new();
        s.feed(&vec![b'@'; 10 * MAX_LINE_BYTES]);
        assert!(s.partial.len() <= MAX_LINE_BYTES);
    }
}
