//! Paper tables from a run's results: content, LaTeX well-formedness, determinism.

mod common;

use mcubench::cmd::report::{write_report, write_report_with};
use mcubench::report::charts::ChartOptions;
use mcubench::report::tables;
use mcubench::results::Variant;

#[test]
fn tables_cover_every_workload_and_metric() {
    let results = common::matrix();
    let ids: Vec<String> = tables(&results).into_iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        [
            "digits_latency",
            "digits_flash",
            "digits_ram",
            "digits_energy",
            "digits_accuracy",
            "kws_latency",
            "kws_flash",
            "kws_ram",
            "kws_energy",
            "summary"
        ]
    );
}

#[test]
fn a_profiled_job_gets_a_table_of_its_operators() {
    let mut results = common::matrix();
    let job = results
        .iter_mut()
        .find(|r| r.key.board == "pico" && r.key.workload == "kws" && r.key.variant == Variant::Fiq)
        .unwrap();
    job.ops = common::ops(job.latency.as_ref().unwrap().cycles_min);
    let all = tables(&results);
    let ids: Vec<&str> = all.iter().map(|t| t.id.as_str()).collect();
    // After the workload's other tables, one per profiled job; none for the others. The
    // engine's speed comes last.
    assert_eq!(
        &ids[ids.len() - 4..],
        ["kws_energy", "kws_ops_pico_fiq", "summary", "engine_speed"]
    );
    let table = &all[ids.len() - 3];
    check_latex(&table.to_latex(), table.header.len());
    assert_eq!(table.rows.len(), 5);
    insta::assert_snapshot!("operator_table", table.to_markdown());
}

/// `matrix()` with per-operator cycles on the FIQ and QAT jobs of kws and the FIQ job of
/// digits on the nRF52840 only.
fn profiled_matrix() -> Vec<mcubench::results::JobResult> {
    let mut results = common::matrix();
    for r in &mut results {
        let profiled = match (r.key.workload.as_str(), r.key.variant) {
            ("kws", Variant::Fiq | Variant::Qat) => true,
            ("digits", Variant::Fiq) => r.key.board == "nrf52840-dk",
            _ => false,
        };
        if profiled {
            r.ops = common::ops(r.latency.as_ref().unwrap().cycles_min);
        }
    }
    results
}

#[test]
fn the_engine_speed_table_lists_every_profiled_model_on_every_board() {
    let results = profiled_matrix();
    let all = tables(&results);
    let table = all.last().unwrap();
    assert_eq!(table.id, "engine_speed");
    assert_eq!(
        table.header.len(),
        3 + 3 * 2,
        "MACs once, three columns per board"
    );
    // Rows: workload x variant with ops, in the order of the results and of Variant::ALL.
    let rows: Vec<(&str, &str)> = table
        .rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(rows, [("digits", "FIQ"), ("kws", "FIQ"), ("kws", "QAT")]);
    // The MACs of common::ops: 294912 + 18432 + 80.
    assert!(table.rows.iter().all(|r| r[2] == "313424"));
    // digits FIQ was profiled on the nRF52840 only.
    assert_eq!(&table.rows[0][6..], ["–", "–", "–"]);
    check_latex(&table.to_latex(), table.header.len());
    let csv = String::from_utf8(table.to_csv()).unwrap();
    assert!(
        csv.starts_with("workload,variant,MACs,nrf52840-dk cycles,nrf52840-dk ms,"),
        "{csv}"
    );
    insta::assert_snapshot!("engine_speed", table.to_markdown());
}

#[test]
fn the_engine_speed_table_marks_emulated_figures_among_measured_ones() {
    let mut results = profiled_matrix();
    for r in results.iter_mut().filter(|r| r.key.board == "nrf52840-dk") {
        r.cycle_model = None;
        r.deploy = "probe-rs".into();
    }
    let all = tables(&results);
    let table = all.last().unwrap();
    let kws_fiq = &table.rows[1];
    assert!(!kws_fiq[3].contains('†'), "{kws_fiq:?}");
    assert!(kws_fiq[6].ends_with('†'), "{kws_fiq:?}");
    assert!(kws_fiq[8].ends_with('†'), "{kws_fiq:?}");
    assert!(
        table.notes.iter().any(|n| n.starts_with("† emulated")),
        "{:?}",
        table.notes
    );
}

