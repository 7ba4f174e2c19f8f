//! Per-chip memory timing, as data: where the flash is, how many wait states a flash read costs,
//! the prefetch buffer, and the caches in front of the flash, each switched on or off by the
//! register the firmware writes (so a firmware that forgets the ART accelerator is slower, as
//! on silicon). SRAM and the system/peripheral space are zero-wait-state.
//!
//! Caches are modelled as caches: tags, sets, ways, line size, LRU replacement.

/// Geometry of a cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheGeometry {
    /// Bytes per line (a power of two).
    pub line_bytes: u32,
    /// Number of sets (a power of two).
    pub sets: u32,
    /// Ways per set.
    pub ways: u32,
}

impl CacheGeometry {
    /// Capacity in bytes.
    pub const fn bytes(&self) -> u32 {
        self.line_bytes * self.sets * self.ways
    }
}

/// What a value of a chip's flash configuration register means for the timing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashSettings {
    /// Cycles one flash read costs beyond a zero-wait-state access.
    pub wait_states: u32,
    /// Prefetch buffer on (STM32 PRFTEN).
    pub prefetch: bool,
    /// Instruction fetches cached.
    pub icache: bool,
    /// Data reads cached (in the data cache, or in the unified cache).
    pub dcache: bool,
    /// The instruction (or unified) cache's geometry, where the register chooses it (Apollo3's
    /// CACHECFG.CONFIG); `None`: [`ChipMemoryTiming::icache`].
    pub icache_geometry: Option<CacheGeometry>,
}

/// The register that configures a chip's flash timing: where it is, its reset value, what its
/// bits mean (a function in the chip's file) and the value the benchmark firmware's bring-up
/// writes for the board's rated clock (what `mcubench calibrate` assumes).
#[derive(Clone, Copy)]
pub struct FlashConfig {
    /// Register address.
    pub addr: u32,
    /// Its reset value.
    pub reset: u32,
    /// What a value of it means.
    pub decode: fn(&ChipMemoryTiming, u32) -> FlashSettings,
    /// The value the firmware's bring-up leaves in it (wait states for the rated clock,
    /// accelerators and caches on); `None`: it keeps its reset value. The harness's tests run
    /// the firmware on each virtual board and check that it does.
    pub firmware: Option<u32>,
}

impl PartialEq for FlashConfig {
    /// Equal when the register, its reset value and the firmware's value are (a chip's decode
    /// is its own: two chips never share a configuration register's address and reset value
    /// and differ in meaning).
    fn eq(&self, other: &FlashConfig) -> bool {
        (self.addr, self.reset, self.firmware) == (other.addr, other.reset, other.firmware)
    }
}

impl Eq for FlashConfig {}

impl std::fmt::Debug for FlashConfig {
    /// The data, without `decode` (a function's address differs from build to build).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlashConfig")
            .field("addr", &format_args!("{:#x}", self.addr))
            .field("reset", &format_args!("{:#x}", self.reset))
            .field("firmware", &self.firmware.map(|v| format!("{v:#x}")))
            .finish()
    }
}

/// The memory timing of one chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChipMemoryTiming {
    /// Chip name as in targets.toml.
    pub chip: &'static str,
    /// Flash (or XIP) address range whose reads cost wait states: `[start, end)`.
    pub flash: (u32, u32),
    /// Bytes one flash read delivers (the unit the fetch side works in).
    pub fetch_bytes: u32,
    /// Cycles a flash read costs beyond a zero-wait-state access when it is not configured by a
    /// register (nRF52840, Apollo3) or the fixed cost of a cache miss (RP2040's QSPI).
    pub fixed_wait_states: u32,
    /// Instruction cache (unified: also data reads, when `dcache` is `None`).
    pub icache: CacheGeometry,
    /// Separate data cache, if the chip has one.
    pub dcache: Option<CacheGeometry>,
    /// The register that configures wait states and caches.
    pub config: FlashConfig,
    /// Single-cycle I/O port `[start, end)` (Cortex-M0+ IOPORT: loads and stores in 1 cycle).
    pub io_port: (u32, u32),
    /// Cortex-M0+ built with the small (32-cycle) multiplier instead of the fast one.
    pub small_multiplier: bool,
}

