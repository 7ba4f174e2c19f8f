//! The CI files users copy (workflows, scripts/ci, docs/CI.md) call mcubench subcommands and
//! flags that exist, and the scripts they name are there and executable: a renamed flag or a
//! typo fails here, not in someone's pull request. (YAML syntax and GitHub Actions keys are
//! checked by actionlint in .ci/run: scripts/ci/actionlint.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags of the real-board back end, which another branch adds to `run`. The test fails when
/// the flag exists, so that this list is emptied then.
const PENDING_FLAGS: &[(&str, &str)] = &[];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files to check, relative to the root.
fn ci_files() -> Vec<PathBuf> {
    let mut files = vec![PathBuf::from(".ci/run")];
    for dir in [".github/workflows", "scripts/ci"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| Path::new(dir).join(e.unwrap().file_name()))
            .collect();
        entries.sort();
        files.extend(entries);
    }
    for doc in ["docs/CI.md", "results/baseline/README.md"] {
        files.push(PathBuf::from(doc));
    }
    files
}

/// Every `mcubench <subcommand> --flag ...` on one line: the binary, `"$mcubench"`, or
/// `cargo run --release [--locked] -- <subcommand>`. Returns (file:line, subcommand, flags).
/// Comments are skipped, and in Markdown everything but fenced code (prose says "mcubench
/// runs ...").
fn invocations(file: &Path, text: &str) -> Vec<(String, String, Vec<String>)> {
    let markdown = file.extension().is_some_and(|e| e == "md");
    let mut fenced = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if (markdown && !fenced) || (!markdown && line.trim_start().starts_with('#')) {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        for (i, t) in tokens.iter().enumerate() {
            let t = t.trim_matches(|c| c == '`' || c == '"' || c == '\'');
            // A bare `mcubench` starts a command; elsewhere it is a word ("the mcubench checkout").
            let starts_command =
                i == 0 || ["run:", "-", "&&", "||", ";", "$(", "|"].contains(&tokens[i - 1]);
            let is_mcubench = (t == "mcubench" && starts_command)
                || t.ends_with("/mcubench")
                || t == "$mcubench"
                || (t == "--"
                    && i >= 2
                    && tokens[..i].contains(&"run")
                    && tokens[..i].contains(&"cargo"));
            if !is_mcubench || i + 1 >= tokens.len() {
                continue;
            }
            let mut sub = tokens[i + 1].trim_matches('`').to_owned();
            let mut rest = i + 2;
            if sub == "baseline" && rest < tokens.len() {
                sub = format!("baseline {}", tokens[rest].trim_matches('`'));
                rest += 1;
            }
            if !sub.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                continue;
            }
            let mut flags = Vec::new();
            for t in &tokens[rest..] {
                if ["||", "&&", ";", "|", "#"].contains(t) {
                    break;
                }
                let t = t.trim_matches(|c| c == '`' || c == '"' || c == '\'');
                if t.starts_with("--") && t.len() > 2 {
                    flags.push(t.split('=').next().unwrap_or(t).to_owned());
                } else if t.starts_with('-') && t.len() == 2 && t != "-" {
                    flags.push(t.to_owned());
                }
            }
            out.push((format!("{}:{}", file.display(), n + 1), sub, flags));
        }
    }
    out
}

