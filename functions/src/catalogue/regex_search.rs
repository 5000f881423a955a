//! `regex_search`: the first match of `pattern` anywhere in `data`, like Python's
//! `re.search(pattern, data, re.ASCII).group()`, or null. Syntax, semantics and caps: see
//! [`super::regex`].
use crate::catalogue::regex::{self, Args};
use crate::function::{Context, FnError, Function};

pub struct RegexSearch;

impl Function for RegexSearch {
    const NAME: &'static str = "regex_search";
    const SUMMARY: &'static str = "the first match of a regular expression in data, or null";
    const ARGS: &'static str = regex::ARGS;
    const OUTPUT: &'static str = "string (the matched text) or null";
    const EXAMPLE: &'static str = r#"{"data": "order 66 shipped on 2024-05-17", "pattern": "\\d{4}-\\d{2}-\\d{2}"}"#;
    type Args<'a> = Args<'a>;
    type Output<'a> = Option<&'a str>;

    fn check(args: &Args<'_>) -> Result<(), FnError> {
        regex::compile(args).map(drop)
    }

    fn run<'a>(_ctx: &mut Context<'_>, args: Self::Args<'a>) -> Result<Self::Output<'a>, FnError> {
        let found = regex::compile(&args)?.find(args.data, false)?;
        // The VM steps whole characters, so the range is on character boundaries.
        Ok(found.and_then(|(start, end)| args.data.get(start..end)))
    }
}
