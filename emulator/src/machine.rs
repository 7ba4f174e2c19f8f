//! The virtual board: core state, memory, the run loop and its stop reasons.

use crate::elf::{ElfError, LoadedImage, SymbolTable};
use crate::isa::{self, Arch, Insn, Op, F_S, PC};
use crate::memory::{MapError, Memory, MemoryMap, RegionKind};
use crate::system::SystemState;
use crate::timing::{InsnEvent, NullTiming, Timing};
use std::fmt;

/// Which Cortex-M core the board has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoreKind {
    /// Cortex-M0+: ARMv6-M, no FPU, no DWT cycle counter.
    M0Plus,
    /// Cortex-M4F: ARMv7E-M with DSP and FPv4-SP.
    M4F,
}

impl CoreKind {
    /// The instruction set this core decodes.
    pub fn arch(self) -> Arch {
        match self {
            CoreKind::M0Plus => Arch::V6M,
            CoreKind::M4F => Arch::V7EM,
        }
    }
}

/// Everything needed to build a virtual board.
#[derive(Clone, Debug)]
pub struct MachineConfig {
    /// The core.
    pub core: CoreKind,
    /// The memory map (from targets.toml).
    pub memory: MemoryMap,
    /// Address of the vector table at reset (initial VTOR). `None`: the origin of the first
    /// `flash` region (which skips an RP2040 boot2 region, so the table at 0x1000_0100 is found).
    pub vector_table: Option<u32>,
    /// Implemented priority bits of the NVIC (M0+: 2; STM32L4: 4; nRF52840, Apollo3: 3).
    pub priority_bits: u8,
    /// Take UsageFault/BusFault/HardFault exceptions as the hardware does (the firmware's
    /// handlers run) instead of stopping the run with a [`FaultReport`]. Off by default: the
    /// report says more than any handler can. A fault the core cannot take (in HardFault or
    /// NMI: lockup) still stops the run.
    pub fault_exceptions: bool,
}

impl MachineConfig {
    /// A configuration with the core's usual priority bits and the default vector table.
    pub fn new(core: CoreKind, memory: MemoryMap) -> MachineConfig {
        let priority_bits = match core {
            CoreKind::M0Plus => 2,
            CoreKind::M4F => 3,
        };
        MachineConfig {
            core,
            memory,
            vector_table: None,
            priority_bits,
            fault_exceptions: false,
        }
    }
}

/// General-purpose core registers and the APSR/EPSR state the executor touches on every step.
#[derive(Clone, Debug, Default)]
pub struct Cpu {
    /// R0-R15, then an always-zero slot 16 (the base of decoded literal loads) and unused
    /// slots up to 31, so that any 5-bit register field indexes it without a bounds check.
    /// R13 is the active stack pointer; R15 holds the architectural PC value (instruction
    /// address + 4) while an instruction executes.
    pub r: [u32; 32],
    /// Address of the next instruction to execute.
    pub pc: u32,
    /// APSR.N
    pub n: bool,
    /// APSR.Z
    pub z: bool,
    /// APSR.C
    pub c: bool,
    /// APSR.V
    pub v: bool,
    /// APSR.Q (sticky saturation)
    pub q: bool,
    /// APSR.GE, bits 3..0
    pub ge: u8,
    /// EPSR.IT: ITSTATE (firstcond:mask, advanced after each instruction of the block).
    pub it: u8,
}

impl Cpu {
    /// APSR as a word (N Z C V Q in bits 31..27, GE in 19..16).
    pub fn apsr(&self) -> u32 {
        ((self.n as u32) << 31)
            | ((self.z as u32) << 30)
            | ((self.c as u32) << 29)
            | ((self.v as u32) << 28)
            | ((self.q as u32) << 27)
            | ((self.ge as u32) << 16)
    }

    /// Set the APSR flags from a word; `with_ge` also sets GE (DSP extension).
    pub fn set_apsr(&mut self, v: u32, with_nzcvq: bool, with_ge: bool) {
        if with_nzcvq {
            self.n = v >> 31 & 1 != 0;
            self.z = v >> 30 & 1 != 0;
            self.c = v >> 29 & 1 != 0;
            self.v = v >> 28 & 1 != 0;
            self.q = v >> 27 & 1 != 0;
        }
        if with_ge {
            self.ge = (v >> 16 & 0xf) as u8;
        }
    }

    /// ConditionPassed (A7.3.1).
    #[inline(always)]
    pub fn condition_passed(&self, cond: u32) -> bool {
        let r = match cond >> 1 {
            0 => self.z,
            1 => self.c,
            2 => self.n,
            3 => self.v,
            4 => self.c && !self.z,
            5 => self.n == self.v,
            6 => self.n == self.v && !self.z,
            _ => return true,
        };
        if cond & 1 != 0 {
            !r
        } else {
            r
        }
    }
}

