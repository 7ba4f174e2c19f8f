//! Generates the linker memory map and the board constants from ../targets.toml.
//!
//! The board is named by the environment variable `MCUBENCH_BOARD` (`mcubench build` sets it;
//! by hand: `MCUBENCH_BOARD=pico cargo build --release --target thumbv6m-none-eabi`). Its
//! `[[board]]` table, read and validated by the harness's own schema (the `targets` crate, a
//! build dependency), gives, in OUT_DIR:
//!
//! - `memory.x`, included by cortex-m-rt's `link.x`: the MEMORY regions (FLASH, RAM, MODEL,
//!   BOOT2 and any further ram regions under their own names), the stack reserve symbols
//!   `_stack_start` / `_stack_end` / `_stack_size`, the RP2040 `.boot2` section, a linker
//!   ASSERT that .data + .bss + the stack reserve fit RAM, and the chip module's own linker
//!   lines (src/board/<chip>.x, if it has one);
//! - `board.rs`, included by `src/board/mod.rs`: name, core, clock, stack size, arena, model
//!   partition and (for a UART transport) the baud rate and pins;
//! - `chip.rs`: the chip module (src/board/<chip>.rs) that brings the chip up.
//!
//! Nothing here is typed twice: every address comes from targets.toml.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use targets::{AnyChip, Board, RegionKind, Targets, Transport};

const TARGETS: &str = "../targets.toml";

