//! Saturating instructions: SSAT/USAT/SSAT16/USAT16 (A7.7.152-153, A7.7.212-213) and
//! QADD/QSUB/QDADD/QDSUB (A7.7.102-109). Q is sticky: these only ever set it.

use super::{bits, shift, Insn, Op};
use crate::machine::{reg, Machine};
use crate::timing::Timing;

/// SSAT/USAT(16) from the plain binary immediate space (A5.3.3); `op` is bits 24..20.
pub(crate) fn decode32_sat(w: u32, op: u32, imm3_2: u32) -> Insn {
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let bad = |r: u32| r == 13 || r == 15;
    if bad(rd) || bad(rn) {
        return Insn::unpredictable(4, w);
    }
    let asr = op & 0b00010 != 0;
    let unsigned = op & 0b01000 != 0;
    if asr && imm3_2 == 0 {
        // SSAT16_T1 / USAT16_T1: the "ASR #0" slot.
        if bits(w, 5, 4) != 0 {
            return Insn::undefined(4, w);
        }
        let sat = bits(w, 3, 0);
        return if unsigned {
            Insn::new(Op::Usat16, 4).regs(rd, rn, 0).ra(sat)
        } else {
            Insn::new(Op::Ssat16, 4).regs(rd, rn, 0).ra(sat + 1)
        };
    }
    let sat = bits(w, 4, 0);
    let (t, amount) = if asr {
        (shift::ASR, imm3_2)
    } else {
        (shift::LSL, imm3_2)
    };
    if unsigned {
        Insn::new(Op::Usat, 4)
            .regs(rd, rn, 0)
            .ra(sat)
            .shift(t as u32)
            .imm(amount)
    } else {
        Insn::new(Op::Ssat, 4)
            .regs(rd, rn, 0)
            .ra(sat + 1)
            .shift(t as u32)
            .imm(amount)
    }
}

/// SignedSatQ (A2.2.1): clamp `x` to `bits`-bit two's complement; true if it saturated.
#[inline(always)]
pub(crate) fn signed_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << (bits - 1)) - 1;
    let min = -(1i64 << (bits - 1));
    if x > max {
        (max, true)
    } else if x < min {
        (min, true)
    } else {
        (x, false)
    }
}

/// UnsignedSatQ (A2.2.1): clamp `x` to `bits`-bit unsigned; true if it saturated.
#[inline(always)]
pub(crate) fn unsigned_sat(x: i64, bits: u32) -> (i64, bool) {
    let max = (1i64 << bits) - 1;
    if x > max {
        (max, true)
    } else if x < 0 {
        (0, true)
    } else {
        (x, false)
    }
}

impl<T: Timing> Machine<T> {
    /// SSAT, USAT, SSAT16, USAT16, QADD, QSUB, QDADD, QDSUB.
    pub(crate) fn exec_saturate(&mut self, i: &Insn) {
        let rn = self.cpu.r[reg(i.rn)];
        let rm = self.cpu.r[reg(i.rm)];
        let sat = i.ra as u32;
        let (r, q) = match i.op {
            Op::Ssat | Op::Usat => {
                let operand = if i.shift == shift::ASR {
                    ((rn as i32) >> i.imm) as i64
                } else {
                    (rn << i.imm) as i32 as i64
                };
                let (v, q) = if i.op == Op::Ssat {
                    signed_sat(operand, sat)
                } else {
                    unsigned_sat(operand, sat)
                };
                (v as u32, q)
            }
            Op::Ssat16 | Op::Usat16 => {
                let f = if i.op == Op::Ssat16 {
                    signed_sat
                } else {
                    unsigned_sat
                };
                let (lo, q1) = f(rn as i16 as i64, sat);
                let (hi, q2) = f((rn >> 16) as i16 as i64, sat);
                (((hi as u32) << 16) | (lo as u32 & 0xffff), q1 | q2)
            }
            Op::Qadd => sat32(rm as i32 as i64 + rn as i32 as i64),
            Op::Qsub => sat32(rm as i32 as i64 - rn as i32 as i64),
            Op::Qdadd | Op::Qdsub => {
                let (doubled, q1) = sat32(2 * rn as i32 as i64);
                let (r, q2) = if i.op == Op::Qdadd {
                    sat32(rm as i32 as i64 + doubled as i32 as i64)
                } else {
                    sat32(rm as i32 as i64 - doubled as i32 as i64)
                };
                (r, q1 | q2)
            }
            _ => unreachable!("exec_saturate called for {:?}", i.op),
        };
        self.cpu.r[reg(i.rd)] = r;
        self.cpu.q |= q;
    }
}

/// Saturate to a signed 32-bit value (the QADD family).
#[inline(always)]
fn sat32(x: i64) -> (u32, bool) {
    let (v, q) = signed_sat(x, 32);
    (v as u32, q)
}
