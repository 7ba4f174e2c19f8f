//! Load/store multiple: LDM/STM/LDMDB/STMDB and PUSH/POP (A5.3.5, A7.7.40-41, A7.7.156-157,
//! A7.7.99-101).

use super::{bit, bits, Insn, Op, F_OPT, F_WBACK, PC, SP};
use crate::machine::{reg, Machine, Trap, UsageFault};
use crate::timing::Timing;

/// 16-bit STM_T1 / LDM_T1 (A7.7.156, A7.7.40).
pub(crate) fn decode16(hw: u32) -> Insn {
    let rn = bits(hw, 10, 8);
    let list = bits(hw, 7, 0);
    if list == 0 {
        return Insn::unpredictable(2, hw);
    }
    if bit(hw, 11) {
        // LDM writes back only when Rn is not in the list.
        let wb = list & (1 << rn) == 0;
        Insn::new(Op::Ldm, 2)
            .regs(0, rn, 0)
            .imm(list)
            .flag_if(wb, F_WBACK)
    } else {
        Insn::new(Op::Stm, 2)
            .regs(0, rn, 0)
            .imm(list)
            .flags(F_WBACK)
    }
}

/// 16-bit PUSH_T1 / POP_T1 (A7.7.101, A7.7.99): bit 8 adds LR (push) or PC (pop).
pub(crate) fn decode16_push_pop(hw: u32) -> Insn {
    let extra = bit(hw, 8);
    let mut list = bits(hw, 7, 0);
    if bit(hw, 11) {
        if extra {
            list |= 1 << PC;
        }
        if list == 0 {
            return Insn::unpredictable(2, hw);
        }
        Insn::new(Op::Ldm, 2)
            .regs(0, SP as u32, 0)
            .imm(list)
            .flags(F_WBACK)
    } else {
        if extra {
            list |= 1 << 14;
        }
        if list == 0 {
            return Insn::unpredictable(2, hw);
        }
        Insn::new(Op::Stm, 2)
            .regs(0, SP as u32, 0)
            .imm(list)
            .flags(F_WBACK | F_OPT)
    }
}

/// 32-bit load/store multiple (A5.3.5): LDM_T2, LDMDB_T1, STM_T2, STMDB_T1, POP_T2, PUSH_T2.
pub(crate) fn decode32(w: u32) -> Insn {
    let op = bits(w, 24, 23);
    let wb = bit(w, 21);
    let load = bit(w, 20);
    let rn = bits(w, 19, 16);
    let list = bits(w, 15, 0);
    if op == 0b00 || op == 0b11 {
        // SRS/RFE do not exist in ARMv7-M.
        return Insn::undefined(4, w);
    }
    let db = op == 0b10;
    if rn == 15 || list.count_ones() < 2 || list & (1 << 13) != 0 {
        return Insn::unpredictable(4, w);
    }
    if load {
        if list & 0xC000 == 0xC000 || (wb && list & (1 << rn) != 0) {
            return Insn::unpredictable(4, w);
        }
        Insn::new(Op::Ldm, 4)
            .regs(0, rn, 0)
            .imm(list)
            .flag_if(wb, F_WBACK)
            .flag_if(db, F_OPT)
    } else {
        if list & (1 << 15) != 0 || (wb && list & (1 << rn) != 0) {
            return Insn::unpredictable(4, w);
        }
        Insn::new(Op::Stm, 4)
            .regs(0, rn, 0)
            .imm(list)
            .flag_if(wb, F_WBACK)
            .flag_if(db, F_OPT)
    }
}

impl<T: Timing> Machine<T> {
    /// LDM/LDMDB/POP: registers load in ascending order from the lowest address; a PC load
    /// is an interworking branch (LoadWritePC, which may be an exception return).
    pub(crate) fn exec_ldm(&mut self, i: &Insn) -> Result<(), Trap> {
        let base = self.cpu.r[reg(i.rn)];
        let list = i.imm;
        let bytes = list.count_ones() * 4;
        let mut addr = if i.flags & F_OPT != 0 {
            base.wrapping_sub(bytes)
        } else {
            base
        };
        if addr & 3 != 0 {
            return Err(Trap::Usage(UsageFault::Unaligned { addr }));
        }
        self.data_addr = addr;
        // Read everything first so a bus fault leaves the registers unchanged.
        let mut values = [0u32; 16];
        let mut rest = list;
        if let Some(words) = self.mem.slice(addr, bytes) {
            // Fast path: the whole transfer lies in one memory block.
            for chunk in words.chunks_exact(4) {
                let r = rest.trailing_zeros() as usize & 15;
                values[r] = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                rest &= rest - 1;
            }
        }
        while rest != 0 {
            let r = rest.trailing_zeros() as usize & 15;
            values[r] = self.read32(addr)?;
            addr = addr.wrapping_add(4);
            rest &= rest - 1;
        }
        if i.flags & F_WBACK != 0 {
            self.cpu.r[reg(i.rn)] = if i.flags & F_OPT != 0 {
                base.wrapping_sub(bytes)
            } else {
                base.wrapping_add(bytes)
            };
        }
        let mut rest = list & 0x7fff;
        while rest != 0 {
            let r = rest.trailing_zeros() as usize;
            self.cpu.r[r] = values[r];
            rest &= rest - 1;
        }
        if list & (1 << PC) != 0 {
            self.bx_write_pc(values[PC as usize])?;
        }
        Ok(())
    }

    /// STM/STMDB/PUSH: registers store in ascending order from the lowest address.
    pub(crate) fn exec_stm(&mut self, i: &Insn) -> Result<(), Trap> {
        let base = self.cpu.r[reg(i.rn)];
        let list = i.imm;
        let bytes = list.count_ones() * 4;
        let start = if i.flags & F_OPT != 0 {
            base.wrapping_sub(bytes)
        } else {
            base
        };
        if start & 3 != 0 {
            return Err(Trap::Usage(UsageFault::Unaligned { addr: start }));
        }
        let mut addr = start;
        let mut rest = list;
        if let Some(words) = self.mem.slice_mut(start, bytes) {
            // Fast path: the whole transfer lies in one writable block.
            for chunk in words.chunks_exact_mut(4) {
                let r = rest.trailing_zeros() as usize & 31;
                chunk.copy_from_slice(&self.cpu.r[r].to_le_bytes());
                rest &= rest - 1;
            }
        }
        while rest != 0 {
            let r = rest.trailing_zeros() as usize & 31;
            self.write32(addr, self.cpu.r[r])?;
            addr = addr.wrapping_add(4);
            rest &= rest - 1;
        }
        if i.flags & F_WBACK != 0 {
            self.cpu.r[reg(i.rn)] = if i.flags & F_OPT != 0 {
                start
            } else {
                base.wrapping_add(bytes)
            };
        }
        Ok(())
    }
}
