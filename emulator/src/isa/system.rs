//! System instructions: MRS/MSR (B5.2.2-3), CPS (B5.2.1), hints (A5.2.5, A5.3.4), barriers,
//! CLREX, BKPT (with ARM semihosting, BKPT 0xAB).

use super::{bits, Insn, Op};
use crate::machine::{reg, Machine, StopReason, Trap};
use crate::timing::Timing;

/// Hint instructions, 16-bit (A5.2.5 "If-Then, and hints") and 32-bit (A5.3.4): NOP, YIELD,
/// WFE, WFI, SEV. Unallocated hints execute as NOP.
pub(crate) fn decode_hint(len: u8, hint: u32, _v7: bool) -> Insn {
    match hint {
        0 => Insn::new(Op::Nop, len), // NOP (A7.7.88)
        1 => Insn::new(Op::Nop, len), // YIELD (A7.7.263): single core, nothing to yield to
        2 => Insn::new(Op::Wfe, len), // WFE (A7.7.261)
        3 => Insn::new(Op::Wfi, len), // WFI (A7.7.262)
        4 => Insn::new(Op::Sev, len), // SEV (A7.7.129)
        _ => Insn::new(Op::Nop, len),
    }
}

/// MSR/MRS, hints, barriers and CLREX from the 32-bit "branches and misc control" space (A5.3.4).
/// SYSm values of the special registers MRS/MSR may name (B5.1.1).
fn valid_sysm(sysm: u32) -> bool {
    matches!(sysm, 0..=3 | 5..=9 | 16..=20)
}

pub(crate) fn decode32_misc_control(w: u32) -> Insn {
    let op = bits(w, 26, 20);
    // Hints, barriers and MRS have (1)(1)(1)(1) in bits 19..16; all have (0) in bit 13.
    let ones_19_16 = bits(w, 19, 16) == 0b1111;
    if bits(w, 13, 13) != 0 {
        return Insn::unpredictable(4, w);
    }
    match op {
        0b0111000 | 0b0111001 => {
            // MSR_reg_T1 (B5.2.3): mask = bits 11..10, SYSm = bits 7..0.
            let rn = bits(w, 19, 16);
            if rn == 13 || rn == 15 || bits(w, 9, 8) != 0 || !valid_sysm(bits(w, 7, 0)) {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Msr, 4)
                .regs(0, rn, 0)
                .imm(bits(w, 7, 0))
                .shift(bits(w, 11, 10))
        }
        0b0111010 => {
            if bits(w, 10, 8) != 0 {
                return Insn::undefined(4, w);
            }
            if !ones_19_16 {
                return Insn::unpredictable(4, w);
            }
            let hint = bits(w, 7, 0);
            if hint & 0xf0 == 0xf0 {
                return Insn::new(Op::Nop, 4); // DBG_T1 (A7.7.28): a hint to the debug system
            }
            decode_hint(4, hint, true)
        }
        0b0111011 if !ones_19_16 || bits(w, 11, 8) != 0b1111 => Insn::unpredictable(4, w),
        0b0111011 => match bits(w, 7, 4) {
            0b0010 => Insn::new(Op::Clrex, 4), // CLREX_T1 (A7.7.23)
            // DSB_T1, DMB_T1, ISB_T1 (A7.7.34, A7.7.33, A7.7.37): in-order core, nothing buffered.
            0b0100..=0b0110 => Insn::new(Op::Nop, 4),
            _ => Insn::undefined(4, w),
        },
        0b0111110 | 0b0111111 => {
            // MRS_T1 (B5.2.2)
            let rd = bits(w, 11, 8);
            if rd == 13 || rd == 15 || !ones_19_16 || !valid_sysm(bits(w, 7, 0)) {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Mrs, 4).regs(rd, 0, 0).imm(bits(w, 7, 0))
        }
        _ => Insn::undefined(4, w),
    }
}

impl<T: Timing> Machine<T> {
    /// True when the active stack pointer is the PSP (Thread mode with CONTROL.SPSEL).
    #[inline]
    pub(crate) fn using_psp(&self) -> bool {
        self.sys.ipsr == 0 && self.sys.control & 2 != 0
    }

    /// Privileged execution: Handler mode or CONTROL.nPRIV clear.
    #[inline]
    pub(crate) fn privileged(&self) -> bool {
        self.sys.ipsr != 0 || self.sys.control & 1 == 0
    }

