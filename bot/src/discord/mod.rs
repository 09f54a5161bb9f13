//! Discord: a thin adapter. An interaction (from the gateway or the HTTP endpoint) becomes an
//! `Invocation`, runs through `dispatch`, and its `Reply` is rendered to Discord messages.
//! Handlers never see serenity types; nothing here touches SQL.
//!
//! Timing: a command gets about two seconds. Done by then, it is answered directly; otherwise
//! the interaction is deferred (inside Discord's three seconds) and completed by a follow-up.
//! A reply with files is always deferred and completed by a multipart follow-up, because the
//! endpoint's JSON response cannot carry files.

pub mod convert;
pub mod endpoint;
pub mod gateway;
pub mod poster;
pub mod register;
pub mod render;
pub mod rest;

use axum::body::Bytes;
use futures_util::FutureExt;
use raterise_commands::autocomplete::{suggest, MAX_SUGGESTIONS};
use raterise_commands::catalog;
use raterise_commands::reply::{Reply, Tone};
use raterise_commands::report_cache::ReportCache;
use raterise_commands::{dispatch, AppError, Ctx, Invocation, Outcome, ReplyKey};
use render::{render, Rendered};
use rest::{Body, FilePart, Rest, RestError};
use serenity::builder::{
    AutocompleteChoice, CreateAutocompleteResponse, CreateInteractionResponse, CreateInteractionResponseMessage,
};
use serenity::http::{LightMethod, Route};
use serenity::model::application::Interaction;
use serenity::model::id::{ApplicationId, InteractionId};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long a command may run before the interaction is deferred (Discord allows three seconds).
pub const DEFAULT_DEFER_AFTER: Duration = Duration::from_millis(2000);
/// Rendered answers kept (a `/rates` answer is about 5 KB of JSON, so at most about 5 MB).
const ANSWERS_KEPT: usize = 1024;
/// Autocomplete cannot be deferred: answer with what we have by then.
pub const AUTOCOMPLETE_BUDGET: Duration = Duration::from_millis(2500);

pub use crate::inflight::Inflight;
use crate::tenant_names::TenantNames;

/// What to answer at once (as the JSON Discord receives), and the work that completes the
/// interaction afterwards.
pub struct Handled {
    pub response: Bytes,
    pub followup: Option<FollowUp>,
}

impl Handled {
    fn now(response: CreateInteractionResponse) -> Handled {
        Handled { response: to_json(&response), followup: None }
    }
}

fn to_json(response: &CreateInteractionResponse) -> Bytes {
    Bytes::from(serde_json::to_vec(response).expect("interaction responses serialize"))
}

enum Work {
    /// The command is still running; the interaction was deferred.
    Pending(JoinHandle<Result<Outcome, AppError>>),
    /// The answer is known; the first message was deferred (it carries files).
    Deferred(Rendered),
    /// The first message was the direct response; the other messages follow.
    Remaining(Rendered),
}

pub struct FollowUp {
    interaction_id: InteractionId,
    application_id: ApplicationId,
    token: String,
    /// Visibility chosen when deferring (a deferral fixes the ephemeral state of @original).
    deferred_ephemeral: bool,
    work: Work,
}

impl FollowUp {
    /// Completes a deferred interaction with a known answer (used for replies with files).
    pub fn deferred_answer(
        interaction_id: InteractionId,
        application_id: ApplicationId,
        token: String,
        rendered: Rendered,
    ) -> FollowUp {
        FollowUp {
            interaction_id,
            application_id,
            token,
            deferred_ephemeral: rendered.ephemeral,
            work: Work::Deferred(rendered),
        }
    }
}

pub struct Discord {
    ctx: Ctx,
    rest: Rest,
    defer_after: Duration,
    inflight: Inflight,
    /// Direct answers already rendered, for outcomes that name what they depend on
    /// (`Outcome::reply_key`): the same question about unchanged data gets the same bytes.
    answers: ReportCache<ReplyKey, Bytes>,
    /// Server names, looked up once each (see `tenant_names`).
    names: TenantNames,
}

/// The reply for an error: what to do, only to the person who asked.
pub fn error_reply(e: &AppError) -> Reply {
    if e.is_internal() {
        tracing::error!(error = %e, "command failed");
    }
    match e {
        AppError::NotSetUp(m) => Reply::new("Set up raterise first").private().tone(Tone::Warning).text(m.clone()),
        AppError::Forbidden(m) => Reply::new("Not allowed for you here").private().tone(Tone::Warning).text(m.clone()),
        other => Reply::error(other.user_message()),
    }
}

fn reply_of(result: Result<Outcome, AppError>) -> Reply {
    match result {
        Ok(outcome) => outcome.reply(),
        Err(e) => error_reply(&e),
    }
}

/// Best guess, before a slow command finishes, whether its answer is private: changes and help
/// answer the person who asked. A wrong guess is corrected when the answer arrives.
fn likely_private(inv: &Invocation) -> bool {
    let Some(spec) = catalog::command(&inv.command) else { return true };
    mutates(inv) || spec.name == "help"
}

