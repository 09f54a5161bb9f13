//! What the scheduler posts: one message per subject (a case, a payer, a Medicare year) for the
//! reminders of it that fell due together, with the drafted text attached and buttons that run
//! the commands a person would run next.

use super::plan::MedicarePayload;
use super::Kind;
use crate::context::Ctx;
use crate::error::AppError;
use crate::handlers::draft::long_date;
use crate::handlers::negotiate::quoted;
use crate::handlers::{self, Outcome};
use crate::invocation::{Actor, Invocation, Tenant};
use crate::reply::{Reply, Tone};
use crate::schedule::{self, ESCALATE_AFTER_DAYS, FOLLOW_UP_EVERY_DAYS};
use crate::store::negotiations::Case;
use crate::store::reminders::{Claimed, WarningPayload};
use crate::store::{Payer, Practice};
use chrono::NaiveDate;

/// What to do with a group of due reminders.
#[derive(Debug, Clone)]
pub enum Composed {
    Post(Box<Reply>),
    /// The subject moved on after the reminder was planned (the case closed, the payer's renewal
    /// date went away): nothing to post. The reason is kept with the reminder.
    Obsolete(String),
}

/// The order reminders of one subject are presented in: the most pressing first.
fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Escalation => 0,
        Kind::FollowUp => 1,
        Kind::RenewalLastCall => 2,
        Kind::Review => 3,
        Kind::RenewalWindow => 4,
        Kind::StaleRate => 5,
        Kind::Credential => 6,
        Kind::MedicareYear => 7,
        Kind::DeliveryWarning => 8,
    }
}

/// The reminder whose id the buttons carry: the most pressing of the group.
pub fn primary(group: &[Claimed]) -> &Claimed {
    group.iter().min_by_key(|c| (rank(c.kind), c.id)).expect("a group is never empty")
}

fn system_actor() -> Actor {
    Actor { id: "scheduler".into(), name: "raterise".into(), can_manage: false, roles: vec![] }
}

/// Drafts `kind` for the payer with the negotiation engine's own `/draft`, as the attachment of
/// a reminder. A draft that cannot be made is left out with the reason.
async fn draft(ctx: &Ctx, practice: &Practice, payer: &Payer, kind: &str) -> Result<(String, String, String), String> {
    let tenant = Tenant { platform: practice.platform, external_id: practice.external_id.clone() };
    let inv = Invocation::new(tenant, system_actor(), "draft").with("kind", kind).with("payer", &payer.name);
    match handlers::draft::run(ctx, &inv, practice).await {
        Ok(Outcome::Draft(letter)) => {
            let (content_type, content) = letter.attachment_content();
            Ok((letter.attachment, content_type, content))
        }
        Ok(_) => Err("the draft engine answered with something else".into()),
        Err(e) => Err(e.user_message()),
    }
}

fn with_draft(mut r: Reply, drafted: Result<(String, String, String), String>, what: &str) -> Reply {
    match drafted {
        Ok((filename, content_type, content)) => {
            r = r.attach(filename, content_type, content);
            r.text(format!("The {what} is attached, filled in from your numbers; check it before sending."))
        }
        Err(reason) => r.notes("No draft attached", vec![reason]),
    }
}

fn footer(group: &[Claimed]) -> String {
    let ids: Vec<String> = group.iter().map(|c| format!("#{}", c.id)).collect();
    format!("Reminder {} from raterise. /followups list shows every reminder.", ids.join(", "))
}

/// Composes the message for the due reminders of one subject of `practice`.
pub async fn compose(ctx: &Ctx, practice: &Practice, group: &[Claimed]) -> Result<Composed, AppError> {
    let first = primary(group);
    let kinds: Vec<Kind> = {
        let mut k: Vec<Kind> = group.iter().map(|c| c.kind).collect();
        k.sort_by_key(|k| rank(*k));
        k.dedup();
        k
    };
    match first.kind {
        Kind::FollowUp | Kind::Escalation => case_message(ctx, practice, first, group, &kinds).await,
        Kind::RenewalWindow | Kind::RenewalLastCall | Kind::StaleRate | Kind::Review => {
            payer_message(ctx, practice, first, group, &kinds).await
        }
        Kind::Credential => credential_message(ctx, practice, first, group).await,
        Kind::MedicareYear => Ok(medicare_message(first, group)),
        Kind::DeliveryWarning => Ok(warning_message(first, group)),
    }
}

async fn payer_of(ctx: &Ctx, practice: &Practice, payer_id: Option<i64>) -> Result<Option<Payer>, AppError> {
    let Some(id) = payer_id else { return Ok(None) };
    Ok(ctx.store.list_payers(practice.id).await?.into_iter().find(|p| p.id == id))
}

