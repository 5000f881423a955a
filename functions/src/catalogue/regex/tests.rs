//! The engine against Python's `re`, and its caps.
use std::borrow::ToOwned;

use serde_json::{Value, json};

use super::{Args, compile};
use crate::ErrorKind;
use crate::json::run_on_host;

/// Python's own results; how they were made is in `testdata/regex_cases.py`.
const CASES: &str = include_str!("testdata/regex_cases.json");

fn cases() -> Value {
    serde_json::from_str(CASES).unwrap()
}

#[test]
fn the_same_matches_as_python() {
    let cases = cases();
    let mut failures = std::vec::Vec::new();
    for case in cases["valid"].as_array().unwrap() {
        let (pattern, data) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        let args = json!({ "data": data, "pattern": pattern });
        let search = run_on_host("regex_search", &args).map_err(|e| e.message);
        let matched = run_on_host("regex_match", &args).map_err(|e| e.message);
        if search.as_ref() != Ok(&case[2]) || matched.as_ref() != Ok(&case[3]) {
            failures.push(std::format!(
                "{pattern:?} on {data:?}: {search:?} {matched:?}, Python {} {}",
                case[2],
                case[3]
            ));
        }
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

/// The worst patterns we know of either compile within the state cap and run to an answer, or are
/// refused naming `pattern`. (How long they take at the full data cap is a benchmark's question,
/// not a test's: about 0.5 s natively.)
#[test]
fn worst_case_patterns_stay_within_the_caps() {
    let a = "a".repeat(1024);
    let dots = ".*".repeat(300) + "x";
    let alternation = (0..300).map(|i| std::format!("a{}", i % 10)).collect::<std::vec::Vec<_>>().join("|");
    let optional = "(?:a?){800}b".to_owned();
    let nested = "(?:(?:(?:(?:a*)*)*)*){100}b".to_owned();
    let classes = "[\\w\\s]*".repeat(120) + "!";
    for pattern in [dots, alternation, optional, nested, classes] {
        match compile(&Args { data: &a, pattern: &pattern }) {
            Ok(regex) => {
                assert!(regex.states <= super::MAX_STATES, "{pattern:.40}: {} states", regex.states);
                assert!(regex.find(&a, false).is_ok(), "{pattern:.40}");
            }
            Err(e) => assert!(e.message.starts_with("pattern:"), "{pattern:.40}: {}", e.message),
        }
    }
}

#[test]
fn patterns_python_refuses_are_refused() {
    for pattern in cases()["invalid"].as_array().unwrap() {
        let pattern = pattern.as_str().unwrap();
        let e = compile(&Args { data: "", pattern }).err();
        let e = e.unwrap_or_else(|| panic!("{pattern:?} compiled"));
        assert_eq!(e.kind, ErrorKind::BadArguments);
        assert!(e.message.starts_with("pattern: "), "{}", e.message);
    }
}

fn run(name: &str, data: &str, pattern: &str) -> Result<Value, crate::json::HostError> {
    run_on_host(name, &json!({ "data": data, "pattern": pattern }))
}

/// Refused by `check` (so on the host, before any worker), as BadArguments naming the field.
fn refused(data: &str, pattern: &str) -> std::string::String {
    let args = json!({ "data": data, "pattern": pattern });
    for name in ["regex_search", "regex_match"] {
        let e = (crate::find(name).unwrap().args_from_json)(&args).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArguments, "{pattern:?}: {}", e.message);
    }
    run("regex_search", data, pattern).unwrap_err().message
}

#[test]
fn outputs_are_the_match_text_null_or_a_boolean() {
    assert_eq!(run("regex_search", "order 66 on 2024-05-17", r"\d{4}-\d\d-\d\d").unwrap(), json!("2024-05-17"));
    assert_eq!(run("regex_search", "abc", "z").unwrap(), json!(null));
    assert_eq!(run("regex_search", "abc", "z*").unwrap(), json!(""));
    assert_eq!(run("regex_search", "aééb", "é+").unwrap(), json!("éé"));
    assert_eq!(run("regex_match", "2024-05-17: shipped", r"\d{4}").unwrap(), json!(true));
    assert_eq!(run("regex_match", "shipped 2024", r"\d{4}").unwrap(), json!(false));
    assert_eq!(run("regex_match", "", "").unwrap(), json!(true));
    // The one deliberate difference from Python 3.11, which never lets \B match "" (3.14 does).
    assert_eq!(run("regex_search", "", r"\B").unwrap(), json!(""));
}

#[test]
fn caps_are_enforced_and_name_the_field() {
    let data = "a".repeat(super::MAX_DATA);
    assert_eq!(run("regex_match", &data, "a+$").unwrap(), json!(true));
    let e = refused(&(data + "a"), "a");
    assert_eq!(e, "data: must be at most 32768 bytes");

    let pattern = "a".repeat(super::MAX_PATTERN);
    assert_eq!(run("regex_search", "a", &pattern).unwrap(), json!(null));
    assert_eq!(refused("a", &(pattern + "a")), "pattern: must be at most 1024 bytes");

    let nested = |depth| "(".repeat(depth) + "a" + &")".repeat(depth);
    assert_eq!(run("regex_search", "a", &nested(32)).unwrap(), json!("a"));
    assert_eq!(refused("a", &nested(33)), "pattern: groups nested more than 32 deep");

    assert_eq!(run("regex_search", "aaa", "a{1000}").unwrap(), json!(null));
    assert_eq!(refused("a", "a{1001}"), "pattern: repetition counts must be at most 1000");
    assert_eq!(refused("a", "a{2,1001}"), "pattern: repetition counts must be at most 1000");

    // Four copies of 1001 instructions fit; five do not, nor do nested optional repetitions
    // whose states outnumber their instructions.
    assert_eq!(run("regex_search", "a", "(?:a{1000}){4}").unwrap(), json!(null));
    assert_eq!(refused("a", "(?:a{1000}){5}"), "pattern: more than 4096 states once compiled");
    assert_eq!(refused("a", "(?:(?:(?:a?){100}){10}){4}"), "pattern: more than 4096 states once compiled");
}

#[test]
fn invalid_and_unsupported_patterns_are_bad_arguments() {
    for (pattern, message) in [
        ("(", "pattern: missing ), unterminated group"),
        (")", "pattern: unbalanced parenthesis"),
        ("[a", "pattern: unterminated character set"),
        ("*", "pattern: nothing to repeat"),
        ("a**", "pattern: multiple repeat"),
        ("[z-a]", "pattern: bad character range"),
        (r"\q", "pattern: bad escape"),
        (r"(a)\1", "pattern: backreferences are not supported"),
        ("(?P<n>a)(?P=n)", "pattern: backreferences are not supported"),
        ("(?=a)", "pattern: look-around is not supported"),
        ("(?<!a)", "pattern: look-around is not supported"),
        ("(?>a)", "pattern: atomic groups are not supported"),
        ("a++", "pattern: possessive quantifiers are not supported"),
        ("(a)(?(1)b|c)", "pattern: conditional groups are not supported"),
        (r"\N{DIGIT ONE}", "pattern: \\N{...} is not supported"),
        ("(?x)a b", "pattern: the x flag is not supported"),
        ("(?u)a", "pattern: only ASCII classes are supported (no u or L flag)"),
        ("a(?i)b", "pattern: global flags not at the start of the pattern"),
    ] {
        assert_eq!(refused("ab", pattern), message, "{pattern:?}");
    }
}

#[test]
fn wrong_shapes_are_bad_arguments() {
    for name in ["regex_search", "regex_match"] {
        for (args, field) in [
            (json!({ "data": "a" }), "`pattern`"),
            (json!({ "pattern": "a" }), "`data`"),
            (json!({ "data": 1, "pattern": "a" }), ""),
            (json!({ "data": "a", "pattern": null }), ""),
            (json!("a"), ""),
        ] {
            let e = run_on_host(name, &args).unwrap_err();
            assert_eq!(e.kind, ErrorKind::BadArguments, "{args}");
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
}
