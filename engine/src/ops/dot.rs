//! The int8 dot product at the heart of CONV_2D and FULLY_CONNECTED: `Σ f[i] * (x[i] + offset)`.
//!
//! The reference is a scalar loop. The Cortex-M4/M7 fast path (`dsp` feature, Armv7E-M only) does
//! what CMSIS-NN does (arm_nnsupportfunctions.h: `read_and_pad`, `__SXTB16`, `__SMLAD`): four int8
//! values per 32-bit load, sign-extended into two pairs of int16 (SXTB16, SXTB16 ROR #8), the
//! input offset added to both halves (SADD16), two multiply-accumulates per SMLAD. Integer sums are
//! exact (wrapping mod 2^32 in both), so the result is bit-identical to the reference; the host
//! runs the same algorithm on emulated instructions to test that.

/// The reference: what TFLite Micro's kernels compute.
#[inline(always)]
pub fn offset_dot_reference(x: &[i8], f: &[i8], offset: i32) -> i32 {
    let mut acc: i32 = 0;
    for (&xv, &fv) in x.iter().zip(f) {
        acc = acc.wrapping_add(fv as i32 * (xv as i32 + offset));
    }
    acc
}

/// `Σ f[i] * (x[i] + offset)` over the shorter slice; `offset` is an int8 zero point negated
/// (-127..=128), so `x + offset` fits in int16.
#[inline(always)]
pub fn offset_dot(x: &[i8], f: &[i8], offset: i32) -> i32 {
    #[cfg(all(target_arch = "arm", feature = "dsp"))]
    {
        offset_dot_packed::<Dsp>(x, f, offset)
    }
    #[cfg(not(all(target_arch = "arm", feature = "dsp")))]
    {
        offset_dot_reference(x, f, offset)
    }
}

/// The SIMD instructions the packed paths use (ARM Architecture Reference Manual, Armv7-M:
/// A7.7.187 SXTB16, A7.7.114 SADD16, A7.7.129 SMLAD, A7.7.93 PKHBT/PKHTB).
pub trait Simd {
    /// Bytes 0 and 2, sign-extended into the two halfwords.
    fn sxtb16(x: u32) -> u32;
    /// Bytes 1 and 3 (SXTB16 with ROR #8).
    fn sxtb16_ror8(x: u32) -> u32;
    /// Halfword-wise add, wrapping.
    fn sadd16(a: u32, b: u32) -> u32;
    /// acc + a.lo * b.lo + a.hi * b.hi (signed halfwords), wrapping.
    fn smlad(a: u32, b: u32, acc: i32) -> i32;
    /// PKHBT a, b, LSL #16: bottom halfword of a, bottom halfword of b on top.
    fn pkhbt(a: u32, b: u32) -> u32;
    /// PKHTB a, b, ASR #16: top halfword of b at the bottom, top halfword of a on top.
    fn pkhtb(a: u32, b: u32) -> u32;
}

/// The instructions computed in portable Rust: the host's model of the M4's.
pub struct Emulated;

impl Simd for Emulated {
    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        let lo = (x as u8 as i8 as i16) as u16 as u32;
        let hi = ((x >> 16) as u8 as i8 as i16) as u16 as u32;
        lo | hi << 16
    }
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        Self::sxtb16(x.rotate_right(8))
    }
    #[inline(always)]
    fn sadd16(a: u32, b: u32) -> u32 {
        let lo = (a as u16).wrapping_add(b as u16) as u32;
        let hi = ((a >> 16) as u16).wrapping_add((b >> 16) as u16) as u32;
        lo | hi << 16
    }
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let p0 = (a as u16 as i16 as i32) * (b as u16 as i16 as i32);
        let p1 = ((a >> 16) as u16 as i16 as i32) * ((b >> 16) as u16 as i16 as i32);
        acc.wrapping_add(p0).wrapping_add(p1)
    }
    #[inline(always)]
    fn pkhbt(a: u32, b: u32) -> u32 {
        (a & 0xFFFF) | (b << 16)
    }
    #[inline(always)]
    fn pkhtb(a: u32, b: u32) -> u32 {
        (a & 0xFFFF_0000) | (b >> 16)
    }
}

/// The instructions themselves (Armv7E-M DSP extension).
#[cfg(all(target_arch = "arm", feature = "dsp"))]
pub struct Dsp;

