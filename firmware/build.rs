//! Generates the linker memory map and the board constants from ../targets.toml.
//!
//! The board is the one cargo feature that is enabled (`--features pico`). From its
//! `[[board]]` table this script writes, into OUT_DIR:
//!
//! - `memory.x`, included by cortex-m-rt's `link.x`: the MEMORY regions (FLASH, RAM, MODEL,
//!   BOOT2 and any further ram regions under their own names), the stack reserve symbols
//!   `_stack_start` / `_stack_end` / `_stack_size`, the RP2040 `.boot2` section, and a linker
//!   ASSERT that .data + .bss + the stack reserve fit RAM;
//! - `board.rs`, included by `src/board/mod.rs`: name, core, clock, stack size, model
//!   partition and (for a UART transport) the baud rate.
//!
//! Nothing here is typed twice: every address comes from targets.toml. The harness checks
//! targets.toml thoroughly (with line numbers); this script only needs what it reads to be
//! present, and panics with the file, board and field when it is not.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

const TARGETS: &str = "../targets.toml";

/// The transports a chip module can implement (`cfg(mcubench_transport = "...")`).
const TRANSPORTS: [&str; 2] = ["rtt", "uart"];

struct Region {
    name: String,
    kind: String,
    origin: u64,
    size: u64,
}

