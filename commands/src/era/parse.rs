//! From segments to a typed [`Remittance`], refusing anything that is not a well-formed 835.
//!
//! The rule for a composite whose parts are joined by another character than ISA16 (seen in
//! real files, e.g. `SVC*HC>12345>26` under `ISA16 = :`): in SVC01, SVC06 and the PLB reason
//! composites the first part is always a 2-character qualifier (HC, AD, NU, CV, WO, ...). When
//! such an element does not contain the declared component separator and its third character
//! is punctuation that is none of the interchange's other separators, that character is taken
//! as the component separator for this element only, and the file's notes say so. Anything else
//! is read as declared; a procedure composite that then has no code (`SVC*HC*24599.00*...`) is
//! refused.
//!
//! A second rule, also from real files: a check (BPR04 CHK or NON) whose BPR has its payment
//! date one element early, in BPR15 (see `payment_date`).

use super::model::*;
use super::segments::{EraError, Segment, Segments};
use crate::domain::Cents;
use chrono::NaiveDate;

/// Reads a decimal with at most `scale` significant fraction digits as an integer count of
/// 10^-scale units (cents for money). No floats anywhere.
pub fn decimal(s: &str, scale: u32) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 15
    {
        return None;
    }
    let (kept, extra) = frac.split_at(frac.len().min(scale as usize));
    if extra.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut v: i64 = 0;
    for b in whole.bytes().chain(kept.bytes()) {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    v = v.checked_mul(10i64.pow(scale - kept.len() as u32))?;
    Some(if negative { -v } else { v })
}

fn money(seg: &Segment<'_>, i: usize, what: &str) -> Result<Cents, EraError> {
    let raw = seg.required(i, what)?;
    decimal(raw, 2)
        .map(Cents)
        .ok_or_else(|| seg.error(format!("{}{i:02} ({what}) is `{raw}`; expected an amount such as 118.50", seg.id())))
}

fn optional_money(seg: &Segment<'_>, i: usize, what: &str) -> Result<Option<Cents>, EraError> {
    if seg.el(i).is_empty() {
        Ok(None)
    } else {
        money(seg, i, what).map(Some)
    }
}

fn date(seg: &Segment<'_>, i: usize, what: &str) -> Result<NaiveDate, EraError> {
    let raw = seg.required(i, what)?;
    let parsed = if raw.len() == 8 && raw.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(raw, "%Y%m%d").ok()
    } else {
        None
    };
    parsed.ok_or_else(|| seg.error(format!("{}{i:02} ({what}) is `{raw}`; expected a date CCYYMMDD", seg.id())))
}

/// BPR16. Some check payments in the wild (the LinuxForHealth samples) end one element early,
/// with the date in BPR15; BPR15 is the receiver's account number, which a check (CHK, NON)
/// has none of, so a valid date there is read as the payment date, with a note.
fn payment_date(seg: &Segment<'_>, notes: &mut Vec<String>) -> Result<NaiveDate, EraError> {
    if seg.el(16).is_empty() && matches!(seg.el(4), "CHK" | "NON") && seg.elements.len() == 16 {
        if let Ok(d) = date(seg, 15, "payment date") {
            notes.push(format!(
                "segment {} (BPR): the payment date is in BPR15, one element before BPR16; read as the payment date",
                seg.number
            ));
            return Ok(d);
        }
    }
    date(seg, 16, "payment date")
}

/// Splits a composite under the rule in the module comment.
fn composite<'a>(seg: &Segment<'a>, i: usize, notes: &mut Vec<String>) -> Vec<&'a str> {
    let raw = seg.el(i);
    let d = seg.delimiters;
    let declared = d.component as char;
    let bytes = raw.as_bytes();
    if !raw.contains(declared)
        && bytes.len() > 3
        && bytes[..2].iter().all(|b| b.is_ascii_alphanumeric())
        && bytes[2].is_ascii_punctuation()
        && !d.is_delimiter(bytes[2])
    {
        let used = bytes[2] as char;
        notes.push(format!(
            "segment {} ({}): {}{i:02} joins its parts with `{used}` where ISA16 declares `{declared}`; read with `{used}`",
            seg.number,
            seg.id(),
            seg.id()
        ));
        return raw.split(used).collect();
    }
    raw.split(declared).collect()
}

