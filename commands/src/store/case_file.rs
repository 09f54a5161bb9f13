//! The practice's case file: what it brings to a negotiation. Utilization per payer, outcome
//! measures, credentials and specialties. Aggregates only: no patient is ever identified here.

use super::{audit, conflict_or_internal, parse_col, Audit, Store};
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;

/// Claims and payment figures with one payer over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Utilization {
    pub payer: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub claims: i64,
    pub unique_patients: i64,
    /// Share of claims paid without rejection, in basis points (96.5% is 9650).
    pub clean_claim_bp: Option<i64>,
    /// Share of booked sessions missed or cancelled late, in basis points.
    pub no_show_bp: Option<i64>,
    /// Average days from claim to payment.
    pub days_to_payment: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeMeasure {
    /// PHQ-9, GAD-7, ...
    pub measure: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Clients measured at least twice.
    pub clients: i64,
    /// Share of them with meaningful improvement, in basis points.
    pub improved_bp: Option<i64>,
    /// Average change in score, in tenths of a point (-6.2 is -62).
    pub avg_change_tenths: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// A license or degree held by clinicians (LCSW, PsyD, ...).
    Credential,
    /// A specialty or certified method (EMDR, DBT, child and adolescent, ...).
    Specialty,
}

impl CredentialKind {
    pub fn key(self) -> &'static str {
        match self {
            CredentialKind::Credential => "credential",
            CredentialKind::Specialty => "specialty",
        }
    }
}

