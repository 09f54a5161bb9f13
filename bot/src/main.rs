//! raterise: the chat bot for therapy practices negotiating payer rates.

mod console;

use clap::{Parser, Subcommand};
use raterise_commands::clock;
use raterise_commands::store::Store;
use raterise_commands::Ctx;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "raterise", version, about = "Payer rates, Medicare benchmarks and negotiation follow-ups for therapy practices")]
struct Cli {
    /// SQLite database file.
    #[arg(long, global = true, env = "RATERISE_DB", default_value = "raterise.db")]
    db: PathBuf,
    /// Practice to act for in the console.
    #[arg(long, global = true, env = "RATERISE_PRACTICE", default_value = "default")]
    practice: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build a demo practice in the database and show the main answers.
    Demo {
        /// Practice name for the demo.
        #[arg(long, default_value = "demo")]
        name: String,
    },
    /// Run one command line, e.g. raterise ask "/rates cigna".
    Ask {
        /// Print the typed result as JSON.
        #[arg(long)]
        json: bool,
        /// The command line, in Discord's notation.
        line: Vec<String>,
    },
    /// An interactive prompt that takes the same command lines.
    Chat,
    /// Medicare fee-schedule data.
    Medicare {
        #[command(subcommand)]
        command: MedicareCommand,
    },
}

#[derive(Subcommand, Debug)]
enum MedicareCommand {
    /// Load a newer final CMS release (RVU and GPCI CSVs in the shipped layouts) without a rebuild.
    Import {
        /// Fee-schedule year of the release.
        #[arg(long)]
        year: u16,
        /// RVU CSV: hcpcs,description,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu[,status].
        #[arg(long)]
        rvu: PathBuf,
        /// GPCI CSV: mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci.
        #[arg(long)]
        gpci: PathBuf,
        /// Conversion factor in dollars, four decimals, e.g. 33.4009.
        #[arg(long)]
        conversion_factor: String,
    },
    /// The years, conversion factors and localities available.
    Info,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

async fn context(db: &std::path::Path) -> Result<Ctx, String> {
    let clock = clock::from_env()?;
    let store = Store::open(db).await.map_err(|e| {
        tracing::error!(error = %e, "opening the database");
        format!("Could not open the database at {}: {}", db.display(), e.user_message())
    })?;
    Ctx::new(store, clock).await.map_err(|e| {
        tracing::error!(error = %e, "loading context");
        e.user_message()
    })
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let ctx = context(&cli.db).await?;
    let code = match cli.command {
        Command::Demo { name } => console::demo(&ctx, &name).await,
        Command::Ask { json, line } => console::ask(&ctx, &cli.practice, &line.join(" "), json).await,
        Command::Chat => console::chat(&ctx, &cli.practice).await,
        Command::Medicare { command: MedicareCommand::Import { year, rvu, gpci, conversion_factor } } => {
            console::medicare_import(&ctx, year, &rvu, &gpci, &conversion_factor).await
        }
        Command::Medicare { command: MedicareCommand::Info } => console::medicare_info(&ctx),
    };
    ctx.store.close().await;
    Ok(code)
}
