//! The virtual boards: a board of targets.toml, emulated, running an unmodified ELF.
//!
//! The host side talks to the firmware as a debug probe or a serial cable would: it reads the
//! RTT up-channel by finding the control block in emulated RAM, or takes the bytes the chip's
//! UART sent; both feed the same record parser as a real board's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use emulator::chips::{Chip, ChipPeripherals, GpioLog, PinChange, UartPort, UnmodelledLog};
use emulator::timing::{cortex_m0plus, cortex_m4, CoreTable};
use emulator::{
    CoreKind, CycleModel, Machine, MachineConfig, MemoryMap, Region, RegionKind, StopReason,
};

use crate::stream::{Measurements, RecordStream};
use crate::targets::{self, Board, Transport};

/// The cycle model the virtual boards run with, recorded with every emulated result (one
/// place: the emulator's timing tables, see docs/TIMING.md).
pub const CYCLE_MODEL_VERSION: &str = emulator::CYCLE_MODEL_VERSION;

/// Bytes the host keeps queued in a UART's receive side: a PL011's 32-byte FIFO and a little
/// of the host's buffer, so that the firmware, not the host, sets the pace.
const UART_RX_FIFO: usize = 64;

/// Instructions per slice of emulation between two looks at the transport.
const SLICE_INSTRUCTIONS: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum VirtualBoardError {
    #[error("board \"{board}\": chip \"{chip}\" has no emulator model (modelled chips: {known})")]
    UnknownChip {
        board: String,
        chip: String,
        known: &'static str,
    },
    #[error("board \"{board}\": its memory map cannot be emulated: {reason}")]
    Map { board: String, reason: String },
    #[error("{path}: {reason}")]
    Elf { path: String, reason: String },
    #[error("board \"{board}\" has no model region in targets.toml")]
    NoModelRegion { board: String },
    #[error("the model partition is {partition_bytes} bytes but region {region} of board \"{board}\" has {region_bytes}")]
    PartitionTooLarge {
        partition_bytes: usize,
        region: String,
        board: String,
        region_bytes: u32,
    },
    #[error("cannot write region {region} of the virtual board")]
    PartitionWrite { region: String },
}

/// How an emulated run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// The firmware reported `@done`.
    Done,
    /// The firmware reported `@error <reason>`.
    FirmwareError(String),
    /// A record did not parse (quoted).
    Malformed(String),
    /// Semihosting exit (bring-your-own firmware that does not speak the protocol).
    Exit(i32),
    /// A fault, hang, breakpoint, the instruction budget, or an interrupt: the firmware did not
    /// finish.
    Stopped(String),
    /// The host-time limit: the host was too slow or too busy, which may pass on a retry.
    TimedOut(String),
}

impl End {
    /// How the report ended, if it has: `@error`, a malformed record, or `@done` (the same for
    /// every back end).
    pub fn of_report(m: &Measurements) -> Option<End> {
        if let Some(reason) = &m.error {
            Some(End::FirmwareError(reason.clone()))
        } else if let Some(line) = &m.malformed {
            Some(End::Malformed(line.clone()))
        } else {
            m.done.then_some(End::Done)
        }
    }
}

/// The outcome of running firmware on a virtual board.
#[derive(Debug)]
pub struct Run {
    pub end: End,
    pub stream: RecordStream,
    /// Semihosting output, if any.
    pub semihosting: Vec<u8>,
    pub instructions: u64,
    pub cycles: u64,
    pub host_time: Duration,
}

/// Limits of one emulated run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_instructions: u64,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_instructions: 20_000_000_000,
            timeout: Duration::from_secs(600),
        }
    }
}

enum HostTransport {
    /// RTT: the control block's address once found.
    Rtt {
        control_block: Option<u32>,
    },
    Uart(UartPort),
}

/// A board of targets.toml with an ELF loaded, ready to run.
pub struct VirtualBoard {
    pub machine: Machine<CycleModel>,
    transport: HostTransport,
    clock_hz: u64,
    unmodelled: UnmodelledLog,
    gpio: GpioLog,
}

