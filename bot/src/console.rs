//! The console adapter: command lines in, text tables or JSON out.

use raterise_commands::demo;
use raterise_commands::{dispatch, Actor, AppError, Ctx, Invocation, Outcome, Tenant};
use std::process::ExitCode;

fn actor() -> Actor {
    let name = std::env::var("USER").unwrap_or_else(|_| "console".into());
    // Whoever runs the console owns the database file, so they may change data.
    Actor { id: name.clone(), name, can_manage: true, roles: vec![] }
}

pub fn invocation(practice: &str, line: &str) -> Result<Invocation, AppError> {
    Invocation::from_line(line, Some(Tenant::console(practice)), actor(), None)
}

async fn execute(ctx: &Ctx, practice: &str, line: &str) -> Result<Outcome, AppError> {
    let inv = invocation(practice, line)?;
    dispatch(ctx, &inv).await
}

fn report(e: &AppError) {
    if e.is_internal() {
        tracing::error!(error = %e, "command failed");
    }
    eprintln!("{}", e.user_message());
}

/// With `--json`, a refusal is JSON too, on stderr, one line: `{"error": message, "kind": ...}`.
/// `error` is the stable key scripts read; `kind` is user, forbidden, not-set-up or internal.
fn report_json(e: &AppError) {
    if e.is_internal() {
        tracing::error!(error = %e, "command failed");
    }
    let kind = match e {
        AppError::User(_) => "user",
        AppError::Forbidden(_) => "forbidden",
        AppError::NotSetUp(_) => "not-set-up",
        AppError::Internal { .. } => "internal",
    };
    eprintln!("{}", serde_json::json!({ "error": e.user_message(), "kind": kind }));
}

/// A refusal in the form the caller asked for (JSON on stderr under `--json`), with the exit code:
/// 1 for what the user can fix, 2 for an internal error.
fn fail(e: &AppError, json: bool) -> ExitCode {
    if json {
        report_json(e);
    } else {
        report(e);
    }
    ExitCode::from(if e.is_internal() { 2 } else { 1 })
}

/// Prints a result as JSON or as the console's text; `Err` carries the exit code to return.
fn print_result<T: serde::Serialize>(value: &T, text: impl FnOnce() -> String, json: bool) -> Result<(), ExitCode> {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                tracing::error!(error = %e, "serializing result");
                return Err(ExitCode::from(2));
            }
        }
    } else {
        print!("{}", text());
    }
    Ok(())
}

