//! The timing hook: semantics say what an instruction did, a [`Timing`] model turns it into
//! cycles. The executor is generic over the model (static dispatch), so the null model costs
//! nothing. [`CycleModel`] is the real one: per-core tables ([`cortex_m4`], [`cortex_m0plus`],
//! from the Arm technical reference manuals) and per-chip memory timing ([`memory`]: flash wait
//! states, prefetch, caches as the firmware configured them), all data, none of it in the
//! decoder or executor.

pub mod cortex_m0plus;
pub mod cortex_m4;
pub mod memory;
mod model;

pub use memory::{
    CacheGeometry, CacheStats, ChipMemoryTiming, FlashConfig, FlashSettings, MemoryTiming,
};
pub use model::{CoreTable, CycleModel, CycleStats};

use crate::isa::{Insn, Op};

/// The version of the cycle model, recorded with every emulated result. Cycles are compared
/// only between results of one version. Any change to a table ([`cortex_m4::TABLE`],
/// [`cortex_m0plus::TABLE`], the chips of [`memory`]) or to how [`CycleModel`] uses them must
/// bump it: `tests::tables_fingerprint_matches_version` fails until the version and the
/// fingerprint are updated together.
///
/// - "0": one cycle per instruction, no memory timing.
/// - "1": Cortex-M0+/M4 TRM tables, flash wait states, prefetch and caches per chip.
/// - "2": Cortex-M4 taken B, B<cond> and BL refill the pipeline in 1 cycle (2 in all), the other
///   taken branches in 2 (3 in all); model 1 charged 2 for all.
/// - "3": the fetch side runs before the instruction executes, so an exception return's cost
///   waits for the next fetch and a pending exception tail-chains (tail_chain cycles, the
///   returning instruction's refill included; model 2 never tail-chained), and an instruction
///   that traps has its fetch charged. Same cycles as model 2 for code without those.
pub const CYCLE_MODEL_VERSION: &str = "3";

/// A fingerprint (FNV-1a over the tables' debug form) of every number the cycle model uses for
/// the cores.
pub fn tables_fingerprint() -> u64 {
    fnv1a(&format!("{:?}{:?}", cortex_m4::TABLE, cortex_m0plus::TABLE))
}

/// A fingerprint of every number of `chip`'s memory timing (its flash configuration
/// register's meaning, a function in the chip's file, is not in it: a change there must bump
/// [`CYCLE_MODEL_VERSION`] as well).
pub fn chip_fingerprint(chip: crate::chips::Chip) -> u64 {
    fnv1a(&format!("{:?}", chip.memory_timing()))
}

fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Broad instruction classes, the unit the Cortex-M TRMs give cycle counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsnClass {
    /// ALU, moves, shifts, extends, bit-field, saturation, packing.
    Alu,
    /// MUL/MLA/MLS and DSP 32-bit multiplies.
    Multiply,
    /// 64-bit result multiplies (UMULL, SMLAL, SMLALD ...).
    LongMultiply,
    /// SDIV/UDIV.
    Divide,
    /// Single load.
    Load,
    /// Single store.
    Store,
    /// LDM/POP/LDRD and VLDM/VPOP.
    LoadMultiple,
    /// STM/PUSH/STRD and VSTM/VPUSH.
    StoreMultiple,
    /// B, BL, BX, CBZ, TBB ... (taken or not, see [`InsnEvent::branch_taken`]).
    Branch,
    /// Floating-point arithmetic, compare, convert, move.
    Fpu,
    /// VDIV/VSQRT (14 cycles on the M4).
    FpuDivSqrt,
    /// MRS/MSR/CPS/barriers/hints/SVC/BKPT/IT.
    System,
}

/// Classify an op.
pub fn class_of(op: Op) -> InsnClass {
    use Op::*;
    match op {
        Mul | Mla | Mls | Smlaxy | Smulxy | Smulwy | Smlawy | Smlad | Smlsd | Smuad | Smusd
        | Smmul | Smmla | Smmls | Usad8 | Usada8 => InsnClass::Multiply,
        Umull | Smull | Umlal | Smlal | Umaal | Smlalxy | Smlald | Smlsld => {
            InsnClass::LongMultiply
        }
        Sdiv | Udiv => InsnClass::Divide,
        LdrImm | LdrbImm | LdrhImm | LdrsbImm | LdrshImm | LdrReg | LdrbReg | LdrhReg
        | LdrsbReg | LdrshReg | Ldrex | Vldr => InsnClass::Load,
        StrImm | StrbImm | StrhImm | StrReg | StrbReg | StrhReg | Strex | Vstr => InsnClass::Store,
        Ldm | Ldrd | Vldm => InsnClass::LoadMultiple,
        Stm | Strd | Vstm => InsnClass::StoreMultiple,
        B | BCond | Bl | Bx | Blx | Cbz | Tbb | AluWritePc => InsnClass::Branch,
        Vdiv | Vsqrt => InsnClass::FpuDivSqrt,
        VmovReg | VmovImm | VmovToS | VmovFromS | Vmov2ToS | Vmov2FromS | Vmrs | Vmsr | Vadd
        | Vsub | Vmul | Vnmul | Vfma | Vfms | Vfnma | Vfnms | Vmla | Vmls | Vnmla | Vnmls
        | Vneg | Vabs | Vcmp | VcvtToInt | VcvtFromInt | VcvtFixed | VcvtHalf => InsnClass::Fpu,
        Mrs | Msr | Cps | Nop | Wfi | Wfe | Sev | Svc | Bkpt | Udf | It | Clrex | NotDecoded
        | Undefined | Unpredictable => InsnClass::System,
        // Every op is listed (no wildcard): a new op does not compile until it has a class.
        AndImm | AndReg | BicImm | BicReg | OrrImm | OrrReg | OrnImm | OrnReg | EorImm | EorReg
        | TstImm | TstReg | TeqImm | TeqReg | MovImm | MovReg | MvnImm | MvnReg | AddImm
        | AddReg | AdcImm | AdcReg | SubImm | SubReg | SbcImm | SbcReg | RsbImm | RsbReg
        | CmpImm | CmpReg | CmnImm | CmnReg | ShiftReg | Movt | Clz | Rbit | Rev | Rev16
        | Revsh | Extend | Bfi | Bfc | Ubfx | Sbfx | Pkh | Sel | Ssat | Usat | Ssat16 | Usat16
        | Qadd | Qsub | Qdadd | Qdsub | Parallel => InsnClass::Alu,
    }
}

