//! The core's system registers: SCB, NVIC, SysTick, DWT cycle counter, FP context control
//! (ARMv7-M ARM chapter B3; ARMv6-M ARM chapter B3 for the M0+ subset).

use crate::machine::{CoreKind, FaultKind, UsageFault};
use std::collections::BTreeMap;

/// Exception numbers (B1.5.2).
pub(crate) const NMI: u32 = 2;
pub(crate) const HARDFAULT: u32 = 3;
pub(crate) const SVCALL: u32 = 11;
pub(crate) const PENDSV: u32 = 14;
pub(crate) const SYSTICK: u32 = 15;
/// Exceptions modelled: 16 system + 240 external (the ARMv7-M maximum).
const EXCEPTIONS: usize = 256;

/// SysTick (B3.3): a 24-bit down-counter on the core clock, evaluated lazily from the cycle count.
#[derive(Clone, Debug, Default)]
pub(crate) struct SysTick {
    pub ctrl: u32,
    pub load: u32,
    /// Counter value at `anchor` cycles.
    anchor_val: u32,
    anchor: u64,
    /// Cycle at which the counter next reaches zero (valid while enabled).
    next_zero: u64,
    countflag: bool,
}

impl SysTick {
    fn enabled(&self) -> bool {
        self.ctrl & 1 != 0
    }

    fn first_zero(&self) -> u64 {
        if self.anchor_val > 0 {
            self.anchor + self.anchor_val as u64
        } else if self.load > 0 {
            self.anchor + 1 + self.load as u64
        } else {
            u64::MAX
        }
    }

    /// Current value (SYST_CVR).
    fn value(&self, now: u64) -> u32 {
        if !self.enabled() {
            return self.anchor_val;
        }
        let z0 = self.first_zero();
        if now == self.anchor {
            return self.anchor_val;
        }
        if now < z0 {
            // Counting down to the first zero (from the written value, or from LOAD after the
            // reload that follows a zero).
            return (z0 - now) as u32;
        }
        if self.load == 0 {
            return 0;
        }
        let period = self.load as u64 + 1;
        let phase = (now - z0) % period;
        if phase == 0 {
            0
        } else {
            (period - phase) as u32
        }
    }

    /// Advance to `now`; true if the counter reached zero at least once (pend if TICKINT).
    fn advance(&mut self, now: u64) -> bool {
        if !self.enabled() || now < self.next_zero {
            return false;
        }
        self.countflag = true;
        if self.load == 0 {
            self.next_zero = u64::MAX;
        } else {
            let period = self.load as u64 + 1;
            let k = (now - self.next_zero) / period + 1;
            self.next_zero += k * period;
        }
        true
    }

    fn reanchor(&mut self, now: u64, val: u32) {
        self.anchor = now;
        self.anchor_val = val;
        self.next_zero = self.first_zero();
    }
}

/// System state outside the register file.
#[derive(Clone, Debug)]
pub(crate) struct SystemState {
    pub core: CoreKind,
    pub reset_vtor: u32,
    pub vtor: u32,
    priority_bits: u8,
    /// The inactive stack pointer(s): the active one lives in r13.
    pub msp: u32,
    pub psp: u32,
    /// CONTROL: bit0 nPRIV, bit1 SPSEL, bit2 FPCA.
    pub control: u32,
    pub primask: bool,
    pub faultmask: bool,
    pub basepri: u8,
    /// IPSR: the current exception number (0 in Thread mode).
    pub ipsr: u32,
    pending: [u32; EXCEPTIONS / 32],
    active: [u32; EXCEPTIONS / 32],
    enabled: [u32; EXCEPTIONS / 32],
    priority: [u8; EXCEPTIONS],
    prigroup: u32,
    pub ccr: u32,
    pub scr: u32,
    pub cfsr: u32,
    pub hfsr: u32,
    pub bfar: u32,
    pub shcsr: u32,
    pub cpacr: u32,
    pub fpccr: u32,
    pub fpcar: u32,
    pub fpdscr: u32,
    pub demcr: u32,
    pub dwt_ctrl: u32,
    cyccnt_value: u32,
    cyccnt_since: u64,
    pub systick: SysTick,
    pub event_register: bool,
    pub unaligned_trap: bool,
    pub div0_trap: bool,
    /// FP instructions may run without the CPACR/lazy-stacking/FPCA checks (B1.5.7 FP context).
    pub fp_ready: bool,
    /// Bytes written to ITM stimulus port 0.
    pub itm_output: Vec<u8>,
    /// Registers that only keep what was written (MPU, ACTLR, ITM/DWT/FPB configuration ...).
    plain: BTreeMap<u32, u32>,
}

