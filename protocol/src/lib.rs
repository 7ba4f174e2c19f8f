//! The report records that mcubench firmware writes and the host parses.
//!
//! Firmware reports in versioned text records, one per line, over RTT channel 0 or a UART
//! (DESIGN.md, "Firmware protocol"). A record is a line that starts with `@` and a known tag:
//!
//! ```text
//! @mcubench 1 board=pico            banner: protocol version and board
//! @meta key=value                   free metadata (firmware version, clock, warm-up count ...)
//! @run index=0 cycles=123456        one timed run
//! @output len=10 fnv1a=0x811c9dc5   the output tensor's length and FNV-1a digest
//! @data offset=0 hex=7f80ff01       output bytes (in chunks), for the host's golden check
//! @stack used=2048 size=32768       stack high-water mark (painted) and reserve, in bytes
//! @arena used=51200 size=65536      engine arena bytes used and available
//! @op index=0 code=3 cycles=81234   profiling run: cycles of operator 0 (BuiltinOperator 3)
//! @sample index=3 len=10 fnv1a=0x..  accuracy mode: the output for the host's input 3
//!                                   (its bytes follow in @data records)
//! @done                             the benchmark finished
//! @error reason text                the benchmark failed; the rest of the line is the reason
//! ```
//!
//! In accuracy mode (partition flag [`partition::FLAG_ACCURACY`]) the host streams the test set
//! to the device over the same transport's other direction (RTT down-channel, UART RX):
//!
//! ```text
//! @data offset=0 hex=...            bytes of the next input tensor
//! @infer index=3                    the input is complete: run it, answer with @sample
//! @end                              no more inputs: finish the report
//! ```
//!
//! After the timed runs (and outside the energy gate) a firmware may run one more inference
//! operator by operator and report each operator's cycles in `@op` records, in execution order;
//! that run is not a timed run, so the `@run` figures stay unperturbed.
//!
//! Versions: a new version only adds records. The host accepts every version from
//! [`MIN_VERSION`] to [`VERSION`]; a host older than the firmware refuses its banner with
//! [`ParseErrorKind::UnsupportedVersion`] rather than failing on the first record it does not
//! know. Version 2 added `@op`.
//!
//! Any other line (boot banners, noise) is not a record and is skipped by [`parse_line`]. A line
//! that starts with `@` but does not parse is a [`ParseError`] that quotes the raw line, so that
//! firmware speaking a broken dialect is caught rather than silently ignored.
//!
//! The crate is `no_std` and allocation-free: the firmware writes records with
//! [`Record::write_to`] into any [`core::fmt::Write`], the host parses borrowed lines.
#![no_std]

pub mod partition;

use core::fmt;

/// The protocol version this crate writes.
pub const VERSION: u32 = 2;

/// The oldest version this crate accepts: version 1 is version 2 without `@op`.
pub const MIN_VERSION: u32 = 1;

