//! Medicare payment localities and how a user may name one.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One of the ~109 Medicare payment localities (CMS GPCI / 25LOCCO files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locality {
    /// Medicare Administrative Contractor number, zero-padded ("13202").
    pub mac: String,
    /// Locality number within the MAC, zero-padded ("01").
    pub number: String,
    /// Two-letter state (or territory) code as CMS writes it ("NY").
    pub state: String,
    /// CMS locality name ("MANHATTAN", "REST OF NEW YORK").
    pub name: String,
    /// Counties in the locality, as CMS lists them ("" when unknown).
    pub counties: String,
}

impl Locality {
    /// The MAC-locality identifier, e.g. "13202-01".
    pub fn id(&self) -> String {
        format!("{}-{}", self.mac, self.number)
    }

    /// The CMS name with its state, e.g. "MANHATTAN, NY".
    pub fn display_name(&self) -> String {
        format!("{}, {}", self.name, self.state)
    }
}

/// When the input named a state that has several localities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmbiguousState {
    pub state: String,
    pub localities: usize,
}

/// The input did not name exactly one locality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalityNotFound {
    pub input: String,
    /// Display names of the closest localities, closest first, at most 5.
    pub suggestions: Vec<String>,
    /// Set when the input was a state with more than one locality ("NY", "California").
    pub ambiguous_state: Option<AmbiguousState>,
}

pub(crate) const ACCEPTED_FORMS: &str = "a locality name with its state (\"MANHATTAN, NY\"), a MAC-locality id (\"13202-01\"), a state and locality number (\"NY 01\"), or a state name or code for a state with a single locality (\"Alabama\", \"AL\")";

impl fmt::Display for LocalityNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.input.trim();
        if let Some(a) = &self.ambiguous_state {
            write!(f, "`{input}` covers {} Medicare localities, so name one", a.localities)?;
            if !self.suggestions.is_empty() {
                write!(f, ", for example {}", self.suggestions.join("; "))?;
                if a.localities > self.suggestions.len() {
                    write!(f, " ({} more)", a.localities - self.suggestions.len())?;
                }
            }
            return write!(f, ". Use {ACCEPTED_FORMS}.");
        }
        write!(f, "`{input}` is not a Medicare locality I know")?;
        match self.suggestions.len() {
            0 => {}
            1 => write!(f, "; did you mean {}?", self.suggestions[0])?,
            _ => write!(f, "; closest: {}", self.suggestions.join("; "))?,
        }
        write!(f, " Use {ACCEPTED_FORMS}.")
    }
}

impl std::error::Error for LocalityNotFound {}

/// Uppercase ASCII, every run of other characters becomes one space.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_uppercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Edit distance (insert, delete, substitute) over characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Everything needed to resolve what a user typed, built from the locality list.
#[derive(Debug, Clone, Default)]
pub(crate) struct LocalityIndex {
    /// Normalized forms per locality index ("MANHATTAN NY", "MANHATTAN", "MANHATTAN NEW YORK", ...).
    keys: Vec<Vec<String>>,
    /// Normalized state name ("NEW YORK", "HAWAII", "GUAM") -> state code.
    state_by_name: HashMap<String, String>,
    /// State code -> indexes of its localities, CMS order.
    by_state: BTreeMap<String, Vec<usize>>,
}

impl LocalityIndex {
    /// `state_names`: code -> full names as CMS writes them ("HI" -> "HAWAII/GUAM").
    /// `extra_names`: per locality, other CMS names (the county file's fee-schedule area).
    pub(crate) fn build(
        localities: &[Locality],
        state_names: &BTreeMap<String, String>,
        extra_names: &HashMap<String, String>,
    ) -> LocalityIndex {
        let mut idx = LocalityIndex::default();
        for (code, full) in state_names {
            for part in full.split('/') {
                let n = normalize(part);
                if !n.is_empty() {
                    idx.state_by_name.insert(n, code.clone());
                }
            }
            idx.state_by_name.insert(normalize(full), code.clone());
        }
        for (i, l) in localities.iter().enumerate() {
            idx.by_state.entry(l.state.clone()).or_default().push(i);
            let state = normalize(&l.state);
            let mut names = vec![normalize(&l.name)];
            if let Some(extra) = extra_names.get(&l.id()) {
                let n = normalize(extra);
                if !n.is_empty() && !n.starts_with("STATEWIDE") && !names.contains(&n) {
                    names.push(n);
                }
            }
            let full_state: Vec<String> = state_names
                .get(&l.state)
                .map(|f| f.split('/').map(normalize).chain([normalize(f)]).collect())
                .unwrap_or_default();
            let mut keys = Vec::new();
            for n in &names {
                keys.push(format!("{n} {state}"));
                keys.push(n.clone());
                for fs in &full_state {
                    keys.push(format!("{n} {fs}"));
                }
            }
            keys.dedup();
            idx.keys.push(keys);
        }
        idx
    }

