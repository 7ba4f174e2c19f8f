//! ELF loading (with the `object` crate): PT_LOAD segments by physical (load) address, the
//! symbol table for fault reports and transports, and the checks that turn a wrong file into a
//! clear error instead of a confusing run.

use crate::machine::Machine;
use crate::memory::RegionKind;
use crate::timing::Timing;
use object::elf::PT_LOAD;

/// e_machine of 32-bit ARM.
const EM_ARM: u16 = 40;
use object::read::elf::{ElfFile32, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

/// Why an ELF file cannot run on this board.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file, or a damaged/truncated one.
    #[error("not a valid 32-bit ELF file ({0}): pass the firmware ELF that cargo/gcc produced, not a .bin or .hex")]
    Parse(String),
    /// ELF for another machine.
    #[error("ELF is for machine type {machine}, not ARM (40): build for thumbv6m-none-eabi or thumbv7em-none-eabihf")]
    WrongArchitecture {
        /// e_machine.
        machine: u16,
    },
    /// Big-endian ARM.
    #[error("ELF is big-endian: Cortex-M images are little-endian")]
    BigEndian,
    /// A segment's data lies outside the file.
    #[error("ELF is truncated: segment at {addr:#010x} needs bytes {offset}..{end} but the file has {len}")]
    Truncated {
        /// Segment load address.
        addr: u32,
        /// File offset of its data.
        offset: u64,
        /// End of its data.
        end: u64,
        /// File length.
        len: usize,
    },
    /// A segment that does not fit the memory map.
    #[error("ELF segment at {addr:#010x} ({size} bytes) lies outside the board's memory regions: check the linker script (memory.x) matches targets.toml")]
    SegmentOutsideMemory {
        /// Load address.
        addr: u32,
        /// Size in bytes.
        size: u32,
    },
    /// Nothing sensible at the vector table address.
    #[error("no vector table at {addr:#010x}: the image must start with the initial SP and the reset handler there (is the vector table linked at the start of flash?)")]
    NoVectorTable {
        /// Where it was expected.
        addr: u32,
    },
    /// The entry point is not in flash.
    #[error("ELF entry point {entry:#010x} is outside the board's flash: the image was linked for another memory map")]
    EntryOutsideFlash {
        /// e_entry.
        entry: u32,
    },
}

/// A symbol of the loaded image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Demangled? No: the raw (possibly mangled) name as in the ELF.
    pub name: String,
    /// Address (bit 0 cleared for Thumb functions).
    pub addr: u32,
    /// Size in bytes (0 if unknown).
    pub size: u32,
}

/// The image's function and data symbols, sorted by address.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    symbols: Vec<Symbol>,
}

impl SymbolTable {
    /// All symbols, sorted by address.
    pub fn all(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Address of the symbol called `name`.
    pub fn address_of(&self, name: &str) -> Option<u32> {
        self.symbols.iter().find(|s| s.name == name).map(|s| s.addr)
    }

    /// The nearest symbol at or below `addr` and the offset into it. A sized symbol only
    /// matches within its size.
    pub fn lookup(&self, addr: u32) -> Option<(&str, u32)> {
        let idx = self.symbols.partition_point(|s| s.addr <= addr);
        let s = self.symbols[..idx]
            .iter()
            .rev()
            .find(|s| s.size == 0 || addr - s.addr < s.size)?;
        Some((&s.name, addr - s.addr))
    }
}

/// What was loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// ELF entry point.
    pub entry: u32,
    /// (load address, bytes) of every PT_LOAD segment with file data.
    pub segments: Vec<(u32, u32)>,
    /// Bytes loaded into flash-kind regions (flash, model, boot2).
    pub flash_bytes: u64,
}

