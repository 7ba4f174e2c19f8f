//! SEGGER RTT: the control block a debug probe (or the emulator) finds in RAM, with one up
//! channel for the report and one down channel for the host's inputs.
//!
//! Layout (SEGGER RTT, `SEGGER_RTT_CB` / `SEGGER_RTT_BUFFER_UP`), all fields 32 bits:
//!
//! ```text
//! _SEGGER_RTT + 0x00  id[16]         "SEGGER RTT\0..." (written last, so a scan never sees
//!                                    a half-initialised block)
//!             + 0x10  max_up = 1     number of up channels
//!             + 0x14  max_down = 1   number of down channels
//!             + 0x18  up[0]          name, buffer, size, write, read, flags  (24 bytes)
//!             + 0x30  down[0]        name, buffer, size, write, read, flags  (24 bytes)
//! ```
//!
//! The target owns `write` of an up channel and the host owns `read`; for a down channel it is
//! the other way round. The up channel blocks when full (flags = 2,
//! `SEGGER_RTT_MODE_BLOCK_IF_FIFO_FULL`): the firmware waits for the host to drain it rather
//! than drop or cut a record, so a host must be reading.

use core::cell::UnsafeCell;
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

const UP_BYTES: usize = 1024;
/// Room for the host's accuracy-mode inputs, streamed in pieces (a `@data` line of 256 input
/// bytes is about 540 characters).
const DOWN_BYTES: usize = 1024;

/// `SEGGER_RTT_MODE_BLOCK_IF_FIFO_FULL`.
const MODE_BLOCK_IF_FULL: u32 = 2;
/// `SEGGER_RTT_MODE_NO_BLOCK_SKIP`: the down channel's mode (the host writes it).
const MODE_NO_BLOCK_SKIP: u32 = 0;

const ID: &[u8; 16] = b"SEGGER RTT\0\0\0\0\0\0";

#[repr(C)]
struct Channel {
    name: *const u8,
    buffer: *mut u8,
    size: u32,
    write: u32,
    read: u32,
    flags: u32,
}

#[repr(C)]
struct ControlBlock {
    id: [u8; 16],
    max_up: u32,
    max_down: u32,
    up: Channel,
    down: Channel,
}

/// Memory shared with the debug probe, which reads and writes it behind the program's back.
#[repr(transparent)]
struct Shared<T>(UnsafeCell<T>);

// SAFETY: the firmware is single-threaded and touches these only from thread mode, or from the
// panic and fault handlers, which do not return to the code they interrupted.
unsafe impl<T> Sync for Shared<T> {}

const CHANNEL_ZERO: Channel = Channel {
    name: core::ptr::null(),
    buffer: core::ptr::null_mut(),
    size: 0,
    write: 0,
    read: 0,
    flags: 0,
};

/// The control block, found by the host through this symbol (or by scanning RAM for the id).
#[no_mangle]
static _SEGGER_RTT: Shared<ControlBlock> = Shared(UnsafeCell::new(ControlBlock {
    id: [0; 16],
    max_up: 0,
    max_down: 0,
    up: CHANNEL_ZERO,
    down: CHANNEL_ZERO,
}));

static UP_BUFFER: Shared<[u8; UP_BYTES]> = Shared(UnsafeCell::new([0; UP_BYTES]));
static DOWN_BUFFER: Shared<[u8; DOWN_BYTES]> = Shared(UnsafeCell::new([0; DOWN_BYTES]));

/// Fills in the control block. Call once, before the first `write`.
pub fn init() {
    let cb = _SEGGER_RTT.0.get();
    // SAFETY: `cb` points to the static control block; fields are written through raw
    // pointers with volatile stores because the probe may read them at any time.
    unsafe {
        write_volatile(addr_of_mut!((*cb).max_up), 1);
        write_volatile(addr_of_mut!((*cb).max_down), 1);
        init_channel(
            addr_of_mut!((*cb).up),
            b"Terminal\0",
            UP_BUFFER.0.get().cast(),
            UP_BYTES,
            MODE_BLOCK_IF_FULL,
        );
        init_channel(
            addr_of_mut!((*cb).down),
            b"Terminal\0",
            DOWN_BUFFER.0.get().cast(),
            DOWN_BYTES,
            MODE_NO_BLOCK_SKIP,
        );
        // Everything above must be in memory before the id makes the block visible; the id
        // itself is written back to front so that "SEGGER RTT" never matches half-written.
        cortex_m::asm::dmb();
        let id = addr_of_mut!((*cb).id).cast::<u8>();
        for i in (0..ID.len()).rev() {
            write_volatile(id.add(i), ID[i]);
        }
        cortex_m::asm::dmb();
    }
}

