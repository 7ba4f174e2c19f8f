//! IEEE 754 single-precision arithmetic as FPv4-SP does it: all four rounding modes, the
//! cumulative exception flags of FPSCR, flush-to-zero and default-NaN modes, and ARM's NaN
//! propagation rules (ARMv7-M ARM A2.5, pseudocode FPRound/FPProcessNaNs/FPUnpack).
//!
//! Method: every operation is computed on `f64` values, which hold any f32 exactly. Products of
//! two f32 are exact in f64; sums, quotients and square roots are made "round-to-odd" (the
//! exact result's stickiness folded into the last f64 bit, using an exact error term), and a
//! round-to-odd value with at least two extra bits rounds correctly to f32 in every mode. The
//! final rounding ([`round`]) is done in integer arithmetic so it honours the mode and flags.

/// FPSCR cumulative exception flags (A2.5.3): invalid operation.
pub const IOC: u32 = 1 << 0;
/// Division by zero.
pub const DZC: u32 = 1 << 1;
/// Overflow.
pub const OFC: u32 = 1 << 2;
/// Underflow.
pub const UFC: u32 = 1 << 3;
/// Inexact.
pub const IXC: u32 = 1 << 4;
/// Input denormal (flushed to zero).
pub const IDC: u32 = 1 << 7;

/// The default NaN (FPSCR.DN, and the result of invalid operations).
pub const DEFAULT_NAN: u32 = 0x7fc0_0000;

/// Rounding modes (FPSCR.RMode, bits 23..22).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Round to nearest, ties to even.
    Nearest,
    /// Towards +infinity.
    PlusInf,
    /// Towards -infinity.
    MinusInf,
    /// Towards zero.
    Zero,
}

/// The FPSCR controls an operation depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpControl {
    /// Rounding mode.
    pub rounding: Rounding,
    /// Flush-to-zero (FPSCR.FZ).
    pub fz: bool,
    /// Default NaN (FPSCR.DN).
    pub dn: bool,
    /// Alternative half-precision (FPSCR.AHP).
    pub ahp: bool,
}

impl FpControl {
    /// Controls from an FPSCR value.
    pub fn from_fpscr(fpscr: u32) -> FpControl {
        FpControl {
            rounding: match (fpscr >> 22) & 3 {
                0 => Rounding::Nearest,
                1 => Rounding::PlusInf,
                2 => Rounding::MinusInf,
                _ => Rounding::Zero,
            },
            fz: fpscr & (1 << 24) != 0,
            dn: fpscr & (1 << 25) != 0,
            ahp: fpscr & (1 << 26) != 0,
        }
    }

    /// The same controls with round-towards-zero (VCVT to integer without R).
    pub fn toward_zero(self) -> FpControl {
        FpControl {
            rounding: Rounding::Zero,
            ..self
        }
    }
}

fn is_nan(x: u32) -> bool {
    x & 0x7fff_ffff > 0x7f80_0000
}

fn is_snan(x: u32) -> bool {
    is_nan(x) && x & 0x0040_0000 == 0
}

fn is_denormal(x: u32) -> bool {
    x & 0x7f80_0000 == 0 && x & 0x007f_ffff != 0
}

/// FPUnpack's flush-to-zero of a denormal input (sets IDC).
#[inline]
fn flush_input(x: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    if ctl.fz && is_denormal(x) {
        *flags |= IDC;
        x & 0x8000_0000
    } else {
        x
    }
}

/// The NaN result for a NaN operand (quietened, or the default NaN under DN).
fn propagate(x: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    if is_snan(x) {
        *flags |= IOC;
    }
    if ctl.dn {
        DEFAULT_NAN
    } else {
        x | 0x0040_0000
    }
}

/// FPProcessNaNs for any number of operands: signalling NaNs first, then quiet, in order.
fn process_nans(ops: &[u32], ctl: FpControl, flags: &mut u32) -> Option<u32> {
    if let Some(&x) = ops.iter().find(|&&x| is_snan(x)) {
        return Some(propagate(x, ctl, flags));
    }
    ops.iter()
        .find(|&&x| is_nan(x))
        .map(|&x| propagate(x, ctl, flags))
}

/// Step `x` one ulp away from zero (`away`) or towards zero: the round-to-odd correction.
#[inline]
fn nudge(x: f64, away: bool) -> f64 {
    let b = x.to_bits();
    f64::from_bits(if away { b + 1 } else { b - 1 })
}

