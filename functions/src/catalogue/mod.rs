//! The function bodies, one file each.
mod cascading_sha256;
mod echo;
mod float_operations;
mod regex;
mod regex_match;
mod regex_search;
mod zlib_decompress;

pub use cascading_sha256::CascadingSha256;
pub use echo::{Echo, RawJson};
pub use float_operations::FloatOperations;
pub use regex_match::RegexMatch;
pub use regex_search::RegexSearch;
pub use zlib_decompress::ZlibDecompress;
