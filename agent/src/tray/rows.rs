//! The tray menu's rows, for every platform: their order, labels and
//! separators, what choosing each sends, and when it is offered. The Linux
//! tray serves them as `com.canonical.dbusmenu` (`menu`), the Windows tray as
//! a popup menu (`windows`); a row's id is its place plus one in both.

use super::{TrayEvent, MENU};

/// One row of the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// A label from [`MENU`] and what choosing it sends.
    Entry(&'static str, TrayEvent),
    Separator,
}

/// What the menu's entries depend on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// Resume is offered.
    pub paused: bool,
    /// Snooze and Done for today are offered.
    pub reminder_actions: bool,
}

impl Flags {
    pub fn enabled(self, event: TrayEvent) -> bool {
        match event {
            TrayEvent::Resume => self.paused,
            TrayEvent::Snooze | TrayEvent::DoneForToday => self.reminder_actions,
            _ => true,
        }
    }
}

/// The rows in order; a row's id is its index plus one (the root is 0).
pub const ROWS: [Row; 11] = [
    Row::Entry(MENU[0], TrayEvent::PauseHour),
    Row::Entry(MENU[1], TrayEvent::PauseUntilTomorrow),
    Row::Entry(MENU[2], TrayEvent::Resume),
    Row::Separator,
    Row::Entry(MENU[3], TrayEvent::ReportToday),
    Row::Entry(MENU[4], TrayEvent::ReportWeek),
    Row::Separator,
    Row::Entry(MENU[5], TrayEvent::Settings),
    Row::Separator,
    Row::Entry(MENU[6], TrayEvent::Snooze),
    Row::Entry(MENU[7], TrayEvent::DoneForToday),
];

/// The row with id `id`.
pub fn row(id: i32) -> Option<Row> {
    usize::try_from(id)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| ROWS.get(i).copied())
}

/// The entry a click on `id` chooses, if it is an enabled entry.
pub fn click(id: i32, flags: Flags) -> Option<TrayEvent> {
    match row(id)? {
        Row::Entry(_, event) if !flags.enabled(event) => None,
        Row::Entry(_, event) => Some(event),
        Row::Separator => None,
    }
}
