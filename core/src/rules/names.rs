//! Names as dwell accepts and compares them: a site label (stored and printed
//! in reports), a host name from the browser extension, and a window's class,
//! instance or process name against an app name.

use crate::model::WindowInfo;

/// The longest site label, in characters (a user rule's `site`).
pub const MAX_LABEL: usize = 100;

/// Why `label` cannot be a site label (it is stored and printed in reports):
/// a control character (an escape sequence could act on the terminal), or
/// more than [`MAX_LABEL`] characters. The message shows the label escaped
/// and shortened.
pub fn check_label(label: &str) -> Result<(), String> {
    let shown = || {
        let mut short: String = label.chars().take(40).collect();
        if short.len() < label.len() {
            short.push('…');
        }
        crate::text::for_terminal(&short)
    };
    let n = label.chars().count();
    if n > MAX_LABEL {
        return Err(format!(
            "site label \"{}\" has {n} characters: keep it to {MAX_LABEL}",
            shown()
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(format!(
            "site label \"{}\" has a control character (an escape sequence, tab or bell): write plain text",
            shown()
        ));
    }
    Ok(())
}

/// The longest host name, in bytes (RFC 1035).
pub const MAX_HOST: usize = 253;
/// The longest label of a host name, in bytes.
pub const MAX_HOST_LABEL: usize = 63;

/// Why a string is not a host name as dwell accepts one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {MAX_HOST} bytes")]
    TooLong,
    #[error("a label is empty or longer than {MAX_HOST_LABEL} bytes")]
    BadLabel,
    #[error("a label starts or ends with `-`")]
    Hyphen,
    #[error("only lower-case a-z, 0-9, `-` and `.` are allowed (write an international name in its `xn--` form)")]
    BadChar,
}

/// Checks that `host` is a bare host name: lower-case ASCII letters, digits and
/// hyphens in dot-separated labels of 1 to 63 bytes, at most 253 bytes in all,
/// no label starting or ending with a hyphen. International names are in their
/// IDNA (punycode, `xn--…`) form, as browsers report them. Anything with a
/// scheme, a port, a path, user info or a trailing dot is refused.
pub fn valid_host(host: &str) -> Result<(), HostError> {
    if host.is_empty() {
        return Err(HostError::Empty);
    }
    if host.len() > MAX_HOST {
        return Err(HostError::TooLong);
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > MAX_HOST_LABEL {
            return Err(HostError::BadLabel);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(HostError::BadChar);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostError::Hyphen);
        }
    }
    Ok(())
}

/// Whether `host` is `domain` or one of its subdomains.
pub(super) fn host_under(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// `field` (from the window) equals `name` (lowercase), ignoring case.
fn name_is(field: &str, name: &str) -> bool {
    let field = field.trim();
    if field.is_ascii() {
        field.eq_ignore_ascii_case(name)
    } else {
        field.to_lowercase() == name
    }
}

/// Linux keeps 15 bytes of a process name; such a name also matches a longer
/// app name it is the start of.
const COMM_LEN: usize = 15;

fn process_is(process: &str, name: &str) -> bool {
    let process = process.trim();
    name_is(process, name)
        || (process.len() == COMM_LEN
            && name.len() > COMM_LEN
            && name
                .get(..COMM_LEN)
                .is_some_and(|p| p.eq_ignore_ascii_case(process)))
}

pub(super) fn app_matches(window: &WindowInfo, name: &str) -> bool {
    name_is(&window.class, name)
        || name_is(&window.instance, name)
        || window
            .process
            .as_deref()
            .is_some_and(|p| process_is(p, name))
}

pub(super) fn same_label(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}
