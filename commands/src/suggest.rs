//! "Did you mean": close names for anything a user can misspell.

/// Edit distance between two strings, compared case-insensitively.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidates closest to `input`, best first: prefix and substring matches, then small edit
/// distances. At most `limit`; when nothing is close, the first few candidates so the user sees
/// what exists.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>, limit: usize) -> Vec<String> {
    let needle = input.trim().to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            let lc = c.to_lowercase();
            let score = if lc.starts_with(&needle) || needle.starts_with(&lc) {
                0
            } else if lc.contains(&needle) || needle.contains(&lc) {
                1
            } else {
                2 + levenshtein(&needle, &lc)
            };
            (score, c)
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let threshold = 2 + (needle.chars().count() / 2).max(2);
    let close: Vec<String> =
        scored.iter().filter(|(s, _)| *s <= threshold).take(limit).map(|(_, c)| c.to_string()).collect();
    if close.is_empty() {
        scored.iter().take(limit).map(|(_, c)| c.to_string()).collect()
    } else {
        close
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(levenshtein("cigna", "Cigna"), 0);
        assert_eq!(levenshtein("cigan", "cigna"), 2);
        assert_eq!(levenshtein("", "abc"), 3);
    }

    #[test]
    fn closest_prefers_prefixes_then_edits() {
        let names = ["Aetna", "Cigna", "Optum Behavioral", "Lyra EAP"];
        assert_eq!(closest("cign", names, 3)[0], "Cigna");
        assert_eq!(closest("optum", names, 3)[0], "Optum Behavioral");
        assert_eq!(closest("atena", names, 1), vec!["Aetna"]);
        assert_eq!(closest("zzzzzzzzzz", names, 2).len(), 2);
    }
}
