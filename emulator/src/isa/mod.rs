//! Thumb / Thumb-2 decoder: one instruction family per file, each decode arm named after the
//! ARMv7-M Architecture Reference Manual (DDI 0403E) encoding it implements.
//!
//! Decoding happens once per address (see [`crate::machine`]'s predecode cache): the result is a
//! compact [`Insn`] whose operands are already extracted, PC-relative addresses already resolved
//! and immediates already expanded, so the executor never looks at instruction bits again.

pub mod branch;
pub mod data_processing;
pub mod dsp_parallel;
pub mod load_store;
pub mod load_store_multiple;
pub mod misc;
pub mod multiply;
pub mod saturate;
pub mod system;
pub mod vfp_arith;
pub mod vfp_convert;
pub mod vfp_load_store;
pub mod vfp_move;

/// Which architecture profile the decoder accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// ARMv6-M (Cortex-M0+): 16-bit Thumb plus BL, MRS, MSR, DMB, DSB, ISB, UDF.W.
    V6M,
    /// ARMv7E-M with the DSP extension and FPv4-SP (Cortex-M4F).
    V7EM,
}

/// Register number that always reads zero. PC-relative (literal) loads are decoded as
/// `[R_ZERO, #absolute_address]`, so they share the executor path of immediate-offset loads.
pub const R_ZERO: u8 = 16;
/// Register number of the program counter.
pub const PC: u8 = 15;
/// Register number of the link register.
pub const LR: u8 = 14;
/// Register number of the stack pointer.
pub const SP: u8 = 13;

/// `Insn.flags`: the instruction updates the APSR flags.
pub const F_S: u8 = 1;
/// `Insn.flags`: a 16-bit encoding that sets flags only outside an IT block (`setflags = !InITBlock()`).
pub const F_S_OUTSIDE_IT: u8 = 2;
/// `Insn.flags`: the modified immediate was rotated, so the shifter carry-out is its bit 31
/// (ThumbExpandImm_C, A5.3.2). Without it the carry flag is left unchanged.
pub const F_IMM_CARRY: u8 = 4;
/// `Insn.flags`: load/store writes the updated address back to the base register.
pub const F_WBACK: u8 = 8;
/// `Insn.flags`: load/store uses the offset address (pre-indexed); otherwise post-indexed.
pub const F_INDEX: u8 = 16;
/// `Insn.flags`: generic option bit (meaning per op: X/R/round/top/unsigned/E/...).
pub const F_OPT: u8 = 32;
/// `Insn.flags`: second generic option bit (meaning per op).
pub const F_OPT2: u8 = 64;

/// Shift types (SRType, A7.4.2) kept in `Insn.shift`.
pub mod shift {
    pub const LSL: u8 = 0;
    pub const LSR: u8 = 1;
    pub const ASR: u8 = 2;
    pub const ROR: u8 = 3;
    pub const RRX: u8 = 4;
}

