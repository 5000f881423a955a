//! `linpack`: the LINPACK benchmark. Generates a random n×n system Ax = b, solves it by Gaussian
//! elimination with partial pivoting (LINPACK's dgefa) and substitution (dgesl), and reports the
//! normalized residual (is the answer right?) and the rate (how fast was it?).
//!
//! Like the classic benchmark's matgen, A's entries are uniform in [-0.5, 0.5) and b = A·1 (row
//! sums), so x ≈ 1. Every loop runs in a fixed order without FMA, so the residual is bit-identical
//! on the worker and the host for one seed; only `latency` and `mflops` vary between runs.
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};
use crate::memory;
use crate::rng::{self, SplitMix64};

pub struct Linpack;

/// Largest n accepted, the issue's suggestion, kept because it leaves ample room both ways. Memory:
/// A takes n²·8 bytes of the worker's arena, 720 KB at 300 (b, x and the pivots add 7 KB), well
/// inside the 4 MiB default and even a 1 MiB one. Time: factor + solve at n = 300 took 63 ms under
/// `qemu-x86_64` 7.2 (TCG, user mode, opt-level "s") on the dev machine, 3 ms natively; a
/// whole-system TCG worker is slower but stays far below the invocation timeout.
pub const MAX_N: u64 = 300;

/// Both ways the system can be unsolvable: an exactly zero pivot, or a solution that overflows.
/// A matter of the generated matrix, hence of the seed (with none, retrying draws a new one).
const SINGULAR: FnError =
    FnError::bad_args("seed: the generated matrix is singular to working precision, try another seed");

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    pub n: u64,
    /// Seed of A's entries; the clock when absent.
    pub seed: Option<u64>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    pub n: u64,
    /// ‖Ax − b‖∞ / (‖A‖∞ ‖x‖∞ n ε), ε = 2⁻⁵²: below 10 passes, as in the classic benchmark. About
    /// n/2 times smaller than the classic figure, which divides by max |a_ij| instead of ‖A‖∞.
    pub residual: f64,
    /// (2/3 n³ + 2 n²) / latency / 10⁶, the classic flop count; 0 if the clock did not advance.
    pub mflops: f64,
    /// Seconds the factorization and the solve took (not the generation or the residual).
    pub latency: f64,
}

impl Function for Linpack {
    const NAME: &'static str = "linpack";
    const SUMMARY: &'static str = "solve a random n×n system by LU with partial pivoting";
    const ARGS: &'static str = "{\"n\": integer 1..=300, \"seed\"?: integer (default: the clock)}";
    const OUTPUT: &'static str =
        "{\"n\": integer, \"residual\": ‖Ax−b‖∞/(‖A‖∞‖x‖∞·n·ε), \"mflops\": number, \"latency\": seconds}";
    const EXAMPLE: &'static str = r#"{"n": 100, "seed": 42}"#;
    type Args<'a> = Args;
    type Output<'a> = Output;

    fn check(args: &Args) -> Result<(), FnError> {
        match args.n {
            0 => Err(FnError::bad_args("n: must be at least 1")),
            n if n > MAX_N => Err(FnError::bad_args("n: must be at most 300")),
            _ => Ok(()),
        }
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        // At most 300 after `check`.
        let n = args.n as usize;
        let seed = rng::seed_or_clock(args.seed, ctx);
        let mut a = memory::vec_filled(n * n, 0.0)?;
        // b, overwritten in place by the solution x.
        let mut x = memory::vec_filled(n, 0.0)?;
        let mut pivots = memory::vec_filled(n, 0usize)?;
        matgen(seed, n, &mut a, &mut x);

        let start = ctx.clock.now_ns();
        factor(n, &mut a, &mut pivots)?;
        solve(n, &a, &pivots, &mut x)?;
        let latency = ctx.seconds_since(start);

        // The factorization overwrote A: generate it (and b) again, as the classic benchmark does.
        let mut b = memory::vec_filled(n, 0.0)?;
        matgen(seed, n, &mut a, &mut b);
        let residual = residual(n, &a, &b, &x)?;

        let nf = n as f64;
        let flops = 2.0 / 3.0 * nf * nf * nf + 2.0 * nf * nf;
        let mflops = if latency > 0.0 { flops / latency / 1e6 } else { 0.0 };
        Ok(Output { n: args.n, residual, mflops, latency })
    }
}

