//! Property tests of every parser of user input, with shrinking (proptest): the command-line
//! parser and dispatch never panic on any input, their errors are the user's (one line, never an
//! internal error), the quoting writer round-trips any value, and the small parsers hold their
//! canonical forms. Case counts are fixed so the whole file runs in seconds in the normal suite;
//! PROPTEST_CASES raises them for a longer run (RELIABILITY.md).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use raterise_commands::catalog::{self, OptionKind, CATALOG};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::command_line;
use raterise_commands::domain::dates::parse_date;
use raterise_commands::domain::{Cents, Credential, PayerKind, PayerStatus};
use raterise_commands::handlers::impact::Increase;
use raterise_commands::medicare::MedicareData;
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, Ctx};
use std::sync::Arc;

/// Cases per property: the given default, or PROPTEST_CASES when set (for longer runs).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn config(default: u32) -> Config {
    // No regression files written into the source tree; a failure prints its shrunk input.
    Config { cases: cases(default), failure_persistence: None, ..Config::default() }
}

/// Pieces that matter to the parsers: quotes, escapes, colons, slashes, digits, money, unicode
/// (emoji, right-to-left, zero-width, fullwidth), option and command names.
const PIECES: &[&str] = &[
    "/",
    "rates",
    "rate",
    "set",
    "payer",
    ":",
    "\"",
    "'",
    "\\",
    " ",
    "  ",
    "\t",
    "\n",
    "cigna",
    "Cigna",
    "90837",
    "118.50",
    "$",
    ",",
    ".",
    "-",
    "%",
    "=",
    "name:",
    "amount:",
    "effective:",
    "kind:",
    "event:",
    "result:",
    "from:",
    "claims:",
    "clients:",
    "note:",
    "2027-03-01",
    "9999-12-31",
    "3/1/2027",
    "é",
    "🙂",
    "שלום",
    "\u{200B}",
    "\u{202E}",
    "Ｃｉｇｎａ",
    "x",
    "0",
    "9",
    "-1",
    "99999999999999999999",
    "add",
    "/payer",
    "/setup",
    "/draft",
    "/negotiate",
    "locality:",
    "NY 01",
    "13202-01",
    "{{ 7*7 }}",
    "help",
    "\"\"",
    "\\\"",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..14).prop_map(|v| v.concat())
}

/// A value for an option of `kind`: sometimes well formed, sometimes hostile.
fn value_for(kind: &OptionKind) -> BoxedStrategy<String> {
    let typical: Vec<String> = match kind {
        OptionKind::Integer => vec!["0", "1", "7", "-3", "1000", "99999999999999999999"],
        OptionKind::Money => vec!["118.50", "0", "-5", "$1,000", "999999999999", "1.234"],
        OptionKind::Date => vec!["2027-03-01", "2026-11-27", "1/1/2027", "9999-12-31", "0001-01-01", "2027-02-30"],
        OptionKind::Choice(choices) => choices.iter().map(|(v, _)| *v).collect(),
        OptionKind::Payer => vec!["Cigna", "Aetna", "\"Lyra EAP\"", "Ｃｉｇｎａ", "Cig\u{200B}na", "nobody"],
        OptionKind::Cpt => vec!["90837", "90834", "99999", "x"],
        OptionKind::Locality => vec!["\"MANHATTAN, NY\"", "13202-01", "nowhere"],
        _ => vec!["x", "\"two words\"", "90837=10", "\"90837=126 90834=95\"", "97%", "5.8"],
    }
    .into_iter()
    .map(|s| s.to_string())
    .collect();
    prop_oneof![
        3 => proptest::sample::select(typical),
        1 => Just(String::new()),
        1 => text().prop_map(|t| command_line::quote(&t)),
    ]
    .boxed()
}

