//! The one shared context every handler receives.

use crate::clock::Clock;
use crate::drafts::Drafts;
use crate::error::AppError;
use crate::handlers::rates::RatesReport;
use crate::medicare::MedicareData;
use crate::report_cache::ReportCache;
use crate::store::Store;
use chrono::NaiveDate;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The embedded fee schedule with any releases imported at run time merged in.
    pub medicare: Arc<MedicareData>,
    /// The draft templates: built in, with a deployment's overrides (see `with_templates_dir`).
    pub drafts: Arc<Drafts>,
    /// `/rates PAYER` reports by practice revision (see `report_cache`).
    pub rates_cache: Arc<ReportCache<RatesKey, RatesReport>>,
    /// Fetches files attached in chat (`/import claims`); None where there is no chat.
    pub files: Option<Arc<dyn crate::files::FileFetcher>>,
}

/// What a `/rates PAYER` report depends on besides the database: the practice and its revision,
/// the payer as typed, the options, and the day.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RatesKey {
    pub practice_id: i64,
    pub revision: i64,
    /// The newest market import: a payer's published rates are part of the report.
    pub market_revision: i64,
    pub payer: String,
    pub credential: Option<String>,
    pub year: Option<String>,
    /// `target:` (a percentile of the payer's own published rates).
    pub target: Option<String>,
    pub today: NaiveDate,
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
        Ok(Ctx {
            store,
            clock,
            medicare,
            drafts: Arc::new(Drafts::builtin()),
            rates_cache: Arc::default(),
            files: None,
        })
    }

    /// Uses the templates in `dir` in place of the built-in ones of the same name
    /// (`request.txt.j2`, ...). A template there that does not compile is reported with its name
    /// and line (logged now, and as a warning on every draft of its kind) and the built-in is
    /// used; a folder that does not exist is an error.
    pub fn with_templates_dir(mut self, dir: &Path) -> Result<Ctx, AppError> {
        let drafts = Drafts::with_overrides(dir).map_err(AppError::NotSetUp)?;
        self.drafts = Arc::new(drafts);
        Ok(self)
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
