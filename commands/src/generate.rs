//! Generated practices for benchmarks and load tests: many payers, many codes, years of
//! monthly rate changes, written through the store like a real import.

use crate::context::Ctx;
use crate::domain::{Cents, PayerKind};
use crate::error::AppError;
use crate::invocation::Tenant;
use crate::store::{Audit, NewPayer, Practice, PracticeChanges};
use chrono::{Datelike, NaiveDate};

#[derive(Debug, Clone, Copy)]
pub struct LargeSpec {
    pub payers: usize,
    pub codes_per_payer: usize,
    pub years: i32,
    /// Every code's latest rate starts on the first of next month (an agreed raise not yet in
    /// force), the history ending a month later than usual.
    pub latest_next_month: bool,
}

impl Default for LargeSpec {
    /// The size named by the performance targets: 40 payers, 20 codes, ten years monthly.
    fn default() -> Self {
        LargeSpec { payers: 40, codes_per_payer: 20, years: 10, latest_next_month: false }
    }
}

/// Small deterministic generator so every run builds the same practice.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Builds the practice for `tenant`; the first payer is named "Cigna" so `/rates cigna` works.
pub async fn large_practice(ctx: &Ctx, tenant: &Tenant, spec: LargeSpec) -> Result<Practice, AppError> {
    let now = ctx.clock.now();
    let practice = ctx.store.ensure_practice(tenant, "Large Generated Practice", now).await?;
    let audit = Audit { practice_id: practice.id, actor: "generator".into(), at: now };
    let manhattan = ctx.medicare.find_locality("13202-01").map_err(|e| AppError::user(e.to_string()))?.id();
    let practice = ctx
        .store
        .update_practice(
            practice.id,
            &PracticeChanges {
                locality_id: Some(manhattan),
                credential: Some(crate::domain::Credential::Lcsw),
                ..Default::default()
            },
            &audit,
        )
        .await?;
    let codes: Vec<String> = ctx
        .medicare
        .codes()
        .into_iter()
        .filter(|c| c.status != 'N')
        .map(|c| c.code.clone())
        .take(spec.codes_per_payer)
        .collect();
    let kinds = [PayerKind::Commercial, PayerKind::Mbho, PayerKind::Eap, PayerKind::ManagedMedicaid];
    let today = ctx.today_in(&practice.time_zone);
    let first_month = NaiveDate::from_ymd_opt(today.year() - spec.years, today.month(), 1).expect("valid month");
    let mut rng = Lcg(42);
    for i in 0..spec.payers {
        let name = if i == 0 { "Cigna".to_string() } else { format!("Payer {i:02}") };
        let volume: Vec<(String, i64)> = codes.iter().map(|c| (c.clone(), (rng.next() % 12) as i64)).collect();
        let payer = ctx
            .store
            .insert_payer(
                practice.id,
                &NewPayer {
                    effective_date: Some(first_month),
                    renewal_date: Some(
                        NaiveDate::from_ymd_opt(today.year() + 1, (i % 12) as u32 + 1, 1).expect("date"),
                    ),
                    ..NewPayer::new(&name, kinds[i % kinds.len()])
                },
                &volume,
                &audit,
            )
            .await?;
        let mut rows = Vec::with_capacity(codes.len() * spec.years as usize * 12);
        for (k, code) in codes.iter().enumerate() {
            let mut amount = 6_000 + (rng.next() % 8_000) as i64 + k as i64 * 100;
            let mut month = first_month;
            let last = if spec.latest_next_month {
                today.with_day(1).and_then(|d| d.checked_add_months(chrono::Months::new(1))).expect("date in range")
            } else {
                today
            };
            while month <= last {
                rows.push((code.clone(), Cents(amount), month));
                // Mostly small raises, sometimes flat, never above the accepted maximum.
                amount = (amount + (rng.next() % 300) as i64 - 50).clamp(1_000, 190_000);
                month = month.checked_add_months(chrono::Months::new(1)).expect("date in range");
            }
        }
        ctx.store.import_rate_history(payer.id, &rows, "generated", &audit, &name).await?;
    }
    Ok(practice)
}
