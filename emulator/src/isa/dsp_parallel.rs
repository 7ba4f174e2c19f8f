//! Parallel addition and subtraction, signed and unsigned (A5.3.13, A5.3.14): the
//! S/Q/SH/U/UQ/UH prefixes of ADD16, ASX, SAX, SUB16, ADD8, SUB8, plus SEL and PKHBT/PKHTB,
//! which consume and produce the same packed lanes and GE flags.

use super::{bits, Insn, Op, F_OPT};
use crate::machine::{reg, Machine};
use crate::timing::Timing;

/// `Insn.shift` operation codes (bits 22..20 of the encoding).
const ADD8: u8 = 0b000;
const ADD16: u8 = 0b001;
const ASX: u8 = 0b010;
const SUB8: u8 = 0b100;
const SUB16: u8 = 0b101;
const SAX: u8 = 0b110;

/// Parallel add/subtract: SADD16_T1 ... UHSUB8_T1 (A7.7.*), prefix in bits 6..4, op in 22..20.
pub(crate) fn decode32(w: u32) -> Insn {
    let op = bits(w, 22, 20);
    let prefix = bits(w, 6, 4);
    let rn = bits(w, 19, 16);
    let rd = bits(w, 11, 8);
    let rm = bits(w, 3, 0);
    if matches!(op, 0b011 | 0b111) || matches!(prefix, 0b011 | 0b111) || bits(w, 15, 12) != 0b1111 {
        return Insn::undefined(4, w);
    }
    if [rd, rn, rm].iter().any(|&r| r == 13 || r == 15) {
        return Insn::unpredictable(4, w);
    }
    Insn::new(Op::Parallel, 4)
        .regs(rd, rn, rm)
        .shift(op)
        .ra(prefix)
}

impl<T: Timing> Machine<T> {
    /// Executes one of the 36 parallel add/subtract instructions.
    pub(crate) fn exec_parallel(&mut self, i: &Insn) {
        let rn = self.cpu.r[reg(i.rn)];
        let rm = self.cpu.r[reg(i.rm)];
        let signed = i.ra & 0b100 == 0;
        let kind = i.ra & 0b011; // 0 modulo (sets GE), 1 saturating, 2 halving
        let op = i.shift;
        let (width, lanes) = if matches!(op, ADD8 | SUB8) {
            (8u32, 4u32)
        } else {
            (16, 2)
        };
        let mask = (1u32 << width) - 1;
        let lane = |x: u32, k: u32| -> i32 {
            let v = (x >> (k * width)) & mask;
            if signed {
                ((v << (32 - width)) as i32) >> (32 - width)
            } else {
                v as i32
            }
        };
        let mut result = 0u32;
        let mut ge = 0u8;
        for k in 0..lanes {
            // ASX: low lane subtracts Rm's top, top lane adds Rm's bottom; SAX the opposite.
            let (b, add) = match op {
                ADD8 | ADD16 => (lane(rm, k), true),
                SUB8 | SUB16 => (lane(rm, k), false),
                ASX => (lane(rm, 1 - k), k == 1),
                _ => {
                    debug_assert_eq!(op, SAX);
                    (lane(rm, 1 - k), k == 0)
                }
            };
            let a = lane(rn, k);
            let r = if add { a + b } else { a - b };
            let v = match kind {
                0 => {
                    let set = if signed || !add {
                        r >= 0
                    } else {
                        r >= (1 << width)
                    };
                    if set {
                        ge |= if width == 16 { 0b11 << (2 * k) } else { 1 << k };
                    }
                    r as u32
                }
                1 => {
                    let (v, _) = if signed {
                        super::saturate::signed_sat(r as i64, width)
                    } else {
                        super::saturate::unsigned_sat(r as i64, width)
                    };
                    v as u32
                }
                _ => (r >> 1) as u32,
            };
            result |= (v & mask) << (k * width);
        }
        self.cpu.r[reg(i.rd)] = result;
        if kind == 0 {
            self.cpu.ge = ge;
        }
    }

    /// SEL (A7.7.127): each byte from Rn where its GE bit is set, else from Rm.
    pub(crate) fn exec_sel(&mut self, i: &Insn) {
        let rn = self.cpu.r[reg(i.rn)];
        let rm = self.cpu.r[reg(i.rm)];
        let mut mask = 0u32;
        for k in 0..4 {
            if self.cpu.ge & (1 << k) != 0 {
                mask |= 0xff << (8 * k);
            }
        }
        self.cpu.r[reg(i.rd)] = (rn & mask) | (rm & !mask);
    }

    /// PKHBT / PKHTB (A7.7.93).
    pub(crate) fn exec_pkh(&mut self, i: &Insn) {
        let rn = self.cpu.r[reg(i.rn)];
        let rm = self.cpu.r[reg(i.rm)];
        self.cpu.r[reg(i.rd)] = if i.flags & F_OPT != 0 {
            // PKHTB: bottom from Rm ASR #imm (imm 32 is encoded as 0 -> ASR #32).
            let shifted = if i.imm >= 32 {
                ((rm as i32) >> 31) as u32
            } else {
                ((rm as i32) >> i.imm) as u32
            };
            (rn & 0xffff_0000) | (shifted & 0xffff)
        } else {
            let shifted = rm << i.imm;
            (shifted & 0xffff_0000) | (rn & 0xffff)
        };
    }
}