/// FPv4-SP register file (S0-S31, D0-D15 alias pairs of S registers) and FPSCR.
#[derive(Clone, Debug, Default)]
pub struct Fpu {
    /// S0-S31 as raw bits.
    pub s: [u32; 32],
    /// FPSCR.
    pub fpscr: u32,
}

/// UsageFault causes (CFSR.UFSR, B3.2.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsageFault {
    /// UNDEFINSTR: an UNDEFINED encoding (or one not in this core's architecture).
    Undefined {
        /// The encoding (16- or 32-bit).
        encoding: u32,
    },
    /// An UNPREDICTABLE encoding, which the emulator refuses to guess at.
    Unpredictable {
        /// The encoding.
        encoding: u32,
    },
    /// INVSTATE: a branch to an address with bit 0 clear (ARM state).
    InvalidState {
        /// The branch target.
        target: u32,
    },
    /// INVPC: a bad EXC_RETURN value.
    InvalidPc {
        /// The EXC_RETURN value.
        value: u32,
    },
    /// NOCP: an FP instruction with the coprocessor disabled in CPACR.
    NoCoprocessor,
    /// UNALIGNED: an access that must be aligned was not.
    Unaligned {
        /// The address.
        addr: u32,
    },
    /// DIVBYZERO with CCR.DIV_0_TRP set.
    DivideByZero,
}

impl fmt::Display for UsageFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageFault::Undefined { encoding } => write!(f, "UNDEFINED instruction {encoding:#x}"),
            UsageFault::Unpredictable { encoding } => {
                write!(f, "UNPREDICTABLE instruction {encoding:#x}")
            }
            UsageFault::InvalidState { target } => {
                write!(f, "branch to {target:#010x} with bit 0 clear (ARM state)")
            }
            UsageFault::InvalidPc { value } => write!(f, "invalid EXC_RETURN {value:#010x}"),
            UsageFault::NoCoprocessor => write!(f, "FP instruction while CPACR disables the FPU"),
            UsageFault::Unaligned { addr } => write!(f, "unaligned access at {addr:#010x}"),
            UsageFault::DivideByZero => write!(f, "division by zero with CCR.DIV_0_TRP set"),
        }
    }
}

/// What kind of fault stopped the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A data access outside every region, to a read-only region, or to an unmodelled peripheral.
    Bus {
        /// Address accessed.
        addr: u32,
        /// True for a write.
        write: bool,
    },
    /// An instruction fetch from an address with no memory.
    InstructionFetch {
        /// The address.
        addr: u32,
    },
    /// A UsageFault.
    Usage(UsageFault),
    /// A fault while stacking or unstacking an exception frame.
    Stacking {
        /// The address.
        addr: u32,
    },
}

/// Details of a fault: where, what, and the registers at the faulting instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultReport {
    /// The fault.
    pub kind: FaultKind,
    /// Address of the faulting instruction.
    pub pc: u32,
    /// Nearest ELF symbol at or below `pc` with the offset into it.
    pub symbol: Option<(String, u32)>,
    /// R0-R15 (R15 = `pc`).
    pub regs: [u32; 16],
    /// xPSR.
    pub xpsr: u32,
}

impl fmt::Display for FaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FaultKind::Bus { addr, write } => {
                let what = if write { "write to" } else { "read from" };
                write!(f, "bus fault: {what} {addr:#010x}, which no memory region or modelled peripheral covers")?
            }
            FaultKind::InstructionFetch { addr } => {
                write!(f, "bus fault: instruction fetch from {addr:#010x}")?
            }
            FaultKind::Usage(u) => write!(f, "usage fault: {u}")?,
            FaultKind::Stacking { addr } => write!(
                f,
                "bus fault while stacking an exception frame at {addr:#010x}"
            )?,
        }
        write!(f, " at pc {:#010x}", self.pc)?;
        if let Some((name, off)) = &self.symbol {
            write!(f, " ({name}+{off:#x})")?;
        }
        writeln!(f)?;
        for (i, r) in self.regs.iter().enumerate() {
            let name = match i {
                13 => "sp".to_string(),
                14 => "lr".to_string(),
                15 => "pc".to_string(),
                _ => format!("r{i}"),
            };
            write!(
                f,
                "{name:>3}={r:#010x}{}",
                if i % 4 == 3 { "\n" } else { " " }
            )?;
        }
        write!(f, "xpsr={:#010x}", self.xpsr)
    }
}

/// Why `run` returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The program exited through semihosting (SYS_EXIT / SYS_EXIT_EXTENDED).
    Exit {
        /// Exit code (0 for ADP_Stopped_ApplicationExit).
        code: i32,
    },
    /// A BKPT other than the semihosting one (0xAB).
    Breakpoint {
        /// Address of the BKPT.
        pc: u32,
        /// Its immediate.
        imm: u8,
    },
    /// A fault (never silently ignored).
    Fault(Box<FaultReport>),
    /// The instruction budget ran out.
    BudgetExhausted,
    /// The program can make no more progress.
    Hang {
        /// Where it hangs.
        pc: u32,
        /// How.
        kind: HangKind,
    },
}