#[cfg(all(target_arch = "arm", feature = "dsp"))]
impl Simd for Dsp {
    #[inline(always)]
    fn sxtb16(x: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("sxtb16 {0}, {1}", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn sxtb16_ror8(x: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("sxtb16 {0}, {1}, ror #8", out(reg) r, in(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn sadd16(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: register-only; it sets APSR.GE, which no Rust code reads.
        unsafe {
            core::arch::asm!("sadd16 {0}, {1}, {2}", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack))
        };
        r
    }
    #[inline(always)]
    fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let r: i32;
        // SAFETY: register-only; it may set APSR.Q on overflow, which no Rust code reads.
        unsafe {
            core::arch::asm!("smlad {0}, {1}, {2}, {3}", out(reg) r, in(reg) a, in(reg) b, in(reg) acc, options(pure, nomem, nostack))
        };
        r
    }
    #[inline(always)]
    fn pkhbt(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("pkhbt {0}, {1}, {2}, lsl #16", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[inline(always)]
    fn pkhtb(a: u32, b: u32) -> u32 {
        let r: u32;
        // SAFETY: a register-only instruction with no memory access.
        unsafe {
            core::arch::asm!("pkhtb {0}, {1}, {2}, asr #16", out(reg) r, in(reg) a, in(reg) b, options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
}

/// The packed algorithm over any [`Simd`]: four values per step, the rest scalar.
#[inline(always)]
pub fn offset_dot_packed<S: Simd>(x: &[i8], f: &[i8], offset: i32) -> i32 {
    let n = x.len().min(f.len());
    let (x, f) = (&x[..n], &f[..n]);
    let offset_pair = (offset as u16 as u32) * 0x0001_0001;
    let mut acc: i32 = 0;
    let mut xs = x.chunks_exact(4);
    let mut fs = f.chunks_exact(4);
    for (xc, fc) in (&mut xs).zip(&mut fs) {
        // Little-endian loads: byte 0 in bits 0..8, as CMSIS-NN's arm_nn_read_s8x4.
        let xw = u32::from_le_bytes([xc[0] as u8, xc[1] as u8, xc[2] as u8, xc[3] as u8]);
        let fw = u32::from_le_bytes([fc[0] as u8, fc[1] as u8, fc[2] as u8, fc[3] as u8]);
        let x02 = S::sadd16(S::sxtb16(xw), offset_pair);
        let x13 = S::sadd16(S::sxtb16_ror8(xw), offset_pair);
        acc = S::smlad(S::sxtb16(fw), x02, acc);
        acc = S::smlad(S::sxtb16_ror8(fw), x13, acc);
    }
    acc.wrapping_add(offset_dot_reference(xs.remainder(), fs.remainder(), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64* bytes.
    fn bytes(seed: &mut u64, n: usize) -> std::vec::Vec<i8> {
        (0..n)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 as i8
            })
            .collect()
    }

    #[test]
    fn packed_path_is_bit_exact_with_the_reference() {
        let mut seed = 0x1234_5678_9abc_def0;
        for n in 0..70 {
            for offset in [-127, -1, 0, 1, 5, 127, 128] {
                let x = bytes(&mut seed, n);
                let f = bytes(&mut seed, n);
                assert_eq!(
                    offset_dot_packed::<Emulated>(&x, &f, offset),
                    offset_dot_reference(&x, &f, offset),
                    "n {n} offset {offset}"
                );
            }
        }
        // The extremes: every product at its largest magnitude.
        let x = [-128i8; 64];
        let f = [-128i8; 64];
        assert_eq!(
            offset_dot_packed::<Emulated>(&x, &f, -127),
            offset_dot_reference(&x, &f, -127)
        );
        let x = [127i8; 64];
        assert_eq!(
            offset_dot_packed::<Emulated>(&x, &f, 128),
            offset_dot_reference(&x, &f, 128)
        );
    }

    #[test]
    fn emulated_instructions_match_the_manual() {
        assert_eq!(Emulated::sxtb16(0x80_7F_01_FF), 0x007F_FFFF);
        assert_eq!(Emulated::sxtb16_ror8(0x80_7F_01_FF), 0xFF80_0001);
        assert_eq!(Emulated::sadd16(0xFFFF_0001, 0x0001_0001), 0x0000_0002);
        assert_eq!(Emulated::smlad(0xFFFF_0002, 0x0003_0004, 10), 10 + 8 - 3);
        assert_eq!(Emulated::pkhbt(0x1111_2222, 0x3333_4444), 0x4444_2222);
        assert_eq!(Emulated::pkhtb(0x1111_2222, 0x3333_4444), 0x1111_3333);
    }
}
