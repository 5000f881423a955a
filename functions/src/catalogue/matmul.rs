//! `matmul`: the product C = A·B of two square f64 matrices given as nested arrays (row-major).
//!
//! Each entry is summed over k in increasing order with plain multiply-then-add (Rust never fuses
//! it into an FMA), so the worker and the host give bit-identical C.
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};
use crate::memory;

pub struct Matmul;

/// Largest side accepted: the Invoke frame carries 2·n² postcard f64s of 8 bytes each, and
/// 2·63²·8 = 63,504 bytes is the most that fits in 64 KiB with the frame's own fields (64² would
/// need exactly 64 KiB for the numbers alone). C (n²·8 bytes) then fits the reply frame too.
pub const MAX_N: usize = 63;

#[derive(Serialize, Deserialize, Debug)]
pub struct Args {
    #[serde(rename = "A")]
    pub a: Vec<Vec<f64>>,
    #[serde(rename = "B")]
    pub b: Vec<Vec<f64>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Output {
    #[serde(rename = "C")]
    pub c: Vec<Vec<f64>>,
    /// Seconds the multiplication took on the worker.
    pub latency: f64,
}

impl Function for Matmul {
    const NAME: &'static str = "matmul";
    const SUMMARY: &'static str = "product of two square matrices";
    const ARGS: &'static str = "{\"A\": [[number]] (square, 1..=63 rows, finite), \"B\": [[number]] (same size as A)}";
    const OUTPUT: &'static str = "{\"C\": [[number]] (A·B), \"latency\": seconds}";
    const EXAMPLE: &'static str = r#"{"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]}"#;
    type Args<'a> = Args;
    type Output<'a> = Output;

    fn check(args: &Args) -> Result<(), FnError> {
        let n = args.a.len();
        if n == 0 {
            return Err(FnError::bad_args("A: must not be empty"));
        }
        if n > MAX_N {
            return Err(FnError::bad_args("A: must be at most 63 by 63"));
        }
        // A ragged matrix is not square either.
        if args.a.iter().any(|row| row.len() != n) {
            return Err(FnError::bad_args("A: must be square (n rows of n numbers)"));
        }
        if args.b.len() != n || args.b.iter().any(|row| row.len() != n) {
            return Err(FnError::bad_args("B: must be square and the same size as A"));
        }
        check_finite(&args.a, "A: entries must be finite")?;
        check_finite(&args.b, "B: entries must be finite")
    }

    fn run<'a>(ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let start = ctx.clock.now_ns();
        let c = multiply(&args.a, &args.b)?;
        let latency = ctx.seconds_since(start);
        // JSON has no inf or NaN (serde_json would print null), so an overflowing product is refused.
        check_finite(&c, "A: entries too large, A*B overflows the f64 range")?;
        Ok(Output { c, latency })
    }
}

/// Inf and NaN cannot come from JSON, but can from postcard; refusing them keeps C meaningful.
fn check_finite(m: &[Vec<f64>], message: &'static str) -> Result<(), FnError> {
    if m.iter().flatten().all(|x| x.is_finite()) { Ok(()) } else { Err(FnError::bad_args(message)) }
}

