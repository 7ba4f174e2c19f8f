//! Paper tables (and, in charts.rs, charts) from a run directory's results.
//!
//! Everything is derived from results.jsonl and manifest.json alone, in a fixed order, so that
//! regenerating a report from the same run directory gives byte-identical files.

pub mod charts;
pub mod table;

use std::collections::BTreeSet;

use crate::results::{JobResult, JobStatus, Variant};
use table::Table;

/// Boards, workloads and variants in the order they first appear in the results.
struct Axes<'a> {
    boards: Vec<&'a str>,
    workloads: Vec<&'a str>,
}

impl<'a> Axes<'a> {
    fn of(results: &'a [JobResult]) -> Axes<'a> {
        let mut boards = Vec::new();
        let mut workloads = Vec::new();
        for r in results {
            if !boards.contains(&r.key.board.as_str()) {
                boards.push(r.key.board.as_str());
            }
            if !workloads.contains(&r.key.workload.as_str()) {
                workloads.push(r.key.workload.as_str());
            }
        }
        Axes { boards, workloads }
    }
}

fn find<'a>(
    results: &'a [JobResult],
    board: &str,
    workload: &str,
    variant: Variant,
) -> Option<&'a JobResult> {
    results
        .iter()
        .find(|r| r.key.board == board && r.key.workload == workload && r.key.variant == variant)
}

fn variants_of(results: &[JobResult], workload: &str) -> Vec<Variant> {
    let present: BTreeSet<Variant> = results
        .iter()
        .filter(|r| r.key.workload == workload)
        .map(|r| r.key.variant)
        .collect();
    Variant::ALL
        .into_iter()
        .filter(|v| present.contains(v))
        .collect()
}

/// How latency figures were obtained, as a note under a table.
fn latency_note(results: &[JobResult]) -> Option<String> {
    let models: BTreeSet<&str> = results
        .iter()
        .filter_map(|r| r.cycle_model.as_deref())
        .collect();
    let silicon = results
        .iter()
        .any(|r| r.cycle_model.is_none() && r.status == JobStatus::Ok);
    if models.is_empty() {
        return None;
    }
    let versions = models.into_iter().collect::<Vec<_>>().join(", ");
    Some(if silicon {
        format!("† emulated on mcubench virtual boards (cycle model {versions}); other figures measured on silicon.")
    } else {
        format!("Emulated on mcubench virtual boards (cycle model {versions}).")
    })
}

fn failed_cell(r: &JobResult) -> Option<String> {
    (r.status == JobStatus::Failed).then(|| "failed".to_owned())
}

/// A per-workload table with variants as rows and boards as columns.
fn grid(
    results: &[JobResult],
    axes: &Axes,
    workload: &str,
    id: &str,
    caption: String,
    cell: impl Fn(&JobResult) -> Option<String>,
) -> Table {
    let mut header = vec!["variant".to_owned()];
    header.extend(axes.boards.iter().map(|b| b.to_string()));
    let rows = variants_of(results, workload)
        .into_iter()
        .map(|v| {
            let mut row = vec![v.label().to_owned()];
            for board in &axes.boards {
                row.push(match find(results, board, workload, v) {
                    None => "–".to_owned(),
                    Some(r) => failed_cell(r)
                        .or_else(|| cell(r))
                        .unwrap_or_else(|| "–".into()),
                });
            }
            row
        })
        .collect();
    Table {
        id: format!("{}_{id}", file_stem(workload)),
        caption,
        header,
        rows,
        notes: Vec::new(),
    }
}

fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn kib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1024.0)
}

fn dagger(r: &JobResult, mixed: bool) -> &'static str {
    if mixed && r.emulated() {
        "†"
    } else {
        ""
    }
}

