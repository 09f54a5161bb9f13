//! raterise: the chat bot for therapy practices negotiating payer rates.

mod console;

use clap::{Parser, Subcommand};
use raterise::config::{Config, DEFAULT_BIND};
use raterise::discord::endpoint::Endpoint;
use raterise::discord::gateway::{self, GatewaySettings};
use raterise::discord::poster::Poster;
use raterise::discord::rest::Rest;
use raterise::discord::{register, Discord};
use raterise::{scheduler, server};
use raterise_commands::clock;
use raterise_commands::store::Store;
use raterise_commands::{Ctx, Platform, Tenant};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "raterise",
    version,
    about = "Payer rates, Medicare benchmarks and negotiation follow-ups for therapy practices"
)]
struct Cli {
    /// SQLite database file.
    #[arg(long, global = true, env = "RATERISE_DB", default_value = "raterise.db")]
    db: PathBuf,
    /// Practice to act for in the console.
    #[arg(long, global = true, env = "RATERISE_PRACTICE", default_value = "default")]
    practice: String,
    /// Settings file (KEY = "value" lines); the environment overrides it.
    #[arg(long, global = true, env = "RATERISE_CONFIG")]
    config: Option<PathBuf>,
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
    /// Import data exported from other systems.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Medicare fee-schedule data.
    Medicare {
        #[command(subcommand)]
        command: MedicareCommand,
    },
    /// Market rates from payers' Transparency-in-Coverage files.
    Market {
        #[command(subcommand)]
        command: MarketCommand,
    },
    /// Run the bot: the Discord gateway (DISCORD_TOKEN) and/or the HTTP interactions endpoint
    /// (DISCORD_PUBLIC_KEY), the Slack endpoints (SLACK_SIGNING_SECRET), reminders for each
    /// platform with a bot token, and /healthz.
    Serve {
        /// Address to listen on [default: RATERISE_BIND or 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<String>,
    },
    /// Push the command list to Discord once (needs DISCORD_TOKEN).
    RegisterCommands {
        /// Register in this guild only (instant updates) [default: DISCORD_GUILD_ID].
        #[arg(long)]
        guild: Option<u64>,
        /// Register globally even when DISCORD_GUILD_ID is set.
        #[arg(long, conflicts_with = "guild")]
        global: bool,
    },
    /// Developer tools.
    #[command(hide = true)]
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DevCommand {
    /// Build a large generated practice (for load tests) for a Discord guild.
    GenerateLarge {
        /// Number of payers.
        #[arg(long, default_value_t = 40)]
        payers: usize,
        /// Discord guild id that owns the practice.
        #[arg(long)]
        guild: u64,
    },
    /// Build many Discord practices with a reminder channel and payers whose renewal reminders
    /// lie ahead (two per payer), plus practices whose follow-up is due today (for load tests).
    GenerateReminders {
        /// Practices with pending (not yet due) reminders.
        #[arg(long, default_value_t = 5000)]
        practices: usize,
        /// Payers per practice; each plans two reminders.
        #[arg(long, default_value_t = 10)]
        payers: usize,
        /// Practices whose follow-up is due today.
        #[arg(long, default_value_t = 0)]
        due: usize,
        /// Guild id of the first generated practice.
        #[arg(long, default_value_t = 700_000_000_000_000_000)]
        first_guild: u64,
    },
}

#[derive(Subcommand, Debug)]
enum MarketCommand {
    /// Import a payer's in-network rates file (JSON or gzip; a path, or an https URL on a host in
    /// RATERISE_MARKET_HOSTS) into per-market percentiles.
    Import {
        /// File path or URL.
        source: String,
        /// The payer whose file it is, as /market and /rates name it.
        #[arg(long)]
        payer: String,
        /// Keep only this state's clinicians (two letters).
        #[arg(long)]
        state: Option<String>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Load the behavioral clinicians from the monthly NPPES file (npidata_pfile_*.csv, unzipped).
    Nppes {
        /// File path or URL.
        source: String,
        #[arg(long)]
        json: bool,
    },
    /// Rank the in-network files of a table-of-contents file by how likely they hold behavioral
    /// rates for a state.
    Toc {
        /// File path or URL.
        source: String,
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Claims from an EHR export (CSV with a header row); see the README for the columns.
    Claims {
        /// The CSV file.
        file: PathBuf,
        /// Name a column for a field the aliases miss, e.g. --map "Svc Dt=date_of_service".
        #[arg(long = "map", value_name = "COLUMN=FIELD")]
        map: Vec<String>,
        /// Print the summary as JSON (no progress bar).
        #[arg(long)]
        json: bool,
    },
    /// Electronic remittance advice (X12 835): files, folders of them, or zip archives.
    Era {
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// 835 files, folders of 835 files, or .zip archives of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
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
        .with_env_filter(quiet_transport(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,raterise=info")),
        ))
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

/// Interaction tokens travel in REST URLs, which serenity's and the HTTP stack's own debug
/// output would show; keep those crates at warnings whatever RUST_LOG asks for.
fn quiet_transport(filter: tracing_subscriber::EnvFilter) -> tracing_subscriber::EnvFilter {
    ["serenity=warn", "reqwest=warn", "hyper=warn", "hyper_util=warn", "tungstenite=warn", "tokio_tungstenite=warn"]
        .into_iter()
        .fold(filter, |f, d| match d.parse() {
            Ok(directive) => f.add_directive(directive),
            Err(_) => f,
        })
}

/// Console commands end quietly when their reader goes away (`raterise ask ... | head`), as a
/// command-line tool should. Not for `serve`: there a closed socket must be an error, not a signal.
fn exit_quietly_on_closed_stdout() {
    // SAFETY: restoring the default disposition of one signal before any output is written.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    if !matches!(cli.command, Command::Serve { .. }) {
        exit_quietly_on_closed_stdout();
    }
    let config = Config::load(cli.config.as_deref()).map_err(|e| format!("Configuration: {e}"))?;
    let mut ctx = context(&cli.db).await?;
    if matches!(cli.command, Command::Serve { .. }) {
        // Chat asks the same practices again and again; a one-shot command reads its practice once.
        let window = raterise_commands::store::practice_cache::OTHER_WRITERS_WINDOW;
        ctx.store = ctx.store.clone().cache_practices(&cli.db, window).await.map_err(|e| {
            tracing::error!(error = %e, "opening the practice cache's connection");
            format!("Could not open the database at {}: {}", cli.db.display(), e.user_message())
        })?;
    }
    if let Some(dir) = &config.templates_dir {
        // A deployment's own letters replace the built-in ones by name.
        ctx = ctx
            .with_templates_dir(dir)
            .map_err(|e| format!("templates_dir {}: {}", dir.display(), e.user_message()))?;
    }
    let code = match cli.command {
        Command::Demo { name } => console::demo(&ctx, &name).await,
        Command::Ask { json, line } => console::ask(&ctx, &cli.practice, &line.join(" "), json).await,
        Command::Chat => console::chat(&ctx, &cli.practice).await,
        Command::Import { command: ImportCommand::Claims { file, map, json } } => {
            console::import_claims(&ctx, &cli.practice, &file, &map, json).await
        }
        Command::Medicare { command: MedicareCommand::Import { year, rvu, gpci, conversion_factor } } => {
            console::medicare_import(&ctx, year, &rvu, &gpci, &conversion_factor).await
        }
        Command::Medicare { command: MedicareCommand::Info } => console::medicare_info(&ctx),
        Command::Market { command: MarketCommand::Import { source, payer, state, json } } => {
            raterise::market::import(&ctx, &source, &payer, state.as_deref(), json).await
        }
        Command::Market { command: MarketCommand::Nppes { source, json } } => {
            raterise::market::nppes(&ctx, &source, json).await
        }
        Command::Market { command: MarketCommand::Toc { source, state, json } } => {
            raterise::market::toc(&ctx, &source, state.as_deref(), json).await
        }
        Command::Import { command: ImportCommand::Era { json, paths } } => {
            console::import_era(&ctx, &cli.practice, &paths, json).await
        }
        Command::Serve { bind } => serve(&ctx, &config, bind).await,
        Command::RegisterCommands { guild, global } => register_commands(&config, guild, global).await,
        Command::Dev { command: DevCommand::GenerateLarge { payers, guild } } => {
            generate_large(&ctx, payers, guild).await
        }
        Command::Dev { command: DevCommand::GenerateReminders { practices, payers, due, first_guild } } => {
            generate_reminders(&ctx, practices, payers, due, first_guild).await
        }
    };
    ctx.store.close().await;
    Ok(code)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(2)
}

/// How long a command may run before its interaction is deferred. RATERISE_DISCORD_DEFER_MS
/// changes it (tests set 0 to exercise the follow-up path).
fn defer_after() -> Duration {
    std::env::var("RATERISE_DISCORD_DEFER_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(raterise::discord::DEFAULT_DEFER_AFTER)
}

async fn serve(ctx: &Ctx, config: &Config, bind: Option<String>) -> ExitCode {
    if config.discord_public_key.is_none() && config.discord_token.is_none() && config.slack_signing_secret.is_none() {
        return fail(
            "Nothing to serve: set DISCORD_PUBLIC_KEY for the HTTP interactions endpoint and/or DISCORD_TOKEN for the \
             gateway (README: Run it in your Discord server), or SLACK_SIGNING_SECRET for Slack (README: Run it in \
             your Slack workspace).",
        );
    }
    // Files attached to chat commands (/import claims) come only from the platforms' own hosts.
    let mut ctx = ctx.clone();
    ctx.files = Some(Arc::new(raterise::fetch::Fetcher::new(config.slack_bot_token.clone())));
    let ctx = &ctx;
    let slack = slack_adapter(ctx, config);
    let rest =
        Rest::new(config.discord_token.as_deref(), config.discord_application_id, config.discord_api_url.as_deref());
    let discord = Arc::new(Discord::new(ctx.clone(), rest).with_defer_after(defer_after()));
    let endpoint = match config.public_key_bytes() {
        Some(key) => match Endpoint::new(discord.clone(), key) {
            Ok(ep) => Some(Arc::new(ep)),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let schedule = match scheduler::SchedulerSettings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let limits = match server::Limits::from_env() {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let bind = bind.or_else(|| config.bind.clone()).unwrap_or_else(|| DEFAULT_BIND.to_string());
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(l) => l,
        Err(e) => return fail(format!("Could not listen on {bind}: {e}")),
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or(bind);
    println!("raterise listening on http://{addr}");
    tracing::info!(
        address = %addr,
        endpoint = endpoint.is_some(),
        gateway = config.discord_token.is_some(),
        public_key = config.discord_public_key.as_deref().unwrap_or("-"),
        api_url = config.discord_api_url.as_deref().unwrap_or("https://discord.com"),
        "serving"
    );
    let stop = server::watch_signals();
    let gateway = config.discord_token.clone().map(|token| {
        let settings = GatewaySettings {
            token,
            application_id: config.discord_application_id,
            guild: config.discord_guild_id,
            api_url: config.discord_api_url.clone(),
        };
        tokio::spawn(gateway::run(discord.clone(), settings, stop.clone()))
    });
    // Reminders go into channels with a bot token; each platform with one gets its own loop. The
    // claim filters by the practice's platform, so the two loops never take the same reminder.
    let mut reminders = Vec::new();
    let mut posting = Vec::new();
    if discord.rest().has_token() {
        let delivery = Arc::new(scheduler::DiscordDelivery::new(Poster::new(discord.rest().clone())));
        reminders.push(tokio::spawn(scheduler::run(ctx.clone(), delivery, schedule.clone(), stop.clone())));
        posting.push("discord");
    }
    if config.slack_bot_token.is_some() {
        let api =
            raterise::slack::api::SlackApi::new(config.slack_bot_token.as_deref(), config.slack_api_url.as_deref());
        let delivery = Arc::new(raterise::slack::SlackDelivery::new(api));
        reminders.push(tokio::spawn(scheduler::run(ctx.clone(), delivery, schedule.clone(), stop.clone())));
        posting.push("slack");
    }
    if posting.is_empty() {
        tracing::info!(
            "reminders are not posted: set DISCORD_TOKEN and/or SLACK_BOT_TOKEN so the bot can post into reminder channels"
        );
    } else {
        tracing::info!(platforms = %posting.join(","), "reminders are posted for these platforms' practices");
    }
    let served =
        server::serve_with(listener, server::with_slack(server::router(endpoint), slack.clone()), limits, stop).await;
    let mut code = ExitCode::SUCCESS;
    if let Err(e) = served {
        tracing::error!(error = %e, "the HTTP server failed");
        code = ExitCode::from(2);
    }
    if let Some(mut task) = gateway {
        // serenity keeps retrying a gateway it cannot reach and then ignores the shutdown; do not
        // let that hold the process after a stop signal.
        match tokio::time::timeout(Duration::from_secs(5), &mut task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                tracing::error!(error = %e, "gateway stopped");
                code = ExitCode::from(2);
            }
            Ok(Err(e)) => tracing::error!(error = %e, "gateway task failed"),
            Err(_) => {
                tracing::warn!("the gateway did not stop within 5 seconds (still reconnecting); leaving it");
                task.abort();
            }
        }
    }
    // The loops saw the same stop signal and wind down together; one 25-second budget for all.
    let unfinished = tokio::time::timeout(Duration::from_secs(25), futures_util::future::join_all(reminders)).await;
    if unfinished.is_err() {
        tracing::warn!("stopped with a reminder tick unfinished; its claims expire and are taken again");
    }
    if !discord.inflight().drained(Duration::from_secs(25)).await {
        tracing::warn!(left = discord.inflight().count(), "stopped with follow-ups unfinished");
    }
    if let Some(slack) = &slack {
        if !slack.background().drained(Duration::from_secs(25)).await {
            tracing::warn!(left = slack.background().count(), "stopped with Slack answers unfinished");
        }
    }
    tracing::info!("stopped");
    code
}

/// The Slack endpoints when SLACK_SIGNING_SECRET is set. RATERISE_SLACK_ACK_MS changes how long a
/// command may run before it is answered through response_url (tests set 0).
fn slack_adapter(ctx: &Ctx, config: &Config) -> Option<Arc<raterise::slack::Slack>> {
    let secret = config.slack_signing_secret.clone()?;
    let settings = raterise::slack::SlackSettings {
        signing_secret: secret,
        bot_token: config.slack_bot_token.clone(),
        api_url: config.slack_api_url.clone(),
        admins: raterise::slack::convert::Admins::parse(config.slack_admin_users.as_deref().unwrap_or("")),
    };
    let ack_after = std::env::var("RATERISE_SLACK_ACK_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(raterise::slack::DEFAULT_ACK_AFTER);
    tracing::info!(
        admins = settings.admins.len(),
        uploads = settings.bot_token.is_some(),
        api_url = settings.api_url.as_deref().unwrap_or(raterise::slack::api::DEFAULT_API_URL),
        "Slack endpoints on /slack/commands and /slack/interactivity"
    );
    Some(Arc::new(raterise::slack::Slack::new(ctx.clone(), settings).with_ack_after(ack_after)))
}

async fn register_commands(config: &Config, guild: Option<u64>, global: bool) -> ExitCode {
    let Some(token) = config.discord_token.as_deref() else {
        return fail("register-commands needs DISCORD_TOKEN (the bot token from the Developer Portal's Bot page).");
    };
    let rest = Rest::new(Some(token), config.discord_application_id, config.discord_api_url.as_deref());
    let http = rest.http();
    if http.application_id().is_none() {
        match http.get_current_application_info().await {
            Ok(info) => http.set_application_id(info.id),
            Err(e) => return fail(format!("Could not look up the application id (set DISCORD_APPLICATION_ID): {e}")),
        }
    }
    let guild = if global { None } else { guild.or(config.discord_guild_id) };
    match register::register(http, guild.map(serenity::model::id::GuildId::new)).await {
        Ok(n) => {
            match guild {
                Some(g) => println!("Registered {n} commands in guild {g}; they are usable right away."),
                None => println!("Registered {n} commands globally."),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("Discord refused the command list: {e}")),
    }
}

async fn generate_large(ctx: &Ctx, payers: usize, guild: u64) -> ExitCode {
    let tenant = Tenant { platform: Platform::Discord, external_id: guild.to_string() };
    let spec = raterise_commands::generate::LargeSpec { payers, ..Default::default() };
    match raterise_commands::generate::large_practice(ctx, &tenant, spec).await {
        Ok(p) => {
            println!("Generated practice `{}` for guild {guild}: {payers} payers.", p.name);
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.user_message()),
    }
}

async fn generate_reminders(ctx: &Ctx, practices: usize, payers: usize, due: usize, first_guild: u64) -> ExitCode {
    use raterise_commands::reminders::load;
    let made = async {
        load::pending_load(ctx, first_guild, practices, payers).await?;
        load::due_follow_ups(ctx, first_guild + practices as u64, due).await
    };
    match made.await {
        Ok(_) => match ctx.store.reminder_counts().await {
            Ok(counts) => {
                let mut counts: Vec<_> = counts.into_iter().collect();
                counts.sort();
                let list: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
                println!("Generated {practices} practices with {payers} payers each and {due} with a follow-up due: reminders {}.", list.join(", "));
                ExitCode::SUCCESS
            }
            Err(e) => fail(e.user_message()),
        },
        Err(e) => fail(e.user_message()),
    }
}
