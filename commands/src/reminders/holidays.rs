//! US federal holidays (5 U.S.C. 6103), the days payers' provider-relations offices are closed:
//! a reminder due on one moves to the next business day, as it does from a weekend.
//!
//! A small table rather than a crate: eleven rules fixed by statute that change about once a
//! decade (Juneteenth, 2021). A holiday crate brings a country database and its own update
//! cadence for what these lines and their tests, one per rule, cover exactly.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// How a holiday's date is found in a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// A fixed month and day; on a Saturday it is observed the Friday before, on a Sunday the
    /// Monday after (Executive Order 11582).
    Fixed { month: u32, day: u32 },
    /// The nth weekday of a month (n = 1..=4).
    Nth { month: u32, weekday: Weekday, n: u8 },
    /// The last weekday of a month.
    Last { month: u32, weekday: Weekday },
}

/// (name, rule, first year it applies).
const HOLIDAYS: &[(&str, Rule, i32)] = &[
    ("New Year's Day", Rule::Fixed { month: 1, day: 1 }, 1871),
    ("Birthday of Martin Luther King, Jr.", Rule::Nth { month: 1, weekday: Weekday::Mon, n: 3 }, 1986),
    ("Washington's Birthday", Rule::Nth { month: 2, weekday: Weekday::Mon, n: 3 }, 1971),
    ("Memorial Day", Rule::Last { month: 5, weekday: Weekday::Mon }, 1971),
    ("Juneteenth National Independence Day", Rule::Fixed { month: 6, day: 19 }, 2021),
    ("Independence Day", Rule::Fixed { month: 7, day: 4 }, 1871),
    ("Labor Day", Rule::Nth { month: 9, weekday: Weekday::Mon, n: 1 }, 1894),
    ("Columbus Day", Rule::Nth { month: 10, weekday: Weekday::Mon, n: 2 }, 1971),
    ("Veterans Day", Rule::Fixed { month: 11, day: 11 }, 1971),
    ("Thanksgiving Day", Rule::Nth { month: 11, weekday: Weekday::Thu, n: 4 }, 1941),
    ("Christmas Day", Rule::Fixed { month: 12, day: 25 }, 1871),
];

fn observed(rule: Rule, year: i32) -> Option<NaiveDate> {
    match rule {
        Rule::Fixed { month, day } => {
            let d = NaiveDate::from_ymd_opt(year, month, day)?;
            Some(match d.weekday() {
                Weekday::Sat => d - Duration::days(1),
                Weekday::Sun => d + Duration::days(1),
                _ => d,
            })
        }
        Rule::Nth { month, weekday, n } => NaiveDate::from_weekday_of_month_opt(year, month, weekday, n),
        Rule::Last { month, weekday } => {
            let first_next = if month == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(year, month + 1, 1)?
            };
            let mut d = first_next - Duration::days(1);
            while d.weekday() != weekday {
                d -= Duration::days(1);
            }
            Some(d)
        }
    }
}

/// The federal holiday observed on `d`, if any. New Year's Day on a Saturday is observed on the
/// Friday before, December 31 of the year before.
pub fn federal_holiday(d: NaiveDate) -> Option<&'static str> {
    for year in [d.year(), d.year() + 1] {
        for (name, rule, from) in HOLIDAYS {
            if year >= *from && observed(*rule, year) == Some(d) {
                return Some(name);
            }
        }
    }
    None
}

