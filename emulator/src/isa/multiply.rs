//! Multiply, multiply-accumulate, long multiply and divide, including the DSP extension's
//! halfword and dual multiplies (A5.3.16, A5.3.17).

use super::{bit, bits, Insn, Op, F_OPT};
use crate::machine::{reg, Machine, Trap, UsageFault};
use crate::timing::Timing;

/// Multiply, multiply accumulate, and absolute difference (A5.3.16).
pub(crate) fn decode32_mul(w: u32) -> Insn {
    let op1 = bits(w, 22, 20);
    let op2 = bits(w, 5, 4);
    let rn = bits(w, 19, 16);
    let ra = bits(w, 15, 12);
    let rd = bits(w, 11, 8);
    let rm = bits(w, 3, 0);
    let bad = |r: u32| r == 13 || r == 15;
    if bits(w, 7, 6) != 0 {
        return Insn::undefined(4, w);
    }
    if bad(rd) || bad(rn) || bad(rm) || ra == 13 {
        return Insn::unpredictable(4, w);
    }
    let acc = ra != 15;
    let x = bit(w, 4);
    let mk = |op: Op| Insn::new(op, 4).regs(rd, rn, rm).ra(ra);
    match op1 {
        0b000 => match op2 {
            0 if acc => mk(Op::Mla), // MLA_T1 (A7.7.74)
            0 => mk(Op::Mul),        // MUL_T2 (A7.7.84)
            1 if acc => mk(Op::Mls), // MLS_T1 (A7.7.75)
            _ => Insn::undefined(4, w),
        },
        // SMLA<x><y>_T1 (A7.7.129), SMUL<x><y>_T1 (A7.7.141): shift bit0 = N top, bit1 = M top.
        0b001 => mk(if acc { Op::Smlaxy } else { Op::Smulxy })
            .shift((bit(w, 5) as u32) | ((bit(w, 4) as u32) << 1)),
        0b010 if op2 & 2 == 0 => mk(if acc { Op::Smlad } else { Op::Smuad }).flag_if(x, F_OPT), // SMLAD/SMUAD{X}
        // SMLAW<y>_T1 (A7.7.134), SMULW<y>_T1 (A7.7.143)
        0b011 if op2 & 2 == 0 => {
            mk(if acc { Op::Smlawy } else { Op::Smulwy }).shift((x as u32) << 1)
        }
        0b100 if op2 & 2 == 0 => mk(if acc { Op::Smlsd } else { Op::Smusd }).flag_if(x, F_OPT), // SMLSD/SMUSD{X}
        0b101 if op2 & 2 == 0 => mk(if acc { Op::Smmla } else { Op::Smmul }).flag_if(x, F_OPT), // SMMLA/SMMUL{R}
        0b110 if op2 & 2 == 0 && acc => mk(Op::Smmls).flag_if(x, F_OPT), // SMMLS{R}
        0b110 if op2 & 2 == 0 => Insn::unpredictable(4, w),              // SMMLS with Ra = PC
        0b111 if op2 == 0 => mk(if acc { Op::Usada8 } else { Op::Usad8 }), // USAD8/USADA8
        _ => Insn::undefined(4, w),
    }
}

