//! The engine inside the firmware, on the virtual boards: the outputs are the golden outputs
//! (int8 bit-exact with TensorFlow Lite Micro), the same as the engine gives on the host.

use std::path::Path;

use mcubench::deploy::emulator::{End, Limits, VirtualBoard};
use mcubench::firmware;
use mcubench::project::Project;
use protocol::partition::Header;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn npy_bytes(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let header_len = bytes.len() - npy.into_vec::<i8>().map(|v| v.len()).unwrap_or(0);
    bytes[header_len..].to_vec()
}

fn partition(model: &[u8], input: &[u8], expected: &[u8], size: usize) -> Vec<u8> {
    let mut h = Header::layout(model.len(), input.len(), expected.len(), size).unwrap();
    h.warmup_runs = 0;
    h.timed_runs = 1;
    let mut out = vec![0u8; h.total_bytes as usize];
    h.write(&mut out, model, input, expected).unwrap();
    out
}

#[test]
fn kws_int8_is_bit_exact_on_every_virtual_board() {
    let project = Project::discover(Some(&root())).unwrap();
    let targets = project.targets().unwrap();
    let model = std::fs::read(root().join("../shared/models/mlperf-tiny/kws_int8.tflite")).unwrap();
    let golden = root().join("engine/tests/golden/kws_int8");
    let input = npy_bytes(&golden.join("in_0.npy"));
    let expected = npy_bytes(&golden.join("out_0.npy"));
    for board in &targets.boards {
        let fw = firmware::build(&project, board).unwrap();
        let elf = std::fs::read(&fw.elf).unwrap();
        let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
        let size = board.model_partition().unwrap().size as usize;
        vb.write_partition(board, &partition(&model, &input, &expected, size))
            .unwrap();
        let run = vb.run(Limits::default(), |_| {});
        let log = String::from_utf8_lossy(&run.stream.log).into_owned();
        assert_eq!(run.end, End::Done, "{}: {log}", board.name);
        let m = &run.stream.measurements;
        assert_eq!(m.meta("workload"), Some("model"));
        assert_eq!(
            m.checked_output(),
            Ok(&expected[..]),
            "{}: {log}",
            board.name
        );
        let (arena_used, _) = m.arena.unwrap();
        assert!(arena_used > 10_000, "{}: arena {arena_used}", board.name);
        eprintln!(
            "{}: {} cycles, {} instructions",
            board.name, m.cycles[0], run.instructions
        );
    }
}