fn main() {
    println!("cargo:rerun-if-changed={TARGETS}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/board");
    println!("cargo:rerun-if-env-changed=MCUBENCH_BOARD");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");

    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let targets = Targets::load(&manifest_dir.join(TARGETS), &AnyChip)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let known = || {
        let names: Vec<&str> = targets.boards.iter().map(|b| b.name.as_str()).collect();
        names.join(", ")
    };
    let name = match env::var("MCUBENCH_BOARD") {
        Ok(name) if !name.is_empty() => name,
        _ => fail(&format!(
            "no board selected: set MCUBENCH_BOARD to a board of targets.toml ({}), or build with `mcubench build --board <board>`",
            known()
        )),
    };
    let board = targets
        .board(&name)
        .unwrap_or_else(|e| fail(&format!("MCUBENCH_BOARD: {e}")));
    check_target(board);
    let chip_module = chip_module(&manifest_dir.join("src/board"), &board.chip)
        .unwrap_or_else(|known| fail(&format!("{TARGETS}: board \"{name}\": field `chip` is \"{}\", for which the firmware has no chip module in src/board/ (it has {known}): add one", board.chip)));
    let model = board.model_partition().unwrap_or_else(|| {
        fail(&format!(
            "{TARGETS}: board \"{name}\": field `memory` has no region of kind \"model\": the firmware reads the model partition from it"
        ))
    });

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The chip module's own linker lines, if it has any (src/board/<chip>.x: the MK64F's flash
    // configuration field), after the regions.
    let mut x = memory_x(board);
    let chip_x = manifest_dir
        .join("src/board")
        .join(format!("{chip_module}.x"));
    if let Ok(lines) = fs::read_to_string(&chip_x) {
        x.push('\n');
        x.push_str(&lines);
    }
    write(&out_dir.join("memory.x"), &x);

    let mut rs = String::new();
    let mut constant = |doc: &str, item: String| {
        let _ = writeln!(rs, "/// {doc}\n{item}");
    };
    constant(
        "The board's name in targets.toml, as the `@mcubench` banner reports it.",
        format!("pub const NAME: &str = {:?};", board.name),
    );
    constant(
        "`cortex-m4f` or `cortex-m0plus`.",
        format!("pub const CORE: &str = {:?};", board.core.name()),
    );
    constant(
        "The core clock the board module brings the chip up to.",
        format!(
            "pub const CLOCK_HZ: u32 = {};",
            u32::try_from(board.clock_hz).unwrap_or_else(|_| fail(&format!(
                "{TARGETS}: board \"{name}\": field `clock_hz` does not fit 32 bits"
            )))
        ),
    );
    constant(
        "The stack reserve at the top of RAM (linker symbols `_stack_end`..`_stack_start`).",
        format!("pub const STACK_BYTES: u32 = {};", board.stack_bytes),
    );
    constant(
        "The engine arena (arena_bytes in targets.toml; checked to fit RAM with the stack and the other statics).",
        format!("pub const ARENA_BYTES: usize = {};", board.arena_bytes),
    );
    constant(
        "The model partition in flash: what a job writes (model, input, expected output).",
        format!(
            "pub const MODEL_ORIGIN: u32 = {:#010x};\npub const MODEL_SIZE: u32 = {:#010x};",
            model.origin, model.size
        ),
    );
    let transport = match &board.transport {
        Transport::Rtt => "rtt",
        Transport::Uart { baud, pins, .. } => {
            constant(
                "The UART transport's baud rate.",
                format!("pub const UART_BAUD: u32 = {baud};"),
            );
            let pins = match pins {
                Some(p) => format!("Some(({}, {}))", p.tx, p.rx),
                None => "None".to_owned(),
            };
            constant(
                "The UART's TX and RX pins (transport.tx_pin, rx_pin), where the chip routes it.",
                format!("#[allow(dead_code)]\npub const UART_PINS: Option<(u32, u32)> = {pins};"),
            );
            "uart"
        }
    };
    write(
        &out_dir.join("board.rs"),
        &format!(
            "// Generated by build.rs from targets.toml (board \"{name}\"); do not edit.\n{rs}"
        ),
    );

    // The chip module (src/board/<chip>.rs) and the transport it must implement: the module
    // refuses, with a compile_error!, a transport it does not.
    let module_path = manifest_dir
        .join("src/board")
        .join(format!("{chip_module}.rs"));
    write(
        &out_dir.join("chip.rs"),
        &format!(
            "// Generated by build.rs: the chip module of board \"{name}\" (chip \"{}\").\n#[path = {:?}]\nmod chip;\n",
            board.chip,
            module_path.display().to_string()
        ),
    );
    println!("cargo::rustc-check-cfg=cfg(mcubench_transport, values(\"rtt\", \"uart\"))");
    println!("cargo::rustc-check-cfg=cfg(mcubench_chip, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(mcubench_board, values(any()))");
    println!("cargo:rustc-cfg=mcubench_board=\"{name}\"");
    println!("cargo:rustc-cfg=mcubench_transport=\"{transport}\"");
    println!("cargo:rustc-cfg=mcubench_chip=\"{chip_module}\"");

    // The linker finds memory.x through the search path; link.x (cortex-m-rt) includes it.
    println!("cargo:rustc-link-search={}", out_dir.display());
    // firmware/.cargo/config.toml passes `-Tlink.x` and `--nmagic`, but cargo reads it only
    // when started in firmware/; the harness starts it from the repository root with
    // --manifest-path. Then the arguments come from here (given twice, link.x would define
    // every region twice and the link would fail).
    let rustflags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !rustflags
        .split('\x1f')
        .any(|flag| flag.contains("-Tlink.x"))
    {
        println!("cargo:rustc-link-arg-bins=--nmagic");
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
    }
}

/// Stops the build with `message` (a build script's panic is how cargo shows it).
fn fail(message: &str) -> ! {
    panic!("{message}")
}