#[test]
fn results_without_ops_have_no_engine_speed_table_and_still_report() {
    let results = common::matrix();
    assert!(tables(&results).iter().all(|t| t.id != "engine_speed"));
    // A run directory as mcubench stored it before it recorded operators: no `ops` in its lines.
    let dir = tempfile::tempdir().unwrap();
    let run =
        mcubench::results::RunDir::create(&dir.path().join("run"), &common::manifest()).unwrap();
    for r in &results {
        run.append(r).unwrap();
    }
    let jsonl = std::fs::read_to_string(run.path.join(mcubench::results::RunDir::RESULTS)).unwrap();
    assert!(!jsonl.contains("\"ops\""));
    let (code, stdout, stderr) = common::mcubench(&["report", run.path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let tables_dir = run.path.join("report/tables");
    assert!(tables_dir.join("summary.md").is_file());
    assert!(!tables_dir.join("engine_speed.md").exists());
    // With ops, the same directory gets the table in all three formats.
    let profiled =
        mcubench::results::RunDir::create(&dir.path().join("profiled"), &common::manifest())
            .unwrap();
    for r in &profiled_matrix() {
        profiled.append(r).unwrap();
    }
    let (code, stdout, stderr) = common::mcubench(&["report", profiled.path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for ext in ["md", "tex", "csv"] {
        assert!(profiled
            .path
            .join(format!("report/tables/engine_speed.{ext}"))
            .is_file());
    }
}

#[test]
fn markdown_tables_snapshot() {
    let results = common::matrix();
    let md: String = tables(&results)
        .iter()
        .map(|t| t.to_markdown() + "\n")
        .collect();
    assert!(md.contains("Emulated on mcubench virtual boards (cycle model 1)."));
    assert!(md.contains("Figures marked * are estimated from the energy model"));
    assert!(md.contains("| FP32 | 40.625 | failed |"), "{md}");
    insta::assert_snapshot!("markdown_tables", md);
}

#[test]
fn latex_tables_snapshot_and_are_well_formed() {
    let results = common::matrix();
    let all = tables(&results);
    for t in &all {
        let tex = t.to_latex();
        check_latex(&tex, t.header.len());
    }
    insta::assert_snapshot!("latex_summary", all.last().unwrap().to_latex());
}

/// A small structural check in place of a TeX installation: environments nest and close,
/// braces balance outside escapes, and every row has as many cells as the column spec.
fn check_latex(tex: &str, columns: usize) {
    let mut envs = Vec::new();
    for (i, line) in tex.lines().enumerate() {
        let mut depth = 0i32;
        let mut escaped = false;
        for c in line.chars() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '{') => depth += 1,
                (false, '}') => depth -= 1,
                (false, '%') => break,
                _ => {}
            }
            assert!(depth >= 0, "line {}: unbalanced braces: {line}", i + 1);
        }
        assert_eq!(depth, 0, "line {}: unbalanced braces: {line}", i + 1);
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("\\begin{") {
            envs.push(rest[..rest.find('}').unwrap()].to_owned());
            if rest.starts_with("tabular}") {
                let spec = &rest["tabular}{".len()..rest.len() - 1];
                assert_eq!(spec.len(), columns, "column spec {spec}");
            }
        } else if let Some(rest) = t.strip_prefix("\\end{") {
            assert_eq!(
                envs.pop().as_deref(),
                Some(&rest[..rest.find('}').unwrap()]),
                "line {}",
                i + 1
            );
        } else if t.ends_with("\\\\") {
            let cells = t.trim_end_matches("\\\\").split(" & ").count();
            assert_eq!(cells, columns, "line {}: {t}", i + 1);
        }
    }
    assert!(envs.is_empty(), "unclosed environments {envs:?}");
}

#[test]
fn regenerating_a_report_gives_identical_files() {
    let results = common::matrix();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let capacities = std::collections::BTreeMap::from([
        ("nrf52840-dk".to_owned(), (1024 * 1024, 256 * 1024)),
        ("pico".to_owned(), (2048 * 1024 - 256, 264 * 1024)),
    ]);
    let options = ChartOptions::default();
    let written = write_report_with(a.path(), &results, &capacities, &options).unwrap();
    write_report_with(b.path(), &results, &capacities, &options).unwrap();
    assert_eq!(written.tables, 10);
    assert!(written
        .charts
        .iter()
        .all(|c| c.starts_with(a.path().join("charts"))));
    let mut files: Vec<_> = walk(a.path());
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("charts/kws_latency.png")));
    for f in files {
        let rel = f.strip_prefix(a.path()).unwrap();
        assert_eq!(
            std::fs::read(&f).unwrap(),
            std::fs::read(b.path().join(rel)).unwrap(),
            "{rel:?}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_report_without_capacities_still_has_every_chart() {
    let results = common::matrix();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(write_report(dir.path(), &results).unwrap(), 10);
    let memory = std::fs::read_to_string(dir.path().join("charts/memory_pico.svg")).unwrap();
    assert!(memory.contains("board capacity unknown"));
    assert!(dir.path().join("charts/kws_speedup.png").is_file());
}
