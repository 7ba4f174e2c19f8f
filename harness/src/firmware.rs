//! Building the benchmark firmware for a board, cached by a content hash of its inputs.
//!
//! The firmware is its own cargo workspace (firmware/); the board is named by the environment
//! variable `MCUBENCH_BOARD` (its build script reads the board from targets.toml), options are
//! cargo features, and the target triple follows from the board's core. A build's inputs are
//! the firmware sources, the crates it uses by path (protocol/, engine/, and targets/ for its
//! build script), targets.toml, the toolchain pin and the compiler's version: when none of them
//! changed, the cached ELF is used and cargo never runs.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::project::Project;
use crate::targets::{Board, Core};

/// A firmware ELF ready to deploy.
#[derive(Debug, Clone)]
pub struct Firmware {
    pub board: String,
    pub elf: PathBuf,
    /// Hex SHA-256 of every build input.
    pub hash: String,
    /// True when the ELF came from the cache and cargo did not run.
    pub cached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run `{program}`: {source}; install Rust with rustup (https://rustup.rs) and make sure `{program}` is on PATH")]
    Toolchain {
        program: String,
        #[source]
        source: io::Error,
    },
    #[error("the Rust target {target} is not installed for this toolchain; run `rustup target add {target}`")]
    MissingTarget { target: String },
    #[error("the firmware for board \"{board}\" does not fit: region {region} overflowed by {overflow_bytes} bytes ({region} is {region_bytes} bytes in targets.toml); make the firmware smaller or the region larger")]
    DoesNotFit {
        board: String,
        region: String,
        overflow_bytes: u64,
        region_bytes: u64,
    },
    #[error("cargo failed to build the firmware for board \"{board}\" (exit status {status}); its output:\n{output}")]
    Cargo {
        board: String,
        status: String,
        output: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> BuildError {
    let context = context.into();
    move |source| BuildError::Io { context, source }
}

/// How to build the firmware beyond the board.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Build the engine's portable kernels only, without the Cortex-M4 DSP-extension ones
    /// (to measure what they bring, or to rule them out).
    pub portable_kernels: bool,
    /// Leave the flash accelerator/cache off (the firmware's `flash-cache-off` feature): what a
    /// firmware that forgets them measures, on silicon and on the virtual boards.
    pub flash_cache_off: bool,
}

impl Options {
    /// The firmware's cargo features for `board`, comma-separated (empty: none). The board
    /// itself is not a feature: it is `MCUBENCH_BOARD`.
    pub fn features(&self, board: &Board) -> String {
        let dsp = board.core == Core::CortexM4F && !self.portable_kernels;
        let mut features = Vec::new();
        if dsp {
            features.push("dsp");
        }
        if self.flash_cache_off {
            features.push("flash-cache-off");
        }
        features.join(",")
    }
}

/// Builds (or takes from the cache) the firmware for `board`.
pub fn build(project: &Project, board: &Board) -> Result<Firmware, BuildError> {
    build_with(project, board, Options::default())
}

/// Builds (or takes from the cache) the firmware for `board` with `options`.
pub fn build_with(
    project: &Project,
    board: &Board,
    options: Options,
) -> Result<Firmware, BuildError> {
    let target = board.core.rust_target();
    let features = options.features(board);
    let rustc_version = toolchain_version(&project.root, target)?;
    // Only the `mcubench` binary can be the wrapper (a test binary linking this library cannot).
    let wrapper = std::env::current_exe()
        .ok()
        .filter(|exe| exe.file_stem().is_some_and(|s| s == "mcubench"));
    let hash = input_hash(project, board, &features, &rustc_version, wrapper.is_some())?;
    let dir = project.build_dir().join("firmware").join(&board.name);
    let elf = dir.join(format!("{}.elf", &hash[..16]));
    if elf.is_file() {
        return Ok(Firmware {
            board: board.name.clone(),
            elf,
            hash,
            cached: true,
        });
    }
    // One cargo target dir per board for the image (boards on the same triple would otherwise
    // overwrite each other's release/mcubench-firmware when built concurrently), and one build
    // dir for all of them (the intermediate artifacts: the dependencies, and the build
    // script's, which compile once instead of once per board; cargo locks it, so builds that
    // share it take turns).
    let cargo_target_dir = project.build_dir().join("cargo-firmware").join(&board.name);
    let cargo_build_dir = shared_build_dir(project);
    // The canonical root, so that the paths cargo gives rustc do not depend on how the
    // checkout was named (`harness/..`, a symlink), and remap_path_prefix maps them all.
    let root = project
        .root
        .canonicalize()
        .unwrap_or_else(|_| project.root.clone());
    let mut cmd = clean_cargo_env(Command::new(cargo()));
    let mut rustflags = remap_path_prefix(&root);
    if let Some(me) = wrapper {
        // Through `mcubench` as rustc wrapper: see rustc_wrapper. Cargo does not fingerprint
        // the wrapper, but it does the flags: this cfg makes it rebuild what it built without.
        cmd.env("RUSTC_WRAPPER", me).env(WRAPPER_ROOT, &root);
        rustflags += "\x1f--cfg\x1fmcubench_stable_metadata";
    }
    let output = cmd
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags)
        .current_dir(&root)
        .args(["build", "--release", "--manifest-path"])
        .arg(root.join("firmware/Cargo.toml"))
        .args(["--target", target, "--features", &features, "--target-dir"])
        .arg(&cargo_target_dir)
        .env(BOARD_VARIABLE, &board.name)
        .env("CARGO_BUILD_BUILD_DIR", &cargo_build_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| BuildError::Toolchain {
            program: "cargo".into(),
            source,
        })?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        if let Some((region, overflow_bytes)) = linker_overflow(&text) {
            let region_bytes = board
                .memory
                .iter()
                .find(|r| r.name == region)
                .map_or(0, |r| u64::from(r.size));
            return Err(BuildError::DoesNotFit {
                board: board.name.clone(),
                region,
                overflow_bytes,
                region_bytes,
            });
        }
        if text.contains("can't find crate for `core`") {
            return Err(BuildError::MissingTarget {
                target: target.into(),
            });
        }
        return Err(BuildError::Cargo {
            board: board.name.clone(),
            status: output.status.to_string(),
            output: text,
        });
    }
    let built = cargo_target_dir
        .join(target)
        .join("release")
        .join("mcubench-firmware");
    fs::create_dir_all(&dir).map_err(io_error(format!("cannot create {}", dir.display())))?;
    // Copy then rename, so that a cache entry is either whole or absent.
    // The partial name is unique to this process and thread: two builds of the same inputs
    // (parallel tests, two terminals) must not rename each other's file away.
    let partial = dir.join(format!(
        "{}.elf.{}-{:?}.partial",
        &hash[..16],
        std::process::id(),
        std::thread::current().id()
    ));
    fs::copy(&built, &partial).map_err(io_error(format!(
        "cannot copy the built firmware {}",
        built.display()
    )))?;
    if let Err(e) = fs::rename(&partial, &elf) {
        let _ = fs::remove_file(&partial);
        if !elf.is_file() {
            return Err(io_error(format!("cannot store {}", elf.display()))(e));
        }
    }
    Ok(Firmware {
        board: board.name.clone(),
        elf,
        hash,
        cached: false,
    })
}

