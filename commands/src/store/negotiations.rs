//! Negotiation cases: the ask per code and the dated event log. The stage is derived from the
//! log by `domain::stage`; the store recomputes it inside the transaction that adds an event, so
//! two people logging at once cannot leave a case in a stage its log does not support.

use super::{audit, conflict_or_internal, parse_col, rates, Audit, Store};
use crate::domain::stage::{self, EventKind, Stage};
use crate::domain::Cents;
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartingPoint {
    /// In network: asking for a raise on the current contract.
    RateReview,
    /// Before signing a new contract: the strongest moment.
    NewContract,
}

impl StartingPoint {
    pub fn key(self) -> &'static str {
        match self {
            StartingPoint::RateReview => "rate-review",
            StartingPoint::NewContract => "new-contract",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StartingPoint::RateReview => "rate review of the current contract",
            StartingPoint::NewContract => "new contract, before signing",
        }
    }
}

impl std::str::FromStr for StartingPoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rate-review" => Ok(StartingPoint::RateReview),
            "new-contract" => Ok(StartingPoint::NewContract),
            other => Err(format!("unknown starting point {other}")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    #[serde(skip)]
    pub practice_id: i64,
    #[serde(skip)]
    pub payer_id: i64,
    pub payer: String,
    pub starting_point: StartingPoint,
    pub stage: Stage,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    /// A review agreed with the rates (the next timely ask), if any.
    pub review_on: Option<NaiveDate>,
}

/// One code of the payer's latest counter-offer, with the date it would apply from. An offer
/// lives on the case and reaches the rate history only when accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseOffer {
    pub cpt: String,
    pub offered_cents: Cents,
    pub effective_date: NaiveDate,
}

/// One code of the ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCode {
    pub cpt: String,
    /// The rate in effect when the case opened (none for a code not yet contracted).
    pub start_cents: Option<Cents>,
    pub requested_cents: Cents,
    /// The payer's latest counter-offer for the code.
    pub offered_cents: Option<Cents>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub kind: EventKind,
    pub on: NaiveDate,
    pub recorded_at: String,
    pub recorded_by: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCase {
    pub starting_point: StartingPoint,
    pub opened_on: NaiveDate,
    pub codes: Vec<CaseCode>,
    pub note: Option<String>,
}

/// The stage before and after an event was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Moved {
    pub before: Stage,
    pub after: Stage,
}

/// An answer from the payer (`/negotiate outcome`): the event, and the rates it brings.
#[derive(Debug, Clone)]
pub struct PayerAnswer {
    pub kind: EventKind,
    pub on: NaiveDate,
    pub note: Option<String>,
    /// Offered rates to keep on the case (a counter-offer), never in the rate history.
    pub offered: Vec<(String, Cents)>,
    /// Rates to add to the rate history (an agreement), each from its own date.
    pub rates: Vec<(String, Cents, NaiveDate)>,
    /// When the offer or agreement applies from (the default for each rate).
    pub effective: NaiveDate,
    /// A review date agreed with the rates.
    pub review_on: Option<NaiveDate>,
    pub source: String,
}

const CASE_COLUMNS: &str =
    "n.id, n.practice_id, n.payer_id, p.name AS payer, n.starting_point, n.stage, n.opened_on, n.closed_on, n.review_on";

fn case_from_row(r: &SqliteRow) -> Result<Case, AppError> {
    Ok(Case {
        id: r.get("id"),
        practice_id: r.get("practice_id"),
        payer_id: r.get("payer_id"),
        payer: r.get("payer"),
        starting_point: parse_col(&r.get::<String, _>("starting_point"), "starting_point")?,
        stage: parse_col(&r.get::<String, _>("stage"), "stage")?,
        opened_on: r.get("opened_on"),
        closed_on: r.get("closed_on"),
        review_on: r.get("review_on"),
    })
}

fn already_open(payer: &str) -> String {
    let q = crate::command_line::quote(payer);
    format!(
        "{payer} already has an open negotiation; see it with /negotiate status payer:{q}, or close it (/negotiate log payer:{q} event:withdrawn) before starting another"
    )
}

