//! The job matrix: boards x workloads x variants, filtered, with what cannot run rejected
//! before anything is built.

use sha2::{Digest, Sha256};

use crate::job::{self, PreparedJob, RunSettings};
use crate::results::{JobKey, Variant};
use crate::targets::Targets;
use crate::workloads::Workload;

/// `*` matches any run of characters, `?` one character; anything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Classic wildcard matching with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Filters by glob; an empty list matches everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub boards: Vec<String>,
    pub workloads: Vec<String>,
    pub variants: Vec<String>,
}

fn any_match(patterns: &[String], name: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| glob_match(p, name))
}

/// A job the plan will not run, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub key: JobKey,
    pub reason: String,
}

#[derive(Debug)]
pub struct Plan {
    pub jobs: Vec<PreparedJob>,
    pub rejected: Vec<Rejected>,
    /// Where each of `jobs` stands in the whole selection before sharding (parallel to `jobs`),
    /// so that `merge` can put the shards' jobs back in the unsharded order.
    pub positions: Vec<usize>,
    /// SHA-256 of the whole selection before sharding (every selected board/workload/variant,
    /// in order): the same for every shard of one plan and for the unsharded run.
    pub selection_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("--{what} {pattern:?} matches nothing (known: {known})")]
    NoMatch {
        what: &'static str,
        pattern: String,
        known: String,
    },
    #[error("--shard {0:?} is not of the form i/n with 1 <= i <= n")]
    BadShard(String),
}

/// A deterministic slice of the job list: job k goes to shard (k mod n) + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Shard, PlanError> {
        let bad = || PlanError::BadShard(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Every pattern must match something, so that a typo is not a silently empty run.
fn check_patterns(
    what: &'static str,
    patterns: &[String],
    names: &[&str],
) -> Result<(), PlanError> {
    for p in patterns {
        if !names.iter().any(|n| glob_match(p, n)) {
            return Err(PlanError::NoMatch {
                what,
                pattern: p.clone(),
                known: names.join(", "),
            });
        }
    }
    Ok(())
}

/// Plans the matrix: every (board, workload, variant) the filter selects, prepared on the host.
pub fn plan(
    targets: &Targets,
    workloads: &[Workload],
    filter: &Filter,
    shard: Option<Shard>,
    settings: &RunSettings,
    mut progress: impl FnMut(&JobKey),
) -> Result<Plan, PlanError> {
    let board_names: Vec<&str> = targets.boards.iter().map(|b| b.name.as_str()).collect();
    let workload_names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
    let variant_names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    check_patterns("board", &filter.boards, &board_names)?;
    check_patterns("workload", &filter.workloads, &workload_names)?;
    check_patterns("variant", &filter.variants, &variant_names)?;

    let mut selected = Vec::new();
    for board in targets
        .boards
        .iter()
        .filter(|b| any_match(&filter.boards, &b.name))
    {
        for workload in workloads
            .iter()
            .filter(|w| any_match(&filter.workloads, &w.name))
        {
            for variant in workload
                .variants
                .iter()
                .filter(|v| any_match(&filter.variants, v.variant.name()))
            {
                selected.push((board, workload, variant));
            }
        }
    }
    let mut hasher = Sha256::new();
    for (board, workload, variant) in &selected {
        hasher.update(format!(
            "{}/{}/{}\n",
            board.name, workload.name, variant.variant
        ));
    }
    let mut plan = Plan {
        jobs: Vec::new(),
        rejected: Vec::new(),
        positions: Vec::new(),
        selection_sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    for (k, (board, workload, variant)) in selected.into_iter().enumerate() {
        if let Some(shard) = shard {
            if k % shard.count != shard.index - 1 {
                continue;
            }
        }
        let key = JobKey {
            board: board.name.clone(),
            workload: workload.name.clone(),
            variant: variant.variant,
        };
        progress(&key);
        if let Some(ex) = workload.exclusion(&board.name, variant.variant) {
            plan.rejected.push(Rejected {
                key,
                reason: format!("excluded in workload.toml: {}", ex.reason),
            });
            continue;
        }
        match job::prepare(board, workload, variant, settings) {
            Ok(job) => {
                plan.jobs.push(job);
                plan.positions.push(k);
            }
            Err(e) => plan.rejected.push(Rejected {
                key,
                reason: e.to_string(),
            }),
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "pico"));
        assert!(glob_match("nrf*", "nrf52840-dk"));
        assert!(glob_match("*-dk", "nrf52840-dk"));
        assert!(glob_match("p?co", "pico"));
        assert!(glob_match("mlperf-*", "mlperf-kws"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("nrf*", "pico"));
        assert!(!glob_match("pico", "pico2"));
        assert!(!glob_match("?", ""));
    }

    #[test]
    fn shards() {
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "x", "1/", "/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
