//! The model partition: layout, round trip, and every corruption detected.

use proptest::prelude::*;
use protocol::partition::{Header, PartitionError, ALIGN, HEADER_BYTES};

fn build(
    model: &[u8],
    input: &[u8],
    expected: &[u8],
    available: usize,
) -> Result<(Header, Vec<u8>), PartitionError> {
    let mut h = Header::layout(model.len(), input.len(), expected.len(), available)?;
    h.warmup_runs = 2;
    h.timed_runs = 10;
    h.tolerance = 1e-5;
    let mut out = vec![0xffu8; available];
    let h = h.write(&mut out, model, input, expected)?;
    Ok((h, out))
}

proptest! {
    #[test]
    fn written_partitions_parse_back(
        model in proptest::collection::vec(any::<u8>(), 0..300),
        input in proptest::collection::vec(any::<u8>(), 0..100),
        expected in proptest::collection::vec(any::<u8>(), 0..50),
    ) {
        let (h, bytes) = build(&model, &input, &expected, 1024).unwrap();
        let parsed = Header::parse(&bytes).unwrap();
        prop_assert_eq!(parsed, h);
        prop_assert_eq!(parsed.model.slice(&bytes).unwrap(), &model[..]);
        prop_assert_eq!(parsed.input.slice(&bytes).unwrap(), &input[..]);
        prop_assert_eq!(parsed.expected.slice(&bytes).unwrap(), &expected[..]);
        for p in [parsed.model, parsed.input, parsed.expected] {
            prop_assert_eq!(p.offset as usize % ALIGN, 0);
        }
    }

    #[test]
    fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Header::parse(&bytes);
        let mut with_magic = b"MCBP".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = Header::parse(&with_magic);
    }
}

#[test]
fn corruption_is_detected() {
    let (_, bytes) = build(b"model bytes", b"in", b"out", 256).unwrap();
    assert_eq!(Header::parse(&bytes[..10]), Err(PartitionError::TooShort));
    assert_eq!(Header::parse(&[0xff; 256]), Err(PartitionError::BadMagic));
    let mut b = bytes.clone();
    b[20] ^= 1;
    assert_eq!(Header::parse(&b), Err(PartitionError::HeaderCorrupt));
    let mut b = bytes.clone();
    b[HEADER_BYTES + 3] ^= 1;
    assert_eq!(Header::parse(&b), Err(PartitionError::PayloadCorrupt));
    // A region shorter than the recorded total: a part lies outside.
    let total = Header::parse(&bytes).unwrap().total_bytes as usize;
    assert_eq!(
        Header::parse(&bytes[..total - 1]),
        Err(PartitionError::PartOutOfBounds)
    );
    assert_eq!(
        build(&[0; 200], b"", b"", 128).unwrap_err(),
        PartitionError::TooLarge {
            needed: 272,
            available: 128
        }
    );
    assert_eq!(
        PartitionError::TooLarge {
            needed: 272,
            available: 128
        }
        .to_string(),
        "model partition needs 272 bytes but the region has 128"
    );
}

#[test]
fn the_accuracy_and_gate_flags_round_trip_and_unknown_flags_are_refused() {
    use protocol::partition::{FLAG_ACCURACY, FLAG_GATE};
    for (flags, expected) in [
        (FLAG_ACCURACY, Ok(FLAG_ACCURACY)),
        (0, Ok(0)),
        (FLAG_GATE, Ok(FLAG_GATE)),
        (FLAG_ACCURACY | FLAG_GATE, Ok(FLAG_ACCURACY | FLAG_GATE)),
        (4, Err(PartitionError::UnknownFlags(4))),
    ] {
        let mut h = Header::layout(4, 2, 2, 256).unwrap();
        h.flags = flags;
        let mut out = vec![0u8; 256];
        h.write(&mut out, b"mode", b"in", b"ou").unwrap();
        assert_eq!(Header::parse(&out).map(|h| h.flags), expected);
    }
}

#[test]
fn the_gate_pin_round_trips_and_a_gated_window_is_bounded() {
    use protocol::partition::{FLAG_GATE, MAX_GATED_RUNS};
    let mut h = Header::layout(4, 2, 2, 256).unwrap();
    h.flags = FLAG_GATE;
    h.gate_pin = 33;
    h.timed_runs = MAX_GATED_RUNS;
    let mut out = vec![0u8; 256];
    h.write(&mut out, b"mode", b"in", b"ou").unwrap();
    assert_eq!(Header::parse(&out).map(|h| h.gate_pin), Ok(33));
    h.timed_runs = MAX_GATED_RUNS + 1;
    h.write(&mut out, b"mode", b"in", b"ou").unwrap();
    let e = Header::parse(&out).unwrap_err();
    assert_eq!(e, PartitionError::TooManyGatedRuns(MAX_GATED_RUNS + 1));
    assert_eq!(
        e.to_string(),
        "129 timed runs in a gated (energy) window; at most 128"
    );
}
