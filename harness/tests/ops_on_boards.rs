//! The engine's single-operator goldens (engine/tests/golden/ops, TFLite Micro's outputs for the
//! shapes the MLPerf models do not reach: SAME/VALID padding, strides, dilation, depth
//! multipliers, zero points at the ends of the int8 range, several batches) inside the firmware
//! on the virtual boards, where the kernels run as they do on silicon: the DSP assembly on the
//! Cortex-M4F, the Thumb-1 loops on the Cortex-M0+. The host's `engine/tests/ops.rs` runs the same
//! cases through the portable paths. Every int8 case with one input must match bit for bit.

use std::path::{Path, PathBuf};

use mcubench::deploy::emulator::{End, Limits, VirtualBoard};
use mcubench::firmware;
use mcubench::npy::{Array, Elem};
use mcubench::project::Project;
use protocol::partition::Header;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A case's name, model, input and golden output.
type Case = (String, Vec<u8>, Vec<u8>, Vec<u8>);

/// The cases with one int8 input and an int8 output, sorted by name.
fn int8_cases() -> Vec<Case> {
    let dir = root().join("engine/tests/golden/ops");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let case = dir.join(&name);
            if case.join("in_1.npy").exists() {
                return None;
            }
            let input = Array::read(&case.join("in_0.npy")).unwrap();
            let output = Array::read(&case.join("out.npy")).unwrap();
            if input.elem != Elem::I8 || output.elem != Elem::I8 {
                return None;
            }
            let model = std::fs::read(case.join("model.tflite")).unwrap();
            Some((name, model, input.data, output.data))
        })
        .collect()
}

#[test]
fn int8_operator_goldens_match_bit_for_bit_on_the_virtual_boards() {
    let project = Project::discover(Some(&root())).unwrap();
    let targets = project.targets().unwrap();
    let cases = int8_cases();
    // The depthwise, convolution and fully-connected cases at least (the assembly's callers).
    for prefix in [
        "conv_int8",
        "dw_int8",
        "fc_int8",
        "avgpool_int8",
        "mean_int8",
    ] {
        assert!(
            cases.iter().any(|(name, ..)| name.starts_with(prefix)),
            "no {prefix} case in engine/tests/golden/ops"
        );
    }
    for board_name in ["nucleo-l4r5zi", "pico"] {
        let board = targets.board(board_name).unwrap();
        let fw = firmware::build(&project, board).unwrap();
        let elf = std::fs::read(&fw.elf).unwrap();
        let size = board.model_partition().unwrap().size as usize;
        for (name, model, input, expected) in &cases {
            let mut h = Header::layout(model.len(), input.len(), expected.len(), size).unwrap();
            h.warmup_runs = 0;
            h.timed_runs = 1;
            let mut part = vec![0u8; h.total_bytes as usize];
            h.write(&mut part, model, input, expected).unwrap();
            let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
            vb.write_partition(board, &part).unwrap();
            let run = vb.run(Limits::default(), |_| {});
            let log = String::from_utf8_lossy(&run.stream.log).into_owned();
            assert_eq!(run.end, End::Done, "{name} on {board_name}: {log}");
            let got = run
                .stream
                .measurements
                .checked_output()
                .unwrap_or_else(|e| panic!("{name} on {board_name}: {e}"));
            assert_eq!(
                got,
                &expected[..],
                "{name} on {board_name}: the output differs from TFLite Micro's"
            );
        }
    }
}