/// Whether the catalogue marks the command as one that changes data (unknown commands do not).
fn mutates(inv: &Invocation) -> bool {
    let Some(spec) = catalog::command(&inv.command) else { return false };
    match inv.subcommand.as_deref().and_then(|s| spec.subcommand(s)) {
        Some(sub) => sub.mutates,
        None => spec.mutates,
    }
}

type Running = Pin<Box<dyn Future<Output = Result<Outcome, AppError>> + Send>>;

/// The command as a future. A read runs inline with the request (cancelling it loses nothing, and
/// it saves a task per question); a change runs in a task of its own, so a dropped connection
/// cannot cut it short between its commit and the re-planning after it. A panic in a handler
/// becomes an internal error for the person who asked.
fn running(ctx: Ctx, inv: Invocation) -> Running {
    let changes = mutates(&inv);
    let work = async move {
        AssertUnwindSafe(dispatch(&ctx, &inv)).catch_unwind().await.unwrap_or_else(|_| {
            Err(AppError::internal("running a command", std::io::Error::other("the handler panicked")))
        })
    };
    if changes {
        let task = tokio::spawn(work);
        Box::pin(async move { task.await.unwrap_or_else(|e| Err(AppError::internal("running a command", e))) })
    } else {
        Box::pin(work)
    }
}

fn files_of(rendered: &Rendered) -> Vec<FilePart> {
    rendered
        .files
        .iter()
        .map(|f| FilePart { filename: f.filename.clone(), content_type: f.content_type.clone(), data: f.data() })
        .collect()
}

impl Discord {
    pub fn new(ctx: Ctx, rest: Rest) -> Discord {
        Discord {
            ctx,
            rest,
            defer_after: DEFAULT_DEFER_AFTER,
            inflight: Inflight::default(),
            answers: ReportCache::with_capacity(ANSWERS_KEPT),
            names: TenantNames::default(),
        }
    }

    /// Changes the deferral budget (tests use zero to take the deferred path every time).
    pub fn with_defer_after(mut self, budget: Duration) -> Discord {
        self.defer_after = budget;
        self
    }

    pub fn rest(&self) -> &Rest {
        &self.rest
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub fn inflight(&self) -> &Inflight {
        &self.inflight
    }

    /// The same for both transports: the immediate response and what follows it.
    pub async fn handle(&self, interaction: Interaction) -> Handled {
        match interaction {
            Interaction::Ping(_) => Handled::now(CreateInteractionResponse::Pong),
            Interaction::Autocomplete(ac) => {
                let choices = match convert::autocomplete_request(&ac) {
                    Some(req) => {
                        let lookup = suggest(&self.ctx, req.tenant.as_ref(), req.kind, &req.partial);
                        match tokio::time::timeout(AUTOCOMPLETE_BUDGET, lookup).await {
                            Ok(Ok(list)) => list,
                            Ok(Err(e)) => {
                                tracing::error!(error = %e, interaction = %ac.id, "autocomplete failed");
                                Vec::new()
                            }
                            Err(_) => {
                                tracing::warn!(interaction = %ac.id, "autocomplete took too long; answered with no choices");
                                Vec::new()
                            }
                        }
                    }
                    None => Vec::new(),
                };
                let choices = choices
                    .into_iter()
                    .take(MAX_SUGGESTIONS)
                    .map(|s| AutocompleteChoice::new(s.label, s.value))
                    .collect();
                Handled::now(CreateInteractionResponse::Autocomplete(
                    CreateAutocompleteResponse::new().set_choices(choices),
                ))
            }
            Interaction::Command(cmd) => {
                let inv = convert::command_invocation(&cmd);
                tracing::info!(interaction = %cmd.id, command = %inv.command, guild = ?cmd.guild_id.map(|g| g.get()), "command");
                let inv = self.named(inv).await;
                self.run(inv, cmd.id, cmd.application_id, cmd.token).await
            }
            Interaction::Component(c) => match convert::component_invocation(&c) {
                Ok(inv) => {
                    tracing::info!(interaction = %c.id, command = %inv.command, guild = ?c.guild_id.map(|g| g.get()), "button");
                    let inv = self.named(inv).await;
                    self.run(inv, c.id, c.application_id, c.token).await
                }
                Err(e) => {
                    let r = render(&error_reply(&e));
                    Handled::now(CreateInteractionResponse::Message(r.pages[0].response_message(true)))
                }
            },
            _ => {
                let r =
                    render(&Reply::error("raterise does not handle this kind of interaction; use its slash commands."));
                Handled::now(CreateInteractionResponse::Message(r.pages[0].response_message(true)))
            }
        }
    }

    /// The invocation with the server's name when its practice needs one (looked up once).
    async fn named(&self, inv: Invocation) -> Invocation {
        if !self.rest.has_token() {
            return inv;
        }
        let rest = &self.rest;
        self.names
            .fill(&self.ctx, inv, |guild| async move {
                let id: u64 = guild.parse().map_err(|_| "not a guild id".to_string())?;
                rest.guild_name(id).await.map_err(|e| e.to_string())
            })
            .await
    }

    async fn run(&self, inv: Invocation, id: InteractionId, application_id: ApplicationId, token: String) -> Handled {
        let guess = likely_private(&inv);
        let mut work = running(self.ctx.clone(), inv);
        let finished = if self.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(self.defer_after, &mut work).await.ok()
        };
        let followup = |deferred_ephemeral: bool, work: Work| FollowUp {
            interaction_id: id,
            application_id,
            token: token.clone(),
            deferred_ephemeral,
            work,
        };
        match finished {
            Some(result) => {
                let key = result.as_ref().ok().and_then(Outcome::reply_key);
                if let Some(answer) = key.as_ref().and_then(|k| self.answers.get(k)) {
                    return Handled { response: (*answer).clone(), followup: None };
                }
                let rendered = render(&reply_of(result));
                if rendered.files.is_empty() {
                    let response = to_json(&CreateInteractionResponse::Message(
                        rendered.pages[0].response_message(rendered.ephemeral),
                    ));
                    let more = rendered.pages.len() > 1;
                    if let (Some(key), false) = (key, more) {
                        self.answers.put(key, response.clone());
                    }
                    let ephemeral = rendered.ephemeral;
                    Handled { response, followup: more.then(|| followup(ephemeral, Work::Remaining(rendered))) }
                } else {
                    let ephemeral = rendered.ephemeral;
                    Handled {
                        response: to_json(&CreateInteractionResponse::Defer(
                            CreateInteractionResponseMessage::new().ephemeral(ephemeral),
                        )),
                        followup: Some(followup(ephemeral, Work::Deferred(rendered))),
                    }
                }
            }
            None => Handled {
                response: to_json(&CreateInteractionResponse::Defer(
                    CreateInteractionResponseMessage::new().ephemeral(guess),
                )),
                followup: Some(followup(guess, Work::Pending(tokio::spawn(work)))),
            },
        }
    }