/// The cycle-model table of a core.
pub fn core_table(core: CoreKind) -> &'static CoreTable {
    match core {
        CoreKind::M0Plus => &cortex_m0plus::TABLE,
        CoreKind::M4F => &cortex_m4::TABLE,
    }
}

/// The emulator's memory map for a board.
pub fn memory_map(board: &Board) -> MemoryMap {
    MemoryMap::new(
        board
            .memory
            .iter()
            .map(|r| {
                let kind = match r.kind {
                    targets::RegionKind::Flash => RegionKind::Flash,
                    targets::RegionKind::Model => RegionKind::Model,
                    targets::RegionKind::Ram => RegionKind::Ram,
                    targets::RegionKind::Boot2 => RegionKind::Boot2,
                    targets::RegionKind::Reserved => RegionKind::Reserved,
                };
                Region::new(r.name.clone(), r.origin, r.size, kind)
            })
            .collect(),
    )
}

impl VirtualBoard {
    /// Builds the virtual board and loads `elf` (its path is for messages).
    pub fn new(board: &Board, elf: &[u8], path: &str) -> Result<VirtualBoard, VirtualBoardError> {
        VirtualBoard::with_permissive(board, elf, path, false)
    }

    /// As [`VirtualBoard::new`]; `permissive` lets unmodelled peripheral registers read 0 and
    /// ignore writes instead of raising a bus fault (each address logged, see
    /// [`VirtualBoard::unmodelled`]), for firmware that touches more of the chip than the
    /// models cover.
    pub fn with_permissive(
        board: &Board,
        elf: &[u8],
        path: &str,
        permissive: bool,
    ) -> Result<VirtualBoard, VirtualBoardError> {
        let elf_error = |reason: String| VirtualBoardError::Elf {
            path: path.to_owned(),
            reason,
        };
        let mut vb = VirtualBoard::blank(board, permissive)?;
        vb.machine
            .load_elf(elf)
            .map_err(|e| elf_error(e.to_string()))?;
        vb.machine.reset().map_err(|e| elf_error(e.to_string()))?;
        Ok(vb)
    }

    /// Builds the virtual board from what a bootloader wrote to its flash (`(address, bytes)`
    /// blocks) and resets it, as a board does after flashing: no ELF, so no symbols.
    pub fn from_flash(
        board: &Board,
        blocks: &[(u32, &[u8])],
    ) -> Result<VirtualBoard, VirtualBoardError> {
        let mut vb = VirtualBoard::blank(board, false)?;
        for &(addr, bytes) in blocks {
            if !vb.machine.write_memory(addr, bytes) {
                return Err(VirtualBoardError::Map {
                    board: board.name.clone(),
                    reason: format!("{} bytes at {addr:#x} lie outside its memory", bytes.len()),
                });
            }
        }
        vb.machine.reset().map_err(|e| VirtualBoardError::Elf {
            path: "the flashed image".into(),
            reason: e.to_string(),
        })?;
        Ok(vb)
    }

    /// [`VirtualBoard::new`] with a job's model partition written (see
    /// [`VirtualBoard::write_partition`]): ready to run the job.
    pub fn with_partition(
        board: &Board,
        elf: &[u8],
        partition: &[u8],
    ) -> Result<VirtualBoard, VirtualBoardError> {
        let mut vb = VirtualBoard::new(board, elf, "firmware")?;
        vb.write_partition(board, partition)?;
        Ok(vb)
    }

    /// The level changes of the chip's GPIO outputs so far (an energy meter's gate among them).
    pub fn gpio(&self) -> Vec<PinChange> {
        self.gpio.changes()
    }

    /// The host end of the board's UART, when its transport is one.
    pub fn uart(&self) -> Option<UartPort> {
        match &self.transport {
            HostTransport::Uart(port) => Some(port.clone()),
            HostTransport::Rtt { .. } => None,
        }
    }