/// The cargo build dir all boards' firmware builds share (`build.build-dir`): its name cannot
/// be a board's, which have no dots.
pub fn shared_build_dir(project: &Project) -> PathBuf {
    project
        .build_dir()
        .join("cargo-firmware")
        .join(".shared-build")
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The host's build settings must not leak into the firmware build: a `RUSTFLAGS` meant for
/// x86-64 breaks a thumb build, and a `CARGO_TARGET_DIR` would mix the two.
fn clean_cargo_env(mut cmd: Command) -> Command {
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_BUILD_BUILD_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Panic locations put source paths in the firmware's flash; cargo gives the engine's and the
/// protocol's (path dependencies outside the firmware workspace) as absolute paths. Mapped to
/// `.`, the same sources make the same image in any checkout, so that flash sizes and cycles
/// from CI compare with a baseline made elsewhere.
fn remap_path_prefix(root: &Path) -> String {
    format!("--remap-path-prefix={}=.", root.display())
}

/// Set by `build_with` for `mcubench` running as cargo's rustc wrapper: the checkout's root.
pub const WRAPPER_ROOT: &str = "MCUBENCH_RUSTC_WRAPPER_ROOT";

/// When `mcubench` runs as the firmware build's rustc wrapper (`WRAPPER_ROOT` set), runs rustc
/// and returns its exit code; otherwise `None`.
///
/// Cargo derives `-C metadata` (which seeds every symbol hash) of a path dependency outside the
/// building workspace, here the engine and the protocol, from its absolute path, and the
/// firmware's own from theirs. Different symbol hashes put functions in a different order, so the
/// same sources at another path gave a different image (same sizes, other addresses), which a
/// cycle model with flash wait states or caches could see. For crates of the checkout, the
/// wrapper replaces the metadata with a hash of what identifies the crate without its path:
/// name, source file relative to the root, cfgs, crate type and target.
pub fn rustc_wrapper() -> Option<i32> {
    let root = PathBuf::from(std::env::var_os(WRAPPER_ROOT)?);
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return Some(2);
    }
    let rustc = args.remove(0);
    stable_crate_metadata(&root, &mut args);
    let status = Command::new(rustc).args(&args).status();
    Some(match status {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("mcubench (as rustc wrapper): cannot run rustc: {e}");
            2
        }
    })
}

