//! The parts of a Transparency-in-Coverage in-network file that the market needs, as serde reads
//! them from one item or reference at a time (schema 1.x and 2.x; NPIs and ids as numbers or text).

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Deserialize)]
pub struct Item {
    #[serde(default)]
    pub negotiation_arrangement: String,
    #[serde(default)]
    pub billing_code_type: String,
    pub billing_code: String,
    #[serde(default)]
    pub negotiated_rates: Vec<NegotiatedRate>,
}

#[derive(Debug, Deserialize)]
pub struct NegotiatedRate {
    /// Schema 1.x only: the groups inline.
    #[serde(default)]
    pub provider_groups: Vec<ProviderGroup>,
    /// Ids into the top-level `provider_references`.
    #[serde(default)]
    pub provider_references: Vec<Id>,
    #[serde(default)]
    pub negotiated_prices: Vec<Price>,
}

#[derive(Debug, Deserialize)]
pub struct ProviderGroup {
    #[serde(default, deserialize_with = "npi_list")]
    pub npi: Vec<u64>,
    pub tin: Tin,
}

#[derive(Debug, Deserialize)]
pub struct Tin {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Deserialize)]
pub struct Price {
    #[serde(default)]
    pub negotiated_type: String,
    pub negotiated_rate: f64,
    #[serde(default)]
    pub expiration_date: Option<String>,
    #[serde(default)]
    pub service_code: Option<Vec<String>>,
    #[serde(default)]
    pub billing_class: String,
    #[serde(default)]
    pub billing_code_modifier: Option<Vec<String>>,
    /// Schema 2.x: inpatient, outpatient or both.
    #[serde(default)]
    pub setting: Option<String>,
}

/// One top-level `provider_references` entry (or a 1.x external provider-reference file, which has
/// only `provider_groups`).
#[derive(Debug, Deserialize)]
pub struct Reference {
    #[serde(default)]
    pub provider_group_id: Option<Id>,
    #[serde(default)]
    pub provider_groups: Vec<ProviderGroup>,
    #[serde(default)]
    pub location: Option<String>,
}

/// A provider-group id, written as a number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(pub u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a provider group id (number or string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v).map(Id).map_err(|_| E::custom("negative provider group id"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id, E> {
                if v >= 0.0 && v.fract() == 0.0 && v < 1e19 {
                    Ok(Id(v as u64))
                } else {
                    Err(E::custom("provider group id is not a whole number"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.trim().parse().map(Id).map_err(|_| E::custom(format!("provider group id `{v}` is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

/// NPIs as numbers or strings; anything that is not a plausible NPI becomes 0 (no clinician).
fn npi_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    struct Npi(u64);
    impl<'de> Deserialize<'de> for Npi {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Npi;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an NPI")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Npi, E> {
                    Ok(Npi(v))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Npi, E> {
                    Ok(Npi(u64::try_from(v).unwrap_or(0)))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<Npi, E> {
                    Ok(Npi(if v > 0.0 && v.fract() == 0.0 && v < 1e10 { v as u64 } else { 0 }))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Npi, E> {
                    Ok(Npi(v.trim().parse().unwrap_or(0)))
                }
                fn visit_unit<E: de::Error>(self) -> Result<Npi, E> {
                    Ok(Npi(0))
                }
            }
            d.deserialize_any(V)
        }
    }
    struct L;
    impl<'de> Visitor<'de> for L {
        type Value = Vec<u64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of NPIs")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(4096));
            while let Some(Npi(n)) = seq.next_element()? {
                if (1_000_000_000..10_000_000_000).contains(&n) {
                    out.push(n);
                }
            }
            Ok(out)
        }
        // Some files write a single NPI without the array.
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<u64>, E> {
            Ok(vec![v])
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u64>, E> {
            Ok(v.trim().parse().ok().into_iter().collect())
        }
    }
    d.deserialize_any(L)
}

/// Where serde_json stopped, as a byte offset into `bytes` (it reports line and column).
pub fn error_offset(bytes: &[u8], e: &serde_json::Error) -> usize {
    let (line, column) = (e.line().max(1), e.column());
    let mut start = 0usize;
    if line > 1 {
        let mut seen = 1;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    (start + column.saturating_sub(1)).min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npis_and_ids_as_numbers_or_strings() {
        let g: ProviderGroup =
            serde_json::from_str(r#"{"npi":[1111111111,"2222222222",0,"x",12],"tin":{"type":"ein","value":"1"}}"#)
                .unwrap();
        assert_eq!(g.npi, vec![1111111111, 2222222222]);
        let r: NegotiatedRate = serde_json::from_str(r#"{"provider_references":[1,"22"]}"#).unwrap();
        assert_eq!(r.provider_references, vec![Id(1), Id(22)]);
    }

    #[test]
    fn error_offsets_count_lines() {
        let text = b"{\n  \"a\": tru\n}";
        let e = serde_json::from_slice::<serde_json::Value>(text).unwrap_err();
        let at = error_offset(text, &e);
        assert!((9..=13).contains(&at), "{at}");
    }
}