async fn case_message(
    ctx: &Ctx,
    practice: &Practice,
    first: &Claimed,
    group: &[Claimed],
    kinds: &[Kind],
) -> Result<Composed, AppError> {
    let Some(payer) = payer_of(ctx, practice, first.payer_id).await? else {
        return Ok(Composed::Obsolete("the payer was removed".into()));
    };
    let case: Option<Case> = ctx.store.open_case_for(practice.id, payer.id).await?;
    let Some(case) = case.filter(|c| Some(c.id) == first.negotiation_id) else {
        return Ok(Composed::Obsolete(format!("the negotiation with {} is closed", payer.name)));
    };
    let events = ctx.store.case_events(&case).await?;
    let log: Vec<schedule::Dated> = events.iter().map(|e| (e.kind, e.on)).collect();
    let Some(since) = schedule::waiting_since(case.stage, &log) else {
        return Ok(Composed::Obsolete(format!("{} has answered; the next move is yours", payer.name)));
    };
    let today = ctx.today_in(&practice.time_zone);
    let days = schedule::days_between(since, today);
    let follow_ups = schedule::follow_ups_since(case.stage, &log);
    let q = quoted(&payer.name);
    let escalate = kinds.contains(&Kind::Escalation);
    let title = if escalate {
        format!("No answer from {} in {days} days: time to escalate", payer.name)
    } else {
        format!("Follow up with {} today", payer.name)
    };
    let mut r = Reply::new(title).tone(if escalate { Tone::Warning } else { Tone::Info });
    let mut lead = format!(
        "Your written request went to {} on {} ({days} days ago) and they have not answered yet.",
        payer.name,
        long_date(since)
    );
    if escalate {
        lead.push_str(&format!(
            " After {ESCALATE_AFTER_DAYS} days without an answer, ask your contracting contact for their supervisor, or send a written inquiry asking when you will have a decision."
        ));
    } else {
        lead.push_str(&format!(
            " Payers often take 30 to 90 days; a short note every {FOLLOW_UP_EVERY_DAYS} days keeps your request on their desk."
        ));
    }
    r = r.text(lead);
    let mut fields = vec![
        ("Stage".to_string(), case.stage.label().to_string()),
        ("Request sent".to_string(), long_date(since)),
        ("Follow-ups logged".to_string(), follow_ups.len().to_string()),
    ];
    if let Some(c) = &payer.contact_name {
        fields.push(("Contact".to_string(), c.clone()));
    }
    if !escalate {
        if let Some(e) = schedule::escalation_due(case.stage, &log) {
            fields.push(("Escalate on".to_string(), long_date(e)));
        }
    }
    r = r.fields(fields);
    let what = if escalate { "follow-up letter (written as an inquiry)" } else { "follow-up email" };
    r = with_draft(r, draft(ctx, practice, &payer, "followup").await, what);
    r = r.text(format!(
        "Once you have sent it, press {}. If {} gave you their decision, record it with /negotiate outcome payer:{q} (accepted, countered or denied).",
        if escalate { "Escalated" } else { "Logged a follow-up" },
        payer.name
    ));
    if escalate {
        r = r.action("Escalated", format!("/negotiate log payer:{q} event:escalated"));
    }
    r = r
        .action("Logged a follow-up", format!("/negotiate log payer:{q} event:follow-up"))
        .action("They answered", format!("/negotiate log payer:{q} event:acknowledged"))
        .action("Snooze 1 week", format!("/followups snooze id:{} days:7", first.id))
        .action("Stop reminding", format!("/followups cancel id:{}", first.id));
    Ok(Composed::Post(Box::new(r.footer(footer(group)))))
}