/// C = A·B for square A and B of one size, in i-k-j order: row i of C accumulates A[i][k]·(row k
/// of B) for k = 0, 1, …, so every C[i][j] is the k-ordered sum and rows are read contiguously.
pub fn multiply(a: &[Vec<f64>], b: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, FnError> {
    let mut c = memory::vec_with_capacity(a.len())?;
    for row_a in a {
        let mut row_c = memory::vec_filled(b.len(), 0.0)?;
        for (&a_ik, row_b) in row_a.iter().zip(b) {
            for (c_ij, &b_kj) in row_c.iter_mut().zip(row_b) {
                *c_ij += a_ik * b_kj;
            }
        }
        memory::push(&mut c, row_c)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use serde_json::{Value, json};

    use super::*;
    use crate::ErrorKind;
    use crate::json::run_on_host;

    fn c_of(out: &Value) -> Vec<Vec<f64>> {
        serde_json::from_value(out["C"].clone()).unwrap()
    }

    #[test]
    fn small_product_by_hand() {
        // [[1,2],[3,4]]·[[5,6],[7,8]] = [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]].
        let out = run_on_host("matmul", &serde_json::from_str(Matmul::EXAMPLE).unwrap()).unwrap();
        assert_eq!(c_of(&out), [[19.0, 22.0], [43.0, 50.0]]);
        assert!(out["latency"].as_f64().unwrap() >= 0.0);
        let out = run_on_host("matmul", &json!({"A": [[2.5]], "B": [[-4]]})).unwrap();
        assert_eq!(c_of(&out), [[-10.0]]);
    }

    #[test]
    fn identity_is_neutral_on_both_sides() {
        let m: Vec<Vec<f64>> = (0..7).map(|i| (0..7).map(|j| (i * 7 + j) as f64 * 0.37 - 5.0).collect()).collect();
        let id: Vec<Vec<f64>> = (0..7).map(|i| (0..7).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect();
        assert_eq!(multiply(&m, &id).unwrap(), m);
        assert_eq!(multiply(&id, &m).unwrap(), m);
    }

    /// The 4×4 matrices below times each other, compared with numpy (BLAS sums in another order,
    /// hence the tolerance). Made with:
    /// python3 -c "import numpy as np; A=np.arange(16.).reshape(4,4)/7-1; B=np.cos(np.arange(16.)).reshape(4,4);
    ///   print(repr((A@B).tolist()))"   (numpy 2.4.6)
    #[test]
    fn matches_numpy() {
        let a: Vec<Vec<f64>> = (0..4).map(|i| (0..4).map(|j| (i * 4 + j) as f64 / 7.0 - 1.0).collect()).collect();
        let b: Vec<Vec<f64>> = (0..4).map(|i| (0..4).map(|j| libm::cos((i * 4 + j) as f64)).collect()).collect();
        let expected = NUMPY_4X4;
        let out = run_on_host("matmul", &json!({"A": a, "B": b})).unwrap();
        for (row, want) in c_of(&out).iter().zip(expected) {
            for (x, y) in row.iter().zip(want) {
                assert!((x - y).abs() <= 1e-14 * y.abs().max(1.0), "{x} vs {y}");
            }
        }
    }

    const NUMPY_4X4: [[f64; 4]; 4] = [
        [-0.8180077058150327, -0.6511750100333908, 0.11434498692553263, 0.7747367302340459],
        [-0.22103038920916612, -0.18244300380659925, 0.02388163791673547, 0.2082496118752395],
        [0.37594692739670044, 0.2862890024201923, -0.06658171109206182, -0.35823750648356684],
        [0.972924244002567, 0.7550210086469838, -0.15704506010085917, -0.9247246248423733],
    ];

    #[test]
    fn largest_request_fits_one_frame_and_one_more_row_does_not() {
        use crate::wire::{self, Invoke, ToWorker};
        let fits = |n: usize| {
            let m = vec![vec![f64::MAX; n]; n];
            let args = postcard::to_allocvec(&Args { a: m.clone(), b: m }).unwrap();
            let msg = ToWorker::Invoke(Invoke {
                call: u64::MAX,
                function: Matmul::NAME,
                args: &args,
                services: Default::default(),
                unix_time: u64::MAX,
            });
            wire::encode(&msg, &mut vec![0u8; wire::HEADER_LEN + wire::MAX_FRAME]).is_ok()
        };
        assert!(fits(MAX_N));
        assert!(!fits(MAX_N + 1));
    }

    #[test]
    fn largest_product_runs_and_its_output_fits() {
        let m: Vec<Vec<f64>> = (0..MAX_N).map(|i| (0..MAX_N).map(|j| (i + j) as f64).collect()).collect();
        let out = run_on_host("matmul", &json!({"A": m, "B": m})).unwrap();
        // C[0][0] = Σ_k k² for k < 63.
        assert_eq!(c_of(&out)[0][0], (0..MAX_N).map(|k| (k * k) as f64).sum::<f64>());
    }

    fn bad(args: Value, field: &str) {
        let e = run_on_host("matmul", &args).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{args}: {}", e.message);
        assert!(e.message.contains(field), "{args}: {}", e.message);
    }

    #[test]
    fn bad_shapes_name_the_field() {
        let big: Vec<Vec<f64>> = vec![vec![1.0; MAX_N + 1]; MAX_N + 1];
        bad(json!({"B": [[1]]}), "A");
        bad(json!({"A": [[1]]}), "B");
        bad(json!({"A": [[1]], "B": 3}), "sequence");
        bad(json!({"A": [["x"]], "B": [[1]]}), "f64");
        bad(json!({"A": [1, 2], "B": [[1]]}), "sequence");
        bad(json!({"A": [], "B": []}), "A: must not be empty");
        bad(json!({"A": [[]], "B": [[]]}), "A: must be square");
        bad(json!({"A": [[1, 2]], "B": [[1, 2]]}), "A: must be square");
        bad(json!({"A": [[1, 2], [3]], "B": [[1, 2], [3, 4]]}), "A: must be square");
        bad(json!({"A": [[1], [2]], "B": [[1], [2]]}), "A: must be square");
        bad(json!({"A": big, "B": big}), "A: must be at most 63 by 63");
        bad(json!({"A": [[1, 2], [3, 4]], "B": [[1]]}), "B: must be square and the same size as A");
        bad(json!({"A": [[1, 2], [3, 4]], "B": [[1, 2], [3]]}), "B: must be square");
        bad(json!({"A": [[1, 2], [3, 4]], "B": [[1, 2, 3], [4, 5, 6]]}), "B: must be square");
        bad(json!({"A": [[1e300]], "B": [[1e300]]}), "A: entries too large");
    }

    #[test]
    fn non_finite_entries_are_refused() {
        // JSON cannot carry them (serde_json refuses to parse 1e400 and NaN), postcard can.
        assert!(serde_json::from_str::<Value>(r#"{"A": [[1]], "B": [[1e400]]}"#).is_err());
        let e = Matmul::check(&Args { a: vec![vec![f64::NAN]], b: vec![vec![1.0]] }).unwrap_err();
        assert_eq!((e.kind, e.message), (ErrorKind::BadArguments, "A: entries must be finite"));
        let e = Matmul::check(&Args { a: vec![vec![1.0]], b: vec![vec![f64::NEG_INFINITY]] }).unwrap_err();
        assert_eq!((e.kind, e.message), (ErrorKind::BadArguments, "B: entries must be finite"));
    }
}
