//! A payer's table-of-contents file: which in-network files are most likely to hold behavioral
//! rates for one state, so a user knows what to import (behavioral networks are often separate
//! files: Optum Behavioral "OHBS", Evernorth "ebh", Cigna's per-state `state_mrf/XX/` slices).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Deserialize)]
struct Toc {
    #[serde(default)]
    reporting_entity_name: String,
    #[serde(default)]
    reporting_structure: Vec<Structure>,
}

#[derive(Deserialize)]
struct Structure {
    #[serde(default)]
    reporting_plans: Vec<serde_json::Value>,
    #[serde(default)]
    in_network_files: Vec<FileRef>,
}

#[derive(Deserialize)]
struct FileRef {
    #[serde(default)]
    description: String,
    #[serde(default)]
    location: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub location: String,
    pub description: String,
    pub score: i32,
    pub plans: usize,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TocRanking {
    pub reporting_entity_name: String,
    pub state: Option<String>,
    pub in_network_files: usize,
    pub files: Vec<Ranked>,
}

/// Words that mark a behavioral network or carve-out file.
const BEHAVIORAL: &[&str] = &[
    "behavioral",
    "behavior",
    "mental",
    "ebh",
    "ohbs",
    "optum-bh",
    "evernorth",
    "carelon",
    "magellan",
    "psych",
    "_bh_",
    "-bh-",
    "_bh.",
    "-bh.",
];

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty()).map(|t| t.to_ascii_lowercase()).collect()
}

/// Ranks the in-network files; `state_name` is the state's full name when known ("Illinois").
pub fn rank(bytes: &[u8], state: Option<&str>, state_name: Option<&str>, limit: usize) -> Result<TocRanking, String> {
    let toc: Toc = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a table-of-contents file (byte {}): {e}", super::model::error_offset(bytes, &e)))?;
    let state = state.map(|s| s.trim().to_ascii_lowercase());
    let name = state_name.map(|n| n.to_ascii_lowercase().replace(' ', ""));
    let mut files: HashMap<String, Ranked> = HashMap::new();
    let mut total = 0;
    for s in &toc.reporting_structure {
        for f in &s.in_network_files {
            total += 1;
            let e = files.entry(f.location.clone()).or_insert_with(|| {
                let text = format!("{} {}", f.description, f.location).to_ascii_lowercase();
                let mut score = 0;
                let mut reasons = Vec::new();
                if let Some(w) = BEHAVIORAL.iter().find(|w| text.contains(*w)) {
                    score += 10;
                    reasons.push(format!(
                        "behavioral network (`{}`)",
                        w.trim_matches(|c| c == '_' || c == '-' || c == '.')
                    ));
                }
                let toks = tokens(&text);
                if let Some(st) = &state {
                    let squashed = text.replace([' ', '_', '-'], "");
                    if toks.iter().any(|t| t == st) || name.as_ref().is_some_and(|n| squashed.contains(n.as_str())) {
                        score += 5;
                        reasons.push(format!("names {}", st.to_ascii_uppercase()));
                    }
                }
                if toks.iter().any(|t| t == "national" || t == "nationwide") {
                    score += 1;
                    reasons.push("national network".into());
                }
                Ranked { location: f.location.clone(), description: f.description.clone(), score, plans: 0, reasons }
            });
            e.plans += s.reporting_plans.len();
        }
    }
    let mut ranked: Vec<Ranked> = files.into_values().collect();
    ranked.sort_by(|a, b| b.score.cmp(&a.score).then(b.plans.cmp(&a.plans)).then_with(|| a.location.cmp(&b.location)));
    ranked.truncate(limit);
    Ok(TocRanking {
        reporting_entity_name: toc.reporting_entity_name,
        state: state.map(|s| s.to_ascii_uppercase()),
        in_network_files: total,
        files: ranked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behavioral_and_state_files_first() {
        let toc = br#"{"reporting_entity_name":"X","reporting_structure":[
          {"reporting_plans":[{},{}],"in_network_files":[
            {"description":"in-network file","location":"https://x/files/national-ppo.json.gz"},
            {"description":"behavioral in-network shared file","location":"https://x/files/bh.json.gz"}]},
          {"reporting_plans":[{}],"in_network_files":[
            {"description":"in-network","location":"https://x/state_mrf/IL/ppo.json.gz"},
            {"description":"in-network","location":"https://x/state_mrf/CO/ppo.json.gz"}]}]}"#;
        let r = rank(toc, Some("il"), Some("Illinois"), 10).unwrap();
        assert_eq!(r.in_network_files, 4);
        assert_eq!(r.files[0].location, "https://x/files/bh.json.gz");
        assert_eq!(r.files[1].location, "https://x/state_mrf/IL/ppo.json.gz");
        assert_eq!(r.files[0].plans, 2);
        assert!(rank(b"{", None, None, 3).is_err());
    }
}
