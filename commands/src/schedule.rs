//! What is due: pure rules over a case's dated log, shared by `/negotiate status`, the drafts and
//! the reminder scheduler. DOMAIN: follow up every two weeks after the written request until
//! there is an answer; with no answer 30 days after the request, escalate.

use crate::domain::stage::{EventKind, Stage};
use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// Days between follow-ups while the payer has not answered.
pub const FOLLOW_UP_EVERY_DAYS: i64 = 14;
/// Days after the written request without an answer before escalating.
pub const ESCALATE_AFTER_DAYS: i64 = 30;

/// One event of a case's log: what happened and on which day. Logs are sorted by date.
pub type Dated = (EventKind, NaiveDate);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Find the person in provider contracting or network development.
    FindContact,
    /// Make the initial request by phone.
    Call,
    /// Send the formal letter or email with the ask per code.
    SendWrittenRequest,
    /// Follow up on the request.
    FollowUp,
    /// Escalate to a supervisor or send a written inquiry.
    Escalate,
    /// Answer the payer's counter-offer (accept it or counter).
    AnswerCounterOffer,
    /// Answer the denial: ask why, propose alternatives.
    AnswerDenial,
}

impl Step {
    pub fn key(self) -> &'static str {
        match self {
            Step::FindContact => "find-contact",
            Step::Call => "call",
            Step::SendWrittenRequest => "send-written-request",
            Step::FollowUp => "follow-up",
            Step::Escalate => "escalate",
            Step::AnswerCounterOffer => "answer-counter-offer",
            Step::AnswerDenial => "answer-denial",
        }
    }

    /// The step in words, for a payer.
    pub fn describe(self, payer: &str) -> String {
        match self {
            Step::FindContact => format!("Find the right person at {payer}: provider contracting or network development, not customer service"),
            Step::Call => format!("Call {payer}'s contracting contact with your history, volume and ask per code"),
            Step::SendWrittenRequest => format!("Send {payer} the written request with current and requested rates per code"),
            Step::FollowUp => format!("Follow up with {payer} on the written request"),
            Step::Escalate => format!("No answer from {payer} in {ESCALATE_AFTER_DAYS} days: escalate to a supervisor or send a written inquiry"),
            Step::AnswerCounterOffer => format!("Answer {payer}'s counter-offer: accept it or send a counter-proposal"),
            Step::AnswerDenial => format!("Answer {payer}'s no: ask for the reasons and propose alternatives"),
        }
    }

    /// The draft that goes with the step.
    pub fn draft(self) -> Option<&'static str> {
        match self {
            Step::FindContact => None,
            Step::Call => Some("call"),
            Step::SendWrittenRequest => Some("request"),
            Step::FollowUp | Step::Escalate => Some("followup"),
            Step::AnswerCounterOffer => Some("counter"),
            Step::AnswerDenial => Some("rejection"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NextAction {
    pub step: Step,
    /// When it is due. For a move that is the practice's to make (find the contact, call, answer
    /// an offer), the day the ball came to the practice: due from then on.
    pub due: NaiveDate,
}

fn latest(log: &[Dated], kinds: &[EventKind]) -> Option<NaiveDate> {
    log.iter().filter(|(k, _)| kinds.contains(k)).map(|(_, d)| *d).max()
}

/// The last exchange with the payer (a call, a letter, a follow-up, an answer).
pub fn last_contact(log: &[Dated]) -> Option<NaiveDate> {
    log.iter().filter(|(k, _)| k.is_contact()).map(|(_, d)| *d).max()
}

/// The written request (or counter-proposal) the payer owes an answer to, while the case waits on
/// the payer.
pub fn waiting_since(stage: Stage, log: &[Dated]) -> Option<NaiveDate> {
    if !matches!(stage, Stage::WrittenRequestSent | Stage::AwaitingAnswer) {
        return None;
    }
    latest(log, &[EventKind::WrittenRequest, EventKind::CounterSent])
}

/// Follow-ups and escalations since the request the payer owes an answer to, oldest first.
pub fn follow_ups_since(stage: Stage, log: &[Dated]) -> Vec<Dated> {
    let Some(since) = waiting_since(stage, log) else { return vec![] };
    log.iter()
        .filter(|(k, d)| matches!(k, EventKind::FollowUp | EventKind::Escalated) && *d >= since)
        .copied()
        .collect()
}

/// The next follow-up: 14 days after the request or the latest follow-up since it.
pub fn next_follow_up(stage: Stage, log: &[Dated]) -> Option<NaiveDate> {
    let since = waiting_since(stage, log)?;
    let last = follow_ups_since(stage, log).iter().map(|(_, d)| *d).max().unwrap_or(since).max(since);
    Some(last + Duration::days(FOLLOW_UP_EVERY_DAYS))
}

/// The escalation date: 30 days after the request, unless the case was escalated since.
pub fn escalation_due(stage: Stage, log: &[Dated]) -> Option<NaiveDate> {
    let since = waiting_since(stage, log)?;
    let escalated = log.iter().any(|(k, d)| *k == EventKind::Escalated && *d >= since);
    (!escalated).then(|| since + Duration::days(ESCALATE_AFTER_DAYS))
}

/// What to do next on an open case and when, as of `today`. `None` for a closed case. While the
/// payer owes an answer, the escalation comes first once it is due (by the next follow-up, or
/// already by today); otherwise the next follow-up.
pub fn next_action(stage: Stage, log: &[Dated], today: NaiveDate) -> Option<NextAction> {
    let since = |kinds: &[EventKind]| latest(log, kinds).or_else(|| log.first().map(|(_, d)| *d));
    let action = match stage {
        Stage::Accepted | Stage::Withdrawn | Stage::WalkedAway => return None,
        Stage::Preparing => NextAction { step: Step::FindContact, due: since(&[EventKind::Opened])? },
        Stage::ContactFound => NextAction { step: Step::Call, due: since(&[EventKind::ContactFound])? },
        Stage::InitialRequestMade => NextAction { step: Step::SendWrittenRequest, due: since(&[EventKind::Call])? },
        Stage::CounterOfferReceived => {
            NextAction { step: Step::AnswerCounterOffer, due: since(&[EventKind::CounterOffer])? }
        }
        Stage::Denied => NextAction { step: Step::AnswerDenial, due: since(&[EventKind::Denied])? },
        Stage::WrittenRequestSent | Stage::AwaitingAnswer => {
            let follow_up = next_follow_up(stage, log)?;
            match escalation_due(stage, log) {
                Some(escalate) if escalate <= follow_up.max(today) => {
                    NextAction { step: Step::Escalate, due: escalate }
                }
                _ => NextAction { step: Step::FollowUp, due: follow_up },
            }
        }
    };
    Some(action)
}

/// Days from `from` to `today` (negative when `from` is in the future).
pub fn days_between(from: NaiveDate, today: NaiveDate) -> i64 {
    (today - from).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventKind as E;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn case(events: &[(EventKind, &str)]) -> (Stage, Vec<Dated>) {
        let log: Vec<Dated> = events.iter().map(|(k, s)| (*k, d(s))).collect();
        let stage = crate::domain::stage::replay(log.iter().map(|(k, _)| *k)).unwrap();
        (stage, log)
    }

    #[test]
    fn first_follow_up_is_two_weeks_after_the_written_request() {
        let (st, log) = case(&[(E::Opened, "2026-10-01"), (E::Call, "2026-10-05"), (E::WrittenRequest, "2026-10-08")]);
        assert_eq!(next_follow_up(st, &log), Some(d("2026-10-22")));
        assert_eq!(escalation_due(st, &log), Some(d("2026-11-07")));
        assert_eq!(
            next_action(st, &log, d("2026-10-01")),
            Some(NextAction { step: Step::FollowUp, due: d("2026-10-22") })
        );
    }

    #[test]
    fn follow_ups_repeat_every_fourteen_days_and_escalation_comes_at_thirty() {
        let (st, log) =
            case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-08"), (E::FollowUp, "2026-10-22")]);
        // Next follow-up would be 11-05; escalation 11-07 comes later, so the follow-up is next.
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::FollowUp, due: d("2026-11-05") }
        );
        let (st, log) = case(&[
            (E::Opened, "2026-10-01"),
            (E::WrittenRequest, "2026-10-08"),
            (E::FollowUp, "2026-10-22"),
            (E::FollowUp, "2026-11-05"),
        ]);
        // Follow-up 11-19 vs escalation 11-07: escalate first.
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::Escalate, due: d("2026-11-07") }
        );
        assert_eq!(follow_ups_since(st, &log).len(), 2);
        let (st, log) = case(&[
            (E::Opened, "2026-10-01"),
            (E::WrittenRequest, "2026-10-08"),
            (E::FollowUp, "2026-10-22"),
            (E::FollowUp, "2026-11-05"),
            (E::Escalated, "2026-11-09"),
        ]);
        // Once escalated, follow-ups carry on every 14 days from the escalation.
        assert_eq!(escalation_due(st, &log), None);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::FollowUp, due: d("2026-11-23") }
        );
    }

    #[test]
    fn an_overdue_escalation_comes_before_an_overdue_follow_up() {
        let (st, log) = case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-14")]);
        // On 11-01 only the follow-up (10-28) is due.
        assert_eq!(
            next_action(st, &log, d("2026-11-01")).unwrap(),
            NextAction { step: Step::FollowUp, due: d("2026-10-28") }
        );
        // By 11-27 both are overdue: escalate (due 11-13).
        assert_eq!(
            next_action(st, &log, d("2026-11-27")).unwrap(),
            NextAction { step: Step::Escalate, due: d("2026-11-13") }
        );
    }

    #[test]
    fn a_late_follow_up_moves_the_next_one() {
        // Following up late (day 20) puts the next one 14 days after that, not on a fixed grid.
        let (st, log) =
            case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-01"), (E::FollowUp, "2026-10-21")]);
        assert_eq!(next_follow_up(st, &log), Some(d("2026-11-04")));
        // The escalation still counts from the request: day 30 is 10-31, before 11-04.
        assert_eq!(next_action(st, &log, d("2026-10-01")).unwrap().step, Step::Escalate);
        assert_eq!(next_action(st, &log, d("2026-10-01")).unwrap().due, d("2026-10-31"));
    }

    #[test]
    fn a_new_written_request_or_counter_proposal_restarts_the_clock() {
        let (st, log) = case(&[
            (E::Opened, "2026-09-01"),
            (E::WrittenRequest, "2026-09-02"),
            (E::FollowUp, "2026-09-16"),
            (E::CounterOffer, "2026-10-01"),
            (E::CounterSent, "2026-10-10"),
        ]);
        assert_eq!(st, Stage::AwaitingAnswer);
        assert_eq!(waiting_since(st, &log), Some(d("2026-10-10")));
        assert!(follow_ups_since(st, &log).is_empty());
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::FollowUp, due: d("2026-10-24") }
        );
        assert_eq!(escalation_due(st, &log), Some(d("2026-11-09")));
    }

    #[test]
    fn steps_before_the_request_and_after_an_answer_are_due_from_when_they_became_ours() {
        let (st, log) = case(&[(E::Opened, "2026-10-01")]);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::FindContact, due: d("2026-10-01") }
        );
        let (st, log) = case(&[(E::Opened, "2026-10-01"), (E::ContactFound, "2026-10-03"), (E::Note, "2026-10-04")]);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::Call, due: d("2026-10-03") }
        );
        let (st, log) = case(&[(E::Opened, "2026-10-01"), (E::Call, "2026-10-06")]);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::SendWrittenRequest, due: d("2026-10-06") }
        );
        let (st, log) =
            case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-06"), (E::CounterOffer, "2026-11-02")]);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::AnswerCounterOffer, due: d("2026-11-02") }
        );
        assert_eq!(next_follow_up(st, &log), None, "no follow-ups while the move is ours");
        let (st, log) =
            case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-06"), (E::Denied, "2026-11-02")]);
        assert_eq!(
            next_action(st, &log, d("2026-10-01")).unwrap(),
            NextAction { step: Step::AnswerDenial, due: d("2026-11-02") }
        );
        let (st, log) =
            case(&[(E::Opened, "2026-10-01"), (E::WrittenRequest, "2026-10-06"), (E::Accepted, "2026-11-02")]);
        assert_eq!(next_action(st, &log, d("2026-10-01")), None);
    }

    #[test]
    fn last_contact_ignores_notes_and_bookkeeping() {
        let (_, log) = case(&[
            (E::Opened, "2026-10-01"),
            (E::ContactFound, "2026-10-02"),
            (E::Call, "2026-10-05"),
            (E::Note, "2026-10-20"),
        ]);
        assert_eq!(last_contact(&log), Some(d("2026-10-05")));
        assert_eq!(days_between(d("2026-10-05"), d("2026-11-27")), 53);
        let (_, log) = case(&[(E::Opened, "2026-10-01"), (E::Note, "2026-10-20")]);
        assert_eq!(last_contact(&log), None);
    }
}
