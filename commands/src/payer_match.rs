//! Which of the practice's payers an imported payer name (or payer id) means.
//!
//! Exports and remittances spell payers their own way ("CIGNA Healthcare", "BCBS of Texas",
//! "United Healthcare"). A name matches a payer of the practice when both normalise to the same
//! words; a payer id matches when an earlier import tied it to a payer. Anything else is
//! `Unknown` with the closest names: an import reports it and never creates a payer by itself.

use crate::suggest::closest;
use serde::Serialize;
use std::collections::HashMap;

/// How a name or id was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    /// The payer id seen in the file was tied to this payer before.
    PayerId,
    /// The names are the same after normalisation.
    Name,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum PayerMatch {
    Matched { payer_id: i64, payer: String, by: MatchedBy },
    Unknown { suggestions: Vec<String> },
}

impl PayerMatch {
    pub fn payer_id(&self) -> Option<i64> {
        match self {
            PayerMatch::Matched { payer_id, .. } => Some(*payer_id),
            PayerMatch::Unknown { .. } => None,
        }
    }
}

/// The practice's payers, indexed for matching. Build it once per import
/// (`Store::payer_matcher`) and ask it for every distinct name.
#[derive(Debug, Clone, Default)]
pub struct PayerMatcher {
    by_name: HashMap<String, (i64, String)>,
    by_id: HashMap<String, (i64, String)>,
    names: Vec<String>,
}

impl PayerMatcher {
    /// `payers` are (id, name); `external_ids` are (payer id as seen in files, payer's id).
    pub fn new(payers: &[(i64, String)], external_ids: &[(String, i64)]) -> PayerMatcher {
        let mut by_name = HashMap::new();
        for (id, name) in payers {
            by_name.entry(normalise_payer_name(name)).or_insert_with(|| (*id, name.clone()));
        }
        let mut by_id = HashMap::new();
        for (ext, payer_id) in external_ids {
            if let Some((_, name)) = payers.iter().find(|(id, _)| id == payer_id) {
                by_id.insert(normalise_payer_id(ext), (*payer_id, name.clone()));
            }
        }
        PayerMatcher { by_name, by_id, names: payers.iter().map(|(_, n)| n.clone()).collect() }
    }

    /// A payer id known from an earlier import wins; then the name.
    pub fn match_payer(&self, name: &str, external_id: Option<&str>) -> PayerMatch {
        if let Some((id, payer)) = external_id.map(normalise_payer_id).and_then(|e| self.by_id.get(&e)) {
            return PayerMatch::Matched { payer_id: *id, payer: payer.clone(), by: MatchedBy::PayerId };
        }
        if let Some((id, payer)) = self.by_name.get(&normalise_payer_name(name)) {
            return PayerMatch::Matched { payer_id: *id, payer: payer.clone(), by: MatchedBy::Name };
        }
        PayerMatch::Unknown { suggestions: closest(name, self.names.iter().map(String::as_str), 3) }
    }
}

/// Words that vary between spellings of one payer without changing which payer it is.
const NOISE: &[&str] =
    &["the", "of", "inc", "llc", "co", "corp", "corporation", "company", "insurance", "ins", "health", "healthcare"];

/// Spellings of the same organisation, longest first, replaced before the noise words go.
const SAME: &[(&str, &str)] = &[
    (" blue cross and blue shield ", " bcbs "),
    (" blue cross blue shield ", " bcbs "),
    (" bluecross blueshield ", " bcbs "),
    (" united health care ", " uhc "),
    (" united healthcare ", " uhc "),
    (" unitedhealthcare ", " uhc "),
    (" unitedhealth ", " uhc "),
];

/// Lower case, `&` as "and", punctuation as spaces, the usual synonyms folded, noise words gone.
pub fn normalise_payer_name(name: &str) -> String {
    let mut spaced = String::with_capacity(name.len() + 2);
    spaced.push(' ');
    for c in name.chars() {
        match c {
            '&' => spaced.push_str(" and "),
            c if c.is_alphanumeric() => spaced.extend(c.to_lowercase()),
            _ => spaced.push(' '),
        }
    }
    spaced.push(' ');
    let mut words = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    words = format!(" {words} ");
    for (from, to) in SAME {
        words = words.replace(from, to);
    }
    let kept: Vec<&str> = words.split_whitespace().filter(|w| !NOISE.contains(w)).collect();
    if kept.is_empty() {
        // A name made only of noise words ("The Health Co") still has to match itself.
        return words.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    kept.join(" ")
}

/// Payer ids compare without case, spaces or dashes.
pub fn normalise_payer_id(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> PayerMatcher {
        let payers = vec![
            (1, "Cigna".to_string()),
            (2, "BCBS Texas".to_string()),
            (3, "UnitedHealthcare".to_string()),
            (4, "Optum Behavioral".to_string()),
            (5, "Aetna".to_string()),
        ];
        PayerMatcher::new(&payers, &[("62308".into(), 1), ("99999".into(), 42)])
    }

    fn matched(m: &PayerMatch) -> Option<(i64, MatchedBy)> {
        match m {
            PayerMatch::Matched { payer_id, by, .. } => Some((*payer_id, *by)),
            PayerMatch::Unknown { .. } => None,
        }
    }

    #[test]
    fn names_match_after_normalisation() {
        let m = matcher();
        assert_eq!(matched(&m.match_payer("CIGNA Healthcare", None)), Some((1, MatchedBy::Name)));
        assert_eq!(matched(&m.match_payer("Blue Cross Blue Shield of Texas", None)), Some((2, MatchedBy::Name)));
        assert_eq!(matched(&m.match_payer("United Healthcare", None)), Some((3, MatchedBy::Name)));
        assert_eq!(matched(&m.match_payer("optum behavioral health", None)), Some((4, MatchedBy::Name)));
        assert_eq!(matched(&m.match_payer("Aetna, Inc.", None)), Some((5, MatchedBy::Name)));
    }

    #[test]
    fn a_different_plan_of_a_known_insurer_is_not_guessed() {
        let m = matcher();
        match m.match_payer("Aetna Better Health", None) {
            PayerMatch::Unknown { suggestions } => assert_eq!(suggestions[0], "Aetna"),
            other => panic!("matched {other:?}"),
        }
    }

    #[test]
    fn a_known_payer_id_wins_over_the_name() {
        let m = matcher();
        assert_eq!(matched(&m.match_payer("CHLIC", Some("62-308"))), Some((1, MatchedBy::PayerId)));
        // An id tied to a payer that no longer exists is ignored.
        assert_eq!(m.match_payer("Nobody", Some("99999")).payer_id(), None);
        // An unknown id falls back to the name.
        assert_eq!(matched(&m.match_payer("Cigna", Some("00000"))), Some((1, MatchedBy::Name)));
    }

    #[test]
    fn normalisation_keeps_meaningful_words() {
        assert_eq!(normalise_payer_name("  Blue Cross & Blue Shield of Texas "), "bcbs texas");
        assert_eq!(normalise_payer_name("The Health Co"), "the health co");
        assert_eq!(normalise_payer_id(" ab-12 3"), "AB123");
    }
}
