//! One file per command family. Each handler takes the context and an invocation and returns a
//! typed result; `Outcome` gathers them so adapters can render any of them.

pub mod alternatives;
pub mod denials;
pub mod draft;
pub mod followups;
pub mod help;
pub mod impact;
pub mod import;
pub mod market;
pub mod negotiate;
pub mod payer;
pub mod practice;
pub mod rate;
pub mod rates;
pub mod report;
pub mod setup;
pub mod strategy;
pub mod timing;
pub mod underpayments;
pub mod walkaway;

use crate::catalog;
use crate::context::Ctx;
use crate::error::AppError;
use crate::invocation::{Invocation, Platform};
use crate::medicare::CodeInfo;
use crate::reply::Reply;
use crate::store::{Audit, Payer, Practice};
use serde::Serialize;

/// Every typed result a command can produce.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Setup(setup::SetupResult),
    Payer(payer::PayerChanged),
    PayerList(payer::PayerList),
    RateSet(rate::RateSet),
    RateHistory(rate::RateHistory),
    /// Shared with the report cache: a repeated question copies nothing.
    Rates(std::sync::Arc<rates::RatesReport>),
    Ranking(rates::RankingReport),
    Impact(impact::ImpactReport),
    Help(help::HelpPage),
    NegotiationStarted(negotiate::NegotiationStarted),
    NegotiationLogged(negotiate::EventLogged),
    NegotiationOutcome(negotiate::OutcomeRecorded),
    NegotiationList(negotiate::CaseList),
    NegotiationDetail(negotiate::CaseDetail),
    Draft(draft::DraftLetter),
    CaseFileChanged(practice::CaseFileChanged),
    CaseFile(practice::CaseFileView),
    FollowupList(followups::FollowupList),
    FollowupChanged(followups::FollowupChanged),
    Walkaway(walkaway::WalkawayScorecard),
    Strategy(strategy::StrategyReport),
    Alternatives(alternatives::AlternativesReport),
    Timing(timing::TimingReport),
    Market(market::MarketReport),
    Report(report::UtilizationReport),
    ClaimsImported(crate::claims::ImportSummary),
    EraImported(crate::era::import::EraImportSummary),
    Underpayments(underpayments::UnderpaymentReport),
    Denials(denials::DenialReport),
    UnderpaymentLetter(underpayments::UnderpaymentLetter),
}

/// Names an outcome whose reply follows from the key alone (the key carries the practice's
/// revision and the day), so an adapter may keep what it rendered and send it again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReplyKey {
    Rates(crate::context::RatesKey),
}

impl Outcome {
    pub fn reply_key(&self) -> Option<ReplyKey> {
        match self {
            Outcome::Rates(r) => r.cache_key.clone().map(ReplyKey::Rates),
            _ => None,
        }
    }

    pub fn reply(&self) -> Reply {
        match self {
            Outcome::Setup(r) => r.reply(),
            Outcome::Payer(r) => r.reply(),
            Outcome::PayerList(r) => r.reply(),
            Outcome::RateSet(r) => r.reply(),
            Outcome::RateHistory(r) => r.reply(),
            Outcome::Rates(r) => r.reply(),
            Outcome::Ranking(r) => r.reply(),
            Outcome::Impact(r) => r.reply(),
            Outcome::Help(r) => r.reply(),
            Outcome::NegotiationStarted(r) => r.reply(),
            Outcome::NegotiationLogged(r) => r.reply(),
            Outcome::NegotiationOutcome(r) => r.reply(),
            Outcome::NegotiationList(r) => r.reply(),
            Outcome::NegotiationDetail(r) => r.reply(),
            Outcome::Draft(r) => r.reply(),
            Outcome::CaseFileChanged(r) => r.reply(),
            Outcome::CaseFile(r) => r.reply(),
            Outcome::FollowupList(r) => r.reply(),
            Outcome::FollowupChanged(r) => r.reply(),
            Outcome::Walkaway(r) => r.reply(),
            Outcome::Strategy(r) => r.reply(),
            Outcome::Alternatives(r) => r.reply(),
            Outcome::Timing(r) => r.reply(),
            Outcome::Market(r) => r.reply(),
            Outcome::Report(r) => r.reply(),
            Outcome::ClaimsImported(r) => r.reply(),
            Outcome::EraImported(r) => r.reply(),
            Outcome::Underpayments(r) => r.reply(),
            Outcome::Denials(r) => r.reply(),
            Outcome::UnderpaymentLetter(r) => r.reply(),
        }
    }
}

