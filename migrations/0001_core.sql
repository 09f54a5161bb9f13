-- Practices, payers, contracted rates with history, and the audit trail.
-- Money is integer cents. Dates are ISO text (YYYY-MM-DD); instants are RFC 3339 text in UTC.

CREATE TABLE practices (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL CHECK (platform IN ('console', 'discord', 'slack')),
    external_id      TEXT NOT NULL,
    name             TEXT NOT NULL,
    locality_id      TEXT,
    credential       TEXT,
    setting          TEXT NOT NULL DEFAULT 'non-facility',
    time_zone        TEXT NOT NULL DEFAULT 'America/New_York',
    reminder_channel TEXT,
    manager_role     TEXT,
    npi              TEXT,
    tax_id           TEXT,
    weeks_per_year   INTEGER NOT NULL DEFAULT 48 CHECK (weeks_per_year BETWEEN 1 AND 52),
    created_at       TEXT NOT NULL,
    UNIQUE (platform, external_id)
);

CREATE TABLE payers (
    id             INTEGER PRIMARY KEY,
    practice_id    INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'in-network',
    effective_date TEXT,
    renewal_date   TEXT,
    notice_days    INTEGER NOT NULL DEFAULT 90 CHECK (notice_days BETWEEN 0 AND 365),
    contact_name   TEXT,
    contact_email  TEXT,
    contact_phone  TEXT,
    provider_id    TEXT,
    notes          TEXT,
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX payers_unique_name ON payers (practice_id, name COLLATE NOCASE);

-- One row per (payer, code) the practice bills: its weekly volume and a summary of the latest
-- rate on file, kept by the store on every rate change so reports need no scan of the history.
CREATE TABLE payer_codes (
    payer_id         INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    -- Copied from the payer so the best peer rate of a code is one short index walk.
    practice_id      INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    cpt              TEXT NOT NULL,
    weekly_volume    INTEGER NOT NULL DEFAULT 0 CHECK (weekly_volume >= 0),
    latest_cents     INTEGER,
    latest_effective TEXT,
    -- First effective date of the run of equal amounts that ends with the latest rate.
    latest_since     TEXT,
    PRIMARY KEY (payer_id, cpt)
) WITHOUT ROWID;
CREATE INDEX payer_codes_by_rate ON payer_codes (practice_id, cpt, latest_cents DESC);
CREATE INDEX payer_codes_by_effective ON payer_codes (practice_id, latest_effective);

CREATE TABLE rates (
    id             INTEGER PRIMARY KEY,
    payer_id       INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    cpt            TEXT NOT NULL,
    amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0 AND amount_cents <= 200000),
    effective_date TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    source         TEXT
);
CREATE INDEX rates_by_payer_code ON rates (payer_id, cpt, effective_date DESC, id DESC);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_by_practice ON audit_log (practice_id, id);

-- Newer CMS releases loaded at run time (`raterise medicare import`), merged over the embedded data.
CREATE TABLE medicare_releases (
    year         INTEGER PRIMARY KEY,
    rvu_csv      TEXT NOT NULL,
    gpci_csv     TEXT NOT NULL,
    cf_ten_thousandths INTEGER NOT NULL CHECK (cf_ten_thousandths > 0),
    imported_at  TEXT NOT NULL,
    imported_by  TEXT NOT NULL
);
