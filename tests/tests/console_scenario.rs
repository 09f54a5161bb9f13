//! The console scenario of the README, driven through the real `raterise` binary: setup, payers,
//! rates, the comparison as text and JSON, bad input, tenant isolation, the demo and the prompt.

use raterise_tests::discord::{raterise, TempDir};
use serde_json::Value;
use std::io::Write;
use std::process::{Output, Stdio};

fn ask(dir: &TempDir, practice: &str, line: &str) -> Output {
    raterise(dir, &[]).args(["--practice", practice, "ask", line]).output().expect("run raterise")
}

fn ask_ok(dir: &TempDir, line: &str) -> String {
    let out = ask(dir, "default", line);
    assert!(
        out.status.success(),
        "`{line}` failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ask_json(dir: &TempDir, practice: &str, line: &str) -> Value {
    let out = raterise(dir, &[]).args(["--practice", practice, "ask", "--json", line]).output().unwrap();
    assert!(out.status.success(), "`{line}`: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// A user error: status 1, one line on stderr, nothing on stdout.
fn ask_err(dir: &TempDir, line: &str) -> String {
    let out = ask(dir, "default", line);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`{line}` should be refused; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "`{line}` printed to stdout");
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "`{line}` should explain itself in one line, got:\n{err}");
    lines[0].to_string()
}

fn scenario(dir: &TempDir) {
    let setup = ask_ok(dir, r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#);
    assert!(setup.contains("MANHATTAN, NY (13202-01)"), "{setup}");
    assert!(setup.contains("LCSW"), "{setup}");
    let add = ask_ok(dir, "/payer add name:Cigna kind:commercial renewal:2027-03-01");
    assert!(add.contains("Cigna added") && add.contains("2027-03-01"), "{add}");
    let set = ask_ok(dir, "/rate set payer:cigna cpt:90837 amount:118.50");
    assert!(set.contains("Cigna pays $118.50 for 90837"), "{set}");
}

#[test]
fn readme_scenario_compares_cigna_with_medicare() {
    let dir = TempDir::new("console");
    scenario(&dir);
    let text = ask_ok(&dir, "/rates cigna");
    // LCSW 75% of the 2026 Manhattan amount for 90837: the full amount is
    // (3.78 x 1.064 + 1.22 x 1.162 + 0.00 x 1.586) x 33.4009, checked by the medicare unit tests.
    assert!(text.contains("Medicare 2026 for MANHATTAN, NY (13202-01), LCSW at 75% share"), "{text}");
    assert!(text.contains("90837") && text.contains("$118.50"), "{text}");
    assert!(text.contains("Suggested ask"), "{text}");
    assert!(text.contains("renewal window opens on 2026-12-01"), "next step names the window: {text}");

    let json = ask_json(&dir, "default", "/rates cigna");
    assert_eq!(json["payer"], "Cigna");
    assert_eq!(json["medicare"]["year"], 2026);
    assert_eq!(json["medicare"]["locality"], "MANHATTAN, NY");
    assert_eq!(json["medicare"]["credential"], "lcsw");
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["cpt"], "90837");
    assert_eq!(row["rate_cents"], 11850);
    let medicare = row["medicare_cents"].as_i64().unwrap();
    let pct = row["pct_of_medicare"].as_f64().unwrap();
    // The percentage is computed from the two integers and rounded once to a tenth.
    let expected = ((11850.0 / medicare as f64) * 1000.0).round() / 10.0;
    assert!((pct - expected).abs() < 1e-9, "{pct} vs {expected}");
    assert!(row["ask"]["rate_cents"].as_i64().unwrap() > 11850);
    assert!(!row["ask"]["rule"].as_str().unwrap().is_empty());
}

#[test]
fn ranking_and_impact_use_the_practice_volume() {
    let dir = TempDir::new("console");
    scenario(&dir);
    ask_ok(&dir, r#"/payer add name:"Optum Behavioral Health" kind:mbho volume:"90837=10""#);
    ask_ok(&dir, r#"/rate set "Optum Behavioral Health" 90837 140"#);
    ask_ok(&dir, r#"/payer edit cigna volume:"90837=25""#);
    // DOMAIN: 25 sessions a week for 48 weeks at +$10 is +$12,000 a year.
    let impact = ask_json(&dir, "default", "/impact cigna 10");
    assert_eq!(impact["yearly_change_cents"], 1_200_000);
    assert_eq!(impact["yearly_sessions"], 1200);
    let ranking = ask_json(&dir, "default", "/rates");
    let payers = ranking["payers"].as_array().unwrap();
    assert_eq!(payers[0]["payer"], "Optum Behavioral Health", "the best payer ranks first");
    assert_eq!(payers[1]["payer"], "Cigna");
    assert_eq!(payers[1]["yearly_sessions"], 1200);
    assert_eq!(payers[1]["revenue_per_session_cents"], 11850);
    // Cigna's ask now matches Optum, the practice's best other payer for the code.
    let cigna = ask_json(&dir, "default", "/rates cigna");
    assert_eq!(cigna["rows"][0]["best_other"]["payer"], "Optum Behavioral Health");
    assert_eq!(cigna["rows"][0]["flags"][0]["flag"], "below-other-payer");
}

#[test]
fn bad_input_is_refused_with_one_line_and_nothing_written() {
    let dir = TempDir::new("console");
    scenario(&dir);
    ask_ok(&dir, "/payer add name:Aetna kind:commercial");
    let history_before = ask_json(&dir, "default", "/rate history cigna");
    let payers_before = ask_json(&dir, "default", "/payer list");

    let e = ask_err(&dir, "/rates cgna");
    assert!(e.contains("`cgna`") && e.contains("Cigna"), "unknown payer lists close names: {e}");
    let e = ask_err(&dir, "/rate set cigna 99999 100");
    assert!(e.contains("99999") && e.contains("90837") && e.contains("90834"), "bad code lists valid ones: {e}");
    let e = ask_err(&dir, r#"/setup locality:"MANHATAN, NY""#);
    assert!(e.contains("MANHATTAN, NY"), "unknown locality suggests close spellings: {e}");
    for amount in ["0", "-5", "2000.01", "abc"] {
        let e = ask_err(&dir, &format!("/rate set cigna 90837 {amount}"));
        assert!(e.contains("118.50") || e.contains("amount"), "rate {amount}: {e}");
    }
    let e = ask_err(&dir, "/rate set cigna 90837 120 effective:2026-02-30");
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    let e = ask_err(&dir, "/rate set cigna 90837 120 colour:blue");
    assert!(e.contains("colour") && e.contains("payer:"), "{e}");
    let e = ask_err(&dir, r#"/payer add name:"Blue Cross kind:commercial"#);
    assert!(e.contains("quote"), "{e}");
    let e = ask_err(&dir, "/payer add name:cigna");
    assert!(e.contains("already have a payer named"), "names are unique, case-insensitively: {e}");
    let e = ask_err(&dir, "/payer add name:Humana kind:hmo");
    assert!(e.contains("commercial"), "{e}");
    let e = ask_err(&dir, "/ratez cigna");
    assert!(e.contains("/rates"), "{e}");

    assert_eq!(ask_json(&dir, "default", "/rate history cigna"), history_before, "no rate was written");
    assert_eq!(ask_json(&dir, "default", "/payer list"), payers_before, "no payer was written");
    let setup = ask_json(&dir, "default", "/setup");
    assert_eq!(setup["locality_id"], "13202-01", "the bad locality did not replace the good one");
}

#[test]
fn rate_history_keeps_every_change_and_the_current_is_the_latest_in_effect() {
    let dir = TempDir::new("console");
    scenario(&dir);
    ask_ok(&dir, "/rate set cigna 90837 110 effective:2024-03-01");
    ask_ok(&dir, "/rate set cigna 90837 140 effective:2027-03-01");
    let history = ask_json(&dir, "default", "/rate history cigna cpt:90837");
    let amounts: Vec<i64> = history["rows"].as_array().unwrap().iter().map(|r| r["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts, vec![14000, 11850, 11000], "newest first");
    let rates = ask_json(&dir, "default", "/rates cigna");
    assert_eq!(rates["rows"][0]["rate_cents"], 11850, "the future rate is not in effect yet");
    // Move the clock past the new rate's effective date.
    let out = raterise(&dir, &[("RATERISE_NOW", "2027-03-02T15:00:00Z")])
        .args(["ask", "--json", "/rates cigna"])
        .output()
        .unwrap();
    let later: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(later["rows"][0]["rate_cents"], 14000);
}

#[test]
fn two_practices_in_one_database_never_see_each_other() {
    let dir = TempDir::new("console");
    scenario(&dir);
    let out = ask(&dir, "other", "/rates cigna");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Cigna"), "another practice's payer must not even be suggested: {err}");
    let list = ask_json(&dir, "other", "/payer list");
    assert_eq!(list["payers"].as_array().unwrap().len(), 0);
    // The same name can exist in both practices, each with its own rates.
    assert!(ask(&dir, "other", "/payer add name:Cigna kind:commercial").status.success());
    assert!(ask(&dir, "other", "/rate set cigna 90837 99").status.success());
    let mine = ask_json(&dir, "default", "/rate history cigna");
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1);
    assert_eq!(mine["rows"][0]["amount"], 11850);
    let theirs = ask_json(&dir, "other", "/rate history cigna");
    assert_eq!(theirs["rows"][0]["amount"], 9900);
}

#[test]
fn medicare_and_medicaid_are_benchmarks_not_targets() {
    let dir = TempDir::new("console");
    scenario(&dir);
    ask_ok(&dir, "/payer add name:Medicare kind:medicare");
    ask_ok(&dir, "/rate set medicare 90837 136.48");
    let r = ask_json(&dir, "default", "/rates medicare");
    assert_eq!(r["negotiable"], false);
    assert!(r["rows"][0]["ask"].is_null());
    assert!(r["next_step"].as_str().unwrap().contains("benchmark"));
}

#[test]
fn demo_builds_a_practice_and_prints_the_main_answers() {
    let dir = TempDir::new("demo");
    let out = raterise(&dir, &[]).arg("demo").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in
        ["payers ranked by % of Medicare", "Cigna: rates vs Medicare 2026", "Cigna +10%", "Optum Behavioral Health"]
    {
        assert!(text.contains(want), "demo output lacks `{want}`:\n{text}");
    }
    // Running it again rebuilds the same practice instead of failing on duplicates.
    let again = raterise(&dir, &[]).arg("demo").output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let list = ask_json(&dir, "demo", "/payer list");
    assert_eq!(list["payers"].as_array().unwrap().len(), 7);
}

#[test]
fn chat_prompt_reads_command_lines() {
    let dir = TempDir::new("chat");
    let mut child = raterise(&dir, &[])
        .env("HOME", &dir.0)
        .arg("chat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/help\n/payer add name:Cigna\n/rate history nobody\n/payer list\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/rates [payer:"), "help is generated from the catalogue: {text}");
    assert!(text.contains("Payers of default (1)") && text.contains("Cigna"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`nobody`"), "errors go to stderr and the prompt carries on: {err}");
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = TempDir::new("pipe");
    // `demo` prints far more than one line; `head -1` closes the pipe after the first.
    let cmd = raterise(&dir, &[]).get_program().to_owned();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' demo | head -n 1", cmd.to_string_lossy()))
        .env("RATERISE_DB", dir.0.join("raterise.db"))
        .env("RATERISE_NOW", "2026-11-27T15:00:00Z")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Built the demo practice"));
}
