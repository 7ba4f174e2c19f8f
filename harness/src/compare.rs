//! Baseline vs run: per-metric deltas, regressions past thresholds, and a verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::results::{JobKey, JobResult, JobStatus};

/// When a change counts as a regression (or an improvement), per metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Emulated cycles are deterministic, so a tight relative threshold is meaningful.
    pub latency_pct_emulated: f64,
    /// Silicon jitters (interrupts, caches, flash prefetch): allow more.
    pub latency_pct_silicon: f64,
    pub flash_bytes: u64,
    pub ram_bytes: u64,
    pub energy_pct: f64,
    /// Absolute drop of the on-device metric (0.01 = one point of accuracy).
    pub metric_drop: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            latency_pct_emulated: 1.0,
            latency_pct_silicon: 5.0,
            flash_bytes: 1024,
            ram_bytes: 1024,
            energy_pct: 5.0,
            metric_drop: 0.01,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    LatencyCycles,
    LatencyMs,
    FlashBytes,
    RamBytes,
    EnergyUj,
    OnDeviceMetric,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Metric::LatencyCycles => "latency (cycles, median)",
            Metric::LatencyMs => "latency (ms, median)",
            Metric::FlashBytes => "flash (bytes)",
            Metric::RamBytes => "RAM peak (bytes)",
            Metric::EnergyUj => "energy (uJ/inference)",
            Metric::OnDeviceMetric => "on-device metric",
        }
    }

    /// True when a larger value is better.
    fn higher_is_better(self) -> bool {
        matches!(self, Metric::OnDeviceMetric)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Regression,
    Improvement,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    pub key: JobKey,
    pub metric: Metric,
    pub baseline: f64,
    pub run: f64,
    pub change_pct: f64,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotCompared {
    pub key: JobKey,
    pub metric: Metric,
    pub reason: String,
}

/// An operator whose cycles grew in a job whose latency regressed: where to look first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorGrowth {
    pub key: JobKey,
    /// The operator's position in execution order, and its name ("CONV_2D").
    pub index: u32,
    pub name: String,
    pub baseline_cycles: u64,
    pub run_cycles: u64,
}

/// How many operators a regressed job names, the most grown first.
pub const OPERATORS_NAMED: usize = 3;

/// Everything compare found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub thresholds: Thresholds,
    pub matched: usize,
    pub deltas: Vec<Delta>,
    pub not_compared: Vec<NotCompared>,
    pub new_jobs: Vec<JobKey>,
    pub missing_jobs: Vec<JobKey>,
    /// Jobs that failed in the run (correctness or otherwise), with the reason.
    pub failures: Vec<(JobKey, String)>,
    /// For each job whose latency regressed, the operators whose cycles grew most (when both
    /// sides have per-operator cycles of the same operators).
    pub operators: Vec<OperatorGrowth>,
}

impl Comparison {
    pub fn regressions(&self) -> impl Iterator<Item = &Delta> {
        self.deltas
            .iter()
            .filter(|d| d.change == Change::Regression)
    }

    pub fn improvements(&self) -> impl Iterator<Item = &Delta> {
        self.deltas
            .iter()
            .filter(|d| d.change == Change::Improvement)
    }