    pub(crate) fn find<'a>(&self, localities: &'a [Locality], input: &str) -> Result<&'a Locality, LocalityNotFound> {
        let norm = normalize(input);
        let not_found = |suggestions: Vec<String>, ambiguous_state: Option<AmbiguousState>| LocalityNotFound {
            input: input.trim().to_string(),
            suggestions,
            ambiguous_state,
        };
        if norm.is_empty() {
            return Err(not_found(Vec::new(), None));
        }
        let tokens: Vec<&str> = norm.split(' ').collect();
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let letters = |s: &str| s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic());

        // MAC-locality: "13202-01", "13202 01", "1320201".
        let mac_loc = match tokens.as_slice() {
            [m, n] if digits(m) && digits(n) && (4..=5).contains(&m.len()) && n.len() <= 2 => Some((*m, *n)),
            [one] if digits(one) && one.len() == 7 => Some((&one[..5], &one[5..])),
            _ => None,
        };
        if let Some((m, n)) = mac_loc {
            let id = format!("{m:0>5}-{n:0>2}");
            if let Some(l) = localities.iter().find(|l| l.id() == id) {
                return Ok(l);
            }
            return Err(not_found(Vec::new(), None));
        }

        // State + locality number: "NY 01", "ny-01", "NY01", "NY 1".
        let state_num = match tokens.as_slice() {
            [s, n] if letters(s) && digits(n) && n.len() <= 2 => Some((s.to_string(), n.to_string())),
            [one] if one.len() >= 3 && one.len() <= 4 && letters(&one[..2]) && digits(&one[2..]) => {
                Some((one[..2].to_string(), one[2..].to_string()))
            }
            _ => None,
        };
        if let Some((s, n)) = state_num {
            if let Some(ids) = self.by_state.get(&s) {
                let num = format!("{n:0>2}");
                if let Some(&i) = ids.iter().find(|&&i| localities[i].number == num) {
                    return Ok(&localities[i]);
                }
                let sugg = ids.iter().take(5).map(|&i| localities[i].display_name()).collect();
                return Err(not_found(sugg, None));
            }
        }

        // A name, with or without its state.
        let exact: Vec<usize> =
            (0..localities.len()).filter(|&i| self.keys.get(i).is_some_and(|ks| ks.contains(&norm))).collect();
        if exact.len() == 1 {
            return Ok(&localities[exact[0]]);
        }
        if exact.len() > 1 {
            let sugg = exact.iter().take(5).map(|&i| localities[i].display_name()).collect();
            return Err(not_found(sugg, None));
        }

        // A state by code or name: only when it has a single locality.
        let state = if letters(&norm) && self.by_state.contains_key(&norm) {
            Some(norm.clone())
        } else {
            self.state_by_name.get(&norm).cloned()
        };
        if let Some(s) = state {
            if let Some(ids) = self.by_state.get(&s) {
                if ids.len() == 1 {
                    return Ok(&localities[ids[0]]);
                }
                let sugg = ids.iter().take(5).map(|&i| localities[i].display_name()).collect();
                return Err(not_found(sugg, Some(AmbiguousState { state: s, localities: ids.len() })));
            }
        }

        Err(not_found(self.suggest(localities, &norm), None))
    }

    /// Closest display names: substring matches first, then by edit distance.
    fn suggest(&self, localities: &[Locality], norm: &str) -> Vec<String> {
        let limit = (norm.chars().count() / 3).max(2);
        let mut scored: Vec<(u8, usize, usize)> = Vec::new();
        for (i, keys) in self.keys.iter().enumerate() {
            let mut best: Option<(u8, usize)> = None;
            for k in keys {
                let d = levenshtein(norm, k);
                let sub = norm.len() >= 3 && k.contains(norm);
                let score = if sub { (0, d) } else { (1, d) };
                if (sub || d <= limit) && best.is_none_or(|b| score < b) {
                    best = Some(score);
                }
            }
            if let Some((class, d)) = best {
                scored.push((class, d, i));
            }
        }
        scored.sort();
        scored.into_iter().take(5).map(|(_, _, i)| localities[i].display_name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("MANHATAN NY", "MANHATTAN NY"), 1);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn normalize_folds_case_and_punctuation() {
        assert_eq!(normalize("  manhattan,  ny "), "MANHATTAN NY");
        assert_eq!(normalize("DC + MD/VA SUBURBS"), "DC MD VA SUBURBS");
        assert_eq!(normalize("ny-01"), "NY 01");
    }
}
