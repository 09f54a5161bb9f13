-- An offer is not a contract: a payer's counter-offer lives on the case (with the date it would
-- apply from) and enters the rate history only when it is accepted. An agreement may carry a
-- review date (a six-month review), which is when the next ask becomes timely.

CREATE TABLE negotiation_offers (
    negotiation_id INTEGER NOT NULL REFERENCES negotiations(id) ON DELETE CASCADE,
    cpt            TEXT NOT NULL,
    offered_cents  INTEGER NOT NULL CHECK (offered_cents > 0 AND offered_cents <= 200000),
    effective_date TEXT NOT NULL,
    PRIMARY KEY (negotiation_id, cpt)
) WITHOUT ROWID;

ALTER TABLE negotiations ADD COLUMN review_on TEXT;

-- The rate in force on the day before the latest rate starts, so that a latest rate starting in
-- the future (an agreed raise from next month) is answered from this summary too, without
-- reading the history. prior_known = 0 for summaries written before this migration: those fall
-- back to the history until the code's rates change again.
ALTER TABLE payer_codes ADD COLUMN prior_cents INTEGER;
ALTER TABLE payer_codes ADD COLUMN prior_effective TEXT;
ALTER TABLE payer_codes ADD COLUMN prior_since TEXT;
ALTER TABLE payer_codes ADD COLUMN prior_known INTEGER NOT NULL DEFAULT 0;
