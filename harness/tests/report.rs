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
    // After the workload's other tables, one per profiled job; none for the others.
    assert_eq!(
        &ids[ids.len() - 3..],
        ["kws_energy", "kws_ops_pico_fiq", "summary"]
    );
    let table = &all[ids.len() - 2];
    check_latex(&table.to_latex(), table.header.len());
    assert_eq!(table.rows.len(), 5);
    insta::assert_snapshot!("operator_table", table.to_markdown());
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