    /// The board with its peripherals and an empty memory.
    fn blank(board: &Board, permissive: bool) -> Result<VirtualBoard, VirtualBoardError> {
        let chip = Chip::from_name(&board.chip).ok_or_else(|| VirtualBoardError::UnknownChip {
            board: board.name.clone(),
            chip: board.chip.clone(),
            known: Chip::KNOWN,
        })?;
        let core = match board.core {
            targets::Core::CortexM0Plus => CoreKind::M0Plus,
            targets::Core::CortexM4F => CoreKind::M4F,
        };
        let config = MachineConfig::new(core, memory_map(board));
        let timing = CycleModel::new(core_table(core), chip.memory_timing());
        let mut machine =
            Machine::with_timing(config, timing).map_err(|e| VirtualBoardError::Map {
                board: board.name.clone(),
                reason: e.to_string(),
            })?;
        let mut peripherals = ChipPeripherals::new(chip, board.clock_hz);
        peripherals.set_permissive(permissive);
        let uart = peripherals.uart();
        let unmodelled = peripherals.unmodelled();
        let gpio = peripherals.gpio();
        machine.set_peripherals(Box::new(peripherals));
        let transport = match board.transport {
            Transport::Rtt => HostTransport::Rtt {
                control_block: None,
            },
            Transport::Uart { .. } => HostTransport::Uart(uart),
        };
        Ok(VirtualBoard {
            machine,
            transport,
            clock_hz: board.clock_hz,
            unmodelled,
            gpio,
        })
    }

    /// Writes a model partition (header and payload, see `protocol::partition`) at the origin
    /// of the board's `model` region, as a job's deploy step would flash it.
    pub fn write_partition(
        &mut self,
        board: &Board,
        bytes: &[u8],
    ) -> Result<(), VirtualBoardError> {
        let region = board
            .model_partition()
            .ok_or_else(|| VirtualBoardError::NoModelRegion {
                board: board.name.clone(),
            })?;
        if bytes.len() as u64 > u64::from(region.size) {
            return Err(VirtualBoardError::PartitionTooLarge {
                partition_bytes: bytes.len(),
                region: region.name.clone(),
                board: board.name.clone(),
                region_bytes: region.size,
            });
        }
        if !self.machine.write_memory(region.origin, bytes) {
            return Err(VirtualBoardError::PartitionWrite {
                region: region.name.clone(),
            });
        }
        Ok(())
    }

    /// Count cycles per instruction address over the board's flash (for `emulate --profile`).
    pub fn enable_profile(&mut self, board: &Board) {
        if let Some(flash) = board
            .memory
            .iter()
            .find(|r| r.kind == targets::RegionKind::Flash)
        {
            // At most 16 MiB of code: 8 Mi counters.
            let len = flash.size.min(16 << 20);
            self.machine.timing.enable_profile(flash.origin, len);
        }
    }

    pub fn clock_hz(&self) -> u64 {
        self.clock_hz
    }

    /// The distinct unmodelled peripheral addresses touched in permissive mode.
    pub fn unmodelled(&self) -> Vec<u32> {
        self.unmodelled.addresses()
    }

    /// Runs until the firmware's report ends (or it exits, faults, hangs, or a limit is hit),
    /// handing every chunk of transport output to `on_output` as it arrives.
    pub fn run(&mut self, limits: Limits, on_output: impl FnMut(&[u8])) -> Run {
        self.run_cancellable(limits, &AtomicBool::new(false), on_output)
    }

    /// As [`VirtualBoard::run`], and stops when `cancel` is set (Ctrl-C).
    pub fn run_cancellable(
        &mut self,
        limits: Limits,
        cancel: &AtomicBool,
        on_output: impl FnMut(&[u8]),
    ) -> Run {
        self.run_with_input(limits, cancel, on_output, |_, _| Vec::new())
    }

