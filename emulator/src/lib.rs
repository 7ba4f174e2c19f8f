//! Cortex-M instruction-set simulator: the virtual boards (see DESIGN.md, section Emulator).
//!
//! A [`Machine`] is a Cortex-M0+ (ARMv6-M) or Cortex-M4F (ARMv7E-M + DSP + FPv4-SP) with a
//! memory map given as data. It loads an unmodified ELF, resets from the vector table and runs
//! until the program exits through semihosting, hits a breakpoint, faults, hangs or uses up its
//! instruction budget:
//!
//! ```no_run
//! use emulator::{CoreKind, Machine, MachineConfig, MemoryMap, Region, RegionKind, StopReason};
//! let map = MemoryMap::new(vec![
//!     Region::new("FLASH", 0x0800_0000, 2 << 20, RegionKind::Flash),
//!     Region::new("RAM", 0x2000_0000, 640 << 10, RegionKind::Ram),
//! ]);
//! let mut m = Machine::new(MachineConfig::new(CoreKind::M4F, map))?;
//! m.load_elf(&std::fs::read("firmware.elf")?)?;
//! m.reset()?;
//! match m.run(1_000_000_000) {
//!     StopReason::Exit { code } => println!("exit {code}: {}", String::from_utf8_lossy(m.semihosting_stdout())),
//!     other => println!("stopped: {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layout: `isa/` decodes (one instruction family per file, arms named after the ARMv7-M ARM
//! encodings) and executes; `machine` holds the run loop; `system` and `exception` the SCB,
//! NVIC, SysTick, DWT and exception model; `timing` the hook a cycle model plugs into.

mod bus;
pub mod chips;
pub mod elf;
mod exception;
pub mod fp;
pub mod isa;
pub mod machine;
pub mod memory;
mod semihosting;
mod system;
pub mod timing;

pub use elf::{ElfError, LoadedImage, Symbol, SymbolTable};
pub use machine::{
    CoreKind, Cpu, FaultKind, FaultReport, Fpu, HangKind, Machine, MachineConfig, Peripherals,
    StopReason, UsageFault,
};
pub use memory::{MapError, MemoryMap, Region, RegionKind};
pub use timing::{
    CountingTiming, CycleModel, InsnClass, InsnEvent, NullTiming, Timing, CYCLE_MODEL_VERSION,
};
