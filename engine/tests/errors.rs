//! Bad inputs the engine meets, each checked by its message: corrupted and truncated files, an
//! operator without a kernel, an arena too small, wrong input sizes; and random corruption of the
//! real models, which must give Ok or an error, never a panic.

mod common;

use common::{arena, AlignedModel};
use engine::{Error, Interpreter, Model, ReadError};

fn u32_at(b: &[u8], p: usize) -> usize {
    u32::from_le_bytes(b[p..p + 4].try_into().unwrap()) as usize
}
fn u16_at(b: &[u8], p: usize) -> usize {
    u16::from_le_bytes(b[p..p + 2].try_into().unwrap()) as usize
}
/// (table position, vtable position) of the table at `pos` (test-side flatbuffer navigation).
fn vtable(b: &[u8], pos: usize) -> usize {
    (pos as i64 - i32::from_le_bytes(b[pos..pos + 4].try_into().unwrap()) as i64) as usize
}
/// Absolute position of field `id` of the table at `pos`, `None` if absent.
fn try_field(b: &[u8], pos: usize, id: usize) -> Option<usize> {
    let vt = vtable(b, pos);
    let slot = 4 + 2 * id;
    if slot + 2 > u16_at(b, vt) {
        return None;
    }
    let off = u16_at(b, vt + slot);
    (off != 0).then_some(pos + off)
}
fn field(b: &[u8], pos: usize, id: usize) -> usize {
    try_field(b, pos, id).unwrap_or_else(|| panic!("field {id} absent"))
}
/// The table referenced by field `id`, or element `i` of the table vector referenced by it.
fn follow(b: &[u8], p: usize) -> usize {
    p + u32_at(b, p)
}
fn element(b: &[u8], vector: usize, i: usize) -> usize {
    follow(b, vector + 4 + 4 * i)
}

fn root(b: &[u8]) -> usize {
    u32_at(b, 0)
}

