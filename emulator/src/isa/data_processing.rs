//! Data processing: ALU operations with an immediate or (shifted) register operand, shifts,
//! MOVW/MOVT, ADR (A5.2.1-A5.2.3, A5.3.1, A5.3.3, A5.3.11).

use super::{
    bit, bits, decode_imm_shift, saturate, shift, thumb_expand_imm, Arch, Insn, Op, F_IMM_CARRY,
    F_S, F_S_OUTSIDE_IT, PC, R_ZERO, SP,
};
use crate::machine::{reg, Machine, Trap};
use crate::timing::Timing;

/// 16-bit: shift (immediate), add, subtract, move, compare (A5.2.1), data processing (A5.2.2),
/// ADR (A7.7.7 T1) and ADD (SP plus immediate) T1.
pub(crate) fn decode16(pc: u32, hw: u32) -> Insn {
    let lo3 = |n: u32| bits(hw, n + 2, n);
    match bits(hw, 15, 10) {
        0b101000 | 0b101001 => {
            // ADR_T1 (A7.7.7): Rd = Align(PC, 4) + imm8:'00'.
            let target = ((pc + 4) & !3).wrapping_add(bits(hw, 7, 0) << 2);
            Insn::new(Op::MovImm, 2)
                .regs(bits(hw, 10, 8), 0, 0)
                .imm(target)
        }
        0b101010 | 0b101011 => {
            // ADD_SP_imm_T1 (A7.7.5)
            Insn::new(Op::AddImm, 2)
                .regs(bits(hw, 10, 8), SP as u32, 0)
                .imm(bits(hw, 7, 0) << 2)
        }
        0b010000 => decode16_dp_register(hw),
        _ => {
            let (rd, rn) = (lo3(0), lo3(3));
            let imm5 = bits(hw, 10, 6);
            let s = F_S_OUTSIDE_IT;
            match bits(hw, 13, 9) {
                0b00000..=0b00011 => {
                    // LSL_imm_T1 (A7.7.67); imm5 == 0 is MOV_reg_T2 (A7.7.76), flags always.
                    Insn::new(Op::MovReg, 2)
                        .regs(rd, 0, rn)
                        .shift(shift::LSL as u32)
                        .imm(imm5)
                        .flags(s)
                }
                0b00100..=0b00111 => {
                    // LSR_imm_T1 (A7.7.69)
                    let (t, n) = decode_imm_shift(1, imm5);
                    Insn::new(Op::MovReg, 2)
                        .regs(rd, 0, rn)
                        .shift(t as u32)
                        .imm(n)
                        .flags(s)
                }
                0b01000..=0b01011 => {
                    // ASR_imm_T1 (A7.7.10)
                    let (t, n) = decode_imm_shift(2, imm5);
                    Insn::new(Op::MovReg, 2)
                        .regs(rd, 0, rn)
                        .shift(t as u32)
                        .imm(n)
                        .flags(s)
                }
                // ADD_reg_T1 / SUB_reg_T1 (A7.7.4, A7.7.172)
                0b01100 => Insn::new(Op::AddReg, 2).regs(rd, rn, lo3(6)).flags(s),
                0b01101 => Insn::new(Op::SubReg, 2).regs(rd, rn, lo3(6)).flags(s),
                // ADD_imm_T1 / SUB_imm_T1 (A7.7.3, A7.7.171)
                0b01110 => Insn::new(Op::AddImm, 2)
                    .regs(rd, rn, 0)
                    .imm(lo3(6))
                    .flags(s),
                0b01111 => Insn::new(Op::SubImm, 2)
                    .regs(rd, rn, 0)
                    .imm(lo3(6))
                    .flags(s),
                _ => {
                    let rdn = bits(hw, 10, 8);
                    let imm8 = bits(hw, 7, 0);
                    match bits(hw, 12, 11) {
                        // MOV_imm_T1 (A7.7.75): carry unchanged.
                        0 => Insn::new(Op::MovImm, 2).regs(rdn, 0, 0).imm(imm8).flags(s),
                        // CMP_imm_T1 (A7.7.27)
                        1 => Insn::new(Op::CmpImm, 2)
                            .regs(0, rdn, 0)
                            .imm(imm8)
                            .flags(F_S),
                        // ADD_imm_T2 / SUB_imm_T2
                        2 => Insn::new(Op::AddImm, 2)
                            .regs(rdn, rdn, 0)
                            .imm(imm8)
                            .flags(s),
                        _ => Insn::new(Op::SubImm, 2)
                            .regs(rdn, rdn, 0)
                            .imm(imm8)
                            .flags(s),
                    }
                }
            }
        }
    }
}