    /// As [`VirtualBoard::run_cancellable`], and sends the firmware what `input` gives, as a
    /// host would: `input(report, room)` is asked for at most `room` bytes whenever the
    /// transport's receive side (RTT down-channel 0, or the UART's receive FIFO) has room;
    /// `report` is what the firmware has said so far.
    pub fn run_with_input(
        &mut self,
        limits: Limits,
        cancel: &AtomicBool,
        mut on_output: impl FnMut(&[u8]),
        mut input: impl FnMut(&Measurements, usize) -> Vec<u8>,
    ) -> Run {
        let started = Instant::now();
        let mut stream = RecordStream::new();
        let start_instructions = self.machine.instructions();
        let end = loop {
            self.send(&mut |room| input(&stream.measurements, room));
            let stop = self.machine.run(SLICE_INSTRUCTIONS);
            let bytes = self.drain();
            if !bytes.is_empty() {
                on_output(&bytes);
                stream.feed(&bytes);
            }
            let semihosting = self.machine.take_semihosting_stdout();
            if !semihosting.is_empty() {
                on_output(&semihosting);
                stream.feed(&semihosting);
            }
            if let Some(end) = End::of_report(&stream.measurements) {
                break end;
            }
            match stop {
                StopReason::BudgetExhausted => {}
                StopReason::Exit { code } => break End::Exit(code),
                other => break End::Stopped(self.describe(&other)),
            }
            if cancel.load(Ordering::Relaxed) {
                break End::Stopped("interrupted".into());
            }
            let executed = self.machine.instructions() - start_instructions;
            if executed >= limits.max_instructions {
                break End::Stopped(format!(
                    "the firmware did not finish within {} instructions (pc {:#010x}); raise the budget or check for a hang",
                    limits.max_instructions, self.machine.cpu.pc
                ));
            }
            if started.elapsed() >= limits.timeout {
                break End::TimedOut(format!(
                    "the firmware did not finish within {} s of host time (pc {:#010x})",
                    limits.timeout.as_secs(),
                    self.machine.cpu.pc
                ));
            }
        };
        Run {
            end,
            stream,
            semihosting: self.machine.semihosting_stdout().to_vec(),
            instructions: self.machine.instructions() - start_instructions,
            cycles: self.machine.cycles(),
            host_time: started.elapsed(),
        }
    }

    fn describe(&self, stop: &StopReason) -> String {
        let pc = self.machine.cpu.pc;
        let at = |addr: u32| match self.machine.symbols().lookup(addr) {
            Some((name, off)) => format!("{addr:#010x} ({name}+{off:#x})"),
            None => format!("{addr:#010x}"),
        };
        match stop {
            StopReason::Hang { pc, kind } => {
                format!("the firmware hangs ({kind:?}) at {}", at(*pc))
            }
            StopReason::Breakpoint { pc, imm } => format!("breakpoint #{imm} at {}", at(*pc)),
            StopReason::Fault(report) => format!("{report}"),
            other => format!("stopped ({other:?}) at {}", at(pc)),
        }
    }

    /// Hands the firmware what `input` gives, as much as its receive side has room for.
    fn send(&mut self, input: &mut dyn FnMut(usize) -> Vec<u8>) {
        match &mut self.transport {
            HostTransport::Uart(port) => {
                let room = UART_RX_FIFO.saturating_sub(port.rx_pending());
                if room > 0 {
                    port.push_rx(&input(room));
                }
            }
            HostTransport::Rtt { control_block } => {
                if control_block.is_none() {
                    *control_block = find_rtt(&self.machine);
                }
                if let Some(cb) = *control_block {
                    write_rtt_down(&mut self.machine, cb, 0, input);
                }
            }
        }
    }