/// Every table of the report, in order.
pub fn tables(results: &[JobResult]) -> Vec<Table> {
    let axes = Axes::of(results);
    let mixed = results.iter().any(|r| r.emulated())
        && results
            .iter()
            .any(|r| !r.emulated() && r.status == JobStatus::Ok);
    let runs = results
        .iter()
        .filter_map(|r| r.latency.as_ref().map(|l| l.cycles.len()))
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for &w in &axes.workloads {
        let wr: Vec<JobResult> = results
            .iter()
            .filter(|r| r.key.workload == w)
            .cloned()
            .collect();
        let mut t = grid(
            results,
            &axes,
            w,
            "latency",
            format!("{w}: latency per inference in ms (median of {runs} runs)"),
            |r| {
                r.latency
                    .as_ref()
                    .map(|l| format!("{:.3}{}", l.ms_median, dagger(r, mixed)))
            },
        );
        t.notes.extend(latency_note(&wr));
        out.push(t);

        out.push(grid(
            results,
            &axes,
            w,
            "flash",
            format!("{w}: flash in KiB (firmware + model partition)"),
            |r| {
                r.flash
                    .map(|f| format!("{} + {}", kib(f.firmware_bytes), kib(f.partition_bytes)))
            },
        ));
        out.push(grid(
            results,
            &axes,
            w,
            "ram",
            format!("{w}: RAM in KiB (data + bss + peak stack; arena in bss)"),
            |r| {
                r.ram
                    .map(|m| format!("{} ({} arena)", kib(m.peak_bytes), kib(m.arena_bytes)))
            },
        ));

        let any_estimated = wr
            .iter()
            .any(|r| r.energy.as_ref().is_some_and(|e| e.estimated));
        let mut t = grid(
            results,
            &axes,
            w,
            "energy",
            format!("{w}: energy per inference in uJ"),
            |r| {
                r.energy
                    .as_ref()
                    .map(|e| format!("{:.2}{}", e.energy_uj, if e.estimated { "*" } else { "" }))
            },
        );
        if any_estimated {
            t.notes.push("Figures marked * are estimated from the energy model of targets.toml (supply voltage x run current x latency), not measured.".into());
        }
        out.push(t);

        if wr.iter().any(|r| r.accuracy.is_some()) {
            out.push(accuracy_table(results, &axes, w));
        }
        for &b in &axes.boards {
            for v in variants_of(results, w) {
                out.extend(find(results, b, w, v).and_then(operator_table));
            }
        }
    }
    if axes.workloads.len() > 1 || !results.is_empty() {
        out.push(summary_table(results, &axes));
    }
    out.extend(engine_speed_table(results, &axes));
    out
}

