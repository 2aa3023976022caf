//! The one exit-code rule of both binaries: 0 done, 1 failed (trying again may
//! help), 2 refused (nothing will change until the employee acts: bad input, a
//! full or read-only disk, a damaged database). The systemd unit does not
//! restart the agent on 2.

use std::error::Error;

use crate::store::StoreError;

/// An error that means "refused": exit code [`REFUSED`]. The message says what
/// to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Failed: trying again may help.
pub const FAILED: u8 = 1;
/// Refused: the employee must act first.
pub const REFUSED: u8 = 2;

/// The exit code for an error, given its chain of causes (outermost first).
pub fn code<'a>(causes: impl IntoIterator<Item = &'a (dyn Error + 'static)>) -> u8 {
    let must_act = causes.into_iter().any(|cause| {
        cause.is::<Refused>()
            || cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_permanent)
    });
    if must_act {
        REFUSED
    } else {
        FAILED
    }
}

/// The one line an error is told in: its causes (outermost first) joined by
/// ": ", leaving out a cause the line already says (a typed error that names
/// its source in its own message), with line breaks made spaces.
pub fn one_line<'a>(causes: impl IntoIterator<Item = &'a (dyn Error + 'static)>) -> String {
    let mut line = String::new();
    for cause in causes {
        let text = cause.to_string().replace(['\n', '\r'], " ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Box<dyn Error + 'static>);

    fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
        let mut next = Some(e);
        std::iter::from_fn(move || {
            let cur = next?;
            next = cur.source();
            Some(cur)
        })
    }

    #[test]
    fn refused_and_permanent_store_errors_are_2_anywhere_in_the_chain() {
        let refused = Outer(Box::new(Refused("fix it".into())));
        assert_eq!(code(chain(&refused)), REFUSED);
        let full = Outer(Box::new(StoreError::DiskFull { path: "/x".into() }));
        assert_eq!(code(chain(&full)), REFUSED);
        let io = StoreError::Io {
            path: "/x".into(),
            source: std::io::Error::other("flaky"),
        };
        assert_eq!(code(chain(&io)), FAILED);
    }

    #[test]
    fn one_line_says_each_cause_once() {
        let io = StoreError::Io {
            path: "/d/dwell.db".into(),
            source: std::io::Error::other("Is a directory"),
        };
        assert_eq!(one_line(chain(&io)), "/d/dwell.db: Is a directory");
        let outer = Outer(Box::new(Refused("fix\nit".into())));
        assert_eq!(one_line(chain(&outer)), "outer: fix it");
    }
}