    /// Switch the active stack pointer (r13) between MSP and PSP.
    pub(crate) fn select_sp(&mut self, psp: bool) {
        let was_psp = self.using_psp();
        if was_psp == psp {
            return;
        }
        if was_psp {
            self.sys.psp = self.cpu.r[13];
            self.cpu.r[13] = self.sys.msp;
        } else {
            self.sys.msp = self.cpu.r[13];
            self.cpu.r[13] = self.sys.psp;
        }
    }

    /// MRS (B5.2.2).
    pub(crate) fn exec_mrs(&mut self, i: &Insn) {
        let sysm = i.imm;
        let v = match sysm {
            0..=7 => {
                let mut v = 0;
                if sysm & 1 != 0 {
                    v |= self.sys.ipsr & 0x1ff;
                }
                if sysm & 4 == 0 {
                    v |= self.cpu.apsr()
                        & if self.arch == super::Arch::V7EM {
                            0xf80f_0000
                        } else {
                            0xf000_0000
                        };
                }
                v
            }
            8 => {
                if self.using_psp() {
                    self.sys.msp
                } else {
                    self.cpu.r[13]
                }
            }
            9 => {
                if self.using_psp() {
                    self.cpu.r[13]
                } else {
                    self.sys.psp
                }
            }
            16 => self.sys.primask as u32,
            17 | 18 => self.sys.basepri as u32,
            19 => self.sys.faultmask as u32,
            20 => self.sys.control,
            _ => 0,
        };
        self.cpu.r[reg(i.rd)] = v;
    }

    /// MSR (B5.2.3).
    pub(crate) fn exec_msr(&mut self, i: &Insn) {
        let v = self.cpu.r[reg(i.rn)];
        let sysm = i.imm;
        let privileged = self.privileged();
        match sysm {
            0..=7 if sysm & 4 == 0 => {
                if self.arch == super::Arch::V6M {
                    self.cpu.set_apsr(v, true, false);
                } else {
                    self.cpu.set_apsr(v, i.shift & 2 != 0, i.shift & 1 != 0);
                }
            }
            8 if privileged => {
                if self.using_psp() {
                    self.sys.msp = v & !3;
                } else {
                    self.cpu.r[13] = v & !3;
                }
            }
            9 if privileged => {
                if self.using_psp() {
                    self.cpu.r[13] = v & !3;
                } else {
                    self.sys.psp = v & !3;
                }
            }
            16 if privileged => self.sys.primask = v & 1 != 0,
            17 if privileged => self.sys.basepri = self.sys.mask_priority(v as u8),
            18 if privileged => {
                let p = self.sys.mask_priority(v as u8);
                if p != 0 && (p < self.sys.basepri || self.sys.basepri == 0) {
                    self.sys.basepri = p;
                }
            }
            19 if privileged && self.sys.execution_priority() > -1 => {
                self.sys.faultmask = v & 1 != 0
            }
            20 if privileged => {
                let mut control = (self.sys.control & !1) | (v & 1);
                if self.sys.ipsr == 0 {
                    let psp = v & 2 != 0;
                    self.select_sp(psp);
                    control = (control & !2) | (v & 2);
                }
                if self.core == crate::CoreKind::M4F {
                    control = (control & !4) | (v & 4);
                    self.sys.fp_ready = false;
                }
                self.sys.control = control;
            }
            _ => {}
        }
        // Masks may have dropped below a pending exception.
        self.next_check = 0;
    }

    /// CPSIE/CPSID (B5.2.1).
    pub(crate) fn exec_cps(&mut self, i: &Insn) {
        if !self.privileged() {
            return;
        }
        let disable = i.imm & 1 != 0;
        if i.imm & 2 != 0 {
            self.sys.primask = disable;
        }
        if i.imm & 4 != 0 && (!disable || self.sys.execution_priority() > -1) {
            self.sys.faultmask = disable;
        }
        self.next_check = 0;
    }

    /// BKPT (A7.7.17): 0xAB is a semihosting call; anything else stops the run.
    pub(crate) fn exec_bkpt(&mut self, i: &Insn) -> Result<(), Trap> {
        let pc = self.cpu.pc.wrapping_sub(2);
        if i.imm == 0xab {
            return self.semihosting_call();
        }
        Err(Trap::Stop(StopReason::Breakpoint {
            pc,
            imm: i.imm as u8,
        }))
    }
}
