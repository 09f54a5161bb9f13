//! Slack's request signing: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">`
//! keyed with the app's signing secret, and `X-Slack-Request-Timestamp` in Unix seconds.
//! (https://api.slack.com/authentication/verifying-requests-from-slack)
//!
//! The comparison is constant time (`Mac::verify_slice`). The timestamp is checked against the
//! injected clock, so tests with a pinned clock sign with that clock's time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

/// Oldest (or furthest in the future) request timestamp accepted, against replays.
pub const MAX_AGE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a request was refused; the endpoint answers 401 for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    MissingHeaders,
    BadTimestamp,
    Stale,
    BadSignature,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::MissingHeaders => "missing signature headers",
            Rejection::BadTimestamp => "malformed request timestamp",
            Rejection::Stale => "request timestamp too old or in the future",
            Rejection::BadSignature => "invalid request signature",
        }
    }
}

/// Holds the signing secret; its `Debug` output never shows it.
#[derive(Clone)]
pub struct Verifier {
    secret: Vec<u8>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier { secret: <set> }")
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

impl Verifier {
    pub fn new(signing_secret: &str) -> Verifier {
        Verifier { secret: signing_secret.trim().as_bytes().to_vec() }
    }

    /// The `X-Slack-Signature` value Slack would send for this timestamp and body.
    pub fn signature(&self, timestamp: &str, body: &[u8]) -> String {
        let bytes = mac(&self.secret, timestamp, body).finalize().into_bytes();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("v0={hex}")
    }

    /// Checks both headers against the body at `now` (Unix seconds).
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Rejection> {
        let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
            return Err(Rejection::MissingHeaders);
        };
        let timestamp = timestamp.trim();
        let secs: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
        if (now - secs).abs() > MAX_AGE_SECS {
            return Err(Rejection::Stale);
        }
        let given = signature.trim().strip_prefix("v0=").and_then(hex_decode).ok_or(Rejection::BadSignature)?;
        mac(&self.secret, timestamp, body).verify_slice(&given).map_err(|_| Rejection::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's published example (https://api.slack.com/authentication/verifying-requests-from-slack).
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_published_example_signs_and_verifies() {
        let v = Verifier::new(SECRET);
        assert_eq!(v.signature(TIMESTAMP, BODY.as_bytes()), EXPECTED);
        assert_eq!(v.verify(Some(TIMESTAMP), Some(EXPECTED), BODY.as_bytes(), 1531420618 + 60), Ok(()));
    }

    #[test]
    fn anything_else_is_rejected() {
        let v = Verifier::new(SECRET);
        let now = 1531420618;
        let body = BODY.as_bytes();
        let tampered = BODY.replace("roadrunner", "wile_e");
        assert_eq!(v.verify(Some(TIMESTAMP), Some(EXPECTED), tampered.as_bytes(), now), Err(Rejection::BadSignature));
        let wrong = Verifier::new("another-secret").signature(TIMESTAMP, body);
        assert_eq!(v.verify(Some(TIMESTAMP), Some(&wrong), body, now), Err(Rejection::BadSignature));
        // The signature of another timestamp.
        assert_eq!(v.verify(Some("1531420619"), Some(EXPECTED), body, now), Err(Rejection::BadSignature));
        assert_eq!(v.verify(Some(TIMESTAMP), Some(EXPECTED), body, now + 301), Err(Rejection::Stale));
        assert_eq!(v.verify(Some(TIMESTAMP), Some(EXPECTED), body, now - 301), Err(Rejection::Stale));
        assert_eq!(v.verify(Some(TIMESTAMP), Some(EXPECTED), body, now + 300), Ok(()));
        assert_eq!(v.verify(None, Some(EXPECTED), body, now), Err(Rejection::MissingHeaders));
        assert_eq!(v.verify(Some(TIMESTAMP), None, body, now), Err(Rejection::MissingHeaders));
        assert_eq!(v.verify(Some("yesterday"), Some(EXPECTED), body, now), Err(Rejection::BadTimestamp));
        for garbage in ["", "v0=", "v0=zz", "v1=a2114d57", &EXPECTED[3..], &EXPECTED[..EXPECTED.len() - 2]] {
            assert_eq!(v.verify(Some(TIMESTAMP), Some(garbage), body, now), Err(Rejection::BadSignature), "{garbage}");
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", Verifier::new(SECRET)).contains(SECRET));
    }
}
