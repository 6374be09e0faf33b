//! The shipped templates, the files of this crate's `templates/` folder, embedded so that a binary
//! works without the folder. A leading `templates/` in a name (Tyk's
//! `templates/default_webhook.json`) is accepted.

/// The names of the shipped templates.
pub const SHIPPED: [&str; 6] = [
    "default_webhook.json",
    "breaker_webhook.json",
    "slack.json",
    "teams.json",
    "discord.json",
    "pagerduty.json",
];

/// The source of the shipped template `name` (with or without a leading `templates/`).
pub fn shipped_source(name: &str) -> Option<&'static str> {
    let name = name.strip_prefix("templates/").unwrap_or(name);
    Some(match name {
        "default_webhook.json" => include_str!("../templates/default_webhook.json"),
        "breaker_webhook.json" => include_str!("../templates/breaker_webhook.json"),
        "slack.json" => include_str!("../templates/slack.json"),
        "teams.json" => include_str!("../templates/teams.json"),
        "discord.json" => include_str!("../templates/discord.json"),
        "pagerduty.json" => include_str!("../templates/pagerduty.json"),
        _ => return None,
    })
}