/// Runs one command. Permission checks happen here, once, from the catalogue.
pub async fn dispatch(ctx: &Ctx, inv: &Invocation) -> Result<Outcome, AppError> {
    let spec = catalog::command(&inv.command)
        .ok_or_else(|| AppError::user(format!("There is no /{} command; /help lists them all", inv.command)))?;
    let sub = match (&inv.subcommand, spec.subcommands.is_empty()) {
        (Some(s), false) => Some(spec.subcommand(s).ok_or_else(|| {
            AppError::user(format!(
                "/{} has no `{s}`; use one of: {}",
                spec.name,
                spec.subcommands.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            ))
        })?),
        (None, false) => {
            return Err(AppError::user(format!(
                "/{} needs one of: {}",
                spec.name,
                spec.subcommands.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
            )))
        }
        _ => None,
    };
    crate::domain::names::check_lengths(&inv.options).map_err(AppError::User)?;
    let mutates = sub.map(|s| s.mutates).unwrap_or(spec.mutates);
    let outcome = match (spec.name, sub.map(|s| s.name)) {
        ("help", _) => help::run(inv),
        ("setup", _) => setup::run(ctx, inv).await,
        (name, sub) => {
            let practice = practice_for(ctx, inv).await?;
            if mutates {
                check_manage(inv, &practice)?;
            }
            match (name, sub) {
                ("payer", Some("add")) => payer::add(ctx, inv, &practice).await,
                ("payer", Some("edit")) => payer::edit(ctx, inv, &practice).await,
                ("payer", Some("list")) => payer::list(ctx, &practice).await,
                ("payer", Some("remove")) => payer::remove(ctx, inv, &practice).await,
                ("rate", Some("set")) => rate::set(ctx, inv, &practice).await,
                ("rate", Some("history")) => rate::history(ctx, inv, &practice).await,
                ("rates", _) => rates::run(ctx, inv, &practice).await,
                ("impact", _) => impact::run(ctx, inv, &practice).await,
                ("negotiate", Some("start")) => negotiate::start(ctx, inv, &practice).await,
                ("negotiate", Some("log")) => negotiate::log(ctx, inv, &practice).await,
                ("negotiate", Some("outcome")) => negotiate::outcome(ctx, inv, &practice).await,
                ("negotiate", Some("status")) => negotiate::status(ctx, inv, &practice).await,
                // Built from remittances, not from the negotiation: its own handler.
                ("draft", _)
                    if inv.opt("kind").and_then(|k| k.parse().ok()) == Some(crate::drafts::DraftKind::Underpayment) =>
                {
                    underpayments::draft(ctx, inv, &practice).await
                }
                ("draft", _) => draft::run(ctx, inv, &practice).await,
                ("practice", Some("utilization")) => practice::utilization(ctx, inv, &practice).await,
                ("practice", Some("outcome")) => practice::outcome(ctx, inv, &practice).await,
                ("practice", Some("credential")) => practice::credential(ctx, inv, &practice).await,
                ("practice", Some("remove")) => practice::remove(ctx, inv, &practice).await,
                ("practice", Some("show")) => practice::show(ctx, inv, &practice).await,
                ("followups", Some("list")) => followups::list(ctx, &practice).await,
                ("followups", Some("snooze")) => followups::snooze(ctx, inv, &practice).await,
                ("followups", Some("done")) => followups::done(ctx, inv, &practice).await,
                ("followups", Some("cancel")) => followups::cancel(ctx, inv, &practice).await,
                ("walkaway", _) => walkaway::run(ctx, inv, &practice).await,
                ("strategy", _) => strategy::run(ctx, inv, &practice).await,
                ("alternatives", _) => alternatives::run(ctx, inv, &practice).await,
                ("timing", _) => timing::run(ctx, inv, &practice).await,
                ("market", _) => market::run(ctx, inv, &practice).await,
                ("report", _) => report::run(ctx, inv, &practice).await,
                ("import", Some("claims")) => import::chat_claims(ctx, inv, &practice).await,
                ("import", Some("era")) => import::chat_era(ctx, inv, &practice).await,
                ("underpayments", _) => underpayments::run(ctx, inv, &practice).await,
                ("denials", _) => denials::run(ctx, inv, &practice).await,
                (name, sub) => Err(AppError::internal(
                    "dispatching",
                    std::io::Error::other(format!("catalogue entry /{name} {sub:?} has no handler")),
                )),
            }
        }
    };
    if mutates {
        // Failures too: refusing a change commits nothing, and a needless re-read is cheap.
        ctx.store.note_change();
    }
    if mutates && outcome.is_ok() {
        replan_after_change(ctx, inv).await;
    }
    outcome
}

/// A change went through: re-plan the practice's reminders from its data (the next follow-up
/// after a logged event, a renewal window after a new date, nothing more for a closed case). The
/// change itself is already committed, so a failure here is logged, not shown.
async fn replan_after_change(ctx: &Ctx, inv: &Invocation) {
    let Some(tenant) = &inv.tenant else { return };
    let practice = match ctx.store.find_practice(tenant).await {
        Ok(Some(p)) => p,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "re-planning reminders: reading the practice");
            return;
        }
    };
    let actor = format!("{}:{}", inv.actor.name, inv.actor.id);
    if let Err(e) = crate::reminders::plan::replan(ctx, &practice, &actor).await {
        tracing::warn!(error = %e, practice = practice.id, "re-planning reminders");
    }
}

