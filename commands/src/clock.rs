//! The one source of "now". Tests and demos pin or move it; nothing else reads the system time.

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// `RATERISE_NOW` (RFC 3339) pins the clock; otherwise the system clock.
pub fn from_env() -> Result<Arc<dyn Clock>, String> {
    match std::env::var("RATERISE_NOW") {
        Ok(v) if !v.trim().is_empty() => {
            let at = parse_instant(&v)?;
            Ok(Arc::new(ManualClock::new(at)))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// RFC 3339, or a bare date taken as midday UTC.
pub fn parse_instant(v: &str) -> Result<DateTime<Utc>, String> {
    let v = v.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc());
    }
    Err(format!("RATERISE_NOW=`{v}` is not a time; use RFC 3339 such as 2026-11-27T09:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(parse_instant("2026-11-27T09:00:00Z").unwrap());
        assert_eq!(c.now().to_rfc3339(), "2026-11-27T09:00:00+00:00");
        c.advance(chrono::Duration::days(14));
        assert_eq!(c.now().date_naive().to_string(), "2026-12-11");
    }

    #[test]
    fn bad_instant_says_what_is_expected() {
        assert!(parse_instant("tomorrow").unwrap_err().contains("RFC 3339"));
        assert!(parse_instant("2026-11-27").is_ok());
    }
}