/// Hits and misses of one cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that hit.
    pub hits: u64,
    /// Lookups that missed (a flash read).
    pub misses: u64,
}

impl CacheStats {
    /// Hit rate in [0, 1]; `None` without lookups.
    pub fn hit_rate(&self) -> Option<f64> {
        let n = self.hits + self.misses;
        (n > 0).then(|| self.hits as f64 / n as f64)
    }
}

/// Most sets a [`Cache`] can have.
pub const MAX_SETS: usize = 1024;
/// Most ways a [`Cache`] can have.
pub const MAX_WAYS: usize = 4;
const INVALID: u32 = u32::MAX;

/// A set-associative cache with LRU replacement (tags only: the data lives in memory), of at
/// most [`MAX_SETS`] sets of [`MAX_WAYS`] ways. Recency is kept as a last-use stamp per way
/// (the least recently used way has the smallest stamp, an empty way stamp 0), and a map from
/// each line of the cached window to the way that holds it, so a hit is one load and one
/// store, without a branch: the hot path of the cycle model does one per fetch word.
#[derive(Clone, Debug)]
pub struct Cache {
    line_shift: u32,
    set_mask: u32,
    ways: usize,
    /// Per set and way, the line held (`INVALID`: empty; ways beyond `ways` stay empty).
    tags: Box<[[u32; MAX_WAYS]; MAX_SETS]>,
    /// Per set and way (`set * MAX_WAYS + way`), the clock at its last use (0: never); the
    /// extra last slot takes the stamps of fetches that use no way.
    used: Box<[u64]>,
    /// Advances with every use.
    clock: u64,
    /// First line of the cached window (the flash).
    window_line: u32,
    /// Per line of the window, 1 + the way holding it, 0 if it is not cached.
    resident: Box<[u8]>,
    /// Lookups so far, besides the fetch side's hits.
    counted: CacheStats,
    /// Uses counted in `counted`, so that the probe's hits are `clock - lookups`.
    lookups: u64,
}

const UNUSED_SLOT: usize = MAX_SETS * MAX_WAYS;

impl Cache {
    /// An empty cache of the given geometry (clamped to [`MAX_SETS`] x [`MAX_WAYS`]) in front of
    /// the addresses `[window.0, window.1)`.
    pub fn new(g: CacheGeometry, window: (u32, u32)) -> Cache {
        let sets = (g.sets.max(1).next_power_of_two() as usize).min(MAX_SETS);
        let line_shift = g.line_bytes.max(2).next_power_of_two().trailing_zeros();
        let lines = (window.1.saturating_sub(window.0) >> line_shift) as usize;
        Cache {
            line_shift,
            set_mask: sets as u32 - 1,
            ways: (g.ways.max(1) as usize).min(MAX_WAYS),
            tags: Box::new([[INVALID; MAX_WAYS]; MAX_SETS]),
            used: vec![0; UNUSED_SLOT + 1].into_boxed_slice(),
            clock: 0,
            window_line: window.0 >> line_shift,
            resident: vec![0; lines].into_boxed_slice(),
            counted: CacheStats::default(),
            lookups: 0,
        }
    }

    /// Look `addr` up and make its line the most recently used, filling it on a miss (evicting
    /// the least recently used way). Returns true on a hit. Counts nothing.
    pub(crate) fn lookup(&mut self, addr: u32) -> bool {
        let line = addr >> self.line_shift;
        let set = (line & self.set_mask) as usize & (MAX_SETS - 1);
        self.clock += 1;
        let base = set * MAX_WAYS;
        let ways = &self.tags[set][..self.ways];
        if let Some(k) = ways.iter().position(|&t| t == line) {
            self.used[base + k] = self.clock;
            return true;
        }
        // The least recently used way (an empty one first: its stamp is 0).
        let victim = (0..self.ways)
            .min_by_key(|&k| self.used[base + k])
            .unwrap_or(0);
        let old = std::mem::replace(&mut self.tags[set][victim], line);
        if old != INVALID {
            self.set_resident(old, 0);
        }
        self.set_resident(line, victim as u8 + 1);
        self.used[base + victim] = self.clock;
        false
    }

