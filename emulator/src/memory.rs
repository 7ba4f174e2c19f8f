//! The memory map as data, and its flat fast backing store.
//!
//! The harness turns a board's `targets.toml` regions into a [`MemoryMap`]. Adjacent regions
//! that are both backed (flash, model, boot2, RAM) are merged into one block of host memory so
//! an access is one subtraction and one comparison per block; there are only two or three blocks
//! on every supported board. Code may run from any block: each carries a predecode cache.

use crate::isa::Insn;

/// What a region of the memory map is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// Program flash: readable and executable, writes are a bus fault.
    Flash,
    /// The model partition in flash (same rules as flash).
    Model,
    /// RP2040 second-stage bootloader at the start of XIP flash (same rules as flash).
    Boot2,
    /// RAM: readable, writable, executable.
    Ram,
    /// Reserved: any access is a bus fault.
    Reserved,
}

impl RegionKind {
    /// True if the CPU may write this region.
    pub fn is_writable(self) -> bool {
        self == RegionKind::Ram
    }

    /// True if the region is backed by memory at all.
    pub fn is_backed(self) -> bool {
        self != RegionKind::Reserved
    }

    /// True if ELF segments may be loaded here (everything backed).
    pub fn is_loadable(self) -> bool {
        self.is_backed()
    }

    /// True for the kinds that live in non-volatile program memory.
    pub fn is_flash(self) -> bool {
        matches!(
            self,
            RegionKind::Flash | RegionKind::Model | RegionKind::Boot2
        )
    }
}

/// One region of a board's memory map (one `memory` entry of targets.toml).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Name as in targets.toml (`FLASH`, `RAM`, ...), used in error messages.
    pub name: String,
    /// First address.
    pub origin: u32,
    /// Size in bytes.
    pub size: u32,
    /// What the region is.
    pub kind: RegionKind,
}

impl Region {
    /// A region; `name` is only used in messages.
    pub fn new(name: impl Into<String>, origin: u32, size: u32, kind: RegionKind) -> Region {
        Region {
            name: name.into(),
            origin,
            size,
            kind,
        }
    }

    /// One past the last address (as u64 so a region may end at 4 GiB).
    pub fn end(&self) -> u64 {
        self.origin as u64 + self.size as u64
    }

    /// True if `addr` lies in the region.
    pub fn contains(&self, addr: u32) -> bool {
        addr >= self.origin && (addr as u64) < self.end()
    }
}

/// A board's memory map.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemoryMap {
    /// The regions, in any order; they must not overlap.
    pub regions: Vec<Region>,
}

/// Why a memory map cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MapError {
    /// Two regions share addresses.
    #[error("memory regions {a} and {b} overlap: give each address range to one region only")]
    Overlap {
        /// First region's name.
        a: String,
        /// Second region's name.
        b: String,
    },
    /// A region of size zero or one that runs past 4 GiB.
    #[error("memory region {name} has size {size:#x} at {origin:#010x}: a region must be non-empty and end at or below 4 GiB")]
    BadSize {
        /// Region name.
        name: String,
        /// Its origin.
        origin: u32,
        /// Its size.
        size: u32,
    },
    /// Regions in the system space (0xE000_0000 and up) would hide the core's own registers.
    #[error("memory region {name} at {origin:#010x} lies in the Cortex-M system space (0xE0000000 and up), which the emulator models itself")]
    SystemSpace {
        /// Region name.
        name: String,
        /// Its origin.
        origin: u32,
    },
}

impl MemoryMap {
    /// A map from regions.
    pub fn new(regions: Vec<Region>) -> MemoryMap {
        MemoryMap { regions }
    }

