//! Slack: a thin adapter. A slash command or a button press becomes an `Invocation`, runs through
//! `dispatch`, and its `Reply` is rendered to Block Kit. Handlers never see Slack types; nothing
//! here touches SQL.
//!
//! Timing: Slack wants an answer within three seconds. A command gets about two; done by then,
//! the answer is the HTTP response itself. Otherwise the request is acknowledged with a short
//! private "working on it" and the answer is posted to the command's `response_url`. A button
//! press is acknowledged at once and always answered through its `response_url`.
//! Files (drafts) cannot travel in a response: with a bot token they are uploaded through the Web
//! API (into the asker's direct message for private answers); without one, or if the upload
//! fails, their text is shown in code blocks with a word on why.
//! Reminders reach Slack channels through `delivery` (the scheduler's Slack platform).

pub mod api;
pub mod convert;
pub mod delivery;
pub mod endpoint;
pub mod render;
pub mod verify;

pub use delivery::SlackDelivery;

use api::{ApiError, SlackApi};
use convert::{Admins, InteractionPayload, SlashCommand};
use raterise_commands::reply::{Attachment, Reply, Tone};
use raterise_commands::{dispatch, AppError, Ctx, Invocation, Outcome};
use render::{render, render_with_inline_files, Rendered};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use verify::Verifier;

/// How long a command may run before it is answered through `response_url` instead.
pub const DEFAULT_ACK_AFTER: Duration = Duration::from_millis(2000);

/// What the deployment configured for Slack.
#[derive(Clone, Default)]
pub struct SlackSettings {
    pub signing_secret: String,
    pub bot_token: Option<String>,
    pub api_url: Option<String>,
    /// SLACK_ADMIN_USERS: the user ids that may change data.
    pub admins: Admins,
}

/// Background deliveries, counted so shutdown can wait for them.
pub type Background = crate::inflight::Inflight;

/// Where an answer goes after the first response.
#[derive(Debug, Clone)]
struct Target {
    response_url: Option<String>,
    user_id: String,
    channel_id: Option<String>,
}

pub struct Slack {
    ctx: Ctx,
    api: SlackApi,
    verifier: Verifier,
    admins: Admins,
    ack_after: Duration,
    background: Background,
    /// Workspace names, looked up once each (see `tenant_names`).
    names: crate::tenant_names::TenantNames,
}

/// The reply for an error, only to the person who asked, in Slack's terms.
pub fn error_reply(e: &AppError) -> Reply {
    if e.is_internal() {
        tracing::error!(error = %e, "command failed");
    }
    match e {
        AppError::NotSetUp(m) if m.contains("Manage Server") => Reply::new("Set up raterise first")
            .private()
            .tone(Tone::Warning)
            .text(format!(
                "This workspace has no practice set up yet. One of raterise's admins here runs `/{} setup locality:\"YOUR LOCALITY, ST\" credential:lcsw` to start.",
                convert::MAIN_COMMAND
            )),
        AppError::NotSetUp(m) => Reply::new("Set up raterise first").private().tone(Tone::Warning).text(m.clone()),
        AppError::Forbidden(_) => Reply::new("Not allowed for you here").private().tone(Tone::Warning).text(
            "Only the people this workspace named as raterise admins can change data; ask one of them. Reading with rates and payer list is open to everyone.",
        ),
        other => Reply::error(other.user_message()),
    }
}

fn reply_of(result: Result<Result<Outcome, AppError>, tokio::task::JoinError>) -> Reply {
    match result {
        Ok(Ok(outcome)) => outcome.reply(),
        Ok(Err(e)) => error_reply(&e),
        Err(e) => error_reply(&AppError::internal("running a command", e)),
    }
}

fn file_names(files: &[Attachment]) -> String {
    files.iter().map(|f| format!("`{}`", f.filename)).collect::<Vec<_>>().join(", ")
}

impl Slack {
    pub fn new(ctx: Ctx, settings: SlackSettings) -> Slack {
        Slack {
            ctx,
            api: SlackApi::new(settings.bot_token.as_deref(), settings.api_url.as_deref()),
            verifier: Verifier::new(&settings.signing_secret),
            admins: settings.admins,
            ack_after: DEFAULT_ACK_AFTER,
            background: Background::default(),
            names: Default::default(),
        }
    }