    fn set_resident(&mut self, line: u32, way: u8) {
        if let Some(r) = self
            .resident
            .get_mut(line.wrapping_sub(self.window_line) as usize)
        {
            *r = way;
        }
    }

    /// The fetch side's probe of `addr`: `(in_window, cached)`. When `touch` and the line is
    /// cached it becomes the most recently used (a hit, counted in [`Self::stats`]). Branch-free;
    /// a line that is not cached changes nothing.
    #[inline(always)]
    pub(crate) fn probe(&mut self, addr: u32, touch: bool) -> (bool, bool) {
        let line = addr >> self.line_shift;
        let idx = line.wrapping_sub(self.window_line) as usize;
        let in_window = idx < self.resident.len();
        let way = if in_window { self.resident[idx] } else { 0 };
        let hit = touch & (way != 0);
        let set = (line & self.set_mask) as usize & (MAX_SETS - 1);
        let slot = if hit {
            set * MAX_WAYS + (way as usize).wrapping_sub(1) % MAX_WAYS
        } else {
            UNUSED_SLOT
        };
        self.clock += hit as u64;
        self.used[slot] = self.clock;
        (in_window, way != 0)
    }

    /// [`Self::lookup`], counted in [`Self::stats`].
    pub fn access(&mut self, addr: u32) -> bool {
        let hit = self.lookup(addr);
        self.lookups += 1;
        if hit {
            self.counted.hits += 1;
        } else {
            self.counted.misses += 1;
        }
        hit
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.counted.hits + (self.clock - self.lookups),
            misses: self.counted.misses,
        }
    }

    /// Drop every line.
    pub fn invalidate(&mut self) {
        for set in 0..MAX_SETS {
            for way in 0..MAX_WAYS {
                let line = std::mem::replace(&mut self.tags[set][way], INVALID);
                if line != INVALID {
                    self.set_resident(line, 0);
                }
            }
        }
        self.used.fill(0);
    }
}

/// The memory timing of a running board: the chip's data plus the configuration the firmware
/// has written, the caches' contents and the prefetch buffer's state.
#[derive(Clone, Debug)]
pub struct MemoryTiming {
    /// The chip's data.
    pub chip: ChipMemoryTiming,
    flash_lo: u32,
    flash_hi: u32,
    /// log2 of `chip.fetch_bytes`.
    pub(crate) fetch_shift: u32,
    /// Cycles one flash read costs beyond a zero-wait-state access, as configured.
    pub wait_states: u32,
    /// Prefetch buffer on (STM32 PRFTEN).
    pub prefetch: bool,
    /// Instruction cache on.
    pub icache_on: bool,
    /// Data reads cached (in the D-cache, or in the unified cache).
    pub dcache_on: bool,
    /// The instruction (or unified) cache.
    pub icache: Cache,
    /// The separate data cache, if any.
    pub dcache: Option<Cache>,
    /// Cycle at which the prefetched next flash word is available.
    prefetch_ready: u64,
    /// Flash word the prefetch buffer holds or is reading.
    prefetch_line: u32,
    /// Cycles lost waiting for instruction fetches from flash.
    pub fetch_stall_cycles: u64,
    /// Cycles lost waiting for data reads from flash.
    pub data_stall_cycles: u64,
}

impl MemoryTiming {
    /// The chip's memory in its reset configuration.
    pub fn new(chip: &ChipMemoryTiming) -> MemoryTiming {
        let mut m = MemoryTiming {
            chip: *chip,
            flash_lo: chip.flash.0,
            flash_hi: chip.flash.1,
            fetch_shift: chip.fetch_bytes.max(1).next_power_of_two().trailing_zeros(),
            wait_states: chip.fixed_wait_states,
            prefetch: false,
            icache_on: false,
            dcache_on: false,
            icache: Cache::new(chip.icache, chip.flash),
            dcache: chip.dcache.map(|g| Cache::new(g, chip.flash)),
            prefetch_ready: 0,
            prefetch_line: u32::MAX,
            fetch_stall_cycles: 0,
            data_stall_cycles: 0,
        };
        m.apply(chip.config.reset);
        m
    }

