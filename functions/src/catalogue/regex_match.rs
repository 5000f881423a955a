//! `regex_match`: whether `pattern` matches at the start of `data` (not necessarily all of it),
//! like Python's `re.match(pattern, data, re.ASCII) is not None`. Syntax, semantics and caps: see
//! [`super::regex`].
use crate::catalogue::regex::{self, Args};
use crate::function::{Context, FnError, Function};

pub struct RegexMatch;

impl Function for RegexMatch {
    const NAME: &'static str = "regex_match";
    const SUMMARY: &'static str = "whether a regular expression matches at the start of data";
    const ARGS: &'static str = regex::ARGS;
    const OUTPUT: &'static str = "boolean";
    const EXAMPLE: &'static str = r#"{"data": "2024-05-17: order 66 shipped", "pattern": "\\d{4}-\\d{2}-\\d{2}"}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = bool;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        regex::compile(args).map(drop)
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        Ok(regex::compile(&args)?.find(args.data, true)?.is_some())
    }
}