impl SystemState {
    pub fn new(core: CoreKind, vtor: u32, priority_bits: u8) -> SystemState {
        SystemState::blank(core, vtor, priority_bits.clamp(2, 8))
    }

    /// Reset values (B3.2.2 table "Summary of SCB registers", B1.4.6 CONTROL).
    pub fn reset(&mut self, core: CoreKind) {
        *self = SystemState::blank(core, self.reset_vtor, self.priority_bits);
    }

    fn blank(core: CoreKind, vtor: u32, priority_bits: u8) -> SystemState {
        let m0 = core == CoreKind::M0Plus;
        SystemState {
            core,
            reset_vtor: vtor,
            vtor,
            priority_bits,
            msp: 0,
            psp: 0,
            control: 0,
            primask: false,
            faultmask: false,
            basepri: 0,
            ipsr: 0,
            pending: [0; EXCEPTIONS / 32],
            active: [0; EXCEPTIONS / 32],
            enabled: [0; EXCEPTIONS / 32],
            priority: [0; EXCEPTIONS],
            prigroup: 0,
            // STKALIGN is set out of reset on the M4 (r0p1+) and RAO on the M0+; the M0+ also
            // has UNALIGN_TRP RAO (every unaligned access faults on ARMv6-M).
            ccr: if m0 { 0x208 } else { 0x200 },
            scr: 0,
            cfsr: 0,
            hfsr: 0,
            bfar: 0,
            shcsr: 0,
            cpacr: 0,
            // FPCCR reset: ASPEN and LSPEN set (B3.2.22).
            fpccr: if m0 { 0 } else { 0xc000_0000 },
            fpcar: 0,
            fpdscr: 0,
            demcr: 0,
            dwt_ctrl: if m0 { 1 << 25 } else { 0x4000_0000 },
            cyccnt_value: 0,
            cyccnt_since: 0,
            systick: SysTick::default(),
            event_register: false,
            unaligned_trap: m0,
            div0_trap: false,
            fp_ready: false,
            itm_output: Vec::new(),
            plain: BTreeMap::new(),
        }
    }

    /// Keep only the implemented (most significant) priority bits.
    pub fn mask_priority(&self, p: u8) -> u8 {
        p & (0xffu32 << (8 - self.priority_bits as u32)) as u8
    }

    /// Priority of exception `n` (B1.5.4): Reset -3, NMI -2, HardFault -1, others programmable.
    fn priority_of(&self, n: u32) -> i32 {
        match n {
            1 => -3,
            NMI => -2,
            HARDFAULT => -1,
            _ => self.priority[n as usize] as i32,
        }
    }

    /// The group (preemption) priority: subpriority bits below PRIGROUP+1 ignored (B1.5.4).
    fn group(&self, p: i32) -> i32 {
        if p < 0 {
            return p;
        }
        let sub_bits = if self.core == CoreKind::M0Plus {
            0
        } else {
            self.prigroup + 1
        };
        p & !((1i32 << sub_bits) - 1)
    }

    /// Execution priority (B1.5.4): active exceptions, BASEPRI, PRIMASK, FAULTMASK.
    pub fn execution_priority(&self) -> i32 {
        let mut p = 256;
        for (w, &bits) in self.active.iter().enumerate() {
            let mut rest = bits;
            while rest != 0 {
                let n = w as u32 * 32 + rest.trailing_zeros();
                p = p.min(self.group(self.priority_of(n)));
                rest &= rest - 1;
            }
        }
        if self.basepri != 0 {
            p = p.min(self.group(self.basepri as i32));
        }
        if self.primask {
            p = p.min(0);
        }
        if self.faultmask {
            p = p.min(-1);
        }
        p
    }

    fn is_enabled(&self, n: u32) -> bool {
        n < 16 || self.enabled[n as usize / 32] & (1 << (n % 32)) != 0
    }

