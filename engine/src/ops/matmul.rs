//! The blocked int8 matrix product behind the fast paths of CONV_2D and FULLY_CONNECTED:
//! `acc(p, c) = Σ_k lhs[p][k] * rhs[c][k]` for `pixels` left-hand rows (input pixels, im2col
//! patches or FULLY_CONNECTED batches) and `channels` right-hand rows (filter rows, int8,
//! contiguous), each output handed to a `finish(p, c, acc)` that requantizes it.
//!
//! The ideas are CMSIS-NN's (`arm_nn_mat_mult_kernel_s8_s16`, `arm_nn_mat_mult_nt_t_s8`,
//! `arm_convolve_1x1_s8_fast`): outputs are computed in blocks of two pixels x two channels
//! (or one pixel x four channels), so that every word loaded and unpacked (SXTB16) feeds two or
//! four SMLADs instead of one. Channels are the outer loop and pixels the inner one, so a channel
//! pair's filter rows stay in the flash data cache (STM32L4's ART: 256 bytes) while all pixels
//! pass by. Integer sums are exact (wrapping mod 2^32), so any order gives the reference's result;
//! the host runs the same algorithm on [`Emulated`](super::dot::Emulated) instructions.
//!
//! The left-hand side is either int8 (1x1 CONV_2D, FULLY_CONNECTED: the input offset is folded
//! into a per-channel constant `offset * Σ_k rhs[c][k]` computed at prepare time) or int16
//! (an im2col patch with the input offset already added, padding as 0), stored with each quad of
//! values reordered (0, 2, 1, 3) so that its words pair with SXTB16's (bytes 0, 2) and (bytes 1,
//! 3) of the filter word without a PKHBT/PKHTB, as CMSIS-NN's `arm_q7_to_q15_reordered_*`.

use super::dot::Simd;

/// An element of a left-hand row.
pub trait Lhs: Copy {
    /// Four consecutive row values as two words of int16 pairs: values (0, 2) and (1, 3).
    fn quad<S: Simd>(q: &[Self; 4]) -> (u32, u32);
    /// One value, for the last `depth % 4` of a row.
    fn value(self) -> i32;
}

impl Lhs for i8 {
    #[inline(always)]
    fn quad<S: Simd>(q: &[i8; 4]) -> (u32, u32) {
        let w = u32::from_le_bytes([q[0] as u8, q[1] as u8, q[2] as u8, q[3] as u8]);
        (S::sxtb16(w), S::sxtb16_ror8(w))
    }
    #[inline(always)]
    fn value(self) -> i32 {
        self as i32
    }
}

/// im2col rows: quads stored as (0, 2, 1, 3) by [`reorder_quads`].
impl Lhs for i16 {
    #[inline(always)]
    fn quad<S: Simd>(q: &[i16; 4]) -> (u32, u32) {
        (
            q[0] as u16 as u32 | (q[1] as u16 as u32) << 16,
            q[2] as u16 as u32 | (q[3] as u16 as u32) << 16,
        )
    }
    #[inline(always)]
    fn value(self) -> i32 {
        self as i32
    }
}

/// Puts each full quad of an int16 row in the (0, 2, 1, 3) order [`Lhs for i16`](Lhs) reads.
#[inline(always)]
pub fn reorder_quads(row: &mut [i16]) {
    for q in row.chunks_exact_mut(4) {
        q.swap(1, 2);
    }
}

/// `Σ_k rhs[c][k]` times `offset`, plus the bias: the part of a 1x1 CONV_2D's or
/// FULLY_CONNECTED's output that does not depend on the input, so that the kernel can multiply
/// raw int8 inputs (`Σ f (x + offset) = Σ f x + offset Σ f`, exact in wrapping integers).
pub fn row_offset(filter_row: &[u8], offset: i32, bias: i32) -> i32 {
    let sum = filter_row
        .iter()
        .fold(0i32, |s, &f| s.wrapping_add(f as i8 as i32));
    bias.wrapping_add(sum.wrapping_mul(offset))
}

/// `P` x `C` outputs at once over the whole depth: the register block. `P` and `C` are 1, 2 or
/// 4, so the loops below unroll into straight-line code with the accumulators in registers.
#[inline(always)]
fn block<S: Simd, T: Lhs, const P: usize, const C: usize>(
    xs: [&[T]; P],
    fs: [&[i8]; C],
    depth: usize,
) -> [[i32; C]; P] {
    let quads = depth / 4;
    // Slicing every row to exactly `quads` lets the compiler drop the bounds checks below.
    let xq: [&[[T; 4]]; P] =
        core::array::from_fn(|p| &xs[p][..quads * 4].as_chunks::<4>().0[..quads]);
    let fq: [&[[i8; 4]]; C] =
        core::array::from_fn(|c| &fs[c][..quads * 4].as_chunks::<4>().0[..quads]);
    let mut acc = [[0i32; C]; P];
    for k in 0..quads {
        let x: [(u32, u32); P] = core::array::from_fn(|p| T::quad::<S>(&xq[p][k]));
        for c in 0..C {
            let f = &fq[c][k];
            let w = u32::from_le_bytes([f[0] as u8, f[1] as u8, f[2] as u8, f[3] as u8]);
            let (f02, f13) = (S::sxtb16(w), S::sxtb16_ror8(w));
            for p in 0..P {
                acc[p][c] = S::smlad(f02, x[p].0, acc[p][c]);
                acc[p][c] = S::smlad(f13, x[p].1, acc[p][c]);
            }
        }
    }
    for k in quads * 4..depth {
        for c in 0..C {
            let f = fs[c][k] as i32;
            for p in 0..P {
                acc[p][c] = acc[p][c].wrapping_add(f * xs[p][k].value());
            }
        }
    }
    acc
}

