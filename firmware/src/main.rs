//! mcubench benchmark firmware: brings the board up, runs a workload through warm-up and timed
//! runs, and reports with the protocol records of `mcubench-protocol` over RTT or the UART.
//!
//! The board is named by the environment variable MCUBENCH_BOARD at build time; see README.md.
#![no_std]
#![no_main]

mod board;
mod model;
mod reg;
#[cfg(mcubench_transport = "rtt")]
mod rtt;
mod stack;
mod workload;

use core::fmt::{self, Write as _};
use core::panic::PanicInfo;
use core::ptr::addr_of_mut;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use protocol::partition::{Header, PartitionError, FLAG_ACCURACY, FLAG_GATE, MAX_GATED_RUNS};
use protocol::Record;

use board::config;
use model::{ModelError, ModelWorkload};
use workload::{DotI8, Workload};

/// Runs when the model partition does not say otherwise.
const WARMUP_RUNS: u32 = 2;
const TIMED_RUNS: u32 = 10;

/// The dot_i8 self-test's inputs live in .bss rather than on the stack, so that the painted
/// stack measures the workload's own use.
static mut DOT_I8: DotI8 = DotI8::zeroed();

/// The engine's arena, 16-byte aligned as the engine plans it.
#[repr(C, align(16))]
struct Arena([u8; config::ARENA_BYTES]);
static mut ARENA: Arena = Arena([0; config::ARENA_BYTES]);

#[entry]
fn main() -> ! {
    stack::paint();
    if let Err(not_ready) = board::init() {
        report_error(format_args!("{not_ready}"));
        park();
    }

    report(Record::Hello {
        version: protocol::VERSION,
        board: config::NAME,
    });
    // SAFETY: the model partition is a flash region of this board (targets.toml), only read.
    let partition = unsafe {
        core::slice::from_raw_parts(
            config::MODEL_ORIGIN as *const u8,
            config::MODEL_SIZE as usize,
        )
    };
    match Header::parse(partition) {
        Ok(header) => run_model(&header, partition),
        // Nothing written to the partition: run the built-in self-test.
        Err(PartitionError::BadMagic) => {
            // SAFETY: `main` runs once and is the only user of DOT_I8.
            let workload = unsafe { &mut *addr_of_mut!(DOT_I8) };
            workload.fill();
            report_meta(workload, WARMUP_RUNS, TIMED_RUNS);
            benchmark(workload, WARMUP_RUNS, TIMED_RUNS, None);
        }
        Err(e) => {
            report_error(format_args!("{e}"));
            park();
        }
    }

    report(Record::Stack {
        used_bytes: stack::used_bytes(),
        size_bytes: config::STACK_BYTES,
    });
    report(Record::Done);
    park();
}

/// The partition's model on the partition's input, with its warm-up and timed runs.
fn run_model(header: &Header, partition: &'static [u8]) {
    // Header::parse checked that every part lies inside the partition.
    let (Some(model_bytes), Some(input)) =
        (header.model.slice(partition), header.input.slice(partition))
    else {
        report_error(format_args!("model partition part out of bounds"));
        park();
    };
    let model = match engine::Model::parse("partition", model_bytes) {
        Ok(model) => model,
        Err(e) => {
            report_error(format_args!("{e}"));
            park();
        }
    };
    // SAFETY: `main` runs once and this is the only use of ARENA.
    let arena = unsafe { &mut (*addr_of_mut!(ARENA)).0 };
    let mut workload = match ModelWorkload::new(&model, input, arena) {
        Ok(w) => w,
        Err(e) => {
            report_error(format_args!("{e}"));
            park();
        }
    };
    let warmup = header.warmup_runs;
    let runs = if header.timed_runs == 0 {
        TIMED_RUNS
    } else {
        header.timed_runs
    };
    report_meta(&workload, warmup, runs);
    meta_number("model_bytes", header.model.len);
    let gate = if header.flags & FLAG_GATE != 0 {
        match board::gate_init(header.gate_pin) {
            Ok(gate) => {
                meta_number("gate_gpio", header.gate_pin);
                Some(gate)
            }
            Err(e) => {
                report_error(format_args!("{e}"));
                park();
            }
        }
    } else {
        None
    };
    benchmark(&mut workload, warmup, runs, gate);
    profile(&mut workload);
    report(Record::Arena {
        used_bytes: workload.arena_bytes() as u32,
        size_bytes: config::ARENA_BYTES as u32,
    });
    if header.flags & FLAG_ACCURACY != 0 {
        serve_inputs(&mut workload);
    }
}

