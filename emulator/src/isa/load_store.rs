//! Load/store single data item, dual, exclusive and table branch (A5.2.4, A5.3.7-A5.3.10,
//! A5.3.8).

use super::{bit, bits, Insn, Op, F_INDEX, F_OPT, F_WBACK, PC, R_ZERO, SP};
use crate::machine::{reg, Machine, Trap, UsageFault};
use crate::timing::Timing;

/// Offset addressing: `[Rn, #imm]` without write-back.
const OFFSET: u8 = F_INDEX;

/// 16-bit load/store (A5.2.4) and LDR (literal) T1.
pub(crate) fn decode16(pc: u32, hw: u32) -> Insn {
    let rt = bits(hw, 2, 0);
    let rn = bits(hw, 5, 3);
    let imm5 = bits(hw, 10, 6);
    match bits(hw, 15, 11) {
        0b01001 => {
            // LDR_lit_T1 (A7.7.43): address resolved at decode.
            let addr = ((pc + 4) & !3).wrapping_add(bits(hw, 7, 0) << 2);
            Insn::new(Op::LdrImm, 2)
                .regs(bits(hw, 10, 8), R_ZERO as u32, 0)
                .imm(addr)
                .flags(OFFSET)
        }
        0b01010 | 0b01011 => {
            // Register offset, A5.2.4 opB: STR/STRH/STRB/LDRSB/LDR/LDRH/LDRB/LDRSH (reg) T1.
            let op = match bits(hw, 11, 9) {
                0 => Op::StrReg,
                1 => Op::StrhReg,
                2 => Op::StrbReg,
                3 => Op::LdrsbReg,
                4 => Op::LdrReg,
                5 => Op::LdrhReg,
                6 => Op::LdrbReg,
                _ => Op::LdrshReg,
            };
            Insn::new(op, 2).regs(rt, rn, bits(hw, 8, 6))
        }
        // STR_imm_T1 / LDR_imm_T1 (A7.7.158, A7.7.42)
        0b01100 => Insn::new(Op::StrImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5 << 2)
            .flags(OFFSET),
        0b01101 => Insn::new(Op::LdrImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5 << 2)
            .flags(OFFSET),
        // STRB_imm_T1 / LDRB_imm_T1 (A7.7.160, A7.7.45)
        0b01110 => Insn::new(Op::StrbImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5)
            .flags(OFFSET),
        0b01111 => Insn::new(Op::LdrbImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5)
            .flags(OFFSET),
        // STRH_imm_T1 / LDRH_imm_T1 (A7.7.167, A7.7.54)
        0b10000 => Insn::new(Op::StrhImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5 << 1)
            .flags(OFFSET),
        0b10001 => Insn::new(Op::LdrhImm, 2)
            .regs(rt, rn, 0)
            .imm(imm5 << 1)
            .flags(OFFSET),
        // STR_imm_T2 / LDR_imm_T2, SP-relative
        0b10010 => Insn::new(Op::StrImm, 2)
            .regs(bits(hw, 10, 8), SP as u32, 0)
            .imm(bits(hw, 7, 0) << 2)
            .flags(OFFSET),
        _ => Insn::new(Op::LdrImm, 2)
            .regs(bits(hw, 10, 8), SP as u32, 0)
            .imm(bits(hw, 7, 0) << 2)
            .flags(OFFSET),
    }
}