fn main() {
    println!("cargo:rerun-if-changed={TARGETS}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");

    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let path = manifest_dir.join(TARGETS);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{TARGETS} is not valid TOML: {e}"));
    let boards = match doc.get("board") {
        Some(Value::Array(boards)) => boards,
        _ => panic!("{TARGETS}: expected [[board]] tables"),
    };
    let names: Vec<&str> = boards
        .iter()
        .enumerate()
        .map(|(i, b)| match b.get("name") {
            Some(Value::String(name)) => name.as_str(),
            _ => panic!(
                "{TARGETS}: [[board]] number {}: field `name` is missing or not a string",
                i + 1
            ),
        })
        .collect();

    // The features named after a board of targets.toml select it; exactly one must be on.
    // (Other features, such as `dsp`, are options.)
    let features: Vec<String> = env::vars()
        .filter_map(|(key, _)| {
            key.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_ascii_lowercase().replace('_', "-"))
        })
        .filter(|f| names.iter().any(|n| n == f))
        .collect();
    let board_name = match features.as_slice() {
        [one] => one.as_str(),
        [] => panic!(
            "no board selected: build with exactly one `--features <board>` (known boards: {})",
            names.join(", ")
        ),
        many => panic!(
            "several boards selected ({}): build with exactly one `--features <board>`",
            many.join(", ")
        ),
    };
    let board = boards
        .iter()
        .zip(&names)
        .find(|(_, name)| **name == board_name)
        .map(|(b, _)| b)
        .unwrap_or_else(|| {
            panic!(
                "board \"{board_name}\" is not in {TARGETS} (known: {})",
                names.join(", ")
            )
        });
    let board = Board {
        name: board_name,
        table: board.as_table().expect("an array of tables holds tables"),
    };

    let core = board.string("core");
    check_target(&board, core);
    let clock_hz = board.integer("clock_hz");
    let stack_bytes = board.integer("stack_bytes");
    if clock_hz == 0 || clock_hz > u64::from(u32::MAX) {
        board.fail(
            "clock_hz",
            "must be a non-zero number of hertz that fits 32 bits",
        );
    }
    if stack_bytes == 0 || !stack_bytes.is_multiple_of(8) {
        board.fail(
            "stack_bytes",
            "must be a non-zero multiple of 8 (the stack pointer is 8-byte aligned)",
        );
    }
    let regions = board.regions();
    let transport = board
        .table
        .get("transport")
        .and_then(Value::as_table)
        .unwrap_or_else(|| board.fail("transport", "is missing or not a table"));
    let transport_kind = match transport.get("kind") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => board.fail("transport.kind", "is missing or not a string"),
    };
    if !TRANSPORTS.contains(&transport_kind) {
        board.fail(
            "transport.kind",
            &format!("is \"{transport_kind}\"; the firmware knows {TRANSPORTS:?}"),
        );
    }
    let chip = board.string("chip");
    let chip_module = chip_module(&manifest_dir.join("src/board"), chip)
        .unwrap_or_else(|known| board.fail("chip", &format!("is \"{chip}\", for which the firmware has no chip module in src/board/ (it has {known}): add one")));

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    // The chip module's own linker lines, if it has any (src/board/<chip>.x: the MK64F's flash
    // configuration field), after the regions.
    let mut x = memory_x(&board, &regions, stack_bytes);
    let chip_x = manifest_dir
        .join("src/board")
        .join(format!("{chip_module}.x"));
    if let Ok(lines) = fs::read_to_string(&chip_x) {
        x.push('\n');
        x.push_str(&lines);
    }
    write(&out_dir.join("memory.x"), &x);

    let mut rs = String::new();
    let _ = writeln!(
        rs,
        "// Generated by build.rs from targets.toml (board \"{}\"); do not edit.",
        board.name
    );
    let _ = writeln!(
        rs,
        "/// The board's name in targets.toml, as the `@mcubench` banner reports it."
    );
    let _ = writeln!(rs, "pub const NAME: &str = {:?};", board.name);
    let _ = writeln!(rs, "/// `cortex-m4f` or `cortex-m0plus`.");
    let _ = writeln!(rs, "pub const CORE: &str = {core:?};");
    let _ = writeln!(
        rs,
        "/// The core clock the board module brings the chip up to."
    );
    let _ = writeln!(rs, "pub const CLOCK_HZ: u32 = {clock_hz};");
    let _ = writeln!(
        rs,
        "/// The stack reserve at the top of RAM (linker symbols `_stack_end`..`_stack_start`)."
    );
    let _ = writeln!(rs, "pub const STACK_BYTES: u32 = {stack_bytes};");
    // The engine arena (arena_bytes in targets.toml; the harness checks it fits RAM with the
    // stack reserve and the other statics, and the linker script checks it again).
    let arena_bytes = board.integer("arena_bytes");
    if arena_bytes < 16 * 1024 || !arena_bytes.is_multiple_of(16) {
        board.fail("arena_bytes", "must be a multiple of 16 and at least 16384");
    }
    let _ = writeln!(rs, "/// The engine arena (arena_bytes in targets.toml).");
    let _ = writeln!(rs, "pub const ARENA_BYTES: usize = {arena_bytes};");
    if let Some(model) = regions.iter().find(|r| r.kind == "model") {
        let _ = writeln!(
            rs,
            "/// The model partition in flash: what a job writes (model, input, expected output)."
        );
        let _ = writeln!(rs, "pub const MODEL_ORIGIN: u32 = {:#010x};", model.origin);
        let _ = writeln!(rs, "pub const MODEL_SIZE: u32 = {:#010x};", model.size);
    } else {
        board.fail(
            "memory",
            "has no region of kind \"model\": the firmware reads the model partition from it",
        );
    }
    if transport_kind == "uart" {
        let baud = match transport.get("baud") {
            Some(Value::Integer(baud)) if *baud > 0 && *baud <= i64::from(u32::MAX) => *baud,
            _ => board.fail("transport.baud", "is missing or not a positive integer"),
        };
        let _ = writeln!(rs, "/// The UART transport's baud rate.");
        let _ = writeln!(rs, "pub const UART_BAUD: u32 = {baud};");
        let pin = |name: &str| match transport.get(name) {
            None => None,
            Some(Value::Integer(pin)) if *pin >= 0 && *pin < 256 => Some(*pin),
            _ => board.fail(&format!("transport.{name}"), "is not a pin number"),
        };
        let pins = match (pin("tx_pin"), pin("rx_pin")) {
            (Some(tx), Some(rx)) => format!("Some(({tx}, {rx}))"),
            _ => "None".to_owned(),
        };
        let _ = writeln!(
            rs,
            "/// The UART's TX and RX pins (transport.tx_pin, rx_pin), where the chip routes it."
        );
        let _ = writeln!(rs, "#[allow(dead_code)]");
        let _ = writeln!(rs, "pub const UART_PINS: Option<(u32, u32)> = {pins};");
    }
    write(&out_dir.join("board.rs"), &rs);

    // The chip module (src/board/<chip>.rs) and the transport it must implement: the module
    // refuses, with a compile_error!, a transport it does not.
    let module_path = manifest_dir
        .join("src/board")
        .join(format!("{chip_module}.rs"));
    write(
        &out_dir.join("chip.rs"),
        &format!(
            "// Generated by build.rs: the chip module of board \"{}\" (chip \"{chip}\").\n#[path = {:?}]\nmod chip;\n",
            board.name,
            module_path.display().to_string()
        ),
    );
    println!("cargo:rerun-if-changed=src/board");
    println!("cargo::rustc-check-cfg=cfg(mcubench_transport, values(\"rtt\", \"uart\"))");
    println!("cargo::rustc-check-cfg=cfg(mcubench_chip, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(mcubench_board, values(any()))");
    println!("cargo:rustc-cfg=mcubench_board=\"{}\"", board.name);
    println!("cargo:rustc-cfg=mcubench_transport=\"{transport_kind}\"");
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

