//! The timing hook: semantics say what an instruction did, a [`Timing`] model turns it into
//! cycles. The executor is generic over the model (static dispatch), so the null model costs
//! nothing. The real per-core tables (Cortex-M0+/M4 TRMs) and per-chip memory timing plug in here
//! without touching the decoder or executor.

use crate::isa::{Insn, Op};

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
        _ => InsnClass::Alu,
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
    /// Extra cycles of an exception entry (stacking, vector fetch). 0 by default.
    fn on_exception_entry(&mut self) -> u32 {
        0
    }
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