/// Data processing (register), A5.2.2.
fn decode16_dp_register(hw: u32) -> Insn {
    let rdn = bits(hw, 2, 0);
    let rm = bits(hw, 5, 3);
    let s = F_S_OUTSIDE_IT;
    let reg = |op: Op| Insn::new(op, 2).regs(rdn, rdn, rm).flags(s);
    let shift_reg = |t: u8| {
        Insn::new(Op::ShiftReg, 2)
            .regs(rdn, rdn, rm)
            .shift(t as u32)
            .flags(s)
    };
    match bits(hw, 9, 6) {
        0b0000 => reg(Op::AndReg),       // AND_reg_T1 (A7.7.9)
        0b0001 => reg(Op::EorReg),       // EOR_reg_T1 (A7.7.36)
        0b0010 => shift_reg(shift::LSL), // LSL_reg_T1 (A7.7.68)
        0b0011 => shift_reg(shift::LSR), // LSR_reg_T1 (A7.7.70)
        0b0100 => shift_reg(shift::ASR), // ASR_reg_T1 (A7.7.11)
        0b0101 => reg(Op::AdcReg),       // ADC_reg_T1 (A7.7.2)
        0b0110 => reg(Op::SbcReg),       // SBC_reg_T1 (A7.7.125)
        0b0111 => shift_reg(shift::ROR), // ROR_reg_T1 (A7.7.117)
        0b1000 => Insn::new(Op::TstReg, 2).regs(0, rdn, rm).flags(F_S), // TST_reg_T1 (A7.7.189)
        0b1001 => Insn::new(Op::RsbImm, 2).regs(rdn, rm, 0).flags(s), // RSB_imm_T1 (A7.7.119), #0
        0b1010 => Insn::new(Op::CmpReg, 2).regs(0, rdn, rm).flags(F_S), // CMP_reg_T1 (A7.7.28)
        0b1011 => Insn::new(Op::CmnReg, 2).regs(0, rdn, rm).flags(F_S), // CMN_reg_T1 (A7.7.26)
        0b1100 => reg(Op::OrrReg),       // ORR_reg_T1 (A7.7.92)
        0b1101 => Insn::new(Op::Mul, 2).regs(rdn, rm, rdn).flags(s), // MUL_T1 (A7.7.84)
        0b1110 => reg(Op::BicReg),       // BIC_reg_T1 (A7.7.16)
        _ => Insn::new(Op::MvnReg, 2).regs(rdn, 0, rm).flags(s), // MVN_reg_T1 (A7.7.86)
    }
}