/// Long multiply, long multiply accumulate, and divide (A5.3.17). `rd` = RdLo, `ra` = RdHi.
pub(crate) fn decode32_long_mul_div(w: u32) -> Insn {
    let op1 = bits(w, 22, 20);
    let op2 = bits(w, 7, 4);
    let rn = bits(w, 19, 16);
    let rdlo = bits(w, 15, 12);
    let rdhi = bits(w, 11, 8);
    let rm = bits(w, 3, 0);
    let bad = |r: u32| r == 13 || r == 15;
    if op1 == 0b001 || op1 == 0b011 {
        // SDIV_T1 / UDIV_T1 (A7.7.127, A7.7.195)
        if op2 != 0b1111 {
            return Insn::undefined(4, w);
        }
        if bad(rdhi) || bad(rn) || bad(rm) || rdlo != 15 {
            return Insn::unpredictable(4, w);
        }
        let op = if op1 == 0b001 { Op::Sdiv } else { Op::Udiv };
        return Insn::new(op, 4).regs(rdhi, rn, rm);
    }
    let op = match (op1, op2) {
        (0b000, 0b0000) => Op::Smull,            // SMULL_T1 (A7.7.149)
        (0b010, 0b0000) => Op::Umull,            // UMULL_T1 (A7.7.204)
        (0b100, 0b0000) => Op::Smlal,            // SMLAL_T1 (A7.7.130)
        (0b100, 0b1000..=0b1011) => Op::Smlalxy, // SMLAL<x><y>_T1 (A7.7.131)
        (0b100, 0b1100..=0b1101) => Op::Smlald,  // SMLALD{X}_T1 (A7.7.132)
        (0b101, 0b1100..=0b1101) => Op::Smlsld,  // SMLSLD{X}_T1 (A7.7.136)
        (0b110, 0b0000) => Op::Umlal,            // UMLAL_T1 (A7.7.203)
        (0b110, 0b0110) => Op::Umaal,            // UMAAL_T1 (A7.7.202)
        _ => return Insn::undefined(4, w),
    };
    if bad(rdlo) || bad(rdhi) || bad(rn) || bad(rm) || rdlo == rdhi {
        return Insn::unpredictable(4, w);
    }
    Insn::new(op, 4)
        .regs(rdlo, rn, rm)
        .ra(rdhi)
        .shift((bit(w, 5) as u32) | ((bit(w, 4) as u32) << 1))
        .flag_if(bit(w, 4), F_OPT)
}

/// Signed halfword `top` or bottom of `x`.
#[inline(always)]
fn half(x: u32, top: bool) -> i32 {
    if top {
        (x >> 16) as i16 as i32
    } else {
        x as i16 as i32
    }
}

impl<T: Timing> Machine<T> {
    #[inline(always)]
    fn long_result(&mut self, i: &Insn, v: u64) {
        self.cpu.r[reg(i.rd)] = v as u32;
        self.cpu.r[reg(i.ra)] = (v >> 32) as u32;
    }

    #[inline(always)]
    fn long_acc(&self, i: &Insn) -> u64 {
        ((self.cpu.r[reg(i.ra)] as u64) << 32) | self.cpu.r[reg(i.rd)] as u64
    }

