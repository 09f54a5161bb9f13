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
            opt("locality", "Medicare locality, e.g. \"MANHATTAN, NY\", 13202-01 or NY 01", OptionKind::Locality),
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
    fn names_follow_chat_platform_rules() {
        // Discord: 1-32 chars of lowercase letters, digits, - and _; descriptions 1-100 chars.
        let ok = |n: &str| !n.is_empty() && n.len() <= 32 && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
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
