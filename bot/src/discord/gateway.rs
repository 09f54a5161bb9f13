//! The gateway client: serenity connects as the bot, registers the commands once ready and
//! answers INTERACTION_CREATE through the same `Discord::handle` as the HTTP endpoint. Only the
//! unprivileged GUILDS intent is requested (no message content).

use super::register;
use super::rest::{Body, RestError};
use super::Discord;
use serenity::all::{Context, EventHandler, GatewayIntents, Ready};
use serenity::client::ClientBuilder;
use serenity::http::{HttpBuilder, LightMethod, Route};
use serenity::model::application::Interaction;
use serenity::model::id::{ApplicationId, GuildId};
use std::sync::Arc;
use tokio::sync::watch;

struct Handler {
    discord: Arc<Discord>,
    guild: Option<GuildId>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, guilds = ready.guilds.len(), "connected to the Discord gateway");
        match register::register(&ctx.http, self.guild).await {
            Ok(n) => match self.guild {
                Some(g) => tracing::info!(commands = n, guild = g.get(), "registered commands in the guild"),
                None => tracing::info!(commands = n, "registered commands globally"),
            },
            Err(e) => tracing::error!(error = %e, "could not register the commands"),
        }
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let id = interaction.id();
        if let Err(e) = answer(&self.discord, interaction).await {
            tracing::warn!(interaction = %id, error = %e, "could not answer the interaction");
        }
    }
}

/// Answers one interaction that came over the gateway: the response goes to
/// POST /interactions/{id}/{token}/callback, then any follow-up runs in the background.
pub async fn answer(discord: &Arc<Discord>, interaction: Interaction) -> Result<(), RestError> {
    let id = interaction.id();
    let token = interaction.token().to_string();
    let handled = discord.handle(interaction).await;
    let route = Route::InteractionResponse { interaction_id: id, token: &token };
    discord.rest().send(route, LightMethod::Post, Body::Json(handled.response.to_vec())).await?;
    if let Some(f) = handled.followup {
        discord.spawn_followup(f);
    }
    Ok(())
}

pub struct GatewaySettings {
    pub token: String,
    pub application_id: Option<u64>,
    pub guild: Option<u64>,
    pub api_url: Option<String>,
}

/// Runs the gateway client until `stop` turns true.
pub async fn run(
    discord: Arc<Discord>,
    settings: GatewaySettings,
    mut stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut http = HttpBuilder::new(&settings.token);
    if let Some(id) = settings.application_id {
        http = http.application_id(ApplicationId::new(id));
    }
    if let Some(url) = &settings.api_url {
        http = http.proxy(url.as_str()).ratelimiter_disabled(true);
    }
    let handler = Handler { discord, guild: settings.guild.map(GuildId::new) };
    let mut client = ClientBuilder::new_with_http(http.build(), GatewayIntents::GUILDS)
        .event_handler(handler)
        .await
        .map_err(|e| format!("could not start the Discord gateway client: {e}"))?;
    let manager = client.shard_manager.clone();
    tokio::spawn(async move {
        let _ = stop.wait_for(|s| *s).await;
        manager.shutdown_all().await;
    });
    client.start().await.map_err(|e| format!("the Discord gateway connection failed: {e}"))
}
