//! The Win32 calls of the Windows watcher, its one module allowed `unsafe`
//! (the workspace denies it; each module that allows it is audited). Each API
//! is wrapped in a small safe function or type here, each `unsafe` block says why
//! it is sound, and the rest of the watcher ([`super`]) is safe code over these wrappers.
//!
//! What it offers: the foreground window and its title, process image and
//! whether it covers its monitor; the time of the last input; WinEvent hooks
//! (foreground changes for everyone, name changes for one process) and a hidden
//! window for session (lock), power (suspend) and end-of-session (log-off,
//! shut-down) messages, whose callbacks
//! become [`Notice`]s handed to the closure [`pump`] runs on this thread; and a
//! way for another thread to end that message loop ([`quit`]).
#![allow(unsafe_code)]

use std::cell::RefCell;

use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_CLASS_ALREADY_EXISTS, HANDLE, HWND, LPARAM, LRESULT, RECT,
    WPARAM,
};
use windows_sys::Win32::Graphics::Gdi::{
    GetMonitorInfoW, MonitorFromWindow, MONITORINFO, MONITOR_DEFAULTTONULL,
};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::RemoteDesktop::{
    WTSRegisterSessionNotification, WTSUnRegisterSessionNotification, NOTIFY_FOR_THIS_SESSION,
};
use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::System::Threading::{
    GetCurrentThreadId, OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32,
    PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::UI::Accessibility::{SetWinEventHook, UnhookWinEvent, HWINEVENTHOOK};
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{GetLastInputInfo, LASTINPUTINFO};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, GetClassNameW,
    GetForegroundWindow, GetMessageW, GetWindowRect, GetWindowTextW, GetWindowThreadProcessId,
    PostQuitMessage, PostThreadMessageW, RegisterClassExW, CHILDID_SELF, EVENT_OBJECT_NAMECHANGE,
    EVENT_SYSTEM_FOREGROUND, MSG, OBJID_WINDOW, WINEVENT_OUTOFCONTEXT, WM_ENDSESSION,
    WM_POWERBROADCAST, WM_QUERYENDSESSION, WM_QUIT, WM_WTSSESSION_CHANGE, WNDCLASSEXW,
    WS_OVERLAPPED,
};

/// A top-level window, by handle. Only compared and passed back to the
/// functions here: a handle of a window that has gone makes them fail, which
/// they report as "nothing".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window(isize);

impl Window {
    fn of(hwnd: HWND) -> Option<Window> {
        (!hwnd.is_null()).then_some(Window(hwnd as isize))
    }

    fn hwnd(self) -> HWND {
        self.0 as HWND
    }
}

/// What the system told the watcher's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notice {
    /// This window came to the foreground.
    Foreground(Window),
    /// The name (title) of this window changed, in the process hooked by
    /// [`NameHook`].
    NameChanged(Window),
    /// `WM_WTSSESSION_CHANGE` with this code (`WTS_SESSION_LOCK`…).
    Session(u32),
    /// `WM_POWERBROADCAST` with this code (`PBT_APMSUSPEND`…).
    Power(u32),
    /// `WM_ENDSESSION` with wParam TRUE: the session ends (log-off, shut-down,
    /// restart) or an installer closes dwell, with lParam's flags
    /// (`ENDSESSION_LOGOFF`…). The process may be ended as soon as the window
    /// procedure returns: the sink returns only once the agent has stopped.
    SessionEnding(u32),
}

/// The window with the keyboard focus's top-level window, if any.
pub(super) fn foreground() -> Option<Window> {
    // SAFETY: no arguments; returns a window handle or null.
    Window::of(unsafe { GetForegroundWindow() })
}

/// The longest title read, in UTF-16 units (longer ones are cut).
const TITLE_UNITS: usize = 4096;

