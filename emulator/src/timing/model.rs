//! The cycle model: a core table and a chip's memory timing turn each executed instruction into
//! cycles. Per instruction the hot path is two table lookups, a compare for a new fetch word
//! and, for loads and stores, a range check of the data address; everything else (flash
//! fetches, cache lookups, division, load/store multiple) is off that path.

use super::memory::{ChipMemoryTiming, MemoryTiming};
use super::{InsnEvent, Timing};
use crate::isa::{Insn, Op};

/// Cycle counts of one core, per instruction class, for zero-wait-state memory (see
/// [`super::cortex_m4::TABLE`], [`super::cortex_m0plus::TABLE`] for the sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoreTable {
    /// Core name.
    pub name: &'static str,
    /// Data processing, moves, shifts, extends, bit-field, saturation, parallel arithmetic.
    pub alu: u8,
    /// P: cycles to refill the pipeline after a taken branch whose target is known only in the
    /// execute stage (BX/BLX register, CBZ/CBNZ, TBB/TBH, loads and ALU writes to the PC), and
    /// after an exception return.
    pub branch_refill: u8,
    /// P after a taken B, B<cond> or BL, whose target the core issues from the decode stage.
    pub branch_refill_immediate: u8,
    /// B, B<cond>, BX, BLX, CBZ/CBNZ, before the refill.
    pub branch: u8,
    /// BL before the refill.
    pub branch_link: u8,
    /// TBB/TBH before the refill.
    pub table_branch: u8,
    /// MUL.
    pub multiply: u8,
    /// MUL with the small (iterative) multiplier, where the chip has it.
    pub multiply_small: u8,
    /// MLA, MLS and the DSP 32-bit multiplies (SMLAD, SMLA<x><y>, SMMLA ...).
    pub multiply_accumulate: u8,
    /// 64-bit result multiplies (UMULL, SMLAL, SMLALD, UMAAL ...).
    pub long_multiply: u8,
    /// SDIV/UDIV, fastest.
    pub divide_min: u8,
    /// SDIV/UDIV, slowest (all 32 quotient bits).
    pub divide_max: u8,
    /// Single load.
    pub load: u8,
    /// Single load right after a load whose result it does not use as its address.
    pub load_pipelined: u8,
    /// Single store, immediate offset.
    pub store: u8,
    /// Single store, register offset.
    pub store_reg_offset: u8,
    /// LDRD/STRD.
    pub dual: u8,
    /// LDM/STM/PUSH/POP/VLDM/VSTM: this plus one per register.
    pub multiple_base: u8,
    /// Extra cycles of a load multiple that loads the PC, beyond the refill.
    pub load_pc_extra: u8,
    /// LDREX/STREX.
    pub exclusive: u8,
    /// FP arithmetic, compare, convert, single moves, VMRS/VMSR.
    pub fpu: u8,
    /// VMOV of two registers.
    pub fpu_move2: u8,
    /// FP multiply-accumulate (chained and fused).
    pub fpu_mac: u8,
    /// VDIV/VSQRT.
    pub fpu_div_sqrt: u8,
    /// VLDR/VSTR of one word.
    pub fpu_load_store: u8,
    /// MRS/MSR.
    pub system: u8,
    /// DMB/DSB/ISB (32-bit hints).
    pub barrier: u8,
    /// Exception entry (stacking, vector fetch, refill).
    pub exception_entry: u8,
    /// Exception return (unstacking, refill).
    pub exception_return: u8,
    /// Return + entry replaced by a tail-chain.
    pub tail_chain: u8,
    /// Extra cycles when the FP context is stacked at entry (not lazily).
    pub fp_context: u8,
}

/// How an op's cycles are finished off after its base count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Plain,
    Load,
    Store,
    StoreReg,
    Dual,
    LoadMultiple,
    StoreMultiple,
    FpLoad,
    FpStore,
    FpLoadMultiple,
    FpStoreMultiple,
    Divide,
    /// NOP and the hints; 32-bit on ARMv6-M means DMB/DSB/ISB.
    Hint,
}

/// Counts the model keeps besides cycles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CycleStats {
    /// Exceptions taken (tail-chained ones included).
    pub exceptions: u64,
    /// Of those, tail-chained.
    pub tail_chained: u64,
}