    /// Check the map: regions non-empty, inside 4 GiB, outside the system space, not overlapping.
    pub fn validate(&self) -> Result<(), MapError> {
        for r in &self.regions {
            if r.size == 0 || r.end() > 1 << 32 {
                return Err(MapError::BadSize {
                    name: r.name.clone(),
                    origin: r.origin,
                    size: r.size,
                });
            }
            if r.end() > 0xE000_0000 && r.kind.is_backed() {
                return Err(MapError::SystemSpace {
                    name: r.name.clone(),
                    origin: r.origin,
                });
            }
        }
        for (i, a) in self.regions.iter().enumerate() {
            for b in &self.regions[i + 1..] {
                if (a.origin as u64) < b.end() && (b.origin as u64) < a.end() {
                    return Err(MapError::Overlap {
                        a: a.name.clone(),
                        b: b.name.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The region containing `addr`, if any.
    pub fn region_at(&self, addr: u32) -> Option<&Region> {
        self.regions.iter().find(|r| r.contains(addr))
    }
}

/// A contiguous run of backed memory with uniform write permission.
#[derive(Debug)]
pub(crate) struct Block {
    pub base: u32,
    pub data: Vec<u8>,
    pub writable: bool,
    /// Index of this block's first slot in [`Memory::code`] (one slot per halfword).
    pub code_base: usize,
    /// True once any slot of this block may be decoded (so stores must invalidate).
    pub has_code: bool,
}

impl Block {
    #[inline(always)]
    pub fn len(&self) -> u32 {
        self.data.len() as u32
    }
}

/// Forget the decoded instructions of block `b` that overlap bytes `off..off + size` (a 32-bit
/// instruction starting one halfword earlier overlaps too).
#[inline(always)]
fn invalidate(code: &mut [Insn], b: &Block, off: u32, size: u32) {
    if b.has_code {
        let first = b.code_base + (off >> 1).saturating_sub(1) as usize;
        let last = b.code_base + ((off + size - 1) >> 1) as usize;
        let end = (last + 1).min(b.code_base + b.data.len().div_ceil(2));
        for slot in &mut code[first..end] {
            *slot = Insn::default();
        }
    }
}

/// The backed memory of a machine.
#[derive(Debug)]
pub(crate) struct Memory {
    pub blocks: Vec<Block>,
    /// The predecode cache of all blocks, one slot per halfword; `Op::NotDecoded` until first
    /// executed. One flat vector so an instruction fetch is a single bounds-checked index.
    pub code: Vec<Insn>,
}

impl Memory {
    /// Merge adjacent backed regions with the same writability into blocks (RAM first, as data
    /// accesses are the frequent ones; instruction fetch goes through the code cache).
    pub fn new(map: &MemoryMap) -> Memory {
        let mut regions: Vec<&Region> = map.regions.iter().filter(|r| r.kind.is_backed()).collect();
        regions.sort_by_key(|r| r.origin);
        let mut blocks: Vec<Block> = Vec::new();
        for r in regions {
            let writable = r.kind.is_writable();
            if let Some(last) = blocks.last_mut() {
                if last.writable == writable
                    && last.base as u64 + last.data.len() as u64 == r.origin as u64
                {
                    last.data.resize(last.data.len() + r.size as usize, 0);
                    continue;
                }
            }
            blocks.push(Block {
                base: r.origin,
                data: vec![0; r.size as usize],
                writable,
                code_base: 0,
                has_code: false,
            });
        }
        blocks.sort_by_key(|b| !b.writable);
        let mut slots = 0;
        for b in &mut blocks {
            b.code_base = slots;
            slots += b.data.len().div_ceil(2);
        }
        Memory {
            blocks,
            code: vec![Insn::default(); slots],
        }
    }

    /// Index of the block holding `addr..addr + size`.
    #[inline(always)]
    pub fn find(&self, addr: u32, size: u32) -> Option<(usize, u32)> {
        for (i, b) in self.blocks.iter().enumerate() {
            let off = addr.wrapping_sub(b.base);
            if off < b.len() && b.len() - off >= size {
                return Some((i, off));
            }
        }
        None
    }

    #[inline(always)]
    pub fn read32(&self, addr: u32) -> Option<u32> {
        for b in &self.blocks {
            let off = addr.wrapping_sub(b.base) as usize;
            if let Some(bytes) = b.data.get(off..off.wrapping_add(4)) {
                return Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
            }
        }
        None
    }

    #[inline(always)]
    pub fn read16(&self, addr: u32) -> Option<u16> {
        for b in &self.blocks {
            let off = addr.wrapping_sub(b.base) as usize;
            if let Some(bytes) = b.data.get(off..off.wrapping_add(2)) {
                return Some(u16::from_le_bytes([bytes[0], bytes[1]]));
            }
        }
        None
    }

    #[inline(always)]
    pub fn read8(&self, addr: u32) -> Option<u8> {
        for b in &self.blocks {
            let off = addr.wrapping_sub(b.base) as usize;
            if let Some(&v) = b.data.get(off) {
                return Some(v);
            }
        }
        None
    }

    /// Write `bytes` if the whole range is in one writable block. `None` if unbacked,
    /// `Some(false)` if read-only.
    #[inline(always)]
    pub fn write(&mut self, addr: u32, bytes: &[u8]) -> Option<bool> {
        let size = bytes.len() as u32;
        for b in &mut self.blocks {
            let off = addr.wrapping_sub(b.base);
            if off < b.len() && b.len() - off >= size {
                if !b.writable {
                    return Some(false);
                }
                b.data[off as usize..(off + size) as usize].copy_from_slice(bytes);
                invalidate(&mut self.code, b, off, size);
                return Some(true);
            }
        }
        None
    }

    /// The bytes `addr..addr + len` of one block, for multi-word loads (LDM/POP).
    #[inline(always)]
    pub fn slice(&self, addr: u32, len: u32) -> Option<&[u8]> {
        let (i, off) = self.find(addr, len)?;
        self.blocks[i].data.get(off as usize..(off + len) as usize)
    }

    /// The bytes `addr..addr + len` of one writable block, for multi-word stores (STM/PUSH);
    /// decoded instructions there are forgotten first. `None` if unbacked or read-only.
    #[inline(always)]
    pub fn slice_mut(&mut self, addr: u32, len: u32) -> Option<&mut [u8]> {
        let (i, off) = self.find(addr, len)?;
        let b = &mut self.blocks[i];
        if !b.writable {
            return None;
        }
        invalidate(&mut self.code, b, off, len);
        b.data.get_mut(off as usize..(off + len) as usize)
    }

    /// Host write ignoring permissions (ELF loading, transports), invalidating decoded code.
    pub fn host_write(&mut self, addr: u32, bytes: &[u8]) -> bool {
        let Some((i, off)) = self.find(addr, bytes.len() as u32) else {
            return false;
        };
        let b = &mut self.blocks[i];
        b.data[off as usize..off as usize + bytes.len()].copy_from_slice(bytes);
        if !bytes.is_empty() {
            invalidate(&mut self.code, b, off, bytes.len() as u32);
        }
        true
    }

    /// Host read of a byte range within one block.
    pub fn host_read(&self, addr: u32, out: &mut [u8]) -> bool {
        let Some((i, off)) = self.find(addr, out.len() as u32) else {
            return false;
        };
        out.copy_from_slice(&self.blocks[i].data[off as usize..off as usize + out.len()]);
        true
    }
}
