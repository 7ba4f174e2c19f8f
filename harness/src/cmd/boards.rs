//! `mcubench boards`: the boards of targets.toml.

use anyhow::Result;
use comfy_table::{presets::ASCII_MARKDOWN, Table};

use crate::project::Project;
use crate::size::format_bytes;
use crate::targets::{Board, Deploy, Targets, Transport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Print one line per board: its name, the Rust target and the cargo features its firmware
    /// is built with, `-` for none (what `mcubench build` passes, with MCUBENCH_BOARD=<name>;
    /// CI lints the firmware of each line).
    #[arg(long, conflicts_with = "json")]
    pub firmware_builds: bool,
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let targets = project.targets()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&targets)?);
    } else if args.firmware_builds {
        let options = crate::firmware::Options::default();
        for b in &targets.boards {
            let features = options.features(b);
            println!(
                "{} {} {}",
                b.name,
                b.core.rust_target(),
                if features.is_empty() { "-" } else { &features }
            );
        }
    } else {
        print!("{}", table(&targets));
    }
    Ok(())
}

/// The boards table as Markdown (the README shows the same table).
pub fn table(targets: &Targets) -> String {
    let mut table = Table::new();
    table.load_style(ASCII_MARKDOWN).set_header([
        "board",
        "chip",
        "core",
        "clock",
        "flash",
        "RAM",
        "real deploy",
        "transport",
    ]);
    for b in &targets.boards {
        table.add_row([
            b.name.clone(),
            b.chip.clone(),
            b.core.name().to_owned(),
            format!("{} MHz", b.clock_hz as f64 / 1e6),
            flash_cell(b),
            ram_cell(b),
            deploy_cell(&b.deploy),
            transport_cell(&b.transport),
        ]);
    }
    format!("{table}\n")
}

fn flash_cell(b: &Board) -> String {
    let flash = b.flash();
    let mut cell = format!(
        "{:#010x}, {} firmware",
        flash.origin,
        format_bytes(flash.size.into())
    );
    if let Some(model) = b.model_partition() {
        cell += &format!(" + {} model", format_bytes(model.size.into()));
    }
    cell
}

fn ram_cell(b: &Board) -> String {
    let ram = b.ram();
    format!(
        "{:#010x}, {} ({} in all)",
        ram.origin,
        format_bytes(ram.size.into()),
        format_bytes(b.ram_total_bytes())
    )
}

fn deploy_cell(d: &Deploy) -> String {
    match d {
        Deploy::ProbeRs { chip, .. } => format!("probe-rs {chip}"),
        Deploy::Serial {
            bootloader,
            port,
            baud,
        } => {
            format!("{bootloader} on {port} at {baud}")
        }
    }
}

fn transport_cell(t: &Transport) -> String {
    match t {
        Transport::Rtt => "RTT".to_owned(),
        Transport::Uart { port, baud, .. } => format!("UART {port} {baud} baud"),
    }
}
