//! Which column of an export holds which field: by name, ignoring case, spaces and punctuation,
//! through the aliases EHR exports use, with `--map COLUMN=FIELD` for anything else.

use serde::Serialize;

/// A field the import understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ServiceDate,
    Payer,
    PayerId,
    Cpt,
    Modifiers,
    Units,
    Billed,
    Allowed,
    InsurancePaid,
    PaymentDate,
    Status,
    /// Appointment / attendance status, where no-shows and late cancellations are marked.
    Attendance,
    Client,
    Clinician,
    Credential,
    PlaceOfService,
    /// A column that is read past and never stored (client charges, notes, birth dates, ...).
    Ignore,
}

impl Field {
    /// The names `--map` accepts.
    pub const NAMES: &'static [(&'static str, Field)] = &[
        ("date_of_service", Field::ServiceDate),
        ("payer", Field::Payer),
        ("payer_id", Field::PayerId),
        ("cpt", Field::Cpt),
        ("modifiers", Field::Modifiers),
        ("units", Field::Units),
        ("billed", Field::Billed),
        ("allowed", Field::Allowed),
        ("insurance_paid", Field::InsurancePaid),
        ("payment_date", Field::PaymentDate),
        ("status", Field::Status),
        ("attendance", Field::Attendance),
        ("client", Field::Client),
        ("clinician", Field::Clinician),
        ("credential", Field::Credential),
        ("place_of_service", Field::PlaceOfService),
        ("ignore", Field::Ignore),
    ];

    pub fn name(self) -> &'static str {
        Field::NAMES.iter().find(|(_, f)| *f == self).map(|(n, _)| *n).unwrap_or("ignore")
    }

    pub fn parse(name: &str) -> Option<Field> {
        let key = squash(name);
        Field::NAMES.iter().find(|(n, _)| squash(n) == key).map(|(_, f)| *f)
    }

    /// Fields a file must have (after aliases and `--map`).
    pub const REQUIRED: [Field; 4] = [Field::ServiceDate, Field::Payer, Field::Cpt, Field::Client];

    pub fn describe(self) -> &'static str {
        match self {
            Field::ServiceDate => "the date of service",
            Field::Payer => "the (primary) insurance / payer",
            Field::PayerId => "the payer id",
            Field::Cpt => "the CPT / billing code",
            Field::Modifiers => "the modifiers",
            Field::Units => "the units",
            Field::Billed => "the billed amount / charge",
            Field::Allowed => "the allowed amount",
            Field::InsurancePaid => "what the insurance paid",
            Field::PaymentDate => "the payment date",
            Field::Status => "the claim status",
            Field::Attendance => "the appointment status",
            Field::Client => "the client / patient (name or account id)",
            Field::Clinician => "the clinician / rendering provider",
            Field::Credential => "the rendering credential",
            Field::PlaceOfService => "the place of service",
            Field::Ignore => "nothing",
        }
    }
}

