//! Paper charts from a run's results, each written as SVG and PNG.
//!
//! Charts: grouped bars of median latency per board and variant (one per workload), stacked
//! flash and RAM bars per job against the board's capacity (one per board), energy per
//! inference, on-device accuracy against latency, the speed-up of DRQ/FIQ/QAT over FP32, and
//! where the time of an inference goes (each job's cycles split by operator type).
//! A chart whose data is absent is not written; failed jobs are never drawn as bars, they are
//! named in the chart's caption.
//!
//! Text is drawn with DejaVu Sans, embedded in the binary (assets/DejaVuSans.ttf), so no system
//! font is needed; the SVGs name it with a `sans-serif` fallback. Every variant has the same
//! colour in every chart. Output depends on the results alone, so regenerating a report gives
//! byte-identical files (the PNG encoder writes no timestamp or other metadata).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::file_stem;
use crate::results::{write_atomically, JobResult, JobStatus, ResultsError, Variant};

/// The family name the embedded font is registered under. It is also what the SVGs say in
/// `font-family`, hence the CSS fallback in the name.
const FAMILY: &str = "DejaVu Sans, sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// A chart's width in pixels (PNG) and user units (SVG).
const WIDTH: u32 = 1200;

/// Above this ratio between the largest and smallest value, `Scale::Auto` plots on a log axis.
const LOG_SPAN: f64 = 30.0;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font (assets/DejaVuSans.ttf) is not a valid font; the binary was built from a damaged checkout")]
    Font,
    #[error("cannot draw chart {chart}: {reason}")]
    Draw { chart: String, reason: String },
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] ResultsError),
}

/// The value axis of the latency and energy charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Logarithmic when the values span more than 30x, else linear.
    #[default]
    Auto,
    Linear,
    Log,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ChartOptions {
    pub latency_scale: Scale,
}

/// Writes every chart the results have data for into `out_dir`, as `<name>.svg` and
/// `<name>.png`, and returns the files written. `capacities` maps a board to its
/// (flash_bytes, ram_bytes); boards not in it get memory bars without a capacity line.
pub fn write_charts(
    out_dir: &Path,
    results: &[JobResult],
    capacities: &BTreeMap<String, (u64, u64)>,
) -> Result<Vec<PathBuf>, ChartError> {
    write_charts_with(out_dir, results, capacities, &ChartOptions::default())
}

/// `write_charts` with a choice of latency axis.
pub fn write_charts_with(
    out_dir: &Path,
    results: &[JobResult],
    capacities: &BTreeMap<String, (u64, u64)>,
    options: &ChartOptions,
) -> Result<Vec<PathBuf>, ChartError> {
    register_font()?;
    let charts = plan(results, capacities, options);
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(out_dir).map_err(|source| ChartError::CreateDir {
        path: out_dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    for chart in &charts {
        let (svg, png) = render(chart)?;
        let svg_path = out_dir.join(format!("{}.svg", chart.stem));
        let png_path = out_dir.join(format!("{}.png", chart.stem));
        write_atomically(&svg_path, svg.as_bytes())?;
        write_atomically(&png_path, &png)?;
        written.push(svg_path);
        written.push(png_path);
    }
    Ok(written)
}

fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // Also as "sans-serif": plotters falls back to that name for text styled by default.
        [FAMILY, "sans-serif"].into_iter().all(|name| {
            plotters::style::register_font(name, FontStyle::Normal, DEJAVU_SANS).is_ok()
        })
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

// ---------------------------------------------------------------------------------------------
// Colours

/// Okabe & Ito's colour-blind-safe palette, one colour per variant in every chart.
fn variant_colour(v: Variant) -> RGBColor {
    match v {
        Variant::Fp32 => RGBColor(0, 114, 178),
        Variant::Drq => RGBColor(230, 159, 0),
        Variant::Fiq => RGBColor(0, 158, 115),
        Variant::Qat => RGBColor(204, 121, 167),
    }
}

/// Paul Tol's "bright" scheme for the parts of a memory bar.
const CODE: RGBColor = RGBColor(68, 119, 170);
const MODEL: RGBColor = RGBColor(102, 204, 238);
const DATA: RGBColor = RGBColor(34, 136, 51);
const ARENA: RGBColor = RGBColor(204, 187, 68);
const STACK: RGBColor = RGBColor(238, 102, 119);

const INK: RGBColor = RGBColor(30, 30, 30);
const GREY: RGBColor = RGBColor(90, 90, 90);
const GRID: RGBColor = RGBColor(225, 225, 225);
/// Grid lines between the decades of a log axis.
const FAINT: RGBColor = RGBColor(243, 243, 243);
const CAPACITY: RGBColor = RGBColor(180, 30, 30);

/// The colour mixed with white: how estimated figures are drawn next to measured ones.
fn light(c: RGBColor) -> RGBColor {
    let mix = |x: u8| (u16::from(x) + 2 * 255) as f64 / 3.0;
    RGBColor(mix(c.0) as u8, mix(c.1) as u8, mix(c.2) as u8)
}

fn text(size: u32, colour: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(colour)
}

// ---------------------------------------------------------------------------------------------
// What to draw

struct Chart {
    stem: String,
    height: u32,
    frame: Frame,
    body: Body,
}

/// Title, subtitle, legend and caption: what every chart has around its plot.
struct Frame {
    title: String,
    subtitle: Option<String>,
    legend: Vec<LegendItem>,
    caption: Vec<String>,
}

enum Swatch {
    Fill(RGBColor),
    Marker(Marker),
    Dashed(RGBColor),
}

struct LegendItem {
    swatch: Swatch,
    label: String,
}

enum Body {
    Bars(GroupedBars),
    Memory(MemoryBars),
    Scatter(Scatter),
    Shares(ShareBars),
}

/// Horizontal bars of 100 %, one row per job, split into parts (operator types).
struct ShareBars {
    rows: Vec<ShareRow>,
}

struct ShareRow {
    label: String,
    /// (percent, colour) of each part, left to right.
    parts: Vec<(f64, RGBColor)>,
    /// Written after the bar: the whole the parts are shares of.
    total: String,
}

/// Bars grouped by board, one slot per variant in every group.
struct GroupedBars {
    groups: Vec<String>,
    slots: Vec<Variant>,
    /// (group, slot) -> bar.
    bars: BTreeMap<(usize, usize), Bar>,
    y_desc: String,
    log: bool,
    /// A dashed horizontal reference line (speed-up 1x), named in the legend.
    reference: Option<f64>,
    /// A note written once across a whole group that has no bars ("no FP32 baseline").
    group_notes: BTreeMap<usize, String>,
}

enum Bar {
    Value {
        value: f64,
        label: String,
        colour: RGBColor,
        outline: Option<RGBColor>,
    },
    /// A job that exists but has nothing to draw ("failed", "no FP32").
    Note(&'static str),
}

/// Horizontal stacked bars, one row per job, flash on the left and RAM on the right.
struct MemoryBars {
    rows: Vec<MemoryRow>,
    flash_capacity: Option<u64>,
    ram_capacity: Option<u64>,
}

/// (bytes, colour) of each part of a stacked bar, left to right.
type Parts = Vec<(u64, RGBColor)>;

struct MemoryRow {
    label: String,
    /// None for a failed job.
    flash: Option<Parts>,
    ram: Option<Parts>,
}

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
    Star,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Diamond,
    Marker::Star,
];

struct Point {
    x: f64,
    y: f64,
    colour: RGBColor,
    marker: Marker,
}

struct Scatter {
    points: Vec<Point>,
    x_desc: String,
    y_desc: String,
    x_log: bool,
}

// ---------------------------------------------------------------------------------------------
// Planning: results -> charts

fn plan(
    results: &[JobResult],
    capacities: &BTreeMap<String, (u64, u64)>,
    options: &ChartOptions,
) -> Vec<Chart> {
    let axes = super::Axes::of(results);
    let mut charts = Vec::new();
    for &w in &axes.workloads {
        let wr: Vec<&JobResult> = results.iter().filter(|r| r.key.workload == w).collect();
        charts.extend(latency_chart(w, &wr, &axes.boards, options.latency_scale));
        charts.extend(energy_chart(w, &wr, &axes.boards));
        charts.extend(accuracy_chart(w, &wr, &axes.boards));
        charts.extend(speedup_chart(w, &wr, &axes.boards));
        charts.extend(operators_chart(w, &wr, &axes.boards));
    }
    for &b in &axes.boards {
        let br: Vec<&JobResult> = results.iter().filter(|r| r.key.board == b).collect();
        charts.extend(memory_chart(b, &br, &axes.workloads, capacities.get(b)));
    }
    charts
}

fn ok(r: &JobResult) -> bool {
    r.status == JobStatus::Ok
}

fn variants_in(jobs: &[&JobResult]) -> Vec<Variant> {
    Variant::ALL
        .into_iter()
        .filter(|v| jobs.iter().any(|r| r.key.variant == *v))
        .collect()
}

fn job<'a>(jobs: &[&'a JobResult], board: &str, variant: Variant) -> Option<&'a JobResult> {
    jobs.iter()
        .copied()
        .find(|r| r.key.board == board && r.key.variant == variant)
}