/// A command line shaped like the catalogue (a command, its subcommand, some of its options) with
/// values that are often valid and sometimes not, so dispatch reaches the handlers.
fn catalogue_line() -> impl Strategy<Value = String> {
    proptest::sample::select((0..CATALOG.len()).collect::<Vec<_>>())
        .prop_flat_map(|ci| {
            let spec = &CATALOG[ci];
            let subs = spec.subcommands.len().max(1);
            (Just(ci), 0..subs)
        })
        .prop_flat_map(|(ci, si)| {
            let spec = &CATALOG[ci];
            let sub = spec.subcommands.get(si);
            let options = catalog::options_of(spec, sub);
            let values: Vec<BoxedStrategy<Option<String>>> = options
                .iter()
                .map(|o| {
                    let name = o.name;
                    proptest::option::weighted(if o.required { 0.9 } else { 0.3 }, value_for(&o.kind))
                        .prop_map(move |v| v.map(|v| format!("{name}:{v}")))
                        .boxed()
                })
                .collect();
            (Just(spec.name), Just(sub.map(|s| s.name)), values)
        })
        .prop_map(|(name, sub, values)| {
            let mut line = format!("/{name}");
            if let Some(sub) = sub {
                line.push(' ');
                line.push_str(sub);
            }
            for v in values.into_iter().flatten() {
                line.push(' ');
                line.push_str(&v);
            }
            line
        })
}

