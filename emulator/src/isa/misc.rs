//! Miscellaneous: the 16-bit miscellaneous space (A5.2.5) and 32-bit data processing (register)
//! (A5.3.12, A5.3.15): extends, byte reversal, CLZ, RBIT, SEL, bit-field operations' executor.

use super::{
    bit, bits, branch, dsp_parallel, load_store_multiple, shift, system, Arch, Insn, Op, F_S,
    R_ZERO, SP,
};
use crate::machine::{reg, Machine};
use crate::timing::Timing;

/// Extend kinds kept in `Insn.shift` for [`Op::Extend`].
pub(crate) const SXTB: u32 = 0;
pub(crate) const SXTH: u32 = 1;
pub(crate) const UXTB: u32 = 2;
pub(crate) const UXTH: u32 = 3;
pub(crate) const SXTB16: u32 = 4;
pub(crate) const UXTB16: u32 = 5;

/// Miscellaneous 16-bit instructions (A5.2.5).
pub(crate) fn decode16_misc(arch: Arch, pc: u32, hw: u32) -> Insn {
    let v7 = arch == Arch::V7EM;
    match bits(hw, 11, 8) {
        0b0000 => {
            // ADD_SP_imm_T2 (A7.7.5) / SUB_SP_imm_T1 (A7.7.173)
            let op = if bit(hw, 7) { Op::SubImm } else { Op::AddImm };
            Insn::new(op, 2)
                .regs(SP as u32, SP as u32, 0)
                .imm(bits(hw, 6, 0) << 2)
        }
        0b0001 | 0b0011 | 0b1001 | 0b1011 if v7 => branch::decode16_cbz(pc, hw), // CBZ/CBNZ_T1
        0b0010 => {
            // SXTH_T1, SXTB_T1, UXTH_T1, UXTB_T1 (A7.7.184, A7.7.182, A7.7.223, A7.7.221)
            let kind = match bits(hw, 7, 6) {
                0 => SXTH,
                1 => SXTB,
                2 => UXTH,
                _ => UXTB,
            };
            Insn::new(Op::Extend, 2)
                .regs(bits(hw, 2, 0), R_ZERO as u32, bits(hw, 5, 3))
                .shift(kind)
        }
        0b0100 | 0b0101 | 0b1100 | 0b1101 => load_store_multiple::decode16_push_pop(hw), // PUSH_T1/POP_T1
        0b0110 if bits(hw, 7, 5) == 0b011 => {
            // CPS_T1 (B5.2.1): ARMv6-M has only PRIMASK; I and F of 0 is UNPREDICTABLE.
            let (i, f) = (bit(hw, 1), bit(hw, 0));
            if bit(hw, 3) || bit(hw, 2) || (!i && !f) || (!v7 && f) {
                return Insn::unpredictable(2, hw);
            }
            let imm = (bit(hw, 4) as u32) | ((i as u32) << 1) | ((f as u32) << 2);
            Insn::new(Op::Cps, 2).imm(imm)
        }
        0b1010 => {
            // REV_T1, REV16_T1, REVSH_T1 (A7.7.113-115)
            let op = match bits(hw, 7, 6) {
                0 => Op::Rev,
                1 => Op::Rev16,
                3 => Op::Revsh,
                _ => return Insn::undefined(2, hw),
            };
            Insn::new(op, 2).regs(bits(hw, 2, 0), 0, bits(hw, 5, 3))
        }
        0b1110 => Insn::new(Op::Bkpt, 2).imm(bits(hw, 7, 0)), // BKPT_T1 (A7.7.17)
        0b1111 => {
            if bits(hw, 3, 0) != 0 {
                // IT_T1 (A7.7.38)
                if !v7 {
                    return Insn::undefined(2, hw);
                }
                let firstcond = bits(hw, 7, 4);
                let mask = bits(hw, 3, 0);
                if firstcond == 0b1111 || (firstcond == 0b1110 && mask.count_ones() != 1) {
                    return Insn::unpredictable(2, hw);
                }
                Insn::new(Op::It, 2).imm(bits(hw, 7, 0))
            } else {
                system::decode_hint(2, bits(hw, 7, 4), v7)
            }
        }
        _ => Insn::undefined(2, hw),
    }
}

