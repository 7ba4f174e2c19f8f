//! targets.toml validation: every mistake names the file, line and field.

use std::path::{Path, PathBuf};

use mcubench::targets::{self, Core, RegionKind, TransportKind};

fn shipped() -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets.toml");
    let text = std::fs::read_to_string(&path).expect("the project ships targets.toml");
    (path, text)
}

/// Parses the shipped targets.toml with the first `from` replaced by `to`. Later boards repeat
/// lines of earlier ones (the SparkFun Edge the Artemis' memory map, the Nano 33 BLE the
/// nRF52840-DK's clock): the first is the board the test names.
fn error_after(from: &str, to: &str) -> String {
    let (_, text) = shipped();
    assert!(text.contains(from), "{from:?} must occur in targets.toml");
    let edited = text.replacen(from, to, 1);
    let err = targets::parse(Path::new("targets.toml"), &edited)
        .expect_err("the edited file must be rejected");
    err.to_string()
}

/// The line number (from 1) on which `needle` first occurs in the shipped file.
fn line_of(needle: &str) -> usize {
    let (_, text) = shipped();
    let at = text.find(needle).expect("needle in targets.toml");
    text[..at].matches('\n').count() + 1
}

#[test]
fn the_shipped_targets_toml_is_valid_and_complete() {
    let (path, _) = shipped();
    let targets = targets::load(&path).unwrap();
    let names: Vec<_> = targets.boards.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "nucleo-l4r5zi",
            "nrf52840-dk",
            "sparkfun-artemis",
            "pico",
            "nucleo-l476rg",
            "sparkfun-edge",
            "nano33-ble",
            "frdm-k64f"
        ]
    );
    let pico = targets.board("pico").unwrap();
    assert_eq!(pico.core, Core::CortexM0Plus);
    assert_eq!(pico.core.rust_target(), "thumbv6m-none-eabi");
    assert_eq!(pico.flash().origin, 0x1000_0100);
    assert!(pico
        .memory
        .iter()
        .any(|r| r.kind == RegionKind::Boot2 && r.origin == 0x1000_0000));
    let artemis = targets.board("sparkfun-artemis").unwrap();
    assert_eq!(
        artemis.flash().origin,
        0x1_0000,
        "apps start after the SparkFun Variable Loader"
    );
    assert_eq!(artemis.ram_total_bytes(), 384 * 1024);
    let nucleo = targets.board("nucleo-l4r5zi").unwrap();
    assert_eq!(nucleo.clock_hz, 120_000_000);
    assert_eq!(nucleo.flash_total_bytes(), 2 * 1024 * 1024);
    // 110 uA/MHz at 120 MHz.
    assert!((nucleo.energy.run_current_ma(nucleo.clock_hz) - 13.2).abs() < 1e-9);
    assert!(targets.boards.iter().all(|b| !b.energy.source.is_empty()));
    let _ = TransportKind::Rtt;
}

#[test]
fn unknown_board_lists_the_known_ones() {
    let (path, _) = shipped();
    let targets = targets::load(&path).unwrap();
    let err = targets.board("pico2").unwrap_err().to_string();
    assert!(err.starts_with("board \"pico2\" is not in "), "{err}");
    let known: Vec<&str> = targets.boards.iter().map(|b| b.name.as_str()).collect();
    assert!(
        err.ends_with(&format!("(known: {})", known.join(", "))),
        "{err}"
    );
    assert!(known.starts_with(&["nucleo-l4r5zi", "nrf52840-dk", "sparkfun-artemis", "pico"]));
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let err = error_after(
        "clock_hz = 48_000_000\n",
        "clock_hz = 48_000_000\nclok_hz = 5\n",
    );
    let line = line_of("clock_hz = 48_000_000") + 1;
    assert!(
        err.starts_with(&format!("targets.toml:{line}:1: unknown field `clok_hz`")),
        "{err}"
    );
    insta::assert_snapshot!("unknown_key", err);
}

#[test]
fn a_missing_field_is_named() {
    let err = error_after("chip = \"RP2040\"\n", "");
    assert!(err.contains("missing field `chip`"), "{err}");
    assert!(err.starts_with("targets.toml:"), "{err}");
    insta::assert_snapshot!("missing_field", err);
}

#[test]
fn an_unknown_core_is_named_with_the_choices() {
    let err = error_after("core = \"cortex-m0plus\"", "core = \"cortex-m7\"");
    let line = line_of("core = \"cortex-m0plus\"");
    assert!(
        err.starts_with(&format!(
            "targets.toml:{line}:8: unknown variant `cortex-m7`"
        )),
        "{err}"
    );
    insta::assert_snapshot!("unknown_core", err);
}

#[test]
fn a_zero_clock_is_rejected_at_its_line() {
    let err = error_after("clock_hz = 64_000_000", "clock_hz = 0");
    let line = line_of("clock_hz = 64_000_000");
    assert!(
        err.starts_with(&format!(
            "targets.toml:{line}:12: board \"nrf52840-dk\", field `clock_hz`"
        )),
        "{err}"
    );
    insta::assert_snapshot!("zero_clock", err);
}

