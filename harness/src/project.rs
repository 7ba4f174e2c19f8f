//! Where the mcubench checkout is: targets.toml, firmware/, workloads/, results/.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::targets::Targets;

/// The checkout the harness works in.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// `root` if given, else the nearest directory at or above the current one that holds
    /// targets.toml and firmware/Cargo.toml.
    pub fn discover(root: Option<&Path>) -> Result<Project> {
        if let Some(root) = root {
            if !root.join("targets.toml").is_file() {
                bail!(
                    "{} has no targets.toml; pass --root the top of an mcubench checkout",
                    root.display()
                );
            }
            return Ok(Project {
                root: root.to_owned(),
            });
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        for dir in cwd.ancestors() {
            if dir.join("targets.toml").is_file() && dir.join("firmware/Cargo.toml").is_file() {
                return Ok(Project {
                    root: dir.to_owned(),
                });
            }
        }
        bail!(
            "no mcubench checkout at or above {} (looked for targets.toml and firmware/Cargo.toml); \
             run mcubench inside the checkout or pass --root",
            cwd.display()
        )
    }

    pub fn targets_path(&self) -> PathBuf {
        self.root.join("targets.toml")
    }

    pub fn targets(&self) -> Result<Targets> {
        Ok(Targets::load(&self.targets_path())?)
    }

    /// Where the harness keeps what it builds (firmware ELFs, caches).
    pub fn build_dir(&self) -> PathBuf {
        self.root.join("target").join("mcubench")
    }
}
