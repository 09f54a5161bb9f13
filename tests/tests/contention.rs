//! 50 writers at once on one database file (issue 15, item 3): 25 signed interactions through the
//! real `raterise serve` endpoint and 25 console processes beside it, seven mutating command kinds
//! on each side (payer add, edit and remove, rate set, negotiate start and log, practice
//! credential). None may be refused ("database is locked" / "Something went wrong") and none
//! lost: every change is there afterwards.

use raterise_tests::discord::*;
use serde_json::{json, Value};
use std::time::Duration;

const GUILD: &str = "1000000000000000055";
const KINDS: usize = 7;
const EACH_SIDE: usize = 25;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

/// Payer names that no other name contains (`P03x` is not inside `P13x`).
fn payer(side: &str, i: usize) -> String {
    format!("{side}{i:02}x")
}

/// The renewal date writer `i` sets with `/payer edit`.
fn renewal(i: usize) -> String {
    format!("2027-05-{:02}", i % 28 + 1)
}

/// Writer `i`'s command line: seven kinds by `i % 7`, each about its own payer or credential.
fn line(side: &str, i: usize) -> String {
    let p = payer(side, i);
    match i % KINDS {
        0 => format!("/payer add name:New{p} kind:commercial"),
        1 => format!("/rate set payer:{p} cpt:90837 amount:1{i:02}.00"),
        2 => format!("/negotiate start payer:{p} ask:\"90837=140\""),
        3 => format!("/practice credential name:Cred{p} kind:credential clinicians:1"),
        4 => format!("/payer remove name:{p}"),
        5 => format!("/payer edit name:{p} renewal:{}", renewal(i)),
        _ => format!("/negotiate log payer:{p} event:call note:\"Log{p}\""),
    }
}

/// A console line as a Discord slash command of the same options.
fn interaction(line: &str) -> Value {
    let parsed = raterise_commands::command_line::parse(line).unwrap();
    let opts: Vec<(&str, Value)> = parsed.options.iter().map(|(k, v)| (k.as_str(), json!(v))).collect();
    command(&Who::manager(GUILD), parsed.command.name, parsed.subcommand.as_deref(), options(&opts))
}

async fn endpoint(served: &Served, line: &str) -> String {
    let (status, r) = post_signed(&client(), &served.interactions_url(), &test_key(), &interaction(line)).await;
    assert_eq!(status, 200, "{line}: {r}");
    text_of(&r["data"])
}

fn console(dir: &TempDir, line: &str) -> std::process::Output {
    raterise(dir, &[]).args(["--practice", "con", "ask", line]).output().expect("run raterise ask")
}

fn console_json(dir: &TempDir, line: &str) -> Value {
    let out = raterise(dir, &[]).args(["--practice", "con", "ask", "--json", line]).output().unwrap();
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_writers_through_the_endpoint_and_the_console_lose_nothing() {
    let key = test_key().public_hex();
    let served = Served::start(&[("DISCORD_PUBLIC_KEY", key.as_str()), ("DISCORD_API_URL", "http://127.0.0.1:9")]);
    // Both practices, with the payers the writers act on.
    endpoint(&served, r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#).await;
    for i in 0..EACH_SIDE {
        endpoint(&served, &format!("/payer add name:{}", payer("E", i))).await;
        let out = console(&served.dir, &format!("/payer add name:{}", payer("C", i)));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        if i % KINDS == 6 {
            // A case to log a step on.
            endpoint(&served, &format!("/negotiate start payer:{} ask:\"90837=140\"", payer("E", i))).await;
            let out = console(&served.dir, &format!("/negotiate start payer:{} ask:\"90837=140\"", payer("C", i)));
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }

    // The storm: 25 interactions and 25 processes, all started before any is awaited.
    let dir = served.dir.0.clone();
    let consoles: Vec<_> = (0..EACH_SIDE)
        .map(|i| {
            let dir = TempDir(dir.clone());
            std::thread::spawn(move || {
                let out = console(&dir, &line("C", i));
                std::mem::forget(dir); // the served test owns the folder
                out
            })
        })
        .collect();
    let requests: Vec<_> = (0..EACH_SIDE)
        .map(|i| {
            let url = served.interactions_url();
            let body = interaction(&line("E", i));
            tokio::spawn(async move { post_signed(&client(), &url, &test_key(), &body).await })
        })
        .collect();
    let mut refused = Vec::new();
    for (i, r) in requests.into_iter().enumerate() {
        let (status, body) = r.await.unwrap();
        let text = text_of(&body["data"]);
        if status != 200 || text.contains("went wrong") || text.contains("locked") {
            refused.push(format!("endpoint {}: {status} {text}", line("E", i)));
        }
    }
    for (i, t) in consoles.into_iter().enumerate() {
        let out = t.join().unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() || all.contains("went wrong") || all.contains("locked") {
            refused.push(format!("console {}: {:?} {all}", line("C", i), out.status));
        }
    }
    assert!(refused.is_empty(), "{} of 50 refused:\n{}", refused.len(), refused.join("\n"));
    assert!(!served.stderr().contains("database is locked"), "{}", served.stderr());

    // Nothing lost, on either side.
    let payers = endpoint(&served, "/payer list").await;
    let practice = endpoint(&served, "/practice show").await;
    let cases = endpoint(&served, "/negotiate status").await;
    let con_payers = console_json(&served.dir, "/payer list");
    let con_names: Vec<String> =
        con_payers["payers"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
    let con_practice = String::from_utf8_lossy(&console(&served.dir, "/practice show").stdout).into_owned();
    let con_cases = String::from_utf8_lossy(&console(&served.dir, "/negotiate status").stdout).into_owned();
    let mut lost = Vec::new();
    for i in 0..EACH_SIDE {
        let (e, c) = (payer("E", i), payer("C", i));
        let (ok_e, ok_c) = match i % KINDS {
            0 => (payers.contains(&format!("New{e}")), con_names.contains(&format!("New{c}"))),
            1 => {
                let amount = format!("1{i:02}.00");
                let h = endpoint(&served, &format!("/rate history payer:{e}")).await;
                let hc = String::from_utf8_lossy(&console(&served.dir, &format!("/rate history payer:{c}")).stdout)
                    .into_owned();
                (h.contains(&amount), hc.contains(&amount))
            }
            2 => (cases.contains(&e), con_cases.contains(&c)),
            3 => (practice.contains(&format!("Cred{e}")), con_practice.contains(&format!("Cred{c}"))),
            4 => (!payers.contains(&e), !con_names.contains(&c)),
            5 => {
                let date = renewal(i);
                let con = con_payers["payers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == c && p["renewal_date"] == date);
                (payers.lines().any(|l| l.contains(&e) && l.contains(&date)), con)
            }
            _ => {
                let s = endpoint(&served, &format!("/negotiate status payer:{e}")).await;
                let sc = String::from_utf8_lossy(&console(&served.dir, &format!("/negotiate status payer:{c}")).stdout)
                    .into_owned();
                (s.contains(&format!("Log{e}")), sc.contains(&format!("Log{c}")))
            }
        };
        if !ok_e {
            lost.push(line("E", i));
        }
        if !ok_c {
            lost.push(line("C", i));
        }
    }
    assert!(lost.is_empty(), "{} of 50 lost: {lost:?}", lost.len());
    eprintln!("50 concurrent writers: 0 refused, 0 lost");
}
