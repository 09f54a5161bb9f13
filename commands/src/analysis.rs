//! The rules behind every suggestion: flags, the suggested ask and the next step. Pure functions
//! of the practice's numbers and the date, so each rule is tested on its own.

use crate::domain::stage::Stage;
use crate::domain::{dates, div_round_half_up, Cents, PayerKind, PayerStatus};
use chrono::NaiveDate;
use serde::Serialize;

/// What to do after a no (DOMAIN, the process, step 5), wherever advice is given.
pub const DENIAL_ADVICE: &str = "A first no is common and not the end: ask why, in writing; propose an alternative (a smaller raise now with a review in six months, phased increases, volume-tiered or performance-based rates); then try again with more data (utilization, outcome measures, credentials).";

/// Below this share of Medicare a panel is a walk-away candidate (DOMAIN: red flags).
pub const WALK_AWAY_PCT_OF_MEDICARE: i64 = 80;
/// A rate unchanged this long is due for review.
pub const STALE_AFTER_YEARS: i32 = 2;
/// The standard opening ask when nothing better anchors it.
pub const STANDARD_ASK_PCT: i64 = 10;
/// Asks above this are rarely granted in one round (typical first-round results are 5-25%).
pub const MAX_ASK_PCT: i64 = 25;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "flag", rename_all = "kebab-case")]
pub enum Flag {
    BelowWalkAway { pct_tenths: i64 },
    BelowOtherPayer { payer: String, rate: Cents },
    Unchanged { since: NaiveDate },
}

impl Flag {
    pub fn describe(&self) -> String {
        match self {
            Flag::BelowWalkAway { pct_tenths } => format!(
                "{}.{}% of Medicare: below the {WALK_AWAY_PCT_OF_MEDICARE}% walk-away line",
                pct_tenths / 10,
                pct_tenths % 10
            ),
            Flag::BelowOtherPayer { payer, rate } => format!("below {payer} ({rate})"),
            Flag::Unchanged { since } => format!("unchanged since {since}"),
        }
    }

    pub fn short(&self) -> &'static str {
        match self {
            Flag::BelowWalkAway { .. } => "<80% MCR",
            Flag::BelowOtherPayer { .. } => "below peers",
            Flag::Unchanged { .. } => "stale",
        }
    }
}

/// What one code's comparison rests on.
#[derive(Debug, Clone)]
pub struct CodeFacts<'a> {
    pub rate: Cents,
    pub since: NaiveDate,
    pub medicare: Option<Cents>,
    pub best_other: Option<(&'a str, Cents)>,
    pub market_mid: Option<Cents>,
}

