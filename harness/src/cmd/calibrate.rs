//! `mcubench calibrate`: the cycle model's calibration report, a Markdown table of kernels
//! (integer loop, memcpy, DSP dot product, FPU loop, branchy state machine, int8 convolution)
//! with their cycles and CPI on every virtual board, plus the benchmark firmware's own
//! measurement, and what can be held against published silicon figures.
//!
//! The kernels are the `cal_*` functions of emulator/tests/fixtures/src/calibrate.rs (built for
//! thumbv6m and thumbv7em, committed as ELF fixtures). Each board runs them on its core's table
//! and its chip's memory timing, the flash configured as the benchmark firmware configures it
//! (firmware/src/board/*.rs); the fixture's flash is at 0x0800_0000 and takes the place of the
//! chip's flash.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use emulator::chips::Chip;
use emulator::{
    CoreKind, CycleModel, Machine, MachineConfig, MemoryMap, Region, RegionKind, StopReason,
    CYCLE_MODEL_VERSION,
};

use crate::deploy::emulator::{core_table, End, Limits, VirtualBoard};
use crate::firmware;
use crate::project::Project;
use crate::targets::{self, Board};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the Markdown report.
    #[arg(long, default_value = "docs/calibration.md")]
    pub out: PathBuf,
    /// Skip building and running the benchmark firmware (kernels only).
    #[arg(long)]
    pub no_firmware: bool,
}

/// The kernels, in report order: (function, description).
pub const KERNELS: [(&str, &str); 6] = [
    ("cal_integer_loop", "integer loop (mul, shifts, xor, udiv)"),
    ("cal_memcpy", "memcpy 4 KB (+ fill)"),
    ("cal_dsp_dot", "dot product, 256 q15 pairs (SMLAD on M4)"),
    ("cal_fpu_loop", "FPU loop (soft float on M0+)"),
    ("cal_state_machine", "branchy state machine, 2 KB"),
    ("cal_int8_conv", "int8 conv 3x3, 8->8 channels, 10x10 out"),
];

/// Published CoreMark/MHz (Arm): Cortex-M0+ 2.46, Cortex-M4 3.40.
const COREMARK_PER_MHZ_M0PLUS: f64 = 2.46;
const COREMARK_PER_MHZ_M4: f64 = 3.40;

/// Cycles and instructions of one kernel on one board.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    pub cycles: u64,
    pub instructions: u64,
}

impl Measure {
    pub fn cpi(&self) -> f64 {
        self.cycles as f64 / self.instructions.max(1) as f64
    }
}

fn core_of(board: &Board) -> CoreKind {
    match board.core {
        targets::Core::CortexM0Plus => CoreKind::M0Plus,
        targets::Core::CortexM4F => CoreKind::M4F,
    }
}

/// Runs the calibration fixture for `core` on `chip`'s memory timing and returns each kernel's
/// cycles and instructions (callees included), in [`KERNELS`] order.
pub fn run_kernels(elf: &[u8], core: CoreKind, chip: Chip) -> Result<Vec<Measure>> {
    let flash = (0x0800_0000u32, 0x0804_0000u32);
    let mut timing = *chip.memory_timing();
    timing.flash = flash;
    let mut model = CycleModel::new(core_table(core), &timing);
    if let Some(value) = timing.config.firmware {
        model.memory.apply(value);
    }
    let map = MemoryMap::new(vec![
        Region::new("FLASH", flash.0, flash.1 - flash.0, RegionKind::Flash),
        Region::new("RAM", 0x2000_0000, 64 << 10, RegionKind::Ram),
    ]);
    let mut m = Machine::with_timing(MachineConfig::new(core, map), model)?;
    m.load_elf(elf)?;
    m.reset()?;
    let entries: Vec<u32> = KERNELS
        .iter()
        .map(|(name, _)| {
            m.symbols()
                .address_of(name)
                .with_context(|| format!("the calibration fixture has no symbol {name}"))
        })
        .collect::<Result<_>>()?;
    let mut out = vec![Measure::default(); KERNELS.len()];
    // (kernel, return address, cycles and instructions at entry) while inside a kernel.
    let mut inside: Option<(usize, u32, u64, u64)> = None;
    let budget = 200_000_000u64;
    while m.instructions() < budget {
        let pc = m.cpu.pc;
        match inside {
            None => {
                if let Some(k) = entries.iter().position(|&e| e == pc) {
                    let ret = m.cpu.r[14] & !1;
                    inside = Some((k, ret, m.cycles(), m.instructions()));
                }
            }
            Some((k, ret, c0, i0)) if pc == ret => {
                out[k] = Measure {
                    cycles: m.cycles() - c0,
                    instructions: m.instructions() - i0,
                };
                inside = None;
            }
            Some(_) => {}
        }
        match m.run(1) {
            StopReason::BudgetExhausted => {}
            StopReason::Exit { code: 0 } => return Ok(out),
            other => bail!("the calibration fixture stopped: {other:?}"),
        }
    }
    bail!("the calibration fixture did not finish within {budget} instructions")
}

