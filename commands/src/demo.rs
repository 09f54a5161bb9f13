//! `raterise demo`: a realistic group practice built through the real commands, so the demo
//! exercises exactly what a user would type.

use crate::context::Ctx;
use crate::domain::{Credential, Setting};
use crate::error::AppError;
use crate::handlers::{dispatch, Outcome};
use crate::invocation::{Actor, Invocation, Tenant};
use chrono::Datelike;

/// The practice the demo builds and the lines it runs. Rates are illustrative, not any real
/// practice's contract; the Medicare payer's rates come from the shipped fee schedule.
const SETUP: &[&str] = &[
    r#"/setup name:"Riverbend Counseling Group" locality:"MANHATTAN, NY" credential:lcsw timezone:America/New_York npi:1234567893"#,
    r#"/payer add name:Aetna kind:commercial effective:2021-04-01 renewal:2027-04-01 contact_name:"Provider Network Management" contact_email:networkmgmt@example.com volume:"90837=14 90834=6 90791=2 90847=2""#,
    r#"/payer add name:Cigna kind:commercial effective:2020-03-01 renewal:2027-03-01 notice_days:90 contact_name:"Dana Whitfield" contact_email:dana.whitfield@example.com contact_phone:800-555-0142 provider_id:CIG-448812 volume:"90837=18 90834=9 90791=3 90853=4""#,
    r#"/payer add name:"Optum Behavioral Health" kind:mbho effective:2022-07-01 renewal:2027-07-01 notice_days:120 volume:"90837=10 90834=8 90791=2""#,
    r#"/payer add name:"Lyra EAP" kind:eap effective:2024-01-15 volume:"90837=4 90834=3""#,
    r#"/payer add name:Healthfirst kind:managed-medicaid effective:2023-09-01 renewal:2027-09-01 volume:"90837=3 90834=4 90791=1""#,
    r#"/payer add name:"NY Medicaid" kind:medicaid volume:"90837=2 90834=2""#,
    r#"/payer add name:Medicare kind:medicare volume:"90837=5 90834=3 90791=1""#,
    // Aetna raised its rates in 2025; Cigna has not moved since 2023.
    "/rate set Aetna 90837 128.00 effective:2023-04-01",
    "/rate set Aetna 90837 136.00 effective:2025-07-01",
    "/rate set Aetna 90834 102.00 effective:2025-07-01",
    "/rate set Aetna 90791 158.00 effective:2025-07-01",
    "/rate set Aetna 90847 108.00 effective:2025-07-01",
    "/rate set Cigna 90837 118.50 effective:2023-03-01",
    "/rate set Cigna 90834 88.00 effective:2023-03-01",
    "/rate set Cigna 90791 140.00 effective:2023-03-01",
    "/rate set Cigna 90853 32.00 effective:2023-03-01",
    r#"/rate set "Optum Behavioral Health" 90837 112.00 effective:2024-07-01"#,
    r#"/rate set "Optum Behavioral Health" 90834 84.00 effective:2024-07-01"#,
    r#"/rate set "Optum Behavioral Health" 90791 130.00 effective:2024-07-01"#,
    r#"/rate set "Lyra EAP" 90837 95.00 effective:2024-01-15"#,
    r#"/rate set "Lyra EAP" 90834 80.00 effective:2024-01-15"#,
    "/rate set Healthfirst 90837 98.00 effective:2024-09-01",
    "/rate set Healthfirst 90834 74.00 effective:2024-09-01",
    "/rate set Healthfirst 90791 105.00 effective:2024-09-01",
    r#"/rate set "NY Medicaid" 90837 92.00 effective:2025-01-01"#,
    r#"/rate set "NY Medicaid" 90834 70.00 effective:2025-01-01"#,
];

/// The case file (utilization, outcomes, credentials): illustrative aggregates, no patient data.
/// `{from}` and `{to}` are the last twelve full months before today.
const CASE_FILE: &[&str] = &[
    "/practice utilization Cigna from:{from} to:{to} claims:1587 patients:93 clean_claims:97.2% no_shows:5.8% days_to_pay:16",
    "/practice utilization Aetna from:{from} to:{to} claims:1104 patients:71 clean_claims:98.1% no_shows:4.9% days_to_pay:14",
    "/practice outcome measure:PHQ-9 clients:212 improved:61% change:-5.9 from:{from} to:{to}",
    "/practice outcome measure:GAD-7 clients:187 improved:57% change:-4.8 from:{from} to:{to}",
    "/practice credential name:LCSW kind:credential clinicians:6",
    r#"/practice credential name:"Licensed psychologist (PsyD)" kind:credential clinicians:2"#,
    "/practice credential name:EMDR kind:specialty clinicians:3",
    r#"/practice credential name:DBT kind:specialty clinicians:2 note:"weekly adolescent skills group""#,
    r#"/practice credential name:"Child and adolescent therapy" kind:specialty clinicians:4"#,
];