/// Kinds of hang the emulator recognises without waiting them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HangKind {
    /// A branch to itself (`b .`, `loop {}`) with no interrupt that could ever end it.
    SelfLoop,
    /// WFI/WFE with nothing pending and nothing that could become pending.
    Sleep,
}

/// Internal: why an instruction did not complete normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trap {
    Bus {
        addr: u32,
        write: bool,
    },
    Fetch {
        addr: u32,
    },
    Usage(UsageFault),
    Stacking {
        addr: u32,
    },
    Stop(StopReason),
    /// A self-branch or sleep: the run loop decides between idling and reporting a hang.
    Idle(HangKind),
}

/// Chip peripherals outside the core's system space. Consulted only for accesses that miss
/// every memory region (never on the fast path). Return `None`/`false` for an unmodelled
/// register: the access then stops the run with a bus fault.
pub trait Peripherals {
    /// Read `size` (1, 2, 4) bytes at `addr`; `cycles` is the current cycle count.
    fn read(&mut self, addr: u32, size: u8, cycles: u64) -> Option<u32>;
    /// Write `size` bytes at `addr`; false if the register is not modelled.
    fn write(&mut self, addr: u32, size: u8, value: u32, cycles: u64) -> bool;
    /// External interrupt lines (IRQ numbers, 0-based) that are asserted at `cycles`. Called
    /// between instructions after every peripheral access and at [`Self::next_event`]; each
    /// returned line is pended in the NVIC (like a pulse: the peripheral clears its own request).
    fn take_irqs(&mut self, _cycles: u64, _pend: &mut dyn FnMut(u32)) {}
    /// The next cycle at which the peripheral will raise an interrupt on its own (a timer alarm,
    /// a received byte), so sleeping cores and self-loops can be woken then. `None`: never.
    fn next_event(&self, _cycles: u64) -> Option<u64> {
        None
    }
    /// The value the firmware last wrote to a modelled register (or its reset value); `None`
    /// if it is unknown. For the timing model, which reads the chip's configuration.
    fn register(&self, _addr: u32) -> Option<u32> {
        None
    }
}

/// The virtual board. `T` is the timing model (static dispatch; [`NullTiming`] costs nothing).
pub struct Machine<T: Timing = NullTiming> {
    /// Core registers.
    pub cpu: Cpu,
    /// FPU registers (unused on the M0+).
    pub fpu: Fpu,
    pub(crate) arch: Arch,
    pub(crate) core: CoreKind,
    pub(crate) map: MemoryMap,
    pub(crate) mem: Memory,
    pub(crate) sys: SystemState,
    pub(crate) exclusive: Option<u32>,
    fault_exceptions: bool,
    /// The timing model.
    pub timing: T,
    pub(crate) peripherals: Option<Box<dyn Peripherals>>,
    pub(crate) symbols: SymbolTable,
    /// Instructions executed (IT-skipped ones included).
    pub(crate) instructions: u64,
    /// Cycles, as the timing model counts them.
    pub(crate) cycles: u64,
    /// Address of the last data access (for the timing model's memory side).
    pub(crate) data_addr: u32,
    /// Operand information for the timing model (quotient bits of the last division).
    pub(crate) timing_aux: u32,
    /// Cycle count at which the run loop must look at exceptions/SysTick again.
    pub(crate) next_check: u64,
    /// Output written through semihosting (stdout, stderr).
    pub(crate) semihost_stdout: Vec<u8>,
    pub(crate) semihost_stderr: Vec<u8>,
    /// Current code block for instruction fetch: base address, length in bytes, and the index
    /// of its first slot in the flat predecode cache.
    code_base: u32,
    code_len: u32,
    code_slot: usize,
}

impl Machine<NullTiming> {
    /// A board with no timing model (one cycle per instruction).
    pub fn new(config: MachineConfig) -> Result<Machine<NullTiming>, MapError> {
        Machine::with_timing(config, NullTiming)
    }
}

impl<T: Timing> Machine<T> {
    /// A board with the given timing model. Memory is zeroed; load an image, then [`Self::reset`].
    pub fn with_timing(config: MachineConfig, timing: T) -> Result<Machine<T>, MapError> {
        config.memory.validate()?;
        let mem = Memory::new(&config.memory);
        let vtor = config.vector_table.unwrap_or_else(|| {
            config
                .memory
                .regions
                .iter()
                .filter(|r| r.kind == RegionKind::Flash)
                .map(|r| r.origin)
                .min()
                .unwrap_or(0)
        });
        Ok(Machine {
            cpu: Cpu::default(),
            fpu: Fpu::default(),
            arch: config.core.arch(),
            core: config.core,
            map: config.memory,
            mem,
            sys: SystemState::new(config.core, vtor, config.priority_bits),
            exclusive: None,
            fault_exceptions: config.fault_exceptions,
            timing,
            peripherals: None,
            symbols: SymbolTable::default(),
            instructions: 0,
            cycles: 0,
            data_addr: 0,
            timing_aux: 0,
            next_check: 0,
            semihost_stdout: Vec::new(),
            semihost_stderr: Vec::new(),
            code_base: 0,
            code_len: 0,
            code_slot: 0,
        })
    }