/// Make `s` round-to-odd given the sign of the exact error `exact - s` (0 when exact).
#[inline]
fn to_odd(s: f64, err_sign: f64) -> f64 {
    if err_sign == 0.0 || s.to_bits() & 1 == 1 || s == 0.0 || s.is_infinite() {
        return s;
    }
    nudge(s, (err_sign > 0.0) == (s > 0.0))
}

/// `a + b` rounded to odd (TwoSum gives the exact error).
#[inline]
fn add_odd(a: f64, b: f64) -> f64 {
    let s = a + b;
    if s.is_infinite() {
        return s;
    }
    let bb = s - a;
    let err = (a - (s - bb)) + (b - bb);
    to_odd(s, err)
}

/// FPRound to a binary format with `frac` fraction bits and exponent range `emin..=emax`
/// (f32: 23, -126, 127; f16: 10, -14, 15). `x` must be finite, non-zero and round-to-odd.
/// Returns the encoding (sign in bit `frac + ebits`) and the exception flags.
fn round_finite(x: f64, frac: u32, emin: i32, emax: i32, ctl: FpControl) -> (u32, u32) {
    let bits = x.to_bits();
    let sign = (bits >> 63) as u32;
    let ebits = if frac == 23 { 8 } else { 5 };
    let sign_bit = sign << (frac + ebits);
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let (e, m) = if exp == 0 {
        (-1022, bits & ((1 << 52) - 1))
    } else {
        (exp - 1023, (bits & ((1 << 52) - 1)) | (1 << 52))
    };
    if ctl.fz && e < emin && frac == 23 {
        return (sign_bit, UFC);
    }
    let tiny = e < emin;
    let shift = (52 - frac as i32 + if tiny { emin - e } else { 0 }) as u32;
    let (mut q, r, half) = if shift >= 64 {
        (0u64, m, if shift == 64 { 1u64 << 63 } else { u64::MAX })
    } else {
        (m >> shift, m & ((1u64 << shift) - 1), 1u64 << (shift - 1))
    };
    let inc = match ctl.rounding {
        Rounding::Nearest => r > half || (r == half && shift < 65 && q & 1 == 1),
        Rounding::PlusInf => r != 0 && sign == 0,
        Rounding::MinusInf => r != 0 && sign == 1,
        Rounding::Zero => false,
    };
    // With shift > 64, `half` is larger than any remainder: only directed modes increment.
    q += inc as u64;
    let inexact = r != 0;
    let mut flags = if inexact { IXC } else { 0 };
    if tiny {
        if inexact {
            flags |= UFC;
        }
        // q <= 2^frac: 2^frac encodes the smallest normal, exactly as wanted.
        return (sign_bit | q as u32, flags);
    }
    let mut biased = e + (1 << (ebits - 1)) - 1;
    if q == 1 << (frac + 1) {
        q >>= 1;
        biased += 1;
    }
    if biased > emax + (1 << (ebits - 1)) - 1 {
        let to_inf = match ctl.rounding {
            Rounding::Nearest => true,
            Rounding::PlusInf => sign == 0,
            Rounding::MinusInf => sign == 1,
            Rounding::Zero => false,
        };
        let inf = ((1u32 << ebits) - 1) << frac;
        let v = if to_inf { inf } else { inf - 1 };
        return (sign_bit | v, OFC | IXC);
    }
    (
        sign_bit | ((biased as u32) << frac) | (q as u32 & ((1 << frac) - 1)),
        flags,
    )
}

/// Round an f64 (exact or round-to-odd) to f32 bits under `ctl`, with flags.
pub fn round(x: f64, ctl: FpControl) -> (u32, u32) {
    if x == 0.0 {
        return (if x.is_sign_negative() { 0x8000_0000 } else { 0 }, 0);
    }
    if x.is_infinite() {
        return (if x < 0.0 { 0xff80_0000 } else { 0x7f80_0000 }, 0);
    }
    if ctl.rounding == Rounding::Nearest && !ctl.fz {
        // Fast path: the host's conversion is correct for round-to-odd input; only flags remain.
        let f = x as f32;
        let exact = f as f64 == x;
        let tiny = x.abs() < f32::MIN_POSITIVE as f64;
        if exact {
            return (f.to_bits(), 0);
        }
        if f.is_infinite() {
            return (f.to_bits(), OFC | IXC);
        }
        return (f.to_bits(), IXC | if tiny { UFC } else { 0 });
    }
    round_finite(x, 23, -126, 127, ctl)
}