#[test]
fn overlapping_regions_are_rejected_at_the_second() {
    let nrf_flash =
        "{ name = \"FLASH\", kind = \"flash\", origin = 0x0000_0000, size = 0x0005_0000 }";
    let err = error_after(nrf_flash, &nrf_flash.replace("0x0005_0000", "0x0006_0000"));
    let line = line_of(nrf_flash) + 1;
    assert!(
        err.starts_with(&format!(
            "targets.toml:{line}:3: board \"nrf52840-dk\": region \"MODEL\""
        )),
        "{err}"
    );
    assert!(
        err.contains("overlaps region \"FLASH\" (0x00000000..0x00060000)"),
        "{err}"
    );
    insta::assert_snapshot!("overlapping_regions", err);
}

#[test]
fn a_misaligned_region_is_rejected_with_the_nearest_aligned_value() {
    let err = error_after(
        "{ name = \"FLASH\", kind = \"flash\", origin = 0x0800_0000",
        "{ name = \"FLASH\", kind = \"flash\", origin = 0x0800_0010",
    );
    assert!(
        err.contains("board \"nucleo-l4r5zi\", region \"FLASH\", field `origin`"),
        "{err}"
    );
    assert!(err.contains("nearest: 0x8000000"), "{err}");
    insta::assert_snapshot!("misaligned_region", err);
    let err = error_after(
        "{ name = \"RAM\", kind = \"ram\", origin = 0x2000_0000, size = 0x0004_2000 }",
        "{ name = \"RAM\", kind = \"ram\", origin = 0x2000_0000, size = 0x0004_2002 }",
    );
    assert!(
        err.contains("board \"pico\", region \"RAM\", field `size`"),
        "{err}"
    );
}

#[test]
fn other_mistakes_have_messages_that_say_the_fix() {
    let cases = [
        (
            "{ name = \"FLASH\", kind = \"flash\", origin = 0x0800_0000",
            "{ name = \"FLASH-1\", kind = \"flash\", origin = 0x0800_0000",
            "region \"FLASH-1\", field `name`: \"FLASH-1\" is not a linker region name",
        ),
        (
            "stack_bytes = 32768\narena_bytes = 204800",
            "stack_bytes = 30\narena_bytes = 204800",
            "field `stack_bytes`: 30 is not a positive multiple of 8",
        ),
        (
            "arena_bytes = 204800",
            "arena_bytes = 204801",
            "must be a multiple of 16",
        ),
        (
            "arena_bytes = 212992",
            "arena_bytes = 240000",
            "lower arena_bytes to at most 221184",
        ),
        (
            "deploy = { probe_rs_chip = \"RP2040\" }",
            "deploy = { }",
            "give probe_rs_chip",
        ),
        (
            "deploy = { probe_rs_chip = \"RP2040\" }",
            "deploy = { probe_rs_chip = \"RP2040\", bootloader = \"sparkfun-variable-loader\" }",
            "not both",
        ),
        (
            "bootloader = \"sparkfun-variable-loader\", port",
            "bootloader = \"uf2\", port",
            "unknown bootloader \"uf2\"",
        ),
        (
            "transport = { kind = \"uart\", port = \"/dev/ttyUSB0\", baud = 115200 }",
            "transport = { kind = \"uart\" }",
            "a UART needs the port",
        ),
        (
            "transport = { kind = \"uart\", port = \"/dev/ttyUSB0\", baud = 115200 }",
            "transport = { kind = \"uart\", port = \"/dev/ttyUSB0\", baud = 0 }",
            "must be greater than 0",
        ),
        (
            "transport = { kind = \"uart\", port = \"/dev/ttyUSB0\", baud = 115200 }",
            "transport = { kind = \"spi\" }",
            "unknown variant `spi`",
        ),
        (
            "energy = { voltage_v = 3.0, run_current_ma = 3.3,",
            "energy = { voltage_v = 3.0, run_current_ma = 3.3, run_current_ua_per_mhz = 52.0,",
            "exactly one of run_current_ua_per_mhz and run_current_ma",
        ),
        (
            "energy = { voltage_v = 3.0,",
            "energy = { voltage_v = -3.0,",
            "-3 must be a positive number",
        ),
        (
            "{ name = \"MODEL\", kind = \"model\", origin = 0x1008_0000, size = 0x0018_0000 }",
            "{ name = \"MODEL\", kind = \"model\", origin = 0x1008_0000, size = 0xFFF8_0000 }",
            "runs past the 32-bit address space",
        ),
        (
            "{ name = \"TCM\", kind = \"ram\"",
            "{ name = \"RAM\", kind = \"ram\"",
            "region \"RAM\" is defined twice",
        ),
        (
            "{ name = \"RAM\", kind = \"ram\", origin = 0x2000_0000, size = 0x0004_0000 },",
            "",
            "needs a region named \"RAM\"",
        ),
        (
            "name = \"pico\"",
            "name = \"nrf52840-dk\"",
            "board \"nrf52840-dk\" is defined twice",
        ),
        (
            "name = \"pico\"",
            "name = \"Pico Board\"",
            "not a valid board name",
        ),
    ];
    for (from, to, expected) in cases {
        let err = error_after(from, to);
        assert!(err.contains(expected), "{to}: {err}");
        assert!(err.starts_with("targets.toml:"), "{to}: no line in {err}");
    }
}

