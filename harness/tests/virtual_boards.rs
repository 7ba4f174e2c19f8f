//! The benchmark firmware of every board boots on its virtual board and reports through its
//! real transport (RTT, or the Artemis' UART) up to `@done`, deterministically.

use std::path::Path;

use emulator::chips::Chip;
use mcubench::deploy::emulator::{End, Limits, VirtualBoard, VirtualBoardError};
use mcubench::firmware;
use mcubench::project::Project;

fn project() -> Project {
    Project::discover(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))).unwrap()
}

/// dot_i8's result digest, computed independently on the host (see firmware/src/workload.rs).
const DOT_I8_DIGEST: u32 = 0xa772_5900;

#[test]
fn every_board_reports_done_through_its_transport() {
    let project = project();
    let targets = project.targets().unwrap();
    for board in &targets.boards {
        let fw = firmware::build(&project, board).unwrap();
        let elf = std::fs::read(&fw.elf).unwrap();
        let mut cycles_of_runs = Vec::new();
        for _ in 0..2 {
            let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
            let run = vb.run(Limits::default(), |_| {});
            assert_eq!(
                run.end,
                End::Done,
                "{}: {}",
                board.name,
                String::from_utf8_lossy(&run.stream.log)
            );
            let m = &run.stream.measurements;
            assert_eq!(m.board.as_deref(), Some(board.name.as_str()));
            assert_eq!(
                m.meta("clock_hz"),
                Some(board.clock_hz.to_string().as_str())
            );
            assert_eq!(m.cycles.len(), 10, "{}", board.name);
            assert!(
                m.cycles.iter().all(|&c| c > 1000),
                "{}: {:?}",
                board.name,
                m.cycles
            );
            assert_eq!(m.output, Some((4, DOT_I8_DIGEST)), "{}", board.name);
            // -6234, the dot product computed independently in Python.
            assert_eq!(
                m.checked_output(),
                Ok(&(-6234i32).to_le_bytes()[..]),
                "{}",
                board.name
            );
            let (used, size) = m.stack.unwrap();
            assert!(
                used > 64 && used < size,
                "{}: stack {used} of {size}",
                board.name
            );
            // The flash configuration calibrate and the cycle model assume for the board is the
            // one its bring-up writes (the chip file's `FlashConfig::firmware`).
            let chip = Chip::from_name(&board.chip).unwrap();
            let config = chip.memory_timing().config;
            assert_eq!(
                vb.machine.bus_read32(config.addr),
                Some(config.firmware.unwrap_or(config.reset)),
                "{}: the flash configuration register after bring-up",
                board.name
            );
            cycles_of_runs.push((m.cycles.clone(), run.instructions));
        }
        assert_eq!(
            cycles_of_runs[0], cycles_of_runs[1],
            "{}: not deterministic",
            board.name
        );
    }
}

#[test]
fn a_bad_elf_is_a_clear_error_not_a_panic() {
    let project = project();
    let targets = project.targets().unwrap();
    let pico = targets.board("pico").unwrap();
    let nucleo = targets.board("nucleo-l4r5zi").unwrap();
    let err = |board, bytes: &[u8]| match VirtualBoard::new(board, bytes, "x.elf") {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err(pico, b"").starts_with("x.elf: "));
    assert!(err(pico, b"\x7fELF").starts_with("x.elf: "));
    let fw = firmware::build(&project, nucleo).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();
    // Truncated: the loadable segments are cut off.
    assert!(err(nucleo, &elf[..elf.len().min(600)]).starts_with("x.elf: "));
    // Built for another board: its segments lie outside the pico's memory.
    let e = err(pico, &elf);
    assert!(e.starts_with("x.elf: "), "{e}");
}

/// The cycle model reads the flash configuration the firmware wrote: the STM32 firmware built
/// with the ART accelerator left off (5 wait states, no prefetch, no caches) measures itself
/// slower through DWT CYCCNT, as it would on silicon.
#[test]
fn firmware_without_flash_cache_measures_more_cycles() {
    let project = project();
    let targets = project.targets().unwrap();
    let board = targets.board("nucleo-l4r5zi").unwrap();
    let median = |options: firmware::Options| {
        let fw = firmware::build_with(&project, board, options).unwrap();
        let elf = std::fs::read(&fw.elf).unwrap();
        let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
        let run = vb.run(Limits::default(), |_| {});
        assert_eq!(run.end, End::Done);
        let mut cycles = run.stream.measurements.cycles.clone();
        cycles.sort_unstable();
        let mem = &vb.machine.timing.memory;
        (cycles[cycles.len() / 2], mem.wait_states, mem.icache_on)
    };
    let (cached, ws, icache) = median(firmware::Options::default());
    assert_eq!((ws, icache), (5, true));
    let (uncached, ws, icache) = median(firmware::Options {
        flash_cache_off: true,
        ..Default::default()
    });
    assert_eq!((ws, icache), (5, false));
    assert!(
        uncached as f64 > cached as f64 * 1.3,
        "ART off: {uncached} cycles, on: {cached}"
    );
}

#[test]
fn a_partition_larger_than_the_model_region_is_refused_by_name() {
    let project = project();
    let targets = project.targets().unwrap();
    let board = targets.board("pico").unwrap();
    let fw = firmware::build(&project, board).unwrap();
    let elf = std::fs::read(&fw.elf).unwrap();
    let mut vb = VirtualBoard::new(board, &elf, "fw.elf").unwrap();
    let region = board.model_partition().unwrap();
    let too_large = vec![0u8; region.size as usize + 1];
    let e = vb.write_partition(board, &too_large).unwrap_err();
    assert!(
        matches!(e, VirtualBoardError::PartitionTooLarge { partition_bytes, .. } if partition_bytes == too_large.len()),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "the model partition is {} bytes but region {} of board \"pico\" has {}",
            too_large.len(),
            region.name,
            region.size
        )
    );
}