/// Load `bytes` into `m`.
pub(crate) fn load<T: Timing>(m: &mut Machine<T>, bytes: &[u8]) -> Result<LoadedImage, ElfError> {
    // Check the header ourselves first, so a wrong architecture is reported as such.
    if bytes.len() < 20 || &bytes[..4] != b"\x7fELF" {
        return Err(ElfError::Parse(
            "missing ELF magic or file shorter than an ELF header".into(),
        ));
    }
    if bytes[4] != 1 {
        return Err(ElfError::Parse("not a 32-bit (ELFCLASS32) file".into()));
    }
    if bytes[5] != 1 {
        return Err(ElfError::BigEndian);
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    if machine != EM_ARM {
        return Err(ElfError::WrongArchitecture { machine });
    }
    let file = ElfFile32::<Endianness>::parse(bytes).map_err(|e| ElfError::Parse(e.to_string()))?;
    let endian = file.endian();
    let header = file.elf_header();
    let mut segments = Vec::new();
    let mut flash_bytes = 0u64;
    for ph in header
        .program_headers(endian, bytes)
        .map_err(|e| ElfError::Parse(e.to_string()))?
    {
        if ph.p_type(endian) != PT_LOAD {
            continue;
        }
        let filesz = ph.p_filesz(endian);
        if filesz == 0 {
            continue;
        }
        let addr = ph.p_paddr(endian);
        let offset = ph.p_offset(endian) as u64;
        let end = offset + filesz as u64;
        let data = bytes
            .get(offset as usize..end as usize)
            .ok_or(ElfError::Truncated {
                addr,
                offset,
                end,
                len: bytes.len(),
            })?;
        if !m.mem.host_write(addr, data) {
            return Err(ElfError::SegmentOutsideMemory { addr, size: filesz });
        }
        if m.map.region_at(addr).is_some_and(|r| r.kind.is_flash()) {
            flash_bytes += filesz as u64;
        }
        segments.push((addr, filesz));
    }
    if segments.is_empty() {
        return Err(ElfError::Parse(
            "no loadable (PT_LOAD) segment with data".into(),
        ));
    }
    let entry = file.entry() as u32;
    let in_flash = |a: u32| m.map.region_at(a).is_some_and(|r| r.kind.is_flash());
    if !in_flash(entry & !1) {
        return Err(ElfError::EntryOutsideFlash { entry });
    }
    // Vector table: word 0 the initial SP (in RAM, or one past its end), word 1 a Thumb
    // address of code in flash.
    let vtor = m.sys.reset_vtor;
    let covered = segments
        .iter()
        .any(|&(a, n)| vtor >= a && (vtor as u64) + 8 <= a as u64 + n as u64);
    let sp = m.mem.read32(vtor);
    let reset = m.mem.read32(vtor.wrapping_add(4));
    let sp_ok = sp.is_some_and(|sp| {
        m.map
            .regions
            .iter()
            .any(|r| r.kind == RegionKind::Ram && sp > r.origin && sp as u64 <= r.end())
    });
    let reset_ok = reset.is_some_and(|r| r & 1 == 1 && in_flash(r & !1));
    if !covered || !sp_ok || !reset_ok {
        return Err(ElfError::NoVectorTable { addr: vtor });
    }
    let mut symbols: Vec<Symbol> = file
        .symbols()
        .filter(|s| {
            matches!(
                s.kind(),
                SymbolKind::Text | SymbolKind::Data | SymbolKind::Unknown
            )
        })
        .filter(|s| s.address() != 0 || s.size() != 0)
        .filter_map(|s| {
            let name = s.name().ok()?;
            if name.is_empty() || name.starts_with('$') {
                return None;
            }
            let addr = s.address() as u32;
            let addr = if s.kind() == SymbolKind::Text {
                addr & !1
            } else {
                addr
            };
            Some(Symbol {
                name: name.to_string(),
                addr,
                size: s.size() as u32,
            })
        })
        .collect();
    symbols.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| a.name.cmp(&b.name)));
    m.symbols = SymbolTable { symbols };
    Ok(LoadedImage {
        entry,
        segments,
        flash_bytes,
    })
}