fn adjustments(seg: &Segment<'_>) -> Result<Vec<Adjustment>, EraError> {
    let group = seg.required(1, "adjustment group")?;
    if !matches!(group, "CO" | "CR" | "OA" | "PI" | "PR") {
        return Err(seg.error(format!("CAS01 is `{group}`; expected CO, CR, OA, PI or PR")));
    }
    let mut out = Vec::new();
    for k in 0..6 {
        let (r, a) = (2 + 3 * k, 3 + 3 * k);
        if seg.el(r).is_empty() && seg.el(a).is_empty() {
            continue;
        }
        let reason = seg.required(r, "reason code")?;
        out.push(Adjustment {
            group: group.to_string(),
            reason: reason.to_string(),
            amount: money(seg, a, "adjustment amount")?,
            segment: seg.number,
        });
    }
    if out.is_empty() {
        return Err(seg.error("CAS has a group but no reason code and amount"));
    }
    Ok(out)
}

#[derive(Default)]
struct Transaction {
    segment: usize,
    control: String,
    count: usize,
    bpr: bool,
    trn: bool,
    entity: String,
    check: Option<Check>,
    claim: Option<Claim>,
    line: Option<ServiceLine>,
    plb_seen: bool,
}

impl Transaction {
    fn close_line(&mut self) {
        if let (Some(claim), Some(mut line)) = (self.claim.as_mut(), self.line.take()) {
            if line.allowed_derived {
                line.allowed = line.paid + line.patient_responsibility();
            }
            claim.lines.push(line);
        }
    }

    fn close_claim(&mut self) {
        self.close_line();
        if let (Some(check), Some(mut claim)) = (self.check.as_mut(), self.claim.take()) {
            for line in &mut claim.lines {
                if line.service_date.is_none() {
                    line.service_date = claim.period_start;
                    line.service_end = claim.period_end.or(claim.period_start);
                }
            }
            check.claims.push(claim);
        }
    }
}

struct Envelope {
    segment: usize,
    control: String,
    inner: usize,
}