/// Rewrites `-C metadata=...` of a crate whose source lies in `root` (see `rustc_wrapper`).
fn stable_crate_metadata(root: &Path, args: &mut [String]) {
    let source = args
        .iter()
        .find(|a| a.ends_with(".rs") && !a.starts_with('-'))
        .map(PathBuf::from);
    let Some(source) = source else { return };
    let relative = if source.is_absolute() {
        match source.strip_prefix(root) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => return, // a registry crate: its metadata does not depend on our path
        }
    } else {
        source
    };
    let mut hasher = Sha256::new();
    hasher.update(relative.to_string_lossy().as_bytes());
    let mut identity: Vec<&str> = Vec::new();
    for pair in args.windows(2) {
        if [
            "--crate-name",
            "--cfg",
            "--crate-type",
            "--target",
            "--edition",
        ]
        .contains(&pair[0].as_str())
        {
            identity.push(&pair[0]);
            identity.push(&pair[1]);
        }
    }
    for part in identity {
        hasher.update(b"\0");
        hasher.update(part.as_bytes());
    }
    let metadata: String = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    for i in 0..args.len() {
        if args[i].starts_with("metadata=") && i > 0 && args[i - 1] == "-C" {
            args[i] = format!("metadata={metadata}");
        } else if args[i].starts_with("-Cmetadata=") {
            args[i] = format!("-Cmetadata={metadata}");
        }
    }
}

