//! Shared helpers for the integration tests.
#![allow(dead_code)]

use emulator::{CoreKind, Machine, MachineConfig, MemoryMap, Region, RegionKind, StopReason};

/// The fixtures' memory map (tests/fixtures/src/link.x): flash at 0x0800_0000, RAM at 0x2000_0000.
pub fn fixture_map() -> MemoryMap {
    MemoryMap::new(vec![
        Region::new("FLASH", 0x0800_0000, 256 << 10, RegionKind::Flash),
        Region::new("RAM", 0x2000_0000, 64 << 10, RegionKind::Ram),
    ])
}

/// Path of a fixture ELF.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Load and reset a fixture on a core.
pub fn boot(core: CoreKind, elf: &str) -> Machine {
    let mut m = Machine::new(MachineConfig::new(core, fixture_map())).expect("valid map");
    let bytes = std::fs::read(fixture(elf)).expect("fixture exists");
    m.load_elf(&bytes).expect("fixture loads");
    m.reset().expect("fixture resets");
    m
}

/// Run a fixture to its semihosting exit; returns (exit code, stdout).
pub fn run_fixture(core: CoreKind, elf: &str) -> (i32, String) {
    let mut m = boot(core, elf);
    match m.run(2_000_000_000) {
        StopReason::Exit { code } => (
            code,
            String::from_utf8_lossy(m.semihosting_stdout()).into_owned(),
        ),
        other => panic!(
            "{elf} did not exit: {other:?}\nstdout so far: {}",
            String::from_utf8_lossy(m.semihosting_stdout())
        ),
    }
}
