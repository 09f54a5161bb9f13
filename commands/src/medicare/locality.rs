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

pub(crate) const ACCEPTED_FORMS: &str = "a ZIP code (\"60614\"), a county with its state (\"Cook County, IL\"), a city in a locality's name (\"Los Angeles, CA\"), a locality name with its state (\"MANHATTAN, NY\"), a MAC-locality id (\"13202-01\"), a state and locality number (\"NY 01\"), or a state with a single locality (\"Alabama\", \"AL\")";

/// A locality found from what a user typed, with what they should know about the match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalityMatch<'a> {
    pub locality: &'a Locality,
    /// Set when the answer is less than certain or was inferred: a ZIP that crosses a locality
    /// line, a county not named by CMS (so in the rest of its state), a county given without
    /// its state.
    pub note: Option<String>,
}

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

/// "NEW YORK" -> "New York".
fn title(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    /// (state code, county key) -> locality index, for the counties CMS names.
    counties: HashMap<(String, String), usize>,
    /// County key -> the county as CMS spells it, for messages.
    county_names: HashMap<(String, String), String>,
    /// State code -> the locality of every county CMS does not name ("ALL OTHER COUNTIES",
    /// "ALL COUNTIES", "STATEWIDE").
    rest_of_state: HashMap<String, usize>,
    /// Per locality index, the place names inside its CMS name ("LOS ANGELES", "LONG BEACH").
    cities: Vec<Vec<String>>,
}

/// A county as a lookup key: letters and digits only, "SAINT" as "ST" ("St. Clair",
/// "Saint Clair", "ST CLAIR" -> "STCLAIR"; "Prince George's" -> "PRINCEGEORGES").
fn county_key(name: &str) -> String {
    let n = normalize(name);
    let mut words: Vec<&str> = n.split(' ').filter(|w| !w.is_empty()).collect();
    while let Some(last) = words.last() {
        if matches!(*last, "COUNTY" | "CNTY" | "PARISH") && words.len() > 1 {
            words.pop();
        } else {
            break;
        }
    }
    let mut key: String = words.iter().map(|w| if *w == "SAINT" { "ST" } else { w }).collect();
    // Common names CMS lists under another spelling.
    if key == "MIAMIDADE" {
        key = "DADE".into();
    }
    key
}

/// Splits a 25LOCCO county list into (state name if given, county) pairs. "ALL ..." entries
/// mean the rest of the state and give nothing here.
fn listed_counties(list: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    if list.trim().to_ascii_uppercase().starts_with("ALL ") {
        return out;
    }
    for group in list.split(';') {
        let mut group = group.trim().to_ascii_uppercase();
        let mut state = None;
        if let Some(i) = group.rfind(" IN ") {
            state = Some(group[i + 4..].trim().to_string());
            group.truncate(i);
        }
        let group = group.replace(" AND ", ",");
        for part in group.split([',', '/']) {
            let mut c = part.trim().trim_start_matches("AND ").trim().to_string();
            // 25LOCCO spells Orange County "ORAGNGE" in the Los Angeles row; the data keeps CMS's
            // spelling, the lookup reads it as meant.
            c = c.replace("ORAGNGE", "ORANGE");
            if !c.is_empty() {
                out.push((state.clone(), c));
            }
        }
    }
    out
}

