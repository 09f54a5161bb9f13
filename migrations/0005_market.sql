-- Market rates from payers' Transparency-in-Coverage files (issue 13).
-- Public data only: NPIs and TINs are published identifiers of clinicians and businesses.

-- Behavioral clinicians from the monthly NPPES file (`raterise market nppes`), replaced whole.
CREATE TABLE market_npis (
    npi      INTEGER PRIMARY KEY,
    bucket   TEXT NOT NULL,
    taxonomy TEXT NOT NULL,
    state    TEXT NOT NULL,
    zip      TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE market_nppes_loads (
    id         INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    rows_seen  INTEGER NOT NULL,
    clinicians INTEGER NOT NULL,
    loaded_at  TEXT NOT NULL
);

-- One row per in-network file imported for a payer (and state, when given).
CREATE TABLE market_imports (
    id              INTEGER PRIMARY KEY,
    payer           TEXT NOT NULL,
    state           TEXT,
    source          TEXT NOT NULL,
    last_updated_on TEXT,
    imported_on     TEXT NOT NULL,
    summary         TEXT NOT NULL
);

-- Percentiles per market cell. Money is integer cents. A later import of the same payer replaces
-- the cells of the states it covers.
CREATE TABLE market_cells (
    import_id      INTEGER NOT NULL REFERENCES market_imports(id) ON DELETE CASCADE,
    payer          TEXT NOT NULL COLLATE NOCASE,
    state          TEXT NOT NULL,
    cpt            TEXT NOT NULL,
    modifier       TEXT NOT NULL,
    pos            TEXT NOT NULL,
    setting        TEXT NOT NULL,
    credential     TEXT NOT NULL,
    platform       INTEGER NOT NULL CHECK (platform IN (0, 1)),
    n_clinicians   INTEGER NOT NULL,
    n_contracts    INTEGER NOT NULL,
    clin_p10       INTEGER NOT NULL,
    clin_p25       INTEGER NOT NULL,
    clin_p50       INTEGER NOT NULL,
    clin_p75       INTEGER NOT NULL,
    clin_p90       INTEGER NOT NULL,
    contract_p10   INTEGER NOT NULL,
    contract_p25   INTEGER NOT NULL,
    contract_p50   INTEGER NOT NULL,
    contract_p75   INTEGER NOT NULL,
    contract_p90   INTEGER NOT NULL,
    PRIMARY KEY (payer, state, cpt, modifier, pos, setting, credential, platform)
) WITHOUT ROWID;
CREATE INDEX market_cells_by_import ON market_cells (import_id);