/// Special data instructions (A5.2.3), without BX/BLX.
pub(crate) fn decode16_special(arch: Arch, hw: u32) -> Insn {
    let rdn = (bits(hw, 7, 7) << 3) | bits(hw, 2, 0);
    let rm = bits(hw, 6, 3);
    match bits(hw, 9, 8) {
        0b00 => {
            // ADD_reg_T2 (A7.7.4); ADD PC, Rm branches (ALUWritePC).
            if rdn == 15 && rm == 15 {
                Insn::unpredictable(2, hw)
            } else if rdn == 15 {
                Insn::new(Op::AluWritePc, 2).regs(0, PC as u32, rm)
            } else {
                Insn::new(Op::AddReg, 2).regs(rdn, rdn, rm)
            }
        }
        0b01 => {
            // CMP_reg_T2 (A7.7.28): both low registers, or either is PC, is UNPREDICTABLE.
            if (rdn < 8 && rm < 8) || rdn == 15 || rm == 15 {
                if arch == Arch::V6M && rdn < 8 && rm < 8 {
                    Insn::new(Op::CmpReg, 2).regs(0, rdn, rm).flags(F_S)
                } else {
                    Insn::unpredictable(2, hw)
                }
            } else {
                Insn::new(Op::CmpReg, 2).regs(0, rdn, rm).flags(F_S)
            }
        }
        _ => {
            // MOV_reg_T1 (A7.7.76): no flags; MOV PC, Rm branches.
            if rdn == 15 {
                Insn::new(Op::AluWritePc, 2).regs(0, R_ZERO as u32, rm)
            } else {
                Insn::new(Op::MovReg, 2).regs(rdn, 0, rm)
            }
        }
    }
}

/// Data processing (modified immediate), A5.3.1.
pub(crate) fn decode32_modified_imm(w: u32) -> Insn {
    let op = bits(w, 24, 21);
    let s = bit(w, 20);
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let imm12 = (bits(w, 26, 26) << 11) | (bits(w, 14, 12) << 8) | bits(w, 7, 0);
    let (imm, carry) = thumb_expand_imm(imm12);
    let fl = (if s { F_S } else { 0 }) | (if carry { F_IMM_CARRY } else { 0 });
    let bad = |r: u32| r == 13 || r == 15;
    let mk = |op: Op, d: u32, n: u32| Insn::new(op, 4).regs(d, n, 0).imm(imm).flags(fl);
    let test = |op: Op| {
        if bad(rn) {
            Insn::unpredictable(4, w)
        } else {
            Insn::new(op, 4).regs(0, rn, 0).imm(imm).flags(fl | F_S)
        }
    };
    let logical = |op: Op| {
        if bad(rd) || bad(rn) {
            Insn::unpredictable(4, w)
        } else {
            mk(op, rd, rn)
        }
    };
    match op {
        0b0000 if rd == 15 && s => test(Op::TstImm), // TST_imm_T1 (A7.7.188)
        0b0000 => logical(Op::AndImm),               // AND_imm_T1 (A7.7.8)
        0b0001 => logical(Op::BicImm),               // BIC_imm_T1 (A7.7.15)
        0b0010 if rn == 15 => {
            // MOV_imm_T2 (A7.7.75)
            if bad(rd) {
                Insn::unpredictable(4, w)
            } else {
                mk(Op::MovImm, rd, 0)
            }
        }
        0b0010 => logical(Op::OrrImm), // ORR_imm_T1 (A7.7.91)
        0b0011 if rn == 15 => {
            // MVN_imm_T1 (A7.7.85)
            if bad(rd) {
                Insn::unpredictable(4, w)
            } else {
                mk(Op::MvnImm, rd, 0)
            }
        }
        0b0011 => logical(Op::OrnImm), // ORN_imm_T1 (A7.7.89)
        0b0100 if rd == 15 && s => test(Op::TeqImm), // TEQ_imm_T1 (A7.7.186)
        0b0100 => logical(Op::EorImm), // EOR_imm_T1 (A7.7.35)
        0b1000 | 0b1101 => {
            let is_add = op == 0b1000;
            if rd == 15 && s {
                // CMN_imm_T1 (A7.7.25) / CMP_imm_T2 (A7.7.27)
                if rn == 15 {
                    Insn::unpredictable(4, w)
                } else {
                    Insn::new(if is_add { Op::CmnImm } else { Op::CmpImm }, 4)
                        .regs(0, rn, 0)
                        .imm(imm)
                        .flags(F_S)
                }
            } else if rn == 13 {
                // ADD_SP_imm_T3 (A7.7.5) / SUB_SP_imm_T2 (A7.7.173)
                if rd == 15 {
                    Insn::unpredictable(4, w)
                } else {
                    mk(if is_add { Op::AddImm } else { Op::SubImm }, rd, rn)
                }
            } else if bad(rd) || rn == 15 {
                Insn::unpredictable(4, w)
            } else {
                // ADD_imm_T3 (A7.7.3) / SUB_imm_T3 (A7.7.171)
                mk(if is_add { Op::AddImm } else { Op::SubImm }, rd, rn)
            }
        }
        0b1010 | 0b1011 | 0b1110 => {
            // ADC_imm_T1 (A7.7.1), SBC_imm_T1 (A7.7.124), RSB_imm_T2 (A7.7.119)
            if bad(rd) || bad(rn) {
                Insn::unpredictable(4, w)
            } else {
                let o = match op {
                    0b1010 => Op::AdcImm,
                    0b1011 => Op::SbcImm,
                    _ => Op::RsbImm,
                };
                mk(o, rd, rn)
            }
        }
        _ => Insn::undefined(4, w),
    }
}