/// An op's timing data (see [`CycleModel`]'s `ops`).
#[derive(Clone, Copy, Debug)]
struct OpTiming {
    base: u8,
    kind: Kind,
    refill: u8,
}

/// Number of `Op` values (the enum is `repr(u8)`).
const OPS: usize = 256;
const NO_REG: u8 = 0xff;

/// The cycle model of a core on a chip.
#[derive(Clone, Debug)]
pub struct CycleModel {
    /// The core's table.
    pub table: CoreTable,
    /// The chip's memory timing, as configured by the firmware.
    pub memory: MemoryTiming,
    /// Per op: its base count, how it is finished off and its refill P when it is a taken
    /// branch, in one entry so that the hot path loads once.
    ops: [OpTiming; OPS],
    refill: u32,
    fetch_shift: u32,
    fetch_word: u32,
    /// Destination of the previous instruction if it was a single load, else `NO_REG`.
    prev_load: u8,
    /// An exception return's cost, charged at the next instruction or folded into a tail-chain.
    pending_return: u32,
    /// Counts.
    pub stats: CycleStats,
    /// Cycles per halfword of code, from `profile_base` (empty: not profiling).
    profile: Vec<u64>,
    profile_base: u32,
    profiling: bool,
}

impl CycleModel {
    /// The model of `table`'s core with `chip`'s memory (in its reset configuration).
    pub fn new(table: &CoreTable, chip: &ChipMemoryTiming) -> CycleModel {
        CycleModel::with_memory(table, MemoryTiming::new(chip))
    }

    /// The model of a core on zero-wait-state memory everywhere (the TRM's figures).
    pub fn zero_wait(table: &CoreTable) -> CycleModel {
        CycleModel::with_memory(table, MemoryTiming::zero_wait())
    }