/// Header names compare by their letters and digits only, lower case.
pub fn squash(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Aliases, already squashed. Columns with patient details other than the client's name or id
/// (birth date, member id, address, notes, ...) are listed as `Ignore` on purpose: they are
/// recognised so nothing ever mistakes them for a field we keep.
const ALIASES: &[(&str, Field)] = &[
    ("dateofservice", Field::ServiceDate),
    ("servicedate", Field::ServiceDate),
    ("dos", Field::ServiceDate),
    ("date", Field::ServiceDate),
    ("appointmentdate", Field::ServiceDate),
    ("sessiondate", Field::ServiceDate),
    ("visitdate", Field::ServiceDate),
    ("fromdate", Field::ServiceDate),
    ("servicefromdate", Field::ServiceDate),
    ("primaryinsurance", Field::Payer),
    ("insurance", Field::Payer),
    ("payer", Field::Payer),
    ("payor", Field::Payer),
    ("payername", Field::Payer),
    ("payorname", Field::Payer),
    ("insurancename", Field::Payer),
    ("insurancecompany", Field::Payer),
    ("primarypayer", Field::Payer),
    ("primarypayor", Field::Payer),
    ("insuranceplan", Field::Payer),
    ("carrier", Field::Payer),
    ("payerid", Field::PayerId),
    ("payorid", Field::PayerId),
    ("insurancepayerid", Field::PayerId),
    ("primarypayerid", Field::PayerId),
    ("cpt", Field::Cpt),
    ("cptcode", Field::Cpt),
    ("billingcode", Field::Cpt),
    ("procedurecode", Field::Cpt),
    ("procedure", Field::Cpt),
    ("servicecode", Field::Cpt),
    ("code", Field::Cpt),
    ("hcpcs", Field::Cpt),
    ("cpthcpcs", Field::Cpt),
    ("modifier", Field::Modifiers),
    ("modifiers", Field::Modifiers),
    ("mod", Field::Modifiers),
    ("units", Field::Units),
    ("unit", Field::Units),
    ("qty", Field::Units),
    ("quantity", Field::Units),
    ("billed", Field::Billed),
    ("billedamount", Field::Billed),
    ("amountbilled", Field::Billed),
    ("charges", Field::Billed),
    ("chargeamount", Field::Billed),
    ("totalfee", Field::Billed),
    ("fee", Field::Billed),
    ("totalcharge", Field::Billed),
    ("allowed", Field::Allowed),
    ("allowedamount", Field::Allowed),
    ("amountallowed", Field::Allowed),
    ("insuranceallowed", Field::Allowed),
    ("insurancepaid", Field::InsurancePaid),
    ("insurancepayment", Field::InsurancePaid),
    ("insurancepaidamount", Field::InsurancePaid),
    ("paidbyinsurance", Field::InsurancePaid),
    ("payerpaid", Field::InsurancePaid),
    ("payorpaid", Field::InsurancePaid),
    ("amountpaid", Field::InsurancePaid),
    ("paidamount", Field::InsurancePaid),
    ("paymentdate", Field::PaymentDate),
    ("datepaid", Field::PaymentDate),
    ("paiddate", Field::PaymentDate),
    ("datereceived", Field::PaymentDate),
    ("receiveddate", Field::PaymentDate),
    ("paymentreceived", Field::PaymentDate),
    ("checkdate", Field::PaymentDate),
    ("eradate", Field::PaymentDate),
    ("claimstatus", Field::Status),
    ("insurancepaymentstatus", Field::Status),
    ("insurancestatus", Field::Status),
    ("status", Field::Status),
    ("paymentstatus", Field::Status),
    ("appointmentstatus", Field::Attendance),
    ("attendance", Field::Attendance),
    ("attendancestatus", Field::Attendance),
    ("sessionstatus", Field::Attendance),
    ("visitstatus", Field::Attendance),
    ("client", Field::Client),
    ("clientname", Field::Client),
    ("patient", Field::Client),
    ("patientname", Field::Client),
    ("clientid", Field::Client),
    ("patientid", Field::Client),
    ("accountnumber", Field::Client),
    ("account", Field::Client),
    ("accountid", Field::Client),
    ("mrn", Field::Client),
    ("chartnumber", Field::Client),
    ("clinician", Field::Clinician),
    ("provider", Field::Clinician),
    ("renderingprovider", Field::Clinician),
    ("therapist", Field::Clinician),
    ("clinicianname", Field::Clinician),
    ("providername", Field::Clinician),
    ("renderingclinician", Field::Clinician),
    ("credential", Field::Credential),
    ("renderingcredential", Field::Credential),
    ("providercredential", Field::Credential),
    ("cliniciancredential", Field::Credential),
    ("license", Field::Credential),
    ("licensetype", Field::Credential),
    ("placeofservice", Field::PlaceOfService),
    ("pos", Field::PlaceOfService),
    ("poscode", Field::PlaceOfService),
    ("location", Field::PlaceOfService),
    // Read past, never kept.
    ("secondaryinsurance", Field::Ignore),
    ("rateperunit", Field::Ignore),
    ("progressnotestatus", Field::Ignore),
    ("clientpaymentstatus", Field::Ignore),
    ("uninvoiced", Field::Ignore),
    ("writeoff", Field::Ignore),
    ("dateofbirth", Field::Ignore),
    ("dob", Field::Ignore),
    ("birthdate", Field::Ignore),
    ("memberid", Field::Ignore),
    ("subscriberid", Field::Ignore),
    ("insuredid", Field::Ignore),
    ("policynumber", Field::Ignore),
    ("groupnumber", Field::Ignore),
    ("address", Field::Ignore),
    ("notes", Field::Ignore),
    ("note", Field::Ignore),
    ("diagnosis", Field::Ignore),
    ("diagnosiscode", Field::Ignore),
    ("icd10", Field::Ignore),
    ("phone", Field::Ignore),
    ("email", Field::Ignore),
];

/// Names that mean one thing when they appear once and another when they repeat. SimplePractice
/// lists Charge, Paid and Unpaid twice: the client's share first, then the insurance's.
const SPLIT_BY_PARTY: &[(&str, Field)] =
    &[("charge", Field::Billed), ("paid", Field::InsurancePaid), ("unpaid", Field::Ignore)];

/// Columns whose presence says the unqualified Charge / Paid columns before the insurance ones
/// are the client's (SimplePractice's shorter export has only the client's).
const CLIENT_SIDE_MARKERS: &[&str] = &["clientpaymentstatus", "uninvoiced"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError(pub String);

/// For each column of the header, the field it holds.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub fields: Vec<Field>,
    pub headers: Vec<String>,
}

impl ColumnMap {
    /// Maps a header. `overrides` are `--map` pairs (column name, field name).
    pub fn new(headers: &[String], overrides: &[(String, String)]) -> Result<ColumnMap, ColumnError> {
        let squashed: Vec<String> = headers.iter().map(|h| squash(h)).collect();
        let client_side = squashed.iter().any(|h| CLIENT_SIDE_MARKERS.contains(&h.as_str()));
        let mut fields = Vec::with_capacity(headers.len());
        for (i, name) in squashed.iter().enumerate() {
            let field = if let Some((_, insurance_field)) = SPLIT_BY_PARTY.iter().find(|(n, _)| n == name) {
                let earlier = squashed[..i].iter().filter(|h| *h == name).count();
                let total = squashed.iter().filter(|h| *h == name).count();
                // Repeated: the last one is the insurance's. Once, with client-side columns
                // around: the client's. Once otherwise: what most exports mean by it.
                let insurance = if total > 1 { earlier == total - 1 } else { !client_side };
                if insurance {
                    *insurance_field
                } else {
                    Field::Ignore
                }
            } else {
                ALIASES.iter().find(|(a, _)| a == name).map(|(_, f)| *f).unwrap_or(Field::Ignore)
            };
            fields.push(field);
        }
        for (column, field_name) in overrides {
            let field = Field::parse(field_name).ok_or_else(|| {
                ColumnError(format!(
                    "--map {column}={field_name}: `{field_name}` is not a field; use one of: {}",
                    Field::NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ))
            })?;
            let key = squash(column);
            let positions: Vec<usize> =
                squashed.iter().enumerate().filter(|(_, h)| **h == key).map(|(i, _)| i).collect();
            let Some(&last) = positions.last() else {
                return Err(ColumnError(format!(
                    "--map {column}={field_name}: the file has no column named `{column}`; its columns are: {}",
                    headers.join(", ")
                )));
            };
            if field != Field::Ignore {
                // One column per field: the mapped column takes the field from any alias.
                for f in fields.iter_mut() {
                    if *f == field {
                        *f = Field::Ignore;
                    }
                }
            }
            // A repeated name maps its last occurrence (the insurance's, in SimplePractice).
            fields[last] = field;
        }
        // Two columns for one field (say "Date" and "Date of Service"): the more specific name
        // wins, so the first exact field name in alias order keeps it.
        let mut seen: Vec<(Field, usize)> = Vec::new();
        for i in 0..fields.len() {
            let f = fields[i];
            if f == Field::Ignore {
                continue;
            }
            match seen.iter().position(|(sf, _)| *sf == f) {
                None => seen.push((f, i)),
                Some(k) => {
                    let j = seen[k].1;
                    let rank = |idx: usize| ALIASES.iter().position(|(a, _)| *a == squashed[idx]).unwrap_or(usize::MAX);
                    if rank(i) < rank(j) {
                        fields[j] = Field::Ignore;
                        seen[k].1 = i;
                    } else {
                        fields[i] = Field::Ignore;
                    }
                }
            }
        }
        let missing: Vec<Field> = Field::REQUIRED.iter().copied().filter(|f| !fields.contains(f)).collect();
        if !missing.is_empty() {
            return Err(ColumnError(format!(
                "The file has no column for {}. Its columns are: {}. Name the column with --map COLUMN=FIELD (fields: {}).",
                missing.iter().map(|f| f.describe()).collect::<Vec<_>>().join(", "),
                headers.join(", "),
                Field::REQUIRED.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(ColumnMap { fields, headers: headers.to_vec() })
    }

    pub fn index(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }

    pub fn has(&self, field: Field) -> bool {
        self.index(field).is_some()
    }
}

/// Parses `--map` arguments (`Column Name=field`).
pub fn parse_map_args(args: &[String]) -> Result<Vec<(String, String)>, ColumnError> {
    args.iter()
        .map(|a| {
            a.rsplit_once('=')
                .map(|(c, f)| (c.trim().to_string(), f.trim().to_string()))
                .filter(|(c, f)| !c.is_empty() && !f.is_empty())
                .ok_or_else(|| {
                    ColumnError(format!("--map {a}: write COLUMN=FIELD, for example --map \"Svc Dt=date_of_service\""))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Vec<String> {
        s.split(',').map(String::from).collect()
    }

    pub const SIMPLEPRACTICE: &str = "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,Units,Total Fee,Progress Note Status,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,Charge,Paid,Unpaid,Write Off";

    #[test]
    fn simplepractice_second_charge_and_paid_are_the_insurance() {
        let m = ColumnMap::new(&header(SIMPLEPRACTICE), &[]).unwrap();
        assert_eq!(m.index(Field::ServiceDate), Some(0));
        assert_eq!(m.index(Field::Client), Some(1));
        assert_eq!(m.index(Field::Cpt), Some(3));
        assert_eq!(m.index(Field::Payer), Some(4));
        assert_eq!(m.index(Field::Status), Some(15));
        assert_eq!(m.index(Field::InsurancePaid), Some(17));
        // "Total Fee" and the insurance's "Charge" both mean billed; the named alias wins.
        assert_eq!(m.index(Field::Billed), Some(8));
        assert_eq!(m.fields[13], Field::Ignore, "the client's Paid is not insurance paid");
    }

    #[test]
    fn simplepractice_short_variant_has_no_insurance_paid() {
        let short = "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,Units,Total Fee,Progress Note Status,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid";
        let m = ColumnMap::new(&header(short), &[]).unwrap();
        assert_eq!(m.index(Field::InsurancePaid), None);
        assert_eq!(m.index(Field::Status), None);
        assert_eq!(m.index(Field::Billed), Some(8));
    }

    #[test]
    fn names_match_without_case_space_or_punctuation() {
        let m = ColumnMap::new(&header("DOS,Patient_Name,CPT Code,PAYER NAME,Ins. Paid,Date-Paid"), &[]).unwrap();
        assert_eq!(m.index(Field::ServiceDate), Some(0));
        assert_eq!(m.index(Field::Client), Some(1));
        assert_eq!(m.index(Field::Cpt), Some(2));
        assert_eq!(m.index(Field::Payer), Some(3));
        assert_eq!(m.index(Field::PaymentDate), Some(5));
        assert_eq!(m.index(Field::InsurancePaid), None, "`Ins. Paid` is not an alias; --map covers it");
        let m = ColumnMap::new(
            &header("DOS,Patient_Name,CPT Code,PAYER NAME,Ins. Paid,Date-Paid"),
            &[("ins paid".into(), "insurance_paid".into())],
        )
        .unwrap();
        assert_eq!(m.index(Field::InsurancePaid), Some(4));
    }

    #[test]
    fn map_names_a_column_for_a_field_and_errors_say_what_exists() {
        let h = header("Svc Dt,Who,Proc,Plan");
        let err = ColumnMap::new(&h, &[]).unwrap_err();
        assert!(err.0.contains("date of service"), "{}", err.0);
        assert!(err.0.contains("Svc Dt, Who, Proc, Plan"), "{}", err.0);
        let map = parse_map_args(&[
            "Svc Dt=date_of_service".into(),
            "Who=client".into(),
            "Proc=cpt".into(),
            "Plan=payer".into(),
        ])
        .unwrap();
        let m = ColumnMap::new(&h, &map).unwrap();
        assert_eq!(m.fields, vec![Field::ServiceDate, Field::Client, Field::Cpt, Field::Payer]);
        assert!(ColumnMap::new(&h, &[("Nope".into(), "cpt".into())]).unwrap_err().0.contains("no column named"));
        assert!(ColumnMap::new(&h, &[("Who".into(), "nope".into())]).unwrap_err().0.contains("not a field"));
        assert!(parse_map_args(&["novalue".into()]).is_err());
    }

    #[test]
    fn sensitive_columns_are_never_fields() {
        let m = ColumnMap::new(&header("DOS,Client,DOB,Member ID,Address,Notes,CPT,Payer"), &[]).unwrap();
        assert_eq!(&m.fields[2..6], &[Field::Ignore; 4]);
    }
}
