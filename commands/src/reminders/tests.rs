use super::*;
use crate::domain::stage::EventKind as E;
use chrono::{Datelike, Weekday};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn case(id: i64, events: &[(E, &str)]) -> PlanCase {
    let log: Vec<Dated> = events.iter().map(|(k, s)| (*k, d(s))).collect();
    let stage = crate::domain::stage::replay(log.iter().map(|(k, _)| *k)).unwrap();
    PlanCase { id, payer_id: 100 + id, stage, log }
}

fn payer(id: i64) -> PlanPayer {
    PlanPayer {
        id,
        kind: PayerKind::Commercial,
        status: PayerStatus::InNetwork,
        renewal_date: None,
        notice_days: 90,
        last_rate_change: None,
        last_case_opened: None,
        has_open_case: false,
        last_agreed_on: None,
        review_on: None,
    }
}

fn of(kind: Kind, all: &[Desired]) -> Vec<NaiveDate> {
    all.iter().filter(|x| x.kind == kind).map(|x| x.due_on).collect()
}

fn sent(kind: Kind, subject: &str, due_on: &str, on: &str) -> Handled {
    Handled { kind, subject_key: subject.into(), due_on: d(due_on), on: d(on) }
}

#[test]
fn follow_ups_every_fourteen_days_until_the_payer_answers_then_none() {
    // Written request on Thu 2026-10-08: the first follow-up is 14 days later.
    let mut events = vec![(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-08")];
    let c = case(1, &events);
    let mut handled = vec![];
    let want = ["2026-10-22", "2026-11-05", "2026-11-19", "2026-12-03"];
    // Each reminder is posted on its day and nobody logs a follow-up: the next one comes two
    // weeks after the last one posted, and so on.
    for (i, w) in want.iter().enumerate() {
        let today = d(w) - Duration::days(1);
        let all = desired(&[], std::slice::from_ref(&c), &handled, today);
        assert_eq!(of(Kind::FollowUp, &all), vec![d(w)], "round {i}");
        handled.push(sent(Kind::FollowUp, "case:1", w, w));
    }
    // Logging a follow-up (a day late) puts the next one 14 days after it.
    events.push((E::FollowUp, "2026-12-04"));
    let c = case(1, &events);
    let all = desired(&[], &[c], &handled, d("2026-12-04"));
    assert_eq!(of(Kind::FollowUp, &all), vec![d("2026-12-18")]);
    // The escalation is planned once, 30 days after the request, whatever the follow-ups do.
    assert_eq!(of(Kind::Escalation, &all), vec![d("2026-11-07")]);

    // The payer answers: no follow-up and no escalation.
    for answer in [E::CounterOffer, E::Denied, E::Accepted] {
        let mut answered = events.clone();
        answered.push((answer, "2026-12-10"));
        let all = desired(&[], &[case(1, &answered)], &handled, d("2026-12-10"));
        assert!(all.is_empty(), "{answer:?}: {all:?}");
    }
    // Withdrawn closes the case.
    let mut dropped = events.clone();
    dropped.push((E::Withdrawn, "2026-12-10"));
    assert!(desired(&[], &[case(1, &dropped)], &handled, d("2026-12-10")).is_empty());
}

#[test]
fn a_reminder_posted_late_counts_from_the_day_it_was_posted() {
    let c = case(3, &[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-08")]);
    // Due 10-22 but the bot was down until 11-20: the next one is two weeks after 11-20, not
    // 11-05 (which would post twice in a row).
    let handled = vec![sent(Kind::FollowUp, "case:3", "2026-10-22", "2026-11-20")];
    let all = desired(&[], std::slice::from_ref(&c), &handled, d("2026-11-20"));
    assert_eq!(of(Kind::FollowUp, &all), vec![d("2026-12-04")]);
    // Another case's reminders do not count.
    let other = vec![sent(Kind::FollowUp, "case:9", "2026-10-22", "2026-10-22")];
    assert_eq!(of(Kind::FollowUp, &desired(&[], &[c], &other, d("2026-10-20"))), vec![d("2026-10-22")]);
}

#[test]
fn no_follow_ups_before_the_written_request() {
    let c = case(2, &[(E::Opened, "2026-10-01"), (E::Call, "2026-10-02")]);
    assert!(desired(&[], &[c], &[], d("2026-11-27")).is_empty());
    // A counter-proposal restarts the wait: follow-ups count from it.
    let c = case(
        2,
        &[
            (E::Opened, "2026-09-01"),
            (E::WrittenRequest, "2026-09-02"),
            (E::CounterOffer, "2026-10-01"),
            (E::CounterSent, "2026-10-10"),
        ],
    );
    let all = desired(&[], &[c], &[], d("2026-10-10"));
    assert_eq!(of(Kind::FollowUp, &all), vec![d("2026-10-24")]);
    assert_eq!(of(Kind::Escalation, &all), vec![d("2026-11-09")]);
}

#[test]
fn renewal_window_across_a_year_boundary() {
    // Anniversary 2027-01-15 with 90 days' notice: the window opens 2026-10-17; the last call is
    // 2026-12-16.
    let mut p = payer(5);
    p.renewal_date = Some(d("2020-01-15"));
    let all = desired(&[p.clone()], &[], &[], d("2026-09-01"));
    assert_eq!(of(Kind::RenewalWindow, &all), vec![d("2026-10-17")]);
    assert_eq!(of(Kind::RenewalLastCall, &all), vec![d("2026-12-16")]);
    assert!(all.iter().all(|x| x.subject_key == "payer:5" && x.payer_id == Some(5)));
    // After the anniversary, next year's window.
    let all = desired(&[p.clone()], &[], &[], d("2027-01-16"));
    assert_eq!(of(Kind::RenewalWindow, &all), vec![d("2027-10-17")]);
    // A case opened for this renewal: no renewal reminders.
    p.last_case_opened = Some(d("2026-10-20"));
    assert!(of(Kind::RenewalWindow, &desired(&[p.clone()], &[], &[], d("2026-11-01"))).is_empty());
    p.last_case_opened = None;
    p.has_open_case = true;
    assert!(desired(&[p], &[], &[], d("2026-11-01")).is_empty());
}

#[test]
fn renewal_reminders_land_on_a_business_day() {
    // Anniversary Mon 2027-03-01 with 59 days' notice: the window opens on New Year's Day (a
    // Friday, a federal holiday: posted Monday 01-04) and the last call falls on Saturday 2027-01-30.
    let mut p = payer(6);
    p.renewal_date = Some(d("2024-03-01"));
    p.notice_days = 59;
    let all = desired(&[p], &[], &[], d("2026-11-27"));
    let opens = of(Kind::RenewalWindow, &all)[0];
    assert_eq!(opens, d("2027-01-01"));
    assert_eq!(opens.weekday(), Weekday::Fri);
    assert_eq!(business_day(opens), d("2027-01-04"));
    assert_eq!(due_at(opens, "America/New_York"), utc("2027-01-04T14:00:00Z"));
    let last = of(Kind::RenewalLastCall, &all)[0];
    assert_eq!(last, d("2027-01-30"));
    assert_eq!(last.weekday(), Weekday::Sat);
    // Saturday moves to Monday 09:00 New York (EST, UTC-5).
    assert_eq!(business_day(last), d("2027-02-01"));
    assert_eq!(due_at(last, "America/New_York"), utc("2027-02-01T14:00:00Z"));
    // Across a year boundary: Sat 2027-01-02 -> Mon 2027-01-04; Sun 2026-12-27 -> Mon 12-28.
    assert_eq!(business_day(d("2027-01-02")), d("2027-01-04"));
    assert_eq!(business_day(d("2026-12-27")), d("2026-12-28"));
    assert_eq!(due_at(d("2027-01-02"), "America/Chicago"), utc("2027-01-04T15:00:00Z"));
    // Weekdays stay.
    assert_eq!(business_day(d("2026-12-31")), d("2026-12-31"));
}

#[test]
fn federal_holidays_move_a_reminder_like_a_weekend() {
    // Thanksgiving Thursday -> Friday.
    assert_eq!(business_day(d("2026-11-26")), d("2026-11-27"));
    assert_eq!(due_at(d("2026-11-26"), "America/New_York"), utc("2026-11-27T14:00:00Z"));
    // Independence Day 2026 falls on a Saturday and is observed Friday 07-03: Friday, Saturday
    // and Sunday all post on Monday 07-06.
    for day in ["2026-07-03", "2026-07-04", "2026-07-05"] {
        assert_eq!(business_day(d(day)), d("2026-07-06"), "{day}");
    }
    // A Monday holiday after a weekend: Saturday before Labor Day 2026 -> Tuesday 09-08.
    assert_eq!(business_day(d("2026-09-05")), d("2026-09-08"));
    // Christmas 2027 on a Saturday, observed Friday 12-24; New Year's 2028 on a Saturday,
    // observed Friday 2027-12-31: both Fridays move to the Monday after.
    assert_eq!(business_day(d("2027-12-24")), d("2027-12-27"));
    assert_eq!(business_day(d("2027-12-31")), d("2028-01-03"));
    // Juneteenth (from 2021) and Memorial Day.
    assert_eq!(business_day(d("2026-06-19")), d("2026-06-22"));
    assert_eq!(business_day(d("2026-05-25")), d("2026-05-26"));
    // Planning keeps the planned date (its identity); only the posting day moves.
    let mut p = payer(7);
    p.renewal_date = Some(d("2024-02-24"));
    p.notice_days = 90;
    let all = desired(&[p], &[], &[], d("2026-11-27"));
    assert_eq!(of(Kind::RenewalWindow, &all)[0], d("2026-11-26"));
}

#[test]
fn nine_local_on_both_sides_of_daylight_saving_changes() {
    let ny = "America/New_York";
    // March 2027: clocks go forward on Sunday 03-14.
    assert_eq!(due_at(d("2027-03-12"), ny), utc("2027-03-12T14:00:00Z"), "Friday before: EST");
    assert_eq!(due_at(d("2027-03-15"), ny), utc("2027-03-15T13:00:00Z"), "Monday after: EDT");
    // The change day itself is a Sunday: posted Monday at 09:00 EDT.
    assert_eq!(due_at(d("2027-03-14"), ny), utc("2027-03-15T13:00:00Z"));
    // November 2026: clocks go back on Sunday 11-01.
    assert_eq!(due_at(d("2026-10-30"), ny), utc("2026-10-30T13:00:00Z"), "Friday before: EDT");
    assert_eq!(due_at(d("2026-11-02"), ny), utc("2026-11-02T14:00:00Z"), "Monday after: EST");
    assert_eq!(due_at(d("2026-11-01"), ny), utc("2026-11-02T14:00:00Z"));
    // Another zone and an unknown name.
    assert_eq!(due_at(d("2026-07-01"), "America/Los_Angeles"), utc("2026-07-01T16:00:00Z"));
    assert_eq!(due_at(d("2026-07-01"), "Not/AZone"), utc("2026-07-01T09:00:00Z"));
}

#[test]
fn stale_rates_two_years_after_the_last_change_for_negotiable_payers_only() {
    let mut p = payer(7);
    p.last_rate_change = Some(d("2024-11-27"));
    let all = desired(&[p.clone()], &[], &[], d("2026-11-01"));
    assert_eq!(of(Kind::StaleRate, &all), vec![d("2026-11-27")]);
    let mut medicaid = p.clone();
    medicaid.kind = PayerKind::Medicaid;
    assert!(desired(&[medicaid], &[], &[], d("2026-11-01")).is_empty());
    let mut out = p.clone();
    out.status = PayerStatus::OutOfNetwork;
    assert!(desired(&[out], &[], &[], d("2026-11-01")).is_empty());
    p.has_open_case = true;
    assert!(desired(&[p], &[], &[], d("2026-11-01")).is_empty());
}

#[test]
fn nonces_are_short_stable_and_distinct() {
    let a = nonce(1, Kind::FollowUp, "case:12", d("2026-10-22"), 0);
    assert_eq!(a, nonce(1, Kind::FollowUp, "case:12", d("2026-10-22"), 0));
    assert!(a.len() <= 25 && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{a}");
    let others = [
        nonce(2, Kind::FollowUp, "case:12", d("2026-10-22"), 0),
        nonce(1, Kind::Escalation, "case:12", d("2026-10-22"), 0),
        nonce(1, Kind::FollowUp, "case:13", d("2026-10-22"), 0),
        nonce(1, Kind::FollowUp, "case:12", d("2026-10-23"), 0),
        nonce(1, Kind::FollowUp, "case:12", d("2026-10-22"), 1),
    ];
    for o in others {
        assert_ne!(a, o);
    }
}

#[test]
fn retry_delays_double_with_jitter_and_a_cap() {
    let secs = |a, j| retry_delay(a, j).as_secs_f64();
    assert_eq!(secs(1, 200), 60.0);
    assert_eq!(secs(2, 200), 120.0);
    assert_eq!(secs(3, 200), 240.0);
    assert_eq!(secs(20, 200), 3600.0);
    assert_eq!(secs(1, 0), 48.0);
    assert_eq!(secs(1, 400), 72.0);
    let spread: std::collections::HashSet<u64> =
        (0..20).map(|i| retry_delay(2, jitter_seed(i, 2, "w")).as_millis() as u64).collect();
    assert!(spread.len() > 10, "jitter spreads retries: {spread:?}");
}

#[test]
fn instants_sort_as_text() {
    let a = instant_text(utc("2026-11-27T09:00:00Z"));
    let b = instant_text(utc("2026-11-27T10:00:00.5Z"));
    assert_eq!(a, "2026-11-27T09:00:00Z");
    assert!(a < b);
    assert_eq!(parse_instant_text(&a), Some(utc("2026-11-27T09:00:00Z")));
}

#[test]
fn kinds_and_states_round_trip() {
    for k in Kind::ALL {
        assert_eq!(k.key().parse::<Kind>().unwrap(), k);
    }
    for s in State::ALL {
        assert_eq!(s.key().parse::<State>().unwrap(), s);
    }
    assert!(!Kind::MedicareYear.is_planned() && Kind::StaleRate.is_planned());
}

/// Issue 10, section 5: planning after an agreement. Cigna renews 2027-03-01 (90 days' notice:
/// the window opens 2026-12-01, the last call is 2027-01-30).
fn agreed_payer(opened: &str, agreed: &str, review: Option<&str>) -> PlanPayer {
    let mut p = payer(8);
    p.renewal_date = Some(d("2025-03-01"));
    p.last_case_opened = Some(d(opened));
    p.last_agreed_on = Some(d(agreed));
    p.review_on = review.map(d);
    p.last_rate_change = Some(d("2024-01-01"));
    p
}

#[test]
fn no_renewal_reminder_right_after_an_agreement() {
    // A long case (opened more than a year before the anniversary) agreed inside the window:
    // before the fix, the window (already open) and the last call were planned at once.
    let p = agreed_payer("2025-10-01", "2026-12-10", None);
    let all = desired(&[p], &[], &[], d("2026-12-10"));
    assert!(of(Kind::RenewalWindow, &all).is_empty(), "{all:?}");
    assert!(of(Kind::RenewalLastCall, &all).is_empty(), "{all:?}");
    assert!(of(Kind::StaleRate, &all).is_empty(), "{all:?}");
    // Agreed four days before the window opens: that window is the round just agreed.
    let p = agreed_payer("2026-10-01", "2026-11-27", None);
    let all = desired(std::slice::from_ref(&p), &[], &[], d("2026-11-27"));
    assert!(all.is_empty(), "{all:?}");
    // Once the anniversary has passed, the following window (2028-03-01's) is planned.
    let all = desired(&[p], &[], &[], d("2027-03-02"));
    assert_eq!(of(Kind::RenewalWindow, &all), vec![d("2027-12-02")]);
    assert_eq!(of(Kind::RenewalLastCall, &all), vec![d("2028-01-31")]);
}

#[test]
fn an_agreed_review_is_the_next_reminder() {
    let p = agreed_payer("2025-10-01", "2026-12-10", Some("2027-06-10"));
    let all = desired(&[p], &[], &[], d("2026-12-10"));
    assert_eq!(of(Kind::Review, &all), vec![d("2027-06-10")]);
    // Nothing about the renewal before the review.
    assert!(of(Kind::RenewalWindow, &all).is_empty() && of(Kind::RenewalLastCall, &all).is_empty(), "{all:?}");
    assert_eq!(all.iter().find(|x| x.kind == Kind::Review).unwrap().subject_key, "payer:8");
}

#[test]
fn a_mid_term_agreement_leaves_the_next_renewal_planned() {
    // Agreed in April, eight months before the window: that window is the following renewal.
    let p = agreed_payer("2026-02-01", "2026-04-01", None);
    let all = desired(&[p], &[], &[], d("2026-04-01"));
    assert_eq!(of(Kind::RenewalWindow, &all), vec![d("2026-12-01")]);
}

#[test]
fn a_dated_credential_is_reminded_of_while_its_window_is_open() {
    let creds = [
        PlanCredential { name: "EMDR".into(), earned_on: d("2026-11-20") },
        PlanCredential { name: "DBT".into(), earned_on: d("2027-01-15") },
        // Earned more than 180 days ago: no longer news.
        PlanCredential { name: "PsyD".into(), earned_on: d("2026-01-02") },
    ];
    let all = desired_credentials(&creds, d("2026-11-27"));
    let got: Vec<(String, NaiveDate)> = all.iter().map(|x| (x.subject_key.clone(), x.due_on)).collect();
    assert_eq!(
        got,
        vec![("credential:emdr".to_string(), d("2026-11-20")), ("credential:dbt".to_string(), d("2027-01-15"))]
    );
    assert!(all.iter().all(|x| x.kind == Kind::Credential));
    assert_eq!(credential_window(d("2026-11-20")).1, d("2027-05-19"));
}

#[test]
fn backdated_means_due_a_week_or_more_before_it_was_planned() {
    let created = utc("2026-11-27T15:00:00Z");
    assert!(is_backdated(utc("2026-11-19T14:00:00Z"), created));
    assert!(!is_backdated(utc("2026-11-21T14:00:00Z"), created));
    assert!(!is_backdated(utc("2026-12-01T14:00:00Z"), created));
}