#[test]
fn command_lines_never_panic_and_errors_are_one_line() {
    let mut runner = TestRunner::new(config(4_000));
    let lines = prop_oneof![text(), catalogue_line(), text().prop_map(|t| format!("/{t}"))];
    runner
        .run(&lines, |line| {
            match command_line::parse(&line) {
                Ok(parsed) => {
                    // Every option the parser returns belongs to the command; required ones have a value.
                    let spec = parsed.command;
                    let sub = parsed.subcommand.as_deref().and_then(|s| spec.subcommand(s));
                    let allowed = catalog::options_of(spec, sub);
                    for (name, _) in &parsed.options {
                        prop_assert!(allowed.iter().any(|o| o.name == name), "{line:?} gave unknown option {name}");
                    }
                    for o in allowed.iter().filter(|o| o.required) {
                        let given = parsed.options.iter().any(|(n, v)| n == o.name && !v.trim().is_empty());
                        prop_assert!(given, "{line:?} parsed without its required {}", o.name);
                    }
                }
                Err(e) => {
                    let msg = e.user_message();
                    prop_assert!(!e.is_internal() && !msg.is_empty() && !msg.contains('\n'), "{line:?} -> {msg:?}");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn any_value_round_trips_through_the_writer() {
    let mut runner = TestRunner::new(config(4_000));
    let values = prop_oneof![text(), any::<String>()];
    runner
        .run(&values, |v| {
            prop_assume!(!v.trim().is_empty());
            let line = command_line::write("payer", Some("edit"), &[("name", v.as_str()), ("notes", "x")]);
            let parsed = command_line::parse(&line).map_err(|e| TestCaseError::fail(e.user_message()))?;
            prop_assert_eq!(&parsed.options[0], &("name".to_string(), v.clone()), "{}", line);
            prop_assert_eq!(parsed.options.len(), 2, "{}", line);
            Ok(())
        })
        .unwrap();
}

/// Dispatch over the demo practice: whatever the line, no panic, and a refusal is the user's
/// error (what to fix), never "something went wrong".
#[test]
fn dispatch_never_panics_and_refusals_are_user_errors() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = rt.block_on(async {
        let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
        let ctx = Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap();
        demo::build(&ctx, "demo").await.unwrap();
        ctx
    });
    let mut runner = TestRunner::new(config(600));
    let lines = prop_oneof![4 => catalogue_line(), 1 => text().prop_map(|t| format!("/{t}"))];
    let (parsed, succeeded) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    runner
        .run(&lines, |line| {
            let Ok(inv) = demo::invocation("demo", &line) else { return Ok(()) };
            parsed.set(parsed.get() + 1);
            let outcome = rt.block_on(dispatch(&ctx, &inv));
            succeeded.set(succeeded.get() + u32::from(outcome.is_ok()));
            if let Err(e) = outcome {
                prop_assert!(!e.is_internal(), "{line:?} gave an internal error: {e}");
                let msg = e.user_message();
                prop_assert!(!msg.is_empty(), "{line:?}");
            }
            Ok(())
        })
        .unwrap();
    // The generator reaches the handlers, not only the parser.
    eprintln!("dispatch: {} lines parsed, {} commands succeeded", parsed.get(), succeeded.get());
    assert!(parsed.get() > 100 && succeeded.get() > 10, "{} parsed, {} succeeded", parsed.get(), succeeded.get());
}

/// Every required option given empty (`kind:`) is a missing value with the usual message, for
/// every command and subcommand of the catalogue.
#[test]
fn empty_required_values_are_missing_values() {
    for spec in CATALOG {
        let subs: Vec<Option<&catalog::SubcommandSpec>> =
            if spec.subcommands.is_empty() { vec![None] } else { spec.subcommands.iter().map(Some).collect() };
        for sub in subs {
            let options = catalog::options_of(spec, sub);
            for o in options.iter().filter(|o| o.required) {
                let mut line = format!("/{}", spec.name);
                if let Some(s) = sub {
                    line.push_str(&format!(" {}", s.name));
                }
                for other in options.iter().filter(|x| x.required) {
                    line.push_str(&format!(" {}:{}", other.name, if other.name == o.name { "" } else { "x" }));
                }
                let e = command_line::parse(&line).unwrap_err();
                assert!(e.user_message().contains(&format!("`{}` is missing", o.name)), "{line}: {}", e.user_message());
            }
        }
    }
    for line in [
        "/draft kind: payer:cigna",
        "/negotiate log payer:Cigna event:",
        "/negotiate outcome payer:Cigna result:",
        "/practice utilization payer:Cigna from: to:2026-10-31 claims:1 patients:1",
        "/practice utilization payer:Cigna from:2025-11-01 to:2026-10-31 claims: patients:1",
        "/practice outcome measure:PHQ-9 clients: improved:50%",
    ] {
        let e = command_line::parse(line).unwrap_err();
        assert!(e.user_message().contains("is missing"), "{line}: {}", e.user_message());
    }
}

#[test]
fn money_round_trips_through_its_display() {
    let mut runner = TestRunner::new(config(4_000));
    runner
        .run(&(0i64..100_000_000_000), |cents| {
            let shown = Cents(cents).to_string();
            prop_assert_eq!(Cents::parse(&shown).ok(), Some(Cents(cents)), "{}", shown);
            Ok(())
        })
        .unwrap();
    runner
        .run(&text(), |s| {
            if let Ok(c) = Cents::parse(&s) {
                prop_assert_eq!(Cents::parse(&c.to_string()).ok(), Some(c), "{:?}", s);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn small_parsers_never_panic() {
    let medicare = MedicareData::embedded();
    let mut runner = TestRunner::new(config(2_000));
    runner
        .run(&text(), |s| {
            let _ = parse_date(&s);
            let _ = s.parse::<Credential>();
            let _ = s.parse::<PayerKind>();
            let _ = s.parse::<PayerStatus>();
            if let Ok(inc) = Increase::parse(&s) {
                prop_assert!(inc.per_session(Cents(10_000)).0 > 0, "{:?}", s);
            }
            Ok(())
        })
        .unwrap();
    // The locality search compares against every locality: fewer cases keep it to a second.
    let mut runner = TestRunner::new(config(100));
    runner
        .run(&text(), |s| {
            if let Err(e) = medicare.find_locality(&s) {
                prop_assert!(!e.to_string().trim().is_empty());
            }
            Ok(())
        })
        .unwrap();
}