/// The operation of a decoded instruction. Operand meaning per op is documented on each variant;
/// `rd rn rm ra` are register numbers, `imm` the (already expanded) immediate.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Op {
    /// Cache slot not decoded yet (never executed).
    #[default]
    NotDecoded,
    /// UNDEFINED encoding: raises a UsageFault (UNDEFINSTR). `imm` holds the encoding.
    Undefined,
    /// UNPREDICTABLE encoding: treated as UNDEFINED (UsageFault), never executed.
    Unpredictable,
    // --- data processing: `rd = rn <op> operand2`; operand2 is `imm` or `rm` shifted by `shift`/`imm`.
    AndImm,
    AndReg,
    BicImm,
    BicReg,
    OrrImm,
    OrrReg,
    OrnImm,
    OrnReg,
    EorImm,
    EorReg,
    TstImm,
    TstReg,
    TeqImm,
    TeqReg,
    MovImm,
    MovReg,
    MvnImm,
    MvnReg,
    AddImm,
    AddReg,
    AdcImm,
    AdcReg,
    SubImm,
    SubReg,
    SbcImm,
    SbcReg,
    RsbImm,
    RsbReg,
    CmpImm,
    CmpReg,
    CmnImm,
    CmnReg,
    /// LSL/LSR/ASR/ROR by register: `rd = rn shifted(shift) by rm[7:0]`.
    ShiftReg,
    /// MOVT: `rd[31:16] = imm`.
    Movt,
    /// ALU write to PC without flags (MOV PC, Rm / ADD PC, Rm): `pc = (rn + rm) & !1`, rn may be R_ZERO.
    AluWritePc,
    // --- multiply / divide
    Mul,
    Mla,
    Mls,
    Umull,
    Smull,
    Umlal,
    Smlal,
    Umaal,
    Sdiv,
    Udiv,
    // --- DSP multiplies; F_OPT = X (swap) or R (round) as the encoding says
    /// `SMLA<x><y>`: `shift` bit0 = N top, bit1 = M top.
    Smlaxy,
    Smulxy,
    Smlalxy,
    /// `SMULW<y>`/`SMLAW<y>`: `shift` bit1 = M top.
    Smulwy,
    Smlawy,
    Smlad,
    Smlsd,
    Smuad,
    Smusd,
    Smlald,
    Smlsld,
    Smmul,
    Smmla,
    Smmls,
    // --- misc
    Clz,
    Rbit,
    Rev,
    Rev16,
    Revsh,
    /// SXTB/SXTH/UXTB/UXTH and the accumulating forms: `rd = rn + extend(ror(rm, imm))`, rn may be R_ZERO.
    /// `shift`: 0 SXTB, 1 SXTH, 2 UXTB, 3 UXTH, 4 SXTB16, 5 UXTB16.
    Extend,
    Bfi,
    Bfc,
    Ubfx,
    Sbfx,
    /// PKHBT (F_OPT clear) / PKHTB (F_OPT set): `imm` = shift amount.
    Pkh,
    Sel,
    Usad8,
    Usada8,
    // --- saturation
    /// SSAT/USAT: `ra` = saturate-to bit count, `shift`/`imm` = shift of rn. F_OPT = unsigned.
    Ssat,
    Usat,
    Ssat16,
    Usat16,
    Qadd,
    Qsub,
    Qdadd,
    Qdsub,
    /// Parallel add/subtract: `shift` = operation, bits 22..20 of the encoding (0 ADD8, 1 ADD16,
    /// 2 ASX, 4 SUB8, 5 SUB16, 6 SAX); `ra` = prefix, bits 6..4 (0 S, 1 Q, 2 SH, 4 U, 5 UQ, 6 UH).
    Parallel,
    // --- loads/stores. `imm` is the signed offset (already negated for U=0); literal loads
    // use rn = R_ZERO and imm = absolute address.
    LdrImm,
    LdrbImm,
    LdrhImm,
    LdrsbImm,
    LdrshImm,
    StrImm,
    StrbImm,
    StrhImm,
    /// Register-offset forms: address = rn + (rm << imm).
    LdrReg,
    LdrbReg,
    LdrhReg,
    LdrsbReg,
    LdrshReg,
    StrReg,
    StrbReg,
    StrhReg,
    /// LDRD/STRD: `rd` = Rt, `ra` = Rt2.
    Ldrd,
    Strd,
    /// Exclusive accesses: `shift` = size in bytes; `rd` = status register for STREX, `ra` = Rt.
    Ldrex,
    Strex,
    Clrex,
    /// TBB (F_OPT clear) / TBH (F_OPT set).
    Tbb,
    // --- load/store multiple: `imm` = register list; F_WBACK; F_OPT = decrement before.
    Ldm,
    Stm,
    // --- branches: `imm` = absolute target
    B,
    /// Conditional branch: `shift` = condition.
    BCond,
    Bl,
    Bx,
    Blx,
    /// CBZ (F_OPT clear) / CBNZ (F_OPT set): `rn`, `imm` = target.
    Cbz,
    /// IT: `imm` = firstcond:mask (ITSTATE value).
    It,
    // --- system
    /// `imm` = SYSm.
    Mrs,
    /// `imm` = SYSm, `shift` = mask.
    Msr,
    /// `imm` bit0 = disable (CPSID), bit1 = PRIMASK, bit2 = FAULTMASK.
    Cps,
    Nop,
    Wfi,
    Wfe,
    Sev,
    Svc,
    Bkpt,
    /// UDF (permanently undefined, e.g. Rust's `abort`): `imm` = the encoding.
    Udf,
    // --- floating point (FPv4-SP). S registers are numbered 0..31, D registers use `shift` bit F_DP.
    /// VLDR/VSTR: `rd` = first S register, `shift` = number of words (1 or 2), `imm` = offset.
    Vldr,
    Vstr,
    /// VLDM/VSTM/VPUSH/VPOP: `rd` = first S register, `ra` = number of words, F_WBACK, F_OPT = decrement before.
    Vldm,
    Vstm,
    /// VMOV Sd, Sm / VMOV Sd, #imm (imm = bits).
    VmovReg,
    VmovImm,
    /// VMOV Sn, Rt (`rd` = Sn, `rn` = Rt) and VMOV Rt, Sn (`rd` = Rt, `rn` = Sn).
    VmovToS,
    VmovFromS,
    /// VMOV of two core registers to/from two consecutive S registers (`rm` = first S, `rd` = Rt, `rn` = Rt2).
    Vmov2ToS,
    Vmov2FromS,
    /// VMRS Rt, FPSCR (rd = 15 means APSR_nzcv) / VMSR FPSCR, Rt.
    Vmrs,
    Vmsr,
    /// Two/three-operand arithmetic: `rd = rn <op> rm` (S register numbers).
    Vadd,
    Vsub,
    Vmul,
    Vnmul,
    Vdiv,
    Vfma,
    Vfms,
    Vfnma,
    Vfnms,
    Vmla,
    Vmls,
    Vnmla,
    Vnmls,
    Vsqrt,
    Vneg,
    Vabs,
    /// VCMP/VCMPE (F_OPT = E); F_OPT2 = compare with zero.
    Vcmp,
    /// VCVT float -> integer: F_OPT = signed, F_OPT2 = use FPSCR rounding (VCVTR).
    VcvtToInt,
    /// VCVT integer -> float: F_OPT = signed.
    VcvtFromInt,
    /// VCVT float <-> fixed point: F_OPT = signed, F_OPT2 = to fixed, `shift` = size (16/32), `imm` = frac bits.
    VcvtFixed,
    /// VCVTB/VCVTT: F_OPT = top half, F_OPT2 = to half precision.
    VcvtHalf,
}