/// Place names inside a CMS locality name: "LOS ANGELES-LONG BEACH-ANAHEIM (LOS ANGELES/ORANGE
/// CNTY)" -> LOS ANGELES, LONG BEACH, ANAHEIM; "METROPOLITAN BOSTON" -> BOSTON. County lists in
/// parentheses and "REST OF ..." are not places.
fn city_parts(name: &str) -> Vec<String> {
    let head = name.split('(').next().unwrap_or(name);
    let mut out = Vec::new();
    for part in head.split(['-', '/', ',']) {
        let n = normalize(part);
        let n = n.strip_prefix("METROPOLITAN ").unwrap_or(&n).to_string();
        if n.is_empty() || n.starts_with("REST OF") || n == "STATEWIDE" || n.ends_with("CNTYS") || n.ends_with("CNTY") {
            continue;
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
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
            let mut cities = city_parts(&l.name);
            if let Some(extra) = extra_names.get(&l.id()) {
                cities.extend(city_parts(extra).into_iter().filter(|c| !names.contains(c)));
            }
            cities.dedup();
            idx.cities.push(cities);
        }
        // Counties: named ones first; "ALL ..." makes the locality the rest of its state.
        for (i, l) in localities.iter().enumerate() {
            let listed = listed_counties(&l.counties);
            if listed.is_empty() && !l.counties.is_empty() {
                idx.rest_of_state.entry(l.state.clone()).or_insert(i);
            }
            for (state_name, county) in listed {
                let state = match state_name {
                    Some(n) => match idx.state_by_name.get(&normalize(&n)) {
                        Some(code) => code.clone(),
                        None => continue,
                    },
                    None => l.state.clone(),
                };
                let key = (state.clone(), county_key(&county));
                idx.county_names.entry(key.clone()).or_insert(county);
                idx.counties.entry(key).or_insert(i);
            }
        }
        // A state with one locality has no county list worth reading: every county is in it.
        for (state, ids) in &idx.by_state {
            if ids.len() == 1 {
                idx.rest_of_state.entry(state.clone()).or_insert(ids[0]);
            }
        }
        idx
    }

    /// The state named at the end of `words` (a code or a full name), and the words before it.
    fn split_state<'w>(&self, words: &'w [&'w str]) -> Option<(String, &'w [&'w str])> {
        for take in (1..=words.len().min(4)).rev() {
            let (head, tail) = words.split_at(words.len() - take);
            let tail = tail.join(" ");
            let code = if take == 1 && tail.len() == 2 && self.by_state.contains_key(&tail) {
                Some(tail.clone())
            } else {
                self.state_by_name.get(&tail).cloned()
            };
            if let Some(code) = code {
                return Some((code, head));
            }
        }
        None
    }

    /// "Cook County, IL", "cook county illinois", "St. Louis City, MO", "Orange County".
    fn find_county<'a>(
        &self,
        localities: &'a [Locality],
        norm: &str,
        input: &str,
    ) -> Option<Result<LocalityMatch<'a>, LocalityNotFound>> {
        let words: Vec<&str> = norm.split(' ').collect();
        let kw = words.iter().position(|w| matches!(*w, "COUNTY" | "CNTY" | "PARISH"));
        let (county_words, state) = match kw {
            Some(k) if k > 0 => {
                let after = &words[k + 1..];
                if after.is_empty() {
                    (&words[..k], None)
                } else {
                    let (code, rest) = self.split_state(after)?;
                    if !rest.is_empty() {
                        return None;
                    }
                    (&words[..k], Some(code))
                }
            }
            // Independent cities are county equivalents: "Baltimore City, MD".
            None => {
                let (code, head) = self.split_state(&words)?;
                if head.last() != Some(&"CITY")
                    || !self.counties.contains_key(&(code.clone(), county_key(&head.join(" "))))
                {
                    return None;
                }
                (head, Some(code))
            }
            Some(_) => return None,
        };
        let key = county_key(&county_words.join(" "));
        if key.is_empty() {
            return None;
        }
        let shown = format!("{} County", title(&county_words.join(" ")));
        let not_found = |suggestions: Vec<String>| LocalityNotFound {
            input: input.trim().to_string(),
            suggestions,
            ambiguous_state: None,
        };
        let Some(state) = state else {
            let mut hits: Vec<(&String, usize)> =
                self.counties.iter().filter(|((_, k), _)| *k == key).map(|((s, _), &i)| (s, i)).collect();
            hits.sort();
            return Some(match hits.as_slice() {
                [(s, i)] => Ok(LocalityMatch {
                    locality: &localities[*i],
                    note: Some(format!(
                        "{shown} taken as the one in {s}; add the state if you meant another (\"{shown}, ST\")"
                    )),
                }),
                [] => Err(not_found(Vec::new())),
                many => Err(not_found(
                    many.iter().map(|(s, i)| format!("{shown}, {s}: {}", localities[*i].display_name())).collect(),
                )),
            });
        };
        if let Some(&i) = self.counties.get(&(state.clone(), key.clone())) {
            return Some(Ok(LocalityMatch { locality: &localities[i], note: None }));
        }
        // A near miss of a county CMS names is more likely a typo than another county.
        let near: Vec<(usize, String)> = self
            .counties
            .iter()
            .filter(|((s, k), _)| *s == state && key.len() >= 3 && levenshtein(k, &key) <= 1)
            .map(|((s, k), &i)| {
                let name = self.county_names.get(&(s.clone(), k.clone())).cloned().unwrap_or_default();
                (i, format!("{} County, {s}: {}", title(&name), localities[i].display_name()))
            })
            .collect();
        let rest = self.rest_of_state.get(&state).copied();
        if !near.is_empty() {
            let mut sugg: Vec<String> = near.into_iter().map(|(_, s)| s).collect();
            if let Some(r) = rest {
                sugg.push(localities[r].display_name());
            }
            return Some(Err(not_found(sugg)));
        }
        let r = rest?;
        let several = self.by_state.get(&state).is_some_and(|ids| ids.len() > 1);
        Some(Ok(LocalityMatch {
            locality: &localities[r],
            note: several.then(|| {
                format!(
                    "CMS does not name {shown} in any of {state}'s localities, so it is priced as {}",
                    localities[r].display_name()
                )
            }),
        }))
    }

    /// A city that is part of a locality's name: "Los Angeles, CA", "Boston", "Kansas City MO".
    fn find_city<'a>(
        &self,
        localities: &'a [Locality],
        norm: &str,
        input: &str,
    ) -> Option<Result<LocalityMatch<'a>, LocalityNotFound>> {
        let words: Vec<&str> = norm.split(' ').collect();
        let (state, city) = match self.split_state(&words) {
            Some((s, head)) if !head.is_empty() => (Some(s), head.join(" ")),
            _ => (None, norm.to_string()),
        };
        let in_state = |i: &usize| state.as_ref().is_none_or(|s| localities[*i].state == *s);
        let hits: Vec<usize> =
            (0..localities.len()).filter(in_state).filter(|&i| self.cities[i].contains(&city)).collect();
        match hits.len() {
            0 => None,
            1 => Some(Ok(LocalityMatch { locality: &localities[hits[0]], note: None })),
            _ => {
                // "San Francisco": the locality that also lists it as a county.
                let key = county_key(&city);
                let by_county: Vec<usize> = hits
                    .iter()
                    .copied()
                    .filter(|&i| self.counties.get(&(localities[i].state.clone(), key.clone())) == Some(&i))
                    .collect();
                if let [one] = by_county.as_slice() {
                    return Some(Ok(LocalityMatch { locality: &localities[*one], note: None }));
                }
                Some(Err(LocalityNotFound {
                    input: input.trim().to_string(),
                    suggestions: hits.iter().take(5).map(|&i| localities[i].display_name()).collect(),
                    ambiguous_state: None,
                }))
            }
        }
    }

    pub(crate) fn find<'a>(&self, localities: &'a [Locality], input: &str) -> Result<&'a Locality, LocalityNotFound> {
        self.resolve(localities, input).map(|m| m.locality)
    }

    pub(crate) fn resolve<'a>(
        &self,
        localities: &'a [Locality],
        input: &str,
    ) -> Result<LocalityMatch<'a>, LocalityNotFound> {
        let found = |l: &'a Locality| LocalityMatch { locality: l, note: None };
        if let Some((zip, plus4)) = super::zip::parse_zip(input) {
            let not_found =
                LocalityNotFound { input: input.trim().to_string(), suggestions: Vec::new(), ambiguous_state: None };
            let Some(z) = super::zip::ZipTable::shipped().get(zip) else { return Err(not_found) };
            let (mac, number) = z.locality_id.split_once('-').unwrap_or_default();
            let Some(l) = localities.iter().find(|l| l.mac == mac && l.number == number) else { return Err(not_found) };
            let note = z.crosses_locality_line.then(|| {
                let tail = if plus4 {
                    "the exact address decides (the ZIP+4 table is not shipped), so check it with your Medicare contractor"
                } else {
                    "the exact address decides"
                };
                format!(
                    "ZIP {zip:05} crosses a Medicare locality line: most of it is {}, but some addresses in it are priced in another locality; {tail}",
                    l.display_name()
                )
            });
            return Ok(LocalityMatch { locality: l, note });
        }
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
                return Ok(found(l));
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
                    return Ok(found(&localities[i]));
                }
                let sugg = ids.iter().take(5).map(|&i| localities[i].display_name()).collect();
                return Err(not_found(sugg, None));
            }
        }

        // A name, with or without its state.
        let exact: Vec<usize> =
            (0..localities.len()).filter(|&i| self.keys.get(i).is_some_and(|ks| ks.contains(&norm))).collect();
        if exact.len() == 1 {
            return Ok(found(&localities[exact[0]]));
        }
        if exact.len() > 1 {
            let sugg = exact.iter().take(5).map(|&i| localities[i].display_name()).collect();
            return Err(not_found(sugg, None));
        }

        if let Some(r) = self.find_county(localities, &norm, input) {
            return r;
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
                    return Ok(found(&localities[ids[0]]));
                }
                let sugg = ids.iter().take(5).map(|&i| localities[i].display_name()).collect();
                return Err(not_found(sugg, Some(AmbiguousState { state: s, localities: ids.len() })));
            }
        }

        if let Some(r) = self.find_city(localities, &norm, input) {
            return r;
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