    /// All multiplies except MUL (A7.7.74-75, A7.7.129-150, A7.7.202-204).
    pub(crate) fn exec_multiply(&mut self, i: &Insn) {
        let rn = self.cpu.r[reg(i.rn)];
        let rm = self.cpu.r[reg(i.rm)];
        let ra = self.cpu.r[reg(i.ra)];
        let rd = reg(i.rd);
        let x = i.flags & F_OPT != 0;
        // Dual multiplies: with X the halves of Rm are swapped first.
        let m2 = if x { rm.rotate_right(16) } else { rm };
        match i.op {
            Op::Mla => self.cpu.r[rd] = rn.wrapping_mul(rm).wrapping_add(ra),
            Op::Mls => self.cpu.r[rd] = ra.wrapping_sub(rn.wrapping_mul(rm)),
            Op::Umull => self.long_result(i, rn as u64 * rm as u64),
            Op::Smull => self.long_result(i, (rn as i32 as i64 * rm as i32 as i64) as u64),
            Op::Umlal => {
                let v = (rn as u64 * rm as u64).wrapping_add(self.long_acc(i));
                self.long_result(i, v)
            }
            Op::Smlal => {
                let v =
                    ((rn as i32 as i64 * rm as i32 as i64) as u64).wrapping_add(self.long_acc(i));
                self.long_result(i, v)
            }
            Op::Umaal => {
                // RdHi:RdLo = Rn * Rm + RdHi + RdLo, never overflows 64 bits.
                let v =
                    rn as u64 * rm as u64 + self.cpu.r[reg(i.ra)] as u64 + self.cpu.r[rd] as u64;
                self.long_result(i, v)
            }
            Op::Smulxy | Op::Smlaxy => {
                let p = half(rn, i.shift & 1 != 0) * half(rm, i.shift & 2 != 0);
                if i.op == Op::Smulxy {
                    self.cpu.r[rd] = p as u32;
                } else {
                    let (r, o) = p.overflowing_add(ra as i32);
                    self.cpu.r[rd] = r as u32;
                    self.cpu.q |= o;
                }
            }
            Op::Smlalxy => {
                let p = (half(rn, i.shift & 1 != 0) * half(rm, i.shift & 2 != 0)) as i64 as u64;
                let v = p.wrapping_add(self.long_acc(i));
                self.long_result(i, v)
            }
            Op::Smulwy | Op::Smlawy => {
                let p = ((rn as i32 as i64 * half(rm, i.shift & 2 != 0) as i64) >> 16) as i32;
                if i.op == Op::Smulwy {
                    self.cpu.r[rd] = p as u32;
                } else {
                    let (r, o) = p.overflowing_add(ra as i32);
                    self.cpu.r[rd] = r as u32;
                    self.cpu.q |= o;
                }
            }
            Op::Smuad | Op::Smlad | Op::Smusd | Op::Smlsd => {
                let p1 = half(rn, false) as i64 * half(m2, false) as i64;
                let p2 = half(rn, true) as i64 * half(m2, true) as i64;
                let mut r = if matches!(i.op, Op::Smuad | Op::Smlad) {
                    p1 + p2
                } else {
                    p1 - p2
                };
                if matches!(i.op, Op::Smlad | Op::Smlsd) {
                    r += ra as i32 as i64;
                }
                self.cpu.r[rd] = r as u32;
                // Q is set when the 32-bit result overflowed (the subtracting forms cannot).
                self.cpu.q |= r != r as i32 as i64;
            }
            Op::Smlald | Op::Smlsld => {
                let p1 = half(rn, false) as i64 * half(m2, false) as i64;
                let p2 = half(rn, true) as i64 * half(m2, true) as i64;
                let p = if i.op == Op::Smlald { p1 + p2 } else { p1 - p2 };
                let v = (p as u64).wrapping_add(self.long_acc(i));
                self.long_result(i, v)
            }
            Op::Smmul | Op::Smmla | Op::Smmls => {
                let p = rn as i32 as i64 * rm as i32 as i64;
                let acc = (ra as i64) << 32;
                let mut v = match i.op {
                    Op::Smmul => p,
                    Op::Smmla => acc.wrapping_add(p),
                    _ => acc.wrapping_sub(p),
                };
                if x {
                    v = v.wrapping_add(0x8000_0000);
                }
                self.cpu.r[rd] = (v >> 32) as u32;
            }
            Op::Usad8 | Op::Usada8 => {
                let mut sum = if i.op == Op::Usada8 { ra } else { 0 };
                for k in 0..4 {
                    let a = (rn >> (8 * k)) & 0xff;
                    let b = (rm >> (8 * k)) & 0xff;
                    sum = sum.wrapping_add(a.abs_diff(b));
                }
                self.cpu.r[rd] = sum;
            }
            _ => unreachable!("exec_multiply called for {:?}", i.op),
        }
    }

    /// SDIV/UDIV (A7.7.127, A7.7.195): division by zero gives 0, or a UsageFault (DIVBYZERO)
    /// when CCR.DIV_0_TRP is set. Results round towards zero.
    pub(crate) fn exec_divide(&mut self, i: &Insn) -> Result<(), Trap> {
        let n = self.cpu.r[reg(i.rn)];
        let m = self.cpu.r[reg(i.rm)];
        // Quotient bits the divider must produce (its early termination, for the timing model).
        let (nm, mm) = if i.op == Op::Sdiv {
            ((n as i32).unsigned_abs(), (m as i32).unsigned_abs())
        } else {
            (n, m)
        };
        self.timing_aux = if mm == 0 || mm > nm {
            0
        } else {
            mm.leading_zeros() - nm.leading_zeros() + 1
        };
        if m == 0 {
            if self.sys.div0_trap {
                return Err(Trap::Usage(UsageFault::DivideByZero));
            }
            self.cpu.r[reg(i.rd)] = 0;
            return Ok(());
        }
        self.cpu.r[reg(i.rd)] = if i.op == Op::Sdiv {
            (n as i32).wrapping_div(m as i32) as u32
        } else {
            n / m
        };
        Ok(())
    }
}