/// The engine's speed on every model it profiled: per workload and variant, the model's MACs
/// and, per board, the cycles and ms of the median timed run and cycles per MAC. Only jobs that
/// finished with per-operator cycles count (their `ops` give the MACs); None when there are none.
fn engine_speed_table(results: &[JobResult], axes: &Axes) -> Option<Table> {
    let profiled: Vec<&JobResult> = results
        .iter()
        .filter(|r| r.status == JobStatus::Ok && !r.ops.is_empty() && r.latency.is_some())
        .collect();
    if profiled.is_empty() {
        return None;
    }
    let mixed = profiled.iter().any(|r| r.emulated()) && profiled.iter().any(|r| !r.emulated());
    let macs_of = |r: &JobResult| r.ops.iter().map(|o| o.macs).sum::<u64>();
    let boards: Vec<&str> = axes
        .boards
        .iter()
        .copied()
        .filter(|b| profiled.iter().any(|r| r.key.board == *b))
        .collect();
    let mut header = ["workload", "variant", "MACs"].map(String::from).to_vec();
    for b in &boards {
        header.extend(["cycles", "ms", "cycles/MAC"].map(|c| format!("{b} {c}")));
    }
    let mut rows = Vec::new();
    for &w in &axes.workloads {
        for v in Variant::ALL {
            let jobs: Vec<&JobResult> = profiled
                .iter()
                .copied()
                .filter(|r| r.key.workload == w && r.key.variant == v)
                .collect();
            if jobs.is_empty() {
                continue;
            }
            // The same model has the same MACs on every board; should merged runs disagree,
            // each figure is shown (and each board's cycles/MAC uses its own).
            let macs: BTreeSet<u64> = jobs.iter().map(|r| macs_of(r)).collect();
            let mut row = vec![
                w.to_owned(),
                v.label().to_owned(),
                macs.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" / "),
            ];
            for b in &boards {
                match jobs.iter().find(|r| r.key.board == *b) {
                    Some(r) => {
                        let l = r.latency.as_ref().expect("filtered on latency");
                        let mark = dagger(r, mixed);
                        let macs = macs_of(r);
                        row.push(format!("{:.0}{mark}", l.cycles_median));
                        row.push(format!("{:.3}{mark}", l.ms_median));
                        row.push(if macs > 0 {
                            format!("{:.2}{mark}", l.cycles_median / macs as f64)
                        } else {
                            "–".into()
                        });
                    }
                    None => row.extend(["–", "–", "–"].map(String::from)),
                }
            }
            rows.push(row);
        }
    }
    let runs = profiled
        .iter()
        .filter_map(|r| r.latency.as_ref().map(|l| l.cycles.len()))
        .max()
        .unwrap_or(0);
    let timed = if runs == 1 {
        "the one timed run".to_owned()
    } else {
        format!("the median of {runs} timed runs")
    };
    let mut notes = vec![format!(
        "Cycles and ms: {timed} of one inference at the board's clock; MACs: the model's multiply-accumulates (the sum over its operators, from the host's engine); cycles/MAC: cycles over MACs. Only jobs with per-operator cycles are listed."
    )];
    let owned: Vec<JobResult> = profiled.into_iter().cloned().collect();
    notes.extend(latency_note(&owned));
    Some(Table {
        id: "engine_speed".into(),
        caption: "Engine speed: cycles, ms and cycles per MAC of one inference".into(),
        header,
        rows,
        notes,
    })
}