/// Data processing (plain binary immediate), A5.3.3.
pub(crate) fn decode32_plain_imm(pc: u32, w: u32) -> Insn {
    let op = bits(w, 24, 20);
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let imm12 = (bits(w, 26, 26) << 11) | (bits(w, 14, 12) << 8) | bits(w, 7, 0);
    let imm16 = (bits(w, 19, 16) << 12) | imm12;
    let bad = |r: u32| r == 13 || r == 15;
    let imm3_2 = (bits(w, 14, 12) << 2) | bits(w, 7, 6);
    match op {
        0b00000 | 0b01010 => {
            let add = op == 0b00000;
            if rn == 15 {
                // ADR_T3 / ADR_T2 (A7.7.7): resolved now, the PC is known.
                if bad(rd) {
                    return Insn::unpredictable(4, w);
                }
                let base = (pc + 4) & !3;
                let v = if add {
                    base.wrapping_add(imm12)
                } else {
                    base.wrapping_sub(imm12)
                };
                Insn::new(Op::MovImm, 4).regs(rd, 0, 0).imm(v)
            } else if rd == 15 || (rd == 13 && rn != 13) {
                Insn::unpredictable(4, w)
            } else {
                // ADDW: ADD_imm_T4 (A7.7.3), SUBW: SUB_imm_T4 (A7.7.171)
                Insn::new(if add { Op::AddImm } else { Op::SubImm }, 4)
                    .regs(rd, rn, 0)
                    .imm(imm12)
            }
        }
        0b00100 | 0b01100 => {
            // MOV_imm_T3 (MOVW, A7.7.75) / MOVT_T1 (A7.7.78)
            if bad(rd) {
                Insn::unpredictable(4, w)
            } else if op == 0b00100 {
                Insn::new(Op::MovImm, 4).regs(rd, 0, 0).imm(imm16)
            } else {
                Insn::new(Op::Movt, 4).regs(rd, 0, 0).imm(imm16)
            }
        }
        // The saturate and bit-field encodings have (0) in bit 26 and bit 5.
        0b10000 | 0b10010 | 0b11000 | 0b11010 | 0b10100 | 0b11100 | 0b10110
            if bit(w, 26) || bit(w, 5) =>
        {
            Insn::unpredictable(4, w)
        }
        0b10000 | 0b10010 | 0b11000 | 0b11010 => saturate::decode32_sat(w, op, imm3_2),
        0b10100 | 0b11100 => {
            // SBFX_T1 (A7.7.126) / UBFX_T1 (A7.7.193): imm = lsb, ra = width - 1.
            let lsb = imm3_2;
            let widthm1 = bits(w, 4, 0);
            if bad(rd) || bad(rn) || lsb + widthm1 > 31 {
                return Insn::unpredictable(4, w);
            }
            let o = if op == 0b10100 { Op::Sbfx } else { Op::Ubfx };
            Insn::new(o, 4).regs(rd, rn, 0).imm(lsb).ra(widthm1)
        }
        0b10110 => {
            // BFI_T1 (A7.7.14), BFC_T1 (A7.7.13) when Rn == PC: imm = lsb, ra = msb.
            let lsb = imm3_2;
            let msb = bits(w, 4, 0);
            if bad(rd) || rn == 13 || msb < lsb {
                return Insn::unpredictable(4, w);
            }
            let o = if rn == 15 { Op::Bfc } else { Op::Bfi };
            Insn::new(o, 4).regs(rd, rn, 0).imm(lsb).ra(msb)
        }
        _ => Insn::undefined(4, w),
    }
}

