//! The balancing rules of the 835 (X221A1 section 1.10.2), checked before anything is stored.

use super::model::{Check, Claim, Remittance};
use super::segments::EraError;
use crate::domain::Cents;

fn sum<'a>(amounts: impl Iterator<Item = &'a Cents>) -> Cents {
    Cents(amounts.map(|c| c.0).sum())
}

/// Each line: charge - paid = its adjustments. Each claim: charge - paid = claim and line
/// adjustments. Each check: BPR02 = claims paid - PLB amounts (a negative PLB adds to the check).
pub fn check(remittance: &Remittance) -> Result<(), EraError> {
    for check in &remittance.checks {
        for claim in &check.claims {
            claim_balances(claim)?;
        }
        check_balances(check)?;
    }
    Ok(())
}

fn claim_balances(claim: &Claim) -> Result<(), EraError> {
    for line in &claim.lines {
        let adjusted = sum(line.adjustments.iter().map(|a| &a.amount));
        if line.charge - line.paid != adjusted {
            return Err(EraError::new(
                line.segment,
                "SVC",
                format!(
                    "line {} of claim {} does not balance: charge {} - paid {} = {}, but its adjustments add up to {}",
                    line.procedure,
                    claim.id,
                    line.charge,
                    line.paid,
                    line.charge - line.paid,
                    adjusted
                ),
            ));
        }
    }
    let adjusted = sum(claim.all_adjustments().map(|a| &a.amount));
    if claim.charge - claim.paid != adjusted {
        return Err(EraError::new(
            claim.segment,
            "CLP",
            format!(
                "claim {} does not balance: charge {} - paid {} = {}, but its adjustments (claim and lines) add up to {}",
                claim.id,
                claim.charge,
                claim.paid,
                claim.charge - claim.paid,
                adjusted
            ),
        ));
    }
    Ok(())
}

fn check_balances(check: &Check) -> Result<(), EraError> {
    let paid = check.claims_paid();
    let plb = check.plb_total();
    if check.amount != paid - plb {
        return Err(EraError::new(
            check.segment,
            "ST",
            format!(
                "check {} does not balance: BPR02 is {}, but the claims paid {} minus provider adjustments {} is {}",
                check.number,
                check.amount,
                paid,
                plb,
                paid - plb
            ),
        ));
    }
    Ok(())
}
