//! Round trip and malformed-record tests for the report protocol.

use proptest::prelude::*;
use protocol::{fnv1a32, parse_line, ParseErrorKind, Record, WriteError, VERSION};

fn written(record: &Record) -> Result<String, WriteError> {
    let mut line = String::new();
    record.write_to(&mut line)?;
    Ok(line)
}

/// Tokens as the firmware writes them: no whitespace, no control characters.
fn token() -> impl Strategy<Value = String> {
    "[!-~\u{a0}-\u{2ff}]{1,24}".prop_filter("a token", |s| {
        !s.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

/// Error reasons: printable text with inner spaces, trimmed, non-empty.
fn reason() -> impl Strategy<Value = String> {
    "[ -~]{1,60}".prop_filter_map("non-empty after trim", |s| {
        let t = s.trim().to_string();
        (!t.is_empty()).then_some(t)
    })
}

#[derive(Debug, Clone)]
enum Owned {
    Hello(String),
    Meta(String, String),
    Run(u32, u64),
    Op(u32, u32, u64),
    Output(u32, u32),
    Data(u32, String),
    Stack(u32, u32),
    Arena(u32, u32),
    Sample(u32, u32, u32),
    Infer(u32),
    End,
    Done,
    Error(String),
}

impl Owned {
    fn record(&self) -> Record<'_> {
        match self {
            Owned::Hello(board) => Record::Hello {
                version: VERSION,
                board,
            },
            Owned::Meta(key, value) => Record::Meta { key, value },
            Owned::Run(index, cycles) => Record::Run {
                index: *index,
                cycles: *cycles,
            },
            Owned::Op(index, code, cycles) => Record::Op {
                index: *index,
                code: *code,
                cycles: *cycles,
            },
            Owned::Output(len, digest) => Record::Output {
                len: *len,
                digest: *digest,
            },
            Owned::Data(offset, hex) => Record::Data {
                offset: *offset,
                hex,
            },
            Owned::Stack(used_bytes, size_bytes) => Record::Stack {
                used_bytes: *used_bytes,
                size_bytes: *size_bytes,
            },
            Owned::Arena(used_bytes, size_bytes) => Record::Arena {
                used_bytes: *used_bytes,
                size_bytes: *size_bytes,
            },
            Owned::Sample(index, len, digest) => Record::Sample {
                index: *index,
                len: *len,
                digest: *digest,
            },
            Owned::Infer(index) => Record::Infer { index: *index },
            Owned::End => Record::End,
            Owned::Done => Record::Done,
            Owned::Error(reason) => Record::Error { reason },
        }
    }
}

fn any_record() -> impl Strategy<Value = Owned> {
    prop_oneof![
        token().prop_map(Owned::Hello),
        (
            token().prop_filter("no = in keys", |k| !k.contains('=')),
            token()
        )
            .prop_map(|(k, v)| Owned::Meta(k, v)),
        (any::<u32>(), any::<u64>()).prop_map(|(i, c)| Owned::Run(i, c)),
        (any::<u32>(), any::<u32>(), any::<u64>()).prop_map(|(i, k, c)| Owned::Op(i, k, c)),
        (any::<u32>(), any::<u32>()).prop_map(|(l, d)| Owned::Output(l, d)),
        (any::<u32>(), proptest::collection::vec(any::<u8>(), 1..40))
            .prop_map(|(o, b)| Owned::Data(o, b.iter().map(|x| format!("{x:02x}")).collect())),
        (any::<u32>(), any::<u32>()).prop_map(|(u, s)| Owned::Stack(u, s)),
        (any::<u32>(), any::<u32>()).prop_map(|(u, s)| Owned::Arena(u, s)),
        (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(i, l, d)| Owned::Sample(i, l, d)),
        any::<u32>().prop_map(Owned::Infer),
        Just(Owned::End),
        Just(Owned::Done),
        reason().prop_map(Owned::Error),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_written_record_parses_back(owned in any_record()) {
        let record = owned.record();
        let line = written(&record).expect("generated records are writable");
        prop_assert!(line.ends_with('\n'));
        prop_assert_eq!(line.matches('\n').count(), 1);
        prop_assert_eq!(parse_line(line.as_bytes()), Ok(Some(record)));
        // CRLF line endings (a UART terminal) parse the same.
        let crlf = format!("{}\r\n", line.trim_end_matches('\n'));
        prop_assert_eq!(parse_line(crlf.as_bytes()), Ok(Some(record)));
    }

    #[test]
    fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = parse_line(&bytes);
        let mut with_at = vec![b'@'];
        with_at.extend_from_slice(&bytes);
        let _ = parse_line(&with_at);
    }

    #[test]
    fn any_error_reason_is_written_on_one_line_and_parses(text in ".{0,80}") {
        let line = written(&Record::Error { reason: &text }).unwrap();
        prop_assert_eq!(line.matches('\n').count(), 1);
        let parsed = parse_line(line.as_bytes());
        prop_assert!(matches!(parsed, Ok(Some(Record::Error { .. }))), "{:?}", parsed);
    }
}

#[test]
fn lines_that_are_not_records_are_skipped() {
    for line in [
        "",
        "\n",
        "Booting...\n",
        "rp2040 boot2 ok",
        " @done",
        "mcubench 1 board=pico",
    ] {
        assert_eq!(parse_line(line.as_bytes()), Ok(None), "{line:?}");
    }
}

#[test]
fn the_documented_example_parses() {
    let lines = [
        (
            "@mcubench 1 board=pico",
            Record::Hello {
                version: 1,
                board: "pico",
            },
        ),
        (
            "@meta fw=0.1.0",
            Record::Meta {
                key: "fw",
                value: "0.1.0",
            },
        ),
        (
            "@meta flags=a=b",
            Record::Meta {
                key: "flags",
                value: "a=b",
            },
        ),
        (
            "@run index=0 cycles=123456",
            Record::Run {
                index: 0,
                cycles: 123456,
            },
        ),
        (
            "@run cycles=7 index=1",
            Record::Run {
                index: 1,
                cycles: 7,
            },
        ),
        (
            "@mcubench 2 board=pico",
            Record::Hello {
                version: 2,
                board: "pico",
            },
        ),
        (
            "@op index=0 code=3 cycles=81234",
            Record::Op {
                index: 0,
                code: 3,
                cycles: 81234,
            },
        ),
        (
            "@op cycles=5 code=9 index=12",
            Record::Op {
                index: 12,
                code: 9,
                cycles: 5,
            },
        ),
        (
            "@output len=10 fnv1a=0x811c9dc5",
            Record::Output {
                len: 10,
                digest: 0x811c9dc5,
            },
        ),
        (
            "@stack used=2048 size=32768",
            Record::Stack {
                used_bytes: 2048,
                size_bytes: 32768,
            },
        ),
        (
            "@arena used=51200 size=65536",
            Record::Arena {
                used_bytes: 51200,
                size_bytes: 65536,
            },
        ),
        ("@done", Record::Done),
        ("@end", Record::End),
        ("@infer index=7", Record::Infer { index: 7 }),
        (
            "@sample index=7 len=10 fnv1a=0x811c9dc5",
            Record::Sample {
                index: 7,
                len: 10,
                digest: 0x811c_9dc5,
            },
        ),
        (
            "@error model partition is empty",
            Record::Error {
                reason: "model partition is empty",
            },
        ),
    ];
    for (line, record) in lines {
        assert_eq!(parse_line(line.as_bytes()), Ok(Some(record)), "{line}");
    }
}

fn malformed(line: &[u8]) -> (ParseErrorKind, String) {
    let err = parse_line(line).expect_err("must be rejected");
    (err.kind, err.to_string())
}

#[test]
fn malformed_records_are_rejected_with_the_raw_line() {
    let cases: &[(&[u8], ParseErrorKind)] = &[
        (b"@bogus 1", ParseErrorKind::UnknownTag),
        (
            b"@mcubench 3 board=pico",
            ParseErrorKind::UnsupportedVersion,
        ),
        (
            b"@mcubench 0 board=pico",
            ParseErrorKind::UnsupportedVersion,
        ),
        (
            b"@op index=0 cycles=5",
            ParseErrorKind::MissingField("code"),
        ),
        (
            b"@op index=0 code=3",
            ParseErrorKind::MissingField("cycles"),
        ),
        (
            b"@op index=0 code=-3 cycles=5",
            ParseErrorKind::BadNumber("code"),
        ),
        (
            b"@op index=0 code=3 cycles=5 cycles=6",
            ParseErrorKind::UnexpectedField,
        ),
        (
            b"@op index=0x1 code=3 cycles=5",
            ParseErrorKind::BadNumber("index"),
        ),
        (
            b"@mcubench board=pico",
            ParseErrorKind::BadNumber("version"),
        ),
        (b"@mcubench 1", ParseErrorKind::MissingField("board")),
        (b"@mcubench", ParseErrorKind::MissingField("version")),
        (b"@run index=0", ParseErrorKind::MissingField("cycles")),
        (
            b"@run index=0 cycles=12x",
            ParseErrorKind::BadNumber("cycles"),
        ),
        (
            b"@run index=-1 cycles=12",
            ParseErrorKind::BadNumber("index"),
        ),
        (
            b"@run index=+1 cycles=12",
            ParseErrorKind::BadNumber("index"),
        ),
        (
            b"@run index=0 cycles=1 cycles=2",
            ParseErrorKind::UnexpectedField,
        ),
        (
            b"@run index=0 cycles=1 extra=2",
            ParseErrorKind::UnexpectedField,
        ),
        (b"@run index=0 cycles", ParseErrorKind::NotKeyValue),
        (
            b"@run index=0 cycles=18446744073709551616",
            ParseErrorKind::BadNumber("cycles"),
        ),
        (
            b"@output len=4 fnv1a=811c9dc5",
            ParseErrorKind::BadNumber("fnv1a"),
        ),
        (
            b"@output len=4 fnv1a=0x1ffffffff",
            ParseErrorKind::BadNumber("fnv1a"),
        ),
        (b"@stack used=1", ParseErrorKind::MissingField("size")),
        (b"@arena used=1 size=", ParseErrorKind::UnexpectedField),
        (b"@meta novalue", ParseErrorKind::NotKeyValue),
        (b"@meta a=1 b=2", ParseErrorKind::UnexpectedField),
        (b"@done now", ParseErrorKind::UnexpectedField),
        (b"@error", ParseErrorKind::MissingField("reason")),
        (b"@error   \r\n", ParseErrorKind::MissingField("reason")),
        (b"@run index=\xff cycles=1", ParseErrorKind::NotUtf8),
    ];
    for (line, kind) in cases {
        let (got, message) = malformed(line);
        assert_eq!(got, *kind, "{}", String::from_utf8_lossy(line));
        assert!(message.starts_with("malformed record ("), "{message}");
    }
    // The message quotes the raw line, escaping what a terminal would mangle.
    assert_eq!(
        malformed(b"@run index=0 cycles=1 cycles=2\n").1,
        "malformed record (unexpected or repeated field): \"@run index=0 cycles=1 cycles=2\\n\""
    );
    assert_eq!(
        malformed(b"@run index=\xff cycles=1").1,
        "malformed record (the line is not valid UTF-8): \"@run index=\\xff cycles=1\""
    );
}

#[test]
fn the_writer_refuses_tokens_that_would_not_parse_back() {
    let bad = [
        Record::Hello {
            version: 1,
            board: "",
        },
        Record::Hello {
            version: 1,
            board: "my board",
        },
        Record::Meta {
            key: "a=b",
            value: "c",
        },
        Record::Meta {
            key: "k",
            value: "two words",
        },
        Record::Meta {
            key: "k",
            value: "tab\there",
        },
    ];
    for record in bad {
        assert!(
            matches!(written(&record), Err(WriteError::InvalidToken { .. })),
            "{record:?}"
        );
    }
}

#[test]
fn error_reasons_are_flattened_to_one_line() {
    let line = written(&Record::Error {
        reason: "panicked at src/main.rs:10:5:\nindex out of bounds\n",
    })
    .unwrap();
    assert_eq!(
        line,
        "@error panicked at src/main.rs:10:5: index out of bounds\n"
    );
    assert_eq!(
        written(&Record::Error { reason: " \n" }).unwrap(),
        "@error unknown\n"
    );
}

#[test]
fn data_records_carry_bytes_in_chunks() {
    let bytes: Vec<u8> = (0..=255u8).chain(0..10).collect();
    let mut text = String::new();
    protocol::write_data(&mut text, 0, &bytes).unwrap();
    assert_eq!(text.lines().count(), 9);
    let mut out = vec![0u8; bytes.len()];
    for line in text.lines() {
        let Ok(Some(Record::Data { offset, hex })) = parse_line(line.as_bytes()) else {
            panic!("{line}")
        };
        let n = protocol::decode_hex(hex, &mut out[offset as usize..]).unwrap();
        assert!(n <= 32);
    }
    assert_eq!(out, bytes);
    assert_eq!(protocol::decode_hex("0g", &mut [0]), None);
    assert_eq!(protocol::decode_hex("abc", &mut [0, 0]), None);
    assert_eq!(protocol::decode_hex("abcd", &mut [0]), None);
    for bad in [
        "@data offset=0 hex=ABCD",
        "@data offset=0 hex=abc",
        "@data offset=0",
    ] {
        assert!(parse_line(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn fnv1a_matches_the_published_test_vectors() {
    // Test vectors from the FNV reference (draft-eastlake-fnv, appendix C).
    assert_eq!(fnv1a32(b""), 0x811c9dc5);
    assert_eq!(fnv1a32(b"a"), 0xe40c292c);
    assert_eq!(fnv1a32(b"foobar"), 0xbf9cf968);
    let mut hash = protocol::Fnv1a::default();
    hash.update(b"foo");
    hash.update(b"bar");
    assert_eq!(hash.finish(), 0xbf9cf968);
}