/// One decoded instruction (12 bytes): what the executor needs, and nothing it must re-derive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Insn {
    /// The operation.
    pub op: Op,
    /// Encoding size in bytes (2 or 4).
    pub len: u8,
    /// Destination (or transfer) register.
    pub rd: u8,
    /// First operand / base register.
    pub rn: u8,
    /// Second operand / offset register.
    pub rm: u8,
    /// Accumulator / second transfer register / extra operand.
    pub ra: u8,
    /// `F_*` option bits.
    pub flags: u8,
    /// Shift type, condition or per-op sub-kind.
    pub shift: u8,
    /// Immediate, shift amount, target address or register list.
    pub imm: u32,
}

impl Insn {
    /// An instruction with only the op and size set.
    pub const fn new(op: Op, len: u8) -> Insn {
        Insn {
            op,
            len,
            rd: 0,
            rn: 0,
            rm: 0,
            ra: 0,
            flags: 0,
            shift: 0,
            imm: 0,
        }
    }

    /// UNDEFINED encoding of size `len` (the raw bits are kept for the fault report).
    pub const fn undefined(len: u8, bits: u32) -> Insn {
        let mut i = Insn::new(Op::Undefined, len);
        i.imm = bits;
        i
    }

    /// UNPREDICTABLE encoding of size `len`.
    pub const fn unpredictable(len: u8, bits: u32) -> Insn {
        let mut i = Insn::new(Op::Unpredictable, len);
        i.imm = bits;
        i
    }

