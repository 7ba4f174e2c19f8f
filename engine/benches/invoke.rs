//! Host inference time of the repository's MLPerf Tiny models (workloads/mlperf-*, four variants
//! each) and, where `MCUBENCH_MODELS_DIR` names their folder, the nine official files
//! (`cargo bench -p mcubench-engine`): a figure to watch for regressions of the portable path, not a
//! measure of microcontroller speed (that is the virtual boards' job).

use std::time::Instant;

use engine::{Interpreter, Model};

fn main() {
    let workloads = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads");
    let mut models = Vec::new();
    for task in ["kws", "vww", "ic", "ad"] {
        for variant in ["fiq", "qat", "drq", "fp32"] {
            models.push((
                format!("mlperf-{task}/{variant}"),
                workloads.join(format!("mlperf-{task}/{variant}.tflite")),
            ));
        }
    }
    if let Some(dir) = std::env::var_os("MCUBENCH_MODELS_DIR") {
        let dir = std::path::PathBuf::from(dir);
        for stem in [
            "kws_int8", "kws_drq", "vww_int8", "vww_fp32", "ic_int8", "ic_fp32", "ad_int8",
            "ad_drq", "ad_fp32",
        ] {
            models.push((
                format!("official {stem}"),
                dir.join(format!("{stem}.tflite")),
            ));
        }
    }
    println!(
        "{:<20} {:>12} {:>10} {:>12} {:>10}",
        "model", "MACs", "arena B", "us/infer", "MACs/ns"
    );
    for (stem, path) in &models {
        let stem = stem.as_str();
        let Ok(bytes) = std::fs::read(path) else {
            println!("{stem:<20} (not found: {})", path.display());
            continue;
        };
        // 16-byte-aligned copy: float constants are read in place.
        let mut words = vec![0u128; bytes.len().div_ceil(16)];
        bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..bytes.len()].copy_from_slice(&bytes);
        let model_bytes = &bytemuck::cast_slice::<u128, u8>(&words)[..bytes.len()];
        let model = Model::parse(stem, model_bytes).expect("model");
        let macs = engine::summary(&model).expect("summary").macs;
        let layout = Interpreter::arena_bytes(&model).expect("arena size");
        let mut arena = vec![0u128; layout.total_bytes().div_ceil(16)];
        let mut interpreter =
            Interpreter::new(&model, bytemuck::cast_slice_mut(&mut arena)).expect("interpreter");
        interpreter.invoke().expect("warm-up");
        let runs = (200_000_000 / macs.max(1)).clamp(3, 2000);
        let start = Instant::now();
        for _ in 0..runs {
            interpreter.invoke().expect("invoke");
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / runs as f64;
        println!(
            "{stem:<20} {macs:>12} {:>10} {us:>12.1} {:>10.2}",
            layout.total_bytes(),
            macs as f64 / (us * 1e3)
        );
    }
}
