//! Flash and RAM use of a firmware ELF, read with the `object` crate.

use std::path::Path;

use object::elf::SHF_ALLOC;
use object::{Object, ObjectSection, SectionFlags};
use serde::Serialize;

use crate::targets::{Board, RegionKind};

/// Where the bytes of a firmware image go, by section class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct FirmwareSize {
    /// Code, vector table and anything else executable or read-only in flash but rodata.
    pub text_bytes: u64,
    /// Read-only data (`.rodata*`).
    pub rodata_bytes: u64,
    /// Initialised data: its load image is in flash, its run copy in RAM.
    pub data_bytes: u64,
    /// Zero-initialised and uninitialised RAM (`.bss`, `.uninit`).
    pub bss_bytes: u64,
    /// The RP2040 second-stage bootloader, in its own 256-byte region.
    pub boot2_bytes: u64,
    /// The stack reserve of targets.toml (the firmware's linker script checks it fits).
    pub stack_bytes: u64,
    /// Bytes of the firmware's flash region used: text + rodata + data load image.
    pub flash_used_bytes: u64,
    pub flash_region_bytes: u64,
    /// Bytes of the RAM region used: data + bss + stack reserve.
    pub ram_used_bytes: u64,
    pub ram_region_bytes: u64,
}

impl FirmwareSize {
    /// By how many bytes the image misses the flash region, if it does.
    pub fn flash_overflow_bytes(&self) -> Option<u64> {
        self.flash_used_bytes
            .checked_sub(self.flash_region_bytes)
            .filter(|b| *b > 0)
    }

    pub fn ram_overflow_bytes(&self) -> Option<u64> {
        self.ram_used_bytes
            .checked_sub(self.ram_region_bytes)
            .filter(|b| *b > 0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SizeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a readable ELF file: {reason}")]
    NotElf { path: String, reason: String },
    #[error("{path}: section {section} at {address:#010x} is outside every memory region of board \"{board}\" in targets.toml; was it built for another board?")]
    OutsideMemory {
        path: String,
        section: String,
        address: u64,
        board: String,
    },
}

/// Measures `elf` against the memory map of `board`.
pub fn measure(elf: &Path, board: &Board) -> Result<FirmwareSize, SizeError> {
    let data = std::fs::read(elf).map_err(|source| SizeError::Read {
        path: elf.display().to_string(),
        source,
    })?;
    measure_bytes(&data, &elf.display().to_string(), board)
}

pub fn measure_bytes(data: &[u8], path: &str, board: &Board) -> Result<FirmwareSize, SizeError> {
    let file = object::File::parse(data).map_err(|e| SizeError::NotElf {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if file.format() != object::BinaryFormat::Elf {
        return Err(SizeError::NotElf {
            path: path.to_owned(),
            reason: format!("it is {:?}, not ELF", file.format()),
        });
    }
    let mut size = FirmwareSize {
        stack_bytes: u64::from(board.stack_bytes),
        flash_region_bytes: u64::from(board.flash().size),
        ram_region_bytes: u64::from(board.ram().size),
        ..FirmwareSize::default()
    };
    for section in file.sections() {
        let SectionFlags::Elf { sh_flags, .. } = section.flags() else {
            continue;
        };
        if sh_flags.0 & SHF_ALLOC.0 == 0 || section.size() == 0 {
            continue;
        }
        let name = section.name().unwrap_or("?");
        let address = section.address();
        let region = board.memory.iter().find(|r| r.contains(address));
        let Some(region) = region else {
            return Err(SizeError::OutsideMemory {
                path: path.to_owned(),
                section: name.to_owned(),
                address,
                board: board.name.clone(),
            });
        };
        // SHT_NOBITS sections (.bss, .uninit) have no bytes in the file.
        let nobits = section.file_range().is_none();
        let bytes = section.size();
        match region.kind {
            RegionKind::Ram if nobits => size.bss_bytes += bytes,
            RegionKind::Ram => size.data_bytes += bytes,
            RegionKind::Boot2 => size.boot2_bytes += bytes,
            _ if name.starts_with(".rodata") => size.rodata_bytes += bytes,
            _ => size.text_bytes += bytes,
        }
    }
    size.flash_used_bytes = size.text_bytes + size.rodata_bytes + size.data_bytes;
    size.ram_used_bytes = size.data_bytes + size.bss_bytes + size.stack_bytes;
    Ok(size)
}

/// 1536 -> "1.5 KiB"; exact byte counts stay in the tables' byte columns.
pub fn format_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        trim(format!("{:.1}", b / KIB)) + " KiB"
    } else {
        trim(format!("{:.2}", b / KIB / KIB)) + " MiB"
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}
