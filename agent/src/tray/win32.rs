//! The Win32 calls of the Windows tray, and nothing else: a hidden window and
//! its thread's message loop, the notification-area icon
//! (`Shell_NotifyIconW`), icons made from pixels (`CreateIcon`) and the popup
//! menu (`TrackPopupMenu`). Every `unsafe` of the tray is here, each with its
//! `// SAFETY:`; what to show and what a choice means is `tray::windows`'s,
//! in safe code.
//!
//! The window procedure only queues what it hears ([`Heard`]); [`run`] hands
//! the queue to the caller between messages, so the caller's handler is never
//! re-entered (the popup menu runs a loop of its own inside the handler).
//!
//! All of it is the thread's own: a [`Window`] and what is made from it stay
//! on the thread that made them (raw handles: not `Send`); other threads reach
//! it through a [`Waker`].

#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, POINT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::UI::Shell::{
    Shell_NotifyIconW, NIF_ICON, NIF_MESSAGE, NIF_SHOWTIP, NIF_TIP, NIM_ADD, NIM_DELETE,
    NIM_MODIFY, NIM_SETVERSION, NINF_KEY, NIN_SELECT, NOTIFYICONDATAW, NOTIFYICONDATAW_0,
    NOTIFYICON_VERSION_4,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    AppendMenuW, CreateIcon, CreatePopupMenu, CreateWindowExW, DefWindowProcW, DestroyIcon,
    DestroyMenu, DestroyWindow, DispatchMessageW, GetCursorPos, GetMessageW, GetSystemMetrics,
    PostMessageW, RegisterClassW, RegisterWindowMessageW, SetForegroundWindow, TrackPopupMenu,
    TranslateMessage, HICON, MF_GRAYED, MF_SEPARATOR, MF_STRING, MSG, SM_CXSMICON, TPM_NONOTIFY,
    TPM_RETURNCMD, TPM_RIGHTBUTTON, WM_APP, WM_CLOSE, WM_CONTEXTMENU, WM_LBUTTONUP, WM_NULL,
    WM_RBUTTONUP, WNDCLASSW,
};

/// The icon's callback message, and the waker's.
const WM_TRAY: u32 = WM_APP + 1;
const WM_WAKE: u32 = WM_APP + 2;
/// The keyboard's choice of the icon (windows-sys has no name for it).
const NIN_KEYSELECT: u32 = NIN_SELECT | NINF_KEY;
/// dwell's only icon.
const ICON_ID: u32 = 1;
const CLASS: &str = "dwell-tray";

/// What the window heard, for the caller of [`run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// The icon was clicked (either button) or chosen with the keyboard.
    Clicked,
    /// [`Waker::wake`]: there is something new to show.
    Woken,
    /// The taskbar was (re)created (Explorer restarted): add the icon again.
    TaskbarCreated,
    /// [`Waker::close`]: take the icon away and end the loop.
    Closing,
}

thread_local! {
    static HEARD: RefCell<VecDeque<Heard>> = const { RefCell::new(VecDeque::new()) };
    /// The icon speaks version 4 (`NIN_SELECT`, `WM_CONTEXTMENU`); else the
    /// mouse's own messages.
    static VERSION_4: Cell<bool> = const { Cell::new(false) };
    static TASKBAR_CREATED: Cell<u32> = const { Cell::new(0) };
}

/// NUL-terminated UTF-16.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

fn heard(h: Heard) {
    HEARD.with(|q| q.borrow_mut().push_back(h));
}

unsafe extern "system" fn window_proc(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
    match msg {
        WM_TRAY => {
            // Version 4: the event in the low word of lParam; before: the
            // mouse message itself.
            let event = (l as u32) & 0xffff;
            let click = if VERSION_4.get() {
                matches!(event, WM_CONTEXTMENU | NIN_SELECT | NIN_KEYSELECT)
            } else {
                matches!(event, WM_LBUTTONUP | WM_RBUTTONUP)
            };
            if click {
                heard(Heard::Clicked);
            }
            0
        }
        WM_WAKE => {
            heard(Heard::Woken);
            0
        }
        // Not destroyed here: the owner of the Window does that, after the icon.
        WM_CLOSE => {
            heard(Heard::Closing);
            0
        }
        m if m != 0 && m == TASKBAR_CREATED.get() => {
            heard(Heard::TaskbarCreated);
            0
        }
        // SAFETY: the arguments are those Windows gave this procedure.
        _ => unsafe { DefWindowProcW(hwnd, msg, w, l) },
    }
}