    fn with_memory(table: &CoreTable, memory: MemoryTiming) -> CycleModel {
        let mut ops = [OpTiming {
            base: table.alu,
            kind: Kind::Plain,
            refill: table.branch_refill,
        }; OPS];
        for op in [Op::B, Op::BCond, Op::Bl] {
            ops[op as usize].refill = table.branch_refill_immediate;
        }
        let t = table;
        let small_mul = memory.chip.small_multiplier;
        for (op, entry) in ops.iter_mut().enumerate() {
            let Some(o) = op_from_u8(op as u8) else {
                continue;
            };
            use Op::*;
            let (b, k) = match o {
                B | BCond | Bx | Blx | Cbz | AluWritePc => (t.branch, Kind::Plain),
                Bl => (t.branch_link, Kind::Plain),
                Tbb => (t.table_branch, Kind::Plain),
                Mul if small_mul => (t.multiply_small, Kind::Plain),
                Mul => (t.multiply, Kind::Plain),
                Mla | Mls | Smlaxy | Smulxy | Smulwy | Smlawy | Smlad | Smlsd | Smuad | Smusd
                | Smmul | Smmla | Smmls | Usad8 | Usada8 => (t.multiply_accumulate, Kind::Plain),
                Umull | Smull | Umlal | Smlal | Umaal | Smlalxy | Smlald | Smlsld => {
                    (t.long_multiply, Kind::Plain)
                }
                Sdiv | Udiv => (t.divide_min, Kind::Divide),
                LdrImm | LdrbImm | LdrhImm | LdrsbImm | LdrshImm | LdrReg | LdrbReg | LdrhReg
                | LdrsbReg | LdrshReg => (t.load, Kind::Load),
                StrImm | StrbImm | StrhImm => (t.store, Kind::Store),
                StrReg | StrbReg | StrhReg => (t.store_reg_offset, Kind::StoreReg),
                Ldrex => (t.exclusive, Kind::Dual),
                Strex => (t.exclusive, Kind::Plain),
                Ldrd => (t.dual, Kind::Dual),
                Strd => (t.dual, Kind::Plain),
                Ldm => (t.multiple_base, Kind::LoadMultiple),
                Stm => (t.multiple_base, Kind::StoreMultiple),
                Vldr => (t.fpu_load_store, Kind::FpLoad),
                Vstr => (t.fpu_load_store, Kind::FpStore),
                Vldm => (t.multiple_base, Kind::FpLoadMultiple),
                Vstm => (t.multiple_base, Kind::FpStoreMultiple),
                Vmov2ToS | Vmov2FromS => (t.fpu_move2, Kind::Plain),
                Vfma | Vfms | Vfnma | Vfnms | Vmla | Vmls | Vnmla | Vnmls => {
                    (t.fpu_mac, Kind::Plain)
                }
                Vdiv | Vsqrt => (t.fpu_div_sqrt, Kind::Plain),
                VmovReg | VmovImm | VmovToS | VmovFromS | Vmrs | Vmsr | Vadd | Vsub | Vmul
                | Vnmul | Vneg | Vabs | Vcmp | VcvtToInt | VcvtFromInt | VcvtFixed | VcvtHalf => {
                    (t.fpu, Kind::Plain)
                }
                Mrs | Msr => (t.system, Kind::Plain),
                Nop => (t.alu, Kind::Hint),
                AndImm | AndReg | BicImm | BicReg | OrrImm | OrrReg | OrnImm | OrnReg | EorImm
                | EorReg | TstImm | TstReg | TeqImm | TeqReg | MovImm | MovReg | MvnImm
                | MvnReg | AddImm | AddReg | AdcImm | AdcReg | SubImm | SubReg | SbcImm
                | SbcReg | RsbImm | RsbReg | CmpImm | CmpReg | CmnImm | CmnReg | ShiftReg
                | Movt | Clz | Rbit | Rev | Rev16 | Revsh | Extend | Bfi | Bfc | Ubfx | Sbfx
                | Pkh | Sel | Ssat | Usat | Ssat16 | Usat16 | Qadd | Qsub | Qdadd | Qdsub
                | Parallel | NotDecoded | Undefined | Unpredictable | Clrex | It | Cps | Wfi
                | Wfe | Sev | Svc | Bkpt | Udf => (t.alu, Kind::Plain),
            };
            entry.base = b;
            entry.kind = k;
        }
        let fetch_shift = memory.fetch_shift;
        CycleModel {
            table: *table,
            memory,
            ops,
            refill: table.branch_refill as u32,
            fetch_shift,
            fetch_word: u32::MAX,
            prev_load: NO_REG,
            pending_return: 0,
            stats: CycleStats::default(),
            profile: Vec::new(),
            profile_base: 0,
            profiling: false,
        }
    }

    /// Count cycles per instruction address in `[base, base + len)` (for `--profile`).
    pub fn enable_profile(&mut self, base: u32, len: u32) {
        self.profile_base = base;
        self.profile = vec![0; (len as usize).div_ceil(2)];
        self.profiling = true;
    }

    /// Cycles per instruction address: `(address, cycles)` for every address that took some.
    pub fn profile(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.profile
            .iter()
            .enumerate()
            .filter(|(_, &c)| c != 0)
            .map(|(k, &c)| (self.profile_base.wrapping_add(2 * k as u32), c))
    }

    /// SDIV/UDIV with early termination: the TRM gives 2-12 cycles "based on the number of
    /// leading ones and zeroes in the input operands"; modelled as linear in the quotient bits
    /// to produce (the divider retiring about 3.2 bits per cycle), 2 when there are none.
    fn divide(&self, quotient_bits: u32) -> u32 {
        let (lo, hi) = (self.table.divide_min as u32, self.table.divide_max as u32);
        if quotient_bits == 0 {
            return lo;
        }
        (lo + (quotient_bits.min(32) * (hi - lo)).div_ceil(32)).min(hi)
    }

    /// Stall of a data read of `words` words starting at `addr` (flash reads only).
    fn data_words(&mut self, first: u32, words: u32) -> u32 {
        if !self.memory.is_flash(first) {
            return 0;
        }
        let mut stall = 0;
        let mut line = u32::MAX;
        for k in 0..words {
            let a = first.wrapping_add(4 * k);
            if a >> self.fetch_shift != line {
                line = a >> self.fetch_shift;
                stall += self.memory.data_read(a);
            }
        }
        stall
    }