/// Where one job's inference goes: each operator's cycles in the firmware's profiling run,
/// with its output shape and MACs from the host's engine. None when the job has no profile.
fn operator_table(r: &JobResult) -> Option<Table> {
    if r.ops.is_empty() || r.status != JobStatus::Ok {
        return None;
    }
    let total: u64 = r.ops.iter().map(|o| o.cycles).sum();
    let rows = r
        .ops
        .iter()
        .map(|o| {
            let shape = o
                .output_shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x");
            vec![
                o.index.to_string(),
                o.name.clone(),
                shape,
                o.macs.to_string(),
                o.cycles.to_string(),
                if o.macs > 0 {
                    format!("{:.2}", o.cycles as f64 / o.macs as f64)
                } else {
                    "–".into()
                },
                format!("{:.1}", share_pct(o.cycles, total)),
            ]
        })
        .collect();
    let macs: u64 = r.ops.iter().map(|o| o.macs).sum();
    let mut notes = vec![format!(
        "One inference run operator by operator after the timed runs: {total} cycles in all ({} cycles/MAC over {macs} MACs){}.",
        if macs > 0 { format!("{:.2}", total as f64 / macs as f64) } else { "–".into() },
        r.latency.as_ref().map_or(String::new(), |l| format!(
            ", {:.1} % of the median timed run ({:.0} cycles)",
            share_pct(total, l.cycles_median as u64),
            l.cycles_median
        ))
    )];
    if let Some(model) = &r.cycle_model {
        notes.push(format!(
            "Emulated on mcubench virtual boards (cycle model {model})."
        ));
    }
    Some(Table {
        id: format!(
            "{}_ops_{}_{}",
            file_stem(&r.key.workload),
            file_stem(&r.key.board),
            r.key.variant
        ),
        caption: format!(
            "{} {} on {}: cycles per operator",
            r.key.workload,
            r.key.variant.label(),
            r.key.board
        ),
        header: [
            "#",
            "operator",
            "output shape",
            "MACs",
            "cycles",
            "cycles/MAC",
            "share %",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes,
    })
}

/// `part` as a percentage of `whole` (0 for an empty whole).
fn share_pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Accuracy before (host) and after (device) deployment side by side, like the survey's Table 1.
fn accuracy_table(results: &[JobResult], axes: &Axes, workload: &str) -> Table {
    let metric = results
        .iter()
        .find_map(|r| {
            (r.key.workload == workload)
                .then_some(r.accuracy.as_ref())
                .flatten()
        })
        .map_or("metric".to_owned(), |a| a.metric.clone());
    let mut header = vec!["variant".to_owned(), format!("{metric} host (before)")];
    header.extend(
        axes.boards
            .iter()
            .map(|b| format!("{metric} on {b} (after)")),
    );
    let measured: Vec<_> = results
        .iter()
        .filter(|r| r.key.workload == workload)
        .filter_map(|r| r.accuracy.as_ref())
        .collect();
    let samples = measured.iter().map(|a| a.samples).min().unwrap_or(0);
    let agreement = measured
        .iter()
        .map(|a| a.agreement)
        .fold(f64::INFINITY, f64::min);
    let mut rows = Vec::new();
    for v in variants_of(results, workload) {
        let host = axes.boards.iter().find_map(|b| {
            find(results, b, workload, v)
                .and_then(|r| r.accuracy.as_ref())
                .map(|a| a.host)
        });
        let mut row = vec![
            v.label().to_owned(),
            host.map_or("–".into(), |h| format!("{h:.4}")),
        ];
        for b in &axes.boards {
            row.push(match find(results, b, workload, v) {
                Some(r) => failed_cell(r)
                    .or_else(|| r.accuracy.as_ref().map(|a| format!("{:.4}", a.device)))
                    .unwrap_or_else(|| "–".into()),
                None => "–".into(),
            });
        }
        rows.push(row);
    }
    Table {
        id: format!("{}_accuracy", file_stem(workload)),
        caption: format!("{workload}: {metric} before and after deployment"),
        header,
        rows,
        notes: vec![format!(
            "Host: mcubench's engine on the host; after: on the board; both over the same {samples} test samples, streamed to the board after its timed runs. The board's outputs equal the host's for {:.1} % of the samples or more.",
            100.0 * agreement.min(1.0)
        )],
    }
}

/// Latency of every workload and variant, with the speed-up over FP32 on the same board.
fn summary_table(results: &[JobResult], axes: &Axes) -> Table {
    let mut header = vec!["workload".to_owned(), "variant".to_owned()];
    header.extend(axes.boards.iter().map(|b| b.to_string()));
    let mut rows = Vec::new();
    for &w in &axes.workloads {
        for v in variants_of(results, w) {
            let mut row = vec![w.to_owned(), v.label().to_owned()];
            for b in &axes.boards {
                let cell = find(results, b, w, v).map(|r| {
                    failed_cell(r).unwrap_or_else(|| {
                        let Some(l) = &r.latency else {
                            return "–".into();
                        };
                        let fp32 = find(results, b, w, Variant::Fp32)
                            .and_then(|f| f.latency.as_ref())
                            .filter(|_| v != Variant::Fp32);
                        match fp32 {
                            Some(f) if l.ms_median > 0.0 => {
                                format!("{:.3} (x{:.2})", l.ms_median, f.ms_median / l.ms_median)
                            }
                            _ => format!("{:.3}", l.ms_median),
                        }
                    })
                });
                row.push(cell.unwrap_or_else(|| "–".into()));
            }
            rows.push(row);
        }
    }
    let mut notes = vec![
        "Median latency in ms; in parentheses the speed-up over FP32 on the same board.".to_owned(),
    ];
    notes.extend(latency_note(results));
    Table {
        id: "summary".into(),
        caption: "Latency of every workload and variant".into(),
        header,
        rows,
        notes,
    }
}
