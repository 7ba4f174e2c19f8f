# The pull-request matrix, sourced by pr-check and update-baseline so that the baseline is always
# made by exactly the matrix CI checks: every virtual board of targets.toml, every workload and
# variant (no --board/--workload/--variant filter), one warm-up and one timed inference per job.
# Emulated cycles are deterministic, so one timed run measures what three would; it halves the
# matrix's time (the soft-float FP32 models on the Cortex-M0+ dominate it).
# shellcheck shell=bash
PR_MATRIX=(--warmup 1 --runs 1)
