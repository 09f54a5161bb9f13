//! The one shared context every handler receives.

use crate::clock::Clock;
use crate::error::AppError;
use crate::medicare::MedicareData;
use crate::store::Store;
use chrono::NaiveDate;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The embedded fee schedule with any releases imported at run time merged in.
    pub medicare: Arc<MedicareData>,
}

impl Ctx {
    /// Builds the context, merging CMS releases imported into this database.
    pub async fn new(store: Store, clock: Arc<dyn Clock>) -> Result<Ctx, AppError> {
        let mut medicare = MedicareData::embedded();
        for r in store.medicare_releases().await? {
            let merged = medicare.with_release(r.year, &r.rvu_csv, &r.gpci_csv, r.cf_ten_thousandths).map_err(|e| {
                AppError::internal(
                    format!("loading the imported {} Medicare release", r.year),
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                )
            })?;
            medicare = Arc::new(merged);
        }
        Ok(Ctx { store, clock, medicare })
    }

    /// Today's date in the given IANA time zone (UTC if the name is not known).
    pub fn today_in(&self, time_zone: &str) -> NaiveDate {
        let now = self.clock.now();
        match time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => now.with_timezone(&tz).date_naive(),
            Err(_) => now.date_naive(),
        }
    }
}
