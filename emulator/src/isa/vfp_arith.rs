//! Floating-point data processing (A6.4): VMLA/VMLS/VNMLA/VNMLS, VMUL/VNMUL, VADD/VSUB, VDIV,
//! VFMA/VFMS/VFNMA/VFNMS, VMOV (immediate, register), VABS, VNEG, VSQRT, VCMP(E); the VCVT
//! forms are decoded here and live in [`super::vfp_convert`]. Single precision only (FPv4-SP):
//! every double-precision (sz = 1) data-processing encoding is UNDEFINED.

use super::{bit, bits, vfp_convert, Insn, Op, F_OPT, F_OPT2};
use crate::fp::{self, FpControl};
use crate::machine::{Machine, Trap};
use crate::timing::Timing;

/// S register number from a 4-bit field and its extra bit: `Vx:X` (A6.3).
pub(crate) fn sreg(v: u32, x: bool) -> u32 {
    (v << 1) | x as u32
}

/// Floating-point data-processing instructions (A6.4).
pub(crate) fn decode(w: u32) -> Insn {
    let opc1 = (bits(w, 23, 23) << 2) | bits(w, 21, 20);
    let opc2 = bits(w, 19, 16);
    let opc3 = bits(w, 7, 6);
    let op = bit(w, 6);
    if bit(w, 8) {
        // sz = 1: double precision does not exist on FPv4-SP.
        return Insn::undefined(4, w);
    }
    let d = sreg(bits(w, 15, 12), bit(w, 22));
    let n = sreg(bits(w, 19, 16), bit(w, 7));
    let m = sreg(bits(w, 3, 0), bit(w, 5));
    let three = |o: Op| Insn::new(o, 4).regs(d, n, m);
    match opc1 {
        0b000 => three(if op { Op::Vmls } else { Op::Vmla }), // VMLA_T2 / VMLS_T2 (A7.7.240)
        0b001 => three(if op { Op::Vnmla } else { Op::Vnmls }), // VNMLA_T1 / VNMLS_T1 (A7.7.253)
        0b010 => three(if op { Op::Vnmul } else { Op::Vmul }), // VNMUL_T2 (A7.7.253), VMUL_T2 (A7.7.251)
        0b011 => three(if op { Op::Vsub } else { Op::Vadd }), // VSUB_T2 (A7.7.262), VADD_T2 (A7.7.221)
        0b100 if !op => three(Op::Vdiv),                      // VDIV_T1 (A7.7.229)
        0b101 => three(if op { Op::Vfnma } else { Op::Vfnms }), // VFNMA/VFNMS_T1 (A7.7.231)
        0b110 => three(if op { Op::Vfms } else { Op::Vfma }), // VFMA/VFMS_T1 (A7.7.230)
        0b111 => {
            if opc3 & 1 == 0 {
                // VMOV_imm_T2 (A7.7.236)
                if bits(w, 7, 4) & 0b1010 != 0 {
                    return Insn::undefined(4, w);
                }
                let imm8 = (opc2 << 4) | bits(w, 3, 0);
                return Insn::new(Op::VmovImm, 4)
                    .regs(d, 0, 0)
                    .imm(fp::expand_imm(imm8));
            }
            let two = |o: Op| Insn::new(o, 4).regs(d, 0, m);
            match (opc2, opc3) {
                (0b0000, 0b01) => two(Op::VmovReg), // VMOV_reg_T2 (A7.7.237)
                (0b0000, 0b11) => two(Op::Vabs),    // VABS_T2 (A7.7.220)
                (0b0001, 0b01) => two(Op::Vneg),    // VNEG_T2 (A7.7.252)
                (0b0001, 0b11) => two(Op::Vsqrt),   // VSQRT_T1 (A7.7.258)
                (0b0100 | 0b0101, _) => {
                    // VCMP{E}_T1 / _T2 (A7.7.222): T2 compares with +0.0 and needs Vm = 0.
                    let zero = opc2 == 0b0101;
                    if zero && (bits(w, 5, 5) != 0 || bits(w, 3, 0) != 0) {
                        return Insn::unpredictable(4, w);
                    }
                    two(Op::Vcmp)
                        .flag_if(bit(w, 7), F_OPT)
                        .flag_if(zero, F_OPT2)
                }
                _ => vfp_convert::decode(w, opc2, d, m),
            }
        }
        _ => Insn::undefined(4, w),
    }
}

