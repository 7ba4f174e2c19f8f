//! Plain GCC-built C programs (emulator/tests/fixtures/c: a CMSIS-style start-up, the vendor's
//! system and clock set-up at register level, SysTick at 1 kHz, DWT CYCCNT, semihosting) run
//! unmodified on their boards' virtual boards, not permissive: any register the chip model
//! lacks would stop the run with a bus fault.

use std::path::{Path, PathBuf};

use emulator::chips::Chip;
use mcubench::deploy::emulator::{End, Limits, VirtualBoard};
use mcubench::project::Project;

fn project() -> Project {
    Project::discover(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))).unwrap()
}

fn fixture(chip: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../emulator/tests/fixtures/c")
        .join(chip)
        .join(format!("{chip}.elf"))
}

/// What each program prints about its work, computed on the host: 1024 words from Numerical
/// Recipes' LCG (seed 1), their CRC-32 before and after sorting, and the median.
fn expected_work_line() -> String {
    let mut seed = 1u32;
    let mut words: Vec<u32> = (0..1024)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        })
        .collect();
    let crc32 = |words: &[u32]| {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        crc32_ieee(&bytes)
    };
    let before = crc32(&words);
    words.sort_unstable();
    format!(
        "crc32 {before:#010x} sorted crc32 {:#010x} median {:#010x}",
        crc32(&words),
        words[512]
    )
}

/// CRC-32 as zlib computes it (reflected 0xEDB88320, initial and final inversion), by table.
fn crc32_ieee(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |crc, &b| {
        table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[test]
fn crc32_matches_the_check_value() {
    // The CRC-32 catalogue's check value for "123456789".
    assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
}

/// The number after `prefix` on the line that starts with it.
fn number_after(out: &str, prefix: &str) -> u64 {
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{out}"));
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("{prefix:?}: {line:?}"))
}

#[test]
fn c_programs_set_up_their_boards_clock_and_count_systicks() {
    let project = project();
    let targets = project.targets().unwrap();
    let edge = targets.board("sparkfun-edge").unwrap().clone();
    let programs = [
        (
            targets.board("nucleo-l476rg").unwrap(),
            "stm32l476",
            "NUCLEO-L476RG (STM32L476RG)",
            // MSI range 6 from RCC_CSR.MSISRANGE (RM0351 §6.4.29).
            4_000_000,
        ),
        (
            targets.board("nucleo-l4r5zi").unwrap(),
            "stm32l4r5",
            "NUCLEO-L4R5ZI (STM32L4R5ZI)",
            4_000_000,
        ),
        // HFRC / 2, CLKGEN CCTRL's reset value.
        (&edge, "apollo3", "SparkFun Edge (Apollo3 Blue)", 24_000_000),
        (
            targets.board("nano33-ble").unwrap(),
            "nrf52840",
            "Arduino Nano 33 BLE (nRF52840)",
            // HCLK64M, whatever the HFCLK source (nRF52840 PS v1.7 §5.4).
            64_000_000,
        ),
        (
            targets.board("frdm-k64f").unwrap(),
            "mk64f",
            "FRDM-K64F (MK64FN1M0VLL12)",
            // FEI: the FLL at 640 x the 32.768 kHz slow internal reference (K64P144M120SF5RM,
            // MCG: C4 DMX32 = 0, DRST_DRS = 0 at reset).
            20_971_520,
        ),
    ];
    let work = expected_work_line();
    for (board, chip, name, reset_hz) in programs {
        let elf = std::fs::read(fixture(chip)).unwrap();
        let mut vb = VirtualBoard::new(board, &elf, chip).unwrap();
        // Semihosting output is handed over as it arrives (the programs use no other transport).
        let mut printed = Vec::new();
        let run = vb.run(Limits::default(), |bytes| printed.extend_from_slice(bytes));
        let out = String::from_utf8_lossy(&printed).into_owned();
        assert_eq!(run.end, End::Exit(0), "{chip}:\n{out}");

        let head: Vec<&str> = out.lines().take(5).collect();
        assert_eq!(
            head,
            [
                name,
                &format!("reset clock {reset_hz} Hz"),
                // SystemCoreClock as the program derives it from the registers it configured.
                &format!("SystemCoreClock {} Hz", board.clock_hz),
                &work,
                "sorted",
            ],
            "{chip}"
        );

        // SysTick at 1 kHz of the board's clock: the ticks over the work are its CYCCNT
        // cycles in whole milliseconds (one tick either way for where the work starts in a
        // millisecond), and all ticks fit the run's cycles, less than two milliseconds of
        // clock set-up and printing outside them.
        let cycles_per_tick = board.clock_hz / 1000;
        let work_cycles = number_after(&out, "work ");
        let work_ticks = out
            .lines()
            .find_map(|l| {
                l.strip_suffix(" ticks")?
                    .rsplit(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap();
        assert!(work_ticks > 10, "{chip}: {work_ticks} ticks");
        assert!(
            work_ticks.abs_diff(work_cycles / cycles_per_tick) <= 1,
            "{chip}: {work_ticks} ticks over {work_cycles} cycles at {} Hz",
            board.clock_hz
        );
        let ticks = number_after(&out, "ticks since SysTick start ");
        assert!(
            ticks * cycles_per_tick <= run.cycles && run.cycles < (ticks + 2) * cycles_per_tick,
            "{chip}: {ticks} ticks in a run of {} cycles",
            run.cycles
        );

        // The flash configuration the program set up is the one the benchmark firmware sets,
        // which the cycle model is calibrated for.
        let config = Chip::from_name(&board.chip).unwrap().memory_timing().config;
        assert_eq!(
            vb.machine.bus_read32(config.addr),
            config.firmware,
            "{chip}: flash configuration register"
        );
    }
}
