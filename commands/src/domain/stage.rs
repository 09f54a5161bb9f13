//! The stages of a negotiation case and the events that move it. The stage is never set by
//! hand: it follows from the case's events through [`apply`], a pure function that also says
//! why a move is not possible (a payer cannot accept a request that was never sent).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Preparing,
    ContactFound,
    InitialRequestMade,
    WrittenRequestSent,
    AwaitingAnswer,
    CounterOfferReceived,
    Accepted,
    Denied,
    Withdrawn,
    WalkedAway,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Preparing,
        Stage::ContactFound,
        Stage::InitialRequestMade,
        Stage::WrittenRequestSent,
        Stage::AwaitingAnswer,
        Stage::CounterOfferReceived,
        Stage::Accepted,
        Stage::Denied,
        Stage::Withdrawn,
        Stage::WalkedAway,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Preparing => "preparing",
            Stage::ContactFound => "contact-found",
            Stage::InitialRequestMade => "initial-request-made",
            Stage::WrittenRequestSent => "written-request-sent",
            Stage::AwaitingAnswer => "awaiting-answer",
            Stage::CounterOfferReceived => "counter-offer-received",
            Stage::Accepted => "accepted",
            Stage::Denied => "denied",
            Stage::Withdrawn => "withdrawn",
            Stage::WalkedAway => "walked-away",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Preparing => "preparing",
            Stage::ContactFound => "contact found",
            Stage::InitialRequestMade => "initial request made",
            Stage::WrittenRequestSent => "written request sent",
            Stage::AwaitingAnswer => "awaiting answer",
            Stage::CounterOfferReceived => "counter-offer received",
            Stage::Accepted => "accepted",
            Stage::Denied => "denied",
            Stage::Withdrawn => "withdrawn",
            Stage::WalkedAway => "walked away",
        }
    }

    /// A closed case takes no more events; a denied case stays open, because a first "no" is
    /// answered (ask why, propose alternatives) before anyone gives up.
    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Accepted | Stage::Withdrawn | Stage::WalkedAway)
    }

    /// The practice has asked the payer for something (by phone or in writing).
    pub fn request_made(self) -> bool {
        matches!(
            self,
            Stage::InitialRequestMade
                | Stage::WrittenRequestSent
                | Stage::AwaitingAnswer
                | Stage::CounterOfferReceived
                | Stage::Denied
        )
    }

    /// A written request is with the payer and no decision has come back yet.
    pub fn awaiting_payer(self) -> bool {
        matches!(self, Stage::WrittenRequestSent | Stage::AwaitingAnswer)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Stage::ALL
            .into_iter()
            .find(|st| st.key() == k)
            .ok_or_else(|| format!("`{}` is not a negotiation stage", s.trim()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The case was opened (`/negotiate start`).
    Opened,
    /// The right person (provider contracting or network development) is known.
    ContactFound,
    /// The initial request, by phone.
    Call,
    /// The formal letter or email with the ask per code.
    WrittenRequest,
    /// A follow-up on the written request.
    FollowUp,
    /// Escalated to a supervisor, or a written inquiry after 30 days without an answer.
    Escalated,
    /// The payer confirmed it has the request and is reviewing it.
    Acknowledged,
    /// The payer answered with other rates.
    CounterOffer,
    /// The practice answered a counter-offer or a denial with a proposal of its own.
    CounterSent,
    /// Rates agreed.
    Accepted,
    /// The payer said no.
    Denied,
    /// The practice dropped the case without leaving the panel.
    Withdrawn,
    /// The practice leaves the panel after the payer would not move.
    WalkedAway,
    /// A note for the record; the stage does not change.
    Note,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::Opened,
        EventKind::ContactFound,
        EventKind::Call,
        EventKind::WrittenRequest,
        EventKind::FollowUp,
        EventKind::Escalated,
        EventKind::Acknowledged,
        EventKind::CounterOffer,
        EventKind::CounterSent,
        EventKind::Accepted,
        EventKind::Denied,
        EventKind::Withdrawn,
        EventKind::WalkedAway,
        EventKind::Note,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::ContactFound => "contact-found",
            EventKind::Call => "call",
            EventKind::WrittenRequest => "written-request",
            EventKind::FollowUp => "follow-up",
            EventKind::Escalated => "escalated",
            EventKind::Acknowledged => "acknowledged",
            EventKind::CounterOffer => "counter-offer",
            EventKind::CounterSent => "counter-sent",
            EventKind::Accepted => "accepted",
            EventKind::Denied => "denied",
            EventKind::Withdrawn => "withdrawn",
            EventKind::WalkedAway => "walked-away",
            EventKind::Note => "note",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Opened => "case opened",
            EventKind::ContactFound => "contact found",
            EventKind::Call => "initial request by phone",
            EventKind::WrittenRequest => "written request sent",
            EventKind::FollowUp => "follow-up",
            EventKind::Escalated => "escalated",
            EventKind::Acknowledged => "payer acknowledged the request",
            EventKind::CounterOffer => "counter-offer received",
            EventKind::CounterSent => "our counter-proposal sent",
            EventKind::Accepted => "rates agreed",
            EventKind::Denied => "payer said no",
            EventKind::Withdrawn => "case withdrawn",
            EventKind::WalkedAway => "walked away from the panel",
            EventKind::Note => "note",
        }
    }

    /// Recorded with `/negotiate outcome` (which also records rates), not `/negotiate log`.
    pub fn is_outcome(self) -> bool {
        matches!(self, EventKind::CounterOffer | EventKind::Accepted | EventKind::Denied)
    }

    /// An exchange with the payer (what "days since the last contact" counts).
    pub fn is_contact(self) -> bool {
        !matches!(self, EventKind::Opened | EventKind::ContactFound | EventKind::Note | EventKind::Withdrawn)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for EventKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        EventKind::ALL
            .into_iter()
            .find(|e| e.key() == k)
            .or(match k.as_str() {
                "contact" => Some(EventKind::ContactFound),
                "phone" | "phone-call" | "initial-call" => Some(EventKind::Call),
                "request" | "letter" | "email" | "written" => Some(EventKind::WrittenRequest),
                "followup" | "follow" => Some(EventKind::FollowUp),
                "escalate" | "escalation" => Some(EventKind::Escalated),
                "ack" | "received" | "under-review" => Some(EventKind::Acknowledged),
                "counter" | "countered" | "counteroffer" => Some(EventKind::CounterOffer),
                "counter-proposal" | "our-counter" => Some(EventKind::CounterSent),
                "accept" | "agreed" => Some(EventKind::Accepted),
                "deny" | "rejected" | "rejection" => Some(EventKind::Denied),
                "withdraw" => Some(EventKind::Withdrawn),
                "walk-away" | "walkaway" | "left-panel" => Some(EventKind::WalkedAway),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "`{}` is not an event; use one of: {}",
                    s.trim(),
                    EventKind::ALL
                        .into_iter()
                        .filter(|e| *e != EventKind::Opened)
                        .map(|e| e.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// A move the case cannot make, with the reason in words and what would be right instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalMove {
    pub stage: Option<Stage>,
    pub event: EventKind,
    pub reason: String,
}

impl fmt::Display for IllegalMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

fn refuse(stage: Option<Stage>, event: EventKind, reason: impl Into<String>) -> Result<Stage, IllegalMove> {
    Err(IllegalMove { stage, event, reason: reason.into() })
}

/// The transition function: the stage after `event`, given the stage before it (`None` before
/// the case exists).
pub fn apply(stage: Option<Stage>, event: EventKind) -> Result<Stage, IllegalMove> {
    use EventKind as E;
    use Stage as S;
    let Some(st) = stage else {
        return match event {
            E::Opened => Ok(S::Preparing),
            _ => refuse(None, event, "There is no case yet: open one with /negotiate start first"),
        };
    };
    if st.is_closed() {
        return refuse(
            stage,
            event,
            format!("The case is closed ({}); open a new one with /negotiate start to record more", st.label()),
        );
    }
    let no = |reason: String| refuse(stage, event, reason);
    match (event, st) {
        (E::Opened, _) => no("This payer already has an open case; log events on it with /negotiate log".into()),
        (E::Note, _) => Ok(st),
        (E::Withdrawn, _) => Ok(S::Withdrawn),
        (E::WalkedAway, _) if st.request_made() => Ok(S::WalkedAway),
        (E::WalkedAway, _) => no(format!(
            "The case is at `{}` and nothing has been asked yet: walking away comes after good-faith attempts; ask first, or log withdrawn to drop the case",
            st.label()
        )),

        (E::ContactFound, S::Preparing | S::ContactFound) => Ok(S::ContactFound),
        (E::ContactFound, _) => no(format!(
            "The request has already gone out (stage `{}`); record a new contact with /payer edit contact_name: and a note",
            st.label()
        )),

        (E::Call, S::Preparing | S::ContactFound | S::InitialRequestMade) => Ok(S::InitialRequestMade),
        (E::Call, S::WrittenRequestSent | S::AwaitingAnswer) => {
            no("The written request is already out: a call to ask about it is a follow-up, so log follow-up".into())
        }
        (E::Call, _) => no(format!(
            "The payer has answered (stage `{}`): log your answer to it as counter-sent, by phone or in writing",
            st.label()
        )),

        (
            E::WrittenRequest,
            S::Preparing | S::ContactFound | S::InitialRequestMade | S::WrittenRequestSent | S::AwaitingAnswer | S::Denied,
        ) => Ok(S::WrittenRequestSent),
        (E::WrittenRequest, _) => no(
            "The payer answered with a counter-offer: reply to it and log counter-sent (draft it with /draft counter), or accept it with /negotiate outcome"
                .into(),
        ),

        (E::FollowUp | E::Escalated | E::Acknowledged, S::WrittenRequestSent | S::AwaitingAnswer) => Ok(S::AwaitingAnswer),
        (E::FollowUp | E::Escalated | E::Acknowledged, S::Preparing | S::ContactFound | S::InitialRequestMade) => no(format!(
            "The case is at `{}` and no written request has been sent: send it (/draft request) and log written-request before any {}",
            st.label(),
            event.key()
        )),
        (E::FollowUp | E::Escalated | E::Acknowledged, _) => no(format!(
            "The payer has already answered (stage `{}`); the next move is yours: log counter-sent with your reply, or close the case",
            st.label()
        )),

        (E::CounterOffer, S::WrittenRequestSent | S::AwaitingAnswer | S::CounterOfferReceived) => {
            Ok(S::CounterOfferReceived)
        }
        (E::CounterOffer, S::Denied) => no(
            "The payer said no to the last request: a new offer can only answer a new proposal, so log counter-sent first".into(),
        ),
        (E::CounterOffer, _) => no(format!(
            "A payer can only counter a request it has in writing, and this case (stage `{}`) never sent one: log written-request first",
            st.label()
        )),

        (E::CounterSent, S::CounterOfferReceived | S::Denied) => Ok(S::AwaitingAnswer),
        (E::CounterSent, _) => no(format!(
            "There is no counter-offer or denial to answer (stage `{}`); a counter-proposal answers one of those",
            st.label()
        )),

        (E::Accepted, S::WrittenRequestSent | S::AwaitingAnswer | S::CounterOfferReceived) => Ok(S::Accepted),
        (E::Accepted, S::Denied) => no(
            "The payer said no to the last request: send a new proposal (log counter-sent) before recording an agreement".into(),
        ),
        (E::Accepted, _) => no(format!(
            "Nothing can be accepted yet: this case (stage `{}`) never sent a written request; send it (/draft request) and log written-request first",
            st.label()
        )),

        (E::Denied, S::WrittenRequestSent | S::AwaitingAnswer) => Ok(S::Denied),
        (E::Denied, S::CounterOfferReceived) => no(
            "The payer already answered with a counter-offer; if they withdrew it, add a note, and record their next answer after your reply (counter-sent)"
                .into(),
        ),
        (E::Denied, S::Denied) => no("The payer's no is already recorded; answer it (counter-sent) or close the case".into()),
        (E::Denied, _) => no(format!(
            "A payer can only deny a request it has in writing, and this case (stage `{}`) never sent one: log written-request first",
            st.label()
        )),
    }
}

/// Replays a whole log, in order. The error carries the position of the event that does not fit.
pub fn replay(events: impl IntoIterator<Item = EventKind>) -> Result<Stage, (usize, IllegalMove)> {
    let mut stage = None;
    for (i, e) in events.into_iter().enumerate() {
        stage = Some(apply(stage, e).map_err(|m| (i, m))?);
    }
    stage.ok_or((0, IllegalMove { stage: None, event: EventKind::Opened, reason: "The case has no events".into() }))
}

/// Adds `new` to a dated log (sorted by date, ties in recording order) where its date puts it,
/// and returns the stage the whole log then leads to, or why it cannot be added.
pub fn insert_dated(log: &[(EventKind, NaiveDate)], new: (EventKind, NaiveDate)) -> Result<Stage, String> {
    let at = log.iter().position(|(_, d)| *d > new.1).unwrap_or(log.len());
    let mut all: Vec<(EventKind, NaiveDate)> = log.to_vec();
    all.insert(at, new);
    match replay(all.iter().map(|(k, _)| *k)) {
        Ok(stage) => Ok(stage),
        Err((i, m)) if i == at => Err(m.reason),
        Err((i, m)) if i > at => {
            let (later, later_on) = all[i];
            Err(format!(
                "A {} dated {} would come before the {} of {}, which then would not fit: {} Check the date.",
                new.0.key(),
                new.1,
                later.key(),
                later_on,
                m.reason
            ))
        }
        // The log before the new event was already inconsistent: report it as it is.
        Err((_, m)) => Err(m.reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventKind as E;
    use Stage as S;

    /// Every legal move, written out once: (from, event, to).
    const LEGAL: &[(Stage, EventKind, Stage)] = &[
        (S::Preparing, E::ContactFound, S::ContactFound),
        (S::Preparing, E::Call, S::InitialRequestMade),
        (S::Preparing, E::WrittenRequest, S::WrittenRequestSent),
        (S::Preparing, E::Note, S::Preparing),
        (S::Preparing, E::Withdrawn, S::Withdrawn),
        (S::ContactFound, E::ContactFound, S::ContactFound),
        (S::ContactFound, E::Call, S::InitialRequestMade),
        (S::ContactFound, E::WrittenRequest, S::WrittenRequestSent),
        (S::ContactFound, E::Note, S::ContactFound),
        (S::ContactFound, E::Withdrawn, S::Withdrawn),
        (S::InitialRequestMade, E::Call, S::InitialRequestMade),
        (S::InitialRequestMade, E::WrittenRequest, S::WrittenRequestSent),
        (S::InitialRequestMade, E::Note, S::InitialRequestMade),
        (S::InitialRequestMade, E::Withdrawn, S::Withdrawn),
        (S::InitialRequestMade, E::WalkedAway, S::WalkedAway),
        (S::WrittenRequestSent, E::WrittenRequest, S::WrittenRequestSent),
        (S::WrittenRequestSent, E::FollowUp, S::AwaitingAnswer),
        (S::WrittenRequestSent, E::Escalated, S::AwaitingAnswer),
        (S::WrittenRequestSent, E::Acknowledged, S::AwaitingAnswer),
        (S::WrittenRequestSent, E::CounterOffer, S::CounterOfferReceived),
        (S::WrittenRequestSent, E::Accepted, S::Accepted),
        (S::WrittenRequestSent, E::Denied, S::Denied),
        (S::WrittenRequestSent, E::Note, S::WrittenRequestSent),
        (S::WrittenRequestSent, E::Withdrawn, S::Withdrawn),
        (S::WrittenRequestSent, E::WalkedAway, S::WalkedAway),
        (S::AwaitingAnswer, E::WrittenRequest, S::WrittenRequestSent),
        (S::AwaitingAnswer, E::FollowUp, S::AwaitingAnswer),
        (S::AwaitingAnswer, E::Escalated, S::AwaitingAnswer),
        (S::AwaitingAnswer, E::Acknowledged, S::AwaitingAnswer),
        (S::AwaitingAnswer, E::CounterOffer, S::CounterOfferReceived),
        (S::AwaitingAnswer, E::Accepted, S::Accepted),
        (S::AwaitingAnswer, E::Denied, S::Denied),
        (S::AwaitingAnswer, E::Note, S::AwaitingAnswer),
        (S::AwaitingAnswer, E::Withdrawn, S::Withdrawn),
        (S::AwaitingAnswer, E::WalkedAway, S::WalkedAway),
        (S::CounterOfferReceived, E::CounterOffer, S::CounterOfferReceived),
        (S::CounterOfferReceived, E::CounterSent, S::AwaitingAnswer),
        (S::CounterOfferReceived, E::Accepted, S::Accepted),
        (S::CounterOfferReceived, E::Note, S::CounterOfferReceived),
        (S::CounterOfferReceived, E::Withdrawn, S::Withdrawn),
        (S::CounterOfferReceived, E::WalkedAway, S::WalkedAway),
        (S::Denied, E::WrittenRequest, S::WrittenRequestSent),
        (S::Denied, E::CounterSent, S::AwaitingAnswer),
        (S::Denied, E::Note, S::Denied),
        (S::Denied, E::Withdrawn, S::Withdrawn),
        (S::Denied, E::WalkedAway, S::WalkedAway),
    ];

    #[test]
    fn every_legal_move_lands_where_the_table_says() {
        for (from, event, to) in LEGAL {
            assert_eq!(apply(Some(*from), *event), Ok(*to), "{from:?} + {event:?}");
        }
        assert_eq!(apply(None, E::Opened), Ok(S::Preparing));
    }

    #[test]
    fn every_other_move_is_refused_with_a_reason() {
        for from in Stage::ALL {
            for event in EventKind::ALL {
                if LEGAL.iter().any(|(f, e, _)| *f == from && *e == event) {
                    continue;
                }
                let err = apply(Some(from), event).expect_err(&format!("{from:?} + {event:?} should be refused"));
                assert_eq!(err.stage, Some(from));
                assert_eq!(err.event, event);
                assert!(err.reason.len() > 30, "{from:?} + {event:?}: {}", err.reason);
            }
        }
        for event in EventKind::ALL.into_iter().filter(|e| *e != E::Opened) {
            assert!(apply(None, event).unwrap_err().reason.contains("/negotiate start"));
        }
    }

    #[test]
    fn accepting_a_case_that_never_sent_a_request_says_why() {
        let e = apply(Some(S::Preparing), E::Accepted).unwrap_err();
        assert!(e.reason.contains("never sent a written request"), "{}", e.reason);
        assert!(e.reason.contains("written-request"), "{}", e.reason);
        let e = apply(Some(S::InitialRequestMade), E::FollowUp).unwrap_err();
        assert!(e.reason.contains("no written request"), "{}", e.reason);
        let e = apply(Some(S::Accepted), E::Note).unwrap_err();
        assert!(e.reason.contains("closed"), "{}", e.reason);
        let e = apply(Some(S::Preparing), E::WalkedAway).unwrap_err();
        assert!(e.reason.contains("withdrawn"), "{}", e.reason);
        let e = apply(Some(S::AwaitingAnswer), E::Call).unwrap_err();
        assert!(e.reason.contains("follow-up"), "{}", e.reason);
    }

    #[test]
    fn the_five_steps_in_order_reach_every_stage() {
        let log = [
            E::Opened,
            E::ContactFound,
            E::Call,
            E::WrittenRequest,
            E::FollowUp,
            E::CounterOffer,
            E::CounterSent,
            E::Denied,
            E::CounterSent,
            E::Accepted,
        ];
        let mut seen = vec![];
        let mut stage = None;
        for e in log {
            stage = Some(apply(stage, e).unwrap());
            seen.push(stage.unwrap());
        }
        assert_eq!(replay(log).unwrap(), S::Accepted);
        for st in [
            S::Preparing,
            S::ContactFound,
            S::InitialRequestMade,
            S::WrittenRequestSent,
            S::AwaitingAnswer,
            S::CounterOfferReceived,
            S::Denied,
            S::Accepted,
        ] {
            assert!(seen.contains(&st), "{st:?}");
        }
        assert_eq!(replay([E::Opened, E::Withdrawn]).unwrap(), S::Withdrawn);
        assert_eq!(replay([E::Opened, E::Call, E::WalkedAway]).unwrap(), S::WalkedAway);
        let (at, m) = replay([E::Opened, E::Note, E::Accepted]).unwrap_err();
        assert_eq!(at, 2);
        assert_eq!(m.stage, Some(S::Preparing));
    }

    #[test]
    fn back_dated_events_are_checked_where_their_date_puts_them() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let log = vec![(E::Opened, d("2026-10-01")), (E::WrittenRequest, d("2026-10-15"))];
        // A call before the letter fits.
        assert_eq!(insert_dated(&log, (E::Call, d("2026-10-05"))), Ok(S::WrittenRequestSent));
        // A follow-up dated before the letter does not, and the message names the event.
        let e = insert_dated(&log, (E::FollowUp, d("2026-10-10"))).unwrap_err();
        assert!(e.contains("no written request"), "{e}");
        // Same date: the new event goes after those already logged that day.
        assert_eq!(insert_dated(&log, (E::FollowUp, d("2026-10-15"))), Ok(S::AwaitingAnswer));
        // Withdrawing before the letter would leave the letter on a closed case.
        let e = insert_dated(&log, (E::Withdrawn, d("2026-10-02"))).unwrap_err();
        assert!(e.contains("would come before the written-request of 2026-10-15"), "{e}");
        assert!(e.contains("Check the date"), "{e}");
    }

    #[test]
    fn keys_round_trip_and_aliases_parse() {
        for s in Stage::ALL {
            assert_eq!(s.key().parse::<Stage>().unwrap(), s);
        }
        for e in EventKind::ALL {
            assert_eq!(e.key().parse::<EventKind>().unwrap(), e);
        }
        assert_eq!("Follow up".parse::<EventKind>().unwrap(), E::FollowUp);
        assert_eq!("letter".parse::<EventKind>().unwrap(), E::WrittenRequest);
        let err = "lunch".parse::<EventKind>().unwrap_err();
        assert!(err.contains("`lunch`") && err.contains("follow-up") && !err.contains("opened"), "{err}");
    }
}
