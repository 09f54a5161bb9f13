-- Issue 10, section 5: a credential or specialty earned on a date opens a negotiation window,
-- an agreed review date is reminded of, and back-dated reminders are posted as one summary.

-- When the credential or specialty was earned (NULL: not given).
ALTER TABLE practice_credentials ADD COLUMN earned_on TEXT;

-- Two more reminder kinds: 'review' (the review agreed with the rates falls due) and
-- 'credential' (a credential or specialty was earned: a window to ask for more). SQLite cannot
-- change a CHECK in place, so the table is rebuilt with the same columns, rows and indexes.
CREATE TABLE reminders_new (
    id              INTEGER PRIMARY KEY,
    practice_id     INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('follow-up', 'escalation', 'renewal-window', 'renewal-last-call',
                                                  'stale-rate', 'medicare-year', 'delivery-warning',
                                                  'review', 'credential')),
    subject_key     TEXT NOT NULL CHECK (length(subject_key) BETWEEN 1 AND 80),
    negotiation_id  INTEGER REFERENCES negotiations(id) ON DELETE CASCADE,
    payer_id        INTEGER REFERENCES payers(id) ON DELETE CASCADE,
    due_on          TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'cancelled', 'done')),
    claimed_by      TEXT,
    lease_until     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT,
    last_error      TEXT CHECK (last_error IS NULL OR length(last_error) <= 500),
    nonce           TEXT NOT NULL UNIQUE CHECK (length(nonce) BETWEEN 1 AND 25),
    snoozes         INTEGER NOT NULL DEFAULT 0 CHECK (snoozes >= 0),
    snoozed_at      TEXT,
    payload         TEXT,
    sent_at         TEXT,
    message_ids     TEXT,
    warned_at       TEXT,
    closed_at       TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (practice_id, kind, subject_key, due_on)
);
INSERT INTO reminders_new (id, practice_id, kind, subject_key, negotiation_id, payer_id, due_on, due_at, state,
                           claimed_by, lease_until, attempts, next_attempt_at, last_error, nonce, snoozes,
                           snoozed_at, payload, sent_at, message_ids, warned_at, closed_at, created_at)
SELECT id, practice_id, kind, subject_key, negotiation_id, payer_id, due_on, due_at, state,
       claimed_by, lease_until, attempts, next_attempt_at, last_error, nonce, snoozes,
       snoozed_at, payload, sent_at, message_ids, warned_at, closed_at, created_at
FROM reminders;
DROP TABLE reminders;
ALTER TABLE reminders_new RENAME TO reminders;
CREATE INDEX reminders_pending_due ON reminders (due_at) WHERE state = 'pending';
CREATE INDEX reminders_by_practice ON reminders (practice_id, state, due_at);
CREATE INDEX reminders_failed_unwarned ON reminders (practice_id) WHERE state = 'failed' AND warned_at IS NULL;