/// Store single data item (A5.3.10).
pub(crate) fn decode32_store(w: u32) -> Insn {
    let op1 = bits(w, 23, 21);
    let rn = bits(w, 19, 16);
    let rt = bits(w, 15, 12);
    let (imm_op, reg_op) = match op1 & 0b011 {
        0b00 => (Op::StrbImm, Op::StrbReg),
        0b01 => (Op::StrhImm, Op::StrhReg),
        0b10 => (Op::StrImm, Op::StrReg),
        _ => return Insn::undefined(4, w),
    };
    if rn == 15 || op1 == 0b111 {
        return Insn::undefined(4, w);
    }
    let byte_or_half = op1 & 0b011 != 0b10;
    if rt == 15 || (byte_or_half && rt == 13) {
        return Insn::unpredictable(4, w);
    }
    if op1 & 0b100 != 0 {
        // STR_imm_T3, STRB_imm_T2, STRH_imm_T2: [Rn, #imm12]
        Insn::new(imm_op, 4)
            .regs(rt, rn, 0)
            .imm(bits(w, 11, 0))
            .flags(OFFSET)
    } else if bits(w, 11, 6) == 0 {
        // STR_reg_T2, STRB_reg_T2, STRH_reg_T2: [Rn, Rm, LSL #imm2]
        let rm = bits(w, 3, 0);
        if rm == 13 || rm == 15 {
            return Insn::unpredictable(4, w);
        }
        Insn::new(reg_op, 4).regs(rt, rn, rm).imm(bits(w, 5, 4))
    } else if bit(w, 11) {
        // STR_imm_T4, STRB_imm_T3, STRH_imm_T3 (and STRT/STRBT/STRHT): imm8 with P/U/W.
        imm8_indexed(w, imm_op, rt, rn)
    } else {
        Insn::undefined(4, w)
    }
}

/// The `[Rn, #+/-imm8]`, `[Rn, #+/-imm8]!`, `[Rn], #+/-imm8` forms (P, U, W in bits 10..8).
fn imm8_indexed(w: u32, op: Op, rt: u32, rn: u32) -> Insn {
    let p = bit(w, 10);
    let u = bit(w, 9);
    let wb = bit(w, 8);
    if !p && !wb {
        return Insn::undefined(4, w);
    }
    if wb && rn == rt {
        return Insn::unpredictable(4, w);
    }
    let imm8 = bits(w, 7, 0);
    let off = if u { imm8 } else { imm8.wrapping_neg() };
    Insn::new(op, 4)
        .regs(rt, rn, 0)
        .imm(off)
        .flag_if(p, F_INDEX)
        .flag_if(wb, F_WBACK)
}

/// Load byte / halfword / word and memory hints (A5.3.7, A5.3.8's siblings A5.3.9).
pub(crate) fn decode32_load(pc: u32, w: u32) -> Insn {
    let signed = bit(w, 24);
    let up = bit(w, 23);
    let size = bits(w, 22, 21);
    let rn = bits(w, 19, 16);
    let rt = bits(w, 15, 12);
    let (imm_op, reg_op) = match (size, signed) {
        (0, false) => (Op::LdrbImm, Op::LdrbReg),
        (0, true) => (Op::LdrsbImm, Op::LdrsbReg),
        (1, false) => (Op::LdrhImm, Op::LdrhReg),
        (1, true) => (Op::LdrshImm, Op::LdrshReg),
        (2, false) => (Op::LdrImm, Op::LdrReg),
        _ => return Insn::undefined(4, w),
    };
    let hint = rt == 15 && size != 2;
    let insn = if rn == 15 {
        // LDR/LDRB/LDRH/LDRSB/LDRSH (literal), PLD/PLI (literal).
        let base = (pc + 4) & !3;
        let imm12 = bits(w, 11, 0);
        let addr = if up {
            base.wrapping_add(imm12)
        } else {
            base.wrapping_sub(imm12)
        };
        Insn::new(imm_op, 4)
            .regs(rt, R_ZERO as u32, 0)
            .imm(addr)
            .flags(OFFSET)
    } else if up {
        // imm12 forms: LDR_imm_T3, LDRB_imm_T2, LDRH_imm_T2, LDRSB_imm_T1, LDRSH_imm_T1.
        Insn::new(imm_op, 4)
            .regs(rt, rn, 0)
            .imm(bits(w, 11, 0))
            .flags(OFFSET)
    } else if bits(w, 11, 6) == 0 {
        // Register forms T2 (LDR_reg_T2 ...): [Rn, Rm, LSL #imm2]
        let rm = bits(w, 3, 0);
        if rm == 13 || rm == 15 {
            return Insn::unpredictable(4, w);
        }
        Insn::new(reg_op, 4).regs(rt, rn, rm).imm(bits(w, 5, 4))
    } else if bit(w, 11) {
        // imm8 forms with P/U/W (and the unprivileged LDRT family, P=1 U=1 W=0).
        if hint && !(bit(w, 10) && !bit(w, 9) && !bit(w, 8)) {
            // Only PLD/PLI [Rn, #-imm8] is a hint; other Rt == 15 forms are UNPREDICTABLE.
            return Insn::unpredictable(4, w);
        }
        imm8_indexed(w, imm_op, rt, rn)
    } else {
        return Insn::undefined(4, w);
    };
    if insn.is_undefined() {
        return insn;
    }
    if hint {
        // PLD/PLI/unallocated hints (A7.7.98-A7.7.101): no architectural effect.
        return Insn::new(Op::Nop, 4);
    }
    if rt == 13 && size != 2 {
        return Insn::unpredictable(4, w);
    }
    insn
}