/// A hidden top-level window (a message-only one cannot take the foreground,
/// which the popup menu needs to close when the user clicks elsewhere).
pub struct Window {
    hwnd: HWND,
    alive: Arc<AtomicBool>,
}

impl Window {
    pub fn new() -> std::io::Result<Window> {
        let class = wide(CLASS);
        // SAFETY: a null name asks for this process's own module; no pointer kept.
        let instance = unsafe { GetModuleHandleW(std::ptr::null()) };
        let wc = WNDCLASSW {
            lpfnWndProc: Some(window_proc),
            hInstance: instance,
            lpszClassName: class.as_ptr(),
            ..Default::default()
        };
        // SAFETY: `wc` and the class name it points to live through the call;
        // Windows copies them. A second registration (a second tray in one
        // process: tests) fails harmlessly and the first class serves.
        unsafe { RegisterClassW(&wc) };
        let title = wide("dwell");
        // SAFETY: the class and title are NUL-terminated and outlive the call;
        // no parent, menu or creation data.
        let hwnd = unsafe {
            CreateWindowExW(
                0,
                class.as_ptr(),
                title.as_ptr(),
                0,
                0,
                0,
                0,
                0,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            )
        };
        if hwnd.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let name = wide("TaskbarCreated");
        // SAFETY: a NUL-terminated name that outlives the call.
        TASKBAR_CREATED.set(unsafe { RegisterWindowMessageW(name.as_ptr()) });
        Ok(Window {
            hwnd,
            alive: Arc::new(AtomicBool::new(true)),
        })
    }

    /// How other threads reach this window's loop.
    pub fn waker(&self) -> Waker {
        Waker {
            hwnd: self.hwnd as isize,
            alive: self.alive.clone(),
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::SeqCst);
        // SAFETY: our own window, destroyed once, on the thread that made it.
        unsafe { DestroyWindow(self.hwnd) };
    }
}

/// Posts to a [`Window`] from any thread; does nothing once it is gone.
#[derive(Clone, Debug)]
pub struct Waker {
    hwnd: isize,
    alive: Arc<AtomicBool>,
}

impl Waker {
    fn post(&self, msg: u32) -> bool {
        // SAFETY: PostMessageW may be called from any thread with any handle;
        // the window is checked alive first so a reused handle gets nothing
        // (a window that dies between the check and the call ignores it).
        self.alive.load(Ordering::SeqCst)
            && unsafe { PostMessageW(self.hwnd as HWND, msg, 0, 0) } != 0
    }

    /// Something new to show: the loop hears [`Heard::Woken`].
    pub fn wake(&self) -> bool {
        self.post(WM_WAKE)
    }

    /// The loop hears [`Heard::Closing`].
    pub fn close(&self) -> bool {
        self.post(WM_CLOSE)
    }
}

/// Runs the thread's message loop, handing each [`Heard`] to `handle` until it
/// returns `false` (or the thread's queue ends).
pub fn run(mut handle: impl FnMut(Heard) -> bool) {
    let mut msg = MSG::default();
    loop {
        // SAFETY: `msg` is ours to fill; a null window: all of this thread's messages.
        let got = unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) };
        if got == 0 || got == -1 {
            return;
        }
        // SAFETY: a message GetMessageW has just filled in.
        unsafe {
            TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
        while let Some(h) = HEARD.with(|q| q.borrow_mut().pop_front()) {
            if !handle(h) {
                return;
            }
        }
    }
}

/// The small icon's size in pixels (16 at 100 %).
pub fn small_icon_size() -> i32 {
    // SAFETY: no arguments but a constant.
    match unsafe { GetSystemMetrics(SM_CXSMICON) } {
        n if n > 0 => n,
        _ => 16,
    }
}

