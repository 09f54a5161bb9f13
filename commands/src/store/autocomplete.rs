//! Lookups for chat autocomplete: small, indexed, scoped by practice.

use super::Store;
use crate::error::AppError;
use sqlx::Row;

/// Escapes `%`, `_` and the escape character itself for a `LIKE ... ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Payer names of one practice containing `partial` (case-insensitive), names that start
    /// with it first, at most `limit`.
    pub async fn payer_name_suggestions(
        &self,
        practice_id: i64,
        partial: &str,
        limit: u32,
    ) -> Result<Vec<String>, AppError> {
        let partial = like_escape(partial.trim());
        let rows = sqlx::query(
            "SELECT name FROM payers
             WHERE practice_id = ?1 AND name LIKE '%' || ?2 || '%' ESCAPE '\\'
             ORDER BY CASE WHEN name LIKE ?2 || '%' ESCAPE '\\' THEN 0 ELSE 1 END, name COLLATE NOCASE
             LIMIT ?3",
        )
        .bind(practice_id)
        .bind(&partial)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.get("name")).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escape("Cigna"), "Cigna");
    }
}
