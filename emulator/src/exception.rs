//! Exception entry and return (B1.5.6-B1.5.8), including the FP context and lazy FP state
//! preservation of the Cortex-M4F (B1.5.7, FPCCR.LSPEN).

use crate::machine::{CoreKind, Machine, Trap, UsageFault};
use crate::timing::Timing;

const CONTROL_FPCA: u32 = 4;
const FPCCR_LSPACT: u32 = 1;
const FPCCR_LSPEN: u32 = 1 << 30;
const FPCCR_ASPEN: u32 = 1 << 31;

impl<T: Timing> Machine<T> {
    fn stack_write(&mut self, addr: u32, v: u32) -> Result<(), Trap> {
        self.write32(addr, v).map_err(|_| Trap::Stacking { addr })
    }

    fn stack_read(&mut self, addr: u32) -> Result<u32, Trap> {
        self.read32(addr).map_err(|_| Trap::Stacking { addr })
    }

    /// Take exception `exc`: PushStack then ExceptionTaken (B1.5.6).
    pub(crate) fn exception_entry(&mut self, exc: u32) -> Result<(), Trap> {
        let m4 = self.core == CoreKind::M4F;
        let fp_frame = m4 && self.sys.control & CONTROL_FPCA != 0;
        let frame_size = if fp_frame { 0x68 } else { 0x20 };
        let sp = self.cpu.r[13];
        // CCR.STKALIGN is set on both cores: the frame is 8-byte aligned, xPSR bit 9 says so.
        let realigned = sp & 4 != 0;
        let frame = sp.wrapping_sub(frame_size) & !4;
        let xpsr = (self.xpsr() & !(1 << 9)) | ((realigned as u32) << 9);
        let stacked = [
            self.cpu.r[0],
            self.cpu.r[1],
            self.cpu.r[2],
            self.cpu.r[3],
            self.cpu.r[12],
            self.cpu.r[14],
            self.cpu.pc,
            xpsr,
        ];
        for (k, v) in stacked.iter().enumerate() {
            self.stack_write(frame + 4 * k as u32, *v)?;
        }
        let mut fp_stacked = false;
        if fp_frame {
            fp_stacked = self.sys.fpccr & FPCCR_LSPEN == 0;
            if !fp_stacked {
                // Lazy stacking: reserve the space, save only if the handler uses the FPU.
                self.sys.fpccr |= FPCCR_LSPACT;
                self.sys.fpcar = frame + 0x20;
            } else {
                self.save_fp_context(frame + 0x20)?;
            }
        }
        let mut exc_return = if self.sys.ipsr != 0 {
            0xffff_fff1
        } else if self.using_psp() {
            0xffff_fffd
        } else {
            0xffff_fff9
        };
        if fp_frame {
            exc_return &= !0x10;
        }
        self.cpu.r[13] = frame;
        let vector = self
            .read32(self.sys.vtor.wrapping_add(4 * exc))
            .map_err(|_| Trap::Stacking {
                addr: self.sys.vtor.wrapping_add(4 * exc),
            })?;
        // ExceptionTaken: Handler mode on the MSP.
        self.select_sp(false);
        self.sys.ipsr = exc;
        self.sys.set_active(exc, true);
        self.sys.clear_pending(exc);
        if m4 {
            self.sys.control &= !CONTROL_FPCA;
        }
        self.sys.fp_ready = false;
        self.cpu.r[14] = exc_return;
        self.cpu.it = 0;
        self.exclusive = None;
        self.sys.event_register = true;
        if vector & 1 == 0 {
            return Err(Trap::Usage(UsageFault::InvalidState { target: vector }));
        }
        self.cpu.pc = vector & !1;
        self.cycles += self.timing.on_exception_entry(fp_stacked) as u64;
        Ok(())
    }

    /// S0-S15 and FPSCR to `addr` (the FP part of an exception frame).
    fn save_fp_context(&mut self, addr: u32) -> Result<(), Trap> {
        for k in 0..16 {
            self.stack_write(addr + 4 * k, self.fpu.s[k as usize])?;
        }
        self.stack_write(addr + 0x40, self.fpu.fpscr)
    }