/// An icon made from pixels.
pub struct Icon(HICON);

impl Icon {
    /// A `size`×`size` icon from ARGB32 pixels in network byte order (as
    /// `tray::disc` draws them), with their alpha; `None` if Windows refuses.
    pub fn from_argb(size: i32, argb: &[u8]) -> Option<Icon> {
        let side = usize::try_from(size).ok()?;
        if argb.len() != side * side * 4 {
            return None;
        }
        // 32 bits a pixel, blue first, rows top down.
        let bgra: Vec<u8> = argb
            .as_chunks::<4>()
            .0
            .iter()
            .flat_map(|&[a, r, g, b]| [b, g, r, a])
            .collect();
        // The AND mask, one bit a pixel, rows padded to 16 bits: all clear
        // (the alpha channel decides what shows).
        let mask = vec![0u8; side.div_ceil(16) * 2 * side];
        // SAFETY: both buffers hold exactly the bytes CreateIcon reads for
        // this size (checked above) and outlive the call, which copies them.
        let icon = unsafe {
            CreateIcon(
                GetModuleHandleW(std::ptr::null()),
                size,
                size,
                1,
                32,
                mask.as_ptr(),
                bgra.as_ptr(),
            )
        };
        (!icon.is_null()).then_some(Icon(icon))
    }
}

impl Drop for Icon {
    fn drop(&mut self) {
        // SAFETY: an icon CreateIcon made, destroyed once.
        unsafe { DestroyIcon(self.0) };
    }
}

/// The tooltip as Windows holds it: at most 127 UTF-16 units and a NUL, cut
/// at a character's edge.
pub fn tip_units(text: &str) -> [u16; 128] {
    let mut tip = [0u16; 128];
    let mut n = 0;
    for c in text.chars() {
        let mut buf = [0u16; 2];
        let units = c.encode_utf16(&mut buf);
        if n + units.len() > 127 {
            break;
        }
        tip[n..n + units.len()].copy_from_slice(units);
        n += units.len();
    }
    tip
}

/// dwell's icon in the notification area, on `window`.
pub struct NotifyIcon<'w> {
    window: &'w Window,
}

