//! The command-line parser (console lines, Slack's text, button custom ids): never panics, and a
//! value written by the quoting writer reads back as exactly that value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raterise_commands::command_line;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = command_line::parse(text) {
        // What was read writes back to a line that reads the same.
        let again = command_line::write(parsed.command.name, parsed.subcommand.as_deref(), &parsed.options);
        if let Ok(reparsed) = command_line::parse(&again) {
            assert_eq!(reparsed.options, parsed.options, "{again}");
        }
    }
    // Any value survives quoting inside a real command.
    let line = command_line::write("payer", Some("remove"), &[("name", text)]);
    if let Ok(parsed) = command_line::parse(&line) {
        let name = parsed.options.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str());
        if !text.trim().is_empty() && !text.contains(['\r', '\n']) {
            assert_eq!(name.map(str::trim), Some(text.trim()), "{line}");
        }
    }
});