pub async fn ask(ctx: &Ctx, practice: &str, line: &str, json: bool) -> ExitCode {
    match execute(ctx, practice, line).await {
        Ok(outcome) => {
            if let Err(code) = print_result(&outcome, || outcome.reply().to_text(), json) {
                return code;
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

/// `raterise import era PATH...`: every file on its own; a refused file is listed with its
/// segment and the others go in. Exits 1 when any file was refused.
pub async fn import_era(ctx: &Ctx, practice: &str, paths: &[std::path::PathBuf], json: bool) -> ExitCode {
    let actor = actor();
    let summary = match raterise_commands::era::import::import_for_console(ctx, practice, paths, &actor).await {
        Ok(s) => s,
        Err(e) => return fail(&e, json),
    };
    if let Err(code) = print_result(&summary, || summary.reply().to_text(), json) {
        return code;
    }
    if summary.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} of {} files refused; nothing of those was imported.", summary.refused.len(), summary.files);
        ExitCode::from(1)
    }
}

pub async fn demo(ctx: &Ctx, practice: &str) -> ExitCode {
    match demo::build(ctx, practice).await {
        Ok(shown) => {
            println!(
                "Built the demo practice `{practice}`. Try: raterise --practice {practice} ask \"/rates Aetna\"\n"
            );
            for (line, outcome) in shown {
                println!("> {line}\n");
                println!("{}", outcome.reply().to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            report(&e);
            ExitCode::from(if e.is_internal() { 2 } else { 1 })
        }
    }
}

pub async fn chat(ctx: &Ctx, practice: &str) -> ExitCode {
    use rustyline::error::ReadlineError;
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Could not start the prompt: {e}");
            return ExitCode::from(2);
        }
    };
    let history = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default().join(".raterise_history");
    let _ = editor.load_history(&history);
    println!("raterise console for practice `{practice}`. Type /help for commands, Ctrl-D to leave.");
    loop {
        match editor.readline("raterise> ") {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line);
                if matches!(line, "quit" | "exit" | "/quit" | "/exit") {
                    break;
                }
                let line = if line == "help" || line == "?" { "/help" } else { line };
                match execute(ctx, practice, line).await {
                    Ok(outcome) => println!("{}", outcome.reply().to_text()),
                    Err(e) => report(&e),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Reading input failed: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let _ = editor.save_history(&history);
    ExitCode::SUCCESS
}

/// `raterise import claims FILE`: streams the file into the practice with a progress bar on
/// stderr (rows, rows/s, ETA by bytes), quiet under `--json`.
pub async fn import_claims(ctx: &Ctx, practice: &str, file: &std::path::Path, map: &[String], json: bool) -> ExitCode {
    use raterise_commands::claims::{columns::parse_map_args, Progress};
    use std::sync::atomic::Ordering;
    let map = match parse_map_args(map) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{}", e.0);
            return ExitCode::from(1);
        }
    };
    let input = match std::fs::File::open(file) {
        Ok(f) => std::io::BufReader::with_capacity(256 * 1024, f),
        Err(e) => {
            eprintln!("Could not open {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let inv = match invocation(practice, "/help") {
        Ok(i) => i,
        Err(e) => {
            report(&e);
            return ExitCode::from(1);
        }
    };
    let practice_row = match raterise_commands::handlers::practice_for(ctx, &inv).await {
        Ok(p) => p,
        Err(e) => {
            report(&e);
            return ExitCode::from(if e.is_internal() { 2 } else { 1 });
        }
    };
    let progress = Progress::default();
    let bar = (!json).then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(Some(size), indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent}% ETA {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let ticker = bar.clone().map(|bar| {
        let progress = progress.clone();
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            loop {
                let rows = progress.rows.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(0.001);
                bar.set_position(progress.bytes.load(Ordering::Relaxed));
                bar.set_message(format!("{rows} rows, {:.0} rows/s", rows as f64 / secs));
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    });
    let source = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export.csv".into());
    let result =
        raterise_commands::handlers::import::claims(ctx, &inv, &practice_row, input, &source, map, &progress).await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(outcome) => {
            if let Err(code) = print_result(&outcome, || outcome.reply().to_text(), json) {
                return code;
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, json),
    }
}

/// Parses dollars with up to four decimals into ten-thousandths, exactly.
fn parse_conversion_factor(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('$');
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || frac.len() > 4 || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac = format!("{frac:0<4}");
    Some(whole.parse::<i64>().ok()? * 10_000 + frac.parse::<i64>().ok()?)
}

pub async fn medicare_import(
    ctx: &Ctx,
    year: u16,
    rvu: &std::path::Path,
    gpci: &std::path::Path,
    conversion_factor: &str,
) -> ExitCode {
    let read =
        |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| format!("Could not read {}: {e}", p.display()));
    let (rvu_csv, gpci_csv) = match (read(rvu), read(gpci)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let Some(cf) = parse_conversion_factor(conversion_factor) else {
        eprintln!(
            "`{conversion_factor}` is not a conversion factor; write dollars with up to four decimals, like 33.4009"
        );
        return ExitCode::from(1);
    };
    // Validate by building the merged data before anything is stored.
    let merged = match ctx.medicare.with_release(year, &rvu_csv, &gpci_csv, cf) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let release =
        raterise_commands::store::medicare_releases::StoredRelease { year, rvu_csv, gpci_csv, cf_ten_thousandths: cf };
    if let Err(e) = ctx.store.save_medicare_release(&release, &actor().name, ctx.clock.now()).await {
        report(&e);
        return ExitCode::from(2);
    }
    println!(
        "Imported the {year} Medicare release: {} codes, {} localities, conversion factor {}. Every command now uses {} as the latest year.",
        merged.codes().len(),
        merged.localities().len(),
        merged.conversion_factor(year).map(|c| c.to_string()).unwrap_or_default(),
        merged.latest_year()
    );
    // A newer schedule is leverage: tell every practice with a reminder channel which payers now
    // sit furthest below it (posted by the scheduler of `raterise serve`).
    let with_release = Ctx { medicare: std::sync::Arc::new(merged), ..ctx.clone() };
    match raterise_commands::reminders::plan::plan_medicare_year(&with_release, &actor().name).await {
        Ok(0) => {}
        Ok(n) => println!("Planned a new-Medicare-year reminder for {n} practice(s) with a reminder channel."),
        Err(e) => {
            report(&e);
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

pub fn medicare_info(ctx: &Ctx) -> ExitCode {
    let m = &ctx.medicare;
    for y in m.years() {
        let cf = m.conversion_factor(y).map(|c| format!("{c} ({})", c.label)).unwrap_or_default();
        println!("{y}: conversion factor {cf}");
    }
    println!(
        "{} localities, {} codes: {}",
        m.localities().len(),
        m.codes().len(),
        m.codes().iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(" ")
    );
    println!("Default year: {} (the latest with final figures).", m.latest_year());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::parse_conversion_factor;

    #[test]
    fn conversion_factor_is_exact() {
        assert_eq!(parse_conversion_factor("33.4009"), Some(334_009));
        assert_eq!(parse_conversion_factor("$33.4"), Some(334_000));
        assert_eq!(parse_conversion_factor("33.40091"), None);
        assert_eq!(parse_conversion_factor("abc"), None);
    }
}