    /// 0 when nothing regressed and nothing failed, 1 otherwise (2 is for errors, upstream).
    pub fn exit_code(&self) -> i32 {
        if self.regressions().next().is_some() || !self.failures.is_empty() {
            1
        } else {
            0
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("the baseline and the run have no job in common (baseline boards: {baseline_boards}; run boards: {run_boards}); compare a run with a baseline made from the same boards and workloads, or update the baseline with `mcubench baseline update <run>`")]
    Disjoint {
        baseline_boards: String,
        run_boards: String,
    },
}

/// Compares `run` against `baseline`, job by job.
pub fn compare(
    baseline: &[JobResult],
    run: &[JobResult],
    thresholds: Thresholds,
) -> Result<Comparison, CompareError> {
    let base: BTreeMap<&JobKey, &JobResult> = baseline.iter().map(|r| (&r.key, r)).collect();
    let new: BTreeMap<&JobKey, &JobResult> = run.iter().map(|r| (&r.key, r)).collect();
    let matched: Vec<&JobKey> = base
        .keys()
        .filter(|k| new.contains_key(*k))
        .copied()
        .collect();
    if matched.is_empty() && !base.is_empty() && !new.is_empty() {
        let boards = |m: &BTreeMap<&JobKey, &JobResult>| {
            m.keys()
                .map(|k| k.board.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(CompareError::Disjoint {
            baseline_boards: boards(&base),
            run_boards: boards(&new),
        });
    }
    let mut out = Comparison {
        thresholds,
        matched: matched.len(),
        deltas: Vec::new(),
        not_compared: Vec::new(),
        new_jobs: new
            .keys()
            .filter(|k| !base.contains_key(*k))
            .map(|k| (*k).clone())
            .collect(),
        missing_jobs: base
            .keys()
            .filter(|k| !new.contains_key(*k))
            .map(|k| (*k).clone())
            .collect(),
        failures: run
            .iter()
            .filter(|r| r.status == JobStatus::Failed)
            .map(|r| {
                (
                    r.key.clone(),
                    r.failure.clone().unwrap_or_else(|| "failed".into()),
                )
            })
            .collect(),
        operators: Vec::new(),
    };
    for key in matched {
        let (b, r) = (base[key], new[key]);
        if b.status == JobStatus::Failed || r.status == JobStatus::Failed {
            continue;
        }
        compare_job(key, b, r, &thresholds, &mut out);
    }
    let slower: Vec<&JobKey> = out
        .regressions()
        .filter(|d| matches!(d.metric, Metric::LatencyCycles | Metric::LatencyMs))
        .map(|d| &d.key)
        .collect();
    let operators = slower
        .into_iter()
        .flat_map(|key| grown_operators(key, base[key], new[key]))
        .collect();
    out.operators = operators;
    Ok(out)
}

/// The operators of `key` whose cycles grew most from `b` to `r`, at most [`OPERATORS_NAMED`];
/// none when either side has no per-operator cycles or the operators differ (another model).
fn grown_operators(key: &JobKey, b: &JobResult, r: &JobResult) -> Vec<OperatorGrowth> {
    let same_ops = b.ops.len() == r.ops.len()
        && b.ops
            .iter()
            .zip(&r.ops)
            .all(|(x, y)| x.index == y.index && x.name == y.name);
    if b.ops.is_empty() || !same_ops {
        return Vec::new();
    }
    let mut grown: Vec<OperatorGrowth> = b
        .ops
        .iter()
        .zip(&r.ops)
        .filter(|(x, y)| y.cycles > x.cycles)
        .map(|(x, y)| OperatorGrowth {
            key: key.clone(),
            index: y.index,
            name: y.name.clone(),
            baseline_cycles: x.cycles,
            run_cycles: y.cycles,
        })
        .collect();
    // Most grown first; the earlier operator first among equals, so the order is stable.
    grown.sort_by_key(|g| (std::cmp::Reverse(g.run_cycles - g.baseline_cycles), g.index));
    grown.truncate(OPERATORS_NAMED);
    grown
}

fn compare_job(key: &JobKey, b: &JobResult, r: &JobResult, t: &Thresholds, out: &mut Comparison) {
    let mut push = |metric: Metric,
                    base: f64,
                    run: f64,
                    pct_threshold: Option<f64>,
                    abs_threshold: Option<f64>| {
        let change_pct = if base != 0.0 {
            (run - base) / base * 100.0
        } else {
            0.0
        };
        let worse = if metric.higher_is_better() {
            base - run
        } else {
            run - base
        };
        let past = |x: f64| {
            pct_threshold.is_some_and(|p| base != 0.0 && x / base.abs() * 100.0 > p)
                || abs_threshold.is_some_and(|a| x > a)
        };
        let change = if past(worse) {
            Change::Regression
        } else if past(-worse) {
            Change::Improvement
        } else {
            Change::Unchanged
        };
        out.deltas.push(Delta {
            key: key.clone(),
            metric,
            baseline: base,
            run,
            change_pct,
            change,
        });
    };

    // Latency: cycles are comparable only under one cycle model (or both on silicon).
    let latency_comparable = match (&b.cycle_model, &r.cycle_model) {
        (Some(x), Some(y)) if x != y => Err(format!(
            "emulated with cycle model {x} in the baseline and {y} in the run; emulated latency is compared only under one cycle-model version (update the baseline)"
        )),
        (Some(_), None) | (None, Some(_)) => {
            Err("one side is emulated and the other measured on silicon".to_owned())
        }
        _ => Ok(()),
    };
    if let (Some(bl), Some(rl)) = (&b.latency, &r.latency) {
        match &latency_comparable {
            Ok(()) => {
                let pct = if r.emulated() {
                    t.latency_pct_emulated
                } else {
                    t.latency_pct_silicon
                };
                if b.clock_hz == r.clock_hz {
                    push(
                        Metric::LatencyCycles,
                        bl.cycles_median,
                        rl.cycles_median,
                        Some(pct),
                        None,
                    );
                } else {
                    push(
                        Metric::LatencyMs,
                        bl.ms_median,
                        rl.ms_median,
                        Some(pct),
                        None,
                    );
                }
            }
            Err(reason) => out.not_compared.push(NotCompared {
                key: key.clone(),
                metric: Metric::LatencyCycles,
                reason: reason.clone(),
            }),
        }
    }
    if let (Some(bf), Some(rf)) = (&b.flash, &r.flash) {
        push(
            Metric::FlashBytes,
            bf.total_bytes as f64,
            rf.total_bytes as f64,
            None,
            Some(t.flash_bytes as f64),
        );
    }
    if let (Some(bm), Some(rm)) = (&b.ram, &r.ram) {
        push(
            Metric::RamBytes,
            bm.peak_bytes as f64,
            rm.peak_bytes as f64,
            None,
            Some(t.ram_bytes as f64),
        );
    }
    if let (Some(be), Some(re)) = (&b.energy, &r.energy) {
        if be.estimated == re.estimated && latency_comparable.is_ok() {
            push(
                Metric::EnergyUj,
                be.energy_uj,
                re.energy_uj,
                Some(t.energy_pct),
                None,
            );
        } else {
            out.not_compared.push(NotCompared {
                key: key.clone(),
                metric: Metric::EnergyUj,
                reason: if be.estimated != re.estimated {
                    "estimated on one side and measured on the other".into()
                } else {
                    "estimated from latencies that are not comparable".into()
                },
            });
        }
    }
    if let (Some(ba), Some(ra)) = (&b.accuracy, &r.accuracy) {
        if ba.metric == ra.metric {
            push(
                Metric::OnDeviceMetric,
                ba.device,
                ra.device,
                None,
                Some(t.metric_drop),
            );
        }
    }
}

fn fmt_value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::LatencyCycles | Metric::FlashBytes | Metric::RamBytes => format!("{:.0}", v),
        Metric::LatencyMs => format!("{v:.3}"),
        Metric::EnergyUj => format!("{v:.2}"),
        Metric::OnDeviceMetric => format!("{v:.4}"),
    }
}

fn delta_row(d: &Delta) -> String {
    format!(
        "| {} | {} | {} | {} | {:+.2} % |\n",
        d.key,
        d.metric.label(),
        fmt_value(d.metric, d.baseline),
        fmt_value(d.metric, d.run),
        d.change_pct
    )
}

/// The verdict as Markdown, ready to paste as a pull-request comment.
pub fn markdown(c: &Comparison, baseline_name: &str, run_name: &str) -> String {
    let regressions: Vec<&Delta> = c.regressions().collect();
    let improvements: Vec<&Delta> = c.improvements().collect();
    let mut s = String::new();
    let headline = match (regressions.len(), c.failures.len()) {
        (0, 0) => "no regression".to_owned(),
        (r, 0) => format!("{r} regression{}", if r == 1 { "" } else { "s" }),
        (0, f) => format!("{f} failed job{}", if f == 1 { "" } else { "s" }),
        (r, f) => format!(
            "{r} regression{} and {f} failed job{}",
            if r == 1 { "" } else { "s" },
            if f == 1 { "" } else { "s" }
        ),
    };
    let _ = writeln!(s, "## mcubench: {headline}\n");
    let _ = writeln!(
        s,
        "Run `{run_name}` against baseline `{baseline_name}`: {} jobs compared, {} new, {} missing.",
        c.matched,
        c.new_jobs.len(),
        c.missing_jobs.len()
    );
    let t = &c.thresholds;
    let _ = writeln!(
        s,
        "Thresholds: latency {} % emulated / {} % silicon, flash {} B, RAM {} B, energy {} %, metric drop {}.\n",
        t.latency_pct_emulated, t.latency_pct_silicon, t.flash_bytes, t.ram_bytes, t.energy_pct, t.metric_drop
    );
    let table_head = "| job (board/workload/variant) | metric | baseline | run | change |\n| --- | --- | ---: | ---: | ---: |\n";
    if !c.failures.is_empty() {
        let _ = writeln!(s, "### Failed jobs\n\n| job | reason |\n| --- | --- |");
        for (k, reason) in &c.failures {
            let _ = writeln!(s, "| {k} | {} |", reason.replace('|', "\\|"));
        }
        s.push('\n');
    }
    if !regressions.is_empty() {
        let _ = writeln!(s, "### Regressions\n");
        s += table_head;
        for d in &regressions {
            s += &delta_row(d);
        }
        s.push('\n');
    }
    if !c.operators.is_empty() {
        let _ = writeln!(
            s,
            "### Operators that grew most\n\n| job | operator | baseline cycles | run cycles | change |\n| --- | --- | ---: | ---: | ---: |"
        );
        for g in &c.operators {
            let pct = if g.baseline_cycles > 0 {
                format!(
                    "{:+.2} %",
                    (g.run_cycles as f64 - g.baseline_cycles as f64) / g.baseline_cycles as f64
                        * 100.0
                )
            } else {
                "new".into()
            };
            let _ = writeln!(
                s,
                "| {} | #{} {} | {} | {} | {pct} |",
                g.key, g.index, g.name, g.baseline_cycles, g.run_cycles
            );
        }
        s.push('\n');
    }
    if !improvements.is_empty() {
        let _ = writeln!(s, "### Improvements\n");
        s += table_head;
        for d in &improvements {
            s += &delta_row(d);
        }
        s.push('\n');
    }
    if !c.not_compared.is_empty() {
        let _ = writeln!(
            s,
            "### Not compared\n\n| job | metric | why |\n| --- | --- | --- |"
        );
        for n in &c.not_compared {
            let _ = writeln!(s, "| {} | {} | {} |", n.key, n.metric.label(), n.reason);
        }
        s.push('\n');
    }
    for (title, keys) in [("New jobs", &c.new_jobs), ("Missing jobs", &c.missing_jobs)] {
        if !keys.is_empty() {
            let list: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            let _ = writeln!(s, "### {title}\n\n{}\n", list.join(", "));
        }
    }
    if !c.deltas.is_empty() {
        let _ = writeln!(s, "<details><summary>All compared metrics</summary>\n");
        s += table_head;
        for d in &c.deltas {
            s += &delta_row(d);
        }
        let _ = writeln!(s, "\n</details>");
    }
    s
}
