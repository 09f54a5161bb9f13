//! `raterise market nppes/import/toc` and `/market`, `/rates` through the real binary: a generated
//! NPPES extract and in-network file, the JSON summary keys, a malformed file storing nothing, and
//! a download from 127.0.0.1 that drops halfway and is resumed with a Range request.

use raterise_commands::tic::generate::{
    write_in_network, write_nppes_header, write_nppes_row, InNetworkSpec, NppesRow,
};
use raterise_tests::discord::{raterise, TempDir};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn run(dir: &TempDir, envs: &[(&str, &str)], args: &[&str]) -> Output {
    raterise(dir, envs).args(args).output().expect("run raterise")
}

fn ok_json(out: Output) -> Value {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn ask_json(dir: &TempDir, line: &str) -> Value {
    ok_json(run(dir, &[], &["ask", "--json", line]))
}

fn ask_text(dir: &TempDir, line: &str) -> String {
    let out = run(dir, &[], &["ask", line]);
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const FIRST_NPI: u64 = 1_500_000_000;

fn files(dir: &TempDir) -> (PathBuf, PathBuf) {
    let nppes = dir.0.join("npidata_pfile.csv");
    let mut w = std::fs::File::create(&nppes).unwrap();
    write_nppes_header(&mut w).unwrap();
    for i in 0..400u64 {
        let tax: &[(&str, bool)] = if i % 4 == 0 { &[("207Q00000X", true)] } else { &[("1041C0700X", true)] };
        let row = NppesRow {
            npi: FIRST_NPI + i,
            entity: 1,
            credential: "LCSW",
            state: if i % 10 == 9 { "WI" } else { "IL" },
            zip: "60601",
            taxonomies: tax,
            deactivated: false,
        };
        write_nppes_row(&mut w, &row).unwrap();
    }
    let tic = dir.0.join("in-network.json.gz");
    let spec = InNetworkSpec {
        other_items: 40,
        bh_items: 4,
        bh_codes: vec!["90837".into(), "90834".into()],
        rates_per_item: 60,
        groups: 80,
        max_npis_per_group: 5,
        first_npi: FIRST_NPI,
    };
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(&tic).unwrap(), flate2::Compression::fast());
    write_in_network(&mut gz, &spec).unwrap();
    gz.finish().unwrap().flush().unwrap();
    (nppes, tic)
}

fn summary_keys(v: &Value) {
    for k in ["items_seen", "items_kept", "rates_kept", "rates_dropped", "npis_matched", "cells"] {
        assert!(v.get(k).is_some(), "no `{k}` in {v}");
    }
}

#[test]
fn import_then_market_and_rates() {
    let dir = TempDir::new("market");
    let (nppes, tic) = files(&dir);
    ask_text(&dir, r#"/setup locality:"CHICAGO, IL" credential:lcsw"#);
    ask_text(&dir, "/payer add name:Cigna kind:commercial");
    ask_text(&dir, "/rate set payer:cigna cpt:90837 amount:95");

    // Importing before NPPES is loaded says what to do first.
    let out = run(&dir, &[], &["market", "import", tic.to_str().unwrap(), "--payer", "Cigna"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("market nppes"));

    let n = ok_json(run(&dir, &[], &["market", "nppes", nppes.to_str().unwrap(), "--json"]));
    assert_eq!((n["rows"].as_u64(), n["clinicians"].as_u64()), (Some(400), Some(300)));

    let s = ok_json(run(
        &dir,
        &[],
        &["market", "import", tic.to_str().unwrap(), "--payer", "Cigna", "--state", "IL", "--json"],
    ));
    summary_keys(&s);
    assert_eq!(s["items_seen"], 44);
    assert_eq!(s["items_kept"], 4);
    assert_eq!(s["rates_kept"], 240);
    assert_eq!(s["rates_dropped"]["not_professional"], 240);
    assert!(s["cells"].as_u64().unwrap() > 0 && s["npis_matched"].as_u64().unwrap() > 0);
    assert_eq!(s["last_updated_on"], "2026-05-01");

    let m = ask_json(&dir, "/market cigna cpt:90837 credential:lcsw");
    for k in ["payer", "state", "source", "last_updated_on"] {
        assert!(m.get(k).is_some(), "{k}");
    }
    assert_eq!((m["payer"].as_str(), m["state"].as_str()), (Some("Cigna"), Some("IL")));
    assert_eq!(m["source"], "in-network.json.gz");
    let codes = m["codes"].as_array().unwrap();
    assert!(!codes.is_empty());
    for c in codes {
        assert_eq!((c["cpt"].as_str(), c["credential"].as_str()), (Some("90837"), Some("lcsw")));
        let p: Vec<i64> = ["p10_cents", "p25_cents", "p50_cents", "p75_cents", "p90_cents"]
            .iter()
            .map(|k| c[k].as_i64().unwrap())
            .collect();
        assert!(p.windows(2).all(|w| w[0] <= w[1]) && p[0] >= 6000 && p[4] < 20000, "{c}");
        assert!(
            c["n_contracts"].as_u64().unwrap() >= 3
                && c["n_clinicians"].as_u64().unwrap() >= c["n_contracts"].as_u64().unwrap()
        );
    }
    let text = ask_text(&dir, "/market cigna cpt:90837");
    assert!(
        text.contains("Cigna")
            && text.contains("IL")
            && text.contains("2026-05-01")
            && text.contains("in-network.json.gz"),
        "{text}"
    );

    // /rates places the rate in Cigna's own distribution, with scope, date and source.
    let office = codes.iter().find(|c| c["pos"] == "11" && c["modifier"] == "").unwrap();
    let r = ask_json(&dir, "/rates cigna");
    let row = &r["rows"][0];
    assert_eq!(row["payer_market"]["credential"], "lcsw");
    assert_eq!(row["payer_market"]["percentiles"]["p50_cents"], office["p50_cents"]);
    assert_eq!(row["payer_market"]["last_updated_on"], "2026-05-01");
    let text = ask_text(&dir, "/rates cigna");
    assert!(text.contains("Cigna's own published rates") && text.contains("file dated 2026-05-01"), "{text}");
    assert!(text.contains("UHC mid"), "the UHC national table stays, labelled");
    let r = ask_json(&dir, "/rates cigna target:p75");
    assert_eq!(r["rows"][0]["ask"]["rate_cents"], office["p75_cents"]);
    assert!(r["rows"][0]["ask"]["rule"].as_str().unwrap().contains("75th percentile of Cigna's own published rates"));

    // The request letter cites it.
    let draft = ask_text(&dir, "/draft kind:request payer:cigna");
    assert!(
        draft.contains("In Cigna's own published in-network rates") && draft.contains("file dated 2026-05-01"),
        "{draft}"
    );

    // A broken file stores nothing and names the byte.
    let bad = dir.0.join("bad.json");
    let plain = std::fs::read(&tic).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&plain[..]), &mut text).unwrap();
    let at = text.find("\"billing_code\":\"90837\"").unwrap();
    let broken = format!("{}\"billing_code\":\"90837\",,{}", &text[..at], &text[at + 22..]);
    std::fs::write(&bad, &broken).unwrap();
    let out = run(&dir, &[], &["market", "import", bad.to_str().unwrap(), "--payer", "Aetna", "--state", "IL"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Nothing was stored") && err.contains("byte "), "{err}");
    let out = run(&dir, &[], &["ask", "/market aetna state:IL"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no published rates of aetna"));

    // A URL on a host nobody allowed is refused.
    let out = run(&dir, &[], &["market", "import", "https://example.org/x.json.gz", "--payer", "Cigna"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RATERISE_MARKET_HOSTS"));
}

/// Serves `body` over HTTP/1.1 with ETag and Range support; the first full request is cut after
/// half the bytes.
async fn flaky_server(body: Vec<u8>, requests: Arc<AtomicUsize>, ranged: Arc<AtomicUsize>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = Arc::new(body);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let body = body.clone();
            let n = requests.fetch_add(1, Ordering::SeqCst);
            let ranged = ranged.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => req.extend_from_slice(&buf[..k]),
                    }
                }
                let head = String::from_utf8_lossy(&req).to_ascii_lowercase();
                let start = head
                    .lines()
                    .find_map(|l| l.strip_prefix("range: bytes="))
                    .and_then(|r| r.trim().trim_end_matches('-').parse::<usize>().ok());
                let total = body.len();
                match start {
                    Some(s) => {
                        assert!(head.contains("if-range: \"v1\""), "{head}");
                        ranged.fetch_add(1, Ordering::SeqCst);
                        let h = format!(
                            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {s}-{}/{total}\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
                            total - s,
                            total - 1
                        );
                        let _ = sock.write_all(h.as_bytes()).await;
                        let _ = sock.write_all(&body[s..]).await;
                    }
                    None => {
                        let h = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nETag: \"v1\"\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n");
                        let _ = sock.write_all(h.as_bytes()).await;
                        let cut = if n == 0 { total / 2 } else { total };
                        let _ = sock.write_all(&body[..cut]).await;
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_download_resumes_with_the_same_result() {
    let dir = TempDir::new("market-url");
    let (nppes, tic) = files(&dir);
    assert!(run(&dir, &[], &["market", "nppes", nppes.to_str().unwrap()]).status.success());
    let from_file = ok_json(run(
        &dir,
        &[],
        &["market", "import", tic.to_str().unwrap(), "--payer", "Cigna", "--state", "IL", "--json"],
    ));

    let (requests, ranged) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let port = flaky_server(std::fs::read(&tic).unwrap(), requests.clone(), ranged.clone()).await;
    let url = format!("http://127.0.0.1:{port}/files/in-network.json.gz?sig=abc");
    let envs = [("RATERISE_MARKET_HOSTS", "127.0.0.1"), ("RATERISE_MARKET_ALLOW_HTTP", "1")];
    let mut cmd = raterise(&dir, &envs);
    cmd.args(["market", "import", &url, "--payer", "Cigna", "--state", "IL", "--json"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let from_url = ok_json(out);
    assert_eq!(ranged.load(Ordering::SeqCst), 1, "one Range request after the drop");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
    assert_eq!(from_url["source"], format!("http://127.0.0.1:{port}/files/in-network.json.gz"));
    for k in ["items_seen", "items_kept", "rates_kept", "rates_dropped", "npis_matched", "cells", "bytes"] {
        assert_eq!(from_url[k], from_file[k], "{k}");
    }
    // Without the test-only switch, plain http is refused.
    let url = format!("http://127.0.0.1:{port}/files/in-network.json.gz");
    let mut cmd = raterise(&dir, &[("RATERISE_MARKET_HOSTS", "127.0.0.1")]);
    cmd.args(["market", "import", &url, "--payer", "Cigna"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
}

#[test]
fn toc_ranks_behavioral_files() {
    let dir = TempDir::new("market-toc");
    let toc = dir.0.join("toc.json");
    std::fs::write(&toc, include_bytes!("../../commands/tests/data/tic/v2-table-of-contents.json")).unwrap();
    let v = ok_json(run(&dir, &[], &["market", "toc", toc.to_str().unwrap(), "--state", "IL", "--json"]));
    assert_eq!(v["in_network_files"], 3);
    assert_eq!(v["files"][0]["location"], "https://www.some_site.com/files/behavioral-health-0000.json");
}
