//! Branches: B, BL, BX, BLX, CBZ/CBNZ, and the 32-bit "branches and miscellaneous control"
//! space (A5.2.6, A5.3.4), whose hints/barriers/MRS/MSR are handed to [`super::system`].

use super::{bit, bits, sign_extend, system, Insn, Op, F_OPT, LR};
use crate::machine::{reg, Machine, Trap};
use crate::timing::Timing;

/// 16-bit conditional branch, UDF and SVC (A5.2.6), and unconditional branch B_T2.
pub(crate) fn decode16(pc: u32, hw: u32) -> Insn {
    if bits(hw, 15, 11) == 0b11100 {
        // B_T2 (A7.7.12)
        let target = pc
            .wrapping_add(4)
            .wrapping_add(sign_extend(bits(hw, 10, 0) << 1, 12));
        return Insn::new(Op::B, 2).imm(target);
    }
    let cond = bits(hw, 11, 8);
    match cond {
        0b1110 => Insn::new(Op::Udf, 2).imm(hw), // UDF_T1 (A7.7.194): keep the encoding for the report
        0b1111 => Insn::new(Op::Svc, 2).imm(bits(hw, 7, 0)), // SVC_T1 (A7.7.178)
        _ => {
            // B_T1 (A7.7.12)
            let target = pc
                .wrapping_add(4)
                .wrapping_add(sign_extend(bits(hw, 7, 0) << 1, 9));
            Insn::new(Op::BCond, 2).imm(target).shift(cond)
        }
    }
}

/// BX_T1 / BLX_reg_T1 (A7.7.20, A7.7.19).
pub(crate) fn decode16_bx(hw: u32) -> Insn {
    let rm = bits(hw, 6, 3);
    if bits(hw, 2, 0) != 0 {
        return Insn::unpredictable(2, hw);
    }
    if bit(hw, 7) {
        if rm == 15 {
            return Insn::unpredictable(2, hw);
        }
        Insn::new(Op::Blx, 2).regs(0, 0, rm)
    } else {
        Insn::new(Op::Bx, 2).regs(0, 0, rm)
    }
}

/// CBZ_T1 / CBNZ_T1 (A7.7.21).
pub(crate) fn decode16_cbz(pc: u32, hw: u32) -> Insn {
    let imm = (bits(hw, 9, 9) << 6) | (bits(hw, 7, 3) << 1);
    Insn::new(Op::Cbz, 2)
        .regs(0, bits(hw, 2, 0), 0)
        .imm(pc.wrapping_add(4).wrapping_add(imm))
        .flag_if(bit(hw, 11), F_OPT)
}

/// Target of B_T4 / BL_T1: SignExtend(S:I1:I2:imm10:imm11:'0'), I = NOT(J XOR S).
fn t4_offset(w: u32) -> u32 {
    let s = bits(w, 26, 26);
    let i1 = !(bits(w, 13, 13) ^ s) & 1;
    let i2 = !(bits(w, 11, 11) ^ s) & 1;
    let imm = (s << 24) | (i1 << 23) | (i2 << 22) | (bits(w, 25, 16) << 12) | (bits(w, 10, 0) << 1);
    sign_extend(imm, 25)
}

/// Branches and miscellaneous control (A5.3.4).
pub(crate) fn decode32(pc: u32, w: u32) -> Insn {
    let op1 = bits(w, 14, 12);
    let op = bits(w, 26, 20);
    let next = pc.wrapping_add(4);
    if op1 & 0b101 == 0b000 {
        if op & 0b0111000 != 0b0111000 {
            // B_T3 (A7.7.12): SignExtend(S:J2:J1:imm6:imm11:'0').
            let imm = (bits(w, 26, 26) << 20)
                | (bits(w, 11, 11) << 19)
                | (bits(w, 13, 13) << 18)
                | (bits(w, 21, 16) << 12)
                | (bits(w, 10, 0) << 1);
            let target = next.wrapping_add(sign_extend(imm, 21));
            return Insn::new(Op::BCond, 4).imm(target).shift(bits(w, 25, 22));
        }
        return system::decode32_misc_control(w);
    }
    if op1 == 0b010 && op == 0b1111111 {
        // UDF_T2 (A7.7.194)
        return Insn::new(Op::Udf, 4).imm(w);
    }
    match op1 {
        0b001 | 0b011 => Insn::new(Op::B, 4).imm(next.wrapping_add(t4_offset(w))), // B_T4
        0b101 | 0b111 => Insn::new(Op::Bl, 4).imm(next.wrapping_add(t4_offset(w))), // BL_T1 (A7.7.18)
        _ => Insn::undefined(4, w), // BLX (immediate) does not exist in ARMv7-M.
    }
}

/// ARMv6-M 32-bit instructions (DDI 0419 A5.3): BL, MSR, MRS, DMB/DSB/ISB, UDF.W.
pub(crate) fn decode32_v6m(pc: u32, w: u32) -> Insn {
    let insn = decode32(pc, w);
    let op = bits(w, 26, 20);
    let allowed = match insn.op {
        Op::Bl | Op::Msr | Op::Mrs | Op::Udf => true,
        // Only the barriers of the misc-control space; NOP.W/WFI.W etc. are ARMv7-M.
        Op::Nop => op == 0b0111011 && matches!(bits(w, 7, 4), 0b0100..=0b0110),
        _ => insn.is_undefined(),
    };
    if allowed {
        insn
    } else {
        Insn::undefined(4, w)
    }
}

impl<T: Timing> Machine<T> {
    /// BLX (register), A7.7.19: LR = next instruction | 1.
    pub(crate) fn exec_blx(&mut self, i: &Insn) -> Result<(), Trap> {
        let target = self.cpu.r[reg(i.rm)];
        self.cpu.r[LR as usize] = self.cpu.pc | 1;
        self.bx_write_pc(target)
    }

    /// BL (A7.7.18).
    #[inline(always)]
    pub(crate) fn exec_bl(&mut self, i: &Insn) {
        self.cpu.r[LR as usize] = self.cpu.pc | 1;
        self.cpu.pc = i.imm;
    }

    /// CBZ/CBNZ (A7.7.21).
    #[inline(always)]
    pub(crate) fn exec_cbz(&mut self, i: &Insn) {
        let zero = self.cpu.r[reg(i.rn)] == 0;
        if zero != (i.flags & F_OPT != 0) {
            self.cpu.pc = i.imm;
        }
    }
}
