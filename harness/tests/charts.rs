//! Charts of a run's results: every chart is written as SVG and PNG, the PNGs decode to the
//! SVGs' size, titles say how figures were obtained, regeneration is byte-identical, and
//! results without the data a chart needs give no chart rather than a panic.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mcubench::report::charts::{write_charts, write_charts_with, ChartOptions, Scale};
use mcubench::results::{Energy, JobResult, JobStatus, Latency, Variant};

fn capacities() -> BTreeMap<String, (u64, u64)> {
    BTreeMap::from([
        ("nrf52840-dk".to_owned(), (1024 * 1024, 256 * 1024)),
        ("pico".to_owned(), (2048 * 1024 - 256, 264 * 1024)),
    ])
}

fn names(files: &[PathBuf], dir: &Path) -> Vec<String> {
    files
        .iter()
        .map(|f| f.strip_prefix(dir).unwrap().display().to_string())
        .collect()
}

fn svg(dir: &Path, stem: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap()
}

/// (width, height) from the root element's attributes.
fn svg_size(svg: &str) -> (u32, u32) {
    let root = &svg[svg.find("<svg").expect("an <svg> element")..];
    let root = &root[..root.find('>').unwrap()];
    let attr = |name: &str| -> u32 {
        let at = root.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        root[at..at + root[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    (attr("width"), attr("height"))
}

#[test]
fn every_chart_is_written_for_a_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_charts(dir.path(), &common::matrix(), &capacities()).unwrap();
    let stems = [
        "digits_latency",
        "digits_energy",
        "digits_accuracy_latency",
        "digits_speedup",
        "kws_latency",
        "kws_energy",
        "kws_speedup",
        "memory_nrf52840_dk",
        "memory_pico",
    ];
    let expected: Vec<String> = stems
        .iter()
        .flat_map(|s| [format!("{s}.svg"), format!("{s}.png")])
        .collect();
    // kws has no accuracy, so no accuracy chart for it.
    assert_eq!(names(&files, dir.path()), expected);
    for f in &files {
        assert!(f.is_file(), "{f:?}");
    }
}

#[test]
fn pngs_decode_to_the_size_of_their_svgs() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_charts(dir.path(), &common::matrix(), &capacities()).unwrap();
    for png_path in files.iter().filter(|f| f.extension().unwrap() == "png") {
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(png_path).unwrap(),
        ));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(
            (info.color_type, info.bit_depth),
            (png::ColorType::Rgb, png::BitDepth::Eight)
        );
        let stem = png_path.file_stem().unwrap().to_str().unwrap();
        let (w, h) = svg_size(&svg(dir.path(), stem));
        assert_eq!((info.width, info.height), (w, h), "{stem}");
        assert_eq!(w, 1200, "{stem}");
        assert!((420..=1200).contains(&h), "{stem}: {h}");
        // Not blank: a chart has ink, and the white background.
        let ink = pixels
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 100))
            .count();
        let white = pixels.chunks(3).filter(|p| p == &[255, 255, 255]).count();
        assert!(ink > 1000, "{stem}: {ink} dark pixels");
        assert!(white > pixels.len() / 3 / 2, "{stem}: {white} white pixels");
    }
}

