//! Contracted rates with their history. The current rate of a code is the latest in effect.

use super::{audit, Audit, Store};
use crate::domain::{Cents, PayerKind};
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

#[derive(Debug, Clone, Serialize)]
pub struct RateRow {
    pub cpt: String,
    pub amount: Cents,
    pub effective_date: NaiveDate,
    pub recorded_at: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurrentRate {
    pub amount: Cents,
    pub effective_date: NaiveDate,
    /// The amount has been the same since this date.
    pub since: NaiveDate,
}

/// A rate on file that starts after today (an agreed raise not yet in force).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PendingRate {
    pub amount: Cents,
    pub effective_date: NaiveDate,
}

/// One code a payer is billed for: its volume, the rate in effect today, if any, and the latest
/// rate on file when that one starts later.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRate {
    pub payer_id: i64,
    pub cpt: String,
    pub weekly_volume: i64,
    pub current: Option<CurrentRate>,
    pub pending: Option<PendingRate>,
}

/// The columns of `payer_codes` that [`Store::code_rates_from_rows`] reads.
const SUMMARY_COLUMNS: &str =
    "latest_cents, latest_effective, latest_since, prior_cents, prior_effective, prior_since, prior_known";

impl Store {
    /// Records one rate for a payer's code (`payer` is its id and name, for the audit line).
    pub async fn set_rate(
        &self,
        payer: (i64, &str),
        cpt: &str,
        amount: Cents,
        effective: NaiveDate,
        audit: &Audit,
    ) -> Result<(), AppError> {
        let (payer_id, payer_name) = payer;
        let mut tx = self.write_tx().await?;
        insert_rate(&mut tx, payer_id, cpt, amount, effective, None, audit).await?;
        audit::record(&mut tx, audit, "rate.set", &format!("{payer_name} {cpt} {amount} effective {effective}"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Several rates at once (an import, an accepted offer): all or nothing.
    pub async fn set_rates(
        &self,
        payer_id: i64,
        rates: &[(String, Cents)],
        effective: NaiveDate,
        source: &str,
        audit: &Audit,
        payer_name: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.write_tx().await?;
        for (cpt, amount) in rates {
            insert_rate(&mut tx, payer_id, cpt, *amount, effective, Some(source), audit).await?;
        }
        let list = rates.iter().map(|(c, a)| format!("{c} {a}")).collect::<Vec<_>>().join(", ");
        audit::record(&mut tx, audit, "rate.set", &format!("{payer_name}: {list} effective {effective} ({source})"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Loads a whole rate history for one payer in one transaction (an import): every row is
    /// inserted, then each code's summary is recomputed once. A bad row writes nothing.
    pub async fn import_rate_history(
        &self,
        payer_id: i64,
        rows: &[(String, Cents, NaiveDate)],
        source: &str,
        audit: &Audit,
        payer_name: &str,
    ) -> Result<usize, AppError> {
        let mut tx = self.write_tx().await?;
        for (cpt, amount, effective) in rows {
            insert_rate_row(&mut tx, payer_id, cpt, *amount, *effective, Some(source), audit).await?;
        }
        let mut codes: Vec<&str> = rows.iter().map(|(c, _, _)| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        for cpt in &codes {
            refresh_summary(&mut tx, payer_id, cpt).await?;
        }
        audit::record(
            &mut tx,
            audit,
            "rate.import",
            &format!("{payer_name}: {} rows for {} codes ({source})", rows.len(), codes.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    pub async fn rate_history(&self, payer_id: i64, cpt: Option<&str>) -> Result<Vec<RateRow>, AppError> {
        let rows = sqlx::query(
            "SELECT cpt, amount_cents, effective_date, recorded_at, recorded_by FROM rates
             WHERE payer_id = ?1 AND (?2 IS NULL OR cpt = ?2)
             ORDER BY cpt, effective_date DESC, id DESC",
        )
        .bind(payer_id)
        .bind(cpt)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RateRow {
                cpt: r.get("cpt"),
                amount: Cents(r.get("amount_cents")),
                effective_date: r.get("effective_date"),
                recorded_at: r.get("recorded_at"),
                recorded_by: r.get("recorded_by"),
            })
            .collect())
    }

    /// Every (payer, code) of the practice with the rate in effect on `today`.
    /// One indexed read of the per-code summaries; the history is read only for a code whose
    /// latest rate starts in the future.
    pub async fn practice_code_rates(&self, practice_id: i64, today: NaiveDate) -> Result<Vec<CodeRate>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT pc.payer_id, pc.cpt, pc.weekly_volume, {SUMMARY_COLUMNS}
             FROM payers p JOIN payer_codes pc ON pc.payer_id = p.id
             WHERE p.practice_id = ?
             ORDER BY pc.payer_id, pc.cpt"
        ))
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        self.code_rates_from_rows(rows, today).await
    }

    /// The codes of one payer with the rate in effect on `today`.
    pub async fn payer_code_rates(&self, payer_id: i64, today: NaiveDate) -> Result<Vec<CodeRate>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT payer_id, cpt, weekly_volume, {SUMMARY_COLUMNS}
             FROM payer_codes WHERE payer_id = ? ORDER BY cpt"
        ))
        .bind(payer_id)
        .fetch_all(self.pool())
        .await?;
        self.code_rates_from_rows(rows, today).await
    }

    /// One payer's codes with the rate in effect on `today`, and for each of those codes the
    /// highest rate in effect among the practice's other in-network payers of `peer_kinds`:
    /// (code, payer name, rate). One statement, because this is the hot path of `/rates PAYER`.
    pub async fn payer_rates_with_peers(
        &self,
        practice_id: i64,
        payer_id: i64,
        peer_kinds: &[PayerKind],
        today: NaiveDate,
    ) -> Result<(Vec<CodeRate>, Vec<(String, String, Cents)>), AppError> {
        let kinds = serde_json::to_string(&peer_kinds.iter().map(|k| k.key()).collect::<Vec<_>>())
            .map_err(|e| AppError::internal("encoding payer kinds", e))?;
        // Part 1: the payer's codes, each with two candidates for the best peer in force, each
        // found by walking an index to the first qualifying payer: the highest latest rate
        // already in effect (payer_codes_by_rate) and the highest prior rate of a peer whose
        // latest rate starts after `today`, an agreed raise from next month (by_prior_rate).
        // Both walks read the index only until a qualifying payer; each is skipped outright
        // (one seek, evaluated once) when no summary of the practice is in that state. Part 2:
        // peers whose summary cannot answer for today (two rates still to come, or a summary
        // from before the prior was kept), found by a seek; only those read their history.
        const PEER: &str = "px.status = 'in-network' AND px.kind IN (SELECT value FROM json_each(?4))";
        let sql = format!(
            "SELECT 'own' AS part, c.payer_id, c.cpt, c.weekly_volume, c.latest_cents, c.latest_effective,
                    c.latest_since, c.prior_cents, c.prior_effective, c.prior_since, c.prior_known,
                    lp.name AS peer_name, l.latest_cents AS peer_cents,
                    fp.name AS prior_peer_name, f.prior_cents AS prior_peer_cents
             FROM payer_codes c
             LEFT JOIN payer_codes l ON l.payer_id = (
                 SELECT x.payer_id FROM payer_codes x INDEXED BY payer_codes_by_rate
                 JOIN payers px ON px.id = x.payer_id
                 WHERE x.practice_id = ?1 AND x.cpt = c.cpt AND x.payer_id <> ?2
                   AND x.latest_effective <= ?3 AND {PEER}
                   AND EXISTS (SELECT 1 FROM payer_codes INDEXED BY payer_codes_by_effective
                               WHERE practice_id = ?1 AND latest_effective <= ?3)
                 ORDER BY x.latest_cents DESC, x.payer_id LIMIT 1) AND l.cpt = c.cpt
             LEFT JOIN payers lp ON lp.id = l.payer_id
             LEFT JOIN payer_codes f ON f.payer_id = (
                 SELECT x.payer_id FROM payer_codes x INDEXED BY payer_codes_by_prior_rate
                 JOIN payers px ON px.id = x.payer_id
                 WHERE x.practice_id = ?1 AND x.cpt = c.cpt AND x.payer_id <> ?2 AND x.prior_cents IS NOT NULL
                   AND x.latest_effective > ?3 AND x.prior_effective <= ?3 AND {PEER}
                   AND EXISTS (SELECT 1 FROM payer_codes INDEXED BY payer_codes_by_effective
                               WHERE practice_id = ?1 AND latest_effective > ?3)
                 ORDER BY x.prior_cents DESC, x.payer_id LIMIT 1) AND f.cpt = c.cpt
             LEFT JOIN payers fp ON fp.id = f.payer_id
             WHERE c.payer_id = ?2
             UNION ALL
             SELECT 'history_peer', pc.payer_id, pc.cpt, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, px.name, NULL,
                    NULL, NULL
             FROM payer_codes pc INDEXED BY payer_codes_needing_history JOIN payers px ON px.id = pc.payer_id
             WHERE pc.practice_id = ?1 AND pc.prior_known = 0 AND pc.latest_effective > ?3 AND pc.payer_id <> ?2
               AND {PEER} AND pc.cpt IN (SELECT cpt FROM payer_codes WHERE payer_id = ?2)
             UNION ALL
             SELECT 'history_peer', pc.payer_id, pc.cpt, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, px.name, NULL,
                    NULL, NULL
             FROM payer_codes pc INDEXED BY payer_codes_needing_history JOIN payers px ON px.id = pc.payer_id
             WHERE pc.practice_id = ?1 AND pc.prior_known = 1 AND pc.prior_effective > ?3 AND pc.payer_id <> ?2
               AND {PEER} AND pc.cpt IN (SELECT cpt FROM payer_codes WHERE payer_id = ?2)"
        );
        let rows =
            sqlx::query(&sql).bind(practice_id).bind(payer_id).bind(today).bind(&kinds).fetch_all(self.pool()).await?;
        let mut own_rows = Vec::new();
        let mut best: Vec<(String, String, Cents)> = Vec::new();
        let mut future = Vec::new();
        for r in rows {
            let part: &str = r.get("part");
            if part == "own" {
                let cpt: String = r.get("cpt");
                let live = r.get::<Option<String>, _>("peer_name").zip(r.get::<Option<i64>, _>("peer_cents"));
                let prior =
                    r.get::<Option<String>, _>("prior_peer_name").zip(r.get::<Option<i64>, _>("prior_peer_cents"));
                // The higher of the two; a tie keeps the peer whose latest rate is in force.
                let pick = match (live, prior) {
                    (Some(l), Some(p)) => Some(if l.1 >= p.1 { l } else { p }),
                    (l, p) => l.or(p),
                };
                if let Some((name, cents)) = pick {
                    best.push((cpt, name, Cents(cents)));
                }
                own_rows.push(r);
            } else {
                future.push((r.get::<i64, _>("payer_id"), r.get::<String, _>("cpt"), r.get::<String, _>("peer_name")));
            }
        }
        for (peer, cpt, name) in future {
            let Some(cur) = current_from_history(&self.rate_history(peer, Some(&cpt)).await?, today) else { continue };
            let amount = cur.amount;
            match best.iter_mut().find(|(c, _, _)| *c == cpt) {
                Some(entry) if entry.2 >= amount => {}
                Some(entry) => *entry = (cpt, name, amount),
                None => best.push((cpt, name, amount)),
            }
        }
        let mut codes = self.code_rates_from_rows(own_rows, today).await?;
        codes.sort_by(|a, b| a.cpt.cmp(&b.cpt));
        Ok((codes, best))
    }

    async fn code_rates_from_rows(
        &self,
        rows: Vec<sqlx::sqlite::SqliteRow>,
        today: NaiveDate,
    ) -> Result<Vec<CodeRate>, AppError> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let payer_id: i64 = r.get("payer_id");
            let cpt: String = r.get("cpt");
            let latest_effective: Option<NaiveDate> = r.get("latest_effective");
            let (current, pending) = match latest_effective {
                None => (None, None),
                Some(eff) if eff <= today => (
                    Some(CurrentRate {
                        amount: Cents(r.get("latest_cents")),
                        effective_date: eff,
                        since: r.get::<Option<NaiveDate>, _>("latest_since").unwrap_or(eff),
                    }),
                    None,
                ),
                Some(eff) => {
                    let pending = Some(PendingRate { amount: Cents(r.get("latest_cents")), effective_date: eff });
                    let prior_effective: Option<NaiveDate> = r.get("prior_effective");
                    let current = if r.get::<i64, _>("prior_known") == 1 && prior_effective.is_none_or(|p| p <= today) {
                        prior_effective.map(|p| CurrentRate {
                            amount: Cents(r.get("prior_cents")),
                            effective_date: p,
                            since: r.get::<Option<NaiveDate>, _>("prior_since").unwrap_or(p),
                        })
                    } else {
                        // Two rates still to come, or a summary older than the prior columns.
                        current_from_history(&self.rate_history(payer_id, Some(&cpt)).await?, today)
                    };
                    (current, pending)
                }
            };
            out.push(CodeRate { payer_id, cpt, weekly_volume: r.get("weekly_volume"), current, pending });
        }
        Ok(out)
    }
}