/// Fills A (n×n, column-major: `a[j·n + i]` is row i, column j) column by column with
/// `next_f64() − 0.5` from SplitMix64(seed), and b with A's row sums, added in column order.
/// `b` must hold n zeros.
fn matgen(seed: u64, n: usize, a: &mut [f64], b: &mut [f64]) {
    let mut rng = SplitMix64::new(seed);
    for column in a.chunks_exact_mut(n) {
        for (a_ij, b_i) in column.iter_mut().zip(b.iter_mut()) {
            *a_ij = rng.next_f64() - 0.5;
            *b_i += *a_ij;
        }
    }
}

/// dgefa: PA = LU in place (column-major). Below the diagonal, column k holds L's multipliers
/// (unit diagonal implied); on and above it, U. `pivots[k]` is the row swapped with row k at step
/// k, the same convention as LAPACK's getrf (0-based). Column-oriented, so the inner loops run
/// down contiguous columns.
fn factor(n: usize, a: &mut [f64], pivots: &mut [usize]) -> Result<(), FnError> {
    let mut rest = a;
    for (k, pivot_row) in pivots.iter_mut().enumerate() {
        let Some((col_k, right)) = core::mem::take(&mut rest).split_at_mut_checked(n) else {
            break;
        };
        rest = right;
        // Partial pivoting: the largest |a_ik| for i ≥ k, the first one on ties (idamax).
        let p = k + largest_magnitude(&col_k[k..]);
        *pivot_row = p;
        col_k.swap(k, p);
        let pivot = col_k[k];
        if pivot == 0.0 {
            return Err(SINGULAR);
        }
        // Multipliers l_ik = a_ik / a_kk, by one reciprocal like dgefa.
        let t = 1.0 / pivot;
        let multipliers = &mut col_k[k + 1..];
        multipliers.iter_mut().for_each(|l_ik| *l_ik *= t);
        // Eliminate below row k in every column to the right: swap, then a_ij −= a_kj·l_ik.
        for col_j in rest.chunks_exact_mut(n) {
            col_j.swap(k, p);
            let a_kj = col_j[k];
            for (a_ij, l_ik) in col_j[k + 1..].iter_mut().zip(multipliers.iter()) {
                *a_ij -= a_kj * l_ik;
            }
        }
    }
    Ok(())
}

/// The index of the entry of largest magnitude, the first on ties; 0 for an empty slice.
fn largest_magnitude(v: &[f64]) -> usize {
    let mut best = 0;
    let mut max = -1.0;
    for (i, x) in v.iter().enumerate() {
        if x.abs() > max {
            max = x.abs();
            best = i;
        }
    }
    best
}

/// dgesl: overwrites b with the solution of Ax = b, given `factor`'s output: first Ly = Pb
/// (applying the swaps in order), then Ux = y backwards. A solution that overflows means A is
/// singular to working precision.
fn solve(n: usize, lu: &[f64], pivots: &[usize], b: &mut [f64]) -> Result<(), FnError> {
    for (k, (col_k, &p)) in lu.chunks_exact(n).zip(pivots).enumerate() {
        b.swap(k, p);
        let y_k = b[k];
        for (b_i, l_ik) in b[k + 1..].iter_mut().zip(&col_k[k + 1..]) {
            *b_i -= y_k * l_ik;
        }
    }
    for (k, col_k) in lu.chunks_exact(n).enumerate().rev() {
        b[k] /= col_k[k];
        let x_k = b[k];
        for (b_i, u_ik) in b[..k].iter_mut().zip(col_k) {
            *b_i -= x_k * u_ik;
        }
    }
    if b.iter().all(|x| x.is_finite()) { Ok(()) } else { Err(SINGULAR) }
}

