//! Where the mcubench checkout is: targets.toml, firmware/, workloads/, results/.

use std::path::{Path, PathBuf};

use crate::targets::{self, Targets, TargetsError};

/// No checkout where one was looked for.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{} has no targets.toml; pass --root the top of an mcubench checkout", .0.display())]
    NoTargets(PathBuf),
    #[error("cannot read the current directory")]
    CurrentDir(#[source] std::io::Error),
    #[error(
        "no mcubench checkout at or above {} (looked for targets.toml and firmware/Cargo.toml); \
         run mcubench inside the checkout or pass --root",
        .0.display()
    )]
    NotFound(PathBuf),
}

/// The checkout the harness works in.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// `root` if given, else the nearest directory at or above the current one that holds
    /// targets.toml and firmware/Cargo.toml.
    pub fn discover(root: Option<&Path>) -> Result<Project, ProjectError> {
        if let Some(root) = root {
            if !root.join("targets.toml").is_file() {
                return Err(ProjectError::NoTargets(root.to_owned()));
            }
            return Ok(Project {
                root: root.to_owned(),
            });
        }
        let cwd = std::env::current_dir().map_err(ProjectError::CurrentDir)?;
        for dir in cwd.ancestors() {
            if dir.join("targets.toml").is_file() && dir.join("firmware/Cargo.toml").is_file() {
                return Ok(Project {
                    root: dir.to_owned(),
                });
            }
        }
        Err(ProjectError::NotFound(cwd))
    }

    pub fn targets_path(&self) -> PathBuf {
        self.root.join("targets.toml")
    }

    pub fn targets(&self) -> Result<Targets, TargetsError> {
        targets::load(&self.targets_path())
    }

    /// Where the harness keeps what it builds (firmware ELFs, caches).
    pub fn build_dir(&self) -> PathBuf {
        self.root.join("target").join("mcubench")
    }
}
