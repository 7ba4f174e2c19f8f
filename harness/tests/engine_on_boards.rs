//! The engine inside the firmware, on the virtual boards: every MLPerf Tiny model gives its
//! golden output (int8 bit-exact with TensorFlow Lite Micro; float and hybrid within
//! `golden::FLOAT_TOLERANCE`) on a Cortex-M4F board (with the DSP kernels) and on the Cortex-M0+.

use std::path::Path;

use engine::TensorType;
use mcubench::deploy::emulator::{End, Limits, VirtualBoard};
use mcubench::firmware;
use mcubench::golden::check_output;
use mcubench::npy::Array;
use mcubench::project::Project;
use protocol::partition::Header;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn partition(model: &[u8], input: &[u8], expected: &[u8], size: usize) -> Vec<u8> {
    let mut h = Header::layout(model.len(), input.len(), expected.len(), size).unwrap();
    h.warmup_runs = 0;
    h.timed_runs = 1;
    let mut out = vec![0u8; h.total_bytes as usize];
    h.write(&mut out, model, input, expected).unwrap();
    out
}

/// (model, boards): float models on the M0+ run soft-float and take long, so they run on the
/// M4F only; vww_fp32 does not fit the pico's RAM anyway.
const CASES: &[(&str, &[&str])] = &[
    (
        "kws_int8",
        &["nucleo-l4r5zi", "nrf52840-dk", "sparkfun-artemis", "pico"],
    ),
    ("kws_drq", &["nucleo-l4r5zi", "pico"]),
    ("vww_int8", &["nucleo-l4r5zi", "pico"]),
    ("vww_fp32", &["nucleo-l4r5zi"]),
    ("ic_int8", &["nucleo-l4r5zi", "pico"]),
    ("ic_fp32", &["nucleo-l4r5zi"]),
    ("ad_int8", &["nucleo-l4r5zi", "pico"]),
    ("ad_drq", &["nucleo-l4r5zi", "pico"]),
    ("ad_fp32", &["nucleo-l4r5zi"]),
];

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny, which a user's clone has not (.ci/run runs it with --ignored); the repository's own mlperf-* workloads run on the boards in end_to_end and the PR check"]
fn the_nine_mlperf_tiny_models_give_their_golden_outputs_on_the_virtual_boards() {
    let project = Project::discover(Some(&root())).unwrap();
    let targets = project.targets().unwrap();
    for (stem, boards) in CASES {
        let model =
            std::fs::read(root().join(format!("../shared/models/mlperf-tiny/{stem}.tflite")))
                .unwrap();
        let golden = root().join("engine/tests/golden").join(stem);
        let input = Array::read(&golden.join("in_0.npy")).unwrap().data;
        let expected = Array::read(&golden.join("out_0.npy")).unwrap();
        let output_type = if stem.ends_with("int8") {
            TensorType::Int8
        } else {
            TensorType::Float32
        };
        for name in *boards {
            let board = targets.board(name).unwrap();
            let fw = firmware::build(&project, board).unwrap();
            let elf = std::fs::read(&fw.elf).unwrap();
            let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
            let size = board.model_partition().unwrap().size as usize;
            vb.write_partition(board, &partition(&model, &input, &expected.data, size))
                .unwrap();
            let run = vb.run(Limits::default(), |_| {});
            let log = String::from_utf8_lossy(&run.stream.log).into_owned();
            assert_eq!(run.end, End::Done, "{stem} on {name}: {log}");
            let m = &run.stream.measurements;
            let out = m
                .checked_output()
                .unwrap_or_else(|e| panic!("{stem} on {name}: {e}"));
            check_output(out, &expected.data, output_type)
                .unwrap_or_else(|e| panic!("{stem} on {name}: {e}"));
            eprintln!(
                "{stem} on {name}: {} cycles (emulated, cycle model 0)",
                m.cycles[0]
            );
        }
    }
}