/// ‖Ax − b‖∞ / (‖A‖∞ ‖x‖∞ n ε), row by row in column order; 0 when Ax = b exactly (which also
/// covers x = 0, where the quotient would be 0/0).
fn residual(n: usize, a: &[f64], b: &[f64], x: &[f64]) -> Result<f64, FnError> {
    let mut max_r = 0.0;
    let mut norm_a = 0.0;
    for (i, b_i) in b.iter().enumerate() {
        // Row i of the column-major A.
        let row = a.iter().skip(i).step_by(n.max(1));
        let mut r = -b_i;
        let mut sum = 0.0;
        for (a_ij, x_j) in row.zip(x) {
            r += a_ij * x_j;
            sum += a_ij.abs();
        }
        if !r.is_finite() {
            return Err(SINGULAR);
        }
        max_r = libm::fmax(max_r, r.abs());
        norm_a = libm::fmax(norm_a, sum);
    }
    let norm_x = x.iter().fold(0.0, |m, x_j| libm::fmax(m, x_j.abs()));
    if max_r == 0.0 {
        return Ok(0.0);
    }
    let residual = max_r / (norm_a * norm_x * n as f64 * f64::EPSILON);
    if residual.is_finite() { Ok(residual) } else { Err(SINGULAR) }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use serde_json::{Value, json};

    use super::*;
    use crate::ErrorKind;
    use crate::json::run_on_host;

    // Reference values from numpy 2.4.6 / scipy 1.17.1, made with this script (SplitMix64 and
    // matgen transcribed to Python; Python floats are IEEE doubles, so A and b come out bit-equal):
    //
    //   import numpy as np, scipy.linalg as sl
    //   M = 2**64 - 1
    //   def splitmix64(seed):  # rng.rs SplitMix64, transcribed
    //       s = seed
    //       while True:
    //           s = (s + 0x9E3779B97F4A7C15) & M
    //           z = s
    //           z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    //           z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    //           yield z ^ (z >> 31)
    //   def matgen(seed, n):  # linpack.rs matgen: column by column, b = row sums in column order
    //       g = splitmix64(seed)
    //       A = [[0.0] * n for _ in range(n)]
    //       b = [0.0] * n
    //       for j in range(n):
    //           for i in range(n):
    //               A[i][j] = (next(g) >> 11) / 2**53 - 0.5
    //               b[i] += A[i][j]
    //       return np.array(A), np.array(b)
    //   A, b = matgen(42, 4)
    //   lu, piv = sl.lu_factor(A)
    //   print("A =", A.tolist()); print("b =", b.tolist())
    //   print("lu =", lu.tolist()); print("piv =", piv.tolist())
    //   print("x =", np.linalg.solve(A, b).tolist())
    //   A, _ = matgen(7, 8)
    //   print("x8 =", np.linalg.solve(A, np.arange(1.0, 9.0)).tolist())

    /// matgen(42, 4), row-major.
    const A42: [[f64; 4]; 4] = [
        [0.2415648787718233, -0.4619698314597538, -0.1600689610829794, 0.013396116322149432],
        [-0.3400896071230799, 0.36822807654653233, 0.11848206635613479, 0.020013299603240164],
        [-0.22139886974486134, -0.28159480628781564, -0.2950981682012245, 0.1651594107997011],
        [-0.15580928347636247, 0.30063187671350333, -0.007010814205307581, -0.2965648906997693],
    ];
    const B42: [f64; 4] = [-0.36707779744876046, 0.1666338353828274, -0.6329324334342004, -0.15875311166793604];
    /// scipy.linalg.lu_factor(A42): L below the diagonal, U on and above, row-major.
    const LU42: [[f64; 4]; 4] = [
        [-0.3400896071230799, 0.36822807654653233, 0.11848206635613479, 0.020013299603240164],
        [0.6510015746077654, -0.521311863934397, -0.37223017996185, 0.15213072124489477],
        [0.458141855008155, -0.25307535044894475, -0.15549469111242545, -0.2672332853117293],
        [-0.7102977383381196, 0.38444983772971825, -0.43212031540849105, -0.1463520448658424],
    ];
    const PIV42: [usize; 4] = [1, 2, 3, 3];
    const X42: [f64; 4] = [1.0000000000000002, 1.0000000000000004, 0.9999999999999994, 1.0000000000000002];
    /// numpy.linalg.solve(matgen(7, 8).A, [1, 2, …, 8]).
    const X7: [f64; 8] = [
        -86.94834386076786,
        -50.304417225361064,
        -15.871017486364384,
        -24.98850275371987,
        -24.421193701566317,
        -64.16736775521696,
        -12.776841199739529,
        74.06508085233213,
    ];

    fn generated(seed: u64, n: usize) -> (Vec<f64>, Vec<f64>) {
        let (mut a, mut b) = (vec![0.0; n * n], vec![0.0; n]);
        matgen(seed, n, &mut a, &mut b);
        (a, b)
    }

    /// Column-major n×n from rows.
    fn column_major<const N: usize>(rows: [[f64; N]; N]) -> Vec<f64> {
        (0..N * N).map(|k| rows[k % N][k / N]).collect()
    }

    fn close(got: &[f64], want: &[f64], tolerance: f64) {
        assert_eq!(got.len(), want.len());
        for (x, y) in got.iter().zip(want) {
            assert!((x - y).abs() <= tolerance * y.abs().max(1.0), "{x} vs {y}");
        }
    }

    /// Factors and solves a copy of `a` (column-major) for `b`.
    fn lu_solve(n: usize, a: &[f64], b: &[f64]) -> Result<Vec<f64>, FnError> {
        let (mut lu, mut x, mut pivots) = (a.to_vec(), b.to_vec(), vec![0; n]);
        factor(n, &mut lu, &mut pivots)?;
        solve(n, &lu, &pivots, &mut x)?;
        Ok(x)
    }

    #[test]
    fn matgen_matches_the_python_transcription_bit_for_bit() {
        let (a, b) = generated(42, 4);
        assert_eq!(a, column_major(A42));
        assert_eq!(b, B42);
    }

    #[test]
    fn factorization_matches_scipy() {
        let (mut a, _) = generated(42, 4);
        let mut pivots = [0; 4];
        factor(4, &mut a, &mut pivots).unwrap();
        assert_eq!(pivots, PIV42);
        // dgefa leaves the multipliers of earlier columns where they were computed; getrf also
        // applies each later row swap to them. Apply those swaps to compare like with like.
        for (k, &p) in pivots.iter().enumerate() {
            for column in a.chunks_exact_mut(4).take(k) {
                column.swap(k, p);
            }
        }
        close(&a, &column_major(LU42), 1e-14);
    }

    #[test]
    fn solutions_match_numpy() {
        let (a, b) = generated(42, 4);
        close(&lu_solve(4, &a, &b).unwrap(), &X42, 1e-14);
        let (a, _) = generated(7, 8);
        let b: Vec<f64> = (1..=8).map(f64::from).collect();
        close(&lu_solve(8, &a, &b).unwrap(), &X7, 1e-12);
    }

    #[test]
    fn small_systems_by_hand() {
        // A zero in the corner needs the row swap: [[0, 1], [1, 0]]·x = [2, 3] → x = [3, 2].
        assert_eq!(lu_solve(2, &[0.0, 1.0, 1.0, 0.0], &[2.0, 3.0]).unwrap(), [3.0, 2.0]);
        // Strang's example: [[2, 1, 1], [4, −6, 0], [−2, 7, 2]]·x = [5, −2, 9] → x = [1, 1, 2].
        let a = column_major([[2.0, 1.0, 1.0], [4.0, -6.0, 0.0], [-2.0, 7.0, 2.0]]);
        close(&lu_solve(3, &a, &[5.0, -2.0, 9.0]).unwrap(), &[1.0, 1.0, 2.0], 1e-15);
        assert_eq!(lu_solve(1, &[4.0], &[2.0]).unwrap(), [0.5]);
    }

    #[test]
    fn singular_systems_are_errors_not_nans() {
        for a in [&[0.0][..], &[1.0, 2.0, 2.0, 4.0], &[0.0; 4], &[1.0, 1.0, 1.0, 1.0]] {
            let n = if a.len() == 1 { 1 } else { 2 };
            assert_eq!(lu_solve(n, a, &vec![1.0; n]), Err(SINGULAR), "{a:?}");
        }
        // Non-zero pivots, but x = 1e310 overflows.
        assert_eq!(lu_solve(2, &[1e-300, 0.0, 0.0, 1.0], &[1e10, 1.0]), Err(SINGULAR));
        assert_eq!(SINGULAR.kind, ErrorKind::BadArguments);
        assert!(SINGULAR.message.starts_with("seed: "));
    }

    #[test]
    fn residual_by_hand() {
        // A = [2], b = [1]: exact x = 0.5 gives 0; x = 0.75 leaves 0.5 = 1/(3ε) · (2 · 0.75 · 1 · ε).
        assert_eq!(residual(1, &[2.0], &[1.0], &[0.5]), Ok(0.0));
        assert_eq!(residual(1, &[2.0], &[1.0], &[0.75]), Ok(0.5 / (1.5 * f64::EPSILON)));
        // x = 0 solving b = 0: 0, not 0/0.
        assert_eq!(residual(2, &[1.0, 2.0, 3.0, 4.0], &[0.0, 0.0], &[0.0, 0.0]), Ok(0.0));
        // Rows and columns: A = [[1, 2], [3, 4]] (column-major [1, 3, 2, 4]), x = [1, 1], b = [3, 6]:
        // Ax − b = [0, 1], ‖A‖∞ = 7, ‖x‖∞ = 1, n = 2.
        assert_eq!(residual(2, &[1.0, 3.0, 2.0, 4.0], &[3.0, 6.0], &[1.0, 1.0]), Ok(1.0 / (7.0 * 2.0 * f64::EPSILON)));
    }

    #[test]
    fn largest_system_solves_to_ones() {
        let n = MAX_N as usize;
        let (a, b) = generated(3, n);
        let x = lu_solve(n, &a, &b).unwrap();
        close(&x, &vec![1.0; n], 1e-10);
        assert!(residual(n, &a, &b, &x).unwrap() < 10.0);
    }

    #[test]
    fn seeded_runs_pass_and_repeat_exactly() {
        for n in [1, 2, 3, 10, 100, MAX_N] {
            let out = run_on_host("linpack", &json!({"n": n, "seed": 2024})).unwrap();
            assert_eq!(out["n"], n);
            let residual = out["residual"].as_f64().unwrap();
            assert!((0.0..10.0).contains(&residual), "n = {n}: {residual}");
            assert!(out["mflops"].as_f64().unwrap() >= 0.0 && out["latency"].as_f64().unwrap() >= 0.0);
            let again = run_on_host("linpack", &json!({"n": n, "seed": 2024})).unwrap();
            assert_eq!(again["residual"], out["residual"], "n = {n}");
        }
        // n = 1: x = a/a = 1 exactly.
        assert_eq!(run_on_host("linpack", &json!({"n": 1, "seed": 5})).unwrap()["residual"], 0.0);
    }

    #[test]
    fn seed_is_optional() {
        for args in [json!({"n": 20}), json!({"n": 20, "seed": null})] {
            let out = run_on_host("linpack", &args).unwrap();
            assert!(out["residual"].as_f64().unwrap() < 10.0);
        }
    }

    #[test]
    fn bad_arguments_name_the_field() {
        let bad = |args: Value, field: &str| {
            let e = run_on_host("linpack", &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {}", e.message);
            assert!(e.message.contains(field), "{args}: {}", e.message);
        };
        bad(json!({"n": 0}), "n: must be at least 1");
        bad(json!({"n": MAX_N + 1}), "n: must be at most 300");
        bad(json!({"n": u64::MAX}), "n: must be at most 300");
        bad(json!({}), "missing field `n`");
        bad(json!({"seed": 1}), "missing field `n`");
        bad(json!({"n": "10"}), "u64");
        bad(json!({"n": -1}), "u64");
        bad(json!({"n": 2.5}), "u64");
        bad(json!({"n": 10, "seed": "x"}), "u64");
        bad(json!({"n": 10, "seed": -3}), "u64");
    }
}