/// "emulated (cycle model N)", or which boards were, when some latencies come from silicon.
fn emulation_tag(jobs: &[&JobResult]) -> Option<String> {
    let drawn: Vec<&&JobResult> = jobs
        .iter()
        .filter(|r| ok(r) && r.latency.is_some())
        .collect();
    let mut models: Vec<&str> = drawn
        .iter()
        .filter_map(|r| r.cycle_model.as_deref())
        .collect();
    models.sort_unstable();
    models.dedup();
    if models.is_empty() {
        return None;
    }
    let plural = if models.len() > 1 { "s" } else { "" };
    let tag = format!("emulated (cycle model{plural} {})", models.join(", "));
    if drawn.iter().all(|r| r.emulated()) {
        return Some(tag);
    }
    let mut boards: Vec<&str> = drawn
        .iter()
        .filter(|r| r.emulated())
        .map(|r| r.key.board.as_str())
        .collect();
    boards.dedup();
    Some(format!("{} {tag}, others on silicon", boards.join(", ")))
}

/// One caption line per failed job, with its reason cut to fit a line.
fn failure_notes(jobs: &[&JobResult]) -> Vec<String> {
    jobs.iter()
        .filter(|r| !ok(r))
        .map(|r| {
            // One line: the reason's first 80 characters, whitespace folded.
            let full = r.failure.as_deref().unwrap_or("no reason recorded");
            let full = full.split_whitespace().collect::<Vec<_>>().join(" ");
            let full = full.trim_end_matches('.');
            let mut reason: String = full.chars().take(80).collect();
            if reason.len() < full.len() {
                reason.push('…');
            }
            format!(
                "Failed, not drawn: {} {} {} ({reason}).",
                r.key.board,
                r.key.workload,
                r.key.variant.label()
            )
        })
        .collect()
}

fn variant_legend(variants: &[Variant]) -> Vec<LegendItem> {
    variants
        .iter()
        .map(|&v| LegendItem {
            swatch: Swatch::Fill(variant_colour(v)),
            label: v.label().to_owned(),
        })
        .collect()
}

fn use_log(scale: Scale, values: impl Iterator<Item = f64>) -> bool {
    match scale {
        Scale::Linear => false,
        Scale::Log => true,
        Scale::Auto => {
            let (min, max) = values
                .filter(|v| *v > 0.0)
                .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                });
            min.is_finite() && max / min > LOG_SPAN
        }
    }
}

/// Three significant digits, no exponent: 40.6, 2.60, 0.0153, 1235.
fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

