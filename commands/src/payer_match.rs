//! Which of the practice's payers an imported payer name (or payer id) means.
//!
//! Exports and remittances spell payers their own way ("CIGNA Healthcare", "BCBS of Texas",
//! "United Healthcare"). A name matches a payer of the practice when both normalise to the same
//! words; a payer id matches when an earlier import tied it to a payer. Anything else is
//! `Unknown` with the closest names: an import reports it and never creates a payer by itself.
//!
//! This file is the one home of payer short forms (`SAME`): imports, command arguments
//! (`handlers::resolve_payer`) and chat autocomplete all read names through
//! `normalise_payer_name`, and rank suggestions with `rank_payer_names`.

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
        PayerMatch::Unknown { suggestions: rank_payer_names(name, &self.names, 3) }
    }
}

/// Words that vary between spellings of one payer without changing which payer it is.
const NOISE: &[&str] =
    &["the", "of", "inc", "llc", "co", "corp", "corporation", "company", "insurance", "ins", "health", "healthcare"];

/// Spellings and short forms of the same organisation, longest first, replaced before the noise
/// words go. Both sides are whole words. Only names that mean one organisation (or one family of
/// plans, like the Blue Cross Blue Shield plans) belong here: "United" alone does not.
const SAME: &[(&str, &str)] = &[
    (" blue cross and blue shield ", " bcbs "),
    (" blue cross blue shield ", " bcbs "),
    (" bluecross blueshield ", " bcbs "),
    (" blue cross ", " bcbs "),
    (" bluecross ", " bcbs "),
    (" blue shield ", " bcbs "),
    (" united behavioral health ", " optum behavioral "),
    (" united health care ", " uhc "),
    (" united healthcare ", " uhc "),
    (" unitedhealthcare ", " uhc "),
    (" unitedhealth ", " uhc "),
    (" beacon health options ", " carelon "),
    (" ubh ", " optum behavioral "),
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

/// How well a typed name matches a payer's name, best first; None when it does not match at all
/// (a misspelling is left to edit distance).
fn match_rank(typed: &str, typed_norm: &str, name: &str) -> Option<u8> {
    let name_norm = normalise_payer_name(name);
    let typed_lower = typed.trim().to_lowercase();
    let name_lower = name.to_lowercase();
    if typed_norm.is_empty() {
        return None;
    }
    if name_norm == typed_norm {
        return Some(0);
    }
    // Whole words at the start: "BCBS" for "Blue Cross Blue Shield of Illinois", "Optum".
    if name_norm.starts_with(&format!("{typed_norm} ")) {
        return Some(1);
    }
    if name_lower.starts_with(&typed_lower) || name_norm.starts_with(typed_norm) {
        return Some(2);
    }
    // Whole words anywhere: "Texas" for "BCBS Texas".
    if format!(" {name_norm} ").contains(&format!(" {typed_norm} ")) {
        return Some(3);
    }
    if name_lower.contains(&typed_lower) || name_norm.contains(typed_norm) {
        return Some(4);
    }
    None
}

/// The payer names that match what was typed (same name, short form, prefix, word, substring),
/// best first, then alphabetical.
pub fn matching_payer_names(typed: &str, names: &[String]) -> Vec<(u8, String)> {
    let typed_norm = normalise_payer_name(typed);
    let mut hits: Vec<(u8, String)> =
        names.iter().filter_map(|n| match_rank(typed, &typed_norm, n).map(|r| (r, n.clone()))).collect();
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase())));
    hits
}

