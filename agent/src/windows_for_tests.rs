//! The windows the agent's unit tests put in focus (run loop, reminders): a
//! Chromium window with a title, and a code editor that is never social.

use dwell_core::WindowInfo;

/// A Chromium window titled `title`, fullscreen or not.
pub(crate) fn chromium(title: &str, fullscreen: bool) -> Option<WindowInfo> {
    Some(WindowInfo {
        class: "Chromium".into(),
        instance: "chromium".into(),
        title: title.into(),
        process: None,
        fullscreen,
    })
}

/// A code editor: work, whatever the rules.
pub(crate) fn editor() -> Option<WindowInfo> {
    Some(WindowInfo {
        class: "Code".into(),
        instance: "code".into(),
        title: "main.rs".into(),
        process: None,
        fullscreen: false,
    })
}