/// Parses a whole file (one or more interchanges). Does not check balances: see
/// [`super::balance::check`].
pub fn parse(bytes: &[u8]) -> Result<Remittance, EraError> {
    let mut out = Remittance::default();
    let mut isa: Option<Envelope> = None;
    let mut gs: Option<Envelope> = None;
    let mut st: Option<Transaction> = None;
    let mut last = (0usize, String::new());
    for seg in Segments::new(bytes) {
        let seg = seg?;
        last = (seg.number, seg.id().to_string());
        if let Some(t) = st.as_mut() {
            t.count += 1;
        }
        match seg.id() {
            "ISA" => {
                if let Some(open) = &isa {
                    return Err(seg.error(format!(
                        "a new ISA before the IEA of the interchange opened at segment {}",
                        open.segment
                    )));
                }
                isa = Some(Envelope { segment: seg.number, control: seg.el(13).to_string(), inner: 0 });
                out.interchanges += 1;
            }
            "IEA" => {
                let Some(open) = isa.take() else { return Err(seg.error("IEA without an ISA")) };
                if let Some(g) = &gs {
                    return Err(seg.error(format!("IEA before the GE of the group opened at segment {}", g.segment)));
                }
                if seg.el(2) != open.control {
                    return Err(seg.error(format!(
                        "IEA02 is `{}`; expected the ISA13 control number `{}`",
                        seg.el(2),
                        open.control
                    )));
                }
                if seg.el(1) != open.inner.to_string() {
                    return Err(seg.error(format!(
                        "IEA01 says {} groups; the interchange has {}",
                        seg.el(1),
                        open.inner
                    )));
                }
            }
            "GS" => {
                let Some(open) = isa.as_mut() else {
                    return Err(seg.error("GS outside an interchange (no ISA before it)"));
                };
                if gs.is_some() {
                    return Err(seg.error("a new GS before the GE of the previous group"));
                }
                if seg.el(1) != "HP" {
                    return Err(seg.error(format!("GS01 is `{}`; a remittance (835) group is HP", seg.el(1))));
                }
                if !seg.el(8).starts_with("005010X221") {
                    return Err(
                        seg.error(format!("GS08 is `{}`; expected version 005010X221A1 (835, 5010)", seg.el(8)))
                    );
                }
                open.inner += 1;
                out.groups += 1;
                gs = Some(Envelope { segment: seg.number, control: seg.el(6).to_string(), inner: 0 });
            }
            "GE" => {
                let Some(open) = gs.take() else { return Err(seg.error("GE without a GS")) };
                if st.is_some() {
                    return Err(seg.error("GE before the SE of the open transaction"));
                }
                if seg.el(2) != open.control {
                    return Err(seg.error(format!(
                        "GE02 is `{}`; expected the GS06 control number `{}`",
                        seg.el(2),
                        open.control
                    )));
                }
                if seg.el(1) != open.inner.to_string() {
                    return Err(seg.error(format!(
                        "GE01 says {} transactions; the group has {}",
                        seg.el(1),
                        open.inner
                    )));
                }
            }
            "ST" => {
                let Some(open) = gs.as_mut() else {
                    return Err(seg.error("ST outside a functional group (no GS before it)"));
                };
                if st.is_some() {
                    return Err(seg.error("a new ST before the SE of the previous transaction"));
                }
                if seg.el(1) != "835" {
                    return Err(
                        seg.error(format!("ST01 is `{}`; only 835 remittances can be imported here", seg.el(1)))
                    );
                }
                open.inner += 1;
                st = Some(Transaction {
                    segment: seg.number,
                    control: seg.el(2).to_string(),
                    count: 1,
                    ..Default::default()
                });
            }
            "SE" => {
                let Some(mut t) = st.take() else { return Err(seg.error("SE without an ST")) };
                t.close_claim();
                if seg.el(1) != t.count.to_string() {
                    return Err(seg.error(format!(
                        "SE01 says {} segments; the transaction has {} (ST to SE)",
                        seg.el(1),
                        t.count
                    )));
                }
                if seg.el(2) != t.control {
                    return Err(seg.error(format!(
                        "SE02 is `{}`; expected the ST02 control number `{}`",
                        seg.el(2),
                        t.control
                    )));
                }
                if !t.trn {
                    return Err(seg.error(format!(
                        "the transaction at segment {} has no TRN (check or trace number)",
                        t.segment
                    )));
                }
                let check = t.check.take().expect("bpr seen when trn seen");
                if check.payer_name.is_empty() {
                    return Err(seg.error(format!("the transaction at segment {} names no payer (N1*PR)", t.segment)));
                }
                out.checks.push(check);
            }
            _ => {
                let Some(t) = st.as_mut() else {
                    return Err(
                        seg.error("expected ISA, GS, ST, SE, GE or IEA here: this segment is outside a transaction")
                    );
                };
                transaction_segment(t, &seg, &mut out.notes)?;
            }
        }
    }
    if st.is_some() || gs.is_some() || isa.is_some() {
        let missing = if st.is_some() {
            "SE"
        } else if gs.is_some() {
            "GE"
        } else {
            "IEA"
        };
        return Err(EraError::new(last.0, &last.1, format!("the file ends here without its {missing}")));
    }
    if out.checks.is_empty() {
        return Err(EraError::new(last.0, &last.1, "the file holds no 835 transaction"));
    }
    Ok(out)
}