/// Load/store dual or exclusive, table branch (A5.3.8).
pub(crate) fn decode32_dual_exclusive_table(pc: u32, w: u32) -> Insn {
    let op1 = bits(w, 24, 23);
    let op2 = bits(w, 21, 20);
    let op3 = bits(w, 7, 4);
    let rn = bits(w, 19, 16);
    let rt = bits(w, 15, 12);
    let rt2 = bits(w, 11, 8);
    let bad = |r: u32| r == 13 || r == 15;
    // The (1) bits of the exclusive and table-branch encodings: anything else is UNPREDICTABLE.
    let ones_11_8 = rt2 == 0b1111;
    let ones_3_0 = bits(w, 3, 0) == 0b1111;
    match (op1, op2) {
        (0b00, 0b00) => {
            // STREX_T1 (A7.7.167): Rd = bits 11..8.
            let rd = rt2;
            if bad(rd) || bad(rt) || rn == 15 || rd == rn || rd == rt {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Strex, 4)
                .regs(rd, rn, 0)
                .ra(rt)
                .imm(bits(w, 7, 0) << 2)
                .shift(4)
        }
        (0b00, 0b01) => {
            // LDREX_T1 (A7.7.52)
            if bad(rt) || rn == 15 || !ones_11_8 {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Ldrex, 4)
                .regs(0, rn, 0)
                .ra(rt)
                .imm(bits(w, 7, 0) << 2)
                .shift(4)
        }
        (0b01, 0b00) => {
            // STREXB_T1 / STREXH_T1 (A7.7.168, A7.7.169): Rd = bits 3..0.
            let size = match op3 {
                0b0100 => 1,
                0b0101 => 2,
                _ => return Insn::undefined(4, w),
            };
            let rd = bits(w, 3, 0);
            if bad(rd) || bad(rt) || rn == 15 || rd == rn || rd == rt || !ones_11_8 {
                return Insn::unpredictable(4, w);
            }
            Insn::new(Op::Strex, 4).regs(rd, rn, 0).ra(rt).shift(size)
        }
        (0b01, 0b01) => match op3 {
            0b0000 | 0b0001 => {
                // TBB_T1 / TBH_T1 (A7.7.185)
                let rm = bits(w, 3, 0);
                if rn == 13 || bad(rm) || bits(w, 15, 8) != 0b1111_0000 {
                    return Insn::unpredictable(4, w);
                }
                Insn::new(Op::Tbb, 4)
                    .regs(0, rn, rm)
                    .flag_if(op3 == 1, F_OPT)
            }
            0b0100 | 0b0101 => {
                // LDREXB_T1 / LDREXH_T1 (A7.7.53, A7.7.54)
                if bad(rt) || rn == 15 || !ones_11_8 || !ones_3_0 {
                    return Insn::unpredictable(4, w);
                }
                Insn::new(Op::Ldrex, 4)
                    .regs(0, rn, 0)
                    .ra(rt)
                    .shift(if op3 == 0b0100 { 1 } else { 2 })
            }
            _ => Insn::undefined(4, w),
        },
        _ => {
            // LDRD_imm_T1 / LDRD_lit_T1 / STRD_imm_T1 (A7.7.50, A7.7.51, A7.7.166)
            let p = bit(w, 24);
            let u = bit(w, 23);
            let wb = bit(w, 21);
            let load = bit(w, 20);
            let imm = bits(w, 7, 0) << 2;
            let off = if u { imm } else { imm.wrapping_neg() };
            if !p && !wb {
                return Insn::undefined(4, w);
            }
            if load {
                if bad(rt) || bad(rt2) || rt == rt2 || (wb && (rn == rt || rn == rt2)) {
                    return Insn::unpredictable(4, w);
                }
                if rn == 15 {
                    if wb {
                        return Insn::unpredictable(4, w);
                    }
                    let addr = ((pc + 4) & !3).wrapping_add(off);
                    return Insn::new(Op::Ldrd, 4)
                        .regs(rt, R_ZERO as u32, 0)
                        .ra(rt2)
                        .imm(addr)
                        .flags(OFFSET);
                }
                Insn::new(Op::Ldrd, 4)
                    .regs(rt, rn, 0)
                    .ra(rt2)
                    .imm(off)
                    .flag_if(p, F_INDEX)
                    .flag_if(wb, F_WBACK)
            } else {
                if bad(rt) || bad(rt2) || rn == 15 || (wb && (rn == rt || rn == rt2)) {
                    return Insn::unpredictable(4, w);
                }
                Insn::new(Op::Strd, 4)
                    .regs(rt, rn, 0)
                    .ra(rt2)
                    .imm(off)
                    .flag_if(p, F_INDEX)
                    .flag_if(wb, F_WBACK)
            }
        }
    }
}

