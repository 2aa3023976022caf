//! dwell-test-window: a titled top-level window that stands in for a Windows
//! program in dwell's end-to-end test under Wine (copies named `msedge.exe`,
//! `Discord.exe`, `WINWORD.EXE` are those programs to dwell's watcher), and a
//! way to hand dwell's watcher the session and power messages Wine never sends.
//!
//! ```text
//! dwell-test-window TITLE [--retitle SECONDS TITLE2]   # a window; renamed SECONDS after it
//!                                                      # comes back to the foreground (once
//!                                                      # it has lost it: not when it opens)
//! dwell-test-window TITLE --native-host HOST ORIGIN    # a window, and HOST started as Edge and
//!                                                      # Chrome start a native-messaging host
//! dwell-test-window --notify session|power CODE        # WM_WTSSESSION_CHANGE / WM_POWERBROADCAST
//!                                                      # sent to dwell's watcher window
//! ```
//!
//! With `--native-host`, a copy named `msedge.exe` is the browser to dwell's
//! native host too: the host runs through `cmd.exe` under it (`msedge.exe` →
//! `cmd.exe` → host), with the caller's origin and `--parent-window=0`, as
//! Chromium-family browsers on Windows start it, and reads its frames from
//! this program's standard input (the browser's port), which it inherits.
//!
//! Test code, not shipped: Win32 needs `unsafe`, allowed here only.
#![cfg_attr(windows, allow(unsafe_code))]

#[cfg(not(windows))]
fn main() {
    eprintln!("dwell-test-window runs on Windows (or under Wine) only");
    std::process::exit(2);
}

#[cfg(windows)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--notify", kind, code] => win::notify(kind, code),
        [title] => win::window(title, None),
        [title, "--native-host", host, origin] => match native_host(host, origin) {
            Ok(()) => win::window(title, None),
            Err(e) => {
                eprintln!("dwell-test-window: cannot start the native host {host}: {e}");
                1
            }
        },
        [title, "--retitle", secs, title2] => match secs.parse::<u32>() {
            Ok(s) => win::window(title, Some((s, title2))),
            Err(_) => usage(),
        },
        _ => usage(),
    };
    std::process::exit(code);
}

#[cfg(windows)]
fn usage() -> i32 {
    eprintln!(
        "usage: dwell-test-window TITLE [--retitle SECONDS TITLE2 | --native-host HOST ORIGIN] \
         | --notify session|power CODE"
    );
    2
}