fn help(place: &str, sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mcubench"))
        .args(sub.split(' '))
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{place}: `mcubench {sub} --help` failed: is `{sub}` a subcommand?\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ci_files_call_mcubench_subcommands_and_flags_that_exist() {
    let pr_matrix = std::fs::read_to_string(root().join("scripts/ci/pr-matrix.sh")).unwrap();
    let mut helps: BTreeMap<String, String> = BTreeMap::new();
    let mut checked = 0;
    let mut pending_seen = Vec::new();
    for file in ci_files() {
        let text = std::fs::read_to_string(root().join(&file))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (place, sub, mut flags) in invocations(&file, &text) {
            // The PR matrix's flags go to `run` through "${PR_MATRIX[@]}".
            if sub == "run" && text.contains("${PR_MATRIX[@]}") {
                let (_, matrix, flags_of_matrix) = invocations(
                    Path::new("pr-matrix.sh"),
                    &pr_matrix.replace("PR_MATRIX=(", "mcubench run "),
                )
                .into_iter()
                .next()
                .expect("scripts/ci/pr-matrix.sh defines PR_MATRIX");
                assert_eq!(matrix, "run");
                flags.extend(flags_of_matrix);
            }
            let help = helps
                .entry(sub.clone())
                .or_insert_with(|| help(&place, &sub));
            for flag in flags {
                let known = help.contains(&format!("{flag} "))
                    || help.contains(&format!("{flag},"))
                    || help.contains(&format!("{flag}\n"))
                    || help.contains(&format!("{flag} <"));
                if PENDING_FLAGS.contains(&(sub.as_str(), flag.as_str())) {
                    assert!(!known, "{place}: `mcubench {sub} {flag}` exists now; remove it from PENDING_FLAGS in {}", file!());
                    pending_seen.push(flag);
                    continue;
                }
                assert!(
                    known,
                    "{place}: `mcubench {sub}` has no flag {flag} (see `mcubench {sub} --help`)"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} flags found: is the parser broken?"
    );
    assert!(
        helps.contains_key("merge") && helps.contains_key("compare") && helps.contains_key("run"),
        "the CI files call merge, compare and run: {:?}",
        helps.keys().collect::<Vec<_>>()
    );
}

#[test]
fn scripts_the_workflows_name_exist_and_are_executable() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut named = 0;
    for file in ci_files() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        for word in
            text.split(|c: char| c.is_whitespace() || c == '"' || c == '`' || c == '(' || c == ')')
        {
            if let Some(script) = word.strip_prefix("scripts/ci/") {
                let script = script.trim_end_matches([',', '.', ':', ';']);
                if script.is_empty() || script.contains('*') {
                    continue;
                }
                let path = root().join("scripts/ci").join(script);
                let meta = std::fs::metadata(&path).unwrap_or_else(|_| {
                    panic!(
                        "{} names scripts/ci/{script}, which does not exist",
                        file.display()
                    )
                });
                if !script.ends_with(".sh") {
                    assert!(
                        meta.permissions().mode() & 0o111 != 0,
                        "scripts/ci/{script} (named in {}) is not executable: git update-index --chmod=+x",
                        file.display()
                    );
                }
                named += 1;
            }
        }
    }
    assert!(named >= 4, "only {named} script references found");
}

#[test]
fn the_parser_finds_invocations_and_flags() {
    let found = invocations(
        Path::new("x"),
        "  run: target/release/mcubench merge a b -o out --force || true\n\
         cargo run --release --locked -- baseline update results/runs/x\n\
         \"$mcubench\" compare results/baseline \"$run_dir\" --strict --output=\"$v\" \"$@\"\n",
    );
    assert_eq!(
        found,
        [
            (
                "x:1".into(),
                "merge".into(),
                vec!["-o".into(), "--force".into()]
            ),
            ("x:2".into(), "baseline update".into(), vec![]),
            (
                "x:3".into(),
                "compare".into(),
                vec!["--strict".into(), "--output".into()]
            ),
        ]
    );
}

#[test]
fn strict_compare_fails_on_a_stale_baseline_and_says_how_to_update_it() {
    use mcubench::results::{RunDir, Variant};
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, cycle_model: &str, variants: &[Variant]| {
        let mut m = common::manifest();
        m.cycle_model = Some(cycle_model.into());
        let path = tmp.path().join(name);
        let run = RunDir::create(&path, &m).unwrap();
        for v in variants {
            let mut r = common::job("pico", "digits", *v, &[1000]);
            r.cycle_model = Some(cycle_model.into());
            run.append(&r).unwrap();
        }
        path.to_str().unwrap().to_owned()
    };
    let baseline = write("baseline", "1", &[Variant::Fiq, Variant::Qat]);
    let same = write("same", "1", &[Variant::Fiq, Variant::Qat]);
    let fewer = write("fewer", "1", &[Variant::Fiq]);
    let remodelled = write("remodelled", "2", &[Variant::Fiq, Variant::Qat]);
    let compare = |run: &str, strict: bool| {
        let mut args = vec!["compare", baseline.as_str(), run];
        if strict {
            args.push("--strict");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_mcubench"))
            .args(&args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(compare(&same, true).0, 0);
    // Without --strict a missing job or an incomparable latency is reported, not failed.
    assert_eq!(compare(&fewer, false).0, 0);
    assert_eq!(compare(&remodelled, false).0, 0);
    let (code, out) = compare(&fewer, true);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("**Failing (--strict): the baseline is stale** (1 baseline jobs missing from the run, 0 metrics not compared)")
            && out.contains("`scripts/ci/update-baseline`"),
        "{out}"
    );
    let (code, out) = compare(&remodelled, true);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("0 baseline jobs missing from the run, 4 metrics not compared"),
        "{out}"
    );
}

#[test]
fn the_committed_baseline_is_a_run_of_the_pr_matrix() {
    // scripts/ci/pr-matrix.sh: PR_MATRIX=(--warmup W --runs R), no filter.
    let matrix = std::fs::read_to_string(root().join("scripts/ci/pr-matrix.sh")).unwrap();
    let line = matrix
        .lines()
        .find(|l| l.starts_with("PR_MATRIX=("))
        .expect("scripts/ci/pr-matrix.sh defines PR_MATRIX");
    let args: Vec<&str> = line
        .trim_start_matches("PR_MATRIX=(")
        .trim_end_matches(')')
        .split_whitespace()
        .collect();
    let value = |flag: &str| -> u32 {
        let i = args.iter().position(|a| *a == flag).unwrap_or_else(|| {
            panic!("PR_MATRIX has no {flag}: the baseline's settings must be explicit")
        });
        args[i + 1].parse().unwrap()
    };
    let baseline = mcubench::results::RunDir::open(&root().join("results/baseline"))
        .expect("results/baseline");
    let m = baseline.manifest().unwrap();
    let stale = "regenerate it with scripts/ci/update-baseline (results/baseline/README.md)";
    assert_eq!(m.warmup_runs, value("--warmup"), "{stale}");
    assert_eq!(m.timed_runs, value("--runs"), "{stale}");
    assert_eq!(
        m.selection,
        Some(Default::default()),
        "the baseline was made with a --board/--workload/--variant filter; {stale}"
    );
    assert_eq!(m.shard, None, "{stale}");
    // Every job of the matrix as planned now, each finished in the baseline.
    let out = Command::new(env!("CARGO_BIN_EXE_mcubench"))
        .arg("--root")
        .arg(root())
        .args(["run", "--dry-run"])
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let planned: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let stored: Vec<String> = baseline
        .results()
        .unwrap()
        .iter()
        .map(|r| r.key.to_string())
        .collect();
    let plan: Vec<String> = m.plan.iter().map(|k| k.to_string()).collect();
    assert_eq!(
        plan, planned,
        "the matrix changed since the baseline was made; {stale}"
    );
    let mut sorted = stored.clone();
    sorted.sort();
    let mut planned_sorted = planned.clone();
    planned_sorted.sort();
    assert_eq!(sorted, planned_sorted, "the baseline lacks jobs; {stale}");
}