/// An axis tick: `sig3` without trailing zeros (2.5, not 2.50).
fn tick_label(v: f64) -> String {
    let s = sig3(v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn bars_height(frame: &Frame) -> u32 {
    560 + 22 * frame.caption.len() as u32
}

fn latency_chart(
    workload: &str,
    jobs: &[&JobResult],
    boards: &[&str],
    scale: Scale,
) -> Option<Chart> {
    let drawn = jobs.iter().filter(|r| ok(r) && r.latency.is_some()).count();
    if drawn == 0 {
        return None;
    }
    let slots = variants_in(jobs);
    let mut bars = BTreeMap::new();
    let mut values = Vec::new();
    for (g, board) in boards.iter().enumerate() {
        for (s, &v) in slots.iter().enumerate() {
            let Some(r) = job(jobs, board, v) else {
                continue;
            };
            let bar = match (&r.latency, ok(r)) {
                (Some(l), true) => {
                    values.push(l.ms_median);
                    Bar::Value {
                        value: l.ms_median,
                        label: sig3(l.ms_median),
                        colour: variant_colour(v),
                        outline: None,
                    }
                }
                (_, false) => Bar::Note("failed"),
                (None, true) => continue,
            };
            bars.insert((g, s), bar);
        }
    }
    let runs = jobs
        .iter()
        .filter_map(|r| r.latency.as_ref().map(|l| l.cycles.len()))
        .max()
        .unwrap_or(0);
    let log = use_log(scale, values.iter().copied());
    let frame = Frame {
        title: format!("{workload}: median latency per inference"),
        subtitle: Some(join_some([
            emulation_tag(jobs),
            Some(format!("median of {runs} runs")),
            log.then(|| "log scale".to_owned()),
        ])),
        legend: variant_legend(&slots),
        caption: failure_notes(jobs),
    };
    Some(Chart {
        stem: format!("{}_latency", file_stem(workload)),
        height: bars_height(&frame),
        frame,
        body: Body::Bars(GroupedBars {
            groups: boards.iter().map(|b| b.to_string()).collect(),
            slots,
            bars,
            y_desc: "latency (ms)".into(),
            log,
            reference: None,
            group_notes: BTreeMap::new(),
        }),
    })
}

fn join_some<const N: usize>(parts: [Option<String>; N]) -> String {
    parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

fn energy_chart(workload: &str, jobs: &[&JobResult], boards: &[&str]) -> Option<Chart> {
    let with_energy: Vec<&&JobResult> = jobs
        .iter()
        .filter(|r| ok(r) && r.energy.is_some())
        .collect();
    if with_energy.is_empty() {
        return None;
    }
    let estimated = with_energy
        .iter()
        .filter(|r| r.energy.as_ref().is_some_and(|e| e.estimated))
        .count();
    let all_estimated = estimated == with_energy.len();
    let mixed = estimated > 0 && !all_estimated;
    let slots = variants_in(jobs);
    let mut bars = BTreeMap::new();
    let mut values = Vec::new();
    for (g, board) in boards.iter().enumerate() {
        for (s, &v) in slots.iter().enumerate() {
            let Some(r) = job(jobs, board, v) else {
                continue;
            };
            let bar = match (&r.energy, ok(r)) {
                (Some(e), true) => {
                    values.push(e.energy_uj);
                    let c = variant_colour(v);
                    // Next to measured bars, estimated ones are pale with an outline.
                    let pale = mixed && e.estimated;
                    Bar::Value {
                        value: e.energy_uj,
                        label: sig3(e.energy_uj),
                        colour: if pale { light(c) } else { c },
                        outline: pale.then_some(c),
                    }
                }
                (_, false) => Bar::Note("failed"),
                (None, true) => continue,
            };
            bars.insert((g, s), bar);
        }
    }
    let mut legend = variant_legend(&slots);
    let title = if all_estimated {
        format!("{workload}: energy per inference, estimated")
    } else if mixed {
        format!("{workload}: energy per inference (pale bars estimated)")
    } else {
        format!("{workload}: energy per inference, measured")
    };
    if mixed {
        legend.push(LegendItem {
            swatch: Swatch::Fill(light(GREY)),
            label: "pale: estimated".into(),
        });
    }
    let how = (estimated > 0).then(|| {
        "estimated = supply voltage × run current × latency (targets.toml energy model)".to_owned()
    });
    let log = use_log(Scale::Auto, values.iter().copied());
    let frame = Frame {
        title,
        subtitle: Some(join_some([
            how,
            emulation_tag(jobs).map(|t| format!("latency {t}")),
            log.then(|| "log scale".to_owned()),
        ])),
        legend,
        caption: failure_notes(jobs),
    };
    Some(Chart {
        stem: format!("{}_energy", file_stem(workload)),
        height: bars_height(&frame),
        frame,
        body: Body::Bars(GroupedBars {
            groups: boards.iter().map(|b| b.to_string()).collect(),
            slots,
            bars,
            y_desc: "energy per inference (µJ)".into(),
            log,
            reference: None,
            group_notes: BTreeMap::new(),
        }),
    })
}

fn speedup_chart(workload: &str, jobs: &[&JobResult], boards: &[&str]) -> Option<Chart> {
    let latency = |r: &JobResult| {
        r.latency
            .as_ref()
            .filter(|l| ok(r) && l.ms_median > 0.0)
            .map(|l| l.ms_median)
    };
    let slots: Vec<Variant> = variants_in(jobs)
        .into_iter()
        .filter(|v| *v != Variant::Fp32)
        .collect();
    let mut bars = BTreeMap::new();
    let mut group_notes = BTreeMap::new();
    let mut any = false;
    for (g, board) in boards.iter().enumerate() {
        let fp32_job = job(jobs, board, Variant::Fp32);
        let fp32 = fp32_job.and_then(latency);
        if fp32.is_none() && slots.iter().any(|v| job(jobs, board, *v).is_some()) {
            let why = match fp32_job {
                Some(r) if !ok(r) => "FP32 failed: no baseline",
                Some(_) => "FP32 has no latency: no baseline",
                None => "FP32 not run: no baseline",
            };
            group_notes.insert(g, why.to_owned());
            continue;
        }
        for (s, &v) in slots.iter().enumerate() {
            let Some(r) = job(jobs, board, v) else {
                continue;
            };
            let bar = match (fp32, latency(r)) {
                (_, None) if !ok(r) => Bar::Note("failed"),
                (None, _) | (_, None) => continue,
                (Some(base), Some(l)) => {
                    any = true;
                    let x = base / l;
                    Bar::Value {
                        value: x,
                        label: format!("{x:.2}×"),
                        colour: variant_colour(v),
                        outline: None,
                    }
                }
            };
            bars.insert((g, s), bar);
        }
    }
    if !any {
        return None;
    }
    let caption = failure_notes(jobs);
    let mut legend = variant_legend(&slots);
    legend.push(LegendItem {
        swatch: Swatch::Dashed(GREY),
        label: "FP32 = 1×".to_owned(),
    });
    let frame = Frame {
        title: format!("{workload}: speed-up over FP32 on the same board"),
        subtitle: Some(join_some([
            Some("FP32 median latency / variant median latency".to_owned()),
            emulation_tag(jobs),
        ])),
        legend,
        caption,
    };
    Some(Chart {
        stem: format!("{}_speedup", file_stem(workload)),
        height: bars_height(&frame),
        frame,
        body: Body::Bars(GroupedBars {
            groups: boards.iter().map(|b| b.to_string()).collect(),
            slots,
            bars,
            y_desc: "speed-up over FP32 (×)".into(),
            log: false,
            reference: Some(1.0),
            group_notes,
        }),
    })
}

fn accuracy_chart(workload: &str, jobs: &[&JobResult], boards: &[&str]) -> Option<Chart> {
    let drawn: Vec<(&JobResult, f64, f64)> = jobs
        .iter()
        .filter(|r| ok(r))
        .filter_map(|r| {
            Some((
                *r,
                r.latency.as_ref()?.ms_median,
                r.accuracy.as_ref()?.device,
            ))
        })
        .filter(|(_, ms, _)| *ms > 0.0)
        .collect();
    if drawn.is_empty() {
        return None;
    }
    let metric = drawn[0]
        .0
        .accuracy
        .as_ref()
        .map_or("", |a| a.metric.as_str());
    let metric_label = match metric {
        "top1" => "top-1 accuracy".to_owned(),
        "auc" => "AUC".to_owned(),
        other => other.to_owned(),
    };
    let marker_of = |board: &str| {
        let i = boards.iter().position(|b| *b == board).unwrap_or(0);
        MARKERS[i % MARKERS.len()]
    };
    let points = drawn
        .iter()
        .map(|(r, ms, acc)| Point {
            x: *ms,
            y: *acc,
            colour: variant_colour(r.key.variant),
            marker: marker_of(&r.key.board),
        })
        .collect();
    let x_log = use_log(Scale::Auto, drawn.iter().map(|d| d.1));
    let mut legend = variant_legend(&variants_in(&drawn.iter().map(|d| d.0).collect::<Vec<_>>()));
    for b in boards {
        if drawn.iter().any(|d| d.0.key.board == *b) {
            legend.push(LegendItem {
                swatch: Swatch::Marker(marker_of(b)),
                label: b.to_string(),
            });
        }
    }
    let frame = Frame {
        title: format!("{workload}: on-device {metric_label} against latency"),
        subtitle: Some(join_some([
            Some("colour: variant, shape: board".to_owned()),
            emulation_tag(jobs).map(|t| format!("latency {t}")),
            x_log.then(|| "log latency axis".to_owned()),
        ])),
        legend,
        caption: failure_notes(jobs),
    };
    Some(Chart {
        stem: format!("{}_accuracy_latency", file_stem(workload)),
        height: 620 + 22 * frame.caption.len() as u32,
        frame,
        body: Body::Scatter(Scatter {
            points,
            x_desc: "median latency (ms)".into(),
            y_desc: format!("{metric_label} on device"),
            x_log,
        }),
    })
}

/// Paul Tol's "muted" scheme, one colour per operator type of a chart, the largest first.
const OPERATOR_COLOURS: [RGBColor; 8] = [
    RGBColor(51, 34, 136),
    RGBColor(136, 204, 238),
    RGBColor(68, 170, 153),
    RGBColor(17, 119, 51),
    RGBColor(153, 153, 51),
    RGBColor(221, 204, 119),
    RGBColor(204, 102, 119),
    RGBColor(136, 34, 85),
];
/// The operator types past the palette, together.
const OTHER_OPERATORS: RGBColor = RGBColor(187, 187, 187);

/// Where the time goes: each profiled job's cycles split by operator type, as shares of the
/// inference, one bar per board and variant.
fn operators_chart(workload: &str, jobs: &[&JobResult], boards: &[&str]) -> Option<Chart> {
    let mut profiled: Vec<&JobResult> = Vec::new();
    for b in boards {
        for v in Variant::ALL {
            profiled.extend(job(jobs, b, v).filter(|r| ok(r) && !r.ops.is_empty()));
        }
    }
    if profiled.is_empty() {
        return None;
    }
    // Operator types by their share summed over the jobs, the largest first.
    let mut weight: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &profiled {
        let total = r.ops.iter().map(|o| o.cycles).sum::<u64>().max(1) as f64;
        for o in &r.ops {
            *weight.entry(o.name.as_str()).or_default() += o.cycles as f64 / total;
        }
    }
    let mut types: Vec<(&str, f64)> = weight.into_iter().collect();
    types.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let named = if types.len() > OPERATOR_COLOURS.len() {
        OPERATOR_COLOURS.len() - 1
    } else {
        types.len()
    };
    let colour_of = |name: &str| {
        types[..named]
            .iter()
            .position(|(t, _)| *t == name)
            .map_or(OTHER_OPERATORS, |i| OPERATOR_COLOURS[i])
    };
    let mut legend: Vec<LegendItem> = types[..named]
        .iter()
        .enumerate()
        .map(|(i, (t, _))| LegendItem {
            swatch: Swatch::Fill(OPERATOR_COLOURS[i]),
            label: t.to_string(),
        })
        .collect();
    if named < types.len() {
        legend.push(LegendItem {
            swatch: Swatch::Fill(OTHER_OPERATORS),
            label: "other".into(),
        });
    }
    let rows = profiled
        .iter()
        .map(|r| {
            let total: u64 = r.ops.iter().map(|o| o.cycles).sum();
            // One part per colour, in legend order.
            let mut parts: Vec<(f64, RGBColor)> = Vec::new();
            for colour in legend.iter().map(|l| match l.swatch {
                Swatch::Fill(c) => c,
                _ => OTHER_OPERATORS,
            }) {
                let cycles: u64 = r
                    .ops
                    .iter()
                    .filter(|o| colour_of(&o.name) == colour)
                    .map(|o| o.cycles)
                    .sum();
                if cycles > 0 {
                    parts.push((cycles as f64 * 100.0 / total.max(1) as f64, colour));
                }
            }
            ShareRow {
                label: format!("{} {}", r.key.board, r.key.variant.label()),
                parts,
                total: format!("{} M cycles", sig3(total as f64 / 1e6)),
            }
        })
        .collect::<Vec<_>>();
    let frame = Frame {
        title: format!("{workload}: where the time of an inference goes"),
        subtitle: Some(join_some([
            emulation_tag(&profiled),
            Some("cycles by operator type, one inference run operator by operator".into()),
        ])),
        legend,
        caption: Vec::new(),
    };
    let height = 250 + 40 * rows.len() as u32;
    Some(Chart {
        stem: format!("{}_operators", file_stem(workload)),
        height: height.max(420),
        frame,
        body: Body::Shares(ShareBars { rows }),
    })
}

fn memory_chart(
    board: &str,
    jobs: &[&JobResult],
    workloads: &[&str],
    capacity: Option<&(u64, u64)>,
) -> Option<Chart> {
    let mut ordered: Vec<&JobResult> = Vec::new();
    for w in workloads {
        for v in Variant::ALL {
            ordered.extend(
                jobs.iter()
                    .copied()
                    .find(|r| r.key.workload == *w && r.key.variant == v),
            );
        }
    }
    if !ordered
        .iter()
        .any(|r| ok(r) && (r.flash.is_some() || r.ram.is_some()))
    {
        return None;
    }
    let rows: Vec<MemoryRow> = ordered
        .iter()
        .map(|r| MemoryRow {
            label: format!("{} {}", r.key.workload, r.key.variant.label()),
            flash: r
                .flash
                .filter(|_| ok(r))
                .map(|f| vec![(f.firmware_bytes, CODE), (f.partition_bytes, MODEL)]),
            ram: r.ram.filter(|_| ok(r)).map(|m| {
                // Peak RAM is data + bss + stack, plus the arena when the engine does not place
                // it in bss: the rest of the peak, without arena and stack, is data + bss.
                let data_bss = m
                    .peak_bytes
                    .saturating_sub(m.arena_bytes + m.stack_peak_bytes);
                vec![
                    (data_bss, DATA),
                    (m.arena_bytes, ARENA),
                    (m.stack_peak_bytes, STACK),
                ]
            }),
        })
        .collect();
    let legend = [
        (CODE, "firmware code"),
        (MODEL, "model partition"),
        (DATA, "data + bss"),
        (ARENA, "engine arena"),
        (STACK, "peak stack"),
    ]
    .into_iter()
    .map(|(c, l)| LegendItem {
        swatch: Swatch::Fill(c),
        label: l.to_owned(),
    })
    .collect();
    let subtitle = match capacity {
        Some((flash, ram)) => format!(
            "red lines: the board's flash ({} KiB, firmware + model regions) and RAM ({} KiB)",
            sig3(*flash as f64 / 1024.0),
            sig3(*ram as f64 / 1024.0)
        ),
        None => "board capacity unknown (not in targets.toml)".to_owned(),
    };
    let frame = Frame {
        title: format!("{board}: flash and RAM per job"),
        subtitle: Some(subtitle),
        legend,
        caption: failure_notes(&ordered),
    };
    let height = 230 + 34 * rows.len() as u32 + 22 * frame.caption.len() as u32;
    Some(Chart {
        stem: format!("memory_{}", file_stem(board)),
        height: height.max(420),
        frame,
        body: Body::Memory(MemoryBars {
            rows,
            flash_capacity: capacity.map(|c| c.0),
            ram_capacity: capacity.map(|c| c.1),
        }),
    })
}

// ---------------------------------------------------------------------------------------------
// Rendering

type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
type DrawResult<DB> = Result<(), DrawError<DB>>;
/// A chart with a linear f64 x axis and the given y axis, and the converse.
type XLinear<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>;
type YLinear<'a, DB, X> = ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>;
type LegendRow<'a> = Vec<(&'a LegendItem, i32)>;

fn render(chart: &Chart) -> Result<(String, Vec<u8>), ChartError> {
    let size = (WIDTH, chart.height);
    let err = |reason: String| ChartError::Draw {
        chart: chart.stem.clone(),
        reason,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(chart, &root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(chart, &root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let png = encode_png(&rgb, size).map_err(|e| err(e.to_string()))?;
    Ok((svg, png))
}

/// RGB8 with fixed settings and no ancillary chunks (no time, no text): same pixels, same bytes.
fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        encoder.set_filter(png::FilterType::Paeth);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let plot = draw_frame(root, &chart.frame)?;
    match &chart.body {
        Body::Bars(b) => draw_bars(root, &plot, b),
        Body::Memory(m) => draw_memory(root, &plot, m),
        Body::Scatter(s) => draw_scatter(root, &plot, s),
        Body::Shares(s) => draw_shares(root, &plot, s),
    }
}

const TITLE_SIZE: u32 = 30;
const SUBTITLE_SIZE: u32 = 19;
const LEGEND_SIZE: u32 = 19;
const LABEL_SIZE: u32 = 18;
const CAPTION_SIZE: u32 = 16;
const VALUE_SIZE: u32 = 15;

/// Draws title, subtitle, legend (above the plot, so it never covers data) and caption;
/// returns the area left for the plot.
fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    frame: &Frame,
) -> Result<DrawingArea<DB, Shift>, DrawError<DB>> {
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    let centre = |y: i32| (w as i32 / 2, y);
    let top = Pos::new(HPos::Center, VPos::Top);
    root.draw(&Text::new(
        frame.title.clone(),
        centre(14),
        text(TITLE_SIZE, &INK).pos(top),
    ))?;
    let mut y = 14 + TITLE_SIZE as i32 + 8;
    if let Some(sub) = frame.subtitle.as_deref().filter(|s| !s.is_empty()) {
        for line in fit_lines(root, sub, &text(SUBTITLE_SIZE, &GREY), w as i32 - 40)? {
            root.draw(&Text::new(
                line,
                centre(y),
                text(SUBTITLE_SIZE, &GREY).pos(top),
            ))?;
            y += SUBTITLE_SIZE as i32 + 6;
        }
        y += 4;
    }
    if !frame.legend.is_empty() {
        y += 4;
        for row in legend_rows(root, &frame.legend, w as i32 - 40)? {
            let width: i32 = row.iter().map(|(_, w)| w).sum();
            let mut x = (w as i32 - width) / 2;
            for (item, item_w) in row {
                draw_swatch(root, &item.swatch, (x, y + 11))?;
                root.draw(&Text::new(
                    item.label.clone(),
                    (x + 26, y + 11),
                    text(LEGEND_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
                x += item_w;
            }
            y += 28;
        }
    }
    let caption_h = 22 * frame.caption.len() as i32;
    for (i, line) in frame.caption.iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (24, h as i32 - caption_h - 8 + 22 * i as i32),
            text(CAPTION_SIZE, &GREY).pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
    }
    let (_, rest) = root.split_vertically(y + 8);
    let gap = if caption_h > 0 { 22 } else { 8 };
    let (plot, _) = rest.split_vertically(h as i32 - y - 8 - caption_h - gap);
    Ok(plot)
}

/// `line` as is if it fits in `max_width`, else broken at its " · " separators.
fn fit_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    line: &str,
    style: &TextStyle,
    max_width: i32,
) -> Result<Vec<String>, DrawError<DB>> {
    let mut lines: Vec<String> = Vec::new();
    for part in line.split(" · ") {
        if let Some(last) = lines.last_mut() {
            let joined = format!("{last} · {part}");
            if root.estimate_text_size(&joined, style)?.0 as i32 <= max_width {
                *last = joined;
                continue;
            }
        }
        lines.push(part.to_owned());
    }
    Ok(lines)
}

/// Legend items per row, each with the width it takes.
fn legend_rows<'a, DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &'a [LegendItem],
    max_width: i32,
) -> Result<Vec<LegendRow<'a>>, DrawError<DB>> {
    let mut rows: Vec<LegendRow> = vec![Vec::new()];
    let mut used = 0;
    for item in items {
        let (tw, _) = root.estimate_text_size(&item.label, &text(LEGEND_SIZE, &INK))?;
        let item_w = 26 + tw as i32 + 30;
        if used + item_w > max_width && used > 0 {
            rows.push(Vec::new());
            used = 0;
        }
        used += item_w;
        if let Some(row) = rows.last_mut() {
            row.push((item, item_w));
        }
    }
    Ok(rows)
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    swatch: &Swatch,
    (x, y): (i32, i32),
) -> DrawResult<DB> {
    match swatch {
        Swatch::Fill(c) => {
            root.draw(&Rectangle::new([(x, y - 9), (x + 18, y + 9)], c.filled()))?;
            root.draw(&Rectangle::new(
                [(x, y - 9), (x + 18, y + 9)],
                INK.mix(0.35),
            ))
        }
        Swatch::Marker(m) => draw_marker(root, *m, (x + 9, y), INK, 8),
        Swatch::Dashed(c) => {
            for (a, b) in [(x - 2, x + 6), (x + 10, x + 20)] {
                root.draw(&PathElement::new(
                    vec![(a, y), (b, y)],
                    ShapeStyle::from(c).stroke_width(2),
                ))?;
            }
            Ok(())
        }
    }
}

fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    marker: Marker,
    (x, y): (i32, i32),
    colour: RGBColor,
    r: i32,
) -> DrawResult<DB> {
    let fill = colour.filled();
    let edge = ShapeStyle::from(&INK).stroke_width(1);
    let poly = |pts: Vec<(i32, i32)>| -> DrawResult<DB> {
        root.draw(&Polygon::new(pts.clone(), fill))?;
        let mut closed = pts;
        closed.push(closed[0]);
        root.draw(&PathElement::new(closed, edge))
    };
    match marker {
        Marker::Circle => {
            root.draw(&Circle::new((x, y), r, fill))?;
            root.draw(&Circle::new((x, y), r, edge))
        }
        Marker::Triangle => poly(vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)]),
        Marker::Square => poly(vec![
            (x - r, y - r),
            (x + r, y - r),
            (x + r, y + r),
            (x - r, y + r),
        ]),
        Marker::Diamond => poly(vec![
            (x, y - r - 2),
            (x + r + 2, y),
            (x, y + r + 2),
            (x - r - 2, y),
        ]),
        Marker::Star => {
            let pts = (0..10)
                .map(|i| {
                    let a = std::f64::consts::PI * (i as f64) / 5.0 - std::f64::consts::FRAC_PI_2;
                    let rr = if i % 2 == 0 {
                        r as f64 + 2.0
                    } else {
                        r as f64 * 0.5
                    };
                    (
                        x + (rr * a.cos()).round() as i32,
                        y + (rr * a.sin()).round() as i32,
                    )
                })
                .collect();
            poly(pts)
        }
    }
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    b: &GroupedBars,
) -> DrawResult<DB> {
    let values: Vec<f64> = b
        .bars
        .values()
        .filter_map(|bar| match bar {
            Bar::Value { value, .. } => Some(*value),
            Bar::Note(_) => None,
        })
        .collect();
    let max = values.iter().copied().fold(0.0f64, f64::max);
    let groups = b.groups.len().max(1) as f64;
    if b.log {
        let min = values
            .iter()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let min = if min.is_finite() { min } else { 1.0 };
        let lo = 10f64.powf((min * 0.7).log10().floor());
        let hi = max.max(lo * 10.0) * 2.2;
        let chart = bar_axes(plot, b, 0.0..groups, (lo..hi).log_scale())?;
        fill_bars(root, chart, b, lo)
    } else {
        let top = b.reference.unwrap_or(0.0).max(max) * 1.15;
        let top = if top > 0.0 { top } else { 1.0 };
        let chart = bar_axes(plot, b, 0.0..groups, 0.0..top)?;
        fill_bars(root, chart, b, 0.0)
    }
}

