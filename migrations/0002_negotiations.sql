-- Negotiation cases with their per-code ask and event log, and the practice's case file
-- (utilization per payer, outcome measures, credentials and specialties).
-- No patient identifiers anywhere: only counts, shares, amounts and dates.
-- Money is integer cents; input shares (clean-claim rate, no-show rate, share improved) are
-- integer basis points (96.5% is 9650). Computed percentages are never stored.

CREATE TABLE negotiations (
    id             INTEGER PRIMARY KEY,
    practice_id    INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    payer_id       INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    -- 'rate-review' for a payer the practice is in network with, 'new-contract' before signing.
    starting_point TEXT NOT NULL CHECK (starting_point IN ('rate-review', 'new-contract')),
    -- The stage follows from the events; the store recomputes it in the transaction that adds
    -- an event and keeps it here so open cases can be listed without replaying every log.
    stage          TEXT NOT NULL,
    opened_on      TEXT NOT NULL,
    -- Set when the case reaches accepted, withdrawn or walked away.
    closed_on      TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- One open case per payer.
CREATE UNIQUE INDEX negotiations_one_open_per_payer ON negotiations (payer_id) WHERE closed_on IS NULL;
CREATE INDEX negotiations_by_practice ON negotiations (practice_id, closed_on);

-- The ask per code: the rate when the case opened, the requested rate and the payer's latest offer.
CREATE TABLE negotiation_codes (
    negotiation_id  INTEGER NOT NULL REFERENCES negotiations(id) ON DELETE CASCADE,
    cpt             TEXT NOT NULL,
    start_cents     INTEGER CHECK (start_cents > 0),
    requested_cents INTEGER NOT NULL CHECK (requested_cents > 0 AND requested_cents <= 200000),
    offered_cents   INTEGER CHECK (offered_cents > 0 AND offered_cents <= 200000),
    PRIMARY KEY (negotiation_id, cpt)
) WITHOUT ROWID;

CREATE TABLE negotiation_events (
    id             INTEGER PRIMARY KEY,
    negotiation_id INTEGER NOT NULL REFERENCES negotiations(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    occurred_on    TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    note           TEXT CHECK (note IS NULL OR length(note) <= 1000)
);
CREATE INDEX negotiation_events_by_case ON negotiation_events (negotiation_id, occurred_on, id);

-- Utilization with one payer over a period (the latest figures the practice entered).
CREATE TABLE payer_utilization (
    payer_id        INTEGER PRIMARY KEY REFERENCES payers(id) ON DELETE CASCADE,
    period_start    TEXT NOT NULL,
    period_end      TEXT NOT NULL CHECK (period_end >= period_start),
    claims          INTEGER NOT NULL CHECK (claims >= 0),
    unique_patients INTEGER NOT NULL CHECK (unique_patients >= 0 AND unique_patients <= claims),
    clean_claim_bp  INTEGER CHECK (clean_claim_bp BETWEEN 0 AND 10000),
    no_show_bp      INTEGER CHECK (no_show_bp BETWEEN 0 AND 10000),
    days_to_payment INTEGER CHECK (days_to_payment BETWEEN 0 AND 365),
    recorded_at     TEXT NOT NULL,
    recorded_by     TEXT NOT NULL
);

-- Quality: an outcome measure such as PHQ-9 or GAD-7 across the practice's clients.
CREATE TABLE outcome_measures (
    id                INTEGER PRIMARY KEY,
    practice_id       INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    measure           TEXT NOT NULL CHECK (length(measure) BETWEEN 1 AND 40),
    period_start      TEXT,
    period_end        TEXT,
    clients           INTEGER NOT NULL CHECK (clients > 0),
    -- Share of measured clients with meaningful improvement.
    improved_bp       INTEGER CHECK (improved_bp BETWEEN 0 AND 10000),
    -- Average change in score from first to latest measurement, in tenths of a point (-6.2 is -62).
    avg_change_tenths INTEGER,
    recorded_at       TEXT NOT NULL,
    recorded_by       TEXT NOT NULL,
    CHECK (improved_bp IS NOT NULL OR avg_change_tenths IS NOT NULL)
);
CREATE UNIQUE INDEX outcome_measures_unique ON outcome_measures (practice_id, measure COLLATE NOCASE);

-- Credentials (licenses held by the practice's clinicians) and specialties (EMDR, DBT, ...).
CREATE TABLE practice_credentials (
    id          INTEGER PRIMARY KEY,
    practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    kind        TEXT NOT NULL CHECK (kind IN ('credential', 'specialty')),
    clinicians  INTEGER CHECK (clinicians > 0),
    note        TEXT CHECK (note IS NULL OR length(note) <= 200),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE UNIQUE INDEX practice_credentials_unique ON practice_credentials (practice_id, name COLLATE NOCASE);