    /// Memory with no wait states anywhere (no chip data).
    pub fn zero_wait() -> MemoryTiming {
        let mut m = MemoryTiming::new(crate::chips::Chip::STM32L4R5.memory_timing());
        m.flash_lo = 0;
        m.flash_hi = 0;
        m.chip.flash = (0, 0);
        m.icache = Cache::new(m.chip.icache, m.chip.flash);
        m.dcache = m.chip.dcache.map(|g| Cache::new(g, m.chip.flash));
        m.io_off();
        m
    }

    fn io_off(&mut self) {
        self.chip.io_port = (0, 0);
    }

    /// The firmware wrote the configuration register: take the new value.
    pub fn apply(&mut self, value: u32) {
        let (was_i, was_d) = (self.icache_on, self.dcache_on);
        let settings = (self.chip.config.decode)(&self.chip, value);
        self.wait_states = settings.wait_states;
        self.prefetch = settings.prefetch;
        self.icache_on = settings.icache;
        self.dcache_on = settings.dcache;
        if let Some(g) = settings.icache_geometry {
            if g != self.chip.icache {
                self.chip.icache = g;
                self.icache = Cache::new(g, self.chip.flash);
            }
        }
        // A cache switched on starts empty (the firmware resets it first on every chip).
        if self.icache_on && !was_i {
            self.icache.invalidate();
        }
        if self.dcache_on && !was_d {
            if let Some(d) = self.dcache.as_mut() {
                d.invalidate();
            }
        }
    }

    /// True if `addr` is in the flash.
    #[inline(always)]
    pub fn is_flash(&self, addr: u32) -> bool {
        addr.wrapping_sub(self.flash_lo) < self.flash_hi.wrapping_sub(self.flash_lo)
    }

    /// True if `addr` is on the single-cycle I/O port.
    #[inline(always)]
    pub fn is_io_port(&self, addr: u32) -> bool {
        let (lo, hi) = self.chip.io_port;
        addr.wrapping_sub(lo) < hi.wrapping_sub(lo)
    }

    /// Stall cycles of an instruction fetch of the flash word at `pc` at cycle `now` that is not
    /// a hit in the most recently used way: a hit in another way (0), or a miss (the cache off
    /// counts as one): the flash read, less what the prefetch buffer has already done.
    pub fn fetch(&mut self, pc: u32, now: u64) -> u32 {
        if !self.is_flash(pc) {
            return 0;
        }
        let line = pc >> self.fetch_shift;
        let sequential = line == self.prefetch_line;
        if self.icache_on && self.icache.access(pc) {
            return 0;
        }
        let stall = if self.prefetch && sequential {
            // The prefetch buffer started reading this word when the previous one arrived.
            self.prefetch_ready.saturating_sub(now) as u32
        } else {
            self.wait_states
        };
        if self.prefetch {
            self.prefetch_line = line.wrapping_add(1);
            self.prefetch_ready = now + stall as u64 + self.wait_states as u64;
        }
        self.fetch_stall_cycles += stall as u64;
        stall
    }

    /// Stall cycles of a data read of the flash word at `addr` (0 outside the flash).
    #[inline]
    pub fn data_read(&mut self, addr: u32) -> u32 {
        if !self.is_flash(addr) {
            return 0;
        }
        self.data_read_flash(addr)
    }

    /// [`Self::data_read`] of an address in the flash.
    #[inline]
    pub(crate) fn data_read_flash(&mut self, addr: u32) -> u32 {
        if self.dcache_on {
            let cache = match self.dcache.as_mut() {
                Some(d) => d,
                None => &mut self.icache,
            };
            // A hit is the probe's (counted); a miss the full lookup's, which fills the line.
            if cache.probe(addr, true).1 || cache.access(addr) {
                return 0;
            }
        }
        self.data_stall_cycles += self.wait_states as u64;
        self.wait_states
    }