/// Data processing (shifted register), A5.3.11.
pub(crate) fn decode32_shifted_reg(w: u32) -> Insn {
    let op = bits(w, 24, 21);
    let s = bit(w, 20);
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let rm = bits(w, 3, 0);
    let imm5 = (bits(w, 14, 12) << 2) | bits(w, 7, 6);
    let ty = bits(w, 5, 4);
    let (t, amount) = decode_imm_shift(ty, imm5);
    let fl = if s { F_S } else { 0 };
    let bad = |r: u32| r == 13 || r == 15;
    if bit(w, 15) {
        // Bit 15 is (0) in every encoding of this space.
        return Insn::unpredictable(4, w);
    }
    let mk = |op: Op, d: u32, n: u32| {
        Insn::new(op, 4)
            .regs(d, n, rm)
            .shift(t as u32)
            .imm(amount)
            .flags(fl)
    };
    let test = |op: Op| {
        if bad(rn) || bad(rm) {
            Insn::unpredictable(4, w)
        } else {
            mk(op, 0, rn).flags(F_S)
        }
    };
    let logical = |op: Op| {
        if bad(rd) || bad(rn) || bad(rm) {
            Insn::unpredictable(4, w)
        } else {
            mk(op, rd, rn)
        }
    };
    match op {
        0b0000 if rd == 15 && s => test(Op::TstReg), // TST_reg_T2 (A7.7.189)
        0b0000 => logical(Op::AndReg),               // AND_reg_T2 (A7.7.9)
        0b0001 => logical(Op::BicReg),               // BIC_reg_T2 (A7.7.16)
        0b0010 if rn == 15 => {
            // MOV_reg_T3 (A7.7.76) and the LSL/LSR/ASR/ROR/RRX (immediate) T2 aliases.
            let unpred = if s || imm5 != 0 || ty != 0 {
                bad(rd) || bad(rm)
            } else {
                rd == 15 || rm == 15 || (rd == 13 && rm == 13)
            };
            if unpred {
                Insn::unpredictable(4, w)
            } else {
                mk(Op::MovReg, rd, 0)
            }
        }
        0b0010 => logical(Op::OrrReg), // ORR_reg_T2 (A7.7.92)
        0b0011 if rn == 15 => {
            // MVN_reg_T2 (A7.7.86)
            if bad(rd) || bad(rm) {
                Insn::unpredictable(4, w)
            } else {
                mk(Op::MvnReg, rd, 0)
            }
        }
        0b0011 => logical(Op::OrnReg), // ORN_reg_T1 (A7.7.90)
        0b0100 if rd == 15 && s => test(Op::TeqReg), // TEQ_reg_T1 (A7.7.187)
        0b0100 => logical(Op::EorReg), // EOR_reg_T2 (A7.7.36)
        0b0110 => {
            // PKHBT_T1 / PKHTB_T1 (A7.7.93): ty<1> selects TB (ASR), S and ty<0> must be 0.
            if s || bit(w, 4) {
                return Insn::undefined(4, w);
            }
            if bad(rd) || bad(rn) || bad(rm) {
                return Insn::unpredictable(4, w);
            }
            let tb = bit(w, 5);
            Insn::new(Op::Pkh, 4)
                .regs(rd, rn, rm)
                .imm(if tb { amount } else { imm5 })
                .flag_if(tb, super::F_OPT)
        }
        0b1000 | 0b1101 => {
            let is_add = op == 0b1000;
            if rd == 15 && s {
                // CMN_reg_T2 (A7.7.26) / CMP_reg_T3 (A7.7.28)
                if rn == 15 || bad(rm) {
                    Insn::unpredictable(4, w)
                } else {
                    mk(if is_add { Op::CmnReg } else { Op::CmpReg }, 0, rn).flags(F_S)
                }
            } else if rd == 15 || rn == 15 || bad(rm) || (rd == 13 && rn != 13) {
                Insn::unpredictable(4, w)
            } else {
                // ADD_reg_T3 / ADD_SP_reg_T3, SUB_reg_T2 / SUB_SP_reg_T1
                mk(if is_add { Op::AddReg } else { Op::SubReg }, rd, rn)
            }
        }
        0b1010 | 0b1011 | 0b1110 => {
            // ADC_reg_T2 (A7.7.2), SBC_reg_T2 (A7.7.125), RSB_reg_T1 (A7.7.120)
            let o = match op {
                0b1010 => Op::AdcReg,
                0b1011 => Op::SbcReg,
                _ => Op::RsbReg,
            };
            logical(o)
        }
        _ => Insn::undefined(4, w),
    }
}

