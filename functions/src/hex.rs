//! Lowercase hex, the way digests are returned to clients.
use heapless::String;

/// Lowercase hex of `bytes`; `N` must be at least twice its length.
pub fn encode<const N: usize>(bytes: &[u8]) -> String<N> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::new();
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            // Capacity is a caller contract; a short buffer truncates rather than panics.
            let _ = out.push(DIGITS[nibble as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lowercase_pairs() {
        assert_eq!(super::encode::<8>(&[0x00, 0xab, 0x1f]).as_str(), "00ab1f");
    }
}
