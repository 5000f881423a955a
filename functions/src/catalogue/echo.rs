//! `echo`: returns its input unchanged. The smallest possible round trip, used to measure the
//! platform's own overhead.
use serde::{Deserialize, Serialize};

use crate::function::{Context, FnError, Function};

pub struct Echo;

/// A JSON document carried as its compact text, so any JSON value can be echoed without a
/// self-describing wire format.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct RawJson<'a>(pub &'a str);

impl Function for Echo {
    const NAME: &'static str = "echo";
    const SUMMARY: &'static str = "returns its input unchanged";
    const ARGS: &'static str = "any JSON value";
    const OUTPUT: &'static str = "the same JSON value";
    const EXAMPLE: &'static str = r#"{"hello": "world", "n": [1, 2, 3]}"#;
    type Args<'a> = RawJson<'a>;
    type Output<'a> = RawJson<'a>;

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Ok(args)
    }

    #[cfg(feature = "std")]
    fn args_from_json(json: &serde_json::Value) -> Result<std::vec::Vec<u8>, crate::json::HostError> {
        let text = serde_json::to_string(json).map_err(|_| FnError::bad_args("body is not JSON"))?;
        Ok(postcard::to_allocvec(&RawJson(&text)).map_err(|_| FnError::bad_args("body does not encode"))?)
    }

    #[cfg(feature = "std")]
    fn output_to_json(output: &[u8]) -> Result<serde_json::Value, crate::json::HostError> {
        let RawJson(text) = postcard::from_bytes(output).map_err(|_| FnError::failed("output does not decode"))?;
        Ok(serde_json::from_str(text).map_err(|_| FnError::failed("echoed output is not JSON"))?)
    }
}
