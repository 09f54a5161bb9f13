//! The console adapter: command lines in, text tables or JSON out.

use raterise_commands::command_line;
use raterise_commands::demo;
use raterise_commands::{dispatch, Actor, AppError, Ctx, Invocation, Outcome, Tenant};
use std::process::ExitCode;

fn actor() -> Actor {
    let name = std::env::var("USER").unwrap_or_else(|_| "console".into());
    // Whoever runs the console owns the database file, so they may change data.
    Actor { id: name.clone(), name, can_manage: true, roles: vec![] }
}

pub fn invocation(practice: &str, line: &str) -> Result<Invocation, AppError> {
    let parsed = command_line::parse(line)?;
    Ok(Invocation {
        tenant: Some(Tenant::console(practice)),
        actor: actor(),
        channel_id: None,
        command: parsed.command.name.to_string(),
        subcommand: parsed.subcommand,
        options: parsed.options,
    })
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

pub async fn ask(ctx: &Ctx, practice: &str, line: &str, json: bool) -> ExitCode {
    match execute(ctx, practice, line).await {
        Ok(outcome) => {
            if json {
                match serde_json::to_string_pretty(&outcome) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        tracing::error!(error = %e, "serializing result");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", outcome.reply().to_text());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            report(&e);
            ExitCode::from(if e.is_internal() { 2 } else { 1 })
        }
    }
}

pub async fn demo(ctx: &Ctx, practice: &str) -> ExitCode {
    match demo::build(ctx, practice).await {
        Ok(shown) => {
            println!("Built the demo practice `{practice}`. Try: raterise --practice {practice} ask \"/rates Aetna\"\n");
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
    let history = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_default()
        .join(".raterise_history");
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
