//! gemmlowp's fixed-point transcendental functions (gemmlowp/fixedpoint/fixedpoint.h), on raw
//! int32 values, as TFLite's int8 SOFTMAX, LOGISTIC and TANH kernels use them. `Qm` below is a
//! FixedPoint<int32, m>: m integer bits, 31 - m fractional bits.

use crate::quant::{
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul, saturating_shift_left,
};

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl` on Q0.31 raw values.
pub fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1895147668; // exp(-1/8)
    const CONSTANT_1_OVER_3: i32 = 715827883;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(
        mul(x4_over_4.wrapping_add(x3), CONSTANT_1_OVER_3).wrapping_add(x2),
        1,
    );
    CONSTANT_TERM.wrapping_add(mul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp `exp_on_negative_values` for a Q(integer_bits).(31 - integer_bits) input (1..=5 integer
/// bits); returns Q0.31.
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    // Rescale<0> to Q0.31: saturating multiply by 2^integer_bits.
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_shift_left(a_mod_quarter_minus_one_quarter, integer_bits),
    );
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // Barrel shifter: exp(-2^k) for k = -2..4 in Q0.31.
    const MULTIPLIERS: [(i32, i32); 7] = [
        (-2, 1672461947),
        (-1, 1302514674),
        (0, 790015084),
        (1, 290630308),
        (2, 39332535),
        (3, 720401),
        (4, 242),
    ];
    for (exponent, multiplier) in MULTIPLIERS {
        if integer_bits > exponent && remainder & (1 << (fractional_bits + exponent)) != 0 {
            result = mul(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1` on Q0.31 raw values.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    // RoundingHalfSum(a, One) in 64-bit.
    let sum = a as i64 + i32::MAX as i64;
    let half_denominator = ((sum + if sum >= 0 { 1 } else { -1 }) / 2) as i32;
    const CONSTANT_48_OVER_17: i32 = 1515870810; // Q2.29
    const CONSTANT_NEG_32_OVER_17: i32 = -1010580540; // Q2.29
    let mut x = CONSTANT_48_OVER_17.wrapping_add(mul(half_denominator, CONSTANT_NEG_32_OVER_17));
    const ONE_Q2: i32 = 1 << 29;
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        // Q2 * Q2 = Q4, Rescale<2>: saturating multiply by 2^2.
        x = x.wrapping_add(saturating_shift_left(mul(x, one_minus), 2));
    }
    // ExactMulByPot<-1> keeps the raw value (Q2 -> Q1); Rescale<0> from Q1: multiply by 2.
    saturating_shift_left(x, 1)
}

/// gemmlowp `one_minus_x_over_one_plus_x_for_x_in_0_1` on Q0.31 raw values.
pub fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let sum = a as i64 + i32::MAX as i64;
    let half_denominator = ((sum + if sum >= 0 { 1 } else { -1 }) / 2) as i32;
    const CONSTANT_48_OVER_17: i32 = 1515870810; // Q2.29
    const CONSTANT_NEG_32_OVER_17: i32 = -1010580540; // Q2.29
    let mut x = CONSTANT_48_OVER_17.wrapping_add(mul(half_denominator, CONSTANT_NEG_32_OVER_17));
    const ONE_Q2: i32 = 1 << 29;
    for _ in 0..3 {
        let one_minus = ONE_Q2.wrapping_sub(mul(half_denominator, x));
        x = x.wrapping_add(saturating_shift_left(mul(x, one_minus), 2));
    }
    // Rescale<0>(x - One) from Q2: saturating multiply by 2^2.
    saturating_shift_left(x.wrapping_sub(ONE_Q2), 2)
}

/// gemmlowp `logistic` of a Q(integer_bits) value; returns Q0.31.
pub fn logistic(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30; // one half
    }
    // logistic_on_positive_values(|a|) = 1 / (1 + exp(-|a|)).
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), integer_bits));
    if a > 0 {
        positive
    } else {
        i32::MAX.wrapping_sub(positive) // One - result
    }
}

/// gemmlowp `tanh` of a Q(integer_bits) value; returns Q0.31.
pub fn tanh(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    // neg_tanh_on_negative_values(n) with n = -|a|: ExactMulByPot<1> keeps the raw value and adds an
    // integer bit, so exp runs on Q(integer_bits + 1).
    let n = if a < 0 { a } else { a.wrapping_neg() };
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}