async fn payer_message(
    ctx: &Ctx,
    practice: &Practice,
    first: &Claimed,
    group: &[Claimed],
    kinds: &[Kind],
) -> Result<Composed, AppError> {
    let Some(payer) = payer_of(ctx, practice, first.payer_id).await? else {
        return Ok(Composed::Obsolete("the payer was removed".into()));
    };
    let today = ctx.today_in(&practice.time_zone);
    let q = quoted(&payer.name);
    let mut lines = Vec::new();
    let mut title = String::new();
    let renewal = kinds.iter().any(|k| matches!(k, Kind::RenewalWindow | Kind::RenewalLastCall));
    if renewal {
        let Some(renewal_date) = payer.renewal_date else {
            return Ok(Composed::Obsolete(format!("{} has no renewal date any more", payer.name)));
        };
        let (opens, anniversary) = crate::analysis::renewal_window(renewal_date, payer.notice_days, today);
        let left = (anniversary - today).num_days();
        if kinds.contains(&Kind::RenewalLastCall) {
            title = format!("{} renews in {left} days and no negotiation is open", payer.name);
            lines.push(format!(
                "Your contract with {} renews on {}. Contracts often roll over on the same rates when nobody asks; there is still time to send a written request with your ask per code.",
                payer.name,
                long_date(anniversary)
            ));
        } else {
            title = format!("{}'s renewal window is open", payer.name);
            lines.push(format!(
                "The window to renegotiate with {} opened on {} ({} days before the {} anniversary). This is the moment payers expect a request: find the contracting contact, call with your ask, then put it in writing.",
                payer.name,
                long_date(opens),
                payer.notice_days,
                long_date(anniversary)
            ));
        }
    }
    if kinds.contains(&Kind::Review) {
        if title.is_empty() {
            title = format!("Time for the review agreed with {}", payer.name);
        }
        lines.push(format!(
            "When your current rates with {} were agreed, a review was set for {}. Bring what changed since: utilization, outcome measures, new credentials, and where Medicare moved.",
            payer.name,
            long_date(group.iter().filter(|c| c.kind == Kind::Review).map(|c| c.due_on).min().unwrap_or(first.due_on))
        ));
    }
    if kinds.contains(&Kind::StaleRate) {
        let changed =
            ctx.store.payer_code_rates(payer.id, today).await?.iter().filter_map(|c| c.current.map(|r| r.since)).max();
        if title.is_empty() {
            title = format!("{}'s rates have not changed in two years", payer.name);
        }
        lines.push(match changed {
            Some(since) => format!(
                "Your rates with {} have been the same since {}. A rate unchanged for two years or more is due for review, all the more as Medicare and other payers have moved.",
                payer.name,
                long_date(since)
            ),
            None => format!("Your rates with {} have not changed in two years.", payer.name),
        });
    }
    let mut r = Reply::new(title).tone(Tone::Info);
    for l in lines {
        r = r.text(l);
    }
    let (kind, what) =
        if kinds.contains(&Kind::RenewalLastCall) { ("request", "written request") } else { ("call", "call script") };
    r = with_draft(r, draft(ctx, practice, &payer, kind).await, what);
    r = r
        .action("Open a negotiation", format!("/negotiate start payer:{q}"))
        .action("See the rates", format!("/rates payer:{q}"))
        .action("Snooze 1 week", format!("/followups snooze id:{} days:7", first.id))
        .action("Stop reminding", format!("/followups cancel id:{}", first.id));
    Ok(Composed::Post(Box::new(r.footer(footer(group)))))
}

/// A credential or specialty earned on a date: a window to ask every negotiable in-network payer
/// for more (DOMAIN, "When to negotiate", 3).
async fn credential_message(
    ctx: &Ctx,
    practice: &Practice,
    first: &Claimed,
    group: &[Claimed],
) -> Result<Composed, AppError> {
    let file = ctx.store.case_file(practice.id).await?;
    let Some(c) = file.credentials.iter().find(|c| super::credential_subject(&c.name) == first.subject_key) else {
        return Ok(Composed::Obsolete("the credential was removed from the case file".into()));
    };
    let Some(earned) = c.earned_on else {
        return Ok(Composed::Obsolete("the credential has no date any more".into()));
    };
    let (_, until) = super::credential_window(earned);
    let payers: Vec<String> = ctx
        .store
        .list_payers(practice.id)
        .await?
        .into_iter()
        .filter(|p| p.kind.is_negotiable() && p.status == crate::domain::PayerStatus::InNetwork)
        .map(|p| p.name)
        .collect();
    let what = match c.kind {
        crate::store::case_file::CredentialKind::Credential => "credential",
        crate::store::case_file::CredentialKind::Specialty => "specialty",
    };
    let mut r = Reply::new(format!("New {what}: {}: a reason to ask for more", c.name)).tone(Tone::Info);
    r = r.text(format!(
        "{} was earned on {}. A new {what} is one of the good moments to ask a payer for a higher rate, while it is news (until about {}): say what it lets your clinicians treat, and ask per code.",
        c.name,
        long_date(earned),
        long_date(until)
    ));
    if payers.is_empty() {
        r = r.text("None of your payers is an in-network plan you can negotiate with yet; add them with /payer add.");
    } else {
        r = r.notes("Payers to tell", payers.iter().take(10).cloned().collect());
        if let Some(p) = payers.first() {
            r = r.action(format!("Rates of {p}"), format!("/rates payer:{}", quoted(p)));
        }
    }
    r = r.action("Openings", "/timing").action("Stop reminding", format!("/followups cancel id:{}", first.id));
    Ok(Composed::Post(Box::new(r.footer(footer(group)))))
}