/// One report record. Strings borrow from the parsed line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record<'a> {
    /// `@mcubench <version> board=<name>`: the first record of every report.
    Hello { version: u32, board: &'a str },
    /// `@meta <key>=<value>`: metadata; `value` may contain `=` but no whitespace.
    Meta { key: &'a str, value: &'a str },
    /// `@run index=<n> cycles=<c>`: one timed run (warm-up runs are not reported).
    Run { index: u32, cycles: u64 },
    /// `@op index=<i> code=<builtin> cycles=<c>`: the cycles of operator `i` (TFLite
    /// `BuiltinOperator` code `code`) in the profiling run after the timed runs.
    Op { index: u32, code: u32, cycles: u64 },
    /// `@output len=<bytes> fnv1a=0x<hex>`: the output of the last run.
    Output { len: u32, digest: u32 },
    /// `@data offset=<n> hex=<hex>`: bytes of the output from `offset`, as lowercase hex
    /// (write them with [`write_data`], read them with [`decode_hex`]).
    Data { offset: u32, hex: &'a str },
    /// `@stack used=<bytes> size=<bytes>`: peak stack use found by stack painting.
    Stack { used_bytes: u32, size_bytes: u32 },
    /// `@arena used=<bytes> size=<bytes>`: engine arena use.
    Arena { used_bytes: u32, size_bytes: u32 },
    /// `@sample index=<n> len=<bytes> fnv1a=0x<hex>`: accuracy mode, the output for the host's
    /// input `n`; `@data` records with its bytes follow.
    Sample { index: u32, len: u32, digest: u32 },
    /// `@infer index=<n>` (host to device, accuracy mode): the input written by the preceding
    /// `@data` records is complete; run one inference on it and answer with `@sample`.
    Infer { index: u32 },
    /// `@end` (host to device, accuracy mode): no more inputs.
    End,
    /// `@done`: the report is complete.
    Done,
    /// `@error <reason>`: the firmware gave up; the reason is the rest of the line.
    Error { reason: &'a str },
}

/// Why a record could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The sink failed.
    Fmt,
    /// A token (board, meta key or value) is empty, or holds whitespace, a control character,
    /// or (keys only) `=`; such a record would not parse back.
    InvalidToken { field: &'static str },
}

impl From<fmt::Error> for WriteError {
    fn from(_: fmt::Error) -> Self {
        WriteError::Fmt
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Fmt => f.write_str("the output sink failed"),
            WriteError::InvalidToken { field } => write!(
                f,
                "field `{field}` must be non-empty and hold no whitespace or control characters"
            ),
        }
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn check_token(s: &str, field: &'static str) -> Result<(), WriteError> {
    if is_token(s) {
        Ok(())
    } else {
        Err(WriteError::InvalidToken { field })
    }
}

impl Record<'_> {
    /// Writes the record as one line, newline included.
    ///
    /// An `Error` reason is written with every control character (a newline, say) replaced by
    /// a space and surrounding whitespace dropped, so that any panic message fits on one line;
    /// an empty reason is written as `unknown`. Other string fields must be tokens
    /// (see [`WriteError::InvalidToken`]).
    pub fn write_to<W: fmt::Write>(&self, w: &mut W) -> Result<(), WriteError> {
        match *self {
            Record::Hello { version, board } => {
                check_token(board, "board")?;
                write!(w, "@mcubench {version} board={board}")?;
            }
            Record::Meta { key, value } => {
                check_token(key, "key")?;
                if key.contains('=') {
                    return Err(WriteError::InvalidToken { field: "key" });
                }
                check_token(value, "value")?;
                write!(w, "@meta {key}={value}")?;
            }
            Record::Run { index, cycles } => write!(w, "@run index={index} cycles={cycles}")?,
            Record::Op {
                index,
                code,
                cycles,
            } => write!(w, "@op index={index} code={code} cycles={cycles}")?,
            Record::Output { len, digest } => write!(w, "@output len={len} fnv1a={digest:#010x}")?,
            Record::Data { offset, hex } => {
                if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(is_lower_hex)
                {
                    return Err(WriteError::InvalidToken { field: "hex" });
                }
                write!(w, "@data offset={offset} hex={hex}")?;
            }
            Record::Stack {
                used_bytes,
                size_bytes,
            } => write!(w, "@stack used={used_bytes} size={size_bytes}")?,
            Record::Arena {
                used_bytes,
                size_bytes,
            } => write!(w, "@arena used={used_bytes} size={size_bytes}")?,
            Record::Sample { index, len, digest } => {
                write!(w, "@sample index={index} len={len} fnv1a={digest:#010x}")?
            }
            Record::Infer { index } => write!(w, "@infer index={index}")?,
            Record::End => w.write_str("@end")?,
            Record::Done => w.write_str("@done")?,
            Record::Error { reason } => {
                w.write_str("@error ")?;
                // Trim what would be blank once control characters become spaces.
                let blank = |c: char| c.is_control() || c.is_whitespace();
                let reason = reason.trim_matches(blank);
                if reason.is_empty() {
                    w.write_str("unknown")?;
                }
                for c in reason.chars() {
                    w.write_char(if c.is_control() { ' ' } else { c })?;
                }
            }
        }
        w.write_char('\n')?;
        Ok(())
    }
}

/// What is wrong with a malformed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The line is not valid UTF-8.
    NotUtf8,
    /// `@` followed by a tag this host does not know.
    UnknownTag,
    /// The banner names a protocol version this host does not speak.
    UnsupportedVersion,
    /// A required field is missing.
    MissingField(&'static str),
    /// A field appears twice or is not one of the record's fields.
    UnexpectedField,
    /// A field's value is not a number of the expected kind.
    BadNumber(&'static str),
    /// A field is not `key=value`.
    NotKeyValue,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NotUtf8 => f.write_str("the line is not valid UTF-8"),
            ParseErrorKind::UnknownTag => f.write_str("unknown record tag"),
            ParseErrorKind::UnsupportedVersion => {
                write!(
                    f,
                    "unsupported protocol version (this host speaks {MIN_VERSION} to {VERSION})"
                )
            }
            ParseErrorKind::MissingField(name) => write!(f, "missing field `{name}`"),
            ParseErrorKind::UnexpectedField => f.write_str("unexpected or repeated field"),
            ParseErrorKind::BadNumber(name) => write!(f, "field `{name}` is not a valid number"),
            ParseErrorKind::NotKeyValue => f.write_str("expected `key=value`"),
        }
    }
}

/// A line that starts like a record but does not parse. Its `Display` quotes the raw line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError<'a> {
    pub kind: ParseErrorKind,
    /// The raw line, as received.
    pub line: &'a [u8],
}