    /// Fetch stall of the instruction at `pc`. Branch-free in the common case (the same fetch
    /// word as the previous instruction, a new one that hits the cache, or not in flash): a
    /// miss, or a new flash word with the cache off, takes the slow path.
    #[inline(always)]
    fn fetch(&mut self, pc: u32, now: u64) -> u32 {
        let word = pc >> self.fetch_shift;
        // After an exception return `fetch_word` is `u32::MAX`: a new word.
        if word == self.fetch_word {
            return 0;
        }
        self.fetch_word = word;
        let m = &mut self.memory;
        let on = m.icache_on;
        let (flash, hit) = m.icache.probe(pc, on);
        let slow = flash & !(on & hit);
        if slow | (self.pending_return != 0) {
            return self.fetch_slow(pc, slow, now);
        }
        0
    }

    #[cold]
    #[inline(never)]
    fn fetch_slow(&mut self, pc: u32, miss: bool, now: u64) -> u32 {
        let stall = std::mem::take(&mut self.pending_return)
            + if miss { self.memory.fetch(pc, now) } else { 0 };
        // The only source of fetch cycles: `--profile` counts them to the instruction here.
        if self.profiling {
            self.profile_insn(pc, stall);
        }
        stall
    }

    /// A single load: pipelined after a load, single-cycle on the I/O port, flash wait states.
    #[inline(always)]
    fn load(&mut self, e: &InsnEvent<'_>, c: u32, prev: u8) -> u32 {
        let i = e.insn;
        let pipelined = (prev != NO_REG)
            & (prev != i.rn)
            & ((prev != i.rm) | ((i.op as u8) < (Op::LdrReg as u8)));
        let c = if pipelined {
            self.table.load_pipelined as u32
        } else {
            c
        };
        self.prev_load = i.rd;
        let a = e.data_addr;
        if self.memory.is_flash(a) {
            return c + self.memory.data_read_flash(a);
        }
        if self.memory.is_io_port(a) {
            1
        } else {
            c
        }
    }

    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        kind: Kind,
        i: &Insn,
        data_addr: u32,
        aux: u32,
        taken: bool,
        mut c: u32,
        prev: u8,
    ) -> u32 {
        match kind {
            Kind::Plain => {}
            Kind::Load => {
                if prev != NO_REG
                    && prev != i.rn
                    && (prev != i.rm || (i.op as u8) < (Op::LdrReg as u8))
                {
                    c = self.table.load_pipelined as u32;
                }
                self.prev_load = i.rd;
                c += self.memory.data_read(data_addr);
                if self.memory.is_io_port(data_addr) {
                    c = 1;
                }
            }
            Kind::Store => {
                if self.memory.is_io_port(data_addr) {
                    c = 1;
                }
            }
            Kind::StoreReg => {
                if prev != NO_REG {
                    c = self.table.store as u32;
                }
                if self.memory.is_io_port(data_addr) {
                    c = 1;
                }
            }
            Kind::Dual => c += self.data_words(data_addr & !7, 2),
            Kind::LoadMultiple => {
                let n = i.imm.count_ones();
                c += n + self.data_words(data_addr, n);
                if taken {
                    c += self.table.load_pc_extra as u32;
                }
            }
            Kind::StoreMultiple => c += i.imm.count_ones(),
            Kind::FpLoad => {
                let words = i.shift as u32;
                c += words.saturating_sub(1);
                c += self.data_words(data_addr.wrapping_sub(4 * words.saturating_sub(1)), words);
            }
            Kind::FpStore => c += (i.shift as u32).saturating_sub(1),
            Kind::FpLoadMultiple => {
                let words = i.ra as u32;
                c += words;
                c += self.data_words(data_addr.wrapping_sub(4 * words.saturating_sub(1)), words);
            }
            Kind::FpStoreMultiple => c += i.ra as u32,
            Kind::Divide => c = self.divide(aux),
            Kind::Hint => {
                if i.len == 4 {
                    c = self.table.barrier as u32;
                }
            }
        }
        c
    }
}

impl Timing for CycleModel {
    #[inline(always)]
    fn on_fetch(&mut self, pc: u32, now: u64) -> u32 {
        self.fetch(pc, now)
    }