/// Starts `host` as Chromium and Edge do on Windows: `cmd.exe /d /s /c
/// ""HOST" ORIGIN --parent-window=0"` (they add `<` and `>` of their own
/// pipes; here the standard handles are inherited, so the host reads this
/// program's input and writes its output and log where this program does).
/// Not waited for: it ends at the end of its input, or with Wine.
#[cfg(windows)]
fn native_host(host: &str, origin: &str) -> std::io::Result<()> {
    use std::os::windows::process::CommandExt;
    std::process::Command::new("cmd.exe")
        .raw_arg(format!(r#"/d /s /c ""{host}" {origin} --parent-window=0""#))
        .spawn()
        .map(drop)
}

#[cfg(windows)]
mod win {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
    use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
    use windows_sys::Win32::UI::Accessibility::NotifyWinEvent;
    use windows_sys::Win32::UI::WindowsAndMessaging::{
        CreateWindowExW, DefWindowProcW, DispatchMessageW, FindWindowW, GetMessageW, KillTimer,
        PostQuitMessage, RegisterClassExW, SendMessageW, SetTimer, SetWindowTextW, CHILDID_SELF,
        EVENT_OBJECT_NAMECHANGE, MSG, OBJID_WINDOW, WM_ACTIVATE, WM_DESTROY, WM_POWERBROADCAST,
        WM_TIMER, WM_WTSSESSION_CHANGE, WNDCLASSEXW, WS_OVERLAPPEDWINDOW, WS_VISIBLE,
    };

    /// dwell's watcher window class (agent/src/watch/windows/sys.rs).
    const WATCHER_CLASS: &str = "dwell-agent-watcher";

    /// The new title and after how many milliseconds of the first activation.
    static RETITLE: OnceLock<(Vec<u16>, u32)> = OnceLock::new();
    /// The window has lost the foreground once (it gets it when it opens).
    static LOST: AtomicBool = AtomicBool::new(false);
    static TIMED: AtomicBool = AtomicBool::new(false);

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    extern "system" fn proc_(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
        // WA_INACTIVE (0) in the low word: lost the front; else came to it.
        if msg == WM_ACTIVATE && wparam & 0xffff == 0 {
            LOST.store(true, Ordering::SeqCst);
        } else if msg == WM_ACTIVATE
            && LOST.load(Ordering::SeqCst)
            && !TIMED.swap(true, Ordering::SeqCst)
        {
            if let Some((_, ms)) = RETITLE.get() {
                // SAFETY: our window; no callback (WM_TIMER comes to this procedure).
                unsafe { SetTimer(hwnd, 1, *ms, None) };
            }
        }
        match msg {
            WM_TIMER => {
                if let Some((t, _)) = RETITLE.get() {
                    // SAFETY: our window; `t` is a NUL-terminated UTF-16 string that lives forever.
                    // Windows' DefWindowProc tells WinEvent hooks of the new name; Wine
                    // 10.0's does not (later Wine does), so this program says it itself.
                    unsafe {
                        KillTimer(hwnd, wparam);
                        SetWindowTextW(hwnd, t.as_ptr());
                        NotifyWinEvent(
                            EVENT_OBJECT_NAMECHANGE,
                            hwnd,
                            OBJID_WINDOW,
                            CHILDID_SELF as i32,
                        );
                    }
                }
                0
            }
            WM_DESTROY => {
                // SAFETY: no pointers.
                unsafe { PostQuitMessage(0) };
                0
            }
            // SAFETY: the system's arguments, passed on.
            _ => unsafe { DefWindowProcW(hwnd, msg, wparam, lparam) },
        }
    }

    /// Shows a window titled `title` until it is closed; with `retitle`, renames
    /// it that many seconds after it comes back to the foreground.
    pub fn window(title: &str, retitle: Option<(u32, &str)>) -> i32 {
        let class = wide("dwell-test-window");
        let title = wide(title);
        if let Some((secs, t)) = retitle {
            let _ = RETITLE.set((wide(t), secs.saturating_mul(1000)));
        }
        // SAFETY: all pointers are valid NUL-terminated strings or null; the
        // window procedure lives for the program.
        unsafe {
            let instance = GetModuleHandleW(std::ptr::null());
            let def = WNDCLASSEXW {
                cbSize: std::mem::size_of::<WNDCLASSEXW>() as u32,
                lpfnWndProc: Some(proc_),
                hInstance: instance,
                lpszClassName: class.as_ptr(),
                ..Default::default()
            };
            if RegisterClassExW(&def) == 0 {
                eprintln!("dwell-test-window: RegisterClassExW failed");
                return 1;
            }
            let hwnd = CreateWindowExW(
                0,
                class.as_ptr(),
                title.as_ptr(),
                WS_OVERLAPPEDWINDOW | WS_VISIBLE,
                40,
                40,
                480,
                320,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                instance,
                std::ptr::null(),
            );
            if hwnd.is_null() {
                eprintln!("dwell-test-window: CreateWindowExW failed");
                return 1;
            }
            let mut msg: MSG = std::mem::zeroed();
            while GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) > 0 {
                DispatchMessageW(&msg);
            }
        }
        0
    }

    /// Sends dwell's watcher window a session (`WTS_SESSION_LOCK` = 7,
    /// `WTS_SESSION_UNLOCK` = 8) or power (`PBT_APMSUSPEND` = 4,
    /// `PBT_APMRESUMEAUTOMATIC` = 18) message, as Windows would.
    pub fn notify(kind: &str, code: &str) -> i32 {
        let msg = match kind {
            "session" => WM_WTSSESSION_CHANGE,
            "power" => WM_POWERBROADCAST,
            _ => return super::usage(),
        };
        let Ok(code) = code.parse::<usize>() else {
            return super::usage();
        };
        let class = wide(WATCHER_CLASS);
        // SAFETY: a valid NUL-terminated class name; SendMessageW with plain
        // integers to the window found.
        unsafe {
            let hwnd = FindWindowW(class.as_ptr(), std::ptr::null());
            if hwnd.is_null() {
                eprintln!("dwell-test-window: no {WATCHER_CLASS} window (is dwell-agent running?)");
                return 1;
            }
            SendMessageW(hwnd, msg, code, 0);
        }
        0
    }
}