impl<'w> NotifyIcon<'w> {
    pub fn new(window: &'w Window) -> NotifyIcon<'w> {
        NotifyIcon { window }
    }

    fn data(&self, icon: &Icon, tip: &str) -> NOTIFYICONDATAW {
        NOTIFYICONDATAW {
            cbSize: std::mem::size_of::<NOTIFYICONDATAW>() as u32,
            hWnd: self.window.hwnd,
            uID: ICON_ID,
            uFlags: NIF_MESSAGE | NIF_ICON | NIF_TIP | NIF_SHOWTIP,
            uCallbackMessage: WM_TRAY,
            hIcon: icon.0,
            szTip: tip_units(tip),
            ..Default::default()
        }
    }

    /// Adds the icon; `false` when the shell has no notification area (yet).
    pub fn add(&self, icon: &Icon, tip: &str) -> bool {
        let data = self.data(icon, tip);
        // SAFETY: `data` is a complete NOTIFYICONDATAW (cbSize set) that
        // outlives the call; the shell copies what it keeps.
        if unsafe { Shell_NotifyIconW(NIM_ADD, &data) } == 0 {
            return false;
        }
        let version = NOTIFYICONDATAW {
            Anonymous: NOTIFYICONDATAW_0 {
                uVersion: NOTIFYICON_VERSION_4,
            },
            ..data
        };
        // SAFETY: as above.
        VERSION_4.set(unsafe { Shell_NotifyIconW(NIM_SETVERSION, &version) } != 0);
        true
    }

    /// Shows `icon` and `tip`; `false` if the shell does not know the icon.
    pub fn modify(&self, icon: &Icon, tip: &str) -> bool {
        let data = self.data(icon, tip);
        // SAFETY: as in `add`.
        unsafe { Shell_NotifyIconW(NIM_MODIFY, &data) != 0 }
    }

    /// Takes the icon away; `false` if the shell did not have it.
    pub fn delete(&self) -> bool {
        let data = NOTIFYICONDATAW {
            cbSize: std::mem::size_of::<NOTIFYICONDATAW>() as u32,
            hWnd: self.window.hwnd,
            uID: ICON_ID,
            ..Default::default()
        };
        // SAFETY: as in `add`; only the window and id are read.
        unsafe { Shell_NotifyIconW(NIM_DELETE, &data) != 0 }
    }
}

/// One row of a popup menu.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// Command id (not 0), label, enabled.
    Entry(u16, &'a str, bool),
    Separator,
}

/// Shows `items` at the pointer and waits for a choice: the chosen entry's id,
/// `None` if the menu was dismissed (or could not be made).
pub fn popup(window: &Window, items: &[Item<'_>]) -> Option<u16> {
    // SAFETY: no arguments; the menu is destroyed below.
    let menu = unsafe { CreatePopupMenu() };
    if menu.is_null() {
        return None;
    }
    for item in items {
        let (flags, id, label) = match *item {
            Item::Entry(id, label, enabled) => {
                let flags = if enabled {
                    MF_STRING
                } else {
                    MF_STRING | MF_GRAYED
                };
                (flags, usize::from(id), wide(label))
            }
            Item::Separator => (MF_SEPARATOR, 0, wide("")),
        };
        // SAFETY: our menu; the label is NUL-terminated and outlives the call,
        // which copies it.
        unsafe { AppendMenuW(menu, flags, id, label.as_ptr()) };
    }
    let mut at = POINT { x: 0, y: 0 };
    // SAFETY: `at` is ours to fill.
    unsafe { GetCursorPos(&mut at) };
    // SAFETY: our menu and window, on the window's thread. The window takes
    // the foreground first so that a click elsewhere closes the menu, and gets
    // a null message after, as Windows asks of notification-area menus.
    let chosen = unsafe {
        SetForegroundWindow(window.hwnd);
        let chosen = TrackPopupMenu(
            menu,
            TPM_RETURNCMD | TPM_NONOTIFY | TPM_RIGHTBUTTON,
            at.x,
            at.y,
            0,
            window.hwnd,
            std::ptr::null(),
        );
        PostMessageW(window.hwnd, WM_NULL, 0, 0);
        DestroyMenu(menu);
        chosen
    };
    u16::try_from(chosen).ok().filter(|&id| id != 0)
}

/// The tray's window in this process, if there is one (tests).
#[cfg(test)]
pub fn tray_window() -> Option<isize> {
    use windows_sys::Win32::UI::WindowsAndMessaging::FindWindowW;
    let class = wide(CLASS);
    // SAFETY: a NUL-terminated class name that outlives the call; no title.
    let hwnd = unsafe { FindWindowW(class.as_ptr(), std::ptr::null()) };
    (!hwnd.is_null()).then_some(hwnd as isize)
}

/// Whether the shell holds dwell's icon on window `hwnd` now (tests): asked
/// as a change of nothing, which the shell accepts only for an icon it holds
/// (the window may be gone: the shell answers from its own list).
#[cfg(test)]
pub fn shell_has_icon(hwnd: isize) -> bool {
    let data = NOTIFYICONDATAW {
        cbSize: std::mem::size_of::<NOTIFYICONDATAW>() as u32,
        hWnd: hwnd as HWND,
        uID: ICON_ID,
        ..Default::default()
    };
    // SAFETY: as in `NotifyIcon::add`; no flags: nothing is changed.
    unsafe { Shell_NotifyIconW(NIM_MODIFY, &data) != 0 }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_tooltip_is_cut_to_what_windows_holds_at_a_characters_edge() {
        let tip = tip_units("Today: 12m of your 30m daily limit");
        let text: Vec<u16> = "Today: 12m of your 30m daily limit"
            .encode_utf16()
            .collect();
        assert_eq!(&tip[..text.len()], &text[..]);
        assert_eq!(tip[text.len()], 0);
        // 126 units, then a character of two: left out whole.
        let long = format!("{}\u{1F600}", "a".repeat(126));
        let tip = tip_units(&long);
        assert_eq!(tip[125], u16::from(b'a'));
        assert_eq!(tip[126], 0);
        assert_eq!(tip[127], 0);
    }
}