    #[inline(always)]
    fn on_insn(&mut self, e: &InsnEvent<'_>) -> u32 {
        let op = e.insn.op as usize & (OPS - 1);
        let prev = std::mem::replace(&mut self.prev_load, NO_REG);
        let c = if e.executed {
            let t = self.ops[op];
            let mut c = t.base as u32;
            let kind = t.kind;
            if kind == Kind::Plain {
            } else if kind == Kind::Load {
                c = self.load(e, c, prev);
            } else if kind == Kind::Store {
                if self.memory.is_io_port(e.data_addr) {
                    c = 1;
                }
            } else {
                c = self.finish(kind, e.insn, e.data_addr, e.aux, e.branch_taken, c, prev);
            }
            // Every taken branch, load to PC or exception return refills the pipeline.
            c + (t.refill as u32 & 0u32.wrapping_sub(e.branch_taken as u32))
        } else {
            // An instruction skipped by its IT condition still takes its issue cycle.
            1
        };
        // After a taken branch the core fetches anew, even within the same fetch word.
        self.fetch_word |= 0u32.wrapping_sub(e.branch_taken as u32);
        if self.profiling {
            self.profile_insn(e.pc, c);
        }
        c
    }

    fn on_exception_entry(&mut self, fp_stacked: bool) -> u32 {
        self.stats.exceptions += 1;
        let c = if self.pending_return != 0 {
            // Tail-chaining (the return's unstacking and the entry's stacking are skipped). Like
            // the return's, its count includes the returning instruction's refill, charged then.
            self.pending_return = 0;
            self.stats.tail_chained += 1;
            (self.table.tail_chain as u32).saturating_sub(self.refill)
        } else {
            self.table.exception_entry as u32
                + if fp_stacked {
                    self.table.fp_context as u32
                } else {
                    0
                }
        };
        // The handler starts with a new fetch (its cost is the fetch side's).
        self.fetch_word = u32::MAX;
        self.prev_load = NO_REG;
        c
    }

    fn on_exception_return(&mut self) {
        // Charged with the next instruction's fetch, unless an entry tail-chains first. The
        // refill is part of the return's count: the returning instruction's own refill is not.
        self.pending_return = (self.table.exception_return as u32).saturating_sub(self.refill);
        self.fetch_word = u32::MAX;
    }

    fn on_peripheral_write(&mut self, addr: u32, register: &dyn Fn(u32) -> Option<u32>) {
        let config = self.memory.chip.config;
        if addr & !3 == config.addr {
            let value = register(config.addr).unwrap_or(config.reset);
            self.memory.apply(value);
        }
    }
}

impl CycleModel {
    #[cold]
    fn profile_insn(&mut self, pc: u32, c: u32) {
        let k = (pc.wrapping_sub(self.profile_base) >> 1) as usize;
        if let Some(slot) = self.profile.get_mut(k) {
            *slot += c as u64;
        }
    }
}

/// The op with discriminant `v`, if any (`Op` is `repr(u8)` with consecutive discriminants).
fn op_from_u8(v: u8) -> Option<Op> {
    if v > Op::VcvtHalf as u8 {
        return None;
    }
    // SAFETY: `Op` is `repr(u8)`, its discriminants run from 0 (NotDecoded) to VcvtHalf
    // without gaps (no explicit discriminants), and `v` is in that range.
    Some(unsafe { std::mem::transmute::<u8, Op>(v) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timing::cortex_m4;

    #[test]
    fn op_table_covers_every_op() {
        assert_eq!(op_from_u8(0), Some(Op::NotDecoded));
        assert_eq!(op_from_u8(Op::VcvtHalf as u8), Some(Op::VcvtHalf));
        assert_eq!(op_from_u8(Op::VcvtHalf as u8 + 1), None);
    }

    #[test]
    fn divide_is_2_to_12_cycles() {
        let m = CycleModel::zero_wait(&cortex_m4::TABLE);
        assert_eq!(m.divide(0), 2);
        assert_eq!(m.divide(1), 3);
        assert_eq!(m.divide(16), 7);
        assert_eq!(m.divide(32), 12);
    }
}