/// The window's title ("" when it has none or has gone). For a window of
/// another process this reads the caption the system keeps: no message is
/// sent (`GetWindowTextLengthW` would send one), so a hung program cannot
/// block the watcher.
pub(super) fn title(w: Window) -> String {
    let mut buf = vec![0u16; TITLE_UNITS + 1];
    let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
    // SAFETY: `buf` holds `cap` u16s; the call writes at most `cap` of them,
    // the terminating zero included, and returns how many it wrote before it.
    let got = unsafe { GetWindowTextW(w.hwnd(), buf.as_mut_ptr(), cap) };
    buf.truncate(usize::try_from(got).unwrap_or(0));
    String::from_utf16_lossy(&buf)
}

/// The window's class name (`Progman`, `Chrome_WidgetWin_1`…), "" when gone.
pub(super) fn class_name(w: Window) -> String {
    let mut buf = [0u16; 256];
    // SAFETY: `buf` holds 256 u16s; the call writes at most that many, the
    // terminating zero included, and returns how many it wrote before it.
    let got = unsafe { GetClassNameW(w.hwnd(), buf.as_mut_ptr(), 256) };
    let got = usize::try_from(got).unwrap_or(0).min(buf.len());
    String::from_utf16_lossy(&buf[..got])
}

/// The id of the process that owns the window.
pub(super) fn process_id(w: Window) -> Option<u32> {
    let mut pid = 0u32;
    // SAFETY: `pid` is a live u32 the call writes to; a stale handle gives 0.
    let thread = unsafe { GetWindowThreadProcessId(w.hwnd(), &mut pid) };
    (thread != 0 && pid != 0).then_some(pid)
}

/// A process handle, closed when dropped.
struct Process(HANDLE);

impl Drop for Process {
    fn drop(&mut self) {
        // SAFETY: the handle came from OpenProcess and is closed once, here.
        unsafe { CloseHandle(self.0) };
    }
}

/// The full path of the program process `pid` runs
/// (`C:\Program Files\…\msedge.exe`), when this user may ask.
pub(super) fn image_path(pid: u32) -> Option<String> {
    // SAFETY: plain call; a null handle means refused or gone.
    let handle = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if handle.is_null() {
        return None;
    }
    let process = Process(handle);
    let mut buf = vec![0u16; 1024];
    let mut len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    // SAFETY: `buf` holds `len` u16s; the call writes at most that many and
    // sets `len` to the number written, without the terminating zero.
    let ok = unsafe {
        QueryFullProcessImageNameW(process.0, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len)
    };
    if ok == 0 {
        return None;
    }
    buf.truncate(usize::try_from(len).unwrap_or(0));
    Some(String::from_utf16_lossy(&buf))
}

/// A rectangle in screen pixels: left, top, right, bottom.
pub(super) type Rect = (i32, i32, i32, i32);

fn rect(r: RECT) -> Rect {
    (r.left, r.top, r.right, r.bottom)
}

/// The window's rectangle and its monitor's, when both can be told.
pub(super) fn window_and_monitor(w: Window) -> Option<(Rect, Rect)> {
    let mut win = RECT::default();
    // SAFETY: `win` is a live RECT the call fills; a stale handle gives 0.
    if unsafe { GetWindowRect(w.hwnd(), &mut win) } == 0 {
        return None;
    }
    // SAFETY: plain call; null when the window is on no monitor.
    let monitor = unsafe { MonitorFromWindow(w.hwnd(), MONITOR_DEFAULTTONULL) };
    if monitor.is_null() {
        return None;
    }
    let mut info = MONITORINFO {
        cbSize: u32::try_from(std::mem::size_of::<MONITORINFO>()).unwrap_or(0),
        ..MONITORINFO::default()
    };
    // SAFETY: `info` is a live MONITORINFO with its size set, as the call asks.
    if unsafe { GetMonitorInfoW(monitor, &mut info) } == 0 {
        return None;
    }
    Some((rect(win), rect(info.rcMonitor)))
}

