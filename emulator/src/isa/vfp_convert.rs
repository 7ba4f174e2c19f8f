//! Floating-point conversions (A6.4 "other" group): VCVT/VCVTR between float and integer
//! (A7.7.223), VCVT between float and fixed point (A7.7.224), VCVTB/VCVTT half precision
//! (A7.7.225).

use super::{bit, bits, Insn, Op, F_OPT, F_OPT2};
use crate::fp;
use crate::machine::{Machine, Trap};
use crate::timing::Timing;

/// The VCVT encodings in the `opc1 = 1x11` space; `d`/`m` are the single-precision numbers.
pub(crate) fn decode(w: u32, opc2: u32, d: u32, m: u32) -> Insn {
    if !bit(w, 6) {
        return Insn::undefined(4, w);
    }
    match opc2 {
        0b0010 | 0b0011 => {
            // VCVTB_T1 / VCVTT_T1: bit 16 = to half, bit 7 = top half.
            Insn::new(Op::VcvtHalf, 4)
                .regs(d, 0, m)
                .flag_if(bit(w, 7), F_OPT)
                .flag_if(bit(w, 16), F_OPT2)
        }
        0b1000 => {
            // VCVT_fp_int_T1, to float: bit 7 = signed source.
            Insn::new(Op::VcvtFromInt, 4)
                .regs(d, 0, m)
                .flag_if(bit(w, 7), F_OPT)
        }
        0b1100 | 0b1101 => {
            // VCVT{R}_fp_int_T1, to integer: bit 16 = signed, bit 7 = round towards zero.
            Insn::new(Op::VcvtToInt, 4)
                .regs(d, 0, m)
                .flag_if(bit(w, 16), F_OPT)
                .flag_if(!bit(w, 7), F_OPT2)
        }
        0b1010 | 0b1011 | 0b1110 | 0b1111 => {
            // VCVT_fp_fx_T1 (A7.7.224): bit 18 = to fixed, bit 16 = unsigned, bit 7 = 32-bit.
            let size = if bit(w, 7) { 32 } else { 16 };
            let imm5 = (bits(w, 3, 0) << 1) | bits(w, 5, 5);
            if imm5 > size {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::VcvtFixed, 4)
                .regs(d, 0, d)
                .shift(size)
                .imm(size - imm5)
                .flag_if(!bit(w, 16), F_OPT)
                .flag_if(bit(w, 18), F_OPT2)
        }
        _ => Insn::undefined(4, w),
    }
}

impl<T: Timing> Machine<T> {
    /// VCVT, VCVTR, VCVTB, VCVTT.
    pub(crate) fn exec_vcvt(&mut self, i: &Insn) -> Result<(), Trap> {
        let ctl = self.fp_control();
        let mut flags = 0;
        let m = self.fpu.s[i.rm as usize & 31];
        let d = self.fpu.s[i.rd as usize & 31];
        let signed = i.flags & F_OPT != 0;
        let r = match i.op {
            Op::VcvtToInt => {
                let c = if i.flags & F_OPT2 != 0 {
                    ctl
                } else {
                    ctl.toward_zero()
                };
                fp::to_fixed(m, 32, 0, !signed, c, &mut flags)
            }
            Op::VcvtFromInt => fp::from_fixed(m, 32, 0, !signed, ctl, &mut flags),
            Op::VcvtFixed => {
                let size = i.shift as u32;
                if i.flags & F_OPT2 != 0 {
                    fp::to_fixed(d, size, i.imm, !signed, ctl.toward_zero(), &mut flags)
                } else {
                    fp::from_fixed(d, size, i.imm, !signed, ctl, &mut flags)
                }
            }
            _ => {
                let top = i.flags & F_OPT != 0;
                if i.flags & F_OPT2 != 0 {
                    let h = fp::to_half(m, ctl, &mut flags) as u32;
                    if top {
                        (d & 0xffff) | (h << 16)
                    } else {
                        (d & 0xffff_0000) | h
                    }
                } else {
                    let h = if top { (m >> 16) as u16 } else { m as u16 };
                    fp::from_half(h, ctl, &mut flags)
                }
            }
        };
        self.fpu.s[i.rd as usize & 31] = r;
        self.fp_flags(flags);
        Ok(())
    }
}