/// The chip module of `chip` (targets.toml's name): the file of `board_dir` whose name, without
/// `.rs`, begins the chip's name lower-cased without spaces, dashes and underscores (`stm32l4r5`
/// for "STM32L4R5ZI", `apollo3` for "Apollo3 Blue"); the longest such name wins. `Err`: the
/// chip modules there, for the message.
fn chip_module(board_dir: &Path, chip: &str) -> Result<String, String> {
    let chip = chip.to_ascii_lowercase().replace([' ', '-', '_'], "");
    let mut modules: Vec<String> = fs::read_dir(board_dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", board_dir.display()))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".rs")?;
            // mod.rs and the shared modules (dwt.rs, stm32l4_gpio.rs) name no chip; .x files
            // are a chip module's linker lines.
            (stem != "mod" && stem != "dwt" && !stem.contains('_')).then(|| stem.to_owned())
        })
        .collect();
    modules.sort();
    modules
        .iter()
        .filter(|m| chip.starts_with(m.as_str()))
        .max_by_key(|m| m.len())
        .cloned()
        .ok_or_else(|| modules.join(", "))
}

/// Refuses a target that does not run the board's core, naming the one that does.
fn check_target(board: &Board) {
    let want = board.core.rust_target();
    let target = env::var("TARGET").unwrap_or_default();
    if target != want {
        fail(&format!(
            "board \"{}\" has a {} core: build it with `--target {want}` (this build is for `{target}`)",
            board.name,
            board.core.name()
        ));
    }
}

fn memory_x(board: &Board) -> String {
    let stack_bytes = board.stack_bytes;
    let mut x = String::new();
    let _ = writeln!(
        x,
        "/* Generated by build.rs from targets.toml (board \"{}\"); do not edit. */",
        board.name
    );
    let _ = writeln!(x, "MEMORY\n{{");
    for region in &board.memory {
        // The flash, model and boot2 regions get the names link.x and the firmware expect,
        // whatever targets.toml calls them; other ram regions keep theirs.
        let name = match region.kind {
            RegionKind::Flash => "FLASH",
            RegionKind::Model => "MODEL",
            RegionKind::Boot2 => "BOOT2",
            RegionKind::Ram => region.name.as_str(),
            RegionKind::Reserved => {
                let _ = writeln!(
                    x,
                    "  /* {} ({:#010x}, {:#x} bytes) is reserved: not ours to write. */",
                    region.name, region.origin, region.size
                );
                continue;
            }
        };
        let _ = writeln!(
            x,
            "  {name:<6} : ORIGIN = {:#010x}, LENGTH = {:#010x}",
            region.origin, region.size
        );
    }
    let _ = writeln!(x, "}}\n");
    let _ = writeln!(
        x,
        "/* The stack reserve (stack_bytes) at the top of RAM; the firmware paints it to find the\n   high-water mark. */"
    );
    let _ = writeln!(x, "_stack_size = {stack_bytes};");
    let _ = writeln!(x, "_stack_start = ORIGIN(RAM) + LENGTH(RAM);");
    let _ = writeln!(x, "_stack_end = _stack_start - _stack_size;\n");
    if board.memory.iter().any(|r| r.kind == RegionKind::Boot2) {
        let _ = writeln!(
            x,
            "/* RP2040 second-stage bootloader: the boot ROM checks and runs these 256 bytes first. */"
        );
        let _ = writeln!(x, "SECTIONS {{\n  .boot2 ORIGIN(BOOT2) :\n  {{\n    KEEP(*(.boot2));\n  }} > BOOT2\n}} INSERT BEFORE .text;\n");
        let _ = writeln!(
            x,
            "ASSERT(SIZEOF(.boot2) == LENGTH(BOOT2), \"\nERROR(mcubench): .boot2 must fill the BOOT2 region exactly (a 256-byte rp2040-boot2 image).\");\n"
        );
    }
    let _ = writeln!(
        x,
        "ASSERT(__euninit <= _stack_end, \"\nERROR(mcubench): .data + .bss + .uninit and the stack reserve do not fit RAM for board {}:\nthe statics run into the {stack_bytes}-byte stack reserve (stack_bytes in targets.toml).\nShrink the statics, or lower stack_bytes for this board.\");",
        board.name
    );
    x
}

fn write(path: &Path, contents: &str) {
    // Rewrite only on change, so that an unchanged targets.toml does not relink.
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}
