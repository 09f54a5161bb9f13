//! Dates as users type them.

use chrono::{Datelike, NaiveDate};

/// Accepts ISO dates (`2027-03-01`) and US style (`3/1/2027`, `03/01/2027`).
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let s = input.trim();
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%m/%d/%Y"))
        .map_err(|_| format!("`{s}` is not a date; write it as YYYY-MM-DD, for example 2027-03-01"))?;
    // Contracts and cases live in this range; outside it, date arithmetic (renewal + a year)
    // would leave what chrono can represent.
    if !(YEARS.contains(&d.year())) {
        return Err(format!("`{s}` is out of range; give a date between {} and {}", YEARS.start(), YEARS.end()));
    }
    Ok(d)
}

/// The years a typed date may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// The next anniversary of `date` on or after `today` (Feb 29 falls back to Feb 28).
pub fn next_anniversary(date: NaiveDate, today: NaiveDate) -> NaiveDate {
    let mut year = today.year().max(date.year());
    loop {
        let candidate = NaiveDate::from_ymd_opt(year, date.month(), date.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
            .expect("month and day 28 always exist");
        if candidate >= today {
            return candidate;
        }
        year += 1;
    }
}

pub fn add_years(date: NaiveDate, years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year() + years, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(date.year() + years, date.month(), 28))
        .expect("day 28 exists in every month")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn parses_iso_and_us_dates() {
        assert_eq!(d("2027-03-01"), NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        assert_eq!(d("3/1/2027"), NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        assert!(parse_date("2027-02-30").is_err());
        assert!(parse_date("next tuesday").unwrap_err().contains("YYYY-MM-DD"));
        assert!(parse_date("9999-12-31").unwrap_err().contains("between 1900 and 2200"));
        assert!(parse_date("12/31/1899").unwrap_err().contains("between 1900 and 2200"));
        assert!(parse_date("2200-12-31").is_ok());
    }

    #[test]
    fn anniversary_rolls_to_next_year_and_handles_leap_day() {
        assert_eq!(next_anniversary(d("2024-03-01"), d("2026-11-27")), d("2027-03-01"));
        assert_eq!(next_anniversary(d("2027-03-01"), d("2026-11-27")), d("2027-03-01"));
        assert_eq!(next_anniversary(d("2020-12-01"), d("2026-11-27")), d("2026-12-01"));
        assert_eq!(next_anniversary(d("2024-02-29"), d("2026-11-27")), d("2027-02-28"));
    }
}
