//! Where the service is billed from decides which practice-expense RVU Medicare uses.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// Office (POS 11) and telehealth to the patient's home (POS 10).
    NonFacility,
    /// Hospital, SNF and other facility places of service (and POS 02 telehealth).
    Facility,
}

impl Setting {
    pub fn key(self) -> &'static str {
        match self {
            Setting::NonFacility => "non-facility",
            Setting::Facility => "facility",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Setting::NonFacility => "office / telehealth at home (non-facility)",
            Setting::Facility => "facility",
        }
    }
}

impl FromStr for Setting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace(['_', ' '], "-").as_str() {
            "non-facility" | "nonfacility" | "office" | "pos11" | "pos10" | "telehealth" => Ok(Setting::NonFacility),
            "facility" | "hospital" | "pos02" => Ok(Setting::Facility),
            other => Err(format!("`{other}` is not a setting; use office (non-facility) or facility")),
        }
    }
}