/// Calls `finish(p, c, acc)` once for every left-hand row `p < pixels` (row `p` starts at
/// `lhs[p * lhs_stride]`) and filter row `c < channels` (at `rhs[c * depth]`).
#[inline(always)]
pub fn mat_mult<S: Simd, T: Lhs>(
    lhs: &[T],
    lhs_stride: usize,
    pixels: usize,
    rhs: &[i8],
    depth: usize,
    channels: usize,
    mut finish: impl FnMut(usize, usize, i32),
) {
    let x = |p: usize| &lhs[p * lhs_stride..][..depth];
    let f = |c: usize| &rhs[c * depth..][..depth];
    let mut c = 0;
    if pixels == 1 {
        // One pixel (FULLY_CONNECTED with one batch): four filter rows share each input word.
        while c + 4 <= channels {
            let [acc] = block::<S, T, 1, 4>([x(0)], [f(c), f(c + 1), f(c + 2), f(c + 3)], depth);
            for (i, &a) in acc.iter().enumerate() {
                finish(0, c + i, a);
            }
            c += 4;
        }
    } else {
        while c + 2 <= channels {
            let fs = [f(c), f(c + 1)];
            let mut p = 0;
            while p + 2 <= pixels {
                let [a0, a1] = block::<S, T, 2, 2>([x(p), x(p + 1)], fs, depth);
                finish(p, c, a0[0]);
                finish(p, c + 1, a0[1]);
                finish(p + 1, c, a1[0]);
                finish(p + 1, c + 1, a1[1]);
                p += 2;
            }
            if p < pixels {
                let [a] = block::<S, T, 1, 2>([x(p)], fs, depth);
                finish(p, c, a[0]);
                finish(p, c + 1, a[1]);
            }
            c += 2;
        }
    }
    for c in c..channels {
        let mut p = 0;
        while p + 2 <= pixels {
            let [[a0], [a1]] = block::<S, T, 2, 1>([x(p), x(p + 1)], [f(c)], depth);
            finish(p, c, a0);
            finish(p + 1, c, a1);
            p += 2;
        }
        if p < pixels {
            let [[a]] = block::<S, T, 1, 1>([x(p)], [f(c)], depth);
            finish(p, c, a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dot::Emulated;
    use super::*;
    use std::vec::Vec;

    /// xorshift64* bytes.
    fn bytes(seed: &mut u64, n: usize) -> Vec<i8> {
        (0..n)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8 as i8
            })
            .collect()
    }

    /// Every (pixel, channel) output, in the order `finish` may see them.
    fn products<T: Lhs>(
        lhs: &[T],
        stride: usize,
        pixels: usize,
        rhs: &[i8],
        depth: usize,
        channels: usize,
    ) -> Vec<i32> {
        let mut out = std::vec![i32::MIN; pixels * channels];
        mat_mult::<Emulated, T>(lhs, stride, pixels, rhs, depth, channels, |p, c, acc| {
            assert_eq!(
                out[p * channels + c],
                i32::MIN,
                "output ({p}, {c}) written twice"
            );
            out[p * channels + c] = acc;
        });
        out
    }

    #[test]
    fn blocked_product_is_every_dot_product_once() {
        let mut seed = 0x5eed_0f_b10c_4ed;
        for pixels in 1..=5 {
            for channels in 1..=9 {
                for depth in [1, 3, 4, 7, 8, 13, 64] {
                    let stride = depth + pixels % 3;
                    let lhs = bytes(&mut seed, pixels * stride);
                    let rhs = bytes(&mut seed, channels * depth);
                    let got = products(&lhs, stride, pixels, &rhs, depth, channels);
                    let wide: Vec<i16> = lhs.iter().map(|&v| v as i16 * 3 - 100).collect();
                    let mut reordered = wide.clone();
                    for p in 0..pixels {
                        reorder_quads(&mut reordered[p * stride..][..depth]);
                    }
                    let got16 = products(&reordered, stride, pixels, &rhs, depth, channels);
                    for p in 0..pixels {
                        for c in 0..channels {
                            let (x, f) = (&lhs[p * stride..][..depth], &rhs[c * depth..][..depth]);
                            let want: i32 =
                                x.iter().zip(f).map(|(&x, &f)| x as i32 * f as i32).sum();
                            let at = p * channels + c;
                            assert_eq!(
                                got[at], want,
                                "int8 p {p} c {c} of {pixels}x{channels}x{depth}"
                            );
                            let x = &wide[p * stride..][..depth];
                            let want: i32 =
                                x.iter().zip(f).map(|(&x, &f)| x as i32 * f as i32).sum();
                            assert_eq!(
                                got16[at], want,
                                "int16 p {p} c {c} of {pixels}x{channels}x{depth}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn folded_offset_gives_the_offset_dot_product() {
        let mut seed = 77;
        for offset in [-127, -1, 0, 128] {
            let (x, f) = (bytes(&mut seed, 37), bytes(&mut seed, 37));
            let f_bytes: Vec<u8> = f.iter().map(|&v| v as u8).collect();
            let raw: i32 = x.iter().zip(&f).map(|(&x, &f)| x as i32 * f as i32).sum();
            assert_eq!(
                raw + row_offset(&f_bytes, offset, 1234),
                super::super::dot::offset_dot_reference(&x, &f, offset) + 1234
            );
        }
    }
}