/// Not a Saturday, Sunday or observed federal holiday.
pub fn is_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && federal_holiday(d).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn on(s: &str) -> Option<&'static str> {
        federal_holiday(d(s))
    }

    #[test]
    fn new_years_day_and_its_observed_days() {
        assert_eq!(on("2026-01-01"), Some("New Year's Day"));
        // 2023-01-01 was a Sunday: observed Monday the 2nd.
        assert_eq!(on("2023-01-02"), Some("New Year's Day"));
        assert_eq!(on("2023-01-01"), None);
        // 2022-01-01 was a Saturday: observed Friday 2021-12-31, in the year before.
        assert_eq!(on("2021-12-31"), Some("New Year's Day"));
        // 2028-01-01 is a Saturday too.
        assert_eq!(on("2027-12-31"), Some("New Year's Day"));
    }

    #[test]
    fn martin_luther_king_day_is_the_third_monday_of_january() {
        assert_eq!(on("2026-01-19"), Some("Birthday of Martin Luther King, Jr."));
        assert_eq!(on("2027-01-18"), Some("Birthday of Martin Luther King, Jr."));
        assert_eq!(on("2026-01-12"), None);
        // Not before 1986.
        assert_eq!(on("1985-01-21"), None);
    }

    #[test]
    fn washingtons_birthday_is_the_third_monday_of_february() {
        assert_eq!(on("2026-02-16"), Some("Washington's Birthday"));
        assert_eq!(on("2027-02-15"), Some("Washington's Birthday"));
        assert_eq!(on("2026-02-22"), None);
    }

    #[test]
    fn memorial_day_is_the_last_monday_of_may() {
        assert_eq!(on("2026-05-25"), Some("Memorial Day"));
        // May 2027 has five Mondays: the 31st, not the 24th.
        assert_eq!(on("2027-05-31"), Some("Memorial Day"));
        assert_eq!(on("2027-05-24"), None);
    }

    #[test]
    fn juneteenth_from_2021_with_observed_days() {
        assert_eq!(on("2026-06-19"), Some("Juneteenth National Independence Day"));
        // 2027-06-19 is a Saturday: observed Friday the 18th.
        assert_eq!(on("2027-06-18"), Some("Juneteenth National Independence Day"));
        // 2022-06-19 was a Sunday: observed Monday the 20th.
        assert_eq!(on("2022-06-20"), Some("Juneteenth National Independence Day"));
        assert_eq!(on("2021-06-18"), Some("Juneteenth National Independence Day"));
        // Not a federal holiday before 2021.
        assert_eq!(on("2020-06-19"), None);
    }

    #[test]
    fn independence_day_with_observed_days() {
        assert_eq!(on("2025-07-04"), Some("Independence Day"));
        // 2026-07-04 is a Saturday: observed Friday the 3rd.
        assert_eq!(on("2026-07-03"), Some("Independence Day"));
        // 2027-07-04 is a Sunday: observed Monday the 5th.
        assert_eq!(on("2027-07-05"), Some("Independence Day"));
    }

    #[test]
    fn labor_day_is_the_first_monday_of_september() {
        assert_eq!(on("2026-09-07"), Some("Labor Day"));
        assert_eq!(on("2027-09-06"), Some("Labor Day"));
    }

    #[test]
    fn columbus_day_is_the_second_monday_of_october() {
        assert_eq!(on("2026-10-12"), Some("Columbus Day"));
        assert_eq!(on("2027-10-11"), Some("Columbus Day"));
        assert_eq!(on("2026-10-05"), None);
    }

    #[test]
    fn veterans_day_with_observed_days() {
        assert_eq!(on("2026-11-11"), Some("Veterans Day"));
        // 2028-11-11 is a Saturday: observed Friday the 10th.
        assert_eq!(on("2028-11-10"), Some("Veterans Day"));
        // 2029-11-11 is a Sunday: observed Monday the 12th.
        assert_eq!(on("2029-11-12"), Some("Veterans Day"));
    }

    #[test]
    fn thanksgiving_is_the_fourth_thursday_of_november() {
        assert_eq!(on("2026-11-26"), Some("Thanksgiving Day"));
        assert_eq!(on("2027-11-25"), Some("Thanksgiving Day"));
        // The day after is a working day for federal offices.
        assert_eq!(on("2026-11-27"), None);
    }

    #[test]
    fn christmas_with_observed_days() {
        assert_eq!(on("2026-12-25"), Some("Christmas Day"));
        // 2027-12-25 is a Saturday: observed Friday the 24th.
        assert_eq!(on("2027-12-24"), Some("Christmas Day"));
        // 2022-12-25 was a Sunday: observed Monday the 26th.
        assert_eq!(on("2022-12-26"), Some("Christmas Day"));
    }

    #[test]
    fn eleven_holidays_a_year_and_weekends_are_not_business_days() {
        let start = d("2026-01-01");
        let holidays = (0..365).filter(|i| federal_holiday(start + Duration::days(*i)).is_some()).count();
        assert_eq!(holidays, 11);
        assert!(!is_business_day(d("2026-11-28")));
        assert!(is_business_day(d("2026-11-27")));
        assert!(!is_business_day(d("2026-11-26")));
    }
}