    /// The highest-priority pending, enabled exception: (number, priority).
    fn highest_pending(&self) -> Option<(u32, i32)> {
        let mut best: Option<(u32, i32)> = None;
        for (w, &bits) in self.pending.iter().enumerate() {
            let mut rest = bits;
            while rest != 0 {
                let n = w as u32 * 32 + rest.trailing_zeros();
                rest &= rest - 1;
                if !self.is_enabled(n) {
                    continue;
                }
                let p = self.priority_of(n);
                if best.is_none_or(|(_, bp)| p < bp) {
                    best = Some((n, p));
                }
            }
        }
        best
    }

    /// The exception to take now, if a pending one preempts the execution priority.
    pub fn exception_to_take(&self) -> Option<u32> {
        let (n, p) = self.highest_pending()?;
        (self.group(p) < self.execution_priority()).then_some(n)
    }

    /// True if an exception could be taken now.
    pub fn exception_ready(&self) -> bool {
        self.exception_to_take().is_some()
    }

    /// True if anything pending and enabled would wake WFI (even if PRIMASK blocks taking it).
    pub fn wake_pending(&self) -> bool {
        self.highest_pending().is_some()
    }

    pub fn set_pending(&mut self, n: u32) {
        self.pending[n as usize / 32] |= 1 << (n % 32);
    }

    pub fn clear_pending(&mut self, n: u32) {
        self.pending[n as usize / 32] &= !(1 << (n % 32));
    }

    pub fn set_active(&mut self, n: u32, on: bool) {
        if on {
            self.active[n as usize / 32] |= 1 << (n % 32);
        } else {
            self.active[n as usize / 32] &= !(1 << (n % 32));
        }
    }

    pub fn is_active(&self, n: u32) -> bool {
        self.active[n as usize / 32] & (1 << (n % 32)) != 0
    }

    /// Number of active exceptions (for the return-to-base check).
    pub fn active_count(&self) -> u32 {
        self.active.iter().map(|w| w.count_ones()).sum()
    }

    /// Advance SysTick to `now`, pending its exception on a wrap with TICKINT.
    pub fn advance_systick(&mut self, now: u64) {
        if self.systick.advance(now) && self.systick.ctrl & 2 != 0 {
            self.set_pending(SYSTICK);
        }
    }

    /// The next cycle at which something time-driven happens (SysTick reaching zero).
    pub fn next_deadline(&self, _now: u64) -> u64 {
        if self.systick.enabled() {
            self.systick.next_zero
        } else {
            u64::MAX
        }
    }

    /// The next cycle at which a sleeping or self-looping core could be woken: the next SysTick
    /// interrupt (the only time-driven exception source the core itself has).
    pub fn next_wakeup(&self, _now: u64) -> Option<u64> {
        if self.systick.enabled()
            && self.systick.ctrl & 2 != 0
            && self.systick.next_zero != u64::MAX
        {
            Some(self.systick.next_zero)
        } else {
            None
        }
    }

    /// True if configurable fault `exc` (4 MemManage, 5 BusFault, 6 UsageFault) is enabled in
    /// SHCSR and its priority would preempt the current execution priority (B1.5.1).
    pub fn fault_enabled_and_preempts(&self, exc: u32) -> bool {
        let enable_bit = 16 + (exc - 4);
        self.shcsr & (1 << enable_bit) != 0
            && self.group(self.priority_of(exc)) < self.execution_priority()
    }

    /// Record a fault in CFSR/HFSR/BFAR as the hardware would (for a debugger reading them).
    pub fn record_fault(&mut self, kind: &FaultKind) {
        match kind {
            FaultKind::Bus { addr, .. } => {
                self.cfsr |= (1 << 9) | (1 << 15); // PRECISERR, BFARVALID
                self.bfar = *addr;
            }
            FaultKind::InstructionFetch { .. } => self.cfsr |= 1 << 8, // IBUSERR
            FaultKind::Stacking { .. } => self.cfsr |= 1 << 12,        // STKERR
            FaultKind::Usage(u) => {
                self.cfsr |= match u {
                    UsageFault::Undefined { .. } | UsageFault::Unpredictable { .. } => 1 << 16,
                    UsageFault::InvalidState { .. } => 1 << 17,
                    UsageFault::InvalidPc { .. } => 1 << 18,
                    UsageFault::NoCoprocessor => 1 << 19,
                    UsageFault::Unaligned { .. } => 1 << 24,
                    UsageFault::DivideByZero => 1 << 25,
                }
            }
        }
        self.hfsr |= 1 << 30; // FORCED: no fault handler is run by the emulator
    }