struct Board<'a> {
    name: &'a str,
    table: &'a Table,
}

impl Board<'_> {
    fn fail(&self, field: &str, what: &str) -> ! {
        panic!("{TARGETS}: board \"{}\": field `{field}` {what}", self.name)
    }

    fn string(&self, field: &str) -> &str {
        match self.table.get(field) {
            Some(Value::String(s)) => s,
            _ => self.fail(field, "is missing or not a string"),
        }
    }

    fn integer(&self, field: &str) -> u64 {
        match self.table.get(field) {
            Some(Value::Integer(n)) if *n >= 0 => *n as u64,
            _ => self.fail(field, "is missing or not a non-negative integer"),
        }
    }

    fn regions(&self) -> Vec<Region> {
        let Some(Value::Array(memory)) = self.table.get("memory") else {
            self.fail("memory", "is missing or not an array of regions");
        };
        let regions: Vec<Region> = memory
            .iter()
            .enumerate()
            .map(|(i, region)| {
                let field = |name: &str| format!("memory[{i}].{name}");
                let get_str = |name: &str| match region.get(name) {
                    Some(Value::String(s)) => s.clone(),
                    _ => self.fail(&field(name), "is missing or not a string"),
                };
                let get_int = |name: &str| match region.get(name) {
                    Some(Value::Integer(n)) if *n >= 0 && *n <= i64::from(u32::MAX) => *n as u64,
                    _ => self.fail(&field(name), "is missing or not a 32-bit address or size"),
                };
                let region = Region {
                    name: get_str("name"),
                    kind: get_str("kind"),
                    origin: get_int("origin"),
                    size: get_int("size"),
                };
                if region.name.is_empty()
                    || !region
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || region.name.starts_with(|c: char| c.is_ascii_digit())
                {
                    self.fail(
                        &field("name"),
                        "must be a linker identifier (letters, digits, `_`)",
                    );
                }
                if region.origin + region.size > 1 << 32 {
                    self.fail(
                        &field("size"),
                        "runs past the end of the 32-bit address space",
                    );
                }
                region
            })
            .collect();
        for kind in ["flash", "ram"] {
            if !regions.iter().any(|r| r.kind == kind) {
                self.fail("memory", &format!("has no region of kind \"{kind}\""));
            }
        }
        for kind in ["flash", "model", "boot2"] {
            if regions.iter().filter(|r| r.kind == kind).count() > 1 {
                self.fail(
                    "memory",
                    &format!("has more than one region of kind \"{kind}\""),
                );
            }
        }
        if !regions.iter().any(|r| r.kind == "ram" && r.name == "RAM") {
            self.fail(
                "memory",
                "has no ram region named \"RAM\" (where data, bss and the stack go)",
            );
        }
        regions
    }
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
fn check_target(board: &Board, core: &str) {
    let want = match core {
        "cortex-m4f" => "thumbv7em-none-eabihf",
        "cortex-m0plus" => "thumbv6m-none-eabi",
        other => board.fail(
            "core",
            &format!("is \"{other}\"; the firmware knows cortex-m4f and cortex-m0plus"),
        ),
    };
    let target = env::var("TARGET").unwrap_or_default();
    if target != want {
        panic!(
            "board \"{}\" has a {core} core: build it with `--target {want}` (this build is for `{target}`)",
            board.name
        );
    }
}

fn memory_x(board: &Board, regions: &[Region], stack_bytes: u64) -> String {
    let mut x = String::new();
    let _ = writeln!(
        x,
        "/* Generated by build.rs from targets.toml (board \"{}\"); do not edit. */",
        board.name
    );
    let _ = writeln!(x, "MEMORY\n{{");
    for region in regions {
        // The flash, model and boot2 regions get the names link.x and the firmware expect,
        // whatever targets.toml calls them; other ram regions keep theirs.
        let name = match region.kind.as_str() {
            "flash" => "FLASH",
            "model" => "MODEL",
            "boot2" => "BOOT2",
            "ram" => region.name.as_str(),
            "reserved" => {
                let _ = writeln!(
                    x,
                    "  /* {} ({:#010x}, {:#x} bytes) is reserved: not ours to write. */",
                    region.name, region.origin, region.size
                );
                continue;
            }
            other => board.fail(
                "memory",
                &format!("has a region of unknown kind \"{other}\""),
            ),
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
    if regions.iter().any(|r| r.kind == "boot2") {
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
