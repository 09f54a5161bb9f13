-- Electronic remittance advice (X12 835): checks, claims, service lines and adjustments.
-- No patient name or member id is stored: a claim keeps only keyed hashes (the practice's
-- client key, see the claims import) of its patient and of its claim id (CLP01, which EHRs
-- often build from the client's account number); enough to count clients and net reversals.
-- Money is integer cents; dates are ISO text.

CREATE TABLE era_checks (
    id             INTEGER PRIMARY KEY,
    practice_id    INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    -- The practice's payer this check was matched to; NULL while the payer is unknown.
    payer_id       INTEGER REFERENCES payers(id) ON DELETE SET NULL,
    payer_name     TEXT NOT NULL,             -- N1*PR N102 as written
    payer_ident    TEXT NOT NULL,             -- N1*PR N104 or REF*2U, '' when none
    number         TEXT NOT NULL,             -- TRN02: check or EFT trace number
    check_date     TEXT NOT NULL,             -- BPR16
    amount_cents   INTEGER NOT NULL,          -- BPR02
    method         TEXT NOT NULL,             -- BPR04: CHK, ACH, NON, ...
    handling       TEXT NOT NULL,             -- BPR01
    plb_cents      INTEGER NOT NULL,          -- sum of PLB amounts (positive: taken from the check)
    file_name      TEXT NOT NULL,
    imported_at    TEXT NOT NULL,
    imported_by    TEXT NOT NULL
);
-- The same check imported twice adds nothing: payer + check number + amount + date decide.
CREATE UNIQUE INDEX era_checks_natural
    ON era_checks (practice_id, payer_name COLLATE NOCASE, payer_ident, number, amount_cents, check_date);
CREATE INDEX era_checks_by_payer ON era_checks (payer_id, check_date);

CREATE TABLE era_provider_adjustments (
    check_id     INTEGER NOT NULL REFERENCES era_checks(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
);
CREATE INDEX era_plb_by_check ON era_provider_adjustments (check_id);

CREATE TABLE era_claims (
    id                 INTEGER PRIMARY KEY,
    check_id           INTEGER NOT NULL REFERENCES era_checks(id) ON DELETE CASCADE,
    practice_id        INTEGER NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    claim_key          BLOB NOT NULL,          -- keyed hash of CLP01
    client_hash        BLOB,                   -- keyed hash of the patient's member id (or name)
    status             TEXT NOT NULL,          -- CLP02
    charge_cents       INTEGER NOT NULL,
    paid_cents         INTEGER NOT NULL,
    patient_resp_cents INTEGER NOT NULL,
    payer_control      TEXT NOT NULL,          -- CLP07
    rendering_npi      TEXT NOT NULL,
    service_date       TEXT,                   -- the first line's date, or the claim period's start
    denied             INTEGER NOT NULL CHECK (denied IN (0, 1)),
    -- 1 for a reversal (CLP02 22) and for the claim it took back: neither counts in the figures
    -- (their amounts still add up, so totals net out).
    reversed           INTEGER NOT NULL DEFAULT 0 CHECK (reversed IN (0, 1)),
    segment            INTEGER NOT NULL
);
CREATE INDEX era_claims_by_check ON era_claims (check_id);
CREATE INDEX era_claims_by_key ON era_claims (practice_id, claim_key);

CREATE TABLE era_lines (
    id                 INTEGER PRIMARY KEY,
    claim_id           INTEGER NOT NULL REFERENCES era_claims(id) ON DELETE CASCADE,
    -- Copied from the check and claim so /underpayments is one index range per payer and code.
    payer_id           INTEGER REFERENCES payers(id) ON DELETE SET NULL,
    counted            INTEGER NOT NULL CHECK (counted IN (0, 1)),  -- neither reversed nor denied
    cpt                TEXT NOT NULL,
    modifiers          TEXT NOT NULL,          -- space-separated
    units_hundredths   INTEGER NOT NULL,
    charge_cents       INTEGER NOT NULL,
    paid_cents         INTEGER NOT NULL,
    allowed_cents      INTEGER NOT NULL,
    allowed_derived    INTEGER NOT NULL CHECK (allowed_derived IN (0, 1)),
    patient_resp_cents INTEGER NOT NULL,
    service_date       TEXT,
    remarks            TEXT NOT NULL,          -- space-separated RARC codes
    segment            INTEGER NOT NULL
);
CREATE INDEX era_lines_by_claim ON era_lines (claim_id);
CREATE INDEX era_lines_by_payer_code ON era_lines (payer_id, cpt, service_date) WHERE counted = 1;

-- CAS adjustments of a claim (line_id NULL) or of one of its lines.
CREATE TABLE era_adjustments (
    claim_id     INTEGER NOT NULL REFERENCES era_claims(id) ON DELETE CASCADE,
    line_id      INTEGER REFERENCES era_lines(id) ON DELETE CASCADE,
    group_code   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
);
CREATE INDEX era_adjustments_by_claim ON era_adjustments (claim_id);