impl<T: Timing> Machine<T> {
    /// Current FPSCR controls.
    #[inline(always)]
    pub(crate) fn fp_control(&self) -> FpControl {
        FpControl::from_fpscr(self.fpu.fpscr)
    }

    /// Accumulate exception flags into FPSCR: FPv4-SP has no floating-point traps (A2.5.3).
    #[inline(always)]
    pub(crate) fn fp_flags(&mut self, flags: u32) {
        self.fpu.fpscr |= flags;
    }

    /// Execute any floating-point instruction (after the FP checks of B1.5.7).
    pub(crate) fn exec_vfp(&mut self, i: &Insn) -> Result<(), Trap> {
        if !self.sys.fp_ready {
            self.fp_check()?;
        }
        let ctl = self.fp_control();
        let mut flags = 0u32;
        let s = &self.fpu.s;
        let (d, n, m) = (
            s[i.rd as usize & 31],
            s[i.rn as usize & 31],
            s[i.rm as usize & 31],
        );
        let neg = |x: u32| x ^ 0x8000_0000;
        let result = match i.op {
            Op::Vadd => fp::add(n, m, ctl, &mut flags),
            Op::Vsub => fp::sub(n, m, ctl, &mut flags),
            Op::Vmul => fp::mul(n, m, ctl, &mut flags),
            Op::Vnmul => neg(fp::mul(n, m, ctl, &mut flags)),
            Op::Vdiv => fp::div(n, m, ctl, &mut flags),
            // Chained multiply-accumulate: the product is rounded first (A7.7.240, A7.7.253).
            Op::Vmla => {
                let p = fp::mul(n, m, ctl, &mut flags);
                fp::add(d, p, ctl, &mut flags)
            }
            Op::Vmls => {
                let p = fp::mul(n, m, ctl, &mut flags);
                fp::add(d, neg(p), ctl, &mut flags)
            }
            Op::Vnmla => {
                let p = fp::mul(n, m, ctl, &mut flags);
                fp::add(neg(d), neg(p), ctl, &mut flags)
            }
            Op::Vnmls => {
                let p = fp::mul(n, m, ctl, &mut flags);
                fp::add(neg(d), p, ctl, &mut flags)
            }
            // Fused forms (A7.7.230-231): FPMulAdd(addend, op1, op2).
            Op::Vfma => fp::mul_add(d, n, m, ctl, &mut flags),
            Op::Vfms => fp::mul_add(d, neg(n), m, ctl, &mut flags),
            Op::Vfnma => fp::mul_add(neg(d), neg(n), m, ctl, &mut flags),
            Op::Vfnms => fp::mul_add(neg(d), n, m, ctl, &mut flags),
            Op::Vsqrt => fp::sqrt(m, ctl, &mut flags),
            // VABS/VNEG/VMOV never raise exceptions or touch NaNs beyond the sign bit.
            Op::Vabs => m & 0x7fff_ffff,
            Op::Vneg => neg(m),
            Op::VmovReg => m,
            Op::VmovImm => i.imm,
            Op::Vcmp => {
                let other = if i.flags & F_OPT2 != 0 { 0 } else { m };
                let nzcv = fp::compare(d, other, i.flags & F_OPT != 0, ctl, &mut flags);
                self.fpu.fpscr = (self.fpu.fpscr & 0x0fff_ffff) | (nzcv << 28);
                self.fp_flags(flags);
                return Ok(());
            }
            Op::VcvtToInt | Op::VcvtFromInt | Op::VcvtFixed | Op::VcvtHalf => {
                return self.exec_vcvt(i);
            }
            Op::Vldr | Op::Vstr | Op::Vldm | Op::Vstm => return self.exec_vfp_load_store(i),
            Op::VmovToS | Op::VmovFromS | Op::Vmov2ToS | Op::Vmov2FromS | Op::Vmrs | Op::Vmsr => {
                return self.exec_vfp_move(i);
            }
            _ => unreachable!("exec_vfp called for {:?}", i.op),
        };
        self.fpu.s[i.rd as usize & 31] = result;
        self.fp_flags(flags);
        Ok(())
    }
}