fn transaction_segment(t: &mut Transaction, seg: &Segment<'_>, notes: &mut Vec<String>) -> Result<(), EraError> {
    let id = seg.id();
    if !t.bpr && id != "BPR" {
        return Err(seg.error("expected BPR (the payment) right after ST"));
    }
    if t.plb_seen && id != "PLB" {
        return Err(seg.error("expected PLB or SE: provider adjustments end the transaction"));
    }
    match id {
        "BPR" => {
            if t.bpr {
                return Err(seg.error("a second BPR in one transaction"));
            }
            t.bpr = true;
            t.check = Some(Check {
                segment: t.segment,
                control_number: t.control.clone(),
                handling: seg.required(1, "transaction handling code")?.to_string(),
                amount: money(seg, 2, "total payment")?,
                method: seg.el(4).to_string(),
                date: payment_date(seg, notes)?,
                number: String::new(),
                payer_name: String::new(),
                payer_id: String::new(),
                provider_adjustments: vec![],
                claims: vec![],
            });
            if seg.el(3) == "D" {
                return Err(seg.error("BPR03 is D (a debit to the provider); only credits can be imported"));
            }
        }
        "TRN" => {
            let check = t.check.as_mut().expect("bpr first");
            if !t.trn {
                check.number = seg.required(2, "check or EFT trace number")?.to_string();
                t.trn = true;
            }
        }
        "N1" => {
            t.entity = seg.required(1, "entity code")?.to_string();
            if t.entity == "PR" {
                let check = t.check.as_mut().expect("bpr first");
                check.payer_name = seg.required(2, "payer name")?.to_string();
                check.payer_id = seg.el(4).to_string();
            }
        }
        "REF" if t.claim.is_none() && t.entity == "PR" && seg.el(1) == "2U" => {
            let check = t.check.as_mut().expect("bpr first");
            if check.payer_id.is_empty() {
                check.payer_id = seg.el(2).to_string();
            }
        }
        "LX" | "TS3" | "TS2" => t.close_claim(),
        "CLP" => {
            t.close_claim();
            if !t.trn {
                return Err(seg.error("a claim before the TRN (check or trace number)"));
            }
            let patient_responsibility = optional_money(seg, 5, "patient responsibility")?.unwrap_or_default();
            t.claim = Some(Claim {
                segment: seg.number,
                id: seg.required(1, "claim id")?.to_string(),
                status: seg.required(2, "claim status")?.to_string(),
                charge: money(seg, 3, "total charge")?,
                paid: money(seg, 4, "claim payment")?,
                patient_responsibility,
                payer_control: seg.el(7).to_string(),
                adjustments: vec![],
                lines: vec![],
                period_start: None,
                period_end: None,
                remarks: vec![],
                patient: PatientRef::default(),
                rendering_provider: String::new(),
            });
        }
        "CAS" => {
            let adj = adjustments(seg)?;
            match (t.line.as_mut(), t.claim.as_mut()) {
                (Some(line), _) => line.adjustments.extend(adj),
                (None, Some(claim)) => claim.adjustments.extend(adj),
                _ => return Err(seg.error("CAS outside a claim (expected after CLP or SVC)")),
            }
        }
        "NM1" => {
            if let (None, Some(claim)) = (t.line.as_ref(), t.claim.as_mut()) {
                match seg.el(1) {
                    "QC" => {
                        // The name as "Last, First" (what the claims import keys, so one client has
                        // one key in both), else the member id.
                        let who = match (seg.el(3), seg.el(4)) {
                            ("", _) => seg.el(9).to_string(),
                            (last, "") => last.to_string(),
                            (last, first) => format!("{last}, {first}"),
                        };
                        claim.patient = PatientRef(who);
                    }
                    "82" => claim.rendering_provider = seg.el(9).to_string(),
                    _ => {}
                }
            }
        }
        "MOA" | "MIA" => {
            if let Some(claim) = t.claim.as_mut() {
                let positions: &[usize] = if id == "MOA" { &[3, 4, 5, 6, 7] } else { &[5, 20, 21, 22, 23] };
                claim.remarks.extend(positions.iter().map(|&i| seg.el(i)).filter(|r| !r.is_empty()).map(String::from));
            }
        }
        "DTM" => {
            let q = seg.el(1);
            if let Some(line) = t.line.as_mut() {
                match q {
                    "472" | "150" => line.service_date = Some(date(seg, 2, "service date")?),
                    "151" => line.service_end = Some(date(seg, 2, "service end date")?),
                    _ => {}
                }
                if q == "472" && line.service_end.is_none() {
                    line.service_end = line.service_date;
                }
            } else if let Some(claim) = t.claim.as_mut() {
                match q {
                    "232" | "150" => claim.period_start = Some(date(seg, 2, "claim period start")?),
                    "233" | "151" => claim.period_end = Some(date(seg, 2, "claim period end")?),
                    _ => {}
                }
            }
        }
        "SVC" => {
            t.close_line();
            if t.claim.is_none() {
                return Err(seg.error("a service line (SVC) before any claim (CLP)"));
            }
            let parts = composite(seg, 1, notes);
            let qualifier = parts[0];
            let procedure = parts.get(1).copied().unwrap_or("");
            let sep = seg.delimiters.component as char;
            if qualifier.is_empty() || procedure.is_empty() {
                return Err(seg.error(format!(
                    "SVC01 is `{}`: expected a code list and a procedure code joined by `{sep}`, such as HC{sep}90837",
                    seg.el(1)
                )));
            }
            let units = match seg.el(5) {
                "" => 100,
                raw => decimal(raw, 2).filter(|u| *u >= 0).ok_or_else(|| {
                    seg.error(format!("SVC05 (units) is `{raw}`; expected a number such as 1 or 1.5"))
                })?,
            };
            let charge = money(seg, 2, "line charge")?;
            let paid = money(seg, 3, "line payment")?;
            t.line = Some(ServiceLine {
                segment: seg.number,
                qualifier: qualifier.to_string(),
                procedure: procedure.to_string(),
                modifiers: parts.iter().skip(2).take(4).filter(|m| !m.is_empty()).map(|m| m.to_string()).collect(),
                charge,
                paid,
                units_hundredths: units,
                allowed: Cents::ZERO,
                allowed_derived: true,
                adjustments: vec![],
                remarks: vec![],
                service_date: None,
                service_end: None,
            });
        }
        "AMT" => {
            if let Some(line) = t.line.as_mut() {
                if seg.el(1) == "B6" {
                    line.allowed = money(seg, 2, "allowed amount")?;
                    line.allowed_derived = false;
                }
            }
        }
        "LQ" => {
            if let Some(line) = t.line.as_mut() {
                let code = seg.required(2, "remark code")?;
                line.remarks.push(match seg.el(1) {
                    "HE" => code.to_string(),
                    q => format!("{q}:{code}"),
                });
            }
        }
        "PLB" => {
            t.close_claim();
            t.plb_seen = true;
            let check = t.check.as_mut().expect("bpr first");
            let mut any = false;
            for k in 0..6 {
                let (r, a) = (3 + 2 * k, 4 + 2 * k);
                if seg.el(r).is_empty() && seg.el(a).is_empty() {
                    continue;
                }
                let parts = composite(seg, r, notes);
                if parts[0].is_empty() {
                    return Err(seg.error(format!("PLB{r:02} (adjustment reason) is missing")));
                }
                check.provider_adjustments.push(ProviderAdjustment {
                    reason: parts[0].to_string(),
                    reference: parts.get(1).copied().unwrap_or("").to_string(),
                    amount: money(seg, a, "provider adjustment amount")?,
                    segment: seg.number,
                });
                any = true;
            }
            if !any {
                return Err(seg.error("PLB has no adjustment (PLB03 and PLB04)"));
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_integers() {
        assert_eq!(decimal("1222.00", 2), Some(122200));
        assert_eq!(decimal("127.8", 2), Some(12780));
        assert_eq!(decimal("-1.27", 2), Some(-127));
        assert_eq!(decimal(".5", 2), Some(50));
        assert_eq!(decimal("0", 2), Some(0));
        assert_eq!(decimal("12.3400", 2), Some(1234));
        assert_eq!(decimal("12.345", 2), None);
        assert_eq!(decimal("1e3", 2), None);
        assert_eq!(decimal("", 2), None);
        assert_eq!(decimal("-", 2), None);
        assert_eq!(decimal(".", 2), None);
        assert_eq!(decimal("999999999999999", 2), Some(99999999999999900));
        assert_eq!(decimal("1234567890123456", 2), None);
    }
}
