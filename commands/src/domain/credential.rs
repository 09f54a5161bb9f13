//! Who renders the service: Medicare pays a share of the psychologist amount by credential.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    Psychologist,
    Lcsw,
    Lmft,
    /// Licensed professional / mental health counselor (LPC, LMHC).
    Lpc,
    Np,
    Pa,
    Psychiatrist,
}

impl Credential {
    pub const ALL: [Credential; 7] = [
        Credential::Psychologist,
        Credential::Lcsw,
        Credential::Lmft,
        Credential::Lpc,
        Credential::Np,
        Credential::Pa,
        Credential::Psychiatrist,
    ];

    /// The value a user types and that is stored.
    pub fn key(self) -> &'static str {
        match self {
            Credential::Psychologist => "psychologist",
            Credential::Lcsw => "lcsw",
            Credential::Lmft => "lmft",
            Credential::Lpc => "lpc",
            Credential::Np => "np",
            Credential::Pa => "pa",
            Credential::Psychiatrist => "psychiatrist",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Credential::Psychologist => "clinical psychologist",
            Credential::Lcsw => "LCSW",
            Credential::Lmft => "LMFT",
            Credential::Lpc => "LPC/LMHC",
            Credential::Np => "nurse practitioner",
            Credential::Pa => "physician assistant",
            Credential::Psychiatrist => "psychiatrist (MD/DO)",
        }
    }

    /// Percent of the fee-schedule amount Medicare allows for this credential
    /// (SSA 1833(a)(1)(F), (FF), (L), (O); 42 CFR 414.53, 414.56).
    pub fn medicare_share_pct(self) -> u32 {
        match self {
            Credential::Psychologist | Credential::Psychiatrist => 100,
            Credential::Lcsw | Credential::Lmft | Credential::Lpc => 75,
            Credential::Np | Credential::Pa => 85,
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a credential I know; use one of: psychologist, lcsw, lmft, lpc (or lmhc), np, pa, psychiatrist (or md)")]
pub struct UnknownCredential(pub String);

impl FromStr for Credential {
    type Err = UnknownCredential;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let k = s.trim().to_ascii_lowercase().replace(['-', '_', ' ', '.'], "");
        Ok(match k.as_str() {
            "psychologist" | "phd" | "psyd" | "cp" | "clinicalpsychologist" => Credential::Psychologist,
            "lcsw" | "csw" | "licsw" | "socialworker" => Credential::Lcsw,
            "lmft" | "mft" | "marriageandfamilytherapist" => Credential::Lmft,
            "lpc" | "lmhc" | "lcpc" | "mhc" | "counselor" | "lpcc" => Credential::Lpc,
            "np" | "pmhnp" | "nursepractitioner" => Credential::Np,
            "pa" | "physicianassistant" => Credential::Pa,
            "psychiatrist" | "md" | "do" => Credential::Psychiatrist,
            _ => return Err(UnknownCredential(s.trim().to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_parse_to_the_same_credential() {
        assert_eq!("LMHC".parse::<Credential>().unwrap(), Credential::Lpc);
        assert_eq!("lpc".parse::<Credential>().unwrap(), Credential::Lpc);
        assert_eq!("MD".parse::<Credential>().unwrap(), Credential::Psychiatrist);
        assert_eq!(" Psychologist ".parse::<Credential>().unwrap(), Credential::Psychologist);
    }

    #[test]
    fn unknown_credential_lists_valid_ones() {
        let err = "dentist".parse::<Credential>().unwrap_err().to_string();
        assert!(err.contains("dentist") && err.contains("lcsw"), "{err}");
    }

    #[test]
    fn shares_follow_the_statute() {
        assert_eq!(Credential::Psychologist.medicare_share_pct(), 100);
        assert_eq!(Credential::Lcsw.medicare_share_pct(), 75);
        assert_eq!(Credential::Lmft.medicare_share_pct(), 75);
        assert_eq!(Credential::Lpc.medicare_share_pct(), 75);
        assert_eq!(Credential::Np.medicare_share_pct(), 85);
        assert_eq!(Credential::Pa.medicare_share_pct(), 85);
    }

    #[test]
    fn every_key_round_trips() {
        for c in Credential::ALL {
            assert_eq!(c.key().parse::<Credential>().unwrap(), c);
        }
    }
}
