//! Kinds of payer and where the practice stands with each.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayerKind {
    Commercial,
    Medicare,
    Medicaid,
    ManagedMedicaid,
    Eap,
    Mbho,
}

impl PayerKind {
    pub const ALL: [PayerKind; 6] = [
        PayerKind::Commercial,
        PayerKind::Mbho,
        PayerKind::Eap,
        PayerKind::ManagedMedicaid,
        PayerKind::Medicaid,
        PayerKind::Medicare,
    ];

    pub fn key(self) -> &'static str {
        match self {
            PayerKind::Commercial => "commercial",
            PayerKind::Medicare => "medicare",
            PayerKind::Medicaid => "medicaid",
            PayerKind::ManagedMedicaid => "managed-medicaid",
            PayerKind::Eap => "eap",
            PayerKind::Mbho => "mbho",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PayerKind::Commercial => "commercial plan",
            PayerKind::Medicare => "Medicare",
            PayerKind::Medicaid => "state Medicaid",
            PayerKind::ManagedMedicaid => "managed Medicaid plan",
            PayerKind::Eap => "employee assistance program",
            PayerKind::Mbho => "managed behavioral health organization",
        }
    }

    /// Medicare is one schedule for everyone; Medicaid is set by the state.
    pub fn is_negotiable(self) -> bool {
        !matches!(self, PayerKind::Medicare | PayerKind::Medicaid)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayerStatus {
    InNetwork,
    Applying,
    OutOfNetwork,
    Dropped,
}

impl PayerStatus {
    pub const ALL: [PayerStatus; 4] =
        [PayerStatus::InNetwork, PayerStatus::Applying, PayerStatus::OutOfNetwork, PayerStatus::Dropped];

    pub fn key(self) -> &'static str {
        match self {
            PayerStatus::InNetwork => "in-network",
            PayerStatus::Applying => "applying",
            PayerStatus::OutOfNetwork => "out-of-network",
            PayerStatus::Dropped => "dropped",
        }
    }
}

fn normalise(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(['_', ' '], "-")
}

impl FromStr for PayerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = normalise(s);
        PayerKind::ALL
            .into_iter()
            .find(|p| p.key() == k)
            .or(match k.as_str() {
                "managedmedicaid" | "mco" => Some(PayerKind::ManagedMedicaid),
                "behavioral" | "carve-out" => Some(PayerKind::Mbho),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "`{}` is not a payer kind; use one of: {}",
                    s.trim(),
                    PayerKind::ALL.map(|p| p.key()).join(", ")
                )
            })
    }
}

impl FromStr for PayerStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = normalise(s);
        PayerStatus::ALL
            .into_iter()
            .find(|p| p.key() == k)
            .or(match k.as_str() {
                "innetwork" | "contracted" | "active" => Some(PayerStatus::InNetwork),
                "oon" | "outofnetwork" => Some(PayerStatus::OutOfNetwork),
                "credentialing" => Some(PayerStatus::Applying),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "`{}` is not a network status; use one of: {}",
                    s.trim(),
                    PayerStatus::ALL.map(|p| p.key()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_with_loose_spelling() {
        assert_eq!("Managed Medicaid".parse::<PayerKind>().unwrap(), PayerKind::ManagedMedicaid);
        assert_eq!("EAP".parse::<PayerKind>().unwrap(), PayerKind::Eap);
        let err = "hmo".parse::<PayerKind>().unwrap_err();
        assert!(err.contains("commercial") && err.contains("`hmo`"), "{err}");
    }

    #[test]
    fn only_medicare_and_medicaid_are_fixed() {
        assert!(!PayerKind::Medicare.is_negotiable());
        assert!(!PayerKind::Medicaid.is_negotiable());
        assert!(PayerKind::ManagedMedicaid.is_negotiable());
        assert!(PayerKind::Eap.is_negotiable());
    }

    #[test]
    fn statuses_round_trip() {
        for s in PayerStatus::ALL {
            assert_eq!(s.key().parse::<PayerStatus>().unwrap(), s);
        }
        assert!("maybe".parse::<PayerStatus>().is_err());
    }
}