fn f(x: u32) -> f64 {
    f32::from_bits(x) as f64
}

/// A binary operation's common prologue: flush denormals, propagate NaNs.
fn prologue2(a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> Result<(u32, u32), u32> {
    let a = flush_input(a, ctl, flags);
    let b = flush_input(b, ctl, flags);
    match process_nans(&[a, b], ctl, flags) {
        Some(n) => Err(n),
        None => Ok((a, b)),
    }
}

/// Finish: a NaN from the host means an invalid operation (default NaN, IOC).
fn finish(x: f64, ctl: FpControl, flags: &mut u32) -> u32 {
    if x.is_nan() {
        *flags |= IOC;
        return DEFAULT_NAN;
    }
    let (r, fl) = round(x, ctl);
    *flags |= fl;
    r
}

/// FPAdd.
pub fn add(a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    match prologue2(a, b, ctl, flags) {
        Err(n) => n,
        Ok((a, b)) => {
            let (x, y) = (f(a), f(b));
            if x == 0.0 && y == 0.0 {
                // Exact zero sum: -0 only if both are -0, or in round-towards-minus-infinity.
                let neg = if x.is_sign_negative() == y.is_sign_negative() {
                    x.is_sign_negative()
                } else {
                    ctl.rounding == Rounding::MinusInf
                };
                return if neg { 0x8000_0000 } else { 0 };
            }
            let s = add_odd(x, y);
            if s == 0.0 && !(x.is_infinite() || y.is_infinite()) {
                // x = -y exactly: +0, or -0 when rounding towards minus infinity (IEEE 754 6.3).
                return if ctl.rounding == Rounding::MinusInf {
                    0x8000_0000
                } else {
                    0
                };
            }
            finish(s, ctl, flags)
        }
    }
}

/// FPSub.
pub fn sub(a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    if is_nan(b) {
        // NaN operands keep their sign: handle before negating.
        return match prologue2(a, b, ctl, flags) {
            Err(n) => n,
            Ok(_) => unreachable!(),
        };
    }
    add(a, b ^ 0x8000_0000, ctl, flags)
}

/// FPMul.
pub fn mul(a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    match prologue2(a, b, ctl, flags) {
        Err(n) => n,
        Ok((a, b)) => finish(f(a) * f(b), ctl, flags),
    }
}

/// FPDiv.
pub fn div(a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    match prologue2(a, b, ctl, flags) {
        Err(n) => n,
        Ok((a, b)) => {
            let (x, y) = (f(a), f(b));
            if y == 0.0 && x != 0.0 && x.is_finite() {
                *flags |= DZC;
            }
            let q = x / y;
            if q.is_finite() && q != 0.0 {
                let r = (-q).mul_add(y, x);
                // exact = q + r / y
                let sign = if (r > 0.0) == (y > 0.0) { 1.0 } else { -1.0 };
                return finish(to_odd(q, if r == 0.0 { 0.0 } else { sign }), ctl, flags);
            }
            finish(q, ctl, flags)
        }
    }
}

/// FPSqrt.
pub fn sqrt(a: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    let a = flush_input(a, ctl, flags);
    if is_nan(a) {
        return propagate(a, ctl, flags);
    }
    let x = f(a);
    if x == 0.0 {
        return a;
    }
    if x < 0.0 {
        *flags |= IOC;
        return DEFAULT_NAN;
    }
    let s = x.sqrt();
    if s.is_infinite() {
        return finish(s, ctl, flags);
    }
    let r = (-s).mul_add(s, x);
    finish(to_odd(s, r), ctl, flags)
}

/// FPMulAdd (fused): `addend + a * b` with one rounding (VFMA family).
pub fn mul_add(addend: u32, a: u32, b: u32, ctl: FpControl, flags: &mut u32) -> u32 {
    let addend = flush_input(addend, ctl, flags);
    let a = flush_input(a, ctl, flags);
    let b = flush_input(b, ctl, flags);
    if let Some(n) = process_nans(&[addend, a, b], ctl, flags) {
        return n;
    }
    let (c, x, y) = (f(addend), f(a), f(b));
    let p = x * y;
    if p.is_nan() {
        *flags |= IOC;
        return DEFAULT_NAN;
    }
    if p == 0.0 && c == 0.0 {
        let neg = if p.is_sign_negative() == c.is_sign_negative() {
            c.is_sign_negative()
        } else {
            ctl.rounding == Rounding::MinusInf
        };
        return if neg { 0x8000_0000 } else { 0 };
    }
    let s = add_odd(p, c);
    if s == 0.0 && p.is_finite() && c.is_finite() {
        return if ctl.rounding == Rounding::MinusInf {
            0x8000_0000
        } else {
            0
        };
    }
    finish(s, ctl, flags)
}

/// FPCompare: the NZCV result (A7.7.222) and flags; `quiet_nan_invalid` is VCMPE.
pub fn compare(a: u32, b: u32, signal_all_nans: bool, ctl: FpControl, flags: &mut u32) -> u32 {
    let a = flush_input(a, ctl, flags);
    let b = flush_input(b, ctl, flags);
    if is_nan(a) || is_nan(b) {
        if signal_all_nans || is_snan(a) || is_snan(b) {
            *flags |= IOC;
        }
        return 0b0011;
    }
    let (x, y) = (f(a), f(b));
    if x == y {
        0b0110
    } else if x < y {
        0b1000
    } else {
        0b0010
    }
}

/// Round `x` to an integer value per the mode (host f64 arithmetic is exact here).
fn round_to_integral(x: f64, mode: Rounding) -> f64 {
    match mode {
        Rounding::Nearest => x.round_ties_even(),
        Rounding::PlusInf => x.ceil(),
        Rounding::MinusInf => x.floor(),
        Rounding::Zero => x.trunc(),
    }
}

/// FPToFixed: f32 to a `size`-bit (16 or 32) integer with `frac_bits` fraction bits,
/// saturating with IOC on overflow or NaN, IXC when inexact. Result sign/zero-extended to 32.
pub fn to_fixed(
    a: u32,
    size: u32,
    frac_bits: u32,
    unsigned: bool,
    ctl: FpControl,
    flags: &mut u32,
) -> u32 {
    let a = flush_input(a, ctl, flags);
    if is_nan(a) {
        *flags |= IOC;
        return 0;
    }
    let x = f(a) * (2.0f64).powi(frac_bits as i32);
    let r = round_to_integral(x, ctl.rounding);
    let (lo, hi) = if unsigned {
        (0.0, ((1u64 << size) - 1) as f64)
    } else {
        (
            -((1u64 << (size - 1)) as f64),
            ((1u64 << (size - 1)) - 1) as f64,
        )
    };
    let v = if r < lo {
        *flags |= IOC;
        lo
    } else if r > hi {
        *flags |= IOC;
        hi
    } else {
        if r != x {
            *flags |= IXC;
        }
        r
    };
    let v = v as i64 as u32;
    match (size, unsigned) {
        (16, true) => v & 0xffff,
        (16, false) => v as u16 as i16 as u32,
        _ => v,
    }
}

/// FixedToFP: a `size`-bit integer with `frac_bits` fraction bits to f32, rounded per `ctl`.
pub fn from_fixed(
    v: u32,
    size: u32,
    frac_bits: u32,
    unsigned: bool,
    ctl: FpControl,
    flags: &mut u32,
) -> u32 {
    let int = match (size, unsigned) {
        (16, true) => (v & 0xffff) as f64,
        (16, false) => v as u16 as i16 as f64,
        (_, true) => v as f64,
        (_, false) => v as i32 as f64,
    };
    let x = int / (2.0f64).powi(frac_bits as i32);
    let (r, fl) = round(x, ctl);
    *flags |= fl;
    r
}

/// f32 to half precision (VCVTB/VCVTT, FPConvert): IEEE or alternative format (AHP).
pub fn to_half(a: u32, ctl: FpControl, flags: &mut u32) -> u16 {
    let a = flush_input(a, ctl, flags);
    let sign = ((a >> 16) & 0x8000) as u16;
    if is_nan(a) {
        if ctl.ahp {
            *flags |= IOC;
            return sign;
        }
        if is_snan(a) {
            *flags |= IOC;
        }
        if ctl.dn {
            return 0x7e00;
        }
        return sign | 0x7e00 | ((a >> 13) & 0x1ff) as u16;
    }
    let x = f(a);
    if x.is_infinite() {
        if ctl.ahp {
            *flags |= IOC;
            return sign | 0x7fff;
        }
        return sign | 0x7c00;
    }
    if x == 0.0 {
        return sign;
    }
    let emax = if ctl.ahp { 16 } else { 15 };
    let no_fz = FpControl { fz: false, ..ctl };
    let (r, mut fl) = round_finite(x, 10, -14, emax, no_fz);
    if ctl.ahp && fl & OFC != 0 {
        // No infinities in the alternative format: saturate, invalid instead of overflow.
        fl = IOC;
        *flags |= fl;
        return sign | 0x7fff;
    }
    *flags |= fl;
    r as u16
}

/// Half precision to f32 (exact).
pub fn from_half(h: u16, ctl: FpControl, flags: &mut u32) -> u32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as u32;
    if exp == 0x1f && !ctl.ahp {
        if frac == 0 {
            return sign | 0x7f80_0000;
        }
        let nan = sign | 0x7f80_0000 | (frac << 13);
        return propagate(nan, ctl, flags);
    }
    if exp == 0 {
        if frac == 0 {
            return sign;
        }
        // Subnormal half: frac * 2^-24, a normal f32.
        let v = (frac as f32) * f32::from_bits(0x3380_0000);
        return sign | v.to_bits();
    }
    sign | (((exp - 15 + 127) as u32) << 23) | (frac << 13)
}