impl<T: Timing> Machine<T> {
    /// Alignment check for LDR/STR (halfword, word): ARMv6-M faults on any unaligned access,
    /// ARMv7-M only when CCR.UNALIGN_TRP is set (A3.2.1).
    #[inline(always)]
    fn check_align(&self, addr: u32, size: u32) -> Result<(), Trap> {
        if addr & (size - 1) != 0 && self.sys.unaligned_trap {
            return Err(Trap::Usage(UsageFault::Unaligned { addr }));
        }
        Ok(())
    }

    /// Write a loaded value to Rt; a load to the PC is an interworking branch (LoadWritePC).
    #[inline(always)]
    fn load_write(&mut self, rt: u8, v: u32) -> Result<(), Trap> {
        if rt == PC {
            self.bx_write_pc(v)
        } else {
            self.cpu.r[rt as usize] = v;
            Ok(())
        }
    }

    /// Immediate-offset loads and stores of every size (LDR/LDRB/LDRH/LDRSB/LDRSH/STR/STRB/STRH).
    #[inline(always)]
    pub(crate) fn exec_load_store_imm(&mut self, i: &Insn) -> Result<(), Trap> {
        // Compute the address without committing write-back until the access has succeeded.
        let base = self.cpu.r[reg(i.rn)];
        let offset_addr = base.wrapping_add(i.imm);
        let addr = if i.flags & F_INDEX != 0 {
            offset_addr
        } else {
            base
        };
        self.load_store(i, addr)?;
        if i.flags & F_WBACK != 0 {
            self.cpu.r[reg(i.rn)] = offset_addr;
        }
        Ok(())
    }

    /// Register-offset loads and stores: address = Rn + (Rm << imm2).
    #[inline(always)]
    pub(crate) fn exec_load_store_reg(&mut self, i: &Insn) -> Result<(), Trap> {
        let addr = self.cpu.r[reg(i.rn)].wrapping_add(self.cpu.r[reg(i.rm)] << i.imm);
        self.load_store(i, addr)
    }

