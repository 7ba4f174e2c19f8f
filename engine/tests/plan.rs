//! The arena plan and the per-model figures reports use, on the repository's MLPerf Tiny models
//! (workloads/mlperf-*: the reference networks, trained by scripts/).

mod common;

use common::AlignedModel;
use engine::ops::Place;
use engine::{summary, Interpreter, Model};

const MODELS: [&str; 16] = [
    "kws_int8", "kws_drq", "kws_fp32", "kws_qat", "vww_int8", "vww_drq", "vww_fp32", "vww_qat",
    "ic_int8", "ic_drq", "ic_fp32", "ic_qat", "ad_int8", "ad_drq", "ad_fp32", "ad_qat",
];

#[test]
fn live_tensors_never_share_arena_bytes() {
    for stem in MODELS {
        let m = AlignedModel::load(stem);
        let model = Model::parse(stem, m.bytes()).unwrap();
        let layout = Interpreter::arena_bytes(&model).unwrap();
        let mut words = common::arena(layout.total_bytes());
        let interp = Interpreter::new(&model, bytemuck::cast_slice_mut(&mut words)).unwrap();
        let mut live = Vec::new();
        for s in interp.slots() {
            if let Place::Arena { start, len } = s.place {
                assert!(
                    start as usize + len as usize <= layout.planned_bytes,
                    "{stem}: tensor past the plan"
                );
                assert_eq!(start % 16, 0, "{stem}: tensor not 16-byte aligned");
                live.push((s.first_op, s.last_op, start, start + len));
            }
        }
        for (i, a) in live.iter().enumerate() {
            for b in &live[i + 1..] {
                let overlap_in_time = a.0 <= b.1 && b.0 <= a.1;
                let overlap_in_space = a.2 < b.3 && b.2 < a.3;
                assert!(
                    !(overlap_in_time && overlap_in_space),
                    "{stem}: {a:?} and {b:?} overlap"
                );
            }
        }
        // The plan reuses memory: well under the sum of all activations.
        let sum: u32 = live.iter().map(|t| t.3 - t.2).sum();
        assert!(
            layout.planned_bytes < sum as usize,
            "{stem}: no reuse ({} vs {sum})",
            layout.planned_bytes
        );
        eprintln!(
            "{stem}: arena {} bytes (persistent {}, planned {}; activations sum {sum})",
            layout.total_bytes(),
            layout.persistent_bytes(),
            layout.planned_bytes
        );
    }
}

#[test]
fn macs_and_weights_match_the_published_figures() {
    // The MAC counts of the official int8 files (MLPerf Tiny); the repository's models are the same
    // networks, and every variant of one network has the same MACs.
    for (task, macs) in [
        ("kws", 2_656_768),
        ("vww", 7_489_664),
        ("ic", 12_501_632),
        ("ad", 264_192),
    ] {
        for kind in ["fp32", "drq", "int8", "qat"] {
            let stem = format!("{task}_{kind}");
            let m = AlignedModel::load(&stem);
            let model = Model::parse(&stem, m.bytes()).unwrap();
            let s = summary(&model).unwrap();
            assert_eq!(s.macs, macs, "{stem}");
            eprintln!(
                "{stem}: {} operators, {} MACs, {} weight bytes",
                s.operators, s.macs, s.weight_bytes
            );
        }
    }
    // DS-CNN by hand: conv 64x10x4 + 4 x (dw 3x3x64 + pw 64x64) + fc 12x64 int8 weights, int32
    // biases (9 x 64 + 12), and the reshape's 2 int32 shape values.
    let m = AlignedModel::load("kws_int8");
    let s = summary(&Model::parse("kws_int8", m.bytes()).unwrap()).unwrap();
    assert_eq!(
        s.weight_bytes,
        64 * 10 * 4 + 4 * (9 * 64 + 64 * 64) + 12 * 64 + 4 * (9 * 64 + 12) + 8
    );
}

#[test]
#[ignore = "needs the official MLPerf Tiny files in ../shared/models/mlperf-tiny (.ci/run runs it with --ignored)"]
fn the_official_files_have_the_published_macs() {
    for (stem, macs) in [
        ("kws_int8", 2_656_768),
        ("kws_drq", 2_656_768),
        ("vww_int8", 7_489_664),
        ("vww_fp32", 7_489_664),
        ("ic_int8", 12_501_632),
        ("ic_fp32", 12_501_632),
        ("ad_int8", 264_192),
        ("ad_drq", 264_192),
        ("ad_fp32", 264_192),
    ] {
        let m = AlignedModel::load_official(stem);
        let s = summary(&Model::parse(stem, m.bytes()).unwrap()).unwrap();
        assert_eq!(s.macs, macs, "{stem}");
    }
}

#[test]
fn op_list_of_kws() {
    let m = AlignedModel::load("kws_int8");
    let model = Model::parse("kws_int8", m.bytes()).unwrap();
    let names: Vec<_> = (0..model.operator_count())
        .map(|i| engine::summary::op_summary(&model, i).unwrap().name)
        .collect();
    assert_eq!(
        names,
        [
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "CONV_2D",
            "AVERAGE_POOL_2D",
            "RESHAPE",
            "FULLY_CONNECTED",
            "SOFTMAX"
        ]
    );
}