#[test]
fn titles_say_how_figures_were_obtained() {
    let dir = tempfile::tempdir().unwrap();
    write_charts(dir.path(), &common::matrix(), &capacities()).unwrap();
    for stem in ["digits_latency", "kws_energy", "memory_pico"] {
        let s = svg(dir.path(), stem);
        assert!(
            s.starts_with("<svg") && s.trim_end().ends_with("</svg>"),
            "{stem}"
        );
        assert!(
            s.contains("font-family=\"DejaVu Sans, sans-serif\""),
            "{stem}"
        );
    }
    let latency = svg(dir.path(), "kws_latency");
    assert!(latency.contains("kws: median latency per inference"));
    assert!(latency.contains("emulated (cycle model 1) · median of 3 runs"));
    // The failed job is not a bar: it is marked in place and named with its reason.
    assert!(latency.contains(">\nfailed\n</text>"));
    assert!(latency
        .contains("Failed, not drawn: pico kws FP32 (model does not fit: arena needs 300 KiB)."));
    let energy = svg(dir.path(), "kws_energy");
    assert!(energy.contains("kws: energy per inference, estimated"));
    assert!(energy.contains("latency emulated (cycle model 1)"));
    let speedup = svg(dir.path(), "kws_speedup");
    assert!(speedup.contains("kws: speed-up over FP32 on the same board"));
    assert!(speedup.contains("FP32 failed: no baseline"));
    assert!(
        speedup.contains("2.86×"),
        "nrf52840-dk FIQ: 40.6 ms / 14.2 ms"
    );
    let accuracy = svg(dir.path(), "digits_accuracy_latency");
    assert!(accuracy.contains("digits: on-device top-1 accuracy against latency"));
    let memory = svg(dir.path(), "memory_pico");
    assert!(memory.contains("pico: flash and RAM per job"));
    assert!(memory.contains("capacity 264 KiB"));
    assert!(
        memory.contains("89.9 KiB (34%)"),
        "RAM peak 92008 B of 264 KiB"
    );
}

#[test]
fn regenerating_gives_identical_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let fa = write_charts(a.path(), &common::matrix(), &capacities()).unwrap();
    let fb = write_charts(b.path(), &common::matrix(), &capacities()).unwrap();
    assert_eq!(names(&fa, a.path()), names(&fb, b.path()));
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(
            std::fs::read(x).unwrap(),
            std::fs::read(y).unwrap(),
            "{x:?}"
        );
    }
}

#[test]
fn only_failed_jobs_give_no_chart_and_no_panic() {
    let results: Vec<JobResult> = common::matrix()
        .into_iter()
        .map(|mut r| {
            r.status = JobStatus::Failed;
            r.failure = Some("the board stopped answering".into());
            r.latency = None;
            r
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("charts");
    let files = write_charts(&out, &results, &capacities()).unwrap();
    assert!(files.is_empty(), "{files:?}");
    assert!(write_charts(&out, &[], &capacities()).unwrap().is_empty());
}

#[test]
fn memory_charts_without_capacities_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_charts(dir.path(), &common::matrix(), &BTreeMap::new()).unwrap();
    assert_eq!(files.len(), 18);
    let memory = svg(dir.path(), "memory_nrf52840_dk");
    assert!(memory.contains("board capacity unknown"));
    assert!(!memory.contains("capacity 256 KiB"));
}

/// FP32 on a board without an FPU next to int8 on one with DSP instructions: a span past 30x.
fn wide_span() -> Vec<JobResult> {
    let mut results = common::matrix();
    for r in &mut results {
        if r.key.board == "pico" && r.key.variant == Variant::Fp32 && r.key.workload == "digits" {
            let cycles = [40_000_000, 40_000_000, 40_000_100];
            r.latency = Latency::from_cycles(&cycles, r.clock_hz);
        }
    }
    results
}

#[test]
fn latency_goes_log_scale_past_a_30x_span_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    write_charts(dir.path(), &wide_span(), &capacities()).unwrap();
    assert!(svg(dir.path(), "digits_latency").contains("log scale"));
    assert!(!svg(dir.path(), "kws_latency").contains("log scale"));

    let linear = ChartOptions {
        latency_scale: Scale::Linear,
    };
    write_charts_with(dir.path(), &wide_span(), &capacities(), &linear).unwrap();
    assert!(!svg(dir.path(), "digits_latency").contains("log scale"));
    let log = ChartOptions {
        latency_scale: Scale::Log,
    };
    write_charts_with(dir.path(), &common::matrix(), &capacities(), &log).unwrap();
    assert!(svg(dir.path(), "kws_latency").contains("log scale"));
}