    /// Data cache statistics (the unified cache's for chips without a separate one).
    pub fn data_cache_stats(&self) -> Option<CacheStats> {
        self.dcache.as_ref().map(Cache::stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_keeps_the_recently_used_way() {
        let mut c = Cache::new(
            CacheGeometry {
                line_bytes: 8,
                sets: 1,
                ways: 2,
            },
            (0, 0x100),
        );
        assert!(!c.access(0x00));
        assert!(!c.access(0x08));
        assert!(c.access(0x00)); // 0x00 most recent, 0x08 least
        assert!(!c.access(0x10)); // evicts 0x08
        assert!(c.access(0x00));
        assert!(!c.access(0x08));
        assert_eq!(c.stats(), CacheStats { hits: 2, misses: 4 });
    }

    /// The reference: LRU kept as an order of lines per set, most recent first.
    struct OrderedLru {
        line_shift: u32,
        sets: Vec<Vec<u32>>,
        ways: usize,
    }

    impl OrderedLru {
        fn access(&mut self, addr: u32) -> bool {
            let line = addr >> self.line_shift;
            let n = self.sets.len() as u32;
            let set = &mut self.sets[(line % n) as usize];
            let hit = match set.iter().position(|&l| l == line) {
                Some(k) => {
                    set.remove(k);
                    true
                }
                None => {
                    set.truncate(self.ways - 1);
                    false
                }
            };
            set.insert(0, line);
            hit
        }
    }

    /// The probe-then-lookup path the cycle model takes (and plain lookups, as data reads
    /// make) gives the same hits and misses as an ordered LRU, access for access.
    #[test]
    fn stamped_lru_matches_ordered_lru() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (line_bytes, sets, ways) in [(8, 32, 4), (16, 256, 2), (16, 1024, 1), (8, 4, 2)] {
            let g = CacheGeometry {
                line_bytes,
                sets,
                ways,
            };
            let window = (0x0800_0000, 0x0801_0000);
            let mut cache = Cache::new(g, window);
            let mut reference = OrderedLru {
                line_shift: line_bytes.trailing_zeros(),
                sets: vec![Vec::new(); sets as usize],
                ways: ways as usize,
            };
            let span = line_bytes * sets * ways * 3;
            for step in 0..200_000 {
                let r = next();
                let addr = window.0 + (r as u32 % span);
                let hit = if r >> 40 & 1 == 0 {
                    cache.probe(addr, true).1 || cache.access(addr)
                } else {
                    cache.access(addr)
                };
                assert_eq!(
                    hit,
                    reference.access(addr),
                    "{g:?}, access {step} at {addr:#x}"
                );
                // A probe that does not touch changes nothing.
                cache.probe(window.0 + (next() as u32 % span), false);
            }
            let stats = cache.stats();
            assert_eq!(stats.hits + stats.misses, 200_000);
        }
    }

    #[test]
    fn stm32_reads_flash_acr() {
        let mut m = MemoryTiming::new(crate::chips::Chip::STM32L4R5.memory_timing());
        assert_eq!(m.wait_states, 0);
        assert!(m.icache_on && m.dcache_on && !m.prefetch);
        m.apply(0x705);
        assert_eq!(m.wait_states, 5);
        assert!(m.prefetch);
        m.apply(0x005);
        assert!(!m.icache_on && !m.dcache_on && !m.prefetch);
        // Without cache or prefetch every new flash word costs the wait states.
        assert_eq!(m.fetch(0x0800_0000, 0), 5);
        assert_eq!(m.fetch(0x0800_0008, 10), 5);
        assert_eq!(m.fetch(0x2000_0000, 20), 0);
        assert_eq!(m.data_read(0x0800_0100), 5);
        assert_eq!(m.data_read(0x2000_0100), 0);
    }
}
