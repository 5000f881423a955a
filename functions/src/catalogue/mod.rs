//! The function bodies, one file each.
mod cascade;
mod cascading_md5;
mod cascading_sha256;
mod echo;
mod float_operations;
mod html_generation;
mod linpack;
mod matmul;
mod pyaes;
mod redis_insert;
mod redis_key;
mod redis_modify;

pub use cascading_md5::CascadingMd5;
pub use cascading_sha256::CascadingSha256;
pub use echo::{Echo, RawJson};
pub use float_operations::FloatOperations;
pub use html_generation::HtmlGeneration;
pub use linpack::Linpack;
pub use matmul::Matmul;
pub use pyaes::Pyaes;
pub use redis_insert::RedisInsert;
pub use redis_key::Key as RedisKey;
pub use redis_modify::RedisModify;