#[test]
fn a_file_that_is_not_toml_gives_its_line() {
    let err = targets::parse(Path::new("t.toml"), "[[board]]\nname = \"x\nchip = 1\n").unwrap_err();
    assert!(err.to_string().starts_with("t.toml:2:"), "{err}");
    let err = targets::load(Path::new("/nonexistent/targets.toml")).unwrap_err();
    assert!(err.to_string().contains("cannot read the file"), "{err}");
    let err = targets::parse(Path::new("t.toml"), "").unwrap_err();
    assert!(err.to_string().contains("missing field `board`"), "{err}");
}

#[test]
fn an_energy_meter_is_checked_and_named() {
    let from = "energy = { voltage_v = 3.0, run_current_ma = 3.3,";
    let ok = |extra: &str| {
        let (_, text) = shipped();
        let edited = text.replacen(
            from,
            &format!("energy = {{ {extra} voltage_v = 3.0, run_current_ma = 3.3,"),
            1,
        );
        targets::parse(Path::new("targets.toml"), &edited)
    };
    let t =
        ok(r#"meter = "ppk2", meter_port = "/dev/ppk2", gate_input = 3, gate_gpio = 27,"#).unwrap();
    let meter = t
        .board("nrf52840-dk")
        .unwrap()
        .energy
        .meter
        .clone()
        .unwrap();
    assert_eq!(
        (meter.port.as_str(), meter.gate_input, meter.gate_gpio),
        ("/dev/ppk2", 3, 27)
    );
    let e = ok(r#"meter = "ppk2","#).unwrap_err().to_string();
    assert!(
        e.contains("field `energy.meter_port`: a PPK2 needs its serial port"),
        "{e}"
    );
    let e = ok(r#"meter = "ppk2", meter_port = "/dev/ppk2", gate_input = 9,"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("the PPK2 has digital inputs D0 to D7"), "{e}");
    let e = ok(r#"meter = "ppk2", meter_port = "/dev/ppk2","#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "field `energy.gate_gpio`: a PPK2 integrates while the firmware holds a GPIO high"
        ),
        "{e}"
    );
    // The edited board is the nRF52840-DK (32 x port + pin, P1.15 = 47 the last).
    let e = ok(r#"meter = "ppk2", meter_port = "/dev/ppk2", gate_gpio = 48,"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("48 is not a pin of nRF52840") && e.contains("P1.00 = 32"),
        "{e}"
    );
    assert!(e.starts_with("targets.toml:"), "names file and line: {e}");
    // A pin the chip has but the gate cannot take: P0.10 is an NFC antenna pad as flashed.
    let e = ok(r#"meter = "ppk2", meter_port = "/dev/ppk2", gate_gpio = 10,"#)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field `energy.gate_gpio`: 10 cannot be the gate: P0.09 and P0.10 are the NFC antenna pads")
            && e.contains("pick a free pin (docs/HARDWARE.md"),
        "{e}"
    );
    assert!(e.starts_with("targets.toml:"), "names file and line: {e}");
    let e = ok(r#"meter = "joulescope","#).unwrap_err().to_string();
    assert!(
        e.contains("unknown meter \"joulescope\" (known: ppk2)"),
        "{e}"
    );
    assert!(e.starts_with("targets.toml:"), "names file and line: {e}");
}

#[test]
fn the_gate_cannot_take_the_probe_or_the_transport() {
    use mcubench::targets::gate_pin_taken;
    // The debug probe's lines and the Artemis' report UART are refused...
    for (chip, pin, why) in [
        ("STM32L4R5ZI", 13, "PA13 is SWDIO"),
        ("STM32L4R5ZI", 14, "PA14 is SWCLK"),
        ("STM32L4R5ZI", 16 * 6 + 2, "VDDIO2"),
        ("STM32L4R5ZI", 16 * 6 + 15, "VDDIO2"),
        ("nRF52840", 9, "NFC"),
        ("Apollo3", 21, "SWDIO"),
        ("Apollo3", 48, "UART0 TX"),
        ("Apollo3", 49, "UART0 TX and RX"),
    ] {
        let taken = gate_pin_taken(chip, pin);
        assert!(
            taken.is_some_and(|t| t.contains(why)),
            "{chip} pin {pin}: {taken:?}"
        );
    }
    // ...the pins docs/HARDWARE.md suggests are free, and so is every RP2040 GPIO (SWD has its
    // own pins there; the Pico's report goes over RTT).
    for (chip, pin) in [
        ("STM32L4R5ZI", 3),
        ("STM32L4R5ZI", 16 * 6 + 1),
        ("nRF52840", 33),
        ("Apollo3", 40),
        ("RP2040", 22),
    ] {
        assert_eq!(gate_pin_taken(chip, pin), None, "{chip} pin {pin}");
    }
    assert!((0..30).all(|pin| gate_pin_taken("RP2040", pin).is_none()));
}