/// Shift_C (A7.4.2) with an immediate or register amount (0..=255): result and carry-out.
#[inline]
pub(crate) fn shift_c(value: u32, ty: u8, amount: u32, carry_in: bool) -> (u32, bool) {
    if amount == 0 && ty != shift::RRX {
        return (value, carry_in);
    }
    match ty {
        shift::LSL => {
            if amount < 32 {
                (value << amount, (value >> (32 - amount)) & 1 != 0)
            } else if amount == 32 {
                (0, value & 1 != 0)
            } else {
                (0, false)
            }
        }
        shift::LSR => {
            if amount < 32 {
                (value >> amount, (value >> (amount - 1)) & 1 != 0)
            } else if amount == 32 {
                (0, value >> 31 != 0)
            } else {
                (0, false)
            }
        }
        shift::ASR => {
            if amount < 32 {
                (
                    ((value as i32) >> amount) as u32,
                    ((value as i32) >> (amount - 1)) & 1 != 0,
                )
            } else {
                let v = ((value as i32) >> 31) as u32;
                (v, v & 1 != 0)
            }
        }
        shift::ROR => {
            let r = value.rotate_right(amount & 31);
            (r, r >> 31 != 0)
        }
        _ => ((value >> 1) | ((carry_in as u32) << 31), value & 1 != 0),
    }
}

/// Shift (A7.4.2) without the carry-out, for operands of arithmetic instructions.
#[inline]
pub(crate) fn shift_value(value: u32, ty: u8, amount: u32, carry_in: bool) -> u32 {
    match ty {
        shift::LSL => {
            if amount < 32 {
                value << amount
            } else {
                0
            }
        }
        _ => shift_c(value, ty, amount, carry_in).0,
    }
}

/// AddWithCarry (A2.2.1): result, carry-out, overflow.
#[inline]
pub(crate) fn add_with_carry(x: u32, y: u32, carry_in: bool) -> (u32, bool, bool) {
    let (r1, c1) = x.overflowing_add(y);
    let (r, c2) = r1.overflowing_add(carry_in as u32);
    let v = ((x ^ r) & (y ^ r)) >> 31 != 0;
    (r, c1 | c2, v)
}

/// Which flags an ALU result updates.
#[inline]
fn sets_flags(i: &Insn, in_it: bool) -> bool {
    i.flags & F_S != 0 || (i.flags & F_S_OUTSIDE_IT != 0 && !in_it)
}

impl<T: Timing> Machine<T> {
    #[inline(always)]
    fn set_nz(&mut self, r: u32) {
        self.cpu.n = r >> 31 != 0;
        self.cpu.z = r == 0;
    }