fn read_error(bytes: &[u8]) -> (ReadError, String) {
    match Model::parse("broken", bytes) {
        Err(e @ Error::Read { source, .. }) => (source, e.to_string()),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn bad_identifier_is_named() {
    let mut m = AlignedModel::load("kws_int8");
    m.bytes_mut()[4..8].copy_from_slice(b"ELF\x7f");
    let (e, msg) = read_error(m.bytes());
    assert_eq!(e, ReadError::BadIdentifier { found: *b"ELF\x7f" });
    assert_eq!(
        msg,
        "model \"broken\": cannot read the flatbuffer: bad file identifier [69, 76, 70, 127] \
         (expected \"TFL3\"): this is not a TFLite flatbuffer"
    );
}

#[test]
fn too_short_file() {
    let (e, msg) = read_error(&[0x10, 0, 0]);
    assert_eq!(e, ReadError::TooShort { len: 3 });
    assert!(msg.ends_with("the file is 3 bytes, too short for a TFLite model (a flatbuffer starts with an 8-byte header)"), "{msg}");
}

#[test]
fn truncated_file_is_out_of_bounds() {
    let m = AlignedModel::load("kws_int8");
    let (e, msg) = read_error(&m.bytes()[..64]);
    assert!(
        matches!(e, ReadError::OutOfBounds { file_len: 64, .. }),
        "{e:?}"
    );
    assert!(
        msg.contains("is out of bounds of the 64-byte file; the file is truncated or corrupted"),
        "{msg}"
    );
}

#[test]
fn root_offset_past_the_end() {
    let mut m = AlignedModel::load("kws_int8");
    m.bytes_mut()[0..4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let (e, _) = read_error(m.bytes());
    assert!(
        matches!(e, ReadError::OutOfBounds { what: "Model", .. }),
        "{e:?}"
    );
}

#[test]
fn unsupported_schema_version() {
    let mut m = AlignedModel::load("kws_int8");
    let b = m.bytes_mut();
    let p = field(b, root(b), 0);
    b[p..p + 4].copy_from_slice(&2u32.to_le_bytes());
    let (e, msg) = read_error(m.bytes());
    assert_eq!(e, ReadError::UnsupportedVersion { version: 2 });
    assert!(msg.ends_with("unsupported TFLite schema version 2 (this reader reads version 3); re-export the model with a current converter"), "{msg}");
}

#[test]
fn vtable_too_short() {
    let mut m = AlignedModel::load("kws_int8");
    let b = m.bytes_mut();
    let vt = vtable(b, root(b));
    b[vt..vt + 2].copy_from_slice(&2u16.to_le_bytes());
    let (e, msg) = read_error(m.bytes());
    assert_eq!(
        e,
        ReadError::VtableTooShort {
            what: "Model",
            vtable_len: 2
        }
    );
    assert!(msg.ends_with("Model: vtable of 2 bytes is too short or odd (at least 4 bytes, 2 per field); the file is corrupted"), "{msg}");
}

#[test]
fn missing_required_field() {
    let mut m = AlignedModel::load("kws_int8");
    let b = m.bytes_mut();
    // Clear the vtable slot of Model.subgraphs (field 2).
    let vt = vtable(b, root(b));
    b[vt + 8..vt + 10].copy_from_slice(&0u16.to_le_bytes());
    let (e, msg) = read_error(m.bytes());
    assert_eq!(
        e,
        ReadError::MissingField {
            what: "Model.subgraphs"
        }
    );
    assert!(
        msg.ends_with("Model.subgraphs is missing, but the schema requires it"),
        "{msg}"
    );
}

/// Rewrites the builtin code of operator code `index` (both the int8 and the int32 field).
fn set_builtin_code(m: &mut AlignedModel, index: usize, code: u8) {
    let b = m.bytes_mut();
    let codes = follow(b, field(b, root(b), 1));
    let c = element(b, codes, index);
    let p = field(b, c, 0);
    b[p] = code;
    // Older converters (as for the MLPerf files) write only the int8 field.
    if let Some(p) = try_field(b, c, 3) {
        b[p..p + 4].copy_from_slice(&(code as i32).to_le_bytes());
    }
}

#[test]
fn unsupported_operator_names_model_index_and_types() {
    let mut m = AlignedModel::load("kws_int8");
    // Operator code 5 is SOFTMAX (operator 12); make it LSTM (16).
    set_builtin_code(&mut m, 5, 16);
    let model = Model::parse("kws_int8", m.bytes()).unwrap();
    let e = engine::resolve(&model).unwrap_err();
    assert_eq!(
        e.to_string(),
        "model \"kws_int8\": operator 12 (LSTM) is not supported with inputs (int8) and outputs \
         (int8): the engine has no kernel for this operator"
    );
    // The interpreter reports the same before touching the arena.
    let mut words = arena(1 << 16);
    let err = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words))
        .err()
        .unwrap();
    assert_eq!(err, e);
}

#[test]
fn unsupported_type_combination() {
    let m = AlignedModel::load("kws_drq");
    let mut bytes = m.bytes().to_vec();
    // Make the hybrid model's first CONV_2D filter int16 (its type field is stored: int8 is not
    // the schema's default).
    let b = &mut bytes[..];
    let graph = element(b, follow(b, field(b, root(b), 2)), 0);
    let op0 = element(b, follow(b, field(b, graph, 3)), 0);
    let filter = u32_at(b, follow(b, field(b, op0, 1)) + 8);
    let tensor = element(b, follow(b, field(b, graph, 0)), filter);
    let p = field(b, tensor, 1);
    b[p] = 7; // INT16
    let m = AlignedModel::from_bytes(&bytes);
    let model = Model::parse("kws_drq", m.bytes()).unwrap();
    assert_eq!(
        engine::resolve(&model).unwrap_err().to_string(),
        "model \"kws_drq\": operator 0 (CONV_2D) is not supported with inputs (float32, int16, \
         float32) and outputs (float32): CONV_2D runs int8, float32 and hybrid (float32 input, int8 \
         filter)"
    );
}

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn unused_quantize_opcodes_are_not_an_error() {
    // The official ic_int8 lists QUANTIZE and DEQUANTIZE operator codes that no operator uses.
    let m = AlignedModel::load_official("ic_int8");
    let model = Model::parse("ic_int8", m.bytes()).unwrap();
    engine::resolve(&model).unwrap();
}

#[test]
fn arena_too_small_gives_the_size_needed() {
    let m = AlignedModel::load("kws_int8");
    let model = Model::parse("kws_int8", m.bytes()).unwrap();
    let needed = Interpreter::arena_bytes(&model).unwrap().total_bytes();
    let mut words = arena(needed - 16);
    let err = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words))
        .err()
        .unwrap();
    assert_eq!(
        err,
        Error::ArenaTooSmall {
            model: model.name(),
            needed,
            given: needed - 16
        }
    );
    assert_eq!(
        err.to_string(),
        format!("the arena is {} bytes but model \"kws_int8\" needs {needed}; give at least {needed} bytes", needed - 16)
    );
    let mut words = arena(needed);
    Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words)).unwrap();
    // Too small even for the operator and tensor tables: only a lower bound is known.
    let mut words = arena(64);
    let err = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words))
        .err()
        .unwrap();
    let persistent = engine::resolve(&model).unwrap().persistent_bytes();
    assert_eq!(
        err.to_string(),
        format!(
            "the arena is 64 bytes but model \"kws_int8\" needs more than {persistent} (its tables \
             alone); Interpreter::arena_bytes on the host gives the exact size"
        )
    );
}

