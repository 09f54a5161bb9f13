//! A negotiation walked through every stage with the real `raterise` binary, the clock moved by
//! RATERISE_NOW between commands (no sleeping): start, contact, call, written request, follow-up,
//! escalation, counter-offer, counter-proposal, denial, agreement; then a withdrawn case and a
//! walk-away. Illegal moves exit with status 1, say why on one stderr line and write nothing.

use raterise_tests::discord::{raterise, TempDir};
use serde_json::Value;
use std::process::Output;

struct Console {
    dir: TempDir,
    now: String,
}

impl Console {
    fn new() -> Console {
        Console { dir: TempDir::new("negotiation"), now: String::new() }
    }

    /// Moves the clock to 14:00 UTC (09:00 in New York) on `date`.
    fn on(&mut self, date: &str) -> &mut Console {
        self.now = format!("{date}T14:00:00Z");
        self
    }

    fn run(&self, args: &[&str]) -> Output {
        raterise(&self.dir, &[("RATERISE_NOW", &self.now)]).args(args).output().expect("run raterise")
    }

    fn ok(&self, line: &str) -> String {
        let out = self.run(&["ask", line]);
        assert!(
            out.status.success(),
            "`{line}` at {} failed: {}\n{}",
            self.now,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, line: &str) -> Value {
        let out = self.run(&["ask", "--json", line]);
        assert!(out.status.success(), "`{line}` at {}: {}", self.now, String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    /// The stage the case is in after a logged event or an outcome.
    fn stage(&self, line: &str) -> String {
        self.json(line)["stage"].as_str().unwrap_or_else(|| panic!("`{line}` has no stage")).to_string()
    }

    /// Refused: status 1, nothing on stdout, one line on stderr; and nothing written.
    fn refused(&self, line: &str) -> String {
        let before = self.snapshot();
        let out = self.run(&["ask", line]);
        assert_eq!(out.status.code(), Some(1), "`{line}` should be refused: {}", String::from_utf8_lossy(&out.stdout));
        assert!(out.stdout.is_empty(), "`{line}` printed to stdout");
        let err = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "`{line}` should explain itself in one line:\n{err}");
        assert_eq!(self.snapshot(), before, "`{line}` was refused but changed something");
        lines[0].to_string()
    }

    /// What a refused command must not change: the case with its log, and the rate history.
    fn snapshot(&self) -> (Value, Value) {
        let case = self.run(&["ask", "--json", "/negotiate status payer:Cigna"]);
        let case: Value =
            if case.status.success() { serde_json::from_slice(&case.stdout).unwrap() } else { Value::Null };
        (case, self.json("/rate history payer:Cigna"))
    }
}

fn next(case: &Value) -> (String, String, i64) {
    let n = &case["next"];
    (n["step"].as_str().unwrap().into(), n["due"].as_str().unwrap().into(), n["due_in_days"].as_i64().unwrap())
}

#[test]
fn a_case_walks_through_every_stage_as_the_clock_moves() {
    let mut c = Console::new();
    c.on("2026-09-01");
    c.ok(r#"/setup locality:"MANHATTAN, NY" credential:lcsw name:"Harbor Therapy Group""#);
    c.ok(r#"/payer add name:Cigna kind:commercial contact_name:"Dana Whitfield" contact_email:dana@example.com volume:"90837=10 90834=5""#);
    c.ok("/rate set Cigna 90837 118.50 effective:2024-01-01");
    c.ok("/rate set Cigna 90834 88.00 effective:2024-01-01");

    let started = c.json(r#"/negotiate start Cigna ask:"90837=135 90834=100""#);
    assert_eq!(started["opened_on"], "2026-09-01");
    assert_eq!(started["starting_point"], "rate-review");
    // (16.50 x 10 + 12.00 x 5) x 48 weeks = $10,800.00
    assert_eq!(started["yearly_if_granted_cents"], 1_080_000);
    let status = c.json("/negotiate status Cigna");
    assert_eq!(status["stage"], "preparing");
    assert_eq!(next(&status), ("find-contact".into(), "2026-09-01".into(), 0));

    let e = c.refused("/negotiate outcome Cigna accepted");
    assert!(e.contains("never sent a written request"), "{e}");
    let e = c.refused("/negotiate start Cigna");
    assert!(e.contains("already has an open negotiation"), "{e}");

    // A back-dated event with date:, then today's call.
    c.on("2026-09-08");
    assert_eq!(
        c.stage(r#"/negotiate log Cigna contact-found date:2026-09-03 note:"Dana Whitfield, Provider Contracting""#),
        "contact-found"
    );
    assert_eq!(c.stage("/negotiate log Cigna call"), "initial-request-made");
    let e = c.refused("/negotiate log Cigna follow-up");
    assert!(e.contains("no written request"), "{e}");
    let e = c.refused("/negotiate log Cigna written-request date:2026-09-09");
    assert!(e.contains("in the future"), "{e}");

    c.on("2026-09-10");
    assert_eq!(c.stage("/negotiate log Cigna written-request"), "written-request-sent");
    let status = c.json("/negotiate status Cigna");
    assert_eq!(next(&status), ("follow-up".into(), "2026-09-24".into(), 14));
    assert_eq!(status["escalation_due"], "2026-10-10");

    // Two weeks later the follow-up is due today.
    c.on("2026-09-24");
    let list = c.json("/negotiate status");
    assert_eq!(list["cases"][0]["payer"], "Cigna");
    assert_eq!(next(&list["cases"][0]), ("follow-up".into(), "2026-09-24".into(), 0));
    assert_eq!(list["cases"][0]["days_since_last_contact"], 14);
    let text = c.ok("/negotiate status");
    assert!(text.contains("due today (2026-09-24)"), "{text}");
    let draft = c.json("/draft followup Cigna");
    assert!(draft["body"].as_str().unwrap().contains("sent to Cigna on September 10, 2026"), "{draft}");
    assert_eq!(c.stage("/negotiate log Cigna follow-up"), "awaiting-answer");
    assert_eq!(next(&c.json("/negotiate status Cigna")).1, "2026-10-08");

    // No answer 30 days after the request: escalate.
    c.on("2026-10-12");
    let status = c.json("/negotiate status Cigna");
    assert_eq!(next(&status), ("escalate".into(), "2026-10-10".into(), -2));
    let text = c.ok("/negotiate status");
    assert!(text.contains("overdue since 2026-10-10 (2 days)"), "{text}");
    assert_eq!(c.stage(r#"/negotiate log Cigna escalated note:"Asked for Dana's supervisor""#), "awaiting-answer");
    assert_eq!(next(&c.json("/negotiate status Cigna")), ("follow-up".into(), "2026-10-26".into(), 14));

    // Cigna counters; the offer stays on the case, out of the rate history (an offer is not a
    // contract: the rate in force is unchanged).
    c.on("2026-10-20");
    let countered = c.json(r#"/negotiate outcome Cigna countered rates:"90837=125 90834=94" effective:2026-11-01"#);
    assert_eq!(countered["stage"], "counter-offer-received");
    assert_eq!(countered["closed"], false);
    let history = c.json("/rate history Cigna cpt:90837");
    assert_eq!(history["rows"][0]["amount"], 11850);
    assert_eq!(history["rows"].as_array().unwrap().len(), 1);
    let e = c.refused("/negotiate log Cigna follow-up");
    assert!(e.contains("already answered"), "{e}");
    let draft = c.json("/draft counter Cigna");
    assert!(draft["body"].as_str().unwrap().contains("offer of October 20, 2026"), "{draft}");

    c.on("2026-10-22");
    assert_eq!(c.stage("/negotiate log Cigna counter-sent"), "awaiting-answer");

    c.on("2026-11-05");
    assert_eq!(c.stage(r#"/negotiate outcome Cigna denied note:"Budget freeze until next year""#), "denied");
    let e = c.refused("/negotiate outcome Cigna accepted");
    assert!(e.contains("said no"), "{e}");
    let draft = c.json("/draft rejection Cigna");
    assert!(draft["body"].as_str().unwrap().contains("What they said: Budget freeze until next year"), "{draft}");

    c.on("2026-11-06");
    assert_eq!(
        c.stage(r#"/negotiate log Cigna counter-sent note:"Half now, a review in six months""#),
        "awaiting-answer"
    );

    c.on("2026-11-20");
    let accepted = c.json(r#"/negotiate outcome Cigna accepted rates:"90837=127 90834=95" effective:2027-01-01"#);
    assert_eq!(accepted["stage"], "accepted");
    assert_eq!(accepted["closed"], true);
    // (8.50 x 10 + 7.00 x 5) x 48 weeks = $5,760.00, against the rates when the case opened.
    assert_eq!(accepted["yearly_increase_cents"], 576_000);
    let row = accepted["rows"].as_array().unwrap().iter().find(|r| r["cpt"] == "90837").unwrap();
    assert_eq!((row["before_cents"].as_i64(), row["new_cents"].as_i64()), (Some(11850), Some(12700)));
    assert_eq!(row["increase_pct"], 7.2);
    assert_eq!(row["yearly_cents"], 408_000);
    let text = c.ok("/negotiate status Cigna");
    assert!(text.contains("Negotiation with Cigna (closed, accepted)"), "{text}");
    let e = c.refused("/negotiate log Cigna note");
    assert!(e.contains("no open negotiation with Cigna"), "{e}");

    let case = c.json("/negotiate status Cigna");
    assert_eq!(case["closed_on"], "2026-11-20");
    let kinds: Vec<&str> = case["log"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "contact-found",
            "call",
            "written-request",
            "follow-up",
            "escalated",
            "counter-offer",
            "counter-sent",
            "denied",
            "counter-sent",
            "accepted"
        ]
    );
    // The agreed rates apply from 2027-01-01; until then the rate in force stands, with the
    // agreed one beside it.
    let rates = c.json("/rates Cigna");
    let r90837 = rates["rows"].as_array().unwrap().iter().find(|r| r["cpt"] == "90837").unwrap();
    assert_eq!(r90837["rate_cents"], 11850);
    assert_eq!((r90837["agreed_cents"].as_i64(), r90837["agreed_from"].as_str()), (Some(12700), Some("2027-01-01")));
    assert!(c.ok("/rates Cigna").contains("agreed $127.00 from 2027-01-01"));
    c.on("2027-01-02");
    let rates = c.json("/rates Cigna");
    let r90837 = rates["rows"].as_array().unwrap().iter().find(|r| r["cpt"] == "90837").unwrap();
    assert_eq!(r90837["rate_cents"], 12700);

    // A new case can be dropped ...
    assert_eq!(c.json("/negotiate start Cigna ask:5%")["rows"][0]["requested_cents"], 9975);
    assert_eq!(c.stage("/negotiate log Cigna withdrawn"), "withdrawn");
    // ... and walking away is refused until something has been asked.
    c.on("2027-01-04");
    c.ok("/negotiate start Cigna ask:5%");
    let e = c.refused("/negotiate log Cigna walked-away");
    assert!(e.contains("nothing has been asked yet"), "{e}");
    assert_eq!(c.stage("/negotiate log Cigna call"), "initial-request-made");
    assert_eq!(c.stage(r#"/negotiate log Cigna walked-away note:"Three rounds without movement""#), "walked-away");
    let list = c.json("/negotiate status");
    assert!(list["cases"].as_array().unwrap().is_empty());
    assert!(c.ok("/negotiate status").contains("No open negotiations"));
}

#[test]
fn the_demo_shows_the_cigna_case_and_a_follow_up_draft() {
    let mut c = Console::new();
    c.on("2026-11-27");
    let out = c.run(&["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "> /negotiate status",
        "Cigna  awaiting answer   14 days ago  follow-up  due today (2026-11-27)",
        "> /draft followup Cigna",
        "Subject  Following up: our rate review request of October 30, 2026 (Riverbend Counseling Group)",
        "Attachment cigna-followup-2026-11-27.eml",
    ] {
        assert!(text.contains(want), "demo output lacks `{want}`:\n{text}");
    }
    // Another day, the same shape: the case is built relative to the clock.
    c.on("2027-06-15");
    let out = c.run(&["demo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("due today (2027-06-15)"), "{text}");
}

/// With `--json`, a refused command says why as one JSON line on stderr with an `error` key
/// (issue 10, section 7), and stdout stays empty.
#[test]
fn json_errors_are_json_on_stderr() {
    let mut c = Console::new();
    c.on("2026-11-27");
    c.ok(r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#);
    let out = c.run(&["ask", "--json", "/rates Nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err: Value = serde_json::from_slice(&out.stderr).expect("JSON on stderr");
    assert!(err["error"].as_str().unwrap().contains("Nobody"), "{err}");
    assert_eq!(err["kind"], "user");
}