/// One message for reminders that were due long before the data behind them was entered (a
/// back-dated case, rates years old, a window already open): a list, so the channel is not
/// flooded with one post each. Each stays in /followups.
pub async fn backlog_message(ctx: &Ctx, practice: &Practice, items: &[Claimed]) -> Result<Reply, AppError> {
    let payers = ctx.store.list_payers(practice.id).await?;
    let mut sorted: Vec<&Claimed> = items.iter().collect();
    sorted.sort_by_key(|c| (c.due_on, rank(c.kind), c.id));
    let lines: Vec<String> = sorted
        .iter()
        .take(25)
        .map(|c| {
            let about = c
                .payer_id
                .and_then(|id| payers.iter().find(|p| p.id == id))
                .map(|p| format!(", {}", p.name))
                .unwrap_or_default();
            format!("#{} {}{about} (due {})", c.id, c.kind.label(), long_date(c.due_on))
        })
        .collect();
    let mut r = Reply::new(format!(
        "{} reminders were already due when their data was entered",
        items.len()
    ))
    .tone(Tone::Info)
    .text("The dates you entered put these reminders in the past, so here they are together rather than one message each. Work through them in /followups list: mark each done, snooze it, or stop it.")
    .notes("Due before they were entered", lines);
    if items.len() > 25 {
        r = r.text(format!("And {} more in /followups list.", items.len() - 25));
    }
    r = r.action("Show reminders", "/followups list").action("Openings", "/timing");
    Ok(r.footer(format!("{} reminders from raterise, posted once. /followups list shows every reminder.", items.len())))
}

fn medicare_message(first: &Claimed, group: &[Claimed]) -> Composed {
    let payload: Option<MedicarePayload> = first.payload.as_deref().and_then(|p| serde_json::from_str(p).ok());
    let Some(p) = payload else {
        return Composed::Obsolete("the reminder has no figures".into());
    };
    let mut r = Reply::new(format!("Medicare {} is out: your lowest payers against it", p.year)).tone(Tone::Info);
    r = r.text(format!(
        "A new Medicare fee schedule is leverage: when the benchmark moves, payers that pay a share of it are behind.{}",
        p.locality.as_ref().map(|l| format!(" Compared for {l}.")).unwrap_or_default()
    ));
    if p.payers.is_empty() {
        r = r.text(match &p.missing {
            Some(m) => m.clone(),
            None => "None of your negotiable payers has rates on file to compare; record them with /rate set.".into(),
        });
    } else {
        let lines: Vec<String> =
            p.payers.iter().map(|x| format!("{}: {:.1}% of Medicare {}", x.payer, x.pct_of_medicare, p.year)).collect();
        r = r.notes("Furthest below the new schedule", lines);
        if let Some(low) = p.payers.first() {
            r = r.action(format!("Rates of {}", low.payer), format!("/rates payer:{}", quoted(&low.payer)));
        }
    }
    r = r.action("Rank all payers", "/rates").action("Stop reminding", format!("/followups cancel id:{}", first.id));
    Composed::Post(Box::new(r.footer(footer(group))))
}

fn warning_message(first: &Claimed, group: &[Claimed]) -> Composed {
    let payload: Option<WarningPayload> = first.payload.as_deref().and_then(|p| serde_json::from_str(p).ok());
    let failed = payload.map(|p| p.failed).unwrap_or_default();
    if failed.is_empty() {
        return Composed::Obsolete("nothing to report".into());
    }
    let lines: Vec<String> = failed
        .iter()
        .take(20)
        .map(|f| {
            format!(
                "#{} {}{} (due {})",
                f.id,
                f.kind.label(),
                f.payer.as_ref().map(|p| format!(", {p}")).unwrap_or_default(),
                date_text(f.due_on)
            )
        })
        .collect();
    let r = Reply::new(format!(
        "{} reminder{} could not be posted here",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" }
    ))
    .tone(Tone::Warning)
    .text("Posting to this channel failed for a while (the channel was missing, the bot lacked access, or the chat service was down). It works again now; these reminders were not shown:")
    .notes("Missed", lines)
    .text("Each is still listed in /followups list: snooze one to have it posted again, or mark it done.")
    .action("Show reminders", "/followups list");
    Composed::Post(Box::new(r.footer(footer(group))))
}

fn date_text(d: NaiveDate) -> String {
    long_date(d)
}
