//! The reference's SIM status and provider tables, as data.
//!
//! Names are matched case-insensitively with hyphens, underscores and spaces treated alike, so
//! `test-ready`, `Test Ready` and `test_ready` are the same status. What a status *means* for a
//! plan (terminal, held, converging) is the plan's interpretation and lives there, not here.

/// `(id, name)` for every SIM status in the reference's "List of possible SIM status".
pub const STATUSES: &[(i32, &str)] = &[
    (1, "No Status"),
    (2, "Activated"),
    (3, "Issued"),
    (4, "Deleted"),
    (5, "Deactivated"),
    (6, "Test Ready"),
    (7, "Retired"),
    (8, "Activation ready"),
    (9, "Inventory"),
    (10, "Replaced"),
    (11, "Activation Pendant"),
    (12, "Suspended"),
    (13, "Waiting for Activation"),
    (14, "Waiting for Deactivation"),
    (15, "Test Usage Exhausted"),
    (16, "Data Usage Exhausted"),
    (17, "Waiting for Activation Ready"),
    (18, "SMS Limit exceeded"),
    (19, "Voice Limit exceeded"),
    (20, "IMEI unauthorized"),
];

/// `(id, name)` for every product in the reference's "List of provider ids".
pub const PROVIDERS: &[(i32, &str)] = &[
    (1, "connect+"),
    (2, "tech+ pro"),
    (3, "tech+"),
    (4, "data+"),
    (5, "link+"),
];

/// Statuses a spec may set: activated, deactivated, suspended, test-ready,
/// activation-ready, retired.
pub const SETTABLE_STATUSES: &[i32] = &[2, 5, 12, 6, 8, 7];

fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '-' | '_' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn lookup(table: &[(i32, &str)], name: &str) -> Option<i32> {
    let wanted = normalise(name);
    table
        .iter()
        .find(|(_, n)| normalise(n) == wanted)
        .map(|(id, _)| *id)
}

/// The status id for a name such as `activated` or `test-ready`.
pub fn status_id(name: &str) -> Option<i32> {
    lookup(STATUSES, name)
}

/// The provider id for a name such as `link+` or `tech+ pro`.
pub fn provider_id(name: &str) -> Option<i32> {
    lookup(PROVIDERS, name)
}

/// The reference's name of a status id, e.g. `Activated` for 2.
pub fn status_name(id: i32) -> Option<&'static str> {
    STATUSES.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// The reference's name of a provider id, e.g. `link+` for 5.
pub fn provider_name(id: i32) -> Option<&'static str> {
    PROVIDERS.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

/// A status as `Name (id)`, or `unknown (id)`, for messages.
pub fn status_label(id: i32) -> String {
    match status_name(id) {
        Some(n) => format!("{n} ({id})"),
        None => format!("unknown ({id})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_loosely() {
        assert_eq!(status_id("test-ready"), Some(6));
        assert_eq!(status_id("Test Ready"), Some(6));
        assert_eq!(status_id("ACTIVATION_READY"), Some(8));
        assert_eq!(status_id("activated"), Some(2));
        assert_eq!(status_id("activate"), None);
        assert_eq!(provider_id("Link+"), Some(5));
        assert_eq!(provider_id("tech+-pro"), Some(2));
        assert_eq!(provider_id("tech+"), Some(3));
        assert_eq!(status_label(20), "IMEI unauthorized (20)");
        assert_eq!(status_label(99), "unknown (99)");
    }
}
