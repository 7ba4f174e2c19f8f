//! `mcubench emulate --board NAME path/to.elf`: any ELF on a virtual board.
//!
//! This is how a user brings their own firmware: what it prints (RTT, UART, semihosting) is
//! streamed to stdout, and the run ends with instructions, simulated time, host time and MIPS.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::deploy::emulator::{End, Limits, VirtualBoard, CYCLE_MODEL_VERSION};
use crate::job::{self, RunSettings};
use crate::project::Project;
use crate::results::Variant;
use crate::targets::Board;
use crate::workloads::Workload;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The board to emulate (see `mcubench boards`).
    #[arg(long)]
    pub board: String,
    /// The ELF to run, as it would be flashed.
    pub elf: PathBuf,
    /// Stop after this many instructions.
    #[arg(long, default_value_t = Limits::default().max_instructions)]
    pub max_instructions: u64,
    /// Stop after this many seconds of host time.
    #[arg(long, default_value_t = Limits::default().timeout.as_secs())]
    pub timeout_s: u64,
    /// Let peripheral registers that the chip model does not cover read as 0 and ignore
    /// writes, instead of stopping with a bus fault; every such address is listed at the end.
    #[arg(long)]
    pub permissive: bool,
    /// Print the cycles spent in each function (from the ELF's symbols), most first.
    #[arg(long)]
    pub profile: bool,
    /// Write this workload's model partition (model, test input, golden, as `run` does) before
    /// the run: with the benchmark firmware and `--profile`, where a real inference spends its
    /// cycles.
    #[arg(long, requires = "variant")]
    pub workload: Option<String>,
    /// With `--profile`: also write every instruction address's cycles to this file, one
    /// `address cycles function` line each (to line up with `llvm-objdump -d` when tuning a
    /// kernel).
    #[arg(long, value_name = "FILE", requires = "profile")]
    pub profile_addresses: Option<PathBuf>,
    /// The variant of `--workload` (fp32, drq, fiq, qat).
    #[arg(long, requires = "workload")]
    pub variant: Option<Variant>,
    /// The folder of model files outside the repository (as `run --models-dir`).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
}

/// Exit code: the semihosting exit code, 0 after `@done`, 1 after `@error` or a failure.
pub fn run(project: &Project, args: &Args) -> Result<i32> {
    let targets = project.targets()?;
    let board = targets.board(&args.board)?;
    let elf =
        std::fs::read(&args.elf).with_context(|| format!("cannot read {}", args.elf.display()))?;
    let mut vb = VirtualBoard::with_permissive(
        board,
        &elf,
        &args.elf.display().to_string(),
        args.permissive,
    )?;
    if let (Some(workload), Some(variant)) = (&args.workload, args.variant) {
        let partition = workload_partition(project, args, board, workload, variant)?;
        vb.write_partition(board, &partition)
            .with_context(|| format!("{workload}/{variant}"))?;
    }
    if args.profile {
        vb.enable_profile(board);
    }
    let limits = Limits {
        max_instructions: args.max_instructions,
        timeout: Duration::from_secs(args.timeout_s),
    };
    let stdout = std::io::stdout();
    let run = vb.run(limits, |bytes| {
        let mut out = stdout.lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    });
    let seconds = run.host_time.as_secs_f64();
    let simulated_ms = run.cycles as f64 * 1e3 / vb.clock_hz() as f64;
    eprintln!(
        "\n-- {}: {} instructions, {} cycles = {:.3} ms at {} MHz (emulated, cycle model {}), host {:.3} s, {:.1} MIPS",
        board.name,
        run.instructions,
        run.cycles,
        simulated_ms,
        vb.clock_hz() as f64 / 1e6,
        CYCLE_MODEL_VERSION,
        seconds,
        run.instructions as f64 / seconds.max(1e-9) / 1e6
    );
    let unmodelled = vb.unmodelled();
    if !unmodelled.is_empty() {
        let list: Vec<String> = unmodelled.iter().map(|a| format!("{a:#010x}")).collect();
        eprintln!(
            "-- permissive: {} unmodelled peripheral address(es) read as 0 / writes ignored: {}",
            unmodelled.len(),
            list.join(", ")
        );
    }
    let model = &vb.machine.timing;
    let mem = &model.memory;
    let cpi = run.cycles as f64 / run.instructions.max(1) as f64;
    let rate = |s: emulator::timing::CacheStats| match s.hit_rate() {
        Some(r) => format!("{:.2} % of {} lookups", r * 100.0, s.hits + s.misses),
        None => "no lookups".to_owned(),
    };
    eprintln!(
        "-- cycles {} (CPI {cpi:.3}); flash {} wait states, prefetch {}; instruction cache {} (hit rate while on: {}); data cache {} ({})",
        run.cycles,
        mem.wait_states,
        if mem.prefetch { "on" } else { "off" },
        if mem.icache_on { "on" } else { "off" },
        rate(mem.icache.stats()),
        if mem.dcache_on { "on" } else { "off" },
        mem.data_cache_stats().map_or("unified with the instruction cache".to_owned(), rate),
    );
    eprintln!(
        "-- stalls: {} cycles on instruction fetch, {} on data reads from flash; {} exceptions ({} tail-chained)",
        mem.fetch_stall_cycles, mem.data_stall_cycles, model.stats.exceptions, model.stats.tail_chained
    );
    if args.profile {
        print_profile(&vb, run.cycles);
    }
    if let Some(path) = &args.profile_addresses {
        write_address_profile(&vb, path)?;
    }
    Ok(match run.end {
        End::Done => {
            eprintln!("-- the firmware reported @done");
            0
        }
        End::Exit(code) => {
            eprintln!("-- the program exited with code {code} (semihosting)");
            code
        }
        End::FirmwareError(reason) => {
            eprintln!("-- the firmware reported an error: {reason}");
            1
        }
        End::Malformed(line) => {
            eprintln!("-- {line}");
            1
        }
        End::Stopped(why) | End::TimedOut(why) => {
            eprintln!("-- {why}");
            1
        }
    })
}