impl std::str::FromStr for CredentialKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "credential" | "license" | "licence" | "degree" => Ok(CredentialKind::Credential),
            "specialty" | "speciality" | "method" | "certification" => Ok(CredentialKind::Specialty),
            other => Err(format!(
                "`{other}` is not a kind of entry; use credential (a license) or specialty (EMDR, DBT, ...)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseCredential {
    pub name: String,
    pub kind: CredentialKind,
    /// Clinicians in the practice who hold it.
    pub clinicians: Option<i64>,
    pub note: Option<String>,
    /// When it was earned, if given: it opens a window to ask payers for more.
    pub earned_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseFile {
    pub utilization: Vec<Utilization>,
    pub outcomes: Vec<OutcomeMeasure>,
    pub credentials: Vec<CaseCredential>,
}

impl CaseFile {
    pub fn utilization_for(&self, payer: &str) -> Option<&Utilization> {
        self.utilization.iter().find(|u| u.payer.eq_ignore_ascii_case(payer))
    }
}

/// What `/practice remove` can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseFileItem {
    Utilization,
    Outcome,
    Credential,
}

impl Store {
    /// Saves the payer's utilization figures, replacing earlier ones.
    pub async fn save_utilization(
        &self,
        practice_id: i64,
        payer_id: i64,
        u: &Utilization,
        audit: &Audit,
    ) -> Result<(), AppError> {
        let mut tx = self.write_tx().await?;
        let written = sqlx::query(
            "INSERT INTO payer_utilization (payer_id, period_start, period_end, claims, unique_patients, clean_claim_bp,
                                            no_show_bp, days_to_payment, recorded_at, recorded_by)
             SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM payers WHERE id = ? AND practice_id = ?
             ON CONFLICT (payer_id) DO UPDATE SET period_start = excluded.period_start, period_end = excluded.period_end,
                 claims = excluded.claims, unique_patients = excluded.unique_patients,
                 clean_claim_bp = excluded.clean_claim_bp, no_show_bp = excluded.no_show_bp,
                 days_to_payment = excluded.days_to_payment, recorded_at = excluded.recorded_at,
                 recorded_by = excluded.recorded_by",
        )
        .bind(u.period_start)
        .bind(u.period_end)
        .bind(u.claims)
        .bind(u.unique_patients)
        .bind(u.clean_claim_bp)
        .bind(u.no_show_bp)
        .bind(u.days_to_payment)
        .bind(audit.at.to_rfc3339())
        .bind(&audit.actor)
        .bind(payer_id)
        .bind(practice_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            return Err(AppError::user(format!("{} is no longer one of your payers; /payer list shows them", u.payer)));
        }
        audit::record(
            &mut tx,
            audit,
            "casefile.utilization",
            &format!(
                "{} {}..{}: {} claims, {} patients",
                u.payer, u.period_start, u.period_end, u.claims, u.unique_patients
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves an outcome measure, replacing the earlier figures of the same measure.
    pub async fn save_outcome_measure(
        &self,
        practice_id: i64,
        m: &OutcomeMeasure,
        audit: &Audit,
    ) -> Result<(), AppError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM outcome_measures WHERE practice_id = ? AND measure = ? COLLATE NOCASE")
            .bind(practice_id)
            .bind(&m.measure)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO outcome_measures (practice_id, measure, period_start, period_end, clients, improved_bp,
                                           avg_change_tenths, recorded_at, recorded_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(practice_id)
        .bind(&m.measure)
        .bind(m.period_start)
        .bind(m.period_end)
        .bind(m.clients)
        .bind(m.improved_bp)
        .bind(m.avg_change_tenths)
        .bind(audit.at.to_rfc3339())
        .bind(&audit.actor)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, audit, "casefile.outcome", &format!("{}: {} clients", m.measure, m.clients)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a credential or specialty, replacing an entry of the same name.
    pub async fn save_case_credential(
        &self,
        practice_id: i64,
        c: &CaseCredential,
        audit: &Audit,
    ) -> Result<(), AppError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM practice_credentials WHERE practice_id = ? AND name = ? COLLATE NOCASE")
            .bind(practice_id)
            .bind(&c.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO practice_credentials (practice_id, name, kind, clinicians, note, earned_on, recorded_at, recorded_by)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(practice_id)
        .bind(&c.name)
        .bind(c.kind.key())
        .bind(c.clinicians)
        .bind(&c.note)
        .bind(c.earned_on)
        .bind(audit.at.to_rfc3339())
        .bind(&audit.actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            conflict_or_internal(e, "saving a credential", || format!("{} is already in the case file", c.name))
        })?;
        audit::record(&mut tx, audit, "casefile.credential", &format!("{} ({})", c.name, c.kind.key())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an entry by name (the payer's name for utilization). False when there was none.
    pub async fn remove_case_file_item(
        &self,
        practice_id: i64,
        item: CaseFileItem,
        name: &str,
        audit: &Audit,
    ) -> Result<bool, AppError> {
        let mut tx = self.write_tx().await?;
        let sql = match item {
            CaseFileItem::Utilization => {
                "DELETE FROM payer_utilization WHERE payer_id IN
                    (SELECT id FROM payers WHERE practice_id = ?1 AND name = ?2 COLLATE NOCASE)"
            }
            CaseFileItem::Outcome => {
                "DELETE FROM outcome_measures WHERE practice_id = ?1 AND measure = ?2 COLLATE NOCASE"
            }
            CaseFileItem::Credential => {
                "DELETE FROM practice_credentials WHERE practice_id = ?1 AND name = ?2 COLLATE NOCASE"
            }
        };
        let removed = sqlx::query(sql).bind(practice_id).bind(name.trim()).execute(&mut *tx).await?.rows_affected();
        if removed > 0 {
            let what = match item {
                CaseFileItem::Utilization => "utilization",
                CaseFileItem::Outcome => "outcome",
                CaseFileItem::Credential => "credential",
            };
            audit::record(&mut tx, audit, "casefile.remove", &format!("{what} {}", name.trim())).await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    pub async fn case_file(&self, practice_id: i64) -> Result<CaseFile, AppError> {
        let rows = sqlx::query(
            "SELECT p.name, u.period_start, u.period_end, u.claims, u.unique_patients, u.clean_claim_bp, u.no_show_bp,
                    u.days_to_payment
             FROM payer_utilization u JOIN payers p ON p.id = u.payer_id
             WHERE p.practice_id = ? ORDER BY p.name COLLATE NOCASE",
        )
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        let utilization = rows
            .into_iter()
            .map(|r| Utilization {
                payer: r.get("name"),
                period_start: r.get("period_start"),
                period_end: r.get("period_end"),
                claims: r.get("claims"),
                unique_patients: r.get("unique_patients"),
                clean_claim_bp: r.get("clean_claim_bp"),
                no_show_bp: r.get("no_show_bp"),
                days_to_payment: r.get("days_to_payment"),
            })
            .collect();
        let rows = sqlx::query(
            "SELECT measure, period_start, period_end, clients, improved_bp, avg_change_tenths FROM outcome_measures
             WHERE practice_id = ? ORDER BY measure COLLATE NOCASE",
        )
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        let outcomes = rows
            .into_iter()
            .map(|r| OutcomeMeasure {
                measure: r.get("measure"),
                period_start: r.get("period_start"),
                period_end: r.get("period_end"),
                clients: r.get("clients"),
                improved_bp: r.get("improved_bp"),
                avg_change_tenths: r.get("avg_change_tenths"),
            })
            .collect();
        let rows = sqlx::query(
            "SELECT name, kind, clinicians, note, earned_on FROM practice_credentials WHERE practice_id = ?
             ORDER BY kind, name COLLATE NOCASE",
        )
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        let credentials = rows
            .iter()
            .map(|r| {
                Ok(CaseCredential {
                    name: r.get("name"),
                    kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
                    clinicians: r.get("clinicians"),
                    note: r.get("note"),
                    earned_on: r.get("earned_on"),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(CaseFile { utilization, outcomes, credentials })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::Tenant;
    use chrono::TimeZone;

    #[tokio::test]
    async fn entries_replace_by_key_and_are_scoped_to_the_practice() {
        let store = Store::open_in_memory().await.unwrap();
        let at = chrono::Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
        let a = store.ensure_practice(&Tenant::console("a"), "a", at).await.unwrap();
        let b = store.ensure_practice(&Tenant::console("b"), "b", at).await.unwrap();
        let audit = Audit { practice_id: a.id, actor: "tester".into(), at };
        let new = crate::store::NewPayer::new("Cigna", crate::domain::PayerKind::Commercial);
        let payer = store.insert_payer(a.id, &new, &[], &audit).await.unwrap();
        let mut u = Utilization {
            payer: "Cigna".into(),
            period_start: "2025-11-01".parse().unwrap(),
            period_end: "2026-10-31".parse().unwrap(),
            claims: 1500,
            unique_patients: 90,
            clean_claim_bp: Some(9650),
            no_show_bp: None,
            days_to_payment: Some(18),
        };
        store.save_utilization(a.id, payer.id, &u, &audit).await.unwrap();
        u.claims = 1600;
        store.save_utilization(a.id, payer.id, &u, &audit).await.unwrap();
        // Another practice cannot write figures for this practice's payer.
        assert!(store.save_utilization(b.id, payer.id, &u, &audit).await.is_err());
        let m = OutcomeMeasure {
            measure: "PHQ-9".into(),
            period_start: None,
            period_end: None,
            clients: 40,
            improved_bp: Some(6200),
            avg_change_tenths: Some(-58),
        };
        store.save_outcome_measure(a.id, &m, &audit).await.unwrap();
        store
            .save_outcome_measure(a.id, &OutcomeMeasure { measure: "phq-9".into(), clients: 41, ..m }, &audit)
            .await
            .unwrap();
        let c = CaseCredential {
            name: "EMDR".into(),
            kind: CredentialKind::Specialty,
            clinicians: Some(3),
            note: None,
            earned_on: None,
        };
        store.save_case_credential(a.id, &c, &audit).await.unwrap();

        let file = store.case_file(a.id).await.unwrap();
        assert_eq!(file.utilization.len(), 1);
        assert_eq!(file.utilization_for("cigna").unwrap().claims, 1600);
        assert_eq!(file.outcomes.len(), 1);
        assert_eq!(file.outcomes[0].clients, 41);
        assert_eq!(file.credentials, vec![c]);
        assert!(store.case_file(b.id).await.unwrap().outcomes.is_empty());

        assert!(store.remove_case_file_item(a.id, CaseFileItem::Credential, "emdr", &audit).await.unwrap());
        assert!(!store.remove_case_file_item(a.id, CaseFileItem::Credential, "emdr", &audit).await.unwrap());
        assert!(store.remove_case_file_item(a.id, CaseFileItem::Utilization, "Cigna", &audit).await.unwrap());
        assert!(store.case_file(a.id).await.unwrap().utilization.is_empty());
    }
}
