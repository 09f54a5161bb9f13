//! Adjustment reason codes (CARC) and remark codes (RARC) that therapy practices meet most,
//! each explained in a few plain words of our own. Codes not listed are shown by number with a
//! pointer to the published lists (x12.org/codes).

const CARC: &[(&str, &str)] = &[
    ("1", "the client's deductible"),
    ("2", "the client's coinsurance"),
    ("3", "the client's copay"),
    ("4", "the code and its modifier do not fit together"),
    ("5", "the code does not fit the place of service"),
    ("11", "the diagnosis does not support the service"),
    ("16", "information was missing or wrong on the claim; fix it and send it again"),
    ("18", "a duplicate of a claim already received"),
    ("22", "another plan should pay first (coordination of benefits)"),
    ("23", "what an earlier payer already paid or adjusted"),
    ("26", "the service was before coverage started"),
    ("27", "the service was after coverage ended"),
    ("29", "the claim came in after the filing deadline"),
    ("31", "the payer cannot find the client as its member"),
    ("42", "the charge is above the payer's maximum"),
    ("45", "the charge is above the contracted rate (the usual write-down)"),
    ("50", "the payer did not find the service medically necessary"),
    ("94", "the payer processed more than the charge"),
    ("96", "the plan does not cover this service"),
    ("97", "paid as part of another service (bundled)"),
    ("109", "this payer does not cover the claim; send it to the right one"),
    ("119", "the client's benefit maximum was reached (for example a visit limit)"),
    ("146", "the diagnosis was not valid for the date of service"),
    ("167", "the plan does not cover this diagnosis"),
    ("170", "the plan does not pay this type of provider for this service"),
    ("185", "the rendering provider is not eligible to perform the service"),
    ("197", "the required prior authorization or precertification was missing"),
    ("204", "the client's current benefit plan does not cover this service"),
    ("227", "the client did not send information the payer asked for"),
    ("242", "the service was not provided by a network provider"),
    ("252", "the payer needs an attachment or other documentation"),
    ("253", "a sequestration cut (federal payers)"),
    ("A1", "the claim or service was denied"),
    ("A7", "an adjustment of a presumptive payment"),
];

const RARC: &[(&str, &str)] = &[
    ("M15", "separately billed services were bundled"),
    ("M51", "the procedure code is missing, incomplete or invalid"),
    ("M76", "the diagnosis is missing, incomplete or invalid"),
    ("M86", "denied because a payment was already made for a similar service"),
    ("MA01", "you may appeal this decision"),
    ("MA02", "you may appeal this decision (with the payer's appeal address)"),
    ("MA130", "the claim has incomplete or invalid information; correct and resubmit it"),
    ("N4", "the prior payer's payment information is missing or invalid"),
    ("N14", "paid under the payer's contract or legislated fee arrangement"),
    ("N30", "the client was not eligible for this service"),
    ("N54", "the claim was not authorized as billed (check the authorization)"),
    ("N115", "see the payer's coverage policy for this service"),
    ("N130", "see the plan's benefit documents for limits"),
    ("N211", "the payer allows no appeal of this decision"),
    ("N290", "the rendering provider's identifier is missing or invalid"),
    ("N362", "the number of units exceeds what the payer allows"),
    ("N386", "decided under the payer's national coverage policy"),
    ("N419", "a corrected or replacement claim"),
    ("N689", "the claim was reversed for a correction"),
];

/// A reason code explained: `CO-45` as "the charge is above the contracted rate ...".
pub fn carc(code: &str) -> &'static str {
    CARC.iter().find(|(c, _)| *c == code).map(|(_, t)| *t).unwrap_or("see the published CARC list")
}

pub fn rarc(code: &str) -> &'static str {
    RARC.iter().find(|(c, _)| *c == code).map(|(_, t)| *t).unwrap_or("see the published RARC list")
}

/// The group of an adjustment in plain words.
pub fn group(code: &str) -> &'static str {
    match code {
        "CO" => "contractual (you may not bill the client)",
        "PR" => "the client's share",
        "OA" => "other",
        "PI" => "payer-initiated",
        "CR" => "correction or reversal",
        _ => "unknown group",
    }
}
