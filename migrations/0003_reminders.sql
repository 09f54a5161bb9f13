-- Reminders the bot posts into a practice's channel, with their delivery state, and the subjects
-- a practice asked not to be reminded about. Dates are ISO text; instants are UTC text in one
-- fixed format (YYYY-MM-DDTHH:MM:SSZ) so that text order is time order.

CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY,
    practice_id     INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('follow-up', 'escalation', 'renewal-window', 'renewal-last-call',
                                                  'stale-rate', 'medicare-year', 'delivery-warning')),
    -- What the reminder is about: case:12, payer:5, medicare:2027, channel:<id>. Reminders of one
    -- subject that fall due together are posted as one message.
    subject_key     TEXT NOT NULL CHECK (length(subject_key) BETWEEN 1 AND 80),
    negotiation_id  INTEGER REFERENCES negotiations(id) ON DELETE CASCADE,
    payer_id        INTEGER REFERENCES payers(id) ON DELETE CASCADE,
    -- The local date it is planned for (its identity); due_at is when it is posted: 09:00 in the
    -- practice's time zone on a business day, moved by a snooze.
    due_on          TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'cancelled', 'done')),
    -- The worker holding the claim and until when; an expired claim may be taken again.
    claimed_by      TEXT,
    lease_until     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT,
    last_error      TEXT CHECK (last_error IS NULL OR length(last_error) <= 500),
    -- Sent with the post (Discord enforce_nonce): a retried post of the same reminder is not shown
    -- twice. Derived from the identity and `snoozes`, so a reminder snoozed after it was posted
    -- gets a new one for its second post.
    nonce           TEXT NOT NULL UNIQUE CHECK (length(nonce) BETWEEN 1 AND 25),
    snoozes         INTEGER NOT NULL DEFAULT 0 CHECK (snoozes >= 0),
    -- Set when a person moved due_at; a re-plan then leaves due_at alone.
    snoozed_at      TEXT,
    -- Facts fixed when the reminder was planned (the new Medicare year's lowest payers), as JSON.
    payload         TEXT,
    sent_at         TEXT,
    -- Platform ids of the posted messages, comma separated.
    message_ids     TEXT,
    -- When a failed reminder was reported in the channel's delivery warning.
    warned_at       TEXT,
    -- When it left 'pending' (sent, done, cancelled or failed).
    closed_at       TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (practice_id, kind, subject_key, due_on)
);
-- A tick reads only what is due: the cost follows the due rows, not the size of the table.
CREATE INDEX reminders_pending_due ON reminders (due_at) WHERE state = 'pending';
-- /followups and planning read one practice's reminders.
CREATE INDEX reminders_by_practice ON reminders (practice_id, state, due_at);
CREATE INDEX reminders_failed_unwarned ON reminders (practice_id) WHERE state = 'failed' AND warned_at IS NULL;

-- "Stop reminding": nothing more is planned for these subjects.
CREATE TABLE reminder_mutes (
    practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    subject_key TEXT NOT NULL,
    muted_at    TEXT NOT NULL,
    muted_by    TEXT NOT NULL,
    PRIMARY KEY (practice_id, subject_key)
) WITHOUT ROWID;

-- The day each practice's reminders were last planned. The scheduler re-plans practices not
-- planned today (a renewal window of next year's anniversary, a rate turning two years old), a
-- few per tick, oldest first, through this index: the sweep costs what is stale, not how many
-- practices exist.
CREATE TABLE reminder_plans (
    practice_id INTEGER PRIMARY KEY REFERENCES practices(id) ON DELETE CASCADE,
    planned_on  TEXT NOT NULL
);
CREATE INDEX reminder_plans_by_day ON reminder_plans (planned_on);
