//! SOFTMAX over the last dimension: int8 in fixed point exactly as TFLite Micro's
//! `reference_ops::Softmax<int8_t, int8_t>` (softmax.h; exp in Q5.26 via gemmlowp's
//! `exp_on_negative_values`, sum in Q12.19, reciprocal by Newton-Raphson), and float32.

use super::{Prep, TensorId};
use crate::error::Error;
use crate::fixedpoint::{exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1};
use crate::quant::{
    quantize_multiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul,
};
use crate::schema::TensorType;

#[derive(Clone, Copy, Debug)]
pub struct Softmax {
    pub input: TensorId,
    pub outer: u32,
    pub depth: u32,
    pub mode: Mode,
}

#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Int8 {
        input_multiplier: i32,
        input_left_shift: i32,
        diff_min: i32,
    },
    F32 {
        beta: f32,
    },
}

/// Integer bits of the scaled input differences (Q5.26), `kScaledDiffIntegerBits`.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials, `kAccumulationIntegerBits`.
const ACCUMULATION_INTEGER_BITS: i32 = 12;

pub fn prepare(p: &Prep<'_, '_>) -> Result<Softmax, Error> {
    p.expect_options(9)?;
    let input = p.input(0)?;
    let output = p.output(0)?;
    // SoftmaxOptions: beta 0.
    let beta = p.opt_f32(0, 0.0)?;
    let depth = input.shape.dims().last().copied().unwrap_or(1) as usize;
    if depth == 0 || input.shape.elements() != output.shape.elements() {
        return Err(p.invalid("SOFTMAX input and output shapes differ"));
    }
    let outer = input.shape.elements() / depth;
    let mode = match (input.dtype, output.dtype) {
        (TensorType::Int8, TensorType::Int8) => {
            // TFLite Micro requires this output quantization for int8 softmax (softmax_common.cc).
            if output.zero_point != -128 || (output.scale - 1.0 / 256.0).abs() > 1e-8 {
                return Err(
                    p.unsupported("int8 SOFTMAX needs output scale 1/256 and zero point -128")
                );
            }
            // PreprocessSoftmaxScaling (quantization_util.cc), double rounding build.
            let real = (beta as f64
                * input.scale as f64
                * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
                .min((1i64 << 31) as f64 - 1.0);
            let (input_multiplier, input_left_shift) = quantize_multiplier(real);
            if input_left_shift < 0 {
                return Err(p.unsupported(
                    "int8 SOFTMAX with beta * input scale this small is not supported",
                ));
            }
            // CalculateInputRadius(5, left_shift): floor((2^5 - 1) * 2^26 / 2^left_shift).
            let radius = ((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) as f64
                * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64
                / (1i64 << input_left_shift) as f64;
            let diff_min = -(libm::floor(radius) as i32);
            Mode::Int8 {
                input_multiplier,
                input_left_shift,
                diff_min,
            }
        }
        (TensorType::Float32, TensorType::Float32) => Mode::F32 { beta },
        _ => return Err(p.unsupported("SOFTMAX runs int8 -> int8 and float32 -> float32")),
    };
    let outer = u32::try_from(outer).map_err(|_| p.unsupported("tensor too large"))?;
    Ok(Softmax {
        input: p.id(&input),
        outer,
        depth: depth as u32,
        mode,
    })
}

/// TFLite `GetReciprocal` (common.h): 1 / x for a Q(x_integer_digits) value, as a Q0.31 scale and
/// the number of bits above one.
fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = x_integer_digits - headroom_plus_one;
    let shifted_sum_minus_one = ((x as u32) << headroom_plus_one).wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

impl Softmax {
    pub(crate) fn eval(&self, ctx: &mut super::Ctx<'_>) -> Result<(), &'static str> {
        let (outer, depth) = (self.outer as usize, self.depth as usize);
        match self.mode {
            Mode::Int8 {
                input_multiplier,
                input_left_shift,
                diff_min,
            } => {
                let input = ctx.i8(self.input)?;
                let out = ctx.out_i8();
                // MultiplyByQuantizedMultiplierGreaterThanOne (shift is 0..=31 by construction).
                let left = (1u32 << input_left_shift.clamp(0, 31)) as i32;
                let rescaled = |diff: i32| mul(diff.wrapping_mul(left), input_multiplier);
                for i in 0..outer {
                    let row = &input[i * depth..(i + 1) * depth];
                    let max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;
                    let mut sum_of_exps: i32 = 0;
                    for &v in row {
                        let diff = v as i32 - max;
                        if diff >= diff_min {
                            // Rescale<12> of a Q0.31 value: divide by 2^12 with rounding.
                            sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                                exp_on_negative_values(rescaled(diff), SCALED_DIFF_INTEGER_BITS),
                                ACCUMULATION_INTEGER_BITS,
                            ));
                        }
                    }
                    let (shifted_scale, num_bits_over_unit) =
                        get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
                    for (o, &v) in out[i * depth..(i + 1) * depth].iter_mut().zip(row) {
                        let diff = v as i32 - max;
                        *o = if diff >= diff_min {
                            let exp_in_0 =
                                exp_on_negative_values(rescaled(diff), SCALED_DIFF_INTEGER_BITS);
                            let unsat = rounding_divide_by_pot(
                                mul(shifted_scale, exp_in_0),
                                num_bits_over_unit + 31 - 8,
                            );
                            unsat
                                .wrapping_add(i8::MIN as i32)
                                .clamp(i8::MIN as i32, i8::MAX as i32)
                                as i8
                        } else {
                            i8::MIN
                        };
                    }
                }
            }
            Mode::F32 { beta } => {
                let input = ctx.f32(self.input)?;
                let out = ctx.out_f32()?;
                for i in 0..outer {
                    let row = &input[i * depth..(i + 1) * depth];
                    let o = &mut out[i * depth..(i + 1) * depth];
                    let max = row.iter().copied().fold(f32::MIN, f32::max);
                    let mut sum = 0.0f32;
                    for (o, &v) in o.iter_mut().zip(row) {
                        *o = libm::expf((v - max) * beta);
                        sum += *o;
                    }
                    for o in o.iter_mut() {
                        *o /= sum;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_of_zero_is_one() {
        assert_eq!(
            exp_on_negative_values(0, SCALED_DIFF_INTEGER_BITS),
            i32::MAX
        );
    }

    #[test]
    fn exp_of_minus_one_is_close() {
        // -1.0 in Q5.26.
        let e = exp_on_negative_values(-(1 << 26), SCALED_DIFF_INTEGER_BITS) as f64
            / (1u64 << 31) as f64;
        assert!((e - (-1.0f64).exp()).abs() < 1e-6, "{e}");
    }

    #[test]
    fn reciprocal_of_two() {
        // 2.0 in Q12.19.
        let (scale, bits) = get_reciprocal(2 << 19, 12);
        // 1/2 = scale (Q0.31, about 1.0) * 2^-bits.
        let v = scale as f64 / (1u64 << 31) as f64 / (1u64 << bits) as f64;
        assert!((v - 0.5).abs() < 1e-6, "{v} {bits}");
    }
}
