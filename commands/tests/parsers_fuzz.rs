//! Randomized checks of every parser of user input: none panics on any input, and the ones with
//! a canonical form round-trip. A fixed-seed generator keeps failures reproducible.

use raterise_commands::command_line;
use raterise_commands::domain::dates::parse_date;
use raterise_commands::domain::{Cents, Credential, PayerKind, PayerStatus};
use raterise_commands::handlers::impact::Increase;
use raterise_commands::medicare::MedicareData;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// Strings built from pieces that matter to the parsers: quotes, colons, slashes, digits,
    /// dollar signs, unicode, option names and command names.
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &[
            "/",
            "rates",
            "rate",
            "set",
            "payer",
            ":",
            "\"",
            "'",
            " ",
            "  ",
            "cigna",
            "90837",
            "118.50",
            "$",
            ",",
            ".",
            "-",
            "%",
            "\\",
            "name:",
            "amount:",
            "effective:",
            "2027-03-01",
            "é",
            "🙂",
            "\t",
            "=",
            "x",
            "0",
            "9",
            "add",
            "/payer",
            "/setup",
            "locality:",
            "NY 01",
            "13202-01",
            "{{ 7*7 }}",
            "help",
        ];
        let n = (self.next() % 12) as usize;
        (0..n).map(|_| self.pick(PIECES)).collect()
    }
}

#[test]
fn command_lines_never_panic_and_errors_are_one_line() {
    let mut rng = Rng(0x5eed);
    for _ in 0..5_000 {
        let line = rng.text();
        match command_line::parse(&line) {
            Ok(parsed) => {
                // Every option name the parser returns belongs to the command.
                let spec = parsed.command;
                let sub = parsed.subcommand.as_deref().and_then(|s| spec.subcommand(s));
                let allowed = raterise_commands::catalog::options_of(spec, sub);
                for (name, _) in &parsed.options {
                    assert!(allowed.iter().any(|o| o.name == name), "{line:?} gave unknown option {name}");
                }
            }
            Err(e) => {
                let msg = e.user_message();
                assert!(!msg.is_empty() && !msg.contains('\n'), "{line:?} -> {msg:?}");
            }
        }
    }
}

#[test]
fn money_round_trips_through_its_display() {
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let cents = (rng.next() % 100_000_000) as i64;
        let shown = Cents(cents).to_string();
        assert_eq!(Cents::parse(&shown).unwrap(), Cents(cents), "{shown}");
    }
    for _ in 0..20_000 {
        let s = rng.text();
        if let Ok(c) = Cents::parse(&s) {
            assert_eq!(Cents::parse(&c.to_string()).unwrap(), c, "{s:?}");
        }
    }
}

#[test]
fn small_parsers_never_panic() {
    let mut rng = Rng(7);
    let medicare = MedicareData::embedded();
    for _ in 0..1_000 {
        let s = rng.text();
        let _ = parse_date(&s);
        let _ = s.parse::<Credential>();
        let _ = s.parse::<PayerKind>();
        let _ = s.parse::<PayerStatus>();
        if let Ok(inc) = Increase::parse(&s) {
            assert!(inc.per_session(Cents(10_000)).0 > 0, "{s:?}");
        }
        if let Err(e) = medicare.find_locality(&s) {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