/// Data processing (register), A5.3.12, and miscellaneous operations, A5.3.15.
pub(crate) fn decode32_data_processing_reg(w: u32) -> Insn {
    let op1 = bits(w, 23, 20);
    let op2 = bits(w, 7, 4);
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let rm = bits(w, 3, 0);
    let bad = |r: u32| r == 13 || r == 15;
    if bits(w, 15, 12) != 0b1111 {
        return Insn::undefined(4, w);
    }
    if op2 == 0 && op1 & 0b1000 == 0 {
        // LSL_reg_T2, LSR_reg_T2, ASR_reg_T2, ROR_reg_T2 (A7.7.68, 70, 11, 117)
        if bad(rd) || bad(rn) || bad(rm) {
            return Insn::unpredictable(4, w);
        }
        let t = match bits(w, 22, 21) {
            0 => shift::LSL,
            1 => shift::LSR,
            2 => shift::ASR,
            _ => shift::ROR,
        };
        return Insn::new(Op::ShiftReg, 4)
            .regs(rd, rn, rm)
            .shift(t as u32)
            .flag_if(bit(w, 20), F_S);
    }
    if op1 & 0b1000 == 0 && op2 & 0b1000 != 0 {
        // SXTAH/SXTH_T2, UXTAH/UXTH_T2, SXTAB16/SXTB16, UXTAB16/UXTB16, SXTAB/SXTB_T2, UXTAB/UXTB_T2
        let kind = match op1 {
            0b0000 => SXTH,
            0b0001 => UXTH,
            0b0010 => SXTB16,
            0b0011 => UXTB16,
            0b0100 => SXTB,
            0b0101 => UXTB,
            _ => return Insn::undefined(4, w),
        };
        if bad(rd) || rn == 13 || bad(rm) || bit(w, 6) {
            return Insn::unpredictable(4, w);
        }
        let n = if rn == 15 { R_ZERO as u32 } else { rn };
        return Insn::new(Op::Extend, 4)
            .regs(rd, n, rm)
            .shift(kind)
            .imm(bits(w, 5, 4) << 3);
    }
    if op1 & 0b1000 != 0 && op2 & 0b1000 == 0 {
        return dsp_parallel::decode32(w);
    }
    if op1 & 0b1100 == 0b1000 && op2 & 0b1100 == 0b1000 {
        if bad(rd) || bad(rn) || bad(rm) {
            return Insn::unpredictable(4, w);
        }
        let op = match (bits(w, 21, 20), bits(w, 5, 4)) {
            (0, 0) => Op::Qadd,  // QADD_T1 (A7.7.102)
            (0, 1) => Op::Qdadd, // QDADD_T1 (A7.7.104)
            (0, 2) => Op::Qsub,  // QSUB_T1 (A7.7.109)
            (0, 3) => Op::Qdsub, // QDSUB_T1 (A7.7.105)
            (1, 0) => Op::Rev,   // REV_T2 (A7.7.113)
            (1, 1) => Op::Rev16, // REV16_T2 (A7.7.114)
            (1, 2) => Op::Rbit,  // RBIT_T1 (A7.7.112)
            (1, 3) => Op::Revsh, // REVSH_T2 (A7.7.115)
            (2, 0) => Op::Sel,   // SEL_T1 (A7.7.127)
            (3, 0) => Op::Clz,   // CLZ_T1 (A7.7.24)
            _ => return Insn::undefined(4, w),
        };
        if matches!(op, Op::Rev | Op::Rev16 | Op::Rbit | Op::Revsh | Op::Clz) {
            // The operand register is encoded twice and both copies must agree.
            if rn != rm {
                return Insn::unpredictable(4, w);
            }
            return Insn::new(op, 4).regs(rd, 0, rm);
        }
        // QADD family computes Rm op Rn: keep the manual's operand order.
        return Insn::new(op, 4).regs(rd, rn, rm);
    }
    Insn::undefined(4, w)
}

/// Rotate-and-extend used by SXTB/UXTB/... and the accumulating forms (A7.7.182-184, A7.7.221-223).
#[inline(always)]
pub(crate) fn extend(kind: u8, base: u32, value: u32) -> u32 {
    match kind as u32 {
        SXTB => base.wrapping_add(value as u8 as i8 as u32),
        SXTH => base.wrapping_add(value as u16 as i16 as u32),
        UXTB => base.wrapping_add(value & 0xff),
        UXTH => base.wrapping_add(value & 0xffff),
        SXTB16 => {
            let lo = (base as u16).wrapping_add(value as u8 as i8 as u16);
            let hi = ((base >> 16) as u16).wrapping_add((value >> 16) as u8 as i8 as u16);
            ((hi as u32) << 16) | lo as u32
        }
        _ => {
            let lo = (base as u16).wrapping_add(value as u8 as u16);
            let hi = ((base >> 16) as u16).wrapping_add((value >> 16) as u8 as u16);
            ((hi as u32) << 16) | lo as u32
        }
    }
}

impl<T: Timing> Machine<T> {
    /// The single-operand bit manipulations and bit-field instructions.
    #[inline(always)]
    pub(crate) fn exec_bits(&mut self, i: &Insn) {
        let rm = self.cpu.r[reg(i.rm)];
        let rn = self.cpu.r[reg(i.rn)];
        let rd = reg(i.rd);
        self.cpu.r[rd] = match i.op {
            Op::Clz => rm.leading_zeros(),
            Op::Rbit => rm.reverse_bits(),
            Op::Rev => rm.swap_bytes(),
            Op::Rev16 => ((rm & 0x00ff_00ff) << 8) | ((rm >> 8) & 0x00ff_00ff),
            Op::Revsh => (((rm & 0xff) << 8) as u16 as i16 as u32) | ((rm >> 8) & 0xff),
            Op::Extend => extend(i.shift, rn, rm.rotate_right(i.imm)),
            Op::Ubfx => (rn >> i.imm) & (u32::MAX >> (31 - i.ra as u32)),
            Op::Sbfx => {
                let width = i.ra as u32 + 1;
                (((rn >> i.imm) << (32 - width)) as i32 >> (32 - width)) as u32
            }
            Op::Bfi | Op::Bfc => {
                let width = i.ra as u32 - i.imm + 1;
                let mask = (u32::MAX >> (32 - width)) << i.imm;
                let src = if i.op == Op::Bfc { 0 } else { rn << i.imm };
                (self.cpu.r[rd] & !mask) | (src & mask)
            }
            Op::Movt => (self.cpu.r[rd] & 0xffff) | (i.imm << 16),
            _ => unreachable!("exec_bits called for {:?}", i.op),
        };
    }
}