    fn cyccnt_running(&self) -> bool {
        self.core == CoreKind::M4F && self.demcr & (1 << 24) != 0 && self.dwt_ctrl & 1 != 0
    }

    fn cyccnt(&self, now: u64) -> u32 {
        if self.cyccnt_running() {
            self.cyccnt_value
                .wrapping_add((now - self.cyccnt_since) as u32)
        } else {
            self.cyccnt_value
        }
    }

    /// Apply a change that may start or stop CYCCNT (DEMCR.TRCENA, DWT_CTRL.CYCCNTENA).
    fn with_cyccnt(&mut self, now: u64, f: impl FnOnce(&mut SystemState)) {
        self.cyccnt_value = self.cyccnt(now);
        self.cyccnt_since = now;
        f(self);
    }

    /// Read a system-space register (0xE000_0000..). `None`: not modelled (bus fault).
    pub fn read(&mut self, addr: u32, now: u64) -> Option<u32> {
        let m4 = self.core == CoreKind::M4F;
        let word = addr & !3;
        let v = match word {
            // ITM stimulus ports read as "FIFO ready" so ITM printing never spins.
            0xe000_0000..=0xe000_007c if m4 => 1,
            0xe000_1000 => self.dwt_ctrl,
            0xe000_1004 if m4 => self.cyccnt(now),
            0xe000_e004 if m4 => 7, // ICTR: 256 interrupt lines
            0xe000_e010 => {
                self.advance_systick(now);
                let v = self.systick.ctrl | ((self.systick.countflag as u32) << 16);
                self.systick.countflag = false;
                v
            }
            0xe000_e014 => self.systick.load,
            0xe000_e018 => self.systick.value(now),
            0xe000_e01c => 1 << 30, // SYST_CALIB: no reference clock skew info, SKEW set
            0xe000_e100..=0xe000_e11c => irq_word(&self.enabled, (word - 0xe000_e100) / 4),
            0xe000_e180..=0xe000_e19c => irq_word(&self.enabled, (word - 0xe000_e180) / 4),
            0xe000_e200..=0xe000_e21c => irq_word(&self.pending, (word - 0xe000_e200) / 4),
            0xe000_e280..=0xe000_e29c => irq_word(&self.pending, (word - 0xe000_e280) / 4),
            0xe000_e300..=0xe000_e31c => irq_word(&self.active, (word - 0xe000_e300) / 4),
            0xe000_e400..=0xe000_e4ec => {
                let n = 16 + (word - 0xe000_e400) as usize;
                u32::from_le_bytes([
                    self.priority[n],
                    self.priority[n + 1],
                    self.priority[n + 2],
                    self.priority[n + 3],
                ])
            }
            0xe000_ed00 => {
                if m4 {
                    0x410f_c241 // Cortex-M4 r0p1
                } else {
                    0x410c_c601 // Cortex-M0+ r0p1
                }
            }
            0xe000_ed04 => self.icsr(),
            0xe000_ed08 => self.vtor,
            0xe000_ed0c => 0xfa05_0000 | (self.prigroup << 8),
            0xe000_ed10 => self.scr,
            0xe000_ed14 => self.ccr,
            0xe000_ed18..=0xe000_ed20 => {
                let n = (word - 0xe000_ed14) as usize;
                u32::from_le_bytes([
                    self.priority[n],
                    self.priority[n + 1],
                    self.priority[n + 2],
                    self.priority[n + 3],
                ])
            }
            0xe000_ed24 => self.shcsr,
            0xe000_ed28 if m4 => self.cfsr,
            0xe000_ed2c if m4 => self.hfsr,
            0xe000_ed34 if m4 => self.bfar,
            0xe000_ed38 if m4 => self.bfar,
            0xe000_ed88 if m4 => self.cpacr,
            0xe000_edfc => self.demcr,
            0xe000_ef34 if m4 => self.fpccr,
            0xe000_ef38 if m4 => self.fpcar,
            0xe000_ef3c if m4 => self.fpdscr,
            0xe000_ef40 if m4 => 0x1011_0021, // MVFR0: FPv4-SP single precision
            0xe000_ef44 if m4 => 0x1100_0011, // MVFR1
            0xe000_ed40..=0xe000_ed7c if m4 => 0, // feature ID registers: zero is "not described"
            _ => {
                if Self::is_plain(word, m4) {
                    self.plain.get(&word).copied().unwrap_or(0)
                } else {
                    return None;
                }
            }
        };
        Some(v >> ((addr & 3) * 8))
    }