    pub(crate) const fn regs(mut self, rd: u32, rn: u32, rm: u32) -> Insn {
        self.rd = rd as u8;
        self.rn = rn as u8;
        self.rm = rm as u8;
        self
    }

    pub(crate) const fn ra(mut self, ra: u32) -> Insn {
        self.ra = ra as u8;
        self
    }

    pub(crate) const fn imm(mut self, imm: u32) -> Insn {
        self.imm = imm;
        self
    }

    pub(crate) const fn shift(mut self, shift: u32) -> Insn {
        self.shift = shift as u8;
        self
    }

    pub(crate) const fn flags(mut self, flags: u8) -> Insn {
        self.flags |= flags;
        self
    }

    pub(crate) const fn flag_if(self, cond: bool, flag: u8) -> Insn {
        if cond {
            self.flags(flag)
        } else {
            self
        }
    }

    /// True for a 32-bit encoding.
    pub fn is_wide(&self) -> bool {
        self.len == 4
    }

    /// True if executing this op never happens (an UNDEFINED/UNPREDICTABLE encoding).
    pub fn is_undefined(&self) -> bool {
        matches!(self.op, Op::Undefined | Op::Unpredictable)
    }
}

/// Bits `hi..=lo` of `x`.
#[inline]
pub(crate) const fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Bit `n` of `x`.
#[inline]
pub(crate) const fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 != 0
}

/// Sign-extend the low `width` bits of `x`.
#[inline]
pub(crate) const fn sign_extend(x: u32, width: u32) -> u32 {
    let s = 32 - width;
    (((x << s) as i32) >> s) as u32
}

/// True if `hw` is the first halfword of a 32-bit Thumb instruction (A5.1).
#[inline]
pub const fn is_wide(hw: u16) -> bool {
    (hw >> 11) >= 0b11101
}

/// Decode the instruction at `pc` made of `hw1` and (for 32-bit encodings) `hw2`.
/// `pc` is the address of the instruction (PC-relative operands are resolved against it).
pub fn decode(arch: Arch, pc: u32, hw1: u16, hw2: u16) -> Insn {
    if is_wide(hw1) {
        decode32(arch, pc, ((hw1 as u32) << 16) | hw2 as u32)
    } else {
        decode16(arch, pc, hw1 as u32)
    }
}

/// 16-bit Thumb instruction encoding (A5.2).
fn decode16(arch: Arch, pc: u32, hw: u32) -> Insn {
    let opcode = bits(hw, 15, 10);
    match opcode {
        0b000000..=0b001111 | 0b010000 | 0b101000..=0b101011 => data_processing::decode16(pc, hw),
        0b010001 => {
            if bits(hw, 9, 8) == 0b11 {
                branch::decode16_bx(hw)
            } else {
                data_processing::decode16_special(arch, hw)
            }
        }
        0b010010..=0b100111 => load_store::decode16(pc, hw),
        0b101100..=0b101111 => misc::decode16_misc(arch, pc, hw),
        0b110000..=0b110011 => load_store_multiple::decode16(hw),
        _ => branch::decode16(pc, hw),
    }
}