#[test]
fn measured_and_estimated_energy_are_told_apart() {
    let mut results = common::matrix();
    for r in results.iter_mut().filter(|r| r.key.board == "nrf52840-dk") {
        r.energy = Some(Energy {
            energy_uj: 120.0,
            estimated: false,
            method: "PPK2".into(),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    write_charts(dir.path(), &results, &capacities()).unwrap();
    let energy = svg(dir.path(), "digits_energy");
    assert!(energy.contains("digits: energy per inference (pale bars estimated)"));
    assert!(energy.contains("pale: estimated"));

    for r in &mut results {
        r.energy.as_mut().unwrap().estimated = false;
    }
    write_charts(dir.path(), &results, &capacities()).unwrap();
    let energy = svg(dir.path(), "digits_energy");
    assert!(energy.contains("digits: energy per inference, measured"));
    assert!(!energy.contains("estimated"));
}

#[test]
fn silicon_latency_is_not_called_emulated() {
    let mut results = common::matrix();
    for r in &mut results {
        if r.key.board == "pico" {
            r.cycle_model = None;
            r.deploy = "probe-rs".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    write_charts(dir.path(), &results, &capacities()).unwrap();
    let latency = svg(dir.path(), "digits_latency");
    assert!(latency.contains("nrf52840-dk emulated (cycle model 1), others on silicon"));
    for r in &mut results {
        r.cycle_model = None;
    }
    write_charts(dir.path(), &results, &capacities()).unwrap();
    assert!(!svg(dir.path(), "digits_latency").contains("emulated"));
}

#[test]
fn failure_reasons_are_one_escaped_line() {
    let mut results = common::matrix();
    let r = results
        .iter_mut()
        .find(|r| r.key.board == "nrf52840-dk" && r.key.workload == "kws")
        .unwrap();
    r.status = JobStatus::Failed;
    r.failure = Some("arena needs <300 KiB & more\nthan the board has.".into());
    r.latency = None;
    let dir = tempfile::tempdir().unwrap();
    write_charts(dir.path(), &results, &capacities()).unwrap();
    let latency = svg(dir.path(), "kws_latency");
    assert!(
        latency.contains(
            "nrf52840-dk kws FP32 (arena needs &lt;300 KiB &amp; more than the board has)."
        ),
        "{latency}"
    );
    assert!(!latency.contains("<300"));
}

#[test]
fn profiled_jobs_get_a_chart_of_where_the_time_goes() {
    let mut results = common::matrix();
    for r in results.iter_mut().filter(|r| r.key.workload == "kws") {
        if let Some(l) = &r.latency {
            r.ops = common::ops(l.cycles_min);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let files = write_charts(dir.path(), &results, &capacities()).unwrap();
    let names = names(&files, dir.path());
    assert!(names.contains(&"kws_operators.svg".to_owned()), "{names:?}");
    assert!(names.contains(&"kws_operators.png".to_owned()), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("digits_operators")));
    let s = svg(dir.path(), "kws_operators");
    assert!(s.contains("kws: where the time of an inference goes"));
    assert!(s.contains("emulated (cycle model 1) · cycles by operator type"));
    // Operator types in the legend, the largest first; the shares on the bars.
    let conv = s
        .find(">\nCONV_2D\n</text>")
        .expect("CONV_2D in the legend");
    let depthwise = s.find(">\nDEPTHWISE_CONV_2D\n</text>").unwrap();
    assert!(conv < depthwise);
    assert!(s.contains(">\n50%\n</text>") && s.contains(">\n25%\n</text>"));
    // Seven bars: the failed pico FP32 job has no profile and no bar.
    assert!(s.contains(">\nnrf52840-dk FP32\n</text>"));
    assert!(!s.contains(">\npico FP32\n</text>"));
    assert_eq!(s.matches(" M cycles\n</text>").count(), 7);
}