    /// Registers that need no behaviour, only storage: MPU, ACTLR, SHPR-adjacent debug, ITM
    /// control, the other DWT counters and comparators, FPB, DHCSR/DCRSR/DCRDR, STIR, AFSR, DFSR.
    fn is_plain(word: u32, m4: bool) -> bool {
        matches!(word,
            0xe000_e008 | 0xe000_ed30 | 0xe000_ed3c | 0xe000_edf0..=0xe000_edf8 | 0xe000_ed90..=0xe000_edbc)
            || (m4
                && matches!(word,
                    0xe000_0e00..=0xe000_0fff | 0xe000_1008..=0xe000_1fff | 0xe000_2000..=0xe000_2fff
                    | 0xe004_0000..=0xe004_0fff))
            || (!m4 && matches!(word, 0xe000_1008..=0xe000_2fff))
    }

    fn icsr(&self) -> u32 {
        let pending = self.highest_pending().map_or(0, |(n, _)| n);
        let isrpending =
            self.pending[0] & 0xffff_0000 != 0 || self.pending[1..].iter().any(|&b| b != 0);
        let mut v = self.ipsr | (pending << 12) | ((isrpending as u32) << 22);
        if self.pending[0] & (1 << PENDSV) != 0 {
            v |= 1 << 28;
        }
        if self.pending[0] & (1 << SYSTICK) != 0 {
            v |= 1 << 26;
        }
        if self.pending[0] & (1 << NMI) != 0 {
            v |= 1 << 31;
        }
        if self.active_count() <= 1 {
            v |= 1 << 11; // RETTOBASE
        }
        v
    }