pub fn flags(f: &CodeFacts<'_>, today: NaiveDate) -> Vec<Flag> {
    let mut out = Vec::new();
    if let Some(m) = f.medicare {
        if f.rate.0 * 100 < m.0 * WALK_AWAY_PCT_OF_MEDICARE {
            out.push(Flag::BelowWalkAway {
                pct_tenths: div_round_half_up(f.rate.0 as i128 * 1000, m.0 as i128) as i64,
            });
        }
    }
    if let Some((payer, rate)) = f.best_other {
        if rate > f.rate {
            out.push(Flag::BelowOtherPayer { payer: payer.to_string(), rate });
        }
    }
    if dates::add_years(f.since, STALE_AFTER_YEARS) <= today {
        out.push(Flag::Unchanged { since: f.since });
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ask {
    pub rate: Cents,
    pub increase: Cents,
    /// The rule that produced the number, in words.
    pub rule: String,
}

fn pct_of(amount: Cents, pct: i64) -> Cents {
    Cents(div_round_half_up(amount.0 as i128 * pct as i128, 100) as i64)
}

/// The ask for one code: the highest well-founded anchor (Medicare parity, the practice's best
/// other payer, the market midpoint, or the standard raise), capped at a one-round maximum.
pub fn suggested_ask(kind: PayerKind, f: &CodeFacts<'_>) -> Option<Ask> {
    if !kind.is_negotiable() {
        return None;
    }
    let standard = pct_of(f.rate, 100 + STANDARD_ASK_PCT);
    let mut best = (standard, format!("standard {STANDARD_ASK_PCT}% raise"));
    let mut consider = |amount: Cents, rule: String| {
        if amount > best.0 {
            best = (amount, rule);
        }
    };
    if let Some(m) = f.medicare {
        consider(m, format!("Medicare parity ({m})"));
    }
    if let Some((payer, rate)) = f.best_other {
        consider(rate, format!("match {payer} ({rate})"));
    }
    if let Some(mid) = f.market_mid {
        consider(mid, format!("market midpoint ({mid})"));
    }
    // Rounded down, so that the ask shown as "capped at +25%" is never a cent above 25%.
    let cap = Cents((f.rate.0 as i128 * (100 + MAX_ASK_PCT) as i128 / 100) as i64);
    let (rate, rule) =
        if best.0 > cap { (cap, format!("{}, capped at +{MAX_ASK_PCT}% for one round", best.1)) } else { best };
    Some(Ask { rate, increase: rate - f.rate, rule })
}

/// Yearly dollars of a per-session change at a weekly volume.
pub fn yearly(per_session: Cents, weekly_volume: i64, weeks_per_year: i64) -> Cents {
    Cents(per_session.0 * weekly_volume * weeks_per_year)
}

#[derive(Debug, Clone)]
pub struct PayerTiming {
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub renewal_date: Option<NaiveDate>,
    pub notice_days: i64,
    /// The payer's latest negotiation (open, or else the most recent), if any.
    pub last_case: Option<LastCase>,
}

/// What the advice needs of the payer's latest negotiation.
#[derive(Debug, Clone, Copy)]
pub struct LastCase {
    pub stage: Stage,
    pub closed_on: Option<NaiveDate>,
    /// A review agreed with the rates.
    pub review_on: Option<NaiveDate>,
}

impl From<&crate::store::negotiations::Case> for LastCase {
    fn from(c: &crate::store::negotiations::Case) -> LastCase {
        LastCase { stage: c.stage, closed_on: c.closed_on, review_on: c.review_on }
    }
}

/// Why the next opening after an agreement falls when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextRound {
    /// The review date agreed with the rates.
    AgreedReview,
    /// The renewal window after the one just used.
    RenewalWindow,
    /// No renewal date on file: a year after the agreement.
    YearAfter,
}

impl NextRound {
    pub fn describe(self, date: NaiveDate) -> String {
        match self {
            NextRound::AgreedReview => format!("the review agreed for {date}"),
            NextRound::RenewalWindow => format!("the next renewal window, opening {date}"),
            NextRound::YearAfter => {
                format!("{date}, a year after the agreement (add the renewal date with /payer edit to be exact)")
            }
        }
    }
}

/// After an agreement, the next time a raise is worth asking for, while it is still ahead:
/// the review agreed, else the following renewal window (not the one the agreement was reached
/// in or just before), else a year on.
pub fn agreed_hold(t: &PayerTiming, today: NaiveDate) -> Option<(NaiveDate, NextRound, NaiveDate)> {
    let case = t.last_case?;
    if case.stage != Stage::Accepted {
        return None;
    }
    let agreed = case.closed_on?;
    let (next, why) = match (case.review_on, t.renewal_date) {
        (Some(review), _) => (review, NextRound::AgreedReview),
        (None, Some(renewal)) => {
            // An agreement reached inside a renewal window, or at most one window's length
            // before it opens, is that renewal's round: the next opening is the window after.
            let covered_until = agreed + chrono::Duration::days(t.notice_days.max(0));
            let mut from = agreed;
            loop {
                let (opens, anniversary) = renewal_window(renewal, t.notice_days, from);
                if opens > covered_until {
                    break (opens, NextRound::RenewalWindow);
                }
                from = anniversary + chrono::Duration::days(1);
            }
        }
        (None, None) => (dates::add_years(agreed, 1), NextRound::YearAfter),
    };
    (next > today).then_some((next, why, agreed))
}

/// When the renewal window opens and closes for the next anniversary on or after `today`.
pub fn renewal_window(renewal: NaiveDate, notice_days: i64, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let anniversary = dates::next_anniversary(renewal, today);
    (anniversary - chrono::Duration::days(notice_days), anniversary)
}

fn dates_plural(n: i64) -> String {
    crate::domain::plural(n, "day")
}

/// One line saying what to do next with this payer.
pub fn next_step(
    t: &PayerTiming,
    payer_name: &str,
    any_flag: bool,
    stale_since: Option<NaiveDate>,
    today: NaiveDate,
) -> String {
    match t.kind {
        PayerKind::Medicare => {
            return "Medicare pays one schedule to everyone in your locality: use it as the benchmark for your other payers, not as a negotiation target.".into()
        }
        PayerKind::Medicaid => {
            return "State Medicaid rates are set by the state: push through your state professional association; managed Medicaid plans are where there is room to negotiate.".into()
        }
        _ => {}
    }
    match t.status {
        PayerStatus::Applying => {
            return format!("You have not signed with {payer_name} yet, the strongest moment to negotiate: answer their offer with your ask per code before you sign.")
        }
        PayerStatus::Dropped | PayerStatus::OutOfNetwork => {
            return format!("You are not in network with {payer_name}: these rates only matter if you rejoin; set the status to applying when you do.")
        }
        PayerStatus::InNetwork => {}
    }
    if let Some((next, why, agreed)) = agreed_hold(t, today) {
        return format!(
            "Rates were agreed with {payer_name} on {agreed}: the next opening is {}, and the suggested ask waits for it. Until then, keep your case file current (utilization, outcome measures, credentials).",
            why.describe(next)
        );
    }
    match t.last_case {
        Some(c) if c.stage == Stage::Denied => {
            return format!("{payer_name} said no to the last request. {DENIAL_ADVICE}")
        }
        Some(c) if c.closed_on.is_none() => {
            return format!(
                "A negotiation with {payer_name} is under way ({}): /negotiate status shows what is due next.",
                c.stage.label()
            )
        }
        _ => {}
    }
    if let Some(renewal) = t.renewal_date {
        let (opens, anniversary) = renewal_window(renewal, t.notice_days, today);
        let days_to_open = (opens - today).num_days();
        if days_to_open > 0 {
            let mut s = format!(
                "The renewal window opens on {opens} ({} from now, {} before the {anniversary} anniversary): build your case file and find the right contact now.",
                dates_plural(days_to_open),
                dates_plural(t.notice_days)
            );
            if let Some(since) = stale_since {
                s.push_str(&format!(" Rates unchanged since {since} are also a reason to ask before then."));
            }
            return s;
        }
        let left = (anniversary - today).num_days();
        return format!(
            "You are inside the renewal window: {} to the {anniversary} anniversary. Call {payer_name}'s provider contracting team with your ask now.",
            dates_plural(left)
        );
    }
    if let Some(since) = stale_since {
        return format!(
            "Rates unchanged since {since} are due for review: call {payer_name}'s provider contracting team with your ask, then add the renewal date (/payer edit) so reminders can follow."
        );
    }
    if any_flag {
        return format!(
            "Call {payer_name}'s provider contracting team (not customer service) with your ask, and add the contract's renewal date with /payer edit so the window is tracked."
        );
    }
    let q = crate::command_line::quote(payer_name);
    format!("Add {payer_name}'s renewal date (/payer edit name:{q} renewal:YYYY-MM-DD) so I can tell you when the negotiation window opens.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts<'a>(rate: i64) -> CodeFacts<'a> {
        CodeFacts { rate: Cents(rate), since: d("2026-01-01"), medicare: None, best_other: None, market_mid: None }
    }

    #[test]
    fn standard_raise_when_nothing_anchors_higher() {
        let a = suggested_ask(PayerKind::Commercial, &facts(10000)).unwrap();
        assert_eq!(a.rate, Cents(11000));
        assert_eq!(a.increase, Cents(1000));
        assert!(a.rule.contains("standard 10%"));
    }

    #[test]
    fn highest_anchor_wins_and_is_capped() {
        let mut f = facts(11850);
        f.medicare = Some(Cents(12525));
        f.best_other = Some(("Aetna", Cents(13500)));
        let a = suggested_ask(PayerKind::Commercial, &f).unwrap();
        assert_eq!(a.rate, Cents(13500));
        assert_eq!(a.rule, "match Aetna ($135.00)");
        f.medicare = Some(Cents(20000));
        let a = suggested_ask(PayerKind::Commercial, &f).unwrap();
        // 118.50 x 1.25 = 148.125 -> 148.12: the cap rounds down, never above +25%.
        assert_eq!(a.rate, Cents(14812));
        assert!(crate::domain::percent_of(a.increase, f.rate).unwrap() <= 25.0);
        assert!(a.rule.starts_with("Medicare parity ($200.00), capped at +25%"));
    }

    #[test]
    fn no_ask_for_fixed_schedules() {
        assert!(suggested_ask(PayerKind::Medicare, &facts(10000)).is_none());
        assert!(suggested_ask(PayerKind::Medicaid, &facts(10000)).is_none());
        assert!(suggested_ask(PayerKind::ManagedMedicaid, &facts(10000)).is_some());
    }

    #[test]
    fn flags_walk_away_peers_and_stale() {
        let mut f = facts(7900);
        f.medicare = Some(Cents(10000));
        f.best_other = Some(("Aetna", Cents(9000)));
        f.since = d("2024-11-27");
        let fl = flags(&f, d("2026-11-27"));
        assert_eq!(fl.len(), 3);
        assert_eq!(fl[0], Flag::BelowWalkAway { pct_tenths: 790 });
        assert!(fl[0].describe().starts_with("79.0% of Medicare"));
        f.rate = Cents(8000);
        f.since = d("2024-11-28");
        let fl = flags(&f, d("2026-11-27"));
        assert_eq!(fl.len(), 1, "exactly 80% is not below the line, and 2 years less a day is not stale");
    }

    #[test]
    fn yearly_impact_uses_volume_and_weeks() {
        // DOMAIN: 25 sessions a week for 48 weeks at +$10 is +$12,000 a year.
        assert_eq!(yearly(Cents(1000), 25, 48), Cents(1_200_000));
    }

    #[test]
    fn next_step_follows_the_renewal_window() {
        let t = PayerTiming {
            kind: PayerKind::Commercial,
            status: PayerStatus::InNetwork,
            renewal_date: Some(d("2027-03-01")),
            notice_days: 90,
            last_case: None,
        };
        let s = next_step(&t, "Cigna", false, None, d("2026-11-27"));
        assert!(s.contains("opens on 2026-12-01 (4 days"), "{s}");
        let s = next_step(&t, "Cigna", false, None, d("2026-12-15"));
        assert!(s.contains("inside the renewal window: 76 days"), "{s}");
        let t2 = PayerTiming { kind: PayerKind::Medicare, ..t.clone() };
        assert!(next_step(&t2, "Medicare", true, None, d("2026-11-27")).contains("benchmark"));
        let t3 = PayerTiming { status: PayerStatus::Applying, renewal_date: None, ..t };
        assert!(next_step(&t3, "Cigna", true, None, d("2026-11-27")).contains("before you sign"));
    }

    #[test]
    fn window_across_a_year_boundary() {
        let (opens, anniv) = renewal_window(d("2020-01-15"), 90, d("2026-11-27"));
        assert_eq!(anniv, d("2027-01-15"));
        assert_eq!(opens, d("2026-10-17"));
    }
}