impl fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed record ({}): \"", self.kind)?;
        for chunk in self.line.utf8_chunks() {
            write!(f, "{}", chunk.valid().escape_debug())?;
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// Parses one line (with or without its trailing `\n` / `\r\n`).
///
/// Returns `Ok(None)` for a line that is not a record (it does not start with `@`), so that
/// boot banners and noise are skipped; `Err` quotes the line when it starts with `@` but is not
/// a well-formed record.
pub fn parse_line(line: &[u8]) -> Result<Option<Record<'_>>, ParseError<'_>> {
    let raw = line;
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.first() != Some(&b'@') {
        return Ok(None);
    }
    let err = |kind| ParseError { kind, line: raw };
    let text = core::str::from_utf8(line).map_err(|_| err(ParseErrorKind::NotUtf8))?;
    let text = &text[1..];
    let (tag, rest) = match text.find(' ') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, ""),
    };
    let record = match tag {
        "mcubench" => {
            let mut words = rest.split_ascii_whitespace();
            let version: u32 = words
                .next()
                .ok_or(err(ParseErrorKind::MissingField("version")))?
                .parse()
                .map_err(|_| err(ParseErrorKind::BadNumber("version")))?;
            if !(MIN_VERSION..=VERSION).contains(&version) {
                return Err(err(ParseErrorKind::UnsupportedVersion));
            }
            let [board] = fields(words, ["board"]).map_err(err)?;
            Record::Hello { version, board }
        }
        "meta" => {
            let mut words = rest.split_ascii_whitespace();
            let kv = words.next().ok_or(err(ParseErrorKind::NotKeyValue))?;
            if words.next().is_some() {
                return Err(err(ParseErrorKind::UnexpectedField));
            }
            let (key, value) = kv.split_once('=').ok_or(err(ParseErrorKind::NotKeyValue))?;
            if key.is_empty() || value.is_empty() {
                return Err(err(ParseErrorKind::NotKeyValue));
            }
            Record::Meta { key, value }
        }
        "run" => {
            let [index, cycles] =
                fields(rest.split_ascii_whitespace(), ["index", "cycles"]).map_err(err)?;
            Record::Run {
                index: number(index, "index").map_err(err)?,
                cycles: number(cycles, "cycles").map_err(err)?,
            }
        }
        "op" => {
            let [index, code, cycles] =
                fields(rest.split_ascii_whitespace(), ["index", "code", "cycles"]).map_err(err)?;
            Record::Op {
                index: number(index, "index").map_err(err)?,
                code: number(code, "code").map_err(err)?,
                cycles: number(cycles, "cycles").map_err(err)?,
            }
        }
        "output" => {
            let [len, digest] =
                fields(rest.split_ascii_whitespace(), ["len", "fnv1a"]).map_err(err)?;
            Record::Output {
                len: number(len, "len").map_err(err)?,
                digest: fnv_field(digest).map_err(err)?,
            }
        }
        "sample" => {
            let [index, len, digest] =
                fields(rest.split_ascii_whitespace(), ["index", "len", "fnv1a"]).map_err(err)?;
            Record::Sample {
                index: number(index, "index").map_err(err)?,
                len: number(len, "len").map_err(err)?,
                digest: fnv_field(digest).map_err(err)?,
            }
        }
        "infer" => {
            let [index] = fields(rest.split_ascii_whitespace(), ["index"]).map_err(err)?;
            Record::Infer {
                index: number(index, "index").map_err(err)?,
            }
        }
        "data" => {
            let [offset, hex] =
                fields(rest.split_ascii_whitespace(), ["offset", "hex"]).map_err(err)?;
            if !hex.len().is_multiple_of(2) || !hex.bytes().all(is_lower_hex) {
                return Err(err(ParseErrorKind::BadNumber("hex")));
            }
            Record::Data {
                offset: number(offset, "offset").map_err(err)?,
                hex,
            }
        }
        "stack" | "arena" => {
            let [used, size] =
                fields(rest.split_ascii_whitespace(), ["used", "size"]).map_err(err)?;
            let used_bytes = number(used, "used").map_err(err)?;
            let size_bytes = number(size, "size").map_err(err)?;
            if tag == "stack" {
                Record::Stack {
                    used_bytes,
                    size_bytes,
                }
            } else {
                Record::Arena {
                    used_bytes,
                    size_bytes,
                }
            }
        }
        "done" | "end" => {
            if !rest.trim().is_empty() {
                return Err(err(ParseErrorKind::UnexpectedField));
            }
            if tag == "done" {
                Record::Done
            } else {
                Record::End
            }
        }
        "error" => {
            let reason = rest.trim();
            if reason.is_empty() {
                return Err(err(ParseErrorKind::MissingField("reason")));
            }
            Record::Error { reason }
        }
        _ => return Err(err(ParseErrorKind::UnknownTag)),
    };
    Ok(Some(record))
}

