//! Generated reminder load for benchmarks and load tests, built through the commands a practice
//! would run (so the planner itself writes every reminder): many Discord practices with a
//! reminder channel and payers whose renewal windows lie ahead (nothing due), and practices whose
//! follow-ups fall due today.

use crate::command_line;
use crate::context::Ctx;
use crate::error::AppError;
use crate::handlers::dispatch;
use crate::invocation::{Actor, Invocation, Platform, Tenant};
use chrono::{Datelike, Duration, NaiveDate};

fn tenant(guild: u64) -> Tenant {
    Tenant { platform: Platform::Discord, external_id: guild.to_string() }
}

async fn run(ctx: &Ctx, guild: u64, line: &str) -> Result<(), AppError> {
    let parsed = command_line::parse(line)?;
    let inv = Invocation {
        tenant: Some(tenant(guild)),
        actor: Actor { id: "generator".into(), name: "generator".into(), can_manage: true, roles: vec![] },
        channel_id: None,
        command: parsed.command.name.to_string(),
        subcommand: parsed.subcommand,
        options: parsed.options,
        tenant_name: None,
    };
    dispatch(ctx, &inv).await.map(|_| ())
}

/// `practices` practices (guilds `first_guild`, `first_guild + 1`, ...), each with `payers`
/// commercial payers whose contracts renew between four and thirteen months from today: two
/// pending reminders per payer (the window opening, the last call), none due yet. Returns the
/// number of practices made.
pub async fn pending_load(ctx: &Ctx, first_guild: u64, practices: usize, payers: usize) -> Result<usize, AppError> {
    let today = ctx.today_in("America/New_York");
    for i in 0..practices {
        let guild = first_guild + i as u64;
        // Each server posts to its own channel (here the id of the server's first channel, which
        // Discord gives the server's own id).
        run(ctx, guild, &format!("/setup name:\"Practice {i}\" channel:{guild}")).await?;
        for k in 0..payers {
            // Anniversaries spread over the year after next quarter: the 90-day window opens at
            // least a month from now.
            let months = 4 + ((i + k) % 10) as u32;
            let renewal = add_months(today, months);
            run(ctx, guild, &format!("/payer add name:\"Payer {k}\" kind:commercial renewal:{renewal}")).await?;
        }
    }
    Ok(practices)
}

/// `practices` practices, each with one open case whose written request went out 14 days ago:
/// its follow-up is due today at 09:00 New York time (and its escalation in 16 days).
pub async fn due_follow_ups(ctx: &Ctx, first_guild: u64, practices: usize) -> Result<usize, AppError> {
    let today = ctx.today_in("America/New_York");
    let request = today - Duration::days(14);
    let opened = today - Duration::days(20);
    for i in 0..practices {
        let guild = first_guild + i as u64;
        run(
            ctx,
            guild,
            &format!("/setup name:\"Due practice {i}\" locality:\"MANHATTAN, NY\" credential:lcsw channel:{guild}"),
        )
        .await?;
        run(ctx, guild, "/payer add name:Cigna kind:commercial contact_name:\"Pat Lee\" contact_email:pat@example.com")
            .await?;
        run(ctx, guild, &format!("/rate set payer:Cigna cpt:90837 amount:118.50 effective:{opened}")).await?;
        run(ctx, guild, &format!("/negotiate start payer:Cigna date:{opened}")).await?;
        run(ctx, guild, &format!("/negotiate log payer:Cigna event:written-request date:{request}")).await?;
    }
    Ok(practices)
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    let d = NaiveDate::from_ymd_opt(d.year(), d.month(), d.day().min(28)).expect("day 28 exists");
    d.checked_add_months(chrono::Months::new(months)).expect("date in range")
}