    /// Changes the answer budget (tests use zero to take the `response_url` path every time).
    pub fn with_ack_after(mut self, budget: Duration) -> Slack {
        self.ack_after = budget;
        self
    }

    pub fn api(&self) -> &SlackApi {
        &self.api
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn background(&self) -> &Background {
        &self.background
    }

    /// Now in Unix seconds from the injected clock (for the signature timestamp check).
    pub fn now_unix(&self) -> i64 {
        self.ctx.clock.now().timestamp()
    }

    /// A slash command: the HTTP response body, with any remaining work started in the background.
    pub async fn slash_command(self: &Arc<Self>, cmd: SlashCommand) -> Value {
        let inv = match convert::command_invocation(&cmd, &self.admins) {
            Ok(inv) => inv,
            Err(e) => return render(&error_reply(&e)).response_body(0),
        };
        tracing::info!(command = %inv.command, team = %cmd.team_id, "slack command");
        let target = Target {
            response_url: Some(cmd.response_url.clone()).filter(|u| !u.is_empty()),
            user_id: cmd.user_id.clone(),
            channel_id: inv.channel_id.clone(),
        };
        let inv = self.named(inv).await;
        let line = inv.command_line();
        let ctx = self.ctx.clone();
        let mut task = tokio::spawn(async move { dispatch(&ctx, &inv).await });
        let finished =
            if self.ack_after.is_zero() { None } else { tokio::time::timeout(self.ack_after, &mut task).await.ok() };
        match finished {
            Some(joined) => {
                let rendered = self.prepare(reply_of(joined));
                let first = rendered.response_body(0);
                if rendered.messages.len() > 1 || !rendered.files.is_empty() {
                    self.spawn_delivery(target, rendered, 1);
                }
                first
            }
            None => {
                let me = Arc::clone(self);
                let guard = self.background.enter();
                tokio::spawn(async move {
                    let _guard = guard;
                    let rendered = me.prepare(reply_of(task.await));
                    me.deliver(&target, &rendered, 0).await;
                });
                let ack =
                    Reply::new("Working on it").private().text(format!("`{}`: the answer follows in a moment.", line));
                render(&ack).response_body(0)
            }
        }
    }

    /// The invocation with the workspace's name when its practice needs one (looked up once).
    async fn named(&self, inv: Invocation) -> Invocation {
        if !self.api.has_token() {
            return inv;
        }
        let api = &self.api;
        self.names
            .fill(&self.ctx, inv, |team| async move { api.team_name(&team).await.map_err(|e| e.to_string()) })
            .await
    }

    /// A button press: acknowledged at once; its command's answer goes to the `response_url`.
    pub fn button(self: &Arc<Self>, payload: InteractionPayload) {
        if payload.kind != "block_actions" {
            tracing::info!(kind = %payload.kind, "ignored a Slack interaction raterise does not handle");
            return;
        }
        let target = Target {
            response_url: payload.response_url.clone().filter(|u| !u.is_empty()),
            user_id: payload.user.as_ref().map(|u| u.id.clone()).unwrap_or_default(),
            channel_id: payload.channel.as_ref().map(|c| c.id.clone()),
        };
        let inv: Result<Invocation, AppError> = convert::button_invocation(&payload, &self.admins);
        let me = Arc::clone(self);
        let guard = self.background.enter();
        tokio::spawn(async move {
            let _guard = guard;
            let reply = match inv {
                Ok(inv) => {
                    tracing::info!(command = %inv.command, "slack button");
                    let inv = me.named(inv).await;
                    let ctx = me.ctx.clone();
                    reply_of(tokio::spawn(async move { dispatch(&ctx, &inv).await }).await)
                }
                Err(e) => error_reply(&e),
            };
            let rendered = me.prepare(reply);
            me.deliver(&target, &rendered, 0).await;
        });
    }

    /// Renders a reply; files are kept for upload when there is a token, else shown inline.
    fn prepare(&self, mut reply: Reply) -> Rendered {
        if reply.attachments.is_empty() {
            return render(&reply);
        }
        if !self.api.has_token() {
            return render_with_inline_files(
                &reply,
                "the file could not be attached here (this raterise has no Slack bot token to upload files with), so its text follows.",
            );
        }
        let names = file_names(&reply.attachments);
        let note = match reply.visibility {
            raterise_commands::reply::Visibility::Private => {
                format!("{names} will arrive in your direct messages with raterise.")
            }
            raterise_commands::reply::Visibility::Channel => format!("{names} will be shared in this channel."),
        };
        reply = reply.text(note);
        render(&reply)
    }

    fn spawn_delivery(self: &Arc<Self>, target: Target, rendered: Rendered, from: usize) {
        let me = Arc::clone(self);
        let guard = self.background.enter();
        tokio::spawn(async move {
            let _guard = guard;
            me.deliver(&target, &rendered, from).await;
        });
    }

    /// Posts messages `from..` to the response URL, then uploads the files.
    async fn deliver(&self, target: &Target, rendered: &Rendered, from: usize) {
        for i in from..rendered.messages.len() {
            let Some(url) = &target.response_url else {
                tracing::warn!("a Slack answer had nowhere to go: the request carried no response_url");
                return;
            };
            let mut body = rendered.response_body(i);
            body["replace_original"] = json!(false);
            if let Err(e) = self.respond_with_retry(url, &body).await {
                tracing::warn!(error = %e, "could not post a Slack answer to its response_url");
                return;
            }
        }
        if !rendered.files.is_empty() {
            self.upload(target, rendered).await;
        }
    }

    async fn respond_with_retry(&self, url: &str, body: &Value) -> Result<(), ApiError> {
        let mut attempt = 0;
        loop {
            match self.api.respond(url, body).await {
                Err(ApiError::RateLimited { retry_after }) if attempt < 2 => {
                    tokio::time::sleep(retry_after.min(Duration::from_secs(10))).await
                }
                Err(e) if e.is_retryable() && attempt < 2 => tokio::time::sleep(Duration::from_millis(500)).await,
                other => return other,
            }
            attempt += 1;
        }
    }

    /// Uploads the files; if that fails, their text goes to the asker instead.
    async fn upload(&self, target: &Target, rendered: &Rendered) {
        let channel = if rendered.ephemeral {
            self.api.open_dm(&target.user_id).await
        } else {
            target.channel_id.clone().ok_or(ApiError::Permanent { status: 0, error: "no channel".into() })
        };
        let mut failed: Vec<(Attachment, ApiError)> = Vec::new();
        match channel {
            Ok(channel) => {
                for f in &rendered.files {
                    let comment = format!("{} from raterise", f.filename);
                    if let Err(e) = self.api.upload_file(&channel, &f.filename, &f.data(), &comment).await {
                        failed.push((f.clone(), e));
                    }
                }
            }
            Err(e) => failed.extend(rendered.files.iter().map(|f| (f.clone(), e.clone()))),
        }
        if failed.is_empty() {
            return;
        }
        let reason = failed.iter().map(|(_, e)| e.to_string()).next().unwrap_or_default();
        tracing::warn!(error = %reason, files = failed.len(), "could not upload files to Slack");
        let Some(url) = &target.response_url else { return };
        let mut fallback = Reply::new("Your file").private();
        for (f, _) in failed {
            fallback.attachments.push(f);
        }
        let why = match failed_reason_is_scope(&reason) {
            true => "the file could not be attached (the Slack app lacks a permission it needs), so its text follows.",
            false => "the file could not be attached (Slack did not accept the upload), so its text follows.",
        };
        let inline = render_with_inline_files(&fallback, why);
        for i in 0..inline.messages.len() {
            let mut body = inline.response_body(i);
            body["replace_original"] = json!(false);
            if let Err(e) = self.respond_with_retry(url, &body).await {
                tracing::warn!(error = %e, "could not post a file's text to its response_url");
                return;
            }
        }
    }
}

fn failed_reason_is_scope(reason: &str) -> bool {
    reason.contains("missing_scope") || reason.contains("not_allowed_token_type") || reason.contains("not_in_channel")
}
