//! `mcubench workloads`: the workloads, their variants, sizes and host metrics.

use anyhow::Result;
use comfy_table::{presets::ASCII_MARKDOWN, Table};

use crate::config::Config;
use crate::project::Project;
use crate::size::format_bytes;
use crate::workloads::Workload;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The folder of model files that are not in the repository (default: mcubench.toml
    /// [models] dir).
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<std::path::PathBuf>,
}

pub fn run(project: &Project, args: &Args) -> Result<()> {
    let models_dir =
        Config::load(&project.root)?.models_dir_or(&project.root, args.models_dir.as_deref());
    let catalog = Workload::catalog(&project.root, models_dir.as_deref())?;
    let workloads = &catalog.workloads;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "workloads": workloads,
                "need_models_dir": catalog.need_models_dir,
            }))?
        );
        return Ok(());
    }
    let mut table = Table::new();
    table.load_style(ASCII_MARKDOWN).set_header([
        "workload",
        "task",
        "metric",
        "variant",
        "model",
        "host metric",
        "excluded on",
    ]);
    for w in workloads {
        for v in &w.variants {
            let excluded: Vec<String> = w
                .exclusions
                .iter()
                .filter(|e| e.variant.is_none_or(|x| x == v.variant))
                .map(|e| e.board.clone())
                .collect();
            table.add_row([
                w.name.clone(),
                w.task.clone(),
                w.metric.name().to_owned(),
                v.variant.label().to_owned(),
                format_bytes(v.model_bytes),
                v.host_metric.map_or("n/a".into(), |m| format!("{m:.4}")),
                excluded.join(", "),
            ]);
        }
    }
    println!("{table}");
    if let Some(note) = catalog.left_out_note() {
        println!("\n{}", note.replacen("not planned", "not listed", 1));
    }
    Ok(())
}