/// The model partition `run` would write for `workload`/`variant` on `board` (one warm-up, one
/// timed run).
fn workload_partition(
    project: &Project,
    args: &Args,
    board: &Board,
    workload: &str,
    variant: Variant,
) -> Result<Vec<u8>> {
    let models_dir =
        Config::load(&project.root)?.models_dir_or(&project.root, args.models_dir.as_deref());
    let catalog = Workload::catalog(&project.root, models_dir.as_deref())?;
    let w = catalog
        .workloads
        .iter()
        .find(|w| w.name == workload)
        .with_context(|| format!("no workload \"{workload}\" (see `mcubench workloads`)"))?;
    let v = w
        .variant(variant)
        .with_context(|| format!("workload \"{workload}\" has no variant {variant}"))?;
    let settings = RunSettings {
        warmup_runs: 1,
        timed_runs: 1,
        sample: 0,
        limits: Limits::default(),
        accuracy: None,
    };
    let job = job::prepare(board, w, v, &settings)?;
    Ok(job.partition)
}

/// `address cycles function` per instruction address that took cycles, in address order.
fn write_address_profile(vb: &VirtualBoard, path: &std::path::Path) -> Result<()> {
    let symbols = vb.machine.symbols();
    let mut rows: Vec<(u32, u64)> = vb.machine.timing.profile().collect();
    rows.sort_unstable();
    let mut text = String::new();
    for (addr, cycles) in rows {
        let name = symbols.lookup(addr).map_or("?", |(name, _)| name);
        text.push_str(&format!("{addr:#010x} {cycles} {name}\n"));
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("-- cycles per address: {}", path.display());
    Ok(())
}

/// Cycles per function: every address's cycles added to the ELF symbol at or below it.
fn print_profile(vb: &VirtualBoard, total: u64) {
    let symbols = vb.machine.symbols();
    let mut by_function: std::collections::BTreeMap<&str, u64> = Default::default();
    for (addr, cycles) in vb.machine.timing.profile() {
        let name = symbols.lookup(addr).map_or("?", |(name, _)| name);
        *by_function.entry(name).or_default() += cycles;
    }
    let mut rows: Vec<(&str, u64)> = by_function.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    eprintln!("-- cycles by function:");
    eprintln!("{:>14} {:>7}  function", "cycles", "%");
    for (name, cycles) in rows.iter().take(40) {
        eprintln!(
            "{cycles:>14} {:>6.2}%  {name}",
            *cycles as f64 * 100.0 / total.max(1) as f64
        );
    }
    if rows.len() > 40 {
        eprintln!("   ... {} more functions", rows.len() - 40);
    }
}