/// `rustc -vV` of the toolchain the checkout pins, after checking it has `target`.
fn toolchain_version(root: &Path, target: &str) -> Result<String, BuildError> {
    let run = |args: &[&str]| -> Result<String, BuildError> {
        let out = Command::new("rustc")
            .current_dir(root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BuildError::Toolchain {
                program: "rustc".into(),
                source,
            })?;
        if !out.status.success() {
            return Err(BuildError::Toolchain {
                program: "rustc".into(),
                source: io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let sysroot = run(&["--print", "sysroot"])?;
    let target_lib = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(target)
        .join("lib");
    let installed = target_lib.is_dir() || (add_pinned_targets(root) && target_lib.is_dir());
    if !installed {
        return Err(BuildError::MissingTarget {
            target: target.into(),
        });
    }
    run(&["-vV"])
}

/// The targets and components rust-toolchain.toml pins (empty when it cannot be read).
fn pinned_toolchain(root: &Path) -> (Vec<String>, Vec<String>) {
    #[derive(serde::Deserialize, Default)]
    struct Pinned {
        #[serde(default)]
        targets: Vec<String>,
        #[serde(default)]
        components: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        toolchain: Pinned,
    }
    let pinned = fs::read_to_string(root.join("rust-toolchain.toml"))
        .ok()
        .and_then(|t| toml::from_str::<File>(&t).ok())
        .map(|f| f.toolchain)
        .unwrap_or_default();
    (pinned.targets, pinned.components)
}

/// Where rustup is on PATH, adds the targets and components that rust-toolchain.toml pins to
/// the pinned toolchain (rustup installs the toolchain itself on first use, but not the targets
/// of one that was installed without them). Says so on one line. False if it could not.
fn add_pinned_targets(root: &Path) -> bool {
    // One at a time: boards built in parallel must not run two rustups on one toolchain.
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    let (targets, components) = pinned_toolchain(root);
    if targets.is_empty() {
        return false;
    }
    let rustup = |args: &[&str]| {
        Command::new("rustup")
            .current_dir(root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let on_path = Command::new("rustup")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !on_path {
        return false;
    }
    eprintln!(
        "installing the Rust targets and components rust-toolchain.toml pins: rustup target add {}{}",
        targets.join(" "),
        if components.is_empty() {
            String::new()
        } else {
            format!("; rustup component add {}", components.join(" "))
        }
    );
    let mut args = vec!["target", "add"];
    args.extend(targets.iter().map(String::as_str));
    let mut ok = rustup(&args);
    if ok && !components.is_empty() {
        let mut args = vec!["component", "add"];
        args.extend(components.iter().map(String::as_str));
        ok = rustup(&args);
    }
    ok
}

/// The environment variable that names the board to the firmware's build script.
pub const BOARD_VARIABLE: &str = "MCUBENCH_BOARD";

/// SHA-256 over every input of a firmware build, in a stable order.
fn input_hash(
    project: &Project,
    board: &Board,
    features: &str,
    rustc_version: &str,
    stable_metadata: bool,
) -> Result<String, BuildError> {
    let root = &project.root;
    let mut files = Vec::new();
    collect_files(&root.join("firmware"), &mut files)?;
    // The crates the firmware uses by path, and the schema its build script reads targets.toml
    // with.
    for krate in ["protocol", "engine", "targets"] {
        collect_files(&root.join(krate).join("src"), &mut files)?;
        for f in ["Cargo.toml", "build.rs"] {
            let path = root.join(krate).join(f);
            if path.is_file() {
                files.push(path);
            }
        }
    }
    for f in ["targets.toml", "rust-toolchain.toml", "Cargo.lock"] {
        let path = root.join(f);
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "board={}\ntarget={}\nfeatures={features}\npaths=remapped\nstable_metadata={stable_metadata}\n",
        board.name,
        board.core.rust_target()
    ));
    hasher.update(rustc_version.as_bytes());
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let bytes = fs::read(&path).map_err(io_error(format!("cannot read {}", path.display())))?;
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), BuildError> {
    if !dir.is_dir() {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(io_error(format!("cannot list {}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(io_error(format!("cannot list {}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') && name != ".cargo" {
            continue;
        }
        let kind = entry
            .file_type()
            .map_err(io_error(format!("cannot stat {}", path.display())))?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Finds rust-lld / GNU ld's "region `FLASH' overflowed by N bytes" in a failed build.
fn linker_overflow(stderr: &str) -> Option<(String, u64)> {
    stderr.lines().find_map(|line| {
        let start = line.find("region `").or_else(|| line.find("region '"))?;
        let rest = &line[start + "region `".len()..];
        let end = rest.find(['\'', '`'])?;
        let region = rest[..end].to_owned();
        let tail = &rest[end..];
        let by = tail.find("overflowed by ")? + "overflowed by ".len();
        let digits: String = tail[by..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        Some((region, digits.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linker_overflow_messages_are_recognised() {
        let lld = "rust-lld: error: section '.text' will not fit in region 'FLASH': overflowed by 1234 bytes";
        assert_eq!(linker_overflow(lld), Some(("FLASH".into(), 1234)));
        let gnu = "ld: region `RAM' overflowed by 56 bytes";
        assert_eq!(linker_overflow(gnu), Some(("RAM".into(), 56)));
        assert_eq!(linker_overflow("error: linking failed"), None);
    }

    #[test]
    fn crate_metadata_does_not_depend_on_the_checkouts_path() {
        let args = |root: &str, source: &str| -> Vec<String> {
            let source = source.replace("ROOT", root);
            [
                "--crate-name",
                "mcubench_engine",
                "--edition=2021",
                &source,
                "--crate-type",
                "lib",
                "-C",
                "metadata=from-the-path-ROOT",
                "-C",
                "extra-filename=-abc",
                "--cfg",
                "feature=\"dsp\"",
                "--target",
                "thumbv7em-none-eabihf",
            ]
            .iter()
            .map(|a| a.replace("ROOT", root))
            .collect()
        };
        let stable = |root: &str, source: &str| {
            let mut a = args(root, source);
            stable_crate_metadata(Path::new(root), &mut a);
            a
        };
        let here = stable("/work/a", "ROOT/engine/src/lib.rs");
        let there = stable("/home/runner/work/x/x", "ROOT/engine/src/lib.rs");
        assert_eq!(here[7], there[7]);
        assert!(here[7].starts_with("metadata=") && !here[7].contains("work"));
        assert_eq!(here[9], "extra-filename=-abc", "file names stay cargo's");
        // Another crate, or the same one for another target, keeps a metadata of its own.
        let member = stable("/work/a", "src/main.rs");
        assert_ne!(member[7], here[7]);
        let mut host = args("/work/a", "ROOT/engine/src/lib.rs");
        host[13] = "x86_64-unknown-linux-gnu".into();
        stable_crate_metadata(Path::new("/work/a"), &mut host);
        assert_ne!(host[7], here[7]);
        // A crate from the registry is left alone.
        let registry = stable("/work/a", "/root/.cargo/registry/src/x/libm-0.2/src/lib.rs");
        assert_eq!(registry[7], "metadata=from-the-path-/work/a");
    }
}
