//! Transfers between core and floating-point registers: VMOV (core <-> S, two cores <-> two S
//! or a D register, scalar), VMRS/VMSR (A6.6, A6.7; A7.7.238-245).

use super::{bit, bits, vfp_arith::sreg, Insn, Op};
use crate::machine::{reg, Machine, Trap};
use crate::timing::Timing;

/// 8, 16 and 32-bit transfers between core and extension registers (A6.6).
pub(crate) fn decode_8_16_32_transfer(w: u32) -> Insn {
    let l = bit(w, 20);
    let c = bit(w, 8);
    let a = bits(w, 23, 21);
    let rt = bits(w, 15, 12);
    if bits(w, 3, 0) != 0 || (!c && bits(w, 6, 5) != 0) {
        // (0) bits set.
        return Insn::unpredictable(4, w);
    }
    match (l, c, a) {
        (false, false, 0b000) | (true, false, 0b000) => {
            // VMOV_core_sp_T1 (A7.7.241): Sn = Vn:N.
            if rt == 13 || rt == 15 {
                return Insn::unpredictable(4, w);
            }
            let n = sreg(bits(w, 19, 16), bit(w, 7));
            if l {
                Insn::new(Op::VmovFromS, 4).regs(rt, n, 0)
            } else {
                Insn::new(Op::VmovToS, 4).regs(n, rt, 0)
            }
        }
        (false, false, 0b111) => {
            // VMSR_T1 (A7.7.245): only FPSCR (reg 0b0001) exists on the M profile.
            if bits(w, 19, 16) != 0b0001 {
                return Insn::unpredictable(4, w);
            }
            if rt == 13 || rt == 15 {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Vmsr, 4).regs(0, rt, 0)
        }
        (true, false, 0b111) => {
            // VMRS_T1 (A7.7.244): Rt = 15 is APSR_nzcv.
            if bits(w, 19, 16) != 0b0001 || rt == 13 {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Vmrs, 4).regs(rt, 0, 0)
        }
        (_, true, 0b000 | 0b001) if bits(w, 6, 5) == 0 => {
            // VMOV_scalar_T1 / VMOV_core_scalar_T1 (A7.7.242-243), 32-bit only: Dd[x] = S(2d + x).
            if bit(w, 7) || rt == 13 || rt == 15 {
                return Insn::unpredictable(4, w);
            }
            let s = bits(w, 19, 16) * 2 + bits(w, 21, 21);
            if l {
                Insn::new(Op::VmovFromS, 4).regs(rt, s, 0)
            } else {
                Insn::new(Op::VmovToS, 4).regs(s, rt, 0)
            }
        }
        _ => Insn::undefined(4, w),
    }
}

/// 64-bit transfers between core and extension registers (A6.7): VMOV two core registers to/from
/// two S registers (A7.7.243) or one D register (A7.7.244).
pub(crate) fn decode_64bit_transfer(w: u32) -> Insn {
    let to_core = bit(w, 20);
    let rt2 = bits(w, 19, 16);
    let rt = bits(w, 15, 12);
    if bits(w, 7, 6) != 0 || !bit(w, 4) {
        return Insn::undefined(4, w);
    }
    let first = if bit(w, 8) {
        if bit(w, 5) {
            return Insn::unpredictable(4, w); // D16-D31 do not exist
        }
        bits(w, 3, 0) * 2
    } else {
        sreg(bits(w, 3, 0), bit(w, 5))
    };
    let bad = |r: u32| r == 13 || r == 15;
    if bad(rt) || bad(rt2) || first == 31 || (to_core && rt == rt2) {
        return Insn::unpredictable(4, w);
    }
    let op = if to_core {
        Op::Vmov2FromS
    } else {
        Op::Vmov2ToS
    };
    Insn::new(op, 4).regs(rt, rt2, first)
}

impl<T: Timing> Machine<T> {
    /// VMOV between core and FP registers, VMRS, VMSR.
    pub(crate) fn exec_vfp_move(&mut self, i: &Insn) -> Result<(), Trap> {
        match i.op {
            Op::VmovToS => self.fpu.s[i.rd as usize & 31] = self.cpu.r[reg(i.rn)],
            Op::VmovFromS => self.cpu.r[reg(i.rd)] = self.fpu.s[i.rn as usize & 31],
            Op::Vmov2ToS => {
                self.fpu.s[i.rm as usize] = self.cpu.r[reg(i.rd)];
                self.fpu.s[i.rm as usize + 1] = self.cpu.r[reg(i.rn)];
            }
            Op::Vmov2FromS => {
                self.cpu.r[reg(i.rd)] = self.fpu.s[i.rm as usize];
                self.cpu.r[reg(i.rn)] = self.fpu.s[i.rm as usize + 1];
            }
            Op::Vmrs => {
                if i.rd == 15 {
                    let f = self.fpu.fpscr;
                    self.cpu.n = f >> 31 != 0;
                    self.cpu.z = f >> 30 & 1 != 0;
                    self.cpu.c = f >> 29 & 1 != 0;
                    self.cpu.v = f >> 28 & 1 != 0;
                } else {
                    self.cpu.r[reg(i.rd)] = self.fpu.fpscr;
                }
            }
            _ => {
                // VMSR: writable FPSCR bits on FPv4-SP (NZCV, AHP, DN, FZ, RMode, cumulative flags).
                self.fpu.fpscr = self.cpu.r[reg(i.rn)] & 0xf7c0_009f;
            }
        }
        Ok(())
    }
}