/// An open negotiation with Cigna, waiting on Cigna's answer with a follow-up due today. Each
/// line is dated `{N}` days before today, so the demo makes sense whenever it runs.
const CIGNA_CASE: &[(i64, &str)] = &[
    (45, r#"/negotiate start Cigna date:{date} note:"Rates unchanged since 2023; renewal window opens soon""#),
    (
        42,
        r#"/negotiate log Cigna contact-found date:{date} note:"Dana Whitfield, Provider Contracting (not customer service)""#,
    ),
    (35, r#"/negotiate log Cigna call date:{date} note:"Dana asked for the request in writing, with utilization""#),
    (28, r#"/negotiate log Cigna written-request date:{date} note:"Emailed the letter with the rate table""#),
    (14, r#"/negotiate log Cigna follow-up date:{date} note:"Emailed Dana; no answer yet""#),
];

/// The answers the demo shows once the practice is built.
pub const SHOWCASE: &[&str] =
    &["/rates", "/rates Cigna", "/impact Cigna 10%", "/negotiate status", "/draft followup Cigna"];

pub fn invocation(practice: &str, line: &str) -> Result<Invocation, AppError> {
    let actor = Actor { id: "demo".into(), name: "raterise demo".into(), can_manage: true, roles: vec![] };
    Invocation::from_line(line, Some(Tenant::console(practice)), actor, None)
}

/// Builds (or rebuilds) the demo practice and returns the showcase answers.
pub async fn build(ctx: &Ctx, practice: &str) -> Result<Vec<(String, Outcome)>, AppError> {
    let tenant = Tenant::console(practice);
    if let Some(existing) = ctx.store.find_practice(&tenant).await? {
        let audit =
            crate::store::Audit { practice_id: existing.id, actor: "raterise demo".into(), at: ctx.clock.now() };
        for p in ctx.store.list_payers(existing.id).await? {
            ctx.store.remove_payer(&p, &audit).await?;
        }
    }
    for line in SETUP {
        run_line(ctx, practice, line).await?;
    }
    // Medicare pays the practice the fee-schedule amount for its locality and credential.
    let year = ctx.medicare.latest_year();
    let today = ctx.today_in("America/New_York");
    let jan1 = chrono::NaiveDate::from_ymd_opt(year as i32, 1, 1).expect("valid date");
    let locality = ctx.medicare.find_locality("MANHATTAN, NY").map_err(|e| AppError::user(e.to_string()))?.id();
    for code in ["90837", "90834", "90791"] {
        let amount = ctx
            .medicare
            .amount(code, &locality, year, Credential::Lcsw, Setting::NonFacility)
            .ok()
            .and_then(|a| a.cents())
            .ok_or_else(|| AppError::user(format!("no Medicare amount for {code}")))?;
        let line = format!("/rate set Medicare {code} {amount} effective:{}", jan1.min(today));
        run_line(ctx, practice, &line.replace(['$', ','], "")).await?;
    }
    let first_of_month = today.with_day(1).expect("day 1 exists");
    let (from, to) = (first_of_month - chrono::Months::new(12), first_of_month - chrono::Duration::days(1));
    for line in CASE_FILE {
        run_line(ctx, practice, &line.replace("{from}", &from.to_string()).replace("{to}", &to.to_string())).await?;
    }
    for (days_ago, line) in CIGNA_CASE {
        let date = today - chrono::Duration::days(*days_ago);
        run_line(ctx, practice, &line.replace("{date}", &date.to_string())).await?;
    }
    let mut shown = Vec::new();
    for line in SHOWCASE {
        shown.push((line.to_string(), run_line(ctx, practice, line).await?));
    }
    Ok(shown)
}

async fn run_line(ctx: &Ctx, practice: &str, line: &str) -> Result<Outcome, AppError> {
    let inv = invocation(practice, line)?;
    dispatch(ctx, &inv).await.map_err(|e| match e {
        AppError::User(m) => AppError::User(format!("demo line `{line}`: {m}")),
        other => other,
    })
}
