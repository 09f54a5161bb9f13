//! A small CSV reader (RFC 4180 quoting) and exact fixed-point number parsing for the
//! CMS-derived data files. No floats anywhere.

use std::collections::HashMap;

/// Splits CSV text into records. Handles quoted fields containing commas, doubled quotes
/// (`""`) and line breaks, CRLF line endings, a leading byte-order mark, and skips blank lines.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut field_started_quoted = false;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started_quoted => {
                in_quotes = true;
                field_started_quoted = true;
            }
            '"' => return Err(format!("line {line}: stray quote inside an unquoted field")),
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                end_record(&mut records, &mut record, &mut field, field_started_quoted);
                field_started_quoted = false;
                line += 1;
            }
            _ => {
                if field_started_quoted {
                    return Err(format!("line {line}: text after a closing quote"));
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err(format!("line {line}: a quoted field is never closed"));
    }
    end_record(&mut records, &mut record, &mut field, field_started_quoted);
    Ok(records)
}

fn end_record(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: &mut String, quoted: bool) {
    if record.is_empty() && field.is_empty() && !quoted {
        return; // blank line
    }
    record.push(std::mem::take(field));
    records.push(std::mem::take(record));
}

/// A parsed CSV with a header row, read by column name.
pub struct Table {
    columns: HashMap<String, usize>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// `required` columns must all be present (header names are matched case-insensitively).
    pub fn parse(text: &str, what: &str, required: &[&str]) -> Result<Table, String> {
        let mut records = parse(text).map_err(|e| format!("{what}: {e}"))?;
        if records.is_empty() {
            return Err(format!("{what}: the file is empty; expected a header row `{}`", required.join(",")));
        }
        let header = records.remove(0);
        let columns: HashMap<String, usize> =
            header.iter().enumerate().map(|(i, h)| (h.trim().to_ascii_lowercase(), i)).collect();
        let missing: Vec<&str> = required.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "{what}: missing column(s) {}; the header must name {}",
                missing.join(", "),
                required.join(",")
            ));
        }
        for (i, r) in records.iter().enumerate() {
            if r.len() != header.len() {
                return Err(format!(
                    "{what}: data row {} has {} fields, the header has {}",
                    i + 1,
                    r.len(),
                    header.len()
                ));
            }
        }
        Ok(Table { columns, rows: records })
    }

    /// The trimmed value of `column` in `row` ("" when the column is absent).
    pub fn get<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        self.columns.get(column).map(|&i| row[i].trim()).unwrap_or("")
    }
}

/// Parses a non-negative decimal such as `1.03` into an integer scaled by 10^`decimals`
/// (`parse_fixed("1.03", 3) == Ok(1030)`), exactly. Fewer decimals are padded; more are an
/// error rather than a silent rounding.
pub fn parse_fixed(s: &str, decimals: u32) -> Result<i64, String> {
    let t = s.trim();
    let bad = || format!("`{s}` is not a number with at most {decimals} decimals");
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || whole.len() > 9
    {
        return Err(bad());
    }
    if frac.len() > decimals as usize {
        // Trailing zeros beyond the precision are harmless ("1.0000" for a 3-decimal GPCI).
        if frac[decimals as usize..].chars().any(|c| c != '0') {
            return Err(bad());
        }
    }
    let scale = 10i64.pow(decimals);
    let whole_v: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let mut frac_v: i64 = 0;
    for i in 0..decimals as usize {
        let d = frac.as_bytes().get(i).map(|b| (b - b'0') as i64).unwrap_or(0);
        frac_v = frac_v * 10 + d;
    }
    Ok(whole_v * scale + frac_v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_handles_quoted_commas_and_quotes() {
        let rows = parse("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n\n2,,\"\"\n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], vec!["1", "x, y", "say \"hi\""]);
        assert_eq!(rows[2], vec!["2", "", ""]);
    }

    #[test]
    fn csv_keeps_line_breaks_inside_quotes_and_reports_errors() {
        let rows = parse("a,b\n\"line1\nline2\",z").unwrap();
        assert_eq!(rows[1][0], "line1\nline2");
        assert!(parse("a,\"open").unwrap_err().contains("never closed"));
        assert!(parse("a,b\"c").is_err());
    }

    #[test]
    fn fixed_point_parsing_is_exact() {
        assert_eq!(parse_fixed("33.4009", 4), Ok(334009));
        assert_eq!(parse_fixed("1.03", 3), Ok(1030));
        assert_eq!(parse_fixed("1", 3), Ok(1000));
        assert_eq!(parse_fixed("0.00", 2), Ok(0));
        assert_eq!(parse_fixed(".5", 2), Ok(50));
        assert_eq!(parse_fixed("1.0000", 3), Ok(1000));
        assert!(parse_fixed("1.0005", 3).is_err());
        assert!(parse_fixed("-1", 2).is_err());
        assert!(parse_fixed("abc", 2).is_err());
        assert!(parse_fixed("", 2).is_err());
    }
}
