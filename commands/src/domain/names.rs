//! Names people type for payers and practices, and the length of every free-text value.
//!
//! A name has one form: NFKC (so a fullwidth `Ｃｉｇｎａ` is `Cigna`), trimmed, and nothing a reader
//! cannot see: format characters (zero-width spaces, byte-order marks), bidi controls (U+202E
//! would show a name reversed), other control characters and line separators are refused, so
//! `Cig\u{200b}na` cannot sit beside `Cigna` looking the same. Lookups compare canonical forms.

use unicode_normalization::UnicodeNormalization;

/// The canonical form a name is stored and compared in.
pub fn canonical(input: &str) -> String {
    input.nfkc().collect::<String>().trim().to_string()
}

/// Unicode general category Cf (format), as of Unicode 14: zero-width and joining characters,
/// bidi embeddings, overrides, isolates and marks, the byte-order mark, tags.
const FORMAT: &[(u32, u32)] = &[
    (0xAD, 0xAD),
    (0x600, 0x605),
    (0x61C, 0x61C),
    (0x6DD, 0x6DD),
    (0x70F, 0x70F),
    (0x890, 0x891),
    (0x8E2, 0x8E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

const ZERO_WIDTH_JOINER: char = '\u{200D}';

fn is_format(c: char) -> bool {
    let c = c as u32;
    FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Pictographs a zero-width joiner may glue into one emoji (`👩‍⚕️`).
fn is_pictograph(c: char) -> bool {
    matches!(c as u32, 0x2600..=0x27BF | 0x1F000..=0x1FAFF | 0xFE0F)
}

/// The first character of `s` a reader cannot see, with its position (1-based).
fn first_invisible(s: &str) -> Option<(usize, char)> {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let joins_emoji = c == ZERO_WIDTH_JOINER
            && i > 0
            && is_pictograph(chars[i - 1])
            && chars.get(i + 1).copied().is_some_and(is_pictograph);
        let invisible = c.is_control() || c == '\u{2028}' || c == '\u{2029}' || (is_format(c) && !joins_emoji);
        invisible.then_some((i + 1, c))
    })
}

/// A payer or practice name as typed, in its canonical form, or what to fix. `what` names it in
/// the message ("A payer name").
pub fn name(what: &str, input: &str, max_chars: usize) -> Result<String, String> {
    let name = canonical(input);
    if let Some((at, c)) = first_invisible(&name) {
        return Err(format!(
            "{what} cannot contain invisible or control characters (U+{:04X} at character {at}); type the name again without it",
            c as u32
        ));
    }
    let n = name.chars().count();
    if n == 0 || n > max_chars {
        return Err(format!("{what} needs 1 to {max_chars} characters"));
    }
    Ok(name)
}

/// Longest value of any option, whatever it is: lists such as `rates:"90837=126 ..."` fit.
pub const MAX_OPTION_CHARS: usize = 2000;
/// Longest note (payer notes, case notes).
pub const MAX_NOTE_CHARS: usize = 1000;
/// Longest short free text: contact details, provider id, signer.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;

/// The cap of one option's value, by option name.
pub fn max_chars(option: &str) -> usize {
    match option {
        // `note` (a case note) has its own check in /negotiate, with the same cap.
        "notes" => MAX_NOTE_CHARS,
        "contact_name" | "contact_email" | "contact_phone" | "provider_id" | "signer" | "npi" | "tax_id"
        | "channel" | "manager_role" | "locality" | "timezone" | "measure" => MAX_SHORT_TEXT_CHARS,
        _ => MAX_OPTION_CHARS,
    }
}

/// Every option value within its cap, checked once before a command runs.
pub fn check_lengths(options: &[(String, String)]) -> Result<(), String> {
    for (k, v) in options {
        let max = max_chars(k);
        let n = v.chars().count();
        if n > max {
            return Err(format!("`{k}` has {n} characters; keep it to {max} or fewer"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_nfkc_and_visible() {
        assert_eq!(name("A payer name", "  Ｃｉｇｎａ ", 80).unwrap(), "Cigna");
        assert_eq!(name("A payer name", "O'Brien \"North\" Clinic", 80).unwrap(), "O'Brien \"North\" Clinic");
        assert_eq!(name("A payer name", "שירותי בריאות", 80).unwrap(), "שירותי בריאות");
        assert_eq!(name("A payer name", "Care 👩\u{200D}⚕\u{FE0F}", 80).unwrap(), "Care 👩\u{200D}⚕\u{FE0F}");
        for bad in
            ["Cig\u{200B}na", "\u{202E}angiC", "Ci\u{2066}gna", "Cigna\u{FEFF}x", "a\nb", "a\u{7}b", "x\u{200D}y"]
        {
            let e = name("A payer name", bad, 80).unwrap_err();
            assert!(e.contains("invisible") && e.contains("U+"), "{bad:?}: {e}");
        }
        assert!(name("A payer name", "   ", 80).unwrap_err().contains("1 to 80"));
        assert!(name("A payer name", &"x".repeat(81), 80).unwrap_err().contains("1 to 80"));
    }

    #[test]
    fn every_option_has_a_cap() {
        let long = |n: usize| "x".repeat(n);
        assert!(check_lengths(&[("notes".into(), long(1000))]).is_ok());
        assert!(check_lengths(&[("notes".into(), long(1001))]).unwrap_err().contains("1000"));
        assert!(check_lengths(&[("contact_name".into(), long(201))]).is_err());
        assert!(check_lengths(&[("rates".into(), long(2000))]).is_ok());
        assert!(check_lengths(&[("anything".into(), long(1_000_000))]).unwrap_err().contains("2000"));
    }
}