    /// Attach the chip's peripherals (consulted for accesses outside memory and system space).
    pub fn set_peripherals(&mut self, p: Box<dyn Peripherals>) {
        self.peripherals = Some(p);
    }

    /// The core.
    pub fn core(&self) -> CoreKind {
        self.core
    }

    /// The memory map.
    pub fn memory_map(&self) -> &MemoryMap {
        &self.map
    }

    /// Load an ELF file (PT_LOAD segments by physical address) and keep its symbols.
    /// Checks the vector table at the configured address; call [`Self::reset`] afterwards.
    pub fn load_elf(&mut self, bytes: &[u8]) -> Result<LoadedImage, ElfError> {
        let image = crate::elf::load(self, bytes)?;
        Ok(image)
    }

    /// Reset: SP from the vector table's word 0, PC from word 1 (B1.5.5 TakeReset).
    pub fn reset(&mut self) -> Result<(), ElfError> {
        let vtor = self.sys.reset_vtor;
        let sp = self
            .mem
            .read32(vtor)
            .ok_or(ElfError::NoVectorTable { addr: vtor })?;
        let entry = self
            .mem
            .read32(vtor.wrapping_add(4))
            .ok_or(ElfError::NoVectorTable { addr: vtor })?;
        self.cpu = Cpu::default();
        self.fpu = Fpu::default();
        self.sys.reset(self.core);
        self.exclusive = None;
        self.cpu.r[13] = sp & !3;
        self.sys.msp = sp & !3;
        self.cpu.r[14] = 0xffff_ffff;
        self.cpu.pc = entry & !1;
        self.next_check = 0;
        self.code_len = 0;
        Ok(())
    }

    /// Instructions executed since the machine was built.
    pub fn instructions(&self) -> u64 {
        self.instructions
    }

    /// Cycles counted by the timing model since the machine was built.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Bytes the program wrote through semihosting to stdout (fd 1, SYS_WRITE0, SYS_WRITEC).
    pub fn semihosting_stdout(&self) -> &[u8] {
        &self.semihost_stdout
    }

    /// Bytes the program wrote through semihosting to stderr (fd 2).
    pub fn semihosting_stderr(&self) -> &[u8] {
        &self.semihost_stderr
    }

