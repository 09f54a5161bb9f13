//! One error type for every command: what the user sees, and what is only logged.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The user asked for something that can't be done as asked; the message says what would work.
    #[error("{0}")]
    User(String),
    /// The user may not run this command here.
    #[error("{0}")]
    Forbidden(String),
    /// The practice has not been set up yet; the message says how.
    #[error("{0}")]
    NotSetUp(String),
    /// Anything else: logged with its context, shown to the user only as a generic apology.
    #[error("internal error while {context}: {source}")]
    Internal {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn user(msg: impl fmt::Display) -> Self {
        AppError::User(msg.to_string())
    }

    pub fn internal(context: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal { context: context.into(), source: Box::new(source) }
    }

    /// The one line a chat user or console user is shown. Internal details never leave the process.
    pub fn user_message(&self) -> String {
        match self {
            AppError::User(m) | AppError::Forbidden(m) | AppError::NotSetUp(m) => m.clone(),
            AppError::Internal { .. } => {
                "Something went wrong on our side and nothing was changed. Please try again; if it keeps happening, tell your raterise admin.".to_string()
            }
        }
    }

    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Internal { .. })
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal("talking to the database", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_details() {
        let e = AppError::internal("loading rates", sqlx::Error::Protocol("SELECT secret FROM x".into()));
        assert!(!e.user_message().contains("SELECT"));
        assert!(e.to_string().contains("loading rates"));
    }
}