/// One more inference, operator by operator, with each operator's cycles in an `@op` record:
/// where the time of an inference goes. It runs after the timed runs and outside the energy
/// gate, so that neither sees it; each record is written after its operator's span is counted.
#[inline(never)]
fn profile(workload: &mut ModelWorkload) {
    let fail = |e: ModelError| -> ! {
        report_error(format_args!("{e}"));
        park();
    };
    if let Err(e) = workload.prepare() {
        fail(e);
    }
    for index in 0..workload.op_count() {
        let code = workload.op_code(index);
        let start = board::cycles();
        let result = workload.run_op(index);
        let end = board::cycles();
        if let Err(e) = result {
            fail(e);
        }
        report(Record::Op {
            index: index as u32,
            code,
            cycles: end - start,
        });
    }
}

/// Longest line the host may send (a `protocol::write_data` line of 32 bytes is 90).
const HOST_LINE_BYTES: usize = 256;

/// Accuracy mode: runs the model on each input the host streams in (`@data` lines into the
/// input tensor, then `@infer index=<n>`), answering with `@sample` and the output's `@data`,
/// until `@end`. Not timed: the latency comes from the timed runs.
fn serve_inputs(workload: &mut ModelWorkload) {
    meta("accuracy", "streaming");
    let mut line = [0u8; HOST_LINE_BYTES];
    let mut len = 0;
    let mut too_long = false;
    let mut chunk = [0u8; 64];
    loop {
        let n = board::read(&mut chunk);
        for &byte in &chunk[..n] {
            if byte != b'\n' {
                if len < line.len() {
                    line[len] = byte;
                    len += 1;
                } else {
                    too_long = true;
                }
                continue;
            }
            if too_long {
                report_error(format_args!(
                    "the host sent a line longer than {HOST_LINE_BYTES} bytes"
                ));
                park();
            }
            if !host_record(&line[..len], workload) {
                return;
            }
            len = 0;
        }
    }
}

/// Acts on one line from the host; false at `@end`.
fn host_record(line: &[u8], workload: &mut ModelWorkload) -> bool {
    match protocol::parse_line(line) {
        Ok(Some(Record::Data { offset, hex })) => {
            let input = workload.input_mut();
            let size = input.len();
            let target = usize::try_from(offset)
                .ok()
                .and_then(|start| input.get_mut(start..start.checked_add(hex.len() / 2)?));
            if target.and_then(|t| protocol::decode_hex(hex, t)).is_none() {
                report_error(format_args!(
                    "@data offset={offset} runs past the {size}-byte input tensor"
                ));
                park();
            }
        }
        Ok(Some(Record::Infer { index })) => {
            if let Err(e) = workload.run() {
                report_error(format_args!("{e}"));
                park();
            }
            report_output(Some(index), workload.output());
        }
        Ok(Some(Record::End)) => return false,
        // Not a record (a terminal's noise): skipped, as the host skips the device's.
        Ok(None) => {}
        Ok(Some(_)) => {
            report_error(format_args!("the host sent a record that is not an input"));
            park();
        }
        Err(e) => {
            report_error(format_args!("{e}"));
            park();
        }
    }
    true
}

/// `@output` (or `@sample index=<n>` in accuracy mode) with the bytes' length and digest, then
/// the bytes themselves as `@data`, for the host's comparison with the golden output.
fn report_output(sample: Option<u32>, output: &[u8]) {
    let len = output.len() as u32;
    let digest = protocol::fnv1a32(output);
    report(match sample {
        Some(index) => Record::Sample { index, len, digest },
        None => Record::Output { len, digest },
    });
    if let Err(e) = protocol::write_data(&mut Transport, 0, output) {
        panic!("cannot write the output: {e}");
    }
}