#[test]
fn wrong_input_length_and_type() {
    let m = AlignedModel::load("kws_int8");
    let model = Model::parse("kws_int8", m.bytes()).unwrap();
    let mut words = arena(Interpreter::arena_bytes(&model).unwrap().total_bytes());
    let mut interp = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words)).unwrap();
    assert_eq!(
        interp.set_input_i8(0, &[0; 10]).unwrap_err().to_string(),
        "model \"kws_int8\": tensor 0 holds 490 elements, but 10 were given"
    );
    assert_eq!(
        interp
            .set_input_f32(0, &[0.0; 490])
            .unwrap_err()
            .to_string(),
        "model \"kws_int8\": tensor 0 is int8, not float32"
    );
    assert_eq!(
        interp.input_bytes_mut(1).unwrap_err().to_string(),
        "model \"kws_int8\" has no input/output 1 (it has 1)"
    );
}

/// xorshift64*: a fixed, dependency-free byte stream for the corruption tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Parse, resolve, plan and (when that succeeds) run: any outcome but a panic is fine.
fn exercise(bytes: &[u8], words: &mut [u128]) {
    let Ok(model) = Model::parse("fuzz", bytes) else {
        return;
    };
    let _ = engine::summary(&model);
    if let Ok(mut interp) = Interpreter::new(&model, bytemuck::cast_slice_mut(words)) {
        let _ = interp.invoke();
    }
}

#[test]
fn corrupted_models_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut words = arena(256 * 1024);
    for stem in ["kws_int8", "kws_drq", "ic_int8"] {
        let original = AlignedModel::load(stem);
        let len = original.bytes().len();
        // The flatbuffer's tables and vectors sit mostly in its first and last few KB (weights in
        // between), so corruption is aimed there half of the time.
        for round in 0..200u32 {
            let mut m = AlignedModel::from_bytes(original.bytes());
            let b = m.bytes_mut();
            for _ in 0..1 + rng.next() % 8 {
                let at = if round.is_multiple_of(2) {
                    (rng.next() as usize) % len
                } else {
                    let k = (rng.next() as usize) % 4096.min(len);
                    if rng.next().is_multiple_of(2) {
                        k
                    } else {
                        len - 1 - k
                    }
                };
                b[at] = rng.next() as u8;
            }
            exercise(m.bytes(), &mut words);
        }
        for cut in (0..len).step_by(len / 200 + 1) {
            exercise(&original.bytes()[..cut], &mut words);
        }
    }
}

/// Inputs the fuzzer (engine/fuzz) once crashed on: each must load, plan and run (or be
/// refused) without a panic. conv-bias-overflow: an int8 CONV_2D whose accumulator plus bias
/// overflowed i32 (now wrapping, as the accumulation itself and TFLite Micro's int32 do).
#[test]
fn former_fuzzer_crashes_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let model = AlignedModel::from_bytes(&std::fs::read(&path).unwrap());
        let Ok(parsed) = Model::parse("regression", model.bytes()) else {
            continue;
        };
        let _ = engine::summary(&parsed);
        let mut words = arena(256 * 1024);
        let bytes = bytemuck::cast_slice_mut::<u128, u8>(&mut words);
        if let Ok(mut interpreter) = Interpreter::new(&parsed, bytes) {
            let _ = interpreter.invoke();
        }
    }
}