    #[inline(always)]
    fn load_store(&mut self, i: &Insn, addr: u32) -> Result<(), Trap> {
        let rt = reg(i.rd);
        match i.op {
            Op::LdrImm | Op::LdrReg => {
                self.check_align(addr, 4)?;
                let v = self.read32(addr)?;
                self.load_write(i.rd, v)?;
            }
            Op::LdrbImm | Op::LdrbReg => self.cpu.r[rt] = self.read8(addr)? as u32,
            Op::LdrsbImm | Op::LdrsbReg => self.cpu.r[rt] = self.read8(addr)? as i8 as u32,
            Op::LdrhImm | Op::LdrhReg => {
                self.check_align(addr, 2)?;
                self.cpu.r[rt] = self.read16(addr)? as u32;
            }
            Op::LdrshImm | Op::LdrshReg => {
                self.check_align(addr, 2)?;
                self.cpu.r[rt] = self.read16(addr)? as i16 as u32;
            }
            Op::StrImm | Op::StrReg => {
                self.check_align(addr, 4)?;
                self.write32(addr, self.cpu.r[rt])?;
            }
            Op::StrbImm | Op::StrbReg => self.write8(addr, self.cpu.r[rt] as u8)?,
            _ => {
                self.check_align(addr, 2)?;
                self.write16(addr, self.cpu.r[rt] as u16)?;
            }
        }
        Ok(())
    }

    /// LDRD/STRD (A7.7.50, A7.7.166): word-aligned, two words.
    pub(crate) fn exec_load_store_dual(&mut self, i: &Insn) -> Result<(), Trap> {
        let base = self.cpu.r[reg(i.rn)];
        let offset_addr = base.wrapping_add(i.imm);
        let addr = if i.flags & F_INDEX != 0 {
            offset_addr
        } else {
            base
        };
        if addr & 3 != 0 {
            return Err(Trap::Usage(UsageFault::Unaligned { addr }));
        }
        if i.op == Op::Ldrd {
            let lo = self.read32(addr)?;
            let hi = self.read32(addr.wrapping_add(4))?;
            self.cpu.r[reg(i.rd)] = lo;
            self.cpu.r[reg(i.ra)] = hi;
        } else {
            self.write32(addr, self.cpu.r[reg(i.rd)])?;
            self.write32(addr.wrapping_add(4), self.cpu.r[reg(i.ra)])?;
        }
        if i.flags & F_WBACK != 0 {
            self.cpu.r[reg(i.rn)] = offset_addr;
        }
        Ok(())
    }

    /// LDREX{B,H} (A7.7.52-54): load and arm the local exclusive monitor.
    pub(crate) fn exec_ldrex(&mut self, i: &Insn) -> Result<(), Trap> {
        let addr = self.cpu.r[reg(i.rn)].wrapping_add(i.imm);
        let size = i.shift as u32;
        if addr & (size - 1) != 0 {
            return Err(Trap::Usage(UsageFault::Unaligned { addr }));
        }
        let v = match size {
            1 => self.read8(addr)? as u32,
            2 => self.read16(addr)? as u32,
            _ => self.read32(addr)?,
        };
        self.cpu.r[reg(i.ra)] = v;
        self.exclusive = Some(addr);
        Ok(())
    }

    /// STREX{B,H} (A7.7.167-169): store only if the monitor is armed for this address; Rd = 0 on success.
    pub(crate) fn exec_strex(&mut self, i: &Insn) -> Result<(), Trap> {
        let addr = self.cpu.r[reg(i.rn)].wrapping_add(i.imm);
        let size = i.shift as u32;
        if addr & (size - 1) != 0 {
            return Err(Trap::Usage(UsageFault::Unaligned { addr }));
        }
        let ok = self.exclusive == Some(addr);
        if ok {
            let v = self.cpu.r[reg(i.ra)];
            match size {
                1 => self.write8(addr, v as u8)?,
                2 => self.write16(addr, v as u16)?,
                _ => self.write32(addr, v)?,
            }
        }
        self.exclusive = None;
        self.cpu.r[reg(i.rd)] = (!ok) as u32;
        Ok(())
    }

    /// TBB/TBH (A7.7.185): PC = PC + 2 * table[Rm].
    pub(crate) fn exec_table_branch(&mut self, i: &Insn) -> Result<(), Trap> {
        let base = self.cpu.r[reg(i.rn)];
        let index = self.cpu.r[reg(i.rm)];
        let halfwords = if i.flags & F_OPT != 0 {
            self.read16(base.wrapping_add(index << 1))? as u32
        } else {
            self.read8(base.wrapping_add(index))? as u32
        };
        self.cpu.pc = self.cpu.r[PC as usize].wrapping_add(halfwords << 1);
        Ok(())
    }
}