/// The practice of the invocation's tenant. Console practices are created on first use; a chat
/// server must run /setup first.
pub async fn practice_for(ctx: &Ctx, inv: &Invocation) -> Result<Practice, AppError> {
    let tenant = inv.tenant()?;
    if tenant.platform == Platform::Console {
        return ctx.store.ensure_practice(tenant, &tenant.external_id, ctx.clock.now()).await;
    }
    let practice = ctx.store.find_practice(tenant).await?.ok_or_else(|| {
        AppError::NotSetUp(
            "This server has no practice set up yet. Someone with Manage Server runs /setup locality:\"YOUR LOCALITY, ST\" credential:lcsw to start."
                .into(),
        )
    })?;
    Ok(name_after_tenant(ctx, inv, practice).await)
}

/// The platform's name for the tenant (`inv.tenant_name`), as a practice name, when usable.
pub(crate) fn tenant_name(inv: &Invocation) -> Option<String> {
    let raw = inv.tenant_name.as_deref()?;
    crate::domain::names::name("The server's name", raw, 100).ok()
}

/// A practice still named by its platform id (nobody ran `/setup name:`) takes the name of its
/// server or workspace when the adapter looked it up, so letters and titles never show an id.
/// A failure is logged and the practice keeps its id name: this must never stop a command.
pub(crate) async fn name_after_tenant(ctx: &Ctx, inv: &Invocation, practice: Practice) -> Practice {
    if practice.name != practice.external_id {
        return practice;
    }
    let Some(name) = tenant_name(inv) else { return practice };
    match ctx.store.name_practice_after_tenant(practice.id, &name, &audit(ctx, inv, &practice)).await {
        Ok(Some(named)) => named,
        Ok(None) => practice,
        Err(e) => {
            tracing::warn!(error = %e, practice = practice.id, "naming the practice after its server");
            practice
        }
    }
}

pub fn check_manage(inv: &Invocation, practice: &Practice) -> Result<(), AppError> {
    if inv.actor.can_manage {
        return Ok(());
    }
    if let Some(role) = &practice.manager_role {
        if inv.actor.roles.iter().any(|r| r == role) {
            return Ok(());
        }
    }
    Err(AppError::Forbidden(match &practice.manager_role {
        Some(_) => "Only members with Manage Server or the practice's manager role can change data; ask one of them, or read with /rates and /payer list.".into(),
        None => "Only members with Manage Server can change data here (an admin can name a role with /setup manager_role:); reading with /rates and /payer list is open to everyone.".into(),
    }))
}

pub fn audit(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Audit {
    Audit { practice_id: practice.id, actor: format!("{}:{}", inv.actor.name, inv.actor.id), at: ctx.clock.now() }
}

/// Finds a payer of this practice by name or a short form of it ("UHC", "BCBS", "Optum": the
/// aliases of `payer_match`), or says which names match or are close.
pub async fn resolve_payer(ctx: &Ctx, practice: &Practice, name: &str) -> Result<Payer, AppError> {
    // Names are stored canonical (NFKC): `Ｃｉｇｎａ` finds Cigna.
    let name = &crate::domain::names::canonical(name);
    if let Some(p) = ctx.store.find_payer(practice.id, name).await? {
        return Ok(p);
    }
    let names = ctx.store.payer_names(practice.id).await?;
    if names.is_empty() {
        let q = crate::command_line::quote(name);
        return Err(AppError::user(format!(
            "There is no payer named `{name}`, and no payers yet: add one with /payer add name:{q} kind:commercial"
        )));
    }
    if let Some(found) = crate::payer_match::unique_payer_match(name, &names) {
        if let Some(p) = ctx.store.find_payer(practice.id, found).await? {
            return Ok(p);
        }
    }
    let matching = crate::payer_match::matching_payer_names(name, &names);
    if matching.len() > 1 && matching[0].0 <= 1 {
        let list: Vec<String> = matching.into_iter().take(5).map(|(_, n)| n).collect();
        return Err(AppError::user(format!(
            "`{name}` could be any of: {}. Name one (/payer list shows them all)",
            list.join(", ")
        )));
    }
    let near = crate::payer_match::rank_payer_names(name, &names, 3);
    Err(AppError::user(format!(
        "There is no payer named `{name}`. Closest: {}. /payer list shows them all",
        near.join(", ")
    )))
}

/// A code we ship Medicare figures for, or the list of valid ones.
pub fn resolve_cpt<'a>(ctx: &'a Ctx, code: &str) -> Result<&'a CodeInfo, AppError> {
    let code = code.trim().to_ascii_uppercase();
    ctx.medicare.code(&code).ok_or_else(|| {
        let valid: Vec<&str> = ctx.medicare.codes().into_iter().map(|c| c.code.as_str()).collect();
        AppError::user(format!("`{code}` is not a code raterise knows; use one of: {}", valid.join(", ")))
    })
}

pub fn practice_today(ctx: &Ctx, practice: &Practice) -> chrono::NaiveDate {
    ctx.today_in(&practice.time_zone)
}