/// VFPExpandImm for single precision (A6.4.1).
pub fn expand_imm(imm8: u32) -> u32 {
    let sign = (imm8 >> 7) & 1;
    let b6 = (imm8 >> 6) & 1;
    let exp = ((b6 ^ 1) << 7) | (if b6 == 1 { 0b11111 << 2 } else { 0 }) | ((imm8 >> 4) & 3);
    (sign << 31) | (exp << 23) | ((imm8 & 0xf) << 19)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RN: FpControl = FpControl {
        rounding: Rounding::Nearest,
        fz: false,
        dn: false,
        ahp: false,
    };

    fn ctl(rounding: Rounding) -> FpControl {
        FpControl { rounding, ..RN }
    }

    /// Deterministic operands biased towards the interesting cases: denormals, huge values,
    /// values whose sum cancels, exact ties.
    fn operands(n: usize) -> Vec<(u32, u32)> {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        (0..n)
            .map(|_| {
                let r = next();
                let a = r as u32;
                let b = match r >> 60 {
                    0 => a ^ 0x8000_0000,       // cancellation
                    1 => a & 0x807f_ffff,       // denormal or zero
                    2 => (a & 0xff80_0000) | 1, // near a power of two
                    _ => (r >> 32) as u32,
                };
                (a, b)
            })
            .filter(|&(a, b)| !f32::from_bits(a).is_nan() && !f32::from_bits(b).is_nan())
            .collect()
    }

    fn same(x: u32, y: f32) -> bool {
        (f32::from_bits(x).is_nan() && y.is_nan()) || x == y.to_bits()
    }

    #[test]
    fn round_to_nearest_matches_the_host() {
        let mut flags = 0;
        for (a, b) in operands(200_000) {
            let (x, y) = (f32::from_bits(a), f32::from_bits(b));
            assert!(same(add(a, b, RN, &mut flags), x + y), "{x:e} + {y:e}");
            assert!(same(sub(a, b, RN, &mut flags), x - y), "{x:e} - {y:e}");
            assert!(same(mul(a, b, RN, &mut flags), x * y), "{x:e} * {y:e}");
            assert!(same(div(a, b, RN, &mut flags), x / y), "{x:e} / {y:e}");
            assert!(same(sqrt(a, RN, &mut flags), x.sqrt()), "sqrt {x:e}");
            let c = f32::from_bits(a.rotate_left(7));
            if !c.is_nan() {
                assert!(
                    same(mul_add(c.to_bits(), a, b, RN, &mut flags), x.mul_add(y, c)),
                    "{x:e} * {y:e} + {c:e}"
                );
            }
        }
    }

    /// Check `r` is the rounding of the exact value whose sign relative to candidates is given
    /// by `cmp(candidate) = sign(candidate - exact)`.
    fn directed_ok(r: u32, mode: Rounding, cmp: impl Fn(f32) -> std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        let v = f32::from_bits(r);
        if !v.is_finite() {
            return true; // overflow behaviour is checked separately
        }
        let neg = r >> 31 == 1;
        // Neighbours towards +inf and -inf (the zeros are skipped over).
        let up = f32::from_bits(match (neg, r) {
            (true, 0x8000_0000) => 1,
            (true, _) => r - 1,
            (false, _) => r + 1,
        });
        let down = f32::from_bits(match (neg, r) {
            (false, 0) => 0x8000_0001,
            (false, _) => r - 1,
            (true, _) => r + 1,
        });
        match mode {
            Rounding::PlusInf => cmp(v) != Less && (cmp(v) == Equal || cmp(down) == Less),
            Rounding::MinusInf => cmp(v) != Greater && (cmp(v) == Equal || cmp(up) == Greater),
            Rounding::Zero => {
                if !neg {
                    cmp(v) != Greater && (cmp(v) == Equal || cmp(up) == Greater)
                } else {
                    cmp(v) != Less && (cmp(v) == Equal || cmp(down) == Less)
                }
            }
            Rounding::Nearest => true,
        }
    }

    #[test]
    fn directed_rounding_of_products_and_quotients() {
        let mut flags = 0;
        for mode in [Rounding::PlusInf, Rounding::MinusInf, Rounding::Zero] {
            for (a, b) in operands(50_000) {
                let (x, y) = (f32::from_bits(a) as f64, f32::from_bits(b) as f64);
                let p = mul(a, b, ctl(mode), &mut flags);
                assert!(
                    directed_ok(p, mode, |c| (c as f64).partial_cmp(&(x * y)).unwrap()),
                    "{mode:?}: {x:e} * {y:e} gave {:e}",
                    f32::from_bits(p)
                );
                if y != 0.0 && x.is_finite() && y.is_finite() {
                    let q = div(a, b, ctl(mode), &mut flags);
                    // sign(c - x/y) = sign(c*y - x) * sign(y); c*y is exact in f64.
                    let cmp = |c: f32| {
                        let d = (c as f64 * y).partial_cmp(&x).unwrap();
                        if y < 0.0 {
                            d.reverse()
                        } else {
                            d
                        }
                    };
                    assert!(
                        directed_ok(q, mode, cmp),
                        "{mode:?}: {x:e} / {y:e} gave {:e}",
                        f32::from_bits(q)
                    );
                }
            }
        }
    }

    #[test]
    fn flags_for_special_cases() {
        let mut f = 0;
        assert_eq!(div(0x3f80_0000, 0, RN, &mut f), 0x7f80_0000);
        assert_eq!(f, DZC);
        f = 0;
        assert_eq!(sqrt(0xbf80_0000, RN, &mut f), DEFAULT_NAN);
        assert_eq!(f, IOC);
        f = 0;
        // Smallest normal / 2: tiny and exact is no underflow; / 3 is tiny and inexact.
        assert_eq!(div(0x0080_0000, 0x4000_0000, RN, &mut f), 0x0040_0000);
        assert_eq!(f, 0);
        div(0x0080_0000, 0x4040_0000, RN, &mut f);
        assert_eq!(f, UFC | IXC);
        f = 0;
        let fz = FpControl { fz: true, ..RN };
        assert_eq!(
            mul(0x0080_0000, 0x3f00_0000, fz, &mut f),
            0,
            "FZ flushes a tiny result"
        );
        assert_eq!(f, UFC);
        f = 0;
        assert_eq!(
            add(0x3f80_0000, 0xbf80_0000, ctl(Rounding::MinusInf), &mut f),
            0x8000_0000,
            "x - x = -0 in RM"
        );
        assert_eq!(f, 0);
    }

    #[test]
    fn integer_and_half_conversions() {
        let mut f = 0;
        assert_eq!(
            to_fixed(0x4020_0000, 32, 0, false, RN, &mut f),
            2,
            "2.5 ties to even"
        );
        assert_eq!(
            to_fixed(0x4060_0000, 32, 0, false, RN, &mut f),
            4,
            "3.5 ties to even"
        );
        assert_eq!(f, IXC);
        f = 0;
        assert_eq!(to_fixed(DEFAULT_NAN, 32, 0, false, RN, &mut f), 0);
        assert_eq!(f, IOC);
        f = 0;
        assert_eq!(
            to_half(0x477f_f000, RN, &mut f),
            0x7c00,
            "65520 rounds to infinity in half"
        );
        assert_eq!(f, OFC | IXC);
        f = 0;
        assert_eq!(
            to_half(0x3380_0000, RN, &mut f),
            0x0001,
            "2^-24 is the smallest half subnormal"
        );
        assert_eq!(from_half(0x0001, RN, &mut f), 0x3380_0000);
        assert_eq!(from_half(0xfc00, RN, &mut f), 0xff80_0000);
        assert_eq!(f, 0);
        assert_eq!(expand_imm(0x70), 0x3f80_0000, "VMOV.F32 #1.0");
        assert_eq!(expand_imm(0xf8), 0xbfc0_0000, "VMOV.F32 #-1.5");
    }
}
