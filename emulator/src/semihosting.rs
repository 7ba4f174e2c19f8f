//! ARM semihosting (ARM DUI 0471 / "Semihosting for AArch32 and AArch64"): on M-profile the
//! call is `BKPT 0xAB` with the operation in r0 and the parameter (block) in r1; the result
//! goes back in r0. Enough of it for any bare-metal program to print and exit.

use crate::machine::{Machine, StopReason, Trap};
use crate::timing::Timing;

const SYS_OPEN: u32 = 0x01;
const SYS_CLOSE: u32 = 0x02;
const SYS_WRITEC: u32 = 0x03;
const SYS_WRITE0: u32 = 0x04;
const SYS_WRITE: u32 = 0x05;
const SYS_ISTTY: u32 = 0x09;
const SYS_CLOCK: u32 = 0x10;
const SYS_TIME: u32 = 0x11;
const SYS_ERRNO: u32 = 0x13;
const SYS_EXIT: u32 = 0x18;
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit: the normal-exit reason code.
const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x20026;
/// Longest string SYS_WRITE0 follows before giving up (guards against a missing NUL).
const MAX_STRING: u32 = 1 << 20;

/// Handles returned by SYS_OPEN for ":tt" (the console).
const FD_STDIN: u32 = 0;
const FD_STDOUT: u32 = 1;
const FD_STDERR: u32 = 2;

impl<T: Timing> Machine<T> {
    fn console_write(&mut self, fd: u32, bytes: &[u8]) {
        if fd == FD_STDERR {
            self.semihost_stderr.extend_from_slice(bytes);
        } else {
            self.semihost_stdout.extend_from_slice(bytes);
        }
    }

    fn read_bytes(&mut self, addr: u32, len: u32) -> Result<Vec<u8>, Trap> {
        let mut v = vec![0u8; len as usize];
        if self.mem.host_read(addr, &mut v) {
            return Ok(v);
        }
        for (k, b) in v.iter_mut().enumerate() {
            *b = self.read8(addr.wrapping_add(k as u32))?;
        }
        Ok(v)
    }

    /// Execute the semihosting operation in r0 with parameter r1.
    pub(crate) fn semihosting_call(&mut self) -> Result<(), Trap> {
        let op = self.cpu.r[0];
        let param = self.cpu.r[1];
        let result: u32 = match op {
            SYS_OPEN => {
                // [name ptr, mode, name length]: only the console ":tt" exists. Modes 0-3 read,
                // 4-7 write, 8-11 append (newlib and cortex-m-semihosting use "w" for stdout and
                // "a" for stderr).
                let name_ptr = self.read32(param)?;
                let mode = self.read32(param.wrapping_add(4))?;
                let len = self.read32(param.wrapping_add(8))?;
                let name = self.read_bytes(name_ptr, len.min(256))?;
                if name == b":tt" {
                    match mode {
                        0..=3 => FD_STDIN,
                        4..=7 => FD_STDOUT,
                        _ => FD_STDERR,
                    }
                } else {
                    u32::MAX
                }
            }
            SYS_CLOSE => 0,
            SYS_WRITEC => {
                let c = self.read8(param)?;
                self.console_write(FD_STDOUT, &[c]);
                0
            }
            SYS_WRITE0 => {
                let mut s = Vec::new();
                let mut addr = param;
                loop {
                    let c = self.read8(addr)?;
                    if c == 0 || s.len() as u32 >= MAX_STRING {
                        break;
                    }
                    s.push(c);
                    addr = addr.wrapping_add(1);
                }
                self.console_write(FD_STDOUT, &s);
                0
            }
            SYS_WRITE => {
                // [handle, buffer, length] -> bytes NOT written.
                let fd = self.read32(param)?;
                let buf = self.read32(param.wrapping_add(4))?;
                let len = self.read32(param.wrapping_add(8))?;
                let bytes = self.read_bytes(buf, len.min(MAX_STRING))?;
                match fd {
                    // Handles match the POSIX numbers, for runtimes that skip SYS_OPEN.
                    FD_STDOUT | FD_STDERR => self.console_write(fd, &bytes),
                    _ => return self.semihosting_result(len),
                }
                len - bytes.len() as u32
            }
            SYS_ISTTY => 1,
            SYS_CLOCK => (self.cycles / 1_000_000) as u32, // centiseconds at a nominal 100 MHz
            SYS_TIME => 0,
            SYS_ERRNO => 0,
            SYS_EXIT => {
                // On AArch32 r1 is the reason code itself.
                let code = if param == ADP_STOPPED_APPLICATION_EXIT {
                    0
                } else {
                    1
                };
                return Err(Trap::Stop(StopReason::Exit { code }));
            }
            SYS_EXIT_EXTENDED => {
                let reason = self.read32(param)?;
                let subcode = self.read32(param.wrapping_add(4))?;
                let code = if reason == ADP_STOPPED_APPLICATION_EXIT {
                    subcode as i32
                } else {
                    1
                };
                return Err(Trap::Stop(StopReason::Exit { code }));
            }
            _ => u32::MAX,
        };
        self.semihosting_result(result)
    }

    fn semihosting_result(&mut self, r0: u32) -> Result<(), Trap> {
        self.cpu.r[0] = r0;
        Ok(())
    }
}
