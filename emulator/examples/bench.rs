//! Speed benchmark: runs the compute fixture (integer, 64-bit, int8 matmul, SMLAD, f32) on the
//! M4F and the M0+ and prints million instructions per second.
//!
//!     cargo run --release -p mcubench-emulator --example bench [iterations] [m4f|m0plus]
//!
//! Each fixture runs twice: without a timing model (`null`) and with the cycle model of the core
//! on an STM32L4R5's / RP2040's memory (`cycle`), which also prints cycles and CPI.
//!
//! Besides wall-clock MIPS it prints MIPS per second of CPU time actually received (Linux
//! /proc/self/schedstat), which is what to compare on a machine shared with other jobs.

use emulator::timing::{cortex_m0plus, cortex_m4};
use emulator::{
    CoreKind, CycleModel, Machine, MachineConfig, MemoryMap, NullTiming, Region, RegionKind,
    StopReason, Timing,
};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: u32 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(40);
    // Optional second argument: only the fixture whose name contains it (e.g. `m4f`).
    let only = std::env::args().nth(2).unwrap_or_default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (core, file) in [
        (CoreKind::M4F, "compute-m4f.elf"),
        (CoreKind::M0Plus, "compute-m0plus.elf"),
    ] {
        if !file.contains(only.as_str()) {
            continue;
        }
        let elf = std::fs::read(dir.join(file))?;
        let model_only = std::env::args().nth(3).unwrap_or_default();
        if model_only != "cycle" {
            run(core, file, "null", &elf, iterations, NullTiming)?;
        }
        if model_only == "null" {
            continue;
        }
        let model = match core {
            // The fixture is linked at 0x0800_0000: STM32L4R5 flash, reset configuration.
            CoreKind::M4F => CycleModel::new(
                &cortex_m4::TABLE,
                emulator::chips::Chip::STM32L4R5.memory_timing(),
            ),
            CoreKind::M0Plus => CycleModel::zero_wait(&cortex_m0plus::TABLE),
        };
        run(core, file, "cycle", &elf, iterations, model)?;
    }
    Ok(())
}

fn run<T: Timing>(
    core: CoreKind,
    file: &str,
    label: &str,
    elf: &[u8],
    iterations: u32,
    timing: T,
) -> Result<(), Box<dyn std::error::Error>> {
    let map = MemoryMap::new(vec![
        Region::new("FLASH", 0x0800_0000, 256 << 10, RegionKind::Flash),
        Region::new("RAM", 0x2000_0000, 64 << 10, RegionKind::Ram),
    ]);
    let mut m = Machine::with_timing(MachineConfig::new(core, map), timing)?;
    m.load_elf(elf)?;
    let addr = m
        .symbols()
        .address_of("ITERATIONS")
        .ok_or("fixture has no ITERATIONS symbol")?;
    // ITERATIONS is in flash; a host write patches it like a debug probe would.
    m.write_memory(addr, &iterations.to_le_bytes());
    m.reset()?;
    let start = Instant::now();
    let cpu_start = cpu_ns();
    let stop = m.run(u64::MAX);
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = cpu_ns()
        .zip(cpu_start)
        .map(|(end, start)| (end - start) as f64 / 1e9);
    if !matches!(stop, StopReason::Exit { code: 0 }) {
        return Err(format!("{file} stopped with {stop:?}").into());
    }
    let n = m.instructions();
    let on_cpu = cpu_secs.map_or(String::new(), |c| {
        format!(" ({:.1} M/s of CPU time)", n as f64 / c / 1e6)
    });
    println!(
        "{file:<20} {label:<5} {n:>12} instructions, {:>12} cycles (CPI {:.3}) in {:>7.3} s: {:>7.1} M instructions/s{on_cpu}   output: {}",
        m.cycles(),
        m.cycles() as f64 / n as f64,
        secs,
        n as f64 / secs / 1e6,
        String::from_utf8_lossy(m.semihosting_stdout()).trim()
    );
    Ok(())
}

/// Nanoseconds this thread has spent on a CPU (first field of /proc/self/schedstat).
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
