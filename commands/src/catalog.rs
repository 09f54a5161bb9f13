//! Every command once: name, options, descriptions and who may run it. Discord registration,
//! Slack help, console parsing and `/help` are all generated from this list.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    Text,
    /// A whole number (sessions, days).
    Integer,
    /// Dollars and cents such as 118.50.
    Money,
    /// YYYY-MM-DD.
    Date,
    /// One of a fixed set of values: (value, label).
    Choice(&'static [(&'static str, &'static str)]),
    /// One of the practice's payers (autocompleted).
    Payer,
    /// A CPT/HCPCS code we ship Medicare figures for (autocompleted).
    Cpt,
    /// A Medicare payment locality (autocompleted).
    Locality,
    /// A chat channel (platform id) for posts.
    Channel,
    /// A chat role (platform id) allowed to change data.
    Role,
    Boolean,
    /// A file attached to the command (Discord: an attachment option; Slack and the console:
    /// the file's URL on the platform's own file host).
    Attachment,
}

impl OptionKind {
    pub fn autocompletes(self) -> bool {
        matches!(self, OptionKind::Payer | OptionKind::Cpt | OptionKind::Locality)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: OptionKind,
    pub required: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct SubcommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// Changes data: needs the manage permission or the practice's role.
    pub mutates: bool,
    pub options: &'static [OptionSpec],
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub mutates: bool,
    /// Options of a command without subcommands.
    pub options: &'static [OptionSpec],
    pub subcommands: &'static [SubcommandSpec],
}

impl CommandSpec {
    pub fn subcommand(&self, name: &str) -> Option<&'static SubcommandSpec> {
        self.subcommands.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

const fn req(name: &'static str, description: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec { name, description, kind, required: true }
}
const fn opt(name: &'static str, description: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec { name, description, kind, required: false }
}

pub const PAYER_KINDS: &[(&str, &str)] = &[
    ("commercial", "Commercial plan"),
    ("mbho", "Managed behavioral health org (MBHO)"),
    ("eap", "Employee assistance program (EAP)"),
    ("managed-medicaid", "Managed Medicaid plan"),
    ("medicaid", "State Medicaid"),
    ("medicare", "Medicare"),
];
pub const PAYER_STATUSES: &[(&str, &str)] = &[
    ("in-network", "In network"),
    ("applying", "Applying / new contract"),
    ("out-of-network", "Out of network"),
    ("dropped", "Dropped"),
];
pub const CREDENTIALS: &[(&str, &str)] = &[
    ("psychologist", "Clinical psychologist (100%)"),
    ("lcsw", "LCSW (75%)"),
    ("lmft", "LMFT (75%)"),
    ("lpc", "LPC / LMHC (75%)"),
    ("np", "Nurse practitioner (85%)"),
    ("pa", "Physician assistant (85%)"),
    ("psychiatrist", "Psychiatrist, MD/DO (100%)"),
];
/// Events `/negotiate log` records; the payer's answers go through `/negotiate outcome`.
pub const LOG_EVENTS: &[(&str, &str)] = &[
    ("contact-found", "Found the contracting contact"),
    ("call", "Initial request by phone"),
    ("written-request", "Written request sent"),
    ("follow-up", "Followed up"),
    ("escalated", "Escalated to a supervisor or written inquiry"),
    ("acknowledged", "Payer confirmed it is reviewing"),
    ("counter-sent", "Our counter-proposal sent"),
    ("note", "A note for the record"),
    ("withdrawn", "Dropped the case"),
    ("walked-away", "Left the panel"),
];
pub const PAYER_RESULTS: &[(&str, &str)] =
    &[("accepted", "Rates agreed"), ("countered", "They offered other rates"), ("denied", "They said no")];
pub const DRAFT_KINDS: &[(&str, &str)] = &[
    ("call", "Phone script for the initial request"),
    ("request", "Formal rate increase email"),
    ("followup", "Two-week follow-up email"),
    ("rejection", "Answering a denial or low offer"),
    ("counter", "Reply to a counter-offer"),
    ("exit-notice", "Client notice when leaving a panel"),
    ("contract-questions", "What to ask before signing"),
    ("underpayment", "Recover lines paid below your contract"),
];
pub const CASE_FILE_KINDS: &[(&str, &str)] =
    &[("credential", "A license or degree (LCSW, PsyD)"), ("specialty", "A specialty or method (EMDR, DBT)")];
pub const CASE_FILE_ITEMS: &[(&str, &str)] = &[
    ("utilization", "A payer's utilization figures"),
    ("outcome", "An outcome measure"),
    ("credential", "A credential or specialty"),
];
pub const ADD_ON_CHOICES: &[(&str, &str)] =
    &[("exclude", "Leave add-on codes out of a dollar raise"), ("include", "Raise add-on codes too")];
pub const SETTINGS: &[(&str, &str)] =
    &[("non-facility", "Office or telehealth at home"), ("facility", "Facility (hospital, SNF)")];

const PAYER_DETAILS: &[OptionSpec] = &[
    opt("kind", "What kind of payer", OptionKind::Choice(PAYER_KINDS)),
    opt("status", "Where you stand with this payer", OptionKind::Choice(PAYER_STATUSES)),
    opt("effective", "Contract effective date (YYYY-MM-DD)", OptionKind::Date),
    opt("renewal", "Contract anniversary / renewal date (YYYY-MM-DD)", OptionKind::Date),
    opt("notice_days", "Days before renewal the window opens (default 90)", OptionKind::Integer),
    opt("contact_name", "Provider contracting contact", OptionKind::Text),
    opt("contact_email", "Contact email", OptionKind::Text),
    opt("contact_phone", "Contact phone", OptionKind::Text),
    opt("provider_id", "Your provider id with this payer", OptionKind::Text),
    opt("notes", "Free notes (no patient information)", OptionKind::Text),
    opt("volume", "Weekly sessions per code, e.g. \"90837=12 90834=6\"", OptionKind::Text),
];

macro_rules! payer_options {
    ($first:expr) => {{
        const OPTS: &[OptionSpec] = &{
            let mut all = [$first; 12];
            let mut i = 0;
            while i < PAYER_DETAILS.len() {
                all[i + 1] = PAYER_DETAILS[i];
                i += 1;
            }
            all
        };
        OPTS
    }};
}

pub const CATALOG: &[CommandSpec] = &[
    CommandSpec {
        name: "setup",
        description: "Set up the practice: name, Medicare locality, credential, time zone, channel",
        mutates: true,
        options: &[
            opt(
                "locality",
                "Medicare locality: a ZIP, \"Cook County, IL\", \"MANHATTAN, NY\" or 13202-01",
                OptionKind::Locality,
            ),
            opt("credential", "Default rendering credential", OptionKind::Choice(CREDENTIALS)),
            opt("name", "Practice name as it appears on letters", OptionKind::Text),
            opt("timezone", "IANA time zone, e.g. America/New_York", OptionKind::Text),
            opt("channel", "Channel for reminders", OptionKind::Channel),
            opt("manager_role", "Role allowed to change data (besides Manage Server)", OptionKind::Role),
            opt("npi", "Group NPI for letters", OptionKind::Text),
            opt("tax_id", "Group tax id (TIN) for letters", OptionKind::Text),
            opt("setting", "Place of service to compare against", OptionKind::Choice(SETTINGS)),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "payer",
        description: "Add, edit, list or remove the payers you bill",
        mutates: true,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "add",
                description: "Add a payer",
                mutates: true,
                options: payer_options!(req("name", "Payer name, e.g. Cigna", OptionKind::Text)),
            },
            SubcommandSpec {
                name: "edit",
                description: "Change a payer's details",
                mutates: true,
                options: &{
                    let mut all = [req("name", "Payer to change", OptionKind::Payer); 13];
                    all[1] = opt("rename", "New name", OptionKind::Text);
                    let mut i = 0;
                    while i < PAYER_DETAILS.len() {
                        all[i + 2] = PAYER_DETAILS[i];
                        i += 1;
                    }
                    all
                },
            },
            SubcommandSpec { name: "list", description: "List your payers", mutates: false, options: &[] },
            SubcommandSpec {
                name: "remove",
                description: "Remove a payer and its rates",
                mutates: true,
                options: &[req("name", "Payer to remove", OptionKind::Payer)],
            },
        ],
    },
    CommandSpec {
        name: "rate",
        description: "Record a contracted rate or see its history",
        mutates: true,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "set",
                description: "Record the contracted rate for a code",
                mutates: true,
                options: &[
                    req("payer", "Payer", OptionKind::Payer),
                    req("cpt", "CPT code, e.g. 90837", OptionKind::Cpt),
                    req("amount", "Contracted rate in dollars, e.g. 118.50", OptionKind::Money),
                    opt("effective", "Date the rate took effect (default today)", OptionKind::Date),
                ],
            },
            SubcommandSpec {
                name: "history",
                description: "Every rate recorded for a payer",
                mutates: false,
                options: &[req("payer", "Payer", OptionKind::Payer), opt("cpt", "Only this code", OptionKind::Cpt)],
            },
        ],
    },
    CommandSpec {
        name: "rates",
        description: "Compare a payer's rates with Medicare, your other payers and the market",
        mutates: false,
        options: &[
            opt("payer", "Payer to examine (leave out to rank all payers)", OptionKind::Payer),
            opt("credential", "Compare as this credential (default: the practice's)", OptionKind::Choice(CREDENTIALS)),
            opt("year", "Medicare year (default: latest final)", OptionKind::Integer),
            opt(
                "target",
                "Ask for this percentile of the payer's own published rates: p50, p75, p90",
                OptionKind::Text,
            ),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "market",
        description: "A payer's own published in-network rates for your state, per code and credential",
        mutates: false,
        options: &[
            req("payer", "Payer whose published rates to show", OptionKind::Payer),
            opt("cpt", "Only this code", OptionKind::Cpt),
            opt(
                "credential",
                "Only this credential bucket",
                OptionKind::Choice(crate::handlers::market::CREDENTIAL_CHOICES),
            ),
            opt("state", "Two-letter state (default: your Medicare locality's)", OptionKind::Text),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "impact",
        description: "Yearly revenue change of a raise at your volume",
        mutates: false,
        options: &[
            req("payer", "Payer", OptionKind::Payer),
            req("increase", "Raise per session: dollars (10 or $10) or percent (8%)", OptionKind::Text),
            opt(
                "add_ons",
                "Apply a dollar raise to add-on codes too (default: exclude)",
                OptionKind::Choice(ADD_ON_CHOICES),
            ),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "negotiate",
        description: "Track a negotiation with a payer: open it, log each step, record the answer",
        mutates: true,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "start",
                description: "Open a negotiation with a payer, with the ask per code",
                mutates: true,
                options: &[
                    req("payer", "Payer", OptionKind::Payer),
                    opt(
                        "ask",
                        "Ask per code \"90837=140 90834=105\" or one raise \"12%\" (default: suggested)",
                        OptionKind::Text,
                    ),
                    opt("date", "Date the case opened, YYYY-MM-DD (default today)", OptionKind::Date),
                    opt("note", "A note for the log (no client information)", OptionKind::Text),
                ],
            },
            SubcommandSpec {
                name: "log",
                description: "Record a step: a call, the written request, a follow-up, ...",
                mutates: true,
                options: &[
                    req("payer", "Payer", OptionKind::Payer),
                    req("event", "What happened", OptionKind::Choice(LOG_EVENTS)),
                    opt("note", "Who you spoke with, what was said (no client information)", OptionKind::Text),
                    opt("date", "Date it happened, YYYY-MM-DD (default today)", OptionKind::Date),
                ],
            },
            SubcommandSpec {
                name: "outcome",
                description:
                    "Record the payer's answer; agreed rates go into the rate history, offers stay on the case",
                mutates: true,
                options: &[
                    req("payer", "Payer", OptionKind::Payer),
                    req("result", "The payer's answer", OptionKind::Choice(PAYER_RESULTS)),
                    opt(
                        "rates",
                        "New rates \"90837=130 90834=98\" or \"6%\" (accepted: default is the ask)",
                        OptionKind::Text,
                    ),
                    opt("effective", "Date the new rates take effect (default: the answer's date)", OptionKind::Date),
                    opt(
                        "review",
                        "Review agreed with the rates: a date or months, e.g. 6m (accepted only)",
                        OptionKind::Text,
                    ),
                    opt("date", "Date of the answer, YYYY-MM-DD (default today)", OptionKind::Date),
                    opt("note", "What they said (no client information)", OptionKind::Text),
                ],
            },
            SubcommandSpec {
                name: "status",
                description: "Open negotiations with what is due, or one case with its log",
                mutates: false,
                options: &[opt("payer", "One payer's case in detail", OptionKind::Payer)],
            },
        ],
    },
    CommandSpec {
        name: "draft",
        description: "Draft a letter, email or call script for a payer from your own numbers",
        mutates: false,
        options: &[
            req("kind", "What to draft", OptionKind::Choice(DRAFT_KINDS)),
            req("payer", "Payer", OptionKind::Payer),
            opt("signer", "Name and title to sign with", OptionKind::Text),
            opt("note", "A paragraph to add, kept exactly as typed", OptionKind::Text),
            opt("date", "exit-notice: last day in network, YYYY-MM-DD", OptionKind::Date),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "practice",
        description: "Your case file: utilization, outcome measures, credentials and specialties",
        mutates: true,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "utilization",
                description: "Claims and payment figures with one payer over a period",
                mutates: true,
                options: &[
                    req("payer", "Payer", OptionKind::Payer),
                    req("from", "Start of the period, YYYY-MM-DD", OptionKind::Date),
                    req("to", "End of the period, YYYY-MM-DD", OptionKind::Date),
                    req("claims", "Claims submitted in the period", OptionKind::Integer),
                    req("patients", "Unique patients (a count only)", OptionKind::Integer),
                    opt("clean_claims", "Share paid without rejection, e.g. 96.5%", OptionKind::Text),
                    opt("no_shows", "No-show and late-cancellation rate, e.g. 6%", OptionKind::Text),
                    opt("days_to_pay", "Average days from claim to payment", OptionKind::Integer),
                ],
            },
            SubcommandSpec {
                name: "outcome",
                description: "An outcome measure across your clients, e.g. PHQ-9 or GAD-7 change",
                mutates: true,
                options: &[
                    req("measure", "Measure, e.g. PHQ-9", OptionKind::Text),
                    req("clients", "Clients measured at least twice", OptionKind::Integer),
                    opt("improved", "Share with meaningful improvement, e.g. 62%", OptionKind::Text),
                    opt("change", "Average change in score, e.g. -5.8", OptionKind::Text),
                    opt("from", "Start of the period, YYYY-MM-DD", OptionKind::Date),
                    opt("to", "End of the period, YYYY-MM-DD", OptionKind::Date),
                ],
            },
            SubcommandSpec {
                name: "credential",
                description: "A credential or specialty your clinicians hold (EMDR, DBT, LCSW...)",
                mutates: true,
                options: &[
                    req("name", "Name, e.g. EMDR", OptionKind::Text),
                    opt("kind", "Credential or specialty (default specialty)", OptionKind::Choice(CASE_FILE_KINDS)),
                    opt("clinicians", "How many of your clinicians hold it", OptionKind::Integer),
                    opt("note", "A short note, e.g. certified 2024", OptionKind::Text),
                    opt("date", "When it was earned, YYYY-MM-DD: opens a window to ask payers", OptionKind::Date),
                ],
            },
            SubcommandSpec {
                name: "remove",
                description: "Remove an entry from the case file",
                mutates: true,
                options: &[
                    req("what", "Kind of entry", OptionKind::Choice(CASE_FILE_ITEMS)),
                    req("name", "The payer, measure or credential name", OptionKind::Text),
                ],
            },
            SubcommandSpec {
                name: "show",
                description: "The case file drafts draw on",
                mutates: false,
                options: &[opt("payer", "Only this payer's utilization", OptionKind::Payer)],
            },
        ],
    },
    CommandSpec {
        name: "followups",
        description: "Reminders coming up, overdue or not posted; snooze, mark done or stop them",
        mutates: false,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "list",
                description: "Upcoming and overdue reminders, and any that could not be posted",
                mutates: false,
                options: &[],
            },
            SubcommandSpec {
                name: "snooze",
                description: "Post a reminder later (a posted one comes back as a new message)",
                mutates: true,
                options: &[
                    req("id", "Reminder number, as /followups list shows it", OptionKind::Integer),
                    opt("days", "Days from today (default 7, at most 90)", OptionKind::Integer),
                ],
            },
            SubcommandSpec {
                name: "done",
                description: "Mark a reminder handled so it is not posted",
                mutates: true,
                options: &[req("id", "Reminder number, as /followups list shows it", OptionKind::Integer)],
            },
            SubcommandSpec {
                name: "cancel",
                description: "Stop reminding about this case, payer or Medicare year",
                mutates: true,
                options: &[req("id", "Reminder number, as /followups list shows it", OptionKind::Integer)],
            },
        ],
    },
    CommandSpec {
        name: "walkaway",
        description: "Red-flag scorecard: is this panel worth keeping?",
        mutates: false,
        options: &[req("payer", "Payer", OptionKind::Payer)],
        subcommands: &[],
    },
    CommandSpec {
        name: "import",
        description: "Import data exported from another system (attach the file)",
        mutates: true,
        options: &[],
        subcommands: &[
            SubcommandSpec {
                name: "claims",
                description: "Claims from your EHR's CSV export: utilization per payer, no client identifiers kept",
                mutates: true,
                options: &[
                    req("file", "The CSV export (Slack: the file's link)", OptionKind::Attachment),
                    opt(
                        "map",
                        "Columns the import does not recognise: \"Svc Dt=date_of_service; Plan=payer\"",
                        OptionKind::Text,
                    ),
                ],
            },
            SubcommandSpec {
                name: "era",
                description: "Remittances (X12 835 files, or a zip of them): what payers paid, underpayments, denials",
                mutates: true,
                options: &[
                    req(
                        "file",
                        "An 835 file (.835, .txt, .edi) or a .zip of them (Slack: the file's link)",
                        OptionKind::Attachment,
                    ),
                    opt("file2", "Another 835 or zip", OptionKind::Attachment),
                    opt("file3", "Another 835 or zip", OptionKind::Attachment),
                    opt("file4", "Another 835 or zip", OptionKind::Attachment),
                    opt("file5", "Another 835 or zip", OptionKind::Attachment),
                ],
            },
        ],
    },
    CommandSpec {
        name: "report",
        description: "Utilization case file from your imported claims, with a chart and a CSV",
        mutates: false,
        options: &[
            req("payer", "Payer", OptionKind::Payer),
            opt("months", "Months back from today (default 12, up to 36)", OptionKind::Integer),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "alternatives",
        description: "When a raise is not coming: a group or IPA, specialty designations, 90837, out of network",
        mutates: false,
        options: &[
            req("payer", "Payer", OptionKind::Payer),
            opt("fee", "Your full fee per session, for the out-of-network figures", OptionKind::Money),
            opt("oon_share", "Percent of the fee collected out of network (default 60)", OptionKind::Integer),
            opt("stay", "Percent of this payer's sessions that stay out of network (default 100)", OptionKind::Integer),
            opt("shift", "Percent of 90834 sessions moved to 90837 (default 25)", OptionKind::Integer),
            opt("minutes_90834", "Minutes of a 90834 session, 38-52 (default 45)", OptionKind::Integer),
            opt("minutes_90837", "Minutes of a 90837 session, 53 or more (default 60)", OptionKind::Integer),
            opt("uplift", "Percent a specialty designation adds to the rate (default 10)", OptionKind::Integer),
            opt("small", "Clinicians at or below which a practice is small (default 5)", OptionKind::Integer),
            opt("weeks", "Working weeks a year (default the practice's)", OptionKind::Integer),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "strategy",
        description: "What works with this kind of payer, and what your case file still needs",
        mutates: false,
        options: &[req("payer", "Payer", OptionKind::Payer)],
        subcommands: &[],
    },
    CommandSpec {
        name: "timing",
        description: "Openings to negotiate coming up: renewal windows, reviews, a new Medicare year",
        mutates: false,
        options: &[opt("days", "How far ahead to look (default 120)", OptionKind::Integer)],
        subcommands: &[],
    },
    CommandSpec {
        name: "underpayments",
        description: "Remittance lines allowed below the contracted rate in force on the date of service",
        mutates: false,
        options: &[
            opt("payer", "Only this payer (leave out for all)", OptionKind::Payer),
            opt("months", "How many months back from today (default 12)", OptionKind::Integer),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "denials",
        description: "Denial rate and the costliest adjustment reasons from your remittances",
        mutates: false,
        options: &[
            opt("payer", "Only this payer (leave out for all)", OptionKind::Payer),
            opt("months", "How many months back from today (default 12)", OptionKind::Integer),
        ],
        subcommands: &[],
    },
    CommandSpec {
        name: "help",
        description: "What raterise can do",
        mutates: false,
        options: &[opt("command", "Show one command in detail", OptionKind::Text)],
        subcommands: &[],
    },
];

pub fn command(name: &str) -> Option<&'static CommandSpec> {
    let name = name.trim_start_matches('/');
    CATALOG.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The options a command line may carry, in catalogue order.
pub fn options_of(command: &CommandSpec, sub: Option<&SubcommandSpec>) -> &'static [OptionSpec] {
    match sub {
        Some(s) => s.options,
        None => command.options,
    }
}

/// Values of the fixed choices come from the domain enums; check they agree.
pub fn choice_values(choices: &[(&'static str, &'static str)]) -> Vec<&'static str> {
    choices.iter().map(|(v, _)| *v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Credential, PayerKind, PayerStatus};

    #[test]
    fn choices_match_the_domain_types() {
        for (v, _) in PAYER_KINDS {
            assert!(v.parse::<PayerKind>().is_ok(), "{v}");
        }
        for (v, _) in PAYER_STATUSES {
            assert!(v.parse::<PayerStatus>().is_ok(), "{v}");
        }
        for (v, _) in CREDENTIALS {
            assert!(v.parse::<Credential>().is_ok(), "{v}");
        }
        assert_eq!(PAYER_KINDS.len(), PayerKind::ALL.len());
        assert_eq!(CREDENTIALS.len(), Credential::ALL.len());
    }

    #[test]
    fn negotiation_choices_match_the_domain_types() {
        use crate::domain::stage::EventKind;
        use crate::drafts::DraftKind;
        for (v, _) in LOG_EVENTS {
            let e = v.parse::<EventKind>().unwrap();
            assert!(!e.is_outcome() && e != EventKind::Opened, "{v}");
        }
        let loggable = EventKind::ALL.iter().filter(|e| !e.is_outcome() && **e != EventKind::Opened).count();
        assert_eq!(LOG_EVENTS.len(), loggable);
        for (v, _) in PAYER_RESULTS {
            assert!(v.parse::<crate::handlers::negotiate::PayerResult>().is_ok(), "{v}");
        }
        for (v, _) in DRAFT_KINDS {
            assert_eq!(v.parse::<DraftKind>().unwrap().key(), *v);
        }
        assert_eq!(DRAFT_KINDS.len(), DraftKind::ALL.len());
        for (v, _) in CASE_FILE_KINDS {
            assert!(v.parse::<crate::store::case_file::CredentialKind>().is_ok(), "{v}");
        }
    }

    #[test]
    fn names_follow_chat_platform_rules() {
        // Discord: 1-32 chars of lowercase letters, digits, - and _; descriptions 1-100 chars.
        let ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 32
                && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        };
        for c in CATALOG {
            assert!(ok(c.name), "{}", c.name);
            assert!((1..=100).contains(&c.description.len()), "{}", c.name);
            let mut all = vec![c.options];
            for s in c.subcommands {
                assert!(ok(s.name), "{}", s.name);
                assert!((1..=100).contains(&s.description.len()), "{}", s.name);
                all.push(s.options);
            }
            for opts in all {
                assert!(opts.len() <= 25);
                let mut seen_optional = false;
                for o in opts {
                    assert!(ok(o.name), "{}", o.name);
                    assert!((1..=100).contains(&o.description.len()), "{}: {}", o.name, o.description);
                    // Discord requires required options first.
                    assert!(!(o.required && seen_optional), "{} {}", c.name, o.name);
                    seen_optional |= !o.required;
                }
            }
        }
    }

    #[test]
    fn payer_add_lists_name_first_then_the_details() {
        let add = command("payer").unwrap().subcommand("add").unwrap();
        assert_eq!(add.options[0].name, "name");
        assert_eq!(add.options.len(), 12);
        assert_eq!(add.options[11].name, "volume");
        let edit = command("payer").unwrap().subcommand("edit").unwrap();
        assert_eq!(edit.options[1].name, "rename");
        assert_eq!(edit.options[12].name, "volume");
    }
}