/// What one executed instruction did, as the timing model sees it.
#[derive(Clone, Copy, Debug)]
pub struct InsnEvent<'a> {
    /// The decoded instruction (op, registers, register list for LDM/STM ...).
    pub insn: &'a Insn,
    /// Its address.
    pub pc: u32,
    /// True if it changed the flow of control (a taken branch, a load to PC ...).
    pub branch_taken: bool,
    /// False if it was skipped by its IT condition.
    pub executed: bool,
    /// Address of the last data read the instruction made (loads; the last word of a load
    /// multiple). Meaningless for instructions that read no data.
    pub data_addr: u32,
    /// Operand information the timing depends on: for SDIV/UDIV the number of quotient bits
    /// the divider has to produce (0 when the divisor exceeds the dividend or is zero).
    pub aux: u32,
    /// Cycles counted before this instruction.
    pub cycles: u64,
}

impl InsnEvent<'_> {
    /// The instruction's class.
    pub fn class(&self) -> InsnClass {
        class_of(self.insn.op)
    }

    /// Registers transferred by a load/store multiple (words for VLDM/VSTM), else 1 for a
    /// single access and 0 for no memory access.
    pub fn transfers(&self) -> u32 {
        match self.insn.op {
            Op::Ldm | Op::Stm => self.insn.imm.count_ones(),
            Op::Vldm | Op::Vstm => self.insn.ra as u32,
            Op::Ldrd | Op::Strd => 2,
            Op::Vldr | Op::Vstr => self.insn.shift as u32,
            _ => matches!(self.class(), InsnClass::Load | InsnClass::Store) as u32,
        }
    }
}

/// A cycle model. Called once per instruction (executed or IT-skipped); returns its cycles.
pub trait Timing {
    /// Cycles taken by the instruction described by `event`.
    fn on_insn(&mut self, event: &InsnEvent<'_>) -> u32;
    /// Stall cycles of fetching the instruction at `pc` at cycle `now`, before it executes.
    /// 0 by default.
    #[inline(always)]
    fn on_fetch(&mut self, _pc: u32, _now: u64) -> u32 {
        0
    }
    /// Extra cycles of an exception entry (stacking, vector fetch). `fp_stacked`: the FP
    /// context was stacked now (not lazily). 0 by default.
    fn on_exception_entry(&mut self, _fp_stacked: bool) -> u32 {
        0
    }
    /// An exception return happened (its cost is the model's to charge, e.g. at the next
    /// instruction or as part of a tail-chained entry).
    fn on_exception_return(&mut self) {}
    /// A chip peripheral register was written (never on the hot path): `register` reads the
    /// configuration the firmware has written so far (flash wait states, cache enables ...).
    fn on_peripheral_write(&mut self, _addr: u32, _register: &dyn Fn(u32) -> Option<u32>) {}
}

/// No model: every instruction is one cycle, the event is discarded (compiles to nothing).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullTiming;

impl Timing for NullTiming {
    #[inline(always)]
    fn on_insn(&mut self, _event: &InsnEvent<'_>) -> u32 {
        1
    }
}

/// One cycle per instruction, counting what the model would see: a statistics model and the
/// template for real ones.
#[derive(Clone, Debug, Default)]
pub struct CountingTiming {
    /// Instructions executed (IT-skipped ones included).
    pub instructions: u64,
    /// Taken branches.
    pub branches_taken: u64,
    /// Memory words/halfwords/bytes transferred by loads and stores.
    pub transfers: u64,
    /// Instructions per class, indexed by `InsnClass as usize`.
    pub per_class: [u64; 12],
}

impl Timing for CountingTiming {
    #[inline]
    fn on_insn(&mut self, event: &InsnEvent<'_>) -> u32 {
        self.instructions += 1;
        self.branches_taken += event.branch_taken as u64;
        self.transfers += event.transfers() as u64;
        self.per_class[event.class() as usize] += 1;
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Changing any number of the cycle model changes a fingerprint: bump
    /// [`CYCLE_MODEL_VERSION`] (results of different versions are never compared) and then
    /// update the expected fingerprints, here for the cores and in each chip's file
    /// (`TIMING_FINGERPRINT`) for its memory timing, in the same commit. A new chip has no
    /// results to compare with: its file carries its fingerprint at the current version.
    #[test]
    fn tables_fingerprint_matches_version() {
        assert_eq!(
            (CYCLE_MODEL_VERSION, tables_fingerprint()),
            ("3", 16748088681127224622),
            "the cores' tables changed: bump CYCLE_MODEL_VERSION and update the fingerprint"
        );
        for &(chip, expected) in crate::chips::TIMING_FINGERPRINTS {
            assert_eq!(
                (CYCLE_MODEL_VERSION, chip_fingerprint(chip)),
                expected,
                "{}'s memory timing changed: bump CYCLE_MODEL_VERSION and update \
                 TIMING_FINGERPRINT in its chip file",
                chip.name()
            );
        }
    }
}