    /// Runs a follow-up in the background, counted for shutdown.
    pub fn spawn_followup(self: &Arc<Self>, followup: FollowUp) {
        let me = Arc::clone(self);
        let guard = self.inflight.enter();
        tokio::spawn(async move {
            let _guard = guard;
            let id = followup.interaction_id;
            if let Err(e) = me.complete(followup).await {
                tracing::warn!(interaction = %id, error = %e, "could not complete the interaction");
            }
        });
    }

    /// Completes an interaction after its first response: edits the deferred message or sends
    /// the remaining messages.
    pub async fn complete(&self, f: FollowUp) -> Result<(), RestError> {
        let (rendered, first_done) = match f.work {
            Work::Remaining(r) => (r, true),
            Work::Deferred(r) => (r, false),
            Work::Pending(task) => {
                let reply = match task.await {
                    Ok(result) => reply_of(result),
                    Err(e) => error_reply(&AppError::internal("running a command", e)),
                };
                (render(&reply), false)
            }
        };
        let token = f.token.as_str();
        let app = f.application_id;
        let mut pages = rendered.pages.iter();
        if !first_done {
            let first = pages.next().expect("a rendered reply has a page");
            let files = files_of(&rendered);
            if f.deferred_ephemeral == rendered.ephemeral {
                let route = Route::WebhookOriginalInteractionResponse { application_id: app, token };
                self.send_after_response(route, LightMethod::Patch, Body::with_files(&first.edit(), files)).await?;
            } else {
                // The deferral fixed the wrong visibility: send the answer as a new message with
                // the right one, then remove the placeholder.
                let route = Route::WebhookFollowupMessages { application_id: app, token };
                let body = Body::with_files(&first.followup(rendered.ephemeral), files);
                self.send_after_response(route, LightMethod::Post, body).await?;
                let route = Route::WebhookOriginalInteractionResponse { application_id: app, token };
                self.rest.send(route, LightMethod::Delete, Body::Empty).await?;
            }
        }
        for page in pages {
            let route = Route::WebhookFollowupMessages { application_id: app, token };
            self.send_after_response(route, LightMethod::Post, Body::json(&page.followup(rendered.ephemeral))).await?;
        }
        Ok(())
    }

    /// A follow-up can race the endpoint's own HTTP response to Discord; until Discord has that
    /// response the interaction's webhook is unknown (404), so try again briefly.
    async fn send_after_response(&self, route: Route<'_>, method: LightMethod, body: Body) -> Result<(), RestError> {
        let mut wait = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            match self.rest.send(route, method, body.clone()).await {
                Err(RestError::Permanent { status: 404, .. }) if attempt < 3 => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return other.map(|_| ()),
            }
        }
    }
}