/// The rate in effect on `today` from a history sorted newest first, with the start of its run
/// of equal amounts.
pub fn current_from_history(history: &[RateRow], today: NaiveDate) -> Option<CurrentRate> {
    let mut in_effect = history.iter().skip_while(|r| r.effective_date > today);
    let first = in_effect.next()?;
    let mut since = first.effective_date;
    for r in in_effect {
        if r.amount != first.amount {
            break;
        }
        since = r.effective_date;
    }
    Some(CurrentRate { amount: first.amount, effective_date: first.effective_date, since })
}

/// Appends one history row; the caller refreshes the code's summary.
async fn insert_rate_row(
    conn: &mut SqliteConnection,
    payer_id: i64,
    cpt: &str,
    amount: Cents,
    effective: NaiveDate,
    source: Option<&str>,
    audit: &Audit,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO rates (payer_id, cpt, amount_cents, effective_date, recorded_at, recorded_by, source)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(payer_id)
    .bind(cpt)
    .bind(amount.0)
    .bind(effective)
    .bind(audit.at.to_rfc3339())
    .bind(&audit.actor)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_rate(
    conn: &mut SqliteConnection,
    payer_id: i64,
    cpt: &str,
    amount: Cents,
    effective: NaiveDate,
    source: Option<&str>,
    audit: &Audit,
) -> Result<(), AppError> {
    insert_rate_row(conn, payer_id, cpt, amount, effective, source, audit).await?;
    refresh_summary(conn, payer_id, cpt).await
}

/// Recomputes the latest-rate summary of one (payer, code) from its history.
async fn refresh_summary(conn: &mut SqliteConnection, payer_id: i64, cpt: &str) -> Result<(), AppError> {
    let rows = sqlx::query(
        "SELECT amount_cents, effective_date FROM rates WHERE payer_id = ? AND cpt = ?
         ORDER BY effective_date DESC, id DESC",
    )
    .bind(payer_id)
    .bind(cpt)
    .fetch_all(&mut *conn)
    .await?;
    let history: Vec<(Cents, NaiveDate)> =
        rows.iter().map(|r| (Cents(r.get("amount_cents")), r.get("effective_date"))).collect();
    let latest = summarise(&history, None);
    // The rate in force the day before the latest one starts.
    let prior = latest.and_then(|l| summarise(&history, l.effective_date.pred_opt()));
    sqlx::query(
        "INSERT INTO payer_codes (payer_id, practice_id, cpt, latest_cents, latest_effective, latest_since,
                                  prior_cents, prior_effective, prior_since, prior_known)
         VALUES (?1, (SELECT practice_id FROM payers WHERE id = ?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)
         ON CONFLICT (payer_id, cpt) DO UPDATE SET latest_cents = excluded.latest_cents,
             latest_effective = excluded.latest_effective, latest_since = excluded.latest_since,
             prior_cents = excluded.prior_cents, prior_effective = excluded.prior_effective,
             prior_since = excluded.prior_since, prior_known = 1",
    )
    .bind(payer_id)
    .bind(cpt)
    .bind(latest.map(|l| l.amount.0))
    .bind(latest.map(|l| l.effective_date))
    .bind(latest.map(|l| l.since))
    .bind(prior.map(|l| l.amount.0))
    .bind(prior.map(|l| l.effective_date))
    .bind(prior.map(|l| l.since))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The rate in force on `on` (or the latest, for `None`) from a history sorted newest first.
fn summarise(history: &[(Cents, NaiveDate)], on: Option<NaiveDate>) -> Option<CurrentRate> {
    let mut in_effect = history.iter().skip_while(|(_, eff)| on.is_some_and(|d| *eff > d));
    let &(amount, effective_date) = in_effect.next()?;
    let mut since = effective_date;
    for (a, eff) in in_effect {
        if *a != amount {
            break;
        }
        since = *eff;
    }
    Some(CurrentRate { amount, effective_date, since })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cpt: &str, cents: i64, eff: &str) -> RateRow {
        RateRow {
            cpt: cpt.into(),
            amount: Cents(cents),
            effective_date: eff.parse().unwrap(),
            recorded_at: String::new(),
            recorded_by: String::new(),
        }
    }

    /// The summary answers "the rate in force today" for any day, latest rate in the future or
    /// not, exactly as a walk over the history does.
    #[tokio::test]
    async fn summaries_agree_with_the_history_on_every_day() {
        use crate::invocation::Tenant;
        use chrono::TimeZone;
        let store = Store::open_in_memory().await.unwrap();
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
        let practice = store.ensure_practice(&Tenant::console("t"), "t", at).await.unwrap();
        let audit = Audit { practice_id: practice.id, actor: "tester".into(), at };
        let new = crate::store::NewPayer::new("Cigna", PayerKind::Commercial);
        let payer = store.insert_payer(practice.id, &new, &[], &audit).await.unwrap();
        let d = |s: &str| -> NaiveDate { s.parse().unwrap() };
        for (cents, eff) in [
            (11000, "2022-01-01"),
            (11850, "2024-01-01"),
            (11850, "2025-01-01"),
            (13000, "2027-01-01"),
            (14000, "2027-06-01"),
        ] {
            store.set_rate((payer.id, "Cigna"), "90837", Cents(cents), d(eff), &audit).await.unwrap();
        }
        // Only one rate to come for 90834, and nothing in force before it.
        store.set_rate((payer.id, "Cigna"), "90834", Cents(9000), d("2027-01-01"), &audit).await.unwrap();
        for day in ["2021-06-01", "2022-01-01", "2024-06-01", "2026-11-27", "2027-01-01", "2027-03-01", "2027-06-01"] {
            let today = d(day);
            for c in store.payer_code_rates(payer.id, today).await.unwrap() {
                let expected = current_from_history(&store.rate_history(payer.id, Some(&c.cpt)).await.unwrap(), today);
                assert_eq!(
                    c.current.map(|r| (r.amount, r.effective_date, r.since)),
                    expected.map(|r| (r.amount, r.effective_date, r.since)),
                    "{} on {day}",
                    c.cpt
                );
            }
        }
        let on = store.payer_code_rates(payer.id, d("2026-11-27")).await.unwrap();
        let c90837 = on.iter().find(|c| c.cpt == "90837").unwrap();
        assert_eq!(c90837.current.unwrap().since, d("2024-01-01"));
        assert_eq!(c90837.pending.map(|p| (p.amount, p.effective_date)), Some((Cents(14000), d("2027-06-01"))));
        let c90834 = on.iter().find(|c| c.cpt == "90834").unwrap();
        assert!(c90834.current.is_none() && c90834.pending.is_some());
    }

    /// The best peer per code from the one statement is the best of every qualifying peer's
    /// rate in force, read code by code: peers in force, with a raise to come, with two rates
    /// to come, with only a future rate, with a summary from before the prior was kept, out of
    /// network and Medicare (both left out).
    #[tokio::test]
    async fn best_peers_agree_with_each_peers_rate_in_force_on_every_day() {
        use crate::domain::PayerStatus;
        use crate::invocation::Tenant;
        use chrono::TimeZone;
        let store = Store::open_in_memory().await.unwrap();
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
        let practice = store.ensure_practice(&Tenant::console("t"), "t", at).await.unwrap();
        let audit = Audit { practice_id: practice.id, actor: "tester".into(), at };
        let d = |s: &str| -> NaiveDate { s.parse().unwrap() };
        let mut payers = Vec::new();
        for (name, kind, status) in [
            ("Own", PayerKind::Commercial, PayerStatus::InNetwork),
            ("Raise", PayerKind::Commercial, PayerStatus::InNetwork),
            ("Steady", PayerKind::Commercial, PayerStatus::InNetwork),
            ("Twice", PayerKind::Commercial, PayerStatus::InNetwork),
            ("New", PayerKind::Commercial, PayerStatus::InNetwork),
            ("Old", PayerKind::Commercial, PayerStatus::InNetwork),
            ("Gone", PayerKind::Commercial, PayerStatus::OutOfNetwork),
            ("Medicare", PayerKind::Medicare, PayerStatus::InNetwork),
        ] {
            let mut new = crate::store::NewPayer::new(name, kind);
            new.status = status;
            payers.push((store.insert_payer(practice.id, &new, &[], &audit).await.unwrap(), kind, status));
        }
        let rates: &[(usize, &str, i64, &str)] = &[
            (0, "90837", 10000, "2024-01-01"),
            (0, "90834", 8000, "2027-01-01"),
            (1, "90837", 12000, "2023-01-01"),
            (1, "90837", 15000, "2027-01-01"),
            (1, "90834", 9100, "2025-01-01"),
            (1, "90834", 9900, "2027-01-01"),
            (2, "90837", 13000, "2022-01-01"),
            (2, "90834", 9500, "2022-01-01"),
            (3, "90837", 14000, "2024-01-01"),
            (3, "90837", 14500, "2027-01-01"),
            (3, "90837", 16000, "2027-06-01"),
            (4, "90837", 17000, "2027-03-01"),
            (5, "90837", 12500, "2021-01-01"),
            (5, "90837", 15500, "2027-02-01"),
            (5, "90834", 9700, "2021-01-01"),
            (5, "90834", 9800, "2027-02-01"),
            (6, "90837", 30000, "2020-01-01"),
            (7, "90837", 31000, "2020-01-01"),
        ];
        for &(i, cpt, cents, eff) in rates {
            let p = &payers[i].0;
            store.set_rate((p.id, &p.name), cpt, Cents(cents), d(eff), &audit).await.unwrap();
        }
        // A summary written before the prior columns existed.
        sqlx::query(
            "UPDATE payer_codes SET prior_known = 0, prior_cents = NULL, prior_effective = NULL, prior_since = NULL
             WHERE payer_id = ?",
        )
        .bind(payers[5].0.id)
        .execute(store.pool())
        .await
        .unwrap();
        let kinds: Vec<PayerKind> = PayerKind::ALL.into_iter().filter(|k| k.is_negotiable()).collect();
        let own = payers[0].0.id;
        for day in ["2021-06-01", "2024-06-01", "2026-11-27", "2027-01-01", "2027-02-15", "2027-04-01", "2027-07-01"] {
            let today = d(day);
            let (codes, mut best) = store.payer_rates_with_peers(practice.id, own, &kinds, today).await.unwrap();
            assert_eq!(codes.iter().map(|c| c.cpt.as_str()).collect::<Vec<_>>(), ["90834", "90837"]);
            let mut expected: Vec<(String, String, Cents)> = Vec::new();
            for (p, kind, status) in &payers[1..] {
                if *status != PayerStatus::InNetwork || !kind.is_negotiable() {
                    continue;
                }
                for c in store.payer_code_rates(p.id, today).await.unwrap() {
                    let Some(cur) = c.current else { continue };
                    match expected.iter_mut().find(|(cpt, _, _)| *cpt == c.cpt) {
                        Some(e) if e.2 >= cur.amount => {}
                        Some(e) => *e = (c.cpt.clone(), p.name.clone(), cur.amount),
                        None => expected.push((c.cpt.clone(), p.name.clone(), cur.amount)),
                    }
                }
            }
            best.sort();
            expected.sort();
            assert_eq!(best, expected, "on {day}");
        }
    }

    #[test]
    fn current_rate_skips_future_rows_and_finds_the_run_start() {
        let h = vec![
            row("90837", 13000, "2027-01-01"),
            row("90837", 11850, "2026-01-01"),
            row("90837", 11850, "2024-01-01"),
            row("90837", 11000, "2022-01-01"),
        ];
        let c = current_from_history(&h, "2026-11-27".parse().unwrap()).unwrap();
        assert_eq!(c.amount, Cents(11850));
        assert_eq!(c.effective_date.to_string(), "2026-01-01");
        assert_eq!(c.since.to_string(), "2024-01-01");
        assert!(current_from_history(&h, "2021-01-01".parse().unwrap()).is_none());
    }
}
