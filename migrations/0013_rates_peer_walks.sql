-- /rates PAYER picks, per code, the best rate in force among the practice's other payers. When
-- the peers' latest rates start later (agreed raises from next month), the rate in force is the
-- prior one of the summary: these indexes let both cases walk to the best peer by index alone
-- (no table read per peer row, no scan of every future-dated row of the practice).

-- The latest rate, with its start date in the index so a not-yet-started rate is skipped
-- without reading the row; payer_id before it keeps ties ordered as before (by payer).
DROP INDEX payer_codes_by_rate;
CREATE INDEX payer_codes_by_rate ON payer_codes (practice_id, cpt, latest_cents DESC, payer_id, latest_effective);

-- The rate in force before the latest one, best first.
CREATE INDEX payer_codes_by_prior_rate ON payer_codes (practice_id, cpt, prior_cents DESC, payer_id, latest_effective, prior_effective)
    WHERE prior_cents IS NOT NULL;

-- The few summaries that cannot answer for today (two rates still to come, or written before
-- the prior columns existed): found by a seek, not a scan.
CREATE INDEX payer_codes_needing_history ON payer_codes (practice_id, prior_known, prior_effective, latest_effective);