    /// ExceptionReturn (B1.5.8) for an EXC_RETURN value written to the PC in Handler mode.
    pub(crate) fn exception_return(&mut self, exc_return: u32) -> Result<(), Trap> {
        let m4 = self.core == CoreKind::M4F;
        let low = exc_return & 0xf;
        let fp_frame = exc_return & 0x10 == 0;
        if exc_return & 0x0fff_ffe0 != 0x0fff_ffe0
            || !matches!(low, 0b0001 | 0b1001 | 0b1101)
            || (fp_frame && !m4)
        {
            return Err(Trap::Usage(UsageFault::InvalidPc { value: exc_return }));
        }
        let returning = self.sys.ipsr;
        if !self.sys.is_active(returning) {
            return Err(Trap::Usage(UsageFault::InvalidPc { value: exc_return }));
        }
        let to_thread = low & 0b1000 != 0;
        let use_psp = low & 0b0100 != 0;
        // In Handler mode the active SP is the MSP.
        self.sys.msp = self.cpu.r[13];
        let frame = if use_psp { self.sys.psp } else { self.sys.msp };
        let mut v = [0u32; 8];
        for (k, slot) in v.iter_mut().enumerate() {
            *slot = self.stack_read(frame + 4 * k as u32)?;
        }
        if fp_frame {
            if self.sys.fpccr & FPCCR_LSPACT != 0 {
                // The handler never touched the FPU: the registers still hold the context.
                self.sys.fpccr &= !FPCCR_LSPACT;
            } else {
                for k in 0..16u32 {
                    self.fpu.s[k as usize] = self.stack_read(frame + 0x20 + 4 * k)?;
                }
                self.fpu.fpscr = self.stack_read(frame + 0x60)?;
            }
        }
        let xpsr = v[7];
        let new_sp =
            frame + if fp_frame { 0x68 } else { 0x20 } + if xpsr & (1 << 9) != 0 { 4 } else { 0 };
        if use_psp {
            self.sys.psp = new_sp;
        } else {
            self.sys.msp = new_sp;
        }
        self.sys.set_active(returning, false);
        if to_thread {
            self.sys.control = (self.sys.control & !2) | if use_psp { 2 } else { 0 };
        }
        if m4 {
            self.sys.control =
                (self.sys.control & !CONTROL_FPCA) | if fp_frame { CONTROL_FPCA } else { 0 };
        }
        self.sys.ipsr = if to_thread { 0 } else { xpsr & 0x1ff };
        self.cpu.r[13] = if to_thread && use_psp {
            self.sys.psp
        } else {
            self.sys.msp
        };
        for (k, r) in [0usize, 1, 2, 3, 12, 14].iter().enumerate() {
            self.cpu.r[*r] = v[k];
        }
        self.cpu.set_apsr(xpsr, true, true);
        self.cpu.it = crate::machine::epsr_to_it(xpsr);
        self.cpu.pc = v[6] & !1;
        self.exclusive = None;
        self.sys.fp_ready = false;
        self.sys.event_register = true;
        self.timing.on_exception_return();
        // A pending exception may now preempt (tail-chaining).
        self.next_check = 0;
        Ok(())
    }

    /// The checks every FP instruction makes first (B1.5.7, ExecuteFPCheck): CPACR access,
    /// lazy state preservation, and FPCA/FPDSCR for a new FP context.
    #[cold]
    pub(crate) fn fp_check(&mut self) -> Result<(), Trap> {
        let cp10 = (self.sys.cpacr >> 20) & 3;
        let allowed = match cp10 {
            0b01 => self.privileged(),
            0b11 => true,
            _ => false,
        };
        if !allowed {
            return Err(Trap::Usage(UsageFault::NoCoprocessor));
        }
        if self.sys.fpccr & FPCCR_LSPACT != 0 {
            let addr = self.sys.fpcar;
            self.save_fp_context(addr)?;
            self.sys.fpccr &= !FPCCR_LSPACT;
        }
        if self.sys.fpccr & FPCCR_ASPEN != 0 && self.sys.control & CONTROL_FPCA == 0 {
            self.fpu.fpscr = (self.fpu.fpscr & !0x07c0_0000) | (self.sys.fpdscr & 0x07c0_0000);
            self.sys.control |= CONTROL_FPCA;
        }
        // Privilege can change only through CONTROL writes and exceptions, which clear this.
        self.sys.fp_ready = true;
        Ok(())
    }
}
