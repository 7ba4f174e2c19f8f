//! Floating-point extension register load/store (A6.5): VLDR/VSTR (A7.7.237, A7.7.261),
//! VLDM/VSTM (A7.7.236, A7.7.260), VPUSH/VPOP (A7.7.255-256). D-register forms transfer pairs
//! of S registers (`D<n> = S<2n+1>:S<2n>`), so everything is a run of words.

use super::{bit, bits, vfp_arith::sreg, Insn, Op, F_OPT, F_WBACK};
use crate::machine::{reg, Machine, Trap, UsageFault};
use crate::timing::Timing;

/// Extension register load/store instructions (A6.5).
pub(crate) fn decode(w: u32) -> Insn {
    let p = bit(w, 24);
    let u = bit(w, 23);
    let wb = bit(w, 21);
    let load = bit(w, 20);
    let rn = bits(w, 19, 16);
    let double = bit(w, 8);
    let imm8 = bits(w, 7, 0);
    // First S register: Vd:D for singles, 2 * D:Vd for doubles.
    let first = if double {
        ((bits(w, 22, 22) << 4) | bits(w, 15, 12)) * 2
    } else {
        sreg(bits(w, 15, 12), bit(w, 22))
    };
    if p && !wb {
        // VLDR/VSTR: [Rn, #+/-imm8*4]
        let off = imm8 << 2;
        let words = if double { 2 } else { 1 };
        if first + words > 32 {
            return Insn::unpredictable(4, w);
        }
        let op = if load { Op::Vldr } else { Op::Vstr };
        if rn == 15 {
            if !load {
                return Insn::unpredictable(4, w);
            }
            // Literal: resolved by the caller's PC at execute (Align(PC, 4) is R15 & !3).
            return Insn::new(op, 4)
                .regs(first, 15, 0)
                .imm(if u { off } else { off.wrapping_neg() })
                .shift(words)
                .flags(F_OPT);
        }
        return Insn::new(op, 4)
            .regs(first, rn, 0)
            .imm(if u { off } else { off.wrapping_neg() })
            .shift(words);
    }
    if p == u {
        // P = U = 1 (with W) and P = U = 0 are not load/store multiple.
        return Insn::undefined(4, w);
    }
    // VLDM/VSTM (IA with optional write-back, DB with write-back) and VPUSH/VPOP.
    let words = if double { imm8 & !1 } else { imm8 };
    if rn == 15 || words == 0 || first + words > 32 || (double && imm8 > 32) {
        return Insn::unpredictable(4, w);
    }
    let op = if load { Op::Vldm } else { Op::Vstm };
    Insn::new(op, 4)
        .regs(first, rn, 0)
        .ra(words)
        .flag_if(wb, F_WBACK)
        .flag_if(p, F_OPT)
}

impl<T: Timing> Machine<T> {
    /// VLDR/VSTR/VLDM/VSTM (word aligned: an unaligned address is a UsageFault, A3.2.1).
    pub(crate) fn exec_vfp_load_store(&mut self, i: &Insn) -> Result<(), Trap> {
        let first = i.rd as usize;
        match i.op {
            Op::Vldr | Op::Vstr => {
                let base = if i.flags & F_OPT != 0 {
                    self.cpu.r[15] & !3
                } else {
                    self.cpu.r[reg(i.rn)]
                };
                let addr = base.wrapping_add(i.imm);
                if addr & 3 != 0 {
                    return Err(Trap::Usage(UsageFault::Unaligned { addr }));
                }
                for k in 0..i.shift as usize {
                    let a = addr.wrapping_add(4 * k as u32);
                    if i.op == Op::Vldr {
                        self.fpu.s[first + k] = self.read32(a)?;
                    } else {
                        self.write32(a, self.fpu.s[first + k])?;
                    }
                }
            }
            _ => {
                let base = self.cpu.r[reg(i.rn)];
                let bytes = 4 * i.ra as u32;
                let start = if i.flags & F_OPT != 0 {
                    base.wrapping_sub(bytes)
                } else {
                    base
                };
                if start & 3 != 0 {
                    return Err(Trap::Usage(UsageFault::Unaligned { addr: start }));
                }
                for k in 0..i.ra as usize {
                    let a = start.wrapping_add(4 * k as u32);
                    if i.op == Op::Vldm {
                        self.fpu.s[first + k] = self.read32(a)?;
                    } else {
                        self.write32(a, self.fpu.s[first + k])?;
                    }
                }
                if i.flags & F_WBACK != 0 {
                    self.cpu.r[reg(i.rn)] = if i.flags & F_OPT != 0 {
                        start
                    } else {
                        base.wrapping_add(bytes)
                    };
                }
            }
        }
        Ok(())
    }
}