/// Suggestions for a payer name: real matches first (`matching_payer_names`), then the closest
/// by edit distance, at most `limit`.
pub fn rank_payer_names(typed: &str, names: &[String], limit: usize) -> Vec<String> {
    let mut out: Vec<String> = matching_payer_names(typed, names).into_iter().map(|(_, n)| n).collect();
    if out.len() < limit {
        let rest: Vec<&str> = names.iter().map(String::as_str).filter(|n| !out.iter().any(|o| o == n)).collect();
        let near = closest(typed, rest, limit - out.len());
        // `closest` falls back to any names when nothing is close; keep that only when there
        // is no real match at all.
        if out.is_empty() || near.iter().any(|n| crate::suggest::levenshtein(typed, n) <= 2 + typed.len() / 3) {
            out.extend(near);
        }
    }
    out.truncate(limit);
    out
}

/// Which payer a typed name means, when it means exactly one: the same name after
/// normalisation, or the only payer whose name starts with those words ("UHC", "BCBS",
/// "Optum"). None when nothing or several match.
pub fn unique_payer_match<'a>(typed: &str, names: &'a [String]) -> Option<&'a String> {
    let typed_norm = normalise_payer_name(typed);
    for best in [0u8, 1] {
        let hits: Vec<&String> = names.iter().filter(|n| match_rank(typed, &typed_norm, n) == Some(best)).collect();
        match hits.len() {
            0 => continue,
            1 => return Some(hits[0]),
            _ => return None,
        }
    }
    None
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

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn short_forms_and_prefixes_find_the_payer() {
        let n = names(&[
            "Aetna",
            "Blue Cross Blue Shield of Illinois",
            "Cigna",
            "Optum Behavioral Health",
            "UnitedHealthcare",
            "Carelon Behavioral Health",
        ]);
        let one = |t: &str| unique_payer_match(t, &n).map(String::as_str);
        assert_eq!(one("BCBS"), Some("Blue Cross Blue Shield of Illinois"));
        assert_eq!(one("bcbs il"), None); // state abbreviations are not folded
        assert_eq!(one("Blue Cross"), Some("Blue Cross Blue Shield of Illinois"));
        assert_eq!(one("BCBS of Illinois"), Some("Blue Cross Blue Shield of Illinois"));
        assert_eq!(one("UHC"), Some("UnitedHealthcare"));
        assert_eq!(one("United Healthcare"), Some("UnitedHealthcare"));
        assert_eq!(one("Optum"), Some("Optum Behavioral Health"));
        assert_eq!(one("United Behavioral Health"), Some("Optum Behavioral Health"));
        assert_eq!(one("Beacon Health Options"), Some("Carelon Behavioral Health"));
        // A partial word is a suggestion, not an answer.
        assert_eq!(one("Cig"), None);
        assert_eq!(rank_payer_names("Cig", &n, 3)[0], "Cigna");
        // Suggestions rank real matches before spelling neighbours.
        assert_eq!(rank_payer_names("blue", &n, 3)[0], "Blue Cross Blue Shield of Illinois");
        assert_eq!(rank_payer_names("uhc", &n, 3)[0], "UnitedHealthcare");
        assert_eq!(rank_payer_names("behavioral", &n, 3), vec!["Carelon Behavioral Health", "Optum Behavioral Health"]);
        assert_eq!(rank_payer_names("Atena", &n, 1), vec!["Aetna"]);
    }

    #[test]
    fn several_plans_of_one_family_are_not_guessed() {
        let n = names(&["BCBS Texas", "Blue Cross Blue Shield of Illinois", "Cigna"]);
        assert_eq!(unique_payer_match("BCBS", &n), None);
        let ranked = rank_payer_names("BCBS", &n, 3);
        assert_eq!(ranked, vec!["BCBS Texas", "Blue Cross Blue Shield of Illinois"]);
        assert_eq!(unique_payer_match("Blue Cross Texas", &n).map(String::as_str), Some("BCBS Texas"));
    }

    #[test]
    fn normalisation_keeps_meaningful_words() {
        assert_eq!(normalise_payer_name("  Blue Cross & Blue Shield of Texas "), "bcbs texas");
        assert_eq!(normalise_payer_name("The Health Co"), "the health co");
        assert_eq!(normalise_payer_id(" ab-12 3"), "AB123");
    }
}