/// The tick count (ms since boot, wrapping every 49.7 days) of the last
/// input in this session, then the tick count now, read in that order.
pub(super) fn input_ticks() -> Option<(u32, u32)> {
    let mut info = LASTINPUTINFO {
        cbSize: u32::try_from(std::mem::size_of::<LASTINPUTINFO>()).unwrap_or(0),
        dwTime: 0,
    };
    // SAFETY: `info` is a live LASTINPUTINFO with its size set, as the call asks.
    if unsafe { GetLastInputInfo(&mut info) } == 0 {
        return None;
    }
    // SAFETY: no arguments.
    let now = unsafe { GetTickCount() };
    Some((info.dwTime, now))
}

/// The calling thread's id, for [`quit`].
pub(super) fn thread_id() -> u32 {
    // SAFETY: no arguments.
    unsafe { GetCurrentThreadId() }
}

/// Ends the message loop of [`pump`] running on thread `thread`; `false` when
/// that thread has no message queue (it ended).
pub(super) fn quit(thread: u32) -> bool {
    // SAFETY: plain call; a thread without a queue makes it fail.
    unsafe { PostThreadMessageW(thread, WM_QUIT, 0, 0) != 0 }
}

type Sink = Box<dyn FnMut(Notice) -> bool>;
thread_local! {
    /// Where this thread's callbacks deliver: the closure [`pump`] runs.
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Hands `notice` to this thread's sink; ends the loop when it says so.
fn deliver(notice: Notice) {
    let go_on = SINK.with(|sink| match sink.try_borrow_mut() {
        Ok(mut sink) => sink.as_mut().is_none_or(|f| f(notice)),
        // Re-entered from inside the sink (it pumped messages): dropped.
        Err(_) => true,
    });
    if !go_on {
        // SAFETY: no arguments; posts WM_QUIT to this thread's queue.
        unsafe { PostQuitMessage(0) };
    }
}

/// The WinEvent callback (out of context: called by this thread's message
/// loop).
extern "system" fn on_win_event(
    _hook: HWINEVENTHOOK,
    event: u32,
    hwnd: HWND,
    object: i32,
    child: i32,
    _thread: u32,
    _time: u32,
) {
    let Some(window) = Window::of(hwnd) else {
        return;
    };
    // Only the window itself, not a control or caret inside it.
    let itself = object == OBJID_WINDOW && u32::try_from(child) == Ok(CHILDID_SELF);
    match event {
        EVENT_SYSTEM_FOREGROUND => deliver(Notice::Foreground(window)),
        EVENT_OBJECT_NAMECHANGE if itself => deliver(Notice::NameChanged(window)),
        _ => {}
    }
}

/// A WinEvent hook, removed when dropped.
pub(super) struct Hook(HWINEVENTHOOK);

impl Hook {
    fn install(event: u32, pid: u32) -> Option<Hook> {
        // SAFETY: the callback is a plain function that lives as long as the
        // program; out of context, it runs on this thread's message loop.
        let hook = unsafe {
            SetWinEventHook(
                event,
                event,
                std::ptr::null_mut(),
                Some(on_win_event),
                pid,
                0,
                WINEVENT_OUTOFCONTEXT,
            )
        };
        (!hook.is_null()).then_some(Hook(hook))
    }

    /// Foreground changes of every process.
    pub(super) fn foreground() -> Option<Hook> {
        Hook::install(EVENT_SYSTEM_FOREGROUND, 0)
    }

    /// Name changes in process `pid` only (not the whole desktop's: no
    /// wake-up for a clock ticking in a background window).
    pub(super) fn name_changes(pid: u32) -> Option<Hook> {
        Hook::install(EVENT_OBJECT_NAMECHANGE, pid)
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        // SAFETY: the hook came from SetWinEventHook and is removed once, here.
        unsafe { UnhookWinEvent(self.0) };
    }
}

/// The hidden window's procedure: session, power and end-of-session messages
/// become notices.
extern "system" fn window_proc(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    let code = u32::try_from(wparam).unwrap_or(u32::MAX);
    match msg {
        // TRUE: dwell never holds up a log-off or shut-down (it stops at
        // WM_ENDSESSION).
        WM_QUERYENDSESSION => 1,
        WM_ENDSESSION => {
            if wparam != 0 {
                // lParam's flags are its low 32 bits.
                let flags = u32::try_from(lparam & 0xFFFF_FFFF).unwrap_or(0);
                deliver(Notice::SessionEnding(flags));
            }
            0
        }
        WM_WTSSESSION_CHANGE => {
            deliver(Notice::Session(code));
            0
        }
        WM_POWERBROADCAST => {
            deliver(Notice::Power(code));
            // TRUE: nothing against the change.
            1
        }
        // SAFETY: the arguments the system passed in, handed on unchanged.
        _ => unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) },
    }
}