    /// Operand 2 of a logical op with its carry-out (the shifter carry, or the immediate's).
    #[inline(always)]
    fn operand2_c(&self, i: &Insn, imm_form: bool) -> (u32, bool) {
        if imm_form {
            let c = if i.flags & F_IMM_CARRY != 0 {
                i.imm >> 31 != 0
            } else {
                self.cpu.c
            };
            (i.imm, c)
        } else if i.imm == 0 {
            // Unshifted register (RRX is encoded with amount 1): the common 16-bit case.
            (self.cpu.r[reg(i.rm)], self.cpu.c)
        } else {
            shift_c(self.cpu.r[reg(i.rm)], i.shift, i.imm, self.cpu.c)
        }
    }

    /// Operand 2 of an arithmetic op.
    #[inline(always)]
    fn operand2(&self, i: &Insn, imm_form: bool) -> u32 {
        if imm_form {
            i.imm
        } else if i.imm == 0 {
            self.cpu.r[reg(i.rm)]
        } else {
            shift_value(self.cpu.r[reg(i.rm)], i.shift, i.imm, self.cpu.c)
        }
    }

    /// AND, BIC, ORR, ORN, EOR, MOV, MVN and the TST/TEQ tests (`write` false): `f(Rn, op2)`.
    #[inline(always)]
    pub(crate) fn exec_logical(
        &mut self,
        i: &Insn,
        in_it: bool,
        imm_form: bool,
        write: bool,
        f: impl Fn(u32, u32) -> u32,
    ) {
        let (op2, carry) = self.operand2_c(i, imm_form);
        let r = f(self.cpu.r[reg(i.rn)], op2);
        if write {
            self.cpu.r[reg(i.rd)] = r;
        }
        if sets_flags(i, in_it) {
            self.set_nz(r);
            self.cpu.c = carry;
        }
    }

    /// ADD, ADC, SUB, SBC, RSB and the CMP/CMN tests (`write` false): `f(Rn, op2, C)` is an
    /// AddWithCarry.
    #[inline(always)]
    pub(crate) fn exec_arith(
        &mut self,
        i: &Insn,
        in_it: bool,
        imm_form: bool,
        write: bool,
        f: impl Fn(u32, u32, bool) -> (u32, bool, bool),
    ) {
        let op2 = self.operand2(i, imm_form);
        let (r, c, v) = f(self.cpu.r[reg(i.rn)], op2, self.cpu.c);
        if write {
            self.cpu.r[reg(i.rd)] = r;
        }
        if sets_flags(i, in_it) {
            self.set_nz(r);
            self.cpu.c = c;
            self.cpu.v = v;
        }
    }

    /// LSL/LSR/ASR/ROR (register), A7.7.68 etc.: the amount is Rm<7:0>.
    #[inline(always)]
    pub(crate) fn exec_shift_reg(&mut self, i: &Insn, in_it: bool) {
        let amount = self.cpu.r[reg(i.rm)] & 0xff;
        let (r, c) = shift_c(self.cpu.r[reg(i.rn)], i.shift, amount, self.cpu.c);
        self.cpu.r[reg(i.rd)] = r;
        if sets_flags(i, in_it) {
            self.set_nz(r);
            self.cpu.c = c;
        }
    }

    /// MUL (A7.7.84): the 16-bit form sets N and Z only.
    #[inline(always)]
    pub(crate) fn exec_mul(&mut self, i: &Insn, in_it: bool) {
        let r = self.cpu.r[reg(i.rn)].wrapping_mul(self.cpu.r[reg(i.rm)]);
        self.cpu.r[reg(i.rd)] = r;
        if sets_flags(i, in_it) {
            self.set_nz(r);
        }
    }

    /// ALUWritePC (A2.3.1): ADD PC, Rm / MOV PC, Rm branch without interworking.
    pub(crate) fn exec_alu_write_pc(&mut self, i: &Insn) -> Result<(), Trap> {
        let target = self.cpu.r[reg(i.rn)].wrapping_add(self.cpu.r[reg(i.rm)]);
        self.cpu.pc = target & !1;
        Ok(())
    }
}