/// A `0x`-prefixed FNV-1a digest.
fn fnv_field(text: &str) -> Result<u32, ParseErrorKind> {
    let hex = text
        .strip_prefix("0x")
        .ok_or(ParseErrorKind::BadNumber("fnv1a"))?;
    u32::from_str_radix(hex, 16).map_err(|_| ParseErrorKind::BadNumber("fnv1a"))
}

/// Collects exactly the named `key=value` fields, in any order, each once.
fn fields<'a, const N: usize>(
    words: impl Iterator<Item = &'a str>,
    names: [&'static str; N],
) -> Result<[&'a str; N], ParseErrorKind> {
    let mut values: [Option<&'a str>; N] = [None; N];
    for word in words {
        let (key, value) = word.split_once('=').ok_or(ParseErrorKind::NotKeyValue)?;
        let slot = names
            .iter()
            .position(|n| *n == key)
            .ok_or(ParseErrorKind::UnexpectedField)?;
        if values[slot].is_some() || value.is_empty() {
            return Err(ParseErrorKind::UnexpectedField);
        }
        values[slot] = Some(value);
    }
    let mut out = [""; N];
    for (i, v) in values.iter().enumerate() {
        out[i] = v.ok_or(ParseErrorKind::MissingField(names[i]))?;
    }
    Ok(out)
}

fn number<T: core::str::FromStr>(s: &str, name: &'static str) -> Result<T, ParseErrorKind> {
    // `FromStr` for integers accepts a leading `+`; the writer never emits one.
    if s.starts_with('+') {
        return Err(ParseErrorKind::BadNumber(name));
    }
    s.parse().map_err(|_| ParseErrorKind::BadNumber(name))
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// Writes `bytes` as `@data` records of at most 32 bytes each, starting at `offset`, without
/// allocating (the firmware's way to send its output for the host's golden check).
pub fn write_data<W: fmt::Write>(w: &mut W, offset: u32, bytes: &[u8]) -> Result<(), WriteError> {
    const CHUNK: usize = 32;
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        write!(w, "@data offset={} hex=", offset as usize + i * CHUNK)?;
        for b in chunk {
            write!(w, "{b:02x}")?;
        }
        w.write_char('\n')?;
    }
    Ok(())
}

/// Decodes the lowercase hex of a `@data` record into `out`; returns the number of bytes, or
/// `None` if `out` is too small or the text is not hex.
pub fn decode_hex(hex: &str, out: &mut [u8]) -> Option<usize> {
    let n = hex.len() / 2;
    if !hex.len().is_multiple_of(2) || out.len() < n {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(n)
}

/// FNV-1a, 32 bit: the digest of `@output`, computed the same way on the board and the host.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut hash = Fnv1a::default();
    hash.update(bytes);
    hash.finish()
}

/// Incremental FNV-1a, for outputs that are digested piece by piece.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u32);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0x811c_9dc5)
    }
}

impl Fnv1a {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u32;
            self.0 = self.0.wrapping_mul(0x0100_0193);
        }
    }

    pub fn finish(self) -> u32 {
        self.0
    }
}
