//! Money is integer cents everywhere; parsing and formatting live here.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an amount of money; write dollars and cents like 118.50")]
    NotAnAmount(String),
    #[error("`{0}` has more than two digits after the point; write cents like 118.50")]
    TooPrecise(String),
}

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// Parses `118.50`, `$118.50`, `1,118`, `118.5`. A leading `-` is kept so callers can
    /// reject it with a message of their own.
    pub fn parse(input: &str) -> Result<Cents, MoneyError> {
        let raw = input.trim();
        let mut s = raw.replace([',', ' '], "");
        let negative = s.starts_with('-');
        if negative {
            s.remove(0);
        }
        let s = s.strip_prefix('$').unwrap_or(&s);
        let s = s.strip_prefix("USD").unwrap_or(s);
        let bad = || MoneyError::NotAnAmount(raw.to_string());
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise(raw.to_string()));
        }
        if whole.len() > 12 {
            return Err(bad());
        }
        let dollars: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse().map_err(|_| bad())?,
        };
        let v = dollars * 100 + cents;
        Ok(Cents(if negative { -v } else { v }))
    }

    pub fn dollars_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let dollars = abs / 100;
        let cents = abs % 100;
        let digits = dollars.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{}${}.{:02}", if neg { "-" } else { "" }, grouped, cents)
    }
}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, o: Cents) -> Cents {
        Cents(self.0 + o.0)
    }
}

impl std::ops::Sub for Cents {
    type Output = Cents;
    fn sub(self, o: Cents) -> Cents {
        Cents(self.0 - o.0)
    }
}

/// Integer division rounding half away from zero: the one rounding rule of the project.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    assert!(denominator > 0, "denominator must be positive");
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator {
        q + numerator.signum()
    } else {
        q
    }
}

/// `part / whole` as a percentage with one decimal, rounded once.
pub fn percent_of(part: Cents, whole: Cents) -> Option<f64> {
    if whole.0 <= 0 {
        return None;
    }
    let tenths = div_round_half_up(part.0 as i128 * 1000, whole.0 as i128);
    Some(tenths as f64 / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_spellings() {
        assert_eq!(Cents::parse("118.50").unwrap(), Cents(11850));
        assert_eq!(Cents::parse("$118.5").unwrap(), Cents(11850));
        assert_eq!(Cents::parse("1,118").unwrap(), Cents(111800));
        assert_eq!(Cents::parse(".75").unwrap(), Cents(75));
        assert_eq!(Cents::parse("-5").unwrap(), Cents(-500));
    }

    #[test]
    fn rejects_what_is_not_money() {
        assert!(matches!(Cents::parse("abc"), Err(MoneyError::NotAnAmount(_))));
        assert!(matches!(Cents::parse("1.234"), Err(MoneyError::TooPrecise(_))));
        assert!(Cents::parse("").is_err());
        assert!(Cents::parse("$").is_err());
        assert!(Cents::parse("1.2.3").is_err());
    }

    #[test]
    fn formats_with_grouping() {
        assert_eq!(Cents(11850).to_string(), "$118.50");
        assert_eq!(Cents(1_200_000).to_string(), "$12,000.00");
        assert_eq!(Cents(-505).to_string(), "-$5.05");
        assert_eq!(Cents(5).to_string(), "$0.05");
    }

    #[test]
    fn rounding_is_half_up_away_from_zero() {
        assert_eq!(div_round_half_up(5, 10), 1);
        assert_eq!(div_round_half_up(4, 10), 0);
        assert_eq!(div_round_half_up(-5, 10), -1);
        assert_eq!(div_round_half_up(15, 10), 2);
    }

    #[test]
    fn percent_is_rounded_once_to_a_tenth() {
        assert_eq!(percent_of(Cents(11850), Cents(16700)), Some(71.0));
        assert_eq!(percent_of(Cents(1), Cents(3)), Some(33.3));
        assert_eq!(percent_of(Cents(1), Cents(0)), None);
    }
}