/// Median cycles per timed run of the benchmark firmware and the whole run's CPI.
fn run_firmware(project: &Project, board: &Board) -> Result<(u64, f64)> {
    let fw = firmware::build(project, board)?;
    let elf =
        std::fs::read(&fw.elf).with_context(|| format!("cannot read {}", fw.elf.display()))?;
    let mut vb = VirtualBoard::new(board, &elf, &fw.elf.display().to_string())?;
    let run = vb.run(Limits::default(), |_| {});
    if run.end != End::Done {
        bail!("{}: the firmware did not finish: {:?}", board.name, run.end);
    }
    let mut cycles = run.stream.measurements.cycles.clone();
    if cycles.is_empty() {
        bail!("{}: the firmware reported no timed runs", board.name);
    }
    cycles.sort_unstable();
    Ok((
        cycles[cycles.len() / 2],
        run.cycles as f64 / run.instructions.max(1) as f64,
    ))
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let targets = project.targets()?;
    let fixtures = project.root.join("emulator/tests/fixtures");
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Cycle-model calibration (cycle model {CYCLE_MODEL_VERSION})\n\n\
         Written by `mcubench calibrate`. Kernels: the `cal_*` functions of \
         `emulator/tests/fixtures/src/calibrate.rs`, each timed from its entry to its return \
         (callees included), on each virtual board's core table and chip memory timing with the \
         flash configured as the benchmark firmware configures it. See docs/TIMING.md.\n"
    );
    let boards: Vec<&Board> = targets.boards.iter().collect();
    let mut header = "| kernel |".to_owned();
    let mut rule = "| --- |".to_owned();
    for b in &boards {
        let _ = write!(header, " {} cycles | CPI |", b.name);
        rule.push_str(" ---: | ---: |");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    let mut per_board = Vec::new();
    for b in &boards {
        let chip = Chip::from_name(&b.chip)
            .with_context(|| format!("board {}: chip {} has no emulator model", b.name, b.chip))?;
        let core = core_of(b);
        let file = match core {
            CoreKind::M0Plus => "calibrate-m0plus.elf",
            CoreKind::M4F => "calibrate-m4f.elf",
        };
        let path = fixtures.join(file);
        let elf =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        eprintln!("calibrating {} ({file})", b.name);
        per_board.push(run_kernels(&elf, core, chip)?);
    }
    for (k, (_, what)) in KERNELS.iter().enumerate() {
        let mut row = format!("| {what} |");
        for m in &per_board {
            let _ = write!(row, " {} | {:.2} |", m[k].cycles, m[k].cpi());
        }
        let _ = writeln!(md, "{row}");
    }
    if !args.no_firmware {
        let mut row =
            "| benchmark firmware: median cycles per run (firmware's own counter), whole-run CPI |"
                .to_owned();
        for b in &boards {
            eprintln!("running the benchmark firmware on {}", b.name);
            let (cycles, cpi) = run_firmware(project, b)?;
            let _ = write!(row, " {cycles} | {cpi:.2} |");
        }
        let _ = writeln!(md, "{row}");
    }

    // Against published silicon: Arm publishes CoreMark/MHz, not these kernels. CoreMark is
    // integer code (lists, matrices, a state machine, CRC): the M0+/M4 cycle ratio of the
    // integer kernels here is set beside the ratio of the published scores.
    // Not the integer loop: it divides, which the M0+ does in software (CoreMark hardly divides).
    let integer = [4usize, 5];
    let m0 = boards.iter().position(|b| core_of(b) == CoreKind::M0Plus);
    let m4 = boards.iter().position(|b| core_of(b) == CoreKind::M4F);
    let _ = writeln!(md, "\n## Against published silicon figures\n");
    if let (Some(a), Some(b)) = (m0, m4) {
        let ratio: f64 = integer
            .iter()
            .map(|&k| per_board[a][k].cycles as f64 / per_board[b][k].cycles.max(1) as f64)
            .product::<f64>()
            .powf(1.0 / integer.len() as f64);
        let published = COREMARK_PER_MHZ_M4 / COREMARK_PER_MHZ_M0PLUS;
        let _ = writeln!(
            md,
            "- Cortex-M0+ / Cortex-M4 cycles on the integer kernels (state machine, \
             int8 conv; geometric mean; not the integer loop, which divides and the M0+ has no \
             divider), {} vs {}: **{ratio:.2}**. Published CoreMark/MHz \
             (Arm): M4 {COREMARK_PER_MHZ_M4} / M0+ {COREMARK_PER_MHZ_M0PLUS} = **{published:.2}**; \
             difference {:+.0} %. This is a proxy: CoreMark itself is not built here, and the \
             kernels are not CoreMark's.",
            boards[a].name,
            boards[b].name,
            (ratio / published - 1.0) * 100.0
        );
    }
    let _ = writeln!(
        md,
        "- CoreMark itself (EEMBC's source, not in this repository) is built with GCC from a \
         user's checkout and run on every virtual board by `scripts/coremark`; \
         docs/coremark-calibration.md holds it against GCC-built CoreMark published for the \
         same silicon."
    );
    let _ = writeln!(
        md,
        "- Per-instruction figures are checked against the Arm TRMs by the microbenchmarks of \
         `emulator/tests/cycle_model.rs` (exact)."
    );
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(project.root.join(parent)).ok();
    }
    let out = project.root.join(&args.out);
    std::fs::write(&out, &md).with_context(|| format!("cannot write {}", out.display()))?;
    print!("{md}");
    eprintln!("wrote {}", out.display());
    Ok(())
}
