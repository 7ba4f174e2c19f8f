//! Data accesses: the flat fast path into memory blocks, and the cold path into the system
//! space (SCS, DWT, ITM ...) and the chip's peripherals.

use crate::machine::{Machine, Trap};
use crate::timing::Timing;

/// Start of the Cortex-M system space (Private Peripheral Bus and vendor system region).
const SYSTEM_SPACE: u32 = 0xe000_0000;

impl<T: Timing> Machine<T> {
    #[inline(always)]
    pub(crate) fn read32(&mut self, addr: u32) -> Result<u32, Trap> {
        self.data_addr = addr;
        match self.mem.read32(addr) {
            Some(v) => Ok(v),
            None => self.read_slow(addr, 4),
        }
    }

    #[inline(always)]
    pub(crate) fn read16(&mut self, addr: u32) -> Result<u16, Trap> {
        self.data_addr = addr;
        match self.mem.read16(addr) {
            Some(v) => Ok(v),
            None => self.read_slow(addr, 2).map(|v| v as u16),
        }
    }

    #[inline(always)]
    pub(crate) fn read8(&mut self, addr: u32) -> Result<u8, Trap> {
        self.data_addr = addr;
        match self.mem.read8(addr) {
            Some(v) => Ok(v),
            None => self.read_slow(addr, 1).map(|v| v as u8),
        }
    }

    #[inline(always)]
    pub(crate) fn write32(&mut self, addr: u32, v: u32) -> Result<(), Trap> {
        self.data_addr = addr;
        match self.mem.write(addr, &v.to_le_bytes()) {
            Some(true) => Ok(()),
            Some(false) => Err(Trap::Bus { addr, write: true }),
            None => self.write_slow(addr, 4, v),
        }
    }

    #[inline(always)]
    pub(crate) fn write16(&mut self, addr: u32, v: u16) -> Result<(), Trap> {
        self.data_addr = addr;
        match self.mem.write(addr, &v.to_le_bytes()) {
            Some(true) => Ok(()),
            Some(false) => Err(Trap::Bus { addr, write: true }),
            None => self.write_slow(addr, 2, v as u32),
        }
    }

    #[inline(always)]
    pub(crate) fn write8(&mut self, addr: u32, v: u8) -> Result<(), Trap> {
        self.data_addr = addr;
        match self.mem.write(addr, &[v]) {
            Some(true) => Ok(()),
            Some(false) => Err(Trap::Bus { addr, write: true }),
            None => self.write_slow(addr, 1, v as u32),
        }
    }

    #[cold]
    #[inline(never)]
    fn read_slow(&mut self, addr: u32, size: u8) -> Result<u32, Trap> {
        let now = self.cycles;
        let v = if (SYSTEM_SPACE..0xe010_0000).contains(&addr) {
            let v = self.sys.read(addr, now);
            // A read of SYST_CSR may have advanced SysTick and pended its exception.
            self.next_check = 0;
            v
        } else if let Some(p) = self.peripherals.as_mut() {
            // The access may have raised or cleared an interrupt request.
            self.next_check = 0;
            p.read(addr, size, now)
        } else {
            None
        };
        let mask = if size == 4 {
            u32::MAX
        } else {
            (1u32 << (8 * size as u32)) - 1
        };
        v.map(|v| v & mask).ok_or(Trap::Bus { addr, write: false })
    }

    #[cold]
    #[inline(never)]
    fn write_slow(&mut self, addr: u32, size: u8, v: u32) -> Result<(), Trap> {
        let now = self.cycles;
        let ok = if (SYSTEM_SPACE..0xe010_0000).contains(&addr) {
            let ok = self.sys.write(addr, size, v, now);
            // Pending bits, masks, SysTick or the FPU configuration may have changed.
            self.next_check = 0;
            ok
        } else if let Some(p) = self.peripherals.as_mut() {
            self.next_check = 0;
            let ok = p.write(addr, size, v, now);
            if ok {
                let p: &dyn crate::machine::Peripherals = &**p;
                self.timing.on_peripheral_write(addr, &|a| p.register(a));
            }
            ok
        } else {
            false
        };
        if ok {
            Ok(())
        } else {
            Err(Trap::Bus { addr, write: true })
        }
    }
}