    /// Takes what the firmware has written to its transport since the last call.
    fn drain(&mut self) -> Vec<u8> {
        match &mut self.transport {
            HostTransport::Uart(port) => port.take_tx(),
            HostTransport::Rtt { control_block } => {
                if control_block.is_none() {
                    *control_block = find_rtt(&self.machine);
                }
                match *control_block {
                    Some(cb) => read_rtt_up(&mut self.machine, cb, 0),
                    None => Vec::new(),
                }
            }
        }
    }
}

/// The RTT control block: by the `_SEGGER_RTT` symbol, else by its id in RAM.
fn find_rtt(machine: &Machine<CycleModel>) -> Option<u32> {
    const ID: &[u8] = b"SEGGER RTT\0";
    let check = |addr: u32| {
        let mut id = [0u8; 11];
        (machine.read_memory(addr, &mut id) && id == ID).then_some(addr)
    };
    if let Some(addr) = machine.symbols().address_of("_SEGGER_RTT") {
        return check(addr);
    }
    machine
        .memory_map()
        .regions
        .iter()
        .filter(|r| r.kind == RegionKind::Ram)
        .find_map(|r| machine.find_bytes(r.origin, r.end().min(u64::from(u32::MAX)) as u32, ID))
}

/// Reads the bytes waiting in up-buffer `channel` and advances its read offset, as a probe does
/// (SEGGER RTT layout: 16-byte id, max up and down counts, then 24-byte buffer descriptors
/// {name, buffer, size, write offset, read offset, flags}).
fn read_rtt_up(machine: &mut Machine<CycleModel>, cb: u32, channel: u32) -> Vec<u8> {
    let desc = cb + 24 + 24 * channel;
    let (Some(buffer), Some(size), Some(wr), Some(rd)) = (
        machine.read_u32(desc + 4),
        machine.read_u32(desc + 8),
        machine.read_u32(desc + 12),
        machine.read_u32(desc + 16),
    ) else {
        return Vec::new();
    };
    if size == 0 || wr >= size || rd >= size || wr == rd {
        return Vec::new();
    }
    let mut out = Vec::new();
    let read_span = |from: u32, to: u32, out: &mut Vec<u8>| {
        let mut chunk = vec![0u8; (to - from) as usize];
        if machine.read_memory(buffer + from, &mut chunk) {
            out.extend_from_slice(&chunk);
        }
    };
    if wr > rd {
        read_span(rd, wr, &mut out);
    } else {
        read_span(rd, size, &mut out);
        read_span(0, wr, &mut out);
    }
    machine.write_memory(desc + 16, &wr.to_le_bytes());
    out
}

/// Writes what `input` gives into down-buffer `channel`, as much as it has room for, and
/// advances its write offset, as a probe does. The down-buffer descriptors follow the
/// `max_up` up-buffer descriptors.
fn write_rtt_down(
    machine: &mut Machine<CycleModel>,
    cb: u32,
    channel: u32,
    input: &mut dyn FnMut(usize) -> Vec<u8>,
) {
    let Some(max_up) = machine.read_u32(cb + 16) else {
        return;
    };
    let desc = cb + 24 + 24 * (max_up.min(16) + channel);
    let (Some(buffer), Some(size), Some(wr), Some(rd)) = (
        machine.read_u32(desc + 4),
        machine.read_u32(desc + 8),
        machine.read_u32(desc + 12),
        machine.read_u32(desc + 16),
    ) else {
        return;
    };
    if size == 0 || wr >= size || rd >= size {
        return;
    }
    // One byte stays free so that write == read means empty; fill up to the end of the buffer,
    // then from its start.
    let free = (rd + size - wr - 1) % size;
    let bytes = input(free as usize);
    if bytes.is_empty() {
        return;
    }
    let first = bytes.len().min((size - wr) as usize);
    let ok = machine.write_memory(buffer + wr, &bytes[..first])
        && (first == bytes.len() || machine.write_memory(buffer, &bytes[first..]));
    if ok {
        let next = (wr + bytes.len() as u32) % size;
        machine.write_memory(desc + 12, &next.to_le_bytes());
    }
}