    /// Take (and clear) the semihosting stdout bytes written so far.
    pub fn take_semihosting_stdout(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.semihost_stdout)
    }

    /// Take (and clear) the semihosting stderr bytes written so far.
    pub fn take_semihosting_stderr(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.semihost_stderr)
    }

    /// Take (and clear) the bytes written to ITM stimulus port 0 (Cortex-M4 only).
    pub fn take_itm_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.sys.itm_output)
    }

    /// The ELF symbol table of the loaded image.
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Read emulated memory (any backed region) without side effects; false if the range is not
    /// entirely in one backed block.
    pub fn read_memory(&self, addr: u32, out: &mut [u8]) -> bool {
        self.mem.host_read(addr, out)
    }

    /// Read a little-endian word from emulated memory.
    pub fn read_u32(&self, addr: u32) -> Option<u32> {
        self.mem.read32(addr)
    }

    /// Write emulated memory (ignoring write protection, as a debug probe does).
    pub fn write_memory(&mut self, addr: u32, bytes: &[u8]) -> bool {
        self.mem.host_write(addr, bytes)
    }

    /// Read a word through the bus as a debug probe would (memory, system registers such as
    /// SCB/NVIC/SysTick/DWT, then peripherals). `None` where the CPU would take a bus fault.
    pub fn bus_read32(&mut self, addr: u32) -> Option<u32> {
        self.read32(addr).ok()
    }

    /// Write a word through the bus (memory, system registers, peripherals); false where the
    /// CPU would take a bus fault (including writes to flash).
    pub fn bus_write32(&mut self, addr: u32, value: u32) -> bool {
        let ok = self.write32(addr, value).is_ok();
        self.next_check = 0;
        ok
    }

    /// Find the first occurrence of `needle` in backed memory within `[start, end)`.
    pub fn find_bytes(&self, start: u32, end: u32, needle: &[u8]) -> Option<u32> {
        for b in &self.mem.blocks {
            let lo = start.max(b.base);
            let hi = (end as u64).min(b.base as u64 + b.data.len() as u64);
            if (lo as u64) >= hi {
                continue;
            }
            let hay = &b.data[(lo - b.base) as usize..(hi - b.base as u64) as usize];
            if let Some(pos) = hay.windows(needle.len()).position(|w| w == needle) {
                return Some(lo + pos as u32);
            }
        }
        None
    }

    /// Pend an external interrupt (IRQ number `irq`, exception `16 + irq`), as a peripheral would.
    pub fn pend_irq(&mut self, irq: u32) {
        self.sys.set_pending(16 + irq);
        self.next_check = 0;
    }

    /// xPSR as MRS would read it.
    pub fn xpsr(&self) -> u32 {
        self.cpu.apsr() | (1 << 24) | self.sys.ipsr | it_to_epsr(self.cpu.it)
    }

    /// Run up to `budget` instructions.
    pub fn run(&mut self, budget: u64) -> StopReason {
        let end = self.instructions.saturating_add(budget);
        // The count lives in a local while running, so the hot loop keeps it in a register.
        let mut count = self.instructions;
        let stop = self.run_until(end, &mut count);
        self.instructions = count;
        stop
    }

    /// The interpreter loop. The PC lives in a local: after an instruction that did not change
    /// the flow of control (the common, well-predicted case) the next one's address comes from
    /// a register rather than back from `self.cpu.pc`, which keeps a store and a reload off the
    /// chain from one instruction to the next.
    #[inline(always)]
    fn run_until(&mut self, end: u64, count: &mut u64) -> StopReason {
        let mut pc = self.cpu.pc;
        loop {
            if self.cycles >= self.next_check {
                if let Some(stop) = self.service() {
                    return stop;
                }
                pc = self.cpu.pc;
            }
            if *count >= end {
                return StopReason::BudgetExhausted;
            }
            let off = pc.wrapping_sub(self.code_base);
            let insn = if off < self.code_len {
                let slot = self.mem.code[self.code_slot + (off >> 1) as usize];
                if slot.op == Op::NotDecoded {
                    match self.decode_at(pc) {
                        Ok(i) => i,
                        Err(t) => match self.fault(t, pc) {
                            Some(stop) => return stop,
                            None => {
                                pc = self.cpu.pc;
                                continue;
                            }
                        },
                    }
                } else {
                    slot
                }
            } else {
                match self.decode_at(pc) {
                    Ok(i) => i,
                    Err(t) => match self.fault(t, pc) {
                        Some(stop) => return stop,
                        None => {
                            pc = self.cpu.pc;
                            continue;
                        }
                    },
                }
            };
            // The fetch comes before the instruction executes (and sees the flash configuration
            // the previous one left); its stall is charged with the instruction.
            let fetch = self.timing.on_fetch(pc, self.cycles);
            let next = pc.wrapping_add(insn.len as u32);
            let it = self.cpu.it;
            let mut executed = true;
            if it != 0 {
                self.cpu.it = if it & 0x7 == 0 {
                    0
                } else {
                    (it & 0xe0) | ((it << 1) & 0x1f)
                };
                executed = self.cpu.condition_passed((it >> 4) as u32) || insn.op == Op::Bkpt;
            }
            self.cpu.pc = next;
            if executed {
                self.cpu.r[PC as usize] = pc.wrapping_add(4);
                if let Err(trap) = self.execute(&insn, it != 0) {
                    match trap {
                        Trap::Idle(kind) => {
                            if let Some(stop) = self.idle(pc, kind) {
                                return stop;
                            }
                        }
                        Trap::Stop(StopReason::Exit { code }) => {
                            let taken = self.cpu.pc != next;
                            self.account(&insn, pc, taken, true, fetch);
                            *count += 1;
                            return StopReason::Exit { code };
                        }
                        t => {
                            // The faulting instruction has no effect: back to its address. It
                            // was fetched, though: its fetch stall is charged.
                            self.cycles += fetch as u64;
                            self.cpu.it = it;
                            self.cpu.pc = pc;
                            match self.fault(t, pc) {
                                Some(stop) => return stop,
                                None => {
                                    pc = self.cpu.pc;
                                    continue;
                                }
                            }
                        }
                    }
                }
            }
            // Two calls with a constant `taken`, so that this is a branch (predicted, mostly
            // not taken) and not a select that would wait for `self.cpu.pc`.
            if self.cpu.pc != next {
                self.account(&insn, pc, true, executed, fetch);
                pc = self.cpu.pc;
            } else {
                self.account(&insn, pc, false, executed, fetch);
                pc = next;
            }
            *count += 1;
        }
    }

    #[inline(always)]
    fn account(&mut self, insn: &Insn, pc: u32, branch_taken: bool, executed: bool, fetch: u32) {
        let event = InsnEvent {
            insn,
            pc,
            branch_taken,
            executed,
            data_addr: self.data_addr,
            aux: self.timing_aux,
            cycles: self.cycles,
        };
        self.cycles += (self.timing.on_insn(&event) + fetch) as u64;
    }

    /// Decode the instruction at `pc` (filling the predecode cache) and make its block current.
    #[cold]
    fn decode_at(&mut self, pc: u32) -> Result<Insn, Trap> {
        let Some((block, off)) = self.mem.find(pc, 2) else {
            return Err(Trap::Fetch { addr: pc });
        };
        let hw1 = self.mem.read16(pc).ok_or(Trap::Fetch { addr: pc })?;
        let hw2 = if isa::is_wide(hw1) {
            self.mem.read16(pc.wrapping_add(2)).ok_or(Trap::Fetch {
                addr: pc.wrapping_add(2),
            })?
        } else {
            0
        };
        let insn = isa::decode(self.arch, pc, hw1, hw2);
        let b = &mut self.mem.blocks[block];
        b.has_code = true;
        self.mem.code[b.code_base + (off >> 1) as usize] = insn;
        self.code_base = b.base;
        self.code_len = b.len();
        self.code_slot = b.code_base;
        Ok(insn)
    }

    /// A trap at `pc`: stop with a report, or (with `fault_exceptions`) take the fault exception
    /// the hardware would (B1.5.1): the configurable fault if SHCSR enables it and its priority
    /// preempts, else HardFault; a fault at HardFault priority or above is a lockup and stops.
    #[cold]
    fn fault(&mut self, trap: Trap, pc: u32) -> Option<StopReason> {
        let configurable = match &trap {
            Trap::Usage(_) => 6,
            Trap::Bus { .. } | Trap::Fetch { .. } => 5,
            _ => return Some(self.stop_for(trap, pc)),
        };
        if !self.fault_exceptions || self.sys.execution_priority() < 0 {
            return Some(self.stop_for(trap, pc));
        }
        let kind = match trap {
            Trap::Usage(u) => FaultKind::Usage(u),
            Trap::Bus { addr, write } => FaultKind::Bus { addr, write },
            Trap::Fetch { addr } => FaultKind::InstructionFetch { addr },
            _ => unreachable!("filtered above"),
        };
        self.sys.record_fault(&kind);
        let exc = if self.core == CoreKind::M4F && self.sys.fault_enabled_and_preempts(configurable)
        {
            self.sys.hfsr &= !(1 << 30); // not escalated: FORCED stays clear
            configurable
        } else {
            crate::system::HARDFAULT
        };
        match self.exception_entry(exc) {
            Ok(()) => None,
            Err(t) => Some(self.stop_for(t, pc)),
        }
    }

    /// Turn a trap into a stop reason with a full report.
    #[cold]
    pub(crate) fn stop_for(&mut self, trap: Trap, pc: u32) -> StopReason {
        let kind = match trap {
            Trap::Stop(s) => return s,
            Trap::Bus { addr, write } => FaultKind::Bus { addr, write },
            Trap::Fetch { addr } => FaultKind::InstructionFetch { addr },
            Trap::Usage(u) => FaultKind::Usage(u),
            Trap::Stacking { addr } => FaultKind::Stacking { addr },
            Trap::Idle(kind) => return StopReason::Hang { pc, kind },
        };
        self.sys.record_fault(&kind);
        let mut regs = [0u32; 16];
        regs.copy_from_slice(&self.cpu.r[..16]);
        regs[15] = pc;
        StopReason::Fault(Box::new(FaultReport {
            kind,
            pc,
            symbol: self.symbols.lookup(pc).map(|(n, o)| (n.to_string(), o)),
            regs,
            xpsr: self.xpsr(),
        }))
    }

    /// A self-loop or sleep: jump to the next event that could wake the core, or report a hang.
    /// A self-loop ends only by taking an exception; WFI/WFE also wake on a pending exception
    /// that PRIMASK keeps from being taken (B1.5.19).
    #[cold]
    fn idle(&mut self, pc: u32, kind: HangKind) -> Option<StopReason> {
        let woken = match kind {
            HangKind::SelfLoop => self.sys.exception_ready(),
            HangKind::Sleep => self.sys.wake_pending(),
        };
        if woken {
            self.next_check = 0;
            return None;
        }
        let wakeup = match (self.sys.next_wakeup(self.cycles), self.peripheral_event()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match wakeup {
            Some(at) => {
                // Nothing observable happens until then: skip the idle cycles.
                self.cycles = self.cycles.max(at);
                self.next_check = 0;
                None
            }
            None => Some(StopReason::Hang { pc, kind }),
        }
    }

    /// Between instructions: advance SysTick, take a pending exception if its priority allows.
    #[cold]
    fn service(&mut self) -> Option<StopReason> {
        self.sys.advance_systick(self.cycles);
        if let Some(p) = self.peripherals.as_mut() {
            let sys = &mut self.sys;
            p.take_irqs(self.cycles, &mut |irq| sys.set_pending(16 + (irq & 0xff)));
        }
        if let Some(exc) = self.sys.exception_to_take() {
            let pc = self.cpu.pc;
            if let Err(t) = self.exception_entry(exc) {
                return Some(self.stop_for(t, pc));
            }
        }
        self.next_check = self
            .sys
            .next_deadline(self.cycles)
            .min(self.peripheral_event().unwrap_or(u64::MAX));
        None
    }

    /// The peripherals' next self-timed event, if any.
    fn peripheral_event(&self) -> Option<u64> {
        self.peripherals
            .as_ref()
            .and_then(|p| p.next_event(self.cycles))
    }

    /// BXWritePC / LoadWritePC (A2.3.1): interworking branch, or exception return for
    /// EXC_RETURN values in Handler mode.
    pub(crate) fn bx_write_pc(&mut self, target: u32) -> Result<(), Trap> {
        if self.sys.ipsr != 0 && target >> 28 == 0xf {
            return self.exception_return(target);
        }
        if target & 1 == 0 {
            return Err(Trap::Usage(UsageFault::InvalidState { target }));
        }
        self.cpu.pc = target & !1;
        Ok(())
    }

    /// Execute one decoded instruction. `self.cpu.pc` already points to the next instruction and
    /// R15 holds this instruction's address + 4.
    #[inline(always)]
    fn execute(&mut self, i: &Insn, in_it: bool) -> Result<(), Trap> {
        match i.op {
            Op::MovImm => {
                self.cpu.r[reg(i.rd)] = i.imm;
                if i.flags & (F_S | isa::F_S_OUTSIDE_IT) != 0 {
                    self.exec_logical(i, in_it, true, true, |_, b| b);
                }
            }
            Op::MovReg => self.exec_logical(i, in_it, false, true, |_, b| b),
            Op::MvnImm => self.exec_logical(i, in_it, true, true, |_, b| !b),
            Op::MvnReg => self.exec_logical(i, in_it, false, true, |_, b| !b),
            Op::AndImm => self.exec_logical(i, in_it, true, true, |a, b| a & b),
            Op::AndReg => self.exec_logical(i, in_it, false, true, |a, b| a & b),
            Op::TstImm => self.exec_logical(i, in_it, true, false, |a, b| a & b),
            Op::TstReg => self.exec_logical(i, in_it, false, false, |a, b| a & b),
            Op::BicImm => self.exec_logical(i, in_it, true, true, |a, b| a & !b),
            Op::BicReg => self.exec_logical(i, in_it, false, true, |a, b| a & !b),
            Op::OrrImm => self.exec_logical(i, in_it, true, true, |a, b| a | b),
            Op::OrrReg => self.exec_logical(i, in_it, false, true, |a, b| a | b),
            Op::OrnImm => self.exec_logical(i, in_it, true, true, |a, b| a | !b),
            Op::OrnReg => self.exec_logical(i, in_it, false, true, |a, b| a | !b),
            Op::EorImm => self.exec_logical(i, in_it, true, true, |a, b| a ^ b),
            Op::EorReg => self.exec_logical(i, in_it, false, true, |a, b| a ^ b),
            Op::TeqImm => self.exec_logical(i, in_it, true, false, |a, b| a ^ b),
            Op::TeqReg => self.exec_logical(i, in_it, false, false, |a, b| a ^ b),
            Op::AddImm => self.exec_arith(i, in_it, true, true, |a, b, _| add(a, b, false)),
            Op::AddReg => self.exec_arith(i, in_it, false, true, |a, b, _| add(a, b, false)),
            Op::CmnImm => self.exec_arith(i, in_it, true, false, |a, b, _| add(a, b, false)),
            Op::CmnReg => self.exec_arith(i, in_it, false, false, |a, b, _| add(a, b, false)),
            Op::AdcImm => self.exec_arith(i, in_it, true, true, add),
            Op::AdcReg => self.exec_arith(i, in_it, false, true, add),
            Op::SubImm => self.exec_arith(i, in_it, true, true, |a, b, _| add(a, !b, true)),
            Op::SubReg => self.exec_arith(i, in_it, false, true, |a, b, _| add(a, !b, true)),
            Op::CmpImm => self.exec_arith(i, in_it, true, false, |a, b, _| add(a, !b, true)),
            Op::CmpReg => self.exec_arith(i, in_it, false, false, |a, b, _| add(a, !b, true)),
            Op::SbcImm => self.exec_arith(i, in_it, true, true, |a, b, c| add(a, !b, c)),
            Op::SbcReg => self.exec_arith(i, in_it, false, true, |a, b, c| add(a, !b, c)),
            Op::RsbImm => self.exec_arith(i, in_it, true, true, |a, b, _| add(!a, b, true)),
            Op::RsbReg => self.exec_arith(i, in_it, false, true, |a, b, _| add(!a, b, true)),
            Op::ShiftReg => self.exec_shift_reg(i, in_it),
            Op::Mul => self.exec_mul(i, in_it),
            Op::AluWritePc => self.exec_alu_write_pc(i)?,
            Op::LdrImm
            | Op::LdrbImm
            | Op::LdrhImm
            | Op::LdrsbImm
            | Op::LdrshImm
            | Op::StrImm
            | Op::StrbImm
            | Op::StrhImm => self.exec_load_store_imm(i)?,
            Op::LdrReg
            | Op::LdrbReg
            | Op::LdrhReg
            | Op::LdrsbReg
            | Op::LdrshReg
            | Op::StrReg
            | Op::StrbReg
            | Op::StrhReg => self.exec_load_store_reg(i)?,
            Op::Ldm => self.exec_ldm(i)?,
            Op::Stm => self.exec_stm(i)?,
            Op::B => {
                if i.imm == self.cpu.pc.wrapping_sub(i.len as u32) {
                    self.cpu.pc = i.imm;
                    return Err(Trap::Idle(HangKind::SelfLoop));
                }
                self.cpu.pc = i.imm;
            }
            Op::BCond => {
                if self.cpu.condition_passed(i.shift as u32) {
                    if i.imm == self.cpu.pc.wrapping_sub(i.len as u32) {
                        self.cpu.pc = i.imm;
                        return Err(Trap::Idle(HangKind::SelfLoop));
                    }
                    self.cpu.pc = i.imm;
                }
            }
            Op::Bl => self.exec_bl(i),
            Op::Bx => self.bx_write_pc(self.cpu.r[reg(i.rm)])?,
            Op::Blx => self.exec_blx(i)?,
            Op::Cbz => self.exec_cbz(i),
            Op::It => self.cpu.it = i.imm as u8,
            Op::Tbb => self.exec_table_branch(i)?,
            Op::Ldrd | Op::Strd => self.exec_load_store_dual(i)?,
            Op::Ldrex => self.exec_ldrex(i)?,
            Op::Strex => self.exec_strex(i)?,
            Op::Clrex => self.exclusive = None,
            Op::Movt
            | Op::Clz
            | Op::Rbit
            | Op::Rev
            | Op::Rev16
            | Op::Revsh
            | Op::Extend
            | Op::Bfi
            | Op::Bfc
            | Op::Ubfx
            | Op::Sbfx => self.exec_bits(i),
            Op::Mla
            | Op::Mls
            | Op::Umull
            | Op::Smull
            | Op::Umlal
            | Op::Smlal
            | Op::Umaal
            | Op::Smlaxy
            | Op::Smulxy
            | Op::Smlalxy
            | Op::Smulwy
            | Op::Smlawy
            | Op::Smlad
            | Op::Smlsd
            | Op::Smuad
            | Op::Smusd
            | Op::Smlald
            | Op::Smlsld
            | Op::Smmul
            | Op::Smmla
            | Op::Smmls
            | Op::Usad8
            | Op::Usada8 => self.exec_multiply(i),
            Op::Sdiv | Op::Udiv => self.exec_divide(i)?,
            Op::Ssat
            | Op::Usat
            | Op::Ssat16
            | Op::Usat16
            | Op::Qadd
            | Op::Qsub
            | Op::Qdadd
            | Op::Qdsub => self.exec_saturate(i),
            Op::Parallel => self.exec_parallel(i),
            Op::Sel => self.exec_sel(i),
            Op::Pkh => self.exec_pkh(i),
            Op::Mrs => self.exec_mrs(i),
            Op::Msr => self.exec_msr(i),
            Op::Cps => self.exec_cps(i),
            Op::Nop => {}
            Op::Sev => self.sys.event_register = true,
            Op::Wfi => return Err(Trap::Idle(HangKind::Sleep)),
            Op::Wfe => {
                if !std::mem::take(&mut self.sys.event_register) {
                    return Err(Trap::Idle(HangKind::Sleep));
                }
            }
            Op::Svc => {
                self.sys.set_pending(crate::system::SVCALL);
                self.next_check = 0;
            }
            Op::Bkpt => self.exec_bkpt(i)?,
            Op::Udf | Op::Undefined => {
                return Err(Trap::Usage(UsageFault::Undefined { encoding: i.imm }))
            }
            Op::Unpredictable => {
                return Err(Trap::Usage(UsageFault::Unpredictable { encoding: i.imm }))
            }
            Op::NotDecoded => unreachable!("executed an undecoded cache slot"),
            _ => self.exec_vfp(i)?,
        }
        Ok(())
    }
}

/// Index of register field `r` in [`Cpu::r`] (masked so the compiler needs no bounds check).
#[inline(always)]
pub(crate) fn reg(r: u8) -> usize {
    (r & 31) as usize
}

/// AddWithCarry as a closure-friendly function.
#[inline(always)]
fn add(a: u32, b: u32, c: bool) -> (u32, bool, bool) {
    isa::data_processing::add_with_carry(a, b, c)
}

/// EPSR bits for an ITSTATE value: IT[1:0] at 26:25, IT[7:2] at 15:10.
pub(crate) fn it_to_epsr(it: u8) -> u32 {
    let it = it as u32;
    ((it & 0b11) << 25) | ((it >> 2) << 10)
}

/// ITSTATE from EPSR bits.
pub(crate) fn epsr_to_it(xpsr: u32) -> u8 {
    (((xpsr >> 25) & 0b11) | (((xpsr >> 10) & 0x3f) << 2)) as u8
}
