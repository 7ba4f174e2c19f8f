//! `mcubench size`: flash and RAM use of a board's firmware.

use anyhow::{bail, Result};
use comfy_table::{presets::ASCII_MARKDOWN, CellAlignment, Table};

use crate::firmware;
use crate::project::Project;
use crate::size::{self, format_bytes, FirmwareSize};
use crate::targets::Board;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The board (see `mcubench boards`).
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    pub board: Option<String>,
    /// Every board of targets.toml.
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let targets = project.targets()?;
    let boards = match &args.board {
        Some(name) => vec![targets.board(name)?],
        None => targets.boards.iter().collect(),
    };
    let mut json = serde_json::Map::new();
    let mut too_big = Vec::new();
    for board in boards {
        let fw = firmware::build(project, board)?;
        let size = size::measure(&fw.elf, board)?;
        if args.json {
            json.insert(board.name.clone(), serde_json::to_value(size)?);
        } else {
            println!(
                "{} ({}, {}): {}",
                board.name,
                board.chip,
                board.core.name(),
                fw.elf.display()
            );
            print!("{}", table(board, &size));
            println!();
        }
        if let Some(over) = size.flash_overflow_bytes() {
            too_big.push(format!("{}: flash by {over} bytes", board.name));
        }
        if let Some(over) = size.ram_overflow_bytes() {
            too_big.push(format!("{}: RAM by {over} bytes", board.name));
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    if !too_big.is_empty() {
        bail!("the firmware does not fit: {}", too_big.join("; "));
    }
    Ok(())
}

/// The size table of one board's firmware.
pub fn table(board: &Board, size: &FirmwareSize) -> String {
    let mut table = Table::new();
    table
        .load_style(ASCII_MARKDOWN)
        .set_header(["part", "bytes", "", "where"]);
    let flash = &board.flash().name;
    let ram = &board.ram().name;
    let mut rows = vec![
        ("text (code + vectors)", size.text_bytes, flash.clone()),
        ("rodata", size.rodata_bytes, flash.clone()),
        (
            "data",
            size.data_bytes,
            format!("{flash} (load image) + {ram}"),
        ),
        (
            "bss (statics)",
            size.bss_bytes.saturating_sub(u64::from(board.arena_bytes)),
            ram.clone(),
        ),
        (
            "engine arena (in bss)",
            u64::from(board.arena_bytes).min(size.bss_bytes),
            ram.clone(),
        ),
        ("stack reserve", size.stack_bytes, ram.clone()),
    ];
    if size.boot2_bytes > 0 {
        rows.insert(0, ("boot2", size.boot2_bytes, "BOOT2".to_owned()));
    }
    for (part, bytes, place) in rows {
        table.add_row([
            part.to_owned(),
            bytes.to_string(),
            format_bytes(bytes),
            place,
        ]);
    }
    let pct = |used: u64, of: u64| 100.0 * used as f64 / of.max(1) as f64;
    table.add_row([
        "flash used".to_owned(),
        size.flash_used_bytes.to_string(),
        format!(
            "of {} ({:.1} %)",
            format_bytes(size.flash_region_bytes),
            pct(size.flash_used_bytes, size.flash_region_bytes)
        ),
        flash.clone(),
    ]);
    table.add_row([
        "RAM used".to_owned(),
        size.ram_used_bytes.to_string(),
        format!(
            "of {} ({:.1} %)",
            format_bytes(size.ram_region_bytes),
            pct(size.ram_used_bytes, size.ram_region_bytes)
        ),
        ram.clone(),
    ]);
    if let Some(column) = table.column_mut(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    format!("{table}\n")
}