    /// Write a system-space register. `size` is 1, 2 or 4. `false`: not modelled (bus fault).
    pub fn write(&mut self, addr: u32, size: u8, value: u32, now: u64) -> bool {
        let m4 = self.core == CoreKind::M4F;
        let word = addr & !3;
        // Byte/halfword writes are only meaningful for the byte-laid-out priority registers.
        if let 0xe000_e400..=0xe000_e4ec | 0xe000_ed18..=0xe000_ed20 = word {
            // NVIC_IPR bytes are IRQs 0.. (exceptions 16..); SHPR1-3 bytes are exceptions 4..15.
            let first = if word <= 0xe000_e4ec {
                16 + (addr - 0xe000_e400) as usize
            } else {
                (addr - 0xe000_ed14) as usize
            };
            for k in 0..size as usize {
                let p = self.mask_priority((value >> (8 * k)) as u8);
                if first + k < EXCEPTIONS && first + k >= 4 {
                    self.priority[first + k] = p;
                }
            }
            return true;
        }
        let v = value;
        match word {
            // ITM stimulus port 0 (the SWO "printf" port): bytes are kept for the host.
            0xe000_0000 if m4 => self
                .itm_output
                .extend_from_slice(&value.to_le_bytes()[..size as usize]),
            0xe000_0004..=0xe000_007c if m4 => {}
            0xe000_1000 => {
                let keep = self.dwt_ctrl & !1;
                self.with_cyccnt(now, |s| s.dwt_ctrl = keep | (v & 1));
            }
            0xe000_1004 if m4 => {
                self.cyccnt_value = v;
                self.cyccnt_since = now;
            }
            0xe000_e010 => {
                self.advance_systick(now);
                let was = self.systick.enabled();
                let val = self.systick.value(now);
                self.systick.ctrl = v & 0x7;
                if was != self.systick.enabled() {
                    self.systick.reanchor(now, val);
                }
            }
            0xe000_e014 => {
                self.advance_systick(now);
                let val = self.systick.value(now);
                self.systick.load = v & 0x00ff_ffff;
                self.systick.reanchor(now, val);
            }
            0xe000_e018 => {
                // Any write clears the counter and COUNTFLAG (B3.3.3).
                self.systick.countflag = false;
                self.systick.reanchor(now, 0);
            }
            0xe000_e100..=0xe000_e11c => {
                update_irq_word(&mut self.enabled, (word - 0xe000_e100) / 4, v, true)
            }
            0xe000_e180..=0xe000_e19c => {
                update_irq_word(&mut self.enabled, (word - 0xe000_e180) / 4, v, false)
            }
            0xe000_e200..=0xe000_e21c => {
                update_irq_word(&mut self.pending, (word - 0xe000_e200) / 4, v, true)
            }
            0xe000_e280..=0xe000_e29c => {
                update_irq_word(&mut self.pending, (word - 0xe000_e280) / 4, v, false)
            }
            0xe000_e300..=0xe000_e31c => {} // IABR is read-only
            0xe000_ef00 if m4 => self.set_pending(16 + (v & 0xff)), // STIR
            0xe000_ed04 => {
                if v & (1 << 31) != 0 {
                    self.set_pending(NMI);
                }
                if v & (1 << 28) != 0 {
                    self.set_pending(PENDSV);
                }
                if v & (1 << 27) != 0 {
                    self.clear_pending(PENDSV);
                }
                if v & (1 << 26) != 0 {
                    self.set_pending(SYSTICK);
                }
                if v & (1 << 25) != 0 {
                    self.clear_pending(SYSTICK);
                }
            }
            0xe000_ed08 => self.vtor = v & 0xffff_ff80,
            0xe000_ed0c => {
                if v >> 16 == 0x05fa && m4 {
                    self.prigroup = (v >> 8) & 7;
                }
            }
            0xe000_ed10 => self.scr = v & 0x16,
            0xe000_ed14 => {
                if m4 {
                    self.ccr = (v & 0x31b) | 0x200;
                    self.unaligned_trap = v & 8 != 0;
                    self.div0_trap = v & 16 != 0;
                }
            }
            0xe000_ed24 => self.shcsr = v,
            0xe000_ed28 if m4 => self.cfsr &= !v, // write-one-to-clear
            0xe000_ed2c if m4 => self.hfsr &= !v,
            0xe000_ed34 | 0xe000_ed38 if m4 => self.bfar = v,
            0xe000_ed88 if m4 => {
                // Only CP10/CP11 exist (bits 23..20).
                self.cpacr = v & 0x00f0_0000;
                self.fp_ready = false;
            }
            0xe000_edfc => {
                let m = if m4 { 0x010f_07f1 } else { 0x0100_0001 };
                self.with_cyccnt(now, |s| s.demcr = v & m);
            }
            0xe000_ef34 if m4 => {
                self.fpccr = (self.fpccr & 0x3fff_fffe) | (v & 0xc000_0001);
                self.fp_ready = false;
            }
            0xe000_ef38 if m4 => self.fpcar = v & !7,
            0xe000_ef3c if m4 => self.fpdscr = v & 0x07c0_0000,
            _ => {
                if Self::is_plain(word, m4) {
                    self.plain.insert(word, v);
                } else {
                    return false;
                }
            }
        }
        true
    }
}

/// NVIC register word `k` (IRQs 32k..32k+31 = exceptions 16+32k..) from an exception bitset.
fn irq_word(set: &[u32; EXCEPTIONS / 32], k: u32) -> u32 {
    let k = k as usize;
    let lo = set[k] >> 16;
    let hi = set.get(k + 1).map_or(0, |w| w << 16);
    lo | hi
}

/// Set (or clear) the bits of NVIC register word `k` in an exception bitset.
fn update_irq_word(set: &mut [u32; EXCEPTIONS / 32], k: u32, v: u32, on: bool) {
    let k = k as usize;
    let lo = v << 16;
    let hi = v >> 16;
    if on {
        set[k] |= lo;
        if let Some(w) = set.get_mut(k + 1) {
            *w |= hi;
        }
    } else {
        set[k] &= !lo;
        if let Some(w) = set.get_mut(k + 1) {
            *w &= !hi;
        }
    }
}