fn bar_axes<'a, DB, Y>(
    plot: &DrawingArea<DB, Shift>,
    b: &GroupedBars,
    x: std::ops::Range<f64>,
    y: Y,
) -> Result<XLinear<'a, DB, Y::CoordDescType>, DrawError<DB>>
where
    DB: DrawingBackend + 'a,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(plot)
        .margin_left(20)
        .margin_right(30)
        .margin_top(10)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&|v| tick_label(*v))
        .y_desc(b.y_desc.as_str())
        .label_style(text(LABEL_SIZE, &INK))
        .axis_desc_style(text(LABEL_SIZE, &INK))
        .bold_line_style(GRID)
        .light_line_style(if b.log { FAINT.to_rgba() } else { TRANSPARENT })
        .axis_style(GREY)
        .draw()?;
    Ok(chart)
}

fn fill_bars<DB, Y>(
    root: &DrawingArea<DB, Shift>,
    chart: XLinear<DB, Y>,
    b: &GroupedBars,
    base: f64,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let slots = b.slots.len().max(1) as f64;
    let group_w = 0.8;
    let slot_w = group_w / slots;
    let value_style = text(VALUE_SIZE, &INK).pos(Pos::new(HPos::Center, VPos::Bottom));
    let note_style = text(VALUE_SIZE, &GREY).pos(Pos::new(HPos::Center, VPos::Bottom));
    // Value labels only where they fit over their bar.
    let (px0, _) = chart.backend_coord(&(0.0, base));
    let (px1, _) = chart.backend_coord(&(slot_w, base));
    let slot_px = px1 - px0;
    for (g, group) in b.groups.iter().enumerate() {
        let (gx, gy) = chart.backend_coord(&(g as f64 + 0.5, base));
        root.draw(&Text::new(
            group.clone(),
            (gx, gy + 12),
            text(LABEL_SIZE + 1, &INK).pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        if let Some(note) = b.group_notes.get(&g) {
            root.draw(&Text::new(note.clone(), (gx, gy - 4), note_style.clone()))?;
        }
        for (s, _) in b.slots.iter().enumerate() {
            let Some(bar) = b.bars.get(&(g, s)) else {
                continue;
            };
            let x0 = g as f64 + (1.0 - group_w) / 2.0 + s as f64 * slot_w;
            let x1 = x0 + slot_w;
            let (cx, _) = chart.backend_coord(&((x0 + x1) / 2.0, base));
            match bar {
                Bar::Value {
                    value,
                    label,
                    colour,
                    outline,
                } => {
                    let (ax, ay) = chart.backend_coord(&(x0, base));
                    let (bx, by) = chart.backend_coord(&(x1, *value));
                    // A one-pixel gap between neighbouring bars.
                    let rect = [(ax + 1, by), (bx - 1, ay)];
                    root.draw(&Rectangle::new(rect, colour.filled()))?;
                    if let Some(o) = outline {
                        root.draw(&Rectangle::new(rect, ShapeStyle::from(o).stroke_width(2)))?;
                    }
                    let (tw, _) = root.estimate_text_size(label, &value_style)?;
                    if (tw as i32) < slot_px + 6 {
                        root.draw(&Text::new(label.clone(), (cx, by - 3), value_style.clone()))?;
                    }
                }
                Bar::Note(note) => {
                    root.draw(&Text::new(
                        note.to_string(),
                        (cx, gy - 4),
                        note_style.clone(),
                    ))?;
                }
            }
        }
    }
    // Over the bars, so that it reads across them; its legend entry names it.
    if let Some(y) = &b.reference {
        let (x0, y0) = chart.backend_coord(&(0.0, *y));
        let (x1, _) = chart.backend_coord(&(b.groups.len() as f64, *y));
        for (a, b) in dashes(x0, x1) {
            root.draw(&PathElement::new(
                vec![(a, y0), (b, y0)],
                ShapeStyle::from(&GREY).stroke_width(2),
            ))?;
        }
    }
    Ok(())
}

/// The dashes of a dashed line from x0 to x1: 10 pixels on, 6 off.
fn dashes(x0: i32, x1: i32) -> impl Iterator<Item = (i32, i32)> {
    (x0..x1).step_by(16).map(move |a| (a, (a + 10).min(x1)))
}

/// Flash on the left, RAM on the right, the same job on the same row.
fn draw_memory<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    m: &MemoryBars,
) -> DrawResult<DB> {
    let (pw, _) = plot.dim_in_pixel();
    let labels_w = 190;
    let (left, right) = plot.split_horizontally(labels_w + (pw as i32 - labels_w) / 2);
    let flash: Vec<Option<&Parts>> = m.rows.iter().map(|r| r.flash.as_ref()).collect();
    let ram: Vec<Option<&Parts>> = m.rows.iter().map(|r| r.ram.as_ref()).collect();
    memory_panel(
        root,
        &left,
        "flash (KiB)",
        &flash,
        m.flash_capacity,
        labels_w,
        Some(&m.rows),
    )?;
    memory_panel(root, &right, "RAM (KiB)", &ram, m.ram_capacity, 20, None)?;
    Ok(())
}

/// One half of a memory chart: a stacked bar per row, against a capacity line; job labels on
/// the left when `rows` are given.
fn memory_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    area: &DrawingArea<DB, Shift>,
    x_desc: &str,
    bars: &[Option<&Parts>],
    capacity: Option<u64>,
    label_w: i32,
    rows: Option<&[MemoryRow]>,
) -> DrawResult<DB> {
    let kib = |b: u64| b as f64 / 1024.0;
    let total = |parts: &Parts| parts.iter().map(|p| p.0).sum::<u64>();
    let used_max = bars.iter().flatten().map(|p| total(p)).max().unwrap_or(0);
    let top = kib(used_max.max(capacity.unwrap_or(0))) * 1.22;
    let top = if top > 0.0 { top } else { 1.0 };
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_left(10)
        .margin_right(20)
        .margin_top(28)
        .x_label_area_size(56)
        .y_label_area_size(label_w)
        .build_cartesian_2d(0.0..top, 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(6)
        .x_label_formatter(&|v| tick_label(*v))
        .x_desc(x_desc)
        .label_style(text(LABEL_SIZE, &INK))
        .axis_desc_style(text(LABEL_SIZE, &INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(GREY)
        .draw()?;
    let value_style = text(VALUE_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, parts) in bars.iter().enumerate() {
        // First row on top.
        let y_top = n - i as f64 - 0.18;
        let y_bottom = n - i as f64 - 0.82;
        let (_, yc) = chart.backend_coord(&(0.0, n - i as f64 - 0.5));
        if let Some(rows) = rows {
            let (x, _) = chart.backend_coord(&(0.0, 0.0));
            root.draw(&Text::new(
                rows[i].label.clone(),
                (x - 10, yc),
                text(LABEL_SIZE, &INK).pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        let Some(parts) = parts else {
            let (x, _) = chart.backend_coord(&(0.0, 0.0));
            root.draw(&Text::new(
                "failed".to_owned(),
                (x + 6, yc),
                text(VALUE_SIZE, &GREY).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            continue;
        };
        let mut x = 0u64;
        for (bytes, colour) in parts.iter() {
            let (ax, ay) = chart.backend_coord(&(kib(x), y_top));
            let (bx, by) = chart.backend_coord(&(kib(x + bytes), y_bottom));
            if bx > ax {
                root.draw(&Rectangle::new([(ax, ay), (bx, by)], colour.filled()))?;
            }
            x += bytes;
        }
        let mut label = format!("{} KiB", sig3(kib(x)));
        if let Some(c) = capacity.filter(|c| *c > 0) {
            label += &format!(" ({:.0}%)", x as f64 * 100.0 / c as f64);
        }
        let (ex, _) = chart.backend_coord(&(kib(x), 0.0));
        root.draw(&Text::new(label, (ex + 6, yc), value_style.clone()))?;
    }
    if let Some(c) = capacity {
        let (x, y0) = chart.backend_coord(&(kib(c), n));
        let (_, y1) = chart.backend_coord(&(kib(c), 0.0));
        root.draw(&PathElement::new(
            vec![(x, y0 - 6), (x, y1)],
            ShapeStyle::from(&CAPACITY).stroke_width(2),
        ))?;
        root.draw(&Text::new(
            format!("capacity {} KiB", sig3(kib(c))),
            (x, y0 - 8),
            text(VALUE_SIZE, &CAPACITY).pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))?;
    }
    Ok(())
}

/// A bar of 100 % per row, its parts labelled with their share where it fits, the job on the
/// left and the whole on the right.
fn draw_shares<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    s: &ShareBars,
) -> DrawResult<DB> {
    let n = s.rows.len() as f64;
    let mut chart = ChartBuilder::on(plot)
        .margin_left(10)
        .margin_right(150)
        .margin_top(10)
        .x_label_area_size(56)
        .y_label_area_size(250)
        .build_cartesian_2d(0.0..100.0, 0.0..n)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(11)
        .x_label_formatter(&|v| tick_label(*v))
        .x_desc("share of the inference (%)")
        .label_style(text(LABEL_SIZE, &INK))
        .axis_desc_style(text(LABEL_SIZE, &INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(GREY)
        .draw()?;
    let share_style = text(VALUE_SIZE, &WHITE).pos(Pos::new(HPos::Center, VPos::Center));
    for (i, row) in s.rows.iter().enumerate() {
        // First row on top.
        let y_top = n - i as f64 - 0.18;
        let y_bottom = n - i as f64 - 0.82;
        let (x0, yc) = chart.backend_coord(&(0.0, n - i as f64 - 0.5));
        root.draw(&Text::new(
            row.label.clone(),
            (x0 - 10, yc),
            text(LABEL_SIZE, &INK).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        let mut x = 0.0;
        for (pct, colour) in &row.parts {
            let (ax, ay) = chart.backend_coord(&(x, y_top));
            let (bx, by) = chart.backend_coord(&((x + pct).min(100.0), y_bottom));
            if bx > ax {
                root.draw(&Rectangle::new([(ax, ay), (bx, by)], colour.filled()))?;
            }
            let label = format!("{pct:.0}%");
            let (tw, _) = root.estimate_text_size(&label, &share_style)?;
            if (tw as i32) + 6 < bx - ax {
                // Dark text on the light colours of the palette.
                let ink = if colour.0 as u32 + colour.1 as u32 + colour.2 as u32 > 450 {
                    &INK
                } else {
                    &WHITE
                };
                root.draw(&Text::new(
                    label,
                    ((ax + bx) / 2, yc),
                    text(VALUE_SIZE, ink).pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
            x += pct;
        }
        let (ex, _) = chart.backend_coord(&(100.0, 0.0));
        root.draw(&Text::new(
            row.total.clone(),
            (ex + 8, yc),
            text(VALUE_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

fn draw_scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &DrawingArea<DB, Shift>,
    s: &Scatter,
) -> DrawResult<DB> {
    let (ymin, ymax) = s
        .points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.y), hi.max(p.y))
        });
    let pad = ((ymax - ymin) * 0.15).max(0.005);
    let (ylo, yhi) = ((ymin - pad).max(0.0), (ymax + pad).min(1.0));
    let (ylo, yhi) = if yhi > ylo {
        (ylo, yhi)
    } else {
        (ylo - 0.01, yhi + 0.01)
    };
    let xmax = s.points.iter().map(|p| p.x).fold(0.0f64, f64::max);
    if s.x_log {
        let xmin = s.points.iter().map(|p| p.x).fold(f64::INFINITY, f64::min);
        let lo = 10f64.powf((xmin * 0.7).log10().floor());
        let hi = xmax * 1.6;
        let chart = scatter_axes(plot, s, (lo..hi).log_scale(), ylo..yhi)?;
        plot_points(root, &chart, s)
    } else {
        let chart = scatter_axes(plot, s, 0.0..xmax * 1.12, ylo..yhi)?;
        plot_points(root, &chart, s)
    }
}

fn scatter_axes<'a, DB, X>(
    plot: &DrawingArea<DB, Shift>,
    s: &Scatter,
    x: X,
    y: std::ops::Range<f64>,
) -> Result<YLinear<'a, DB, X::CoordDescType>, DrawError<DB>>
where
    DB: DrawingBackend + 'a,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let decimals = if y.end - y.start < 0.05 { 3 } else { 2 };
    let mut chart = ChartBuilder::on(plot)
        .margin_left(20)
        .margin_right(40)
        .margin_top(10)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| format!("{v:.decimals$}"))
        .x_desc(s.x_desc.as_str())
        .y_desc(s.y_desc.as_str())
        .label_style(text(LABEL_SIZE, &INK))
        .axis_desc_style(text(LABEL_SIZE, &INK))
        .bold_line_style(GRID)
        .light_line_style(if s.x_log {
            FAINT.to_rgba()
        } else {
            TRANSPARENT
        })
        .axis_style(GREY)
        .draw()?;
    Ok(chart)
}

fn plot_points<DB, X>(
    root: &DrawingArea<DB, Shift>,
    chart: &YLinear<DB, X>,
    s: &Scatter,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
{
    for p in &s.points {
        draw_marker(
            root,
            p.marker,
            chart.backend_coord(&(p.x, p.y)),
            p.colour,
            9,
        )?;
    }
    Ok(())
}
