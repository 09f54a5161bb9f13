-- Claims imported from a practice's EHR export, de-identified: no client name, id, birth date,
-- member id, address or note is ever stored. A client is only a keyed hash (HMAC-SHA256 with the
-- practice's own secret, truncated to 16 bytes), so unique clients can be counted and nobody can
-- look a client up without the secret.

-- The per-practice secret behind every client key. Generated from the OS CSPRNG on first use.
CREATE TABLE client_key_secrets (
    practice_id INTEGER PRIMARY KEY REFERENCES practices(id) ON DELETE CASCADE,
    secret      BLOB NOT NULL CHECK (length(secret) = 32),
    created_at  TEXT NOT NULL
);

-- Payer ids (electronic payer ids, as exports and remittances carry them) already tied to one of
-- the practice's payers, so a later file that names the payer differently still matches. Learned
-- when a row matched by name also carried an id; stored normalised (upper case, no spaces).
CREATE TABLE payer_external_ids (
    practice_id INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    payer_id    INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    PRIMARY KEY (practice_id, external_id)
) WITHOUT ROWID;

-- One row per import run: what it read and what it covered.
CREATE TABLE claim_imports (
    id            INTEGER PRIMARY KEY,
    practice_id   INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    imported_at   TEXT NOT NULL,
    imported_by   TEXT NOT NULL,
    source        TEXT NOT NULL,
    rows_read     INTEGER NOT NULL,
    added         INTEGER NOT NULL,
    duplicates    INTEGER NOT NULL,
    skipped       INTEGER NOT NULL,
    first_service TEXT,
    last_service  TEXT,
    -- 1 when the file could say a session was a no-show or late cancellation.
    marks_attendance INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX claim_imports_by_practice ON claim_imports (practice_id, last_service);

-- One service line billed to a payer, or a no-show / late cancellation (cpt '' then).
-- Clustered by (practice, payer, date of service) so a report reads one contiguous range.
-- natural_key is the keyed hash of (client, date of service, code, modifiers, clinician): the
-- same session in a second export is the same claim.
CREATE TABLE claims (
    practice_id      INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    payer_id         INTEGER NOT NULL REFERENCES payers(id) ON DELETE CASCADE,
    service_date     TEXT NOT NULL,
    natural_key      BLOB NOT NULL,
    cpt              TEXT NOT NULL,
    modifiers        TEXT NOT NULL DEFAULT '',
    units            INTEGER NOT NULL CHECK (units >= 0),
    client_key       BLOB NOT NULL,
    clinician_key    BLOB,
    credential       TEXT,
    place_of_service TEXT,
    billed_cents     INTEGER CHECK (billed_cents >= 0),
    allowed_cents    INTEGER CHECK (allowed_cents >= 0),
    paid_cents       INTEGER CHECK (paid_cents >= 0),
    paid_date        TEXT,
    -- Whole days from service to payment, kept so reports need no date arithmetic.
    days_to_payment  INTEGER,
    outcome          TEXT NOT NULL CHECK (outcome IN ('paid', 'denied', 'pending', 'no-show', 'late-cancel')),
    -- Paid only after a denial, rejection or resubmission: not a clean claim.
    resubmitted      INTEGER NOT NULL DEFAULT 0,
    import_id        INTEGER NOT NULL REFERENCES claim_imports(id) ON DELETE CASCADE,
    PRIMARY KEY (practice_id, payer_id, service_date, natural_key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX claims_natural_key ON claims (practice_id, natural_key);