fn report_meta(workload: &impl Workload, warmup: u32, runs: u32) {
    meta("fw", env!("CARGO_PKG_VERSION"));
    meta("core", config::CORE);
    meta_number("clock_hz", config::CLOCK_HZ);
    meta("workload", workload.name());
    meta_number("warmup", warmup);
    meta_number("runs", runs);
}

fn meta(key: &str, value: &str) {
    report(Record::Meta { key, value });
}

fn meta_number(key: &str, value: u32) {
    meta(key, Text::<12>::format(format_args!("{value}")).as_str());
}

/// Cycle counts of the runs in a gated window, reported once the window has closed.
static mut GATED_CYCLES: [u64; MAX_GATED_RUNS as usize] = [0; MAX_GATED_RUNS as usize];

/// Warm-up runs (caches, branch history), then timed runs, each reported as it ends; then the
/// digest and the bytes of the last output. Only `run` is timed, not `prepare`.
///
/// With a `gate`, it is high from the start of the first timed run to the end of the last, and
/// the runs are reported after it falls, so that the meter's window holds inferences only (a
/// record on a UART takes milliseconds). `Header::parse` bounds such runs to `MAX_GATED_RUNS`.
fn benchmark<W: Workload>(workload: &mut W, warmup: u32, runs: u32, gate: Option<board::Gate>) {
    let step = |workload: &mut W| -> u64 {
        if let Err(e) = workload.prepare() {
            report_error(format_args!("{e}"));
            park();
        }
        let start = board::cycles();
        let result = workload.run();
        let end = board::cycles();
        if let Err(e) = result {
            report_error(format_args!("{e}"));
            park();
        }
        end - start
    };
    for _ in 0..warmup {
        step(workload);
    }
    match gate {
        None => {
            for index in 0..runs {
                let cycles = step(workload);
                report(Record::Run { index, cycles });
            }
        }
        Some(gate) => {
            // SAFETY: `benchmark` runs once and this is the only use of GATED_CYCLES.
            let all = unsafe { &mut *addr_of_mut!(GATED_CYCLES) };
            let counts = &mut all[..(runs as usize).min(MAX_GATED_RUNS as usize)];
            gate.high();
            for slot in counts.iter_mut() {
                *slot = step(workload);
            }
            gate.low();
            for (index, &cycles) in (0..).zip(counts.iter()) {
                report(Record::Run { index, cycles });
            }
        }
    }
    report_output(None, workload.output());
}

/// The board's transport as a `fmt::Write`.
struct Transport;

impl fmt::Write for Transport {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        board::write(s.as_bytes());
        Ok(())
    }
}

fn report(record: Record) {
    if let Err(e) = record.write_to(&mut Transport) {
        // Only a bad token can fail (the transport itself does not): a bug in this firmware.
        panic!("cannot write a record: {e}");
    }
}

/// Writes `@error <reason>`, the reason cut to fit one line.
fn report_error(reason: fmt::Arguments) {
    let reason = Text::<200>::format(reason);
    let _ = Record::Error {
        reason: reason.as_str(),
    }
    .write_to(&mut Transport);
}

/// Lets the transport drain, then sleeps for good.
fn park() -> ! {
    board::quiesce();
    cortex_m::interrupt::disable();
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    match info.location() {
        Some(at) => report_error(format_args!(
            "panic: {} at {}:{}",
            info.message(),
            at.file(),
            at.line()
        )),
        None => report_error(format_args!("panic: {}", info.message())),
    }
    park();
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    report_error(format_args!(
        "hard fault at pc={:#010x} lr={:#010x}",
        frame.pc(),
        frame.lr()
    ));
    park();
}

/// A fixed-size text buffer that formats without allocating and cuts what does not fit.
struct Text<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Text<N> {
    fn format(args: fmt::Arguments) -> Self {
        let mut text = Text {
            bytes: [0; N],
            len: 0,
        };
        let _ = text.write_fmt(args);
        text
    }

    fn as_str(&self) -> &str {
        // Only whole characters are ever copied in, so this cannot fail.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0; 4];
            let c = c.encode_utf8(&mut utf8).as_bytes();
            if self.len + c.len() > N {
                return Err(fmt::Error);
            }
            self.bytes[self.len..self.len + c.len()].copy_from_slice(c);
            self.len += c.len();
        }
        Ok(())
    }
}