/// # Safety
///
/// `channel` must point to a channel of the static control block and `buffer` to `size` bytes
/// that live as long as the program.
unsafe fn init_channel(
    channel: *mut Channel,
    name: &'static [u8],
    buffer: *mut u8,
    size: usize,
    flags: u32,
) {
    write_volatile(addr_of_mut!((*channel).name), name.as_ptr());
    write_volatile(addr_of_mut!((*channel).buffer), buffer);
    write_volatile(addr_of_mut!((*channel).size), size as u32);
    write_volatile(addr_of_mut!((*channel).write), 0);
    write_volatile(addr_of_mut!((*channel).read), 0);
    write_volatile(addr_of_mut!((*channel).flags), flags);
}

/// Writes all of `bytes` to up channel 0, waiting for the host whenever the buffer is full.
pub fn write(bytes: &[u8]) {
    let cb = _SEGGER_RTT.0.get();
    let buffer = UP_BUFFER.0.get().cast::<u8>();
    let size = UP_BYTES as u32;
    let mut rest = bytes;
    while !rest.is_empty() {
        // SAFETY: the offsets are fields of the static control block; `read` belongs to the
        // host and is read volatile every time round.
        let (write, read) = unsafe {
            (
                read_volatile(addr_of!((*cb).up.write)),
                read_volatile(addr_of!((*cb).up.read)),
            )
        };
        // A host that writes nonsense must not make us write outside the buffer.
        let (write, read) = (write % size, read % size);
        // One byte always stays free, so that write == read means empty.
        let contiguous = if read > write {
            read - write - 1
        } else if read == 0 {
            size - write - 1
        } else {
            size - write
        };
        if contiguous == 0 {
            // Full: blocking mode waits for the host to read.
            continue;
        }
        let n = rest.len().min(contiguous as usize);
        // SAFETY: `write + n <= size`, so the copy stays inside the static up buffer; the
        // host reads only between `read` and `write`, which this copy is outside of.
        unsafe {
            core::ptr::copy_nonoverlapping(rest.as_ptr(), buffer.add(write as usize), n);
        }
        // The bytes must be in memory before the new write offset tells the host about them.
        cortex_m::asm::dmb();
        let next = (write + n as u32) % size;
        // SAFETY: a field of the static control block.
        unsafe { write_volatile(addr_of_mut!((*cb).up.write), next) };
        rest = &rest[n..];
    }
}

/// Reads what the host has written to down channel 0 into `out`, without waiting; returns the
/// number of bytes read (0 when the channel is empty).
pub fn read(out: &mut [u8]) -> usize {
    let cb = _SEGGER_RTT.0.get();
    let buffer = DOWN_BUFFER.0.get().cast::<u8>();
    let size = DOWN_BYTES as u32;
    // SAFETY: fields of the static control block; the host owns `write` of a down channel and
    // may change it at any time, hence the volatile reads.
    let (write, read) = unsafe {
        (
            read_volatile(addr_of!((*cb).down.write)),
            read_volatile(addr_of!((*cb).down.read)),
        )
    };
    // A host that writes nonsense must not make us read outside the buffer.
    let (write, read) = (write % size, read % size);
    let available = if write >= read {
        write - read
    } else {
        size - read
    };
    let n = out.len().min(available as usize);
    if n == 0 {
        return 0;
    }
    // The host wrote the bytes before it advanced `write`.
    cortex_m::asm::dmb();
    // SAFETY: `read + n <= size`, inside the static down buffer; the host does not write
    // between `read` and `write`.
    unsafe {
        core::ptr::copy_nonoverlapping(buffer.add(read as usize), out.as_mut_ptr(), n);
    }
    cortex_m::asm::dmb();
    // SAFETY: a field of the static control block.
    unsafe { write_volatile(addr_of_mut!((*cb).down.read), (read + n as u32) % size) };
    n
}
