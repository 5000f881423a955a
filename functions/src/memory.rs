//! Fallible allocation for function bodies. On the worker the heap is a fixed arena; a request it
//! cannot satisfy must become an `OutOfMemory` error for that invocation, not an abort of the
//! worker, so functions reserve their memory through these helpers (`try_reserve` under the hood)
//! instead of letting a `Vec` grow infallibly.
use alloc::string::String;
use alloc::vec::Vec;

use crate::function::FnError;

const OOM: FnError = FnError::out_of_memory("the worker's memory arena is exhausted");

/// An empty vector with room for `n` elements.
pub fn vec_with_capacity<T>(n: usize) -> Result<Vec<T>, FnError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| OOM)?;
    Ok(v)
}

/// `n` copies of `value`.
pub fn vec_filled<T: Clone>(n: usize, value: T) -> Result<Vec<T>, FnError> {
    let mut v = vec_with_capacity(n)?;
    v.resize(n, value);
    Ok(v)
}

/// Makes room for `additional` more elements.
pub fn reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<(), FnError> {
    v.try_reserve(additional).map_err(|_| OOM)
}

/// Appends one element, growing fallibly.
pub fn push<T>(v: &mut Vec<T>, value: T) -> Result<(), FnError> {
    reserve(v, 1)?;
    v.push(value);
    Ok(())
}

/// Appends `s`, growing fallibly.
pub fn push_str(out: &mut String, s: &str) -> Result<(), FnError> {
    out.try_reserve(s.len()).map_err(|_| OOM)?;
    out.push_str(s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn impossible_requests_are_out_of_memory_errors() {
        assert_eq!(vec_with_capacity::<u64>(usize::MAX / 4).unwrap_err().kind, ErrorKind::OutOfMemory);
        let mut v = vec_filled(3, 7u8).unwrap();
        assert_eq!(v, [7, 7, 7]);
        assert_eq!(reserve(&mut v, usize::MAX).unwrap_err().kind, ErrorKind::OutOfMemory);
        push(&mut v, 8).unwrap();
        assert_eq!(v, [7, 7, 7, 8]);
    }
}