/// 32-bit Thumb instruction encoding (A5.3).
fn decode32(arch: Arch, pc: u32, w: u32) -> Insn {
    let op1 = bits(w, 28, 27);
    let op2 = bits(w, 26, 20);
    let op = bit(w, 15);
    if arch == Arch::V6M {
        // A5.3 of DDI 0419 (ARMv6-M): only BL, MSR, MRS, DMB/DSB/ISB and UDF.W are 32-bit.
        return if op1 == 0b10 && op {
            branch::decode32_v6m(pc, w)
        } else {
            Insn::undefined(4, w)
        };
    }
    match op1 {
        0b01 => {
            if op2 & 0b1100100 == 0b0000000 {
                load_store_multiple::decode32(w)
            } else if op2 & 0b1100100 == 0b0000100 {
                load_store::decode32_dual_exclusive_table(pc, w)
            } else if op2 & 0b1100000 == 0b0100000 {
                data_processing::decode32_shifted_reg(w)
            } else {
                decode32_coprocessor(w)
            }
        }
        0b10 => {
            if op {
                branch::decode32(pc, w)
            } else if op2 & 0b0100000 == 0 {
                data_processing::decode32_modified_imm(w)
            } else {
                data_processing::decode32_plain_imm(pc, w)
            }
        }
        _ => {
            if op2 & 0b1110001 == 0b0000000 {
                load_store::decode32_store(w)
            } else if op2 & 0b1100111 == 0b0000001
                || op2 & 0b1100111 == 0b0000011
                || op2 & 0b1100111 == 0b0000101
            {
                load_store::decode32_load(pc, w)
            } else if op2 & 0b1110000 == 0b0100000 {
                misc::decode32_data_processing_reg(w)
            } else if op2 & 0b1111000 == 0b0110000 {
                multiply::decode32_mul(w)
            } else if op2 & 0b1111000 == 0b0111000 {
                multiply::decode32_long_mul_div(w)
            } else if op2 & 0b1000000 != 0 {
                decode32_coprocessor(w)
            } else {
                Insn::undefined(4, w)
            }
        }
    }
}

/// Coprocessor space (A5.3.18): only CP10/CP11 (the FPU, A6.1) exist on the Cortex-M4F.
fn decode32_coprocessor(w: u32) -> Insn {
    let coproc = bits(w, 11, 8);
    if coproc & 0b1110 != 0b1010 || bit(w, 28) {
        return Insn::undefined(4, w);
    }
    let op1 = bits(w, 25, 20);
    if op1 & 0b100000 == 0 {
        if op1 & 0b111110 == 0b000000 {
            Insn::undefined(4, w)
        } else if op1 & 0b111110 == 0b000100 {
            vfp_move::decode_64bit_transfer(w)
        } else {
            vfp_load_store::decode(w)
        }
    } else if op1 & 0b110000 == 0b100000 {
        if bit(w, 4) {
            vfp_move::decode_8_16_32_transfer(w)
        } else {
            vfp_arith::decode(w)
        }
    } else {
        Insn::undefined(4, w)
    }
}

/// ThumbExpandImm_C (A5.3.2): returns the 32-bit value and whether the carry-out is bit 31.
pub(crate) fn thumb_expand_imm(imm12: u32) -> (u32, bool) {
    if bits(imm12, 11, 10) == 0 {
        let b = imm12 & 0xff;
        let v = match bits(imm12, 9, 8) {
            0 => b,
            1 => (b << 16) | b,
            2 => (b << 24) | (b << 8),
            _ => (b << 24) | (b << 16) | (b << 8) | b,
        };
        (v, false)
    } else {
        let unrotated = 0x80 | (imm12 & 0x7f);
        (unrotated.rotate_right(bits(imm12, 11, 7)), true)
    }
}

/// DecodeImmShift (A7.4.2): `(shift type, amount)` from the 2-bit type and 5-bit amount fields.
pub(crate) fn decode_imm_shift(ty: u32, imm5: u32) -> (u8, u32) {
    match ty {
        0 => (shift::LSL, imm5),
        1 => (shift::LSR, if imm5 == 0 { 32 } else { imm5 }),
        2 => (shift::ASR, if imm5 == 0 { 32 } else { imm5 }),
        _ => {
            if imm5 == 0 {
                (shift::RRX, 1)
            } else {
                (shift::ROR, imm5)
            }
        }
    }
}