impl Store {
    /// Opens a case with its ask and the `opened` event, in one transaction.
    pub async fn open_case(
        &self,
        practice_id: i64,
        payer_id: i64,
        payer_name: &str,
        new: &NewCase,
        audit: &Audit,
    ) -> Result<Case, AppError> {
        let mut tx = self.write_tx().await?;
        let now = audit.at.to_rfc3339();
        let id: i64 = sqlx::query(
            "INSERT INTO negotiations (practice_id, payer_id, starting_point, stage, opened_on, created_at, updated_at)
             SELECT ?, id, ?, ?, ?, ?, ? FROM payers WHERE id = ? AND practice_id = ? RETURNING id",
        )
        .bind(practice_id)
        .bind(new.starting_point.key())
        .bind(Stage::Preparing.key())
        .bind(new.opened_on)
        .bind(&now)
        .bind(&now)
        .bind(payer_id)
        .bind(practice_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| conflict_or_internal(e, "opening a negotiation", || already_open(payer_name)))?
        .ok_or_else(|| AppError::user(format!("{payer_name} is no longer one of your payers; /payer list shows them")))?
        .get("id");
        for c in &new.codes {
            sqlx::query(
                "INSERT INTO negotiation_codes (negotiation_id, cpt, start_cents, requested_cents, offered_cents) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&c.cpt)
            .bind(c.start_cents.map(|c| c.0))
            .bind(c.requested_cents.0)
            .bind(c.offered_cents.map(|c| c.0))
            .execute(&mut *tx)
            .await?;
        }
        insert_event(&mut tx, id, EventKind::Opened, new.opened_on, new.note.as_deref(), audit).await?;
        let ask = new.codes.iter().map(|c| format!("{} {}", c.cpt, c.requested_cents)).collect::<Vec<_>>().join(", ");
        audit::record(
            &mut tx,
            audit,
            "negotiation.start",
            &format!("{payer_name} ({}) opened {}; ask {ask}", new.starting_point.key(), new.opened_on),
        )
        .await?;
        let case = fetch_case(&mut tx, id).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// The payer's open case, if any.
    pub async fn open_case_for(&self, practice_id: i64, payer_id: i64) -> Result<Option<Case>, AppError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id
             WHERE n.practice_id = ? AND n.payer_id = ? AND n.closed_on IS NULL"
        ))
        .bind(practice_id)
        .bind(payer_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// The payer's open case, or else its most recent closed one.
    pub async fn latest_case_for(&self, practice_id: i64, payer_id: i64) -> Result<Option<Case>, AppError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id
             WHERE n.practice_id = ? AND n.payer_id = ?
             ORDER BY n.closed_on IS NULL DESC, n.opened_on DESC, n.id DESC LIMIT 1"
        ))
        .bind(practice_id)
        .bind(payer_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// Every case the practice has had with a payer, newest first.
    pub async fn cases_for_payer(&self, practice_id: i64, payer_id: i64) -> Result<Vec<Case>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id
             WHERE n.practice_id = ? AND n.payer_id = ? ORDER BY n.opened_on DESC, n.id DESC"
        ))
        .bind(practice_id)
        .bind(payer_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Every open case of the practice, by payer name.
    pub async fn open_cases(&self, practice_id: i64) -> Result<Vec<Case>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id
             WHERE n.practice_id = ? AND n.closed_on IS NULL ORDER BY p.name COLLATE NOCASE"
        ))
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    pub async fn case_codes(&self, case: &Case) -> Result<Vec<CaseCode>, AppError> {
        let rows = sqlx::query(
            "SELECT c.cpt, c.start_cents, c.requested_cents, c.offered_cents FROM negotiation_codes c
             JOIN negotiations n ON n.id = c.negotiation_id
             WHERE c.negotiation_id = ? AND n.practice_id = ? ORDER BY c.cpt",
        )
        .bind(case.id)
        .bind(case.practice_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CaseCode {
                cpt: r.get("cpt"),
                start_cents: r.get::<Option<i64>, _>("start_cents").map(Cents),
                requested_cents: Cents(r.get("requested_cents")),
                offered_cents: r.get::<Option<i64>, _>("offered_cents").map(Cents),
            })
            .collect())
    }

    /// The payer's latest counter-offer on the case, by code.
    pub async fn case_offers(&self, case: &Case) -> Result<Vec<CaseOffer>, AppError> {
        let rows = sqlx::query(
            "SELECT o.cpt, o.offered_cents, o.effective_date FROM negotiation_offers o
             JOIN negotiations n ON n.id = o.negotiation_id
             WHERE o.negotiation_id = ? AND n.practice_id = ? ORDER BY o.cpt",
        )
        .bind(case.id)
        .bind(case.practice_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| CaseOffer {
                cpt: r.get("cpt"),
                offered_cents: Cents(r.get("offered_cents")),
                effective_date: r.get("effective_date"),
            })
            .collect())
    }

    /// The latest case of each payer of the practice (open first, else the most recent), for
    /// advice that depends on how the last negotiation went.
    pub async fn latest_cases(&self, practice_id: i64) -> Result<Vec<Case>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id
             WHERE n.practice_id = ? AND n.id = (
                 SELECT m.id FROM negotiations m WHERE m.payer_id = n.payer_id
                 ORDER BY m.closed_on IS NULL DESC, m.opened_on DESC, m.id DESC LIMIT 1)
             ORDER BY n.payer_id"
        ))
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// The case's log, by date (events of one day in the order they were recorded).
    pub async fn case_events(&self, case: &Case) -> Result<Vec<CaseEvent>, AppError> {
        let rows = sqlx::query(
            "SELECT e.id, e.kind, e.occurred_on, e.recorded_at, e.recorded_by, e.note FROM negotiation_events e
             JOIN negotiations n ON n.id = e.negotiation_id
             WHERE e.negotiation_id = ? AND n.practice_id = ? ORDER BY e.occurred_on, e.id",
        )
        .bind(case.id)
        .bind(case.practice_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Adds one event to an open case, checked against the whole log in the same transaction.
    /// An event that does not fit is refused with the reason and nothing is written.
    pub async fn log_case_event(
        &self,
        case: &Case,
        kind: EventKind,
        on: NaiveDate,
        note: Option<&str>,
        audit: &Audit,
    ) -> Result<Moved, AppError> {
        let mut tx = self.write_tx().await?;
        let moved = add_event(&mut tx, case, kind, on, note, audit).await?;
        audit::record(
            &mut tx,
            audit,
            "negotiation.log",
            &format!("{}: {} on {on} ({} -> {})", case.payer, kind.key(), moved.before.key(), moved.after.key()),
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Records the payer's answer: the event, the offered rates on the case and the new rates in
    /// the rate history, all or nothing.
    pub async fn record_payer_answer(
        &self,
        case: &Case,
        answer: &PayerAnswer,
        audit: &Audit,
    ) -> Result<Moved, AppError> {
        let mut tx = self.write_tx().await?;
        let moved = add_event(&mut tx, case, answer.kind, answer.on, answer.note.as_deref(), audit).await?;
        for (cpt, offered) in &answer.offered {
            // The ask's codes show the offer beside the ask; every offered code, asked or not, is
            // kept with its date so that accepting the offer later records exactly it.
            sqlx::query("UPDATE negotiation_codes SET offered_cents = ? WHERE negotiation_id = ? AND cpt = ?")
                .bind(offered.0)
                .bind(case.id)
                .bind(cpt)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO negotiation_offers (negotiation_id, cpt, offered_cents, effective_date) VALUES (?, ?, ?, ?)
                 ON CONFLICT (negotiation_id, cpt) DO UPDATE SET offered_cents = excluded.offered_cents,
                     effective_date = excluded.effective_date",
            )
            .bind(case.id)
            .bind(cpt)
            .bind(offered.0)
            .bind(answer.effective)
            .execute(&mut *tx)
            .await?;
        }
        for (cpt, amount, effective) in &answer.rates {
            rates::insert_rate(&mut tx, case.payer_id, cpt, *amount, *effective, Some(&answer.source), audit).await?;
        }
        if answer.review_on.is_some() {
            sqlx::query("UPDATE negotiations SET review_on = ? WHERE id = ?")
                .bind(answer.review_on)
                .bind(case.id)
                .execute(&mut *tx)
                .await?;
        }
        let list = answer.rates.iter().map(|(c, a, e)| format!("{c} {a} from {e}")).collect::<Vec<_>>().join(", ");
        audit::record(
            &mut tx,
            audit,
            "negotiation.outcome",
            &format!(
                "{}: {} on {} ({} -> {}){}",
                case.payer,
                answer.kind.key(),
                answer.on,
                moved.before.key(),
                moved.after.key(),
                if list.is_empty() { String::new() } else { format!("; rates {list}") }
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(moved)
    }
}

async fn fetch_case(conn: &mut SqliteConnection, id: i64) -> Result<Case, AppError> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM negotiations n JOIN payers p ON p.id = n.payer_id WHERE n.id = ?"
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    case_from_row(&row)
}

fn event_from_row(r: &SqliteRow) -> Result<CaseEvent, AppError> {
    Ok(CaseEvent {
        id: r.get("id"),
        kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
        on: r.get("occurred_on"),
        recorded_at: r.get("recorded_at"),
        recorded_by: r.get("recorded_by"),
        note: r.get("note"),
    })
}

async fn insert_event(
    conn: &mut SqliteConnection,
    case_id: i64,
    kind: EventKind,
    on: NaiveDate,
    note: Option<&str>,
    audit: &Audit,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO negotiation_events (negotiation_id, kind, occurred_on, recorded_at, recorded_by, note) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(case_id)
    .bind(kind.key())
    .bind(on)
    .bind(audit.at.to_rfc3339())
    .bind(&audit.actor)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the case's write lock first (so the log read next cannot change underneath), replays the
/// log with the new event in its date order, then writes the event and the derived stage.
async fn add_event(
    conn: &mut SqliteConnection,
    case: &Case,
    kind: EventKind,
    on: NaiveDate,
    note: Option<&str>,
    audit: &Audit,
) -> Result<Moved, AppError> {
    let locked =
        sqlx::query("UPDATE negotiations SET updated_at = ? WHERE id = ? AND practice_id = ? AND closed_on IS NULL")
            .bind(audit.at.to_rfc3339())
            .bind(case.id)
            .bind(case.practice_id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if locked == 0 {
        return Err(AppError::user(format!(
            "{}'s case was closed in the meantime; /negotiate status payer:{} shows how it ended",
            case.payer,
            crate::command_line::quote(&case.payer)
        )));
    }
    let rows = sqlx::query("SELECT id, kind, occurred_on, recorded_at, recorded_by, note FROM negotiation_events WHERE negotiation_id = ? ORDER BY occurred_on, id")
        .bind(case.id)
        .fetch_all(&mut *conn)
        .await?;
    let log: Vec<(EventKind, NaiveDate)> =
        rows.iter().map(event_from_row).map(|e| e.map(|e| (e.kind, e.on))).collect::<Result<_, _>>()?;
    let before = stage::replay(log.iter().map(|(k, _)| *k)).map_err(|(_, m)| {
        AppError::internal(
            "replaying a negotiation log",
            std::io::Error::new(std::io::ErrorKind::InvalidData, m.reason),
        )
    })?;
    let after = stage::insert_dated(&log, (kind, on)).map_err(AppError::user)?;
    insert_event(conn, case.id, kind, on, note, audit).await?;
    let closed_on = after.is_closed().then_some(on);
    sqlx::query("UPDATE negotiations SET stage = ?, closed_on = ? WHERE id = ?")
        .bind(after.key())
        .bind(closed_on)
        .bind(case.id)
        .execute(&mut *conn)
        .await?;
    Ok(Moved { before, after })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::Tenant;
    use chrono::TimeZone;

    async fn setup() -> (Store, Audit, i64, i64) {
        let store = Store::open_in_memory().await.unwrap();
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
        let practice = store.ensure_practice(&Tenant::console("t"), "t", at).await.unwrap();
        let audit = Audit { practice_id: practice.id, actor: "tester".into(), at };
        let new = crate::store::NewPayer::new("Cigna", crate::domain::PayerKind::Commercial);
        let payer = store.insert_payer(practice.id, &new, &[], &audit).await.unwrap();
        (store, audit, practice.id, payer.id)
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn new_case() -> NewCase {
        NewCase {
            starting_point: StartingPoint::RateReview,
            opened_on: d("2026-10-01"),
            codes: vec![CaseCode {
                cpt: "90837".into(),
                start_cents: Some(Cents(11850)),
                requested_cents: Cents(13700),
                offered_cents: None,
            }],
            note: None,
        }
    }

    #[tokio::test]
    async fn one_open_case_per_payer_and_the_stage_follows_the_log() {
        let (store, audit, practice, payer) = setup().await;
        let case = store.open_case(practice, payer, "Cigna", &new_case(), &audit).await.unwrap();
        assert_eq!(case.stage, Stage::Preparing);
        let again = store.open_case(practice, payer, "Cigna", &new_case(), &audit).await.unwrap_err();
        assert!(again.user_message().contains("already has an open negotiation"), "{}", again.user_message());

        let refused =
            store.log_case_event(&case, EventKind::FollowUp, d("2026-10-02"), None, &audit).await.unwrap_err();
        assert!(refused.user_message().contains("no written request"));
        assert_eq!(store.case_events(&case).await.unwrap().len(), 1, "a refused event writes nothing");

        let m = store
            .log_case_event(&case, EventKind::WrittenRequest, d("2026-10-08"), Some("emailed"), &audit)
            .await
            .unwrap();
        assert_eq!(m, Moved { before: Stage::Preparing, after: Stage::WrittenRequestSent });
        let answer = PayerAnswer {
            kind: EventKind::Accepted,
            on: d("2026-11-02"),
            note: None,
            offered: vec![],
            rates: vec![("90837".into(), Cents(13000), d("2027-01-01"))],
            effective: d("2027-01-01"),
            review_on: None,
            source: "test".into(),
        };
        let m = store.record_payer_answer(&case, &answer, &audit).await.unwrap();
        assert_eq!(m.after, Stage::Accepted);
        assert!(store.open_case_for(practice, payer).await.unwrap().is_none());
        let latest = store.latest_case_for(practice, payer).await.unwrap().unwrap();
        assert_eq!(latest.closed_on, Some(d("2026-11-02")));
        assert_eq!(store.rate_history(payer, Some("90837")).await.unwrap()[0].amount, Cents(13000));
        // A closed case frees the payer for a new one.
        store.open_case(practice, payer, "Cigna", &new_case(), &audit).await.unwrap();
        let trail = store.audit_trail(practice, 10).await.unwrap();
        assert!(trail.iter().any(|a| a.action == "negotiation.outcome" && a.detail.contains("90837 $130.00")));
    }

    #[tokio::test]
    async fn a_refused_answer_writes_no_rates() {
        let (store, audit, practice, payer) = setup().await;
        let case = store.open_case(practice, payer, "Cigna", &new_case(), &audit).await.unwrap();
        let answer = PayerAnswer {
            kind: EventKind::Accepted,
            on: d("2026-10-02"),
            note: None,
            offered: vec![],
            rates: vec![("90837".into(), Cents(13000), d("2026-10-02"))],
            effective: d("2026-10-02"),
            review_on: None,
            source: "test".into(),
        };
        let e = store.record_payer_answer(&case, &answer, &audit).await.unwrap_err();
        assert!(e.user_message().contains("never sent a written request"), "{}", e.user_message());
        assert!(store.rate_history(payer, None).await.unwrap().is_empty());
        assert_eq!(store.open_case_for(practice, payer).await.unwrap().unwrap().stage, Stage::Preparing);
    }
}
