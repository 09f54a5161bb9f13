//! Client keys: how an import counts clients without keeping who they are.
//!
//! A client's name or account id becomes HMAC-SHA256 of its normalised form under a secret that
//! belongs to the practice and lives only in its database (`Store::client_key_secret`). The same
//! client gives the same key in every file of that practice, so unique clients and sessions per
//! client can be counted; without the secret nobody can test a guessed name against a key, and
//! two practices never share keys. Keys are the first 16 bytes of the MAC (RFC 2104 allows
//! truncation; 128 bits leave collisions out of reach for any practice's client count).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// Length of the per-practice secret.
pub const SECRET_LEN: usize = 32;
/// Length of a stored key.
pub const KEY_LEN: usize = 16;

/// A practice's client-key secret. Never printed, never leaves the process except into its own row.
#[derive(Clone)]
pub struct ClientKeySecret([u8; SECRET_LEN]);

impl fmt::Debug for ClientKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKeySecret(..)")
    }
}

impl ClientKeySecret {
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> ClientKeySecret {
        ClientKeySecret(bytes)
    }

    /// A new secret from the operating system's CSPRNG.
    pub fn generate() -> Result<ClientKeySecret, getrandom::Error> {
        let mut bytes = [0u8; SECRET_LEN];
        getrandom::fill(&mut bytes)?;
        Ok(ClientKeySecret(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// The key of one client identifier (a name as "Jane Smith" or "Smith, Jane", or an account
    /// id); `None` when nothing identifying is left after normalisation (an empty cell).
    pub fn client_key(&self, identifier: &str) -> Option<ClientKey> {
        let normal = normalise_identifier(identifier);
        if normal.is_empty() {
            return None;
        }
        Some(ClientKey(self.mac(b"client", &[normal.as_bytes()])))
    }

    /// A keyed hash of several parts under a purpose label (the label keeps, say, a clinician's
    /// key from ever equalling a client's). Parts are length-prefixed so ("ab","c") != ("a","bc").
    pub fn keyed(&self, purpose: &[u8], parts: &[&[u8]]) -> [u8; KEY_LEN] {
        self.mac(purpose, parts)
    }

    fn mac(&self, purpose: &[u8], parts: &[&[u8]]) -> [u8; KEY_LEN] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(&(purpose.len() as u32).to_be_bytes());
        mac.update(purpose);
        for part in parts {
            mac.update(&(part.len() as u32).to_be_bytes());
            mac.update(part);
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&full[..KEY_LEN]);
        out
    }
}

/// A de-identified client: what the database keeps instead of a name or id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey([u8; KEY_LEN]);

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

impl ClientKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> ClientKey {
        ClientKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// The form of an identifier that is hashed: case, spacing and punctuation do not matter, and "Last, First" equals "First Last" (exports disagree on order).
/// Account ids keep their digits and letters only, so "A-00123" equals "a00123".
pub fn normalise_identifier(identifier: &str) -> String {
    let trimmed = identifier.trim();
    let reordered;
    let text = match trimmed.split_once(',') {
        Some((last, first)) if !first.contains(',') && !last.trim().is_empty() && !first.trim().is_empty() => {
            reordered = format!("{} {}", first.trim(), last.trim());
            reordered.as_str()
        }
        _ => trimmed,
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(b: u8) -> ClientKeySecret {
        ClientKeySecret::from_bytes([b; SECRET_LEN])
    }

    #[test]
    fn same_client_same_key_whatever_the_spelling() {
        let s = secret(7);
        let a = s.client_key("Jane  Smith").unwrap();
        assert_eq!(a, s.client_key("smith, jane").unwrap());
        assert_eq!(a, s.client_key(" JANE SMITH ").unwrap());
        assert_ne!(a, s.client_key("Jane Smyth").unwrap());
        assert_eq!(s.client_key("A-00123"), s.client_key("a 00123"));
        assert!(s.client_key("  , ").is_none());
    }

    #[test]
    fn keys_depend_on_the_practice_secret() {
        assert_ne!(secret(1).client_key("Jane Smith"), secret(2).client_key("Jane Smith"));
    }

    #[test]
    fn purposes_and_part_boundaries_separate_keys() {
        let s = secret(3);
        assert_ne!(s.keyed(b"a", &[b"ab", b"c"]), s.keyed(b"a", &[b"a", b"bc"]));
        assert_ne!(s.keyed(b"client", &[b"jane smith"]), s.keyed(b"clinician", &[b"jane smith"]));
        assert_eq!(s.keyed(b"client", &[b"jane smith"]), *s.client_key("Jane Smith").unwrap().as_bytes());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert_eq!(format!("{:?}", secret(9)), "ClientKeySecret(..)");
    }

    #[test]
    fn generated_secrets_differ() {
        let a = ClientKeySecret::generate().unwrap();
        let b = ClientKeySecret::generate().unwrap();
        assert_ne!(a.as_bytes(), b.as_bytes());
    }
}
