//! mcubench benchmark firmware: brings the board up, runs a workload through warm-up and timed
//! runs, and reports with the protocol records of `mcubench-protocol` over RTT or the UART.
//!
//! The board is chosen by exactly one cargo feature; see README.md.
#![no_std]
#![no_main]

mod board;
mod reg;
#[cfg(not(feature = "sparkfun-artemis"))]
mod rtt;
mod stack;
mod workload;

use core::fmt::{self, Write as _};
use core::panic::PanicInfo;
use core::ptr::addr_of_mut;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use protocol::{Fnv1a, Record};

use board::config;
use workload::{DotI8, Workload};

const WARMUP_RUNS: u32 = 2;
const TIMED_RUNS: u32 = 10;

/// The workload's inputs live in .bss rather than on the stack, so that the painted stack
/// measures the workload's own use.
static mut DOT_I8: DotI8 = DotI8::zeroed();

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
    // SAFETY: `main` runs once and is the only user of DOT_I8.
    let workload = unsafe { &mut *addr_of_mut!(DOT_I8) };
    workload.fill();
    report_meta(workload);

    benchmark(workload);

    report(Record::Stack {
        used_bytes: stack::used_bytes(),
        size_bytes: config::STACK_BYTES,
    });
    report(Record::Done);
    park();
}

fn report_meta(workload: &impl Workload) {
    meta("fw", env!("CARGO_PKG_VERSION"));
    meta("core", config::CORE);
    meta_number("clock_hz", config::CLOCK_HZ);
    meta("workload", workload.name());
    meta_number("warmup", WARMUP_RUNS);
    meta_number("runs", TIMED_RUNS);
}

fn meta(key: &str, value: &str) {
    report(Record::Meta { key, value });
}

fn meta_number(key: &str, value: u32) {
    meta(key, Text::<12>::format(format_args!("{value}")).as_str());
}

/// Warm-up runs (caches, branch history), then timed runs, each reported as it ends; then the
/// digest of the last output.
fn benchmark(workload: &mut impl Workload) {
    for _ in 0..WARMUP_RUNS {
        workload.run();
    }
    for index in 0..TIMED_RUNS {
        let start = board::cycles();
        workload.run();
        let end = board::cycles();
        report(Record::Run {
            index,
            cycles: end - start,
        });
    }
    let output = workload.output();
    let mut digest = Fnv1a::default();
    digest.update(output);
    report(Record::Output {
        len: output.len() as u32,
        digest: digest.finish(),
    });
    // The bytes themselves, for the host's comparison with the golden output.
    if let Err(e) = protocol::write_data(&mut Transport, 0, output) {
        panic!("cannot write the output: {e}");
    }
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