/// The class name of the hidden window (also what a test looks it up by).
pub(super) const WINDOW_CLASS: &str = "dwell-agent-watcher";

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A hidden top-level window (not message-only: those get no broadcast, so no
/// `WM_POWERBROADCAST`, `WM_QUERYENDSESSION` or `WM_ENDSESSION`), registered
/// for this session's lock and unlock.
pub(super) struct NoticeWindow {
    window: Window,
    sessions: bool,
}

impl NoticeWindow {
    /// Creates it; `None` when the system refuses.
    pub(super) fn create() -> Option<NoticeWindow> {
        let class = wide(WINDOW_CLASS);
        // SAFETY: null asks for this program's own module; never fails for it.
        let instance = unsafe { GetModuleHandleW(std::ptr::null()) };
        let def = WNDCLASSEXW {
            cbSize: u32::try_from(std::mem::size_of::<WNDCLASSEXW>()).unwrap_or(0),
            lpfnWndProc: Some(window_proc),
            hInstance: instance,
            lpszClassName: class.as_ptr(),
            ..WNDCLASSEXW::default()
        };
        // SAFETY: `def` and the name it points to live through the call; the
        // system copies them. A second watcher in this process finds the class
        // already there, which is fine.
        if unsafe { RegisterClassExW(&def) } == 0
            // SAFETY: no arguments.
            && unsafe { GetLastError() } != ERROR_CLASS_ALREADY_EXISTS
        {
            return None;
        }
        // SAFETY: the class was registered above with a procedure that lives as
        // long as the program; every pointer argument is valid or null.
        let hwnd = unsafe {
            CreateWindowExW(
                0,
                class.as_ptr(),
                class.as_ptr(),
                WS_OVERLAPPED,
                0,
                0,
                0,
                0,
                // No parent (never HWND_MESSAGE): a top-level window, which
                // the system's broadcasts reach. Never shown.
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            )
        };
        let window = Window::of(hwnd)?;
        // SAFETY: plain call on the window created above.
        let sessions =
            unsafe { WTSRegisterSessionNotification(hwnd, NOTIFY_FOR_THIS_SESSION) } != 0;
        Some(NoticeWindow { window, sessions })
    }

    /// Whether lock and unlock will be told.
    pub(super) fn sees_sessions(&self) -> bool {
        self.sessions
    }
}

impl Drop for NoticeWindow {
    fn drop(&mut self) {
        if self.sessions {
            // SAFETY: the window registered above, unregistered once, here.
            unsafe { WTSUnRegisterSessionNotification(self.window.hwnd()) };
        }
        // SAFETY: the window was created on this thread and is destroyed once, here.
        unsafe { DestroyWindow(self.window.hwnd()) };
    }
}

/// Runs this thread's message loop, handing every notice to `sink`, until
/// `sink` returns `false` or [`quit`] is called for this thread. `false` when
/// the loop failed.
pub(super) fn pump(sink: impl FnMut(Notice) -> bool + 'static) -> bool {
    SINK.with(|s| *s.borrow_mut() = Some(Box::new(sink)));
    let mut msg = MSG::default();
    let ok = loop {
        // SAFETY: `msg` is a live MSG the call fills; null: any window of
        // this thread, and thread messages.
        match unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } {
            0 => break true,
            -1 => break false,
            _ => {
                // SAFETY: a message GetMessageW has just filled in.
                unsafe { DispatchMessageW(&msg) };
            }
        }
    };
    SINK.with(|s| s.borrow_mut().take());
    ok
}
