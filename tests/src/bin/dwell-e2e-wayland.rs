//! `dwell-e2e-wayland`: a tiny Wayland client the end-to-end tests run inside a test
//! compositor (as the session's user) to inject input and to watch the compositor's
//! own idle state, so a test can prove that its "input" counted as input.
//!
//! Connects to `$WAYLAND_DISPLAY`, prints `ready <global> <global> …` (the interfaces it
//! can use), then reads commands, one per line, on stdin:
//!
//! * `probe MS` — asks for an idle notification after MS ms without input
//!   (`ext_idle_notifier_v1`, else `org_kde_kwin_idle`); from then on prints `idled` and
//!   `resumed` as the compositor reports them;
//! * `nudge` — moves the pointer by one pixel through `org_kde_kwin_fake_input` (KWin,
//!   offered when it runs with `KWIN_WAYLAND_NO_PERMISSION_CHECKS=1`), else through a
//!   `zwlr_virtual_pointer_v1` (sway, Hyprland, labwc);
//! * `toplevels` — the windows `zwlr_foreign_toplevel_manager_v1` lists, as a JSON array
//!   of `{"app_id", "title", "activated"}` after the `ok N` (compositors with no IPC of
//!   their own that tells which window has focus: labwc, and Hyprland the same way);
//! * `activate APP_ID` — asks the compositor to focus the one toplevel with that app id
//!   (`zwlr_foreign_toplevel_handle_v1.activate`);
//!
//! and answers each with `ok N` (N counts commands; `ok N PAYLOAD` for `toplevels`) or
//! `error N: why`. Exits at the end of stdin or when the compositor goes away (`gone`).

use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

use wayland_client::backend::ObjectId;
use wayland_client::globals::{registry_queue_init, GlobalListContents};
use wayland_client::protocol::{wl_registry, wl_seat};
use wayland_client::{event_created_child, Connection, Dispatch, EventQueue, Proxy, QueueHandle};
use wayland_protocols::ext::idle_notify::v1::client::{
    ext_idle_notification_v1, ext_idle_notifier_v1,
};
use wayland_protocols_plasma::fake_input::client::org_kde_kwin_fake_input;
use wayland_protocols_plasma::idle::client::{org_kde_kwin_idle, org_kde_kwin_idle_timeout};
use wayland_protocols_wlr::foreign_toplevel::v1::client::{
    zwlr_foreign_toplevel_handle_v1 as handle, zwlr_foreign_toplevel_manager_v1 as manager,
};
use wayland_protocols_wlr::virtual_pointer::v1::client::{
    zwlr_virtual_pointer_manager_v1 as vpointer_manager, zwlr_virtual_pointer_v1 as vpointer,
};

/// Serialises lines from both threads so that none interleave.
#[derive(Clone)]
struct Out(Arc<Mutex<io::Stdout>>);

impl Out {
    fn say(&self, line: &str) {
        let stdout = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut lock = stdout.lock();
        let _ = writeln!(lock, "{line}");
        let _ = lock.flush();
    }
}

/// One toplevel as `zwlr_foreign_toplevel_handle_v1` last committed it (`done`).
#[derive(Clone, Default)]
struct Toplevel {
    app_id: String,
    title: String,
    activated: bool,
    /// What arrived since the last `done`.
    pending: (Option<String>, Option<String>, Option<bool>),
    done: bool,
}

/// Every toplevel's handle and facts, by handle id.
type ToplevelMap = HashMap<ObjectId, (handle::ZwlrForeignToplevelHandleV1, Toplevel)>;

/// The toplevels, shared by the dispatching thread and the command loop.
#[derive(Clone, Default)]
struct Toplevels(Arc<Mutex<ToplevelMap>>);

impl Toplevels {
    fn lock(&self) -> MutexGuard<'_, ToplevelMap> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn json(&self) -> String {
        let mut all: Vec<serde_json::Value> = self
            .lock()
            .values()
            .filter(|(_, t)| t.done)
            .map(|(_, t)| {
                serde_json::json!({"app_id": t.app_id, "title": t.title, "activated": t.activated})
            })
            .collect();
        all.sort_by_key(|v| v["app_id"].as_str().unwrap_or_default().to_owned());
        serde_json::Value::Array(all).to_string()
    }

    fn with_app_id(&self, app_id: &str) -> Result<handle::ZwlrForeignToplevelHandleV1, String> {
        let all = self.lock();
        let found: Vec<_> = all
            .values()
            .filter(|(_, t)| t.done && t.app_id == app_id)
            .map(|(h, _)| h.clone())
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!("no toplevel has app id {app_id:?}")),
            _ => Err(format!("{} toplevels have app id {app_id:?}", found.len())),
        }
    }
}

struct State {
    out: Out,
    toplevels: Toplevels,
}

impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for State {
    fn event(
        _: &mut Self,
        _: &wl_registry::WlRegistry,
        _: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<wl_seat::WlSeat, ()> for State {
    fn event(
        _: &mut Self,
        _: &wl_seat::WlSeat,
        _: wl_seat::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ext_idle_notifier_v1::ExtIdleNotifierV1, ()> for State {
    fn event(
        _: &mut Self,
        _: &ext_idle_notifier_v1::ExtIdleNotifierV1,
        _: ext_idle_notifier_v1::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<ext_idle_notification_v1::ExtIdleNotificationV1, ()> for State {
    fn event(
        state: &mut Self,
        _: &ext_idle_notification_v1::ExtIdleNotificationV1,
        event: ext_idle_notification_v1::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            ext_idle_notification_v1::Event::Idled => state.out.say("idled"),
            ext_idle_notification_v1::Event::Resumed => state.out.say("resumed"),
            _ => {}
        }
    }
}

impl Dispatch<org_kde_kwin_idle::OrgKdeKwinIdle, ()> for State {
    fn event(
        _: &mut Self,
        _: &org_kde_kwin_idle::OrgKdeKwinIdle,
        _: org_kde_kwin_idle::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout, ()> for State {
    fn event(
        state: &mut Self,
        _: &org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout,
        event: org_kde_kwin_idle_timeout::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            org_kde_kwin_idle_timeout::Event::Idle => state.out.say("idled"),
            org_kde_kwin_idle_timeout::Event::Resumed => state.out.say("resumed"),
            _ => {}
        }
    }
}

impl Dispatch<org_kde_kwin_fake_input::OrgKdeKwinFakeInput, ()> for State {
    fn event(
        _: &mut Self,
        _: &org_kde_kwin_fake_input::OrgKdeKwinFakeInput,
        _: org_kde_kwin_fake_input::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<manager::ZwlrForeignToplevelManagerV1, ()> for State {
    fn event(
        state: &mut Self,
        _: &manager::ZwlrForeignToplevelManagerV1,
        event: manager::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let manager::Event::Toplevel { toplevel } = event {
            state
                .toplevels
                .lock()
                .insert(toplevel.id(), (toplevel, Toplevel::default()));
        }
    }

    event_created_child!(State, manager::ZwlrForeignToplevelManagerV1, [
        manager::EVT_TOPLEVEL_OPCODE => (handle::ZwlrForeignToplevelHandleV1, ()),
    ]);
}

impl Dispatch<handle::ZwlrForeignToplevelHandleV1, ()> for State {
    fn event(
        state: &mut Self,
        proxy: &handle::ZwlrForeignToplevelHandleV1,
        event: handle::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let mut all = state.toplevels.lock();
        if matches!(event, handle::Event::Closed) {
            all.remove(&proxy.id());
            return;
        }
        let Some((_, top)) = all.get_mut(&proxy.id()) else {
            return;
        };
        match event {
            handle::Event::Title { title } => top.pending.0 = Some(title),
            handle::Event::AppId { app_id } => top.pending.1 = Some(app_id),
            handle::Event::State { state } => {
                // An array of native-endian u32: 2 is `activated`.
                let activated = state
                    .chunks_exact(4)
                    .filter_map(|c| c.try_into().ok())
                    .any(|c: [u8; 4]| u32::from_ne_bytes(c) == 2);
                top.pending.2 = Some(activated);
            }
            handle::Event::Done => {
                let (title, app_id, activated) = std::mem::take(&mut top.pending);
                if let Some(title) = title {
                    top.title = title;
                }
                if let Some(app_id) = app_id {
                    top.app_id = app_id;
                }
                if let Some(activated) = activated {
                    top.activated = activated;
                }
                top.done = true;
            }
            _ => {}
        }
    }
}

impl Dispatch<vpointer_manager::ZwlrVirtualPointerManagerV1, ()> for State {
    fn event(
        _: &mut Self,
        _: &vpointer_manager::ZwlrVirtualPointerManagerV1,
        _: vpointer_manager::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

impl Dispatch<vpointer::ZwlrVirtualPointerV1, ()> for State {
    fn event(
        _: &mut Self,
        _: &vpointer::ZwlrVirtualPointerV1,
        _: vpointer::Event,
        (): &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

enum Idle {
    Ext(ext_idle_notifier_v1::ExtIdleNotifierV1),
    Kde(org_kde_kwin_idle::OrgKdeKwinIdle),
}

fn main() {
    let out = Out(Arc::new(Mutex::new(io::stdout())));
    let conn = match Connection::connect_to_env() {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("dwell-e2e-wayland: cannot connect to the compositor: {e}");
            std::process::exit(1);
        }
    };
    let (globals, queue): (_, EventQueue<State>) = match registry_queue_init(&conn) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("dwell-e2e-wayland: cannot read the registry: {e}");
            std::process::exit(1);
        }
    };
    let qh = queue.handle();
    let seat: Option<wl_seat::WlSeat> = globals.bind(&qh, 1..=1, ()).ok();
    let idle = globals
        .bind(&qh, 1..=1, ())
        .map(Idle::Ext)
        .ok()
        .or_else(|| globals.bind(&qh, 1..=1, ()).map(Idle::Kde).ok());
    let fake: Option<org_kde_kwin_fake_input::OrgKdeKwinFakeInput> =
        globals.bind(&qh, 1..=4, ()).ok();
    if let Some(fake) = &fake {
        fake.authenticate("dwell-e2e-wayland".into(), "dwell end-to-end tests".into());
    }
    let toplevel_manager: Option<manager::ZwlrForeignToplevelManagerV1> =
        globals.bind(&qh, 1..=3, ()).ok();
    let pointer = match (&fake, &seat) {
        (None, Some(seat)) => globals
            .bind::<vpointer_manager::ZwlrVirtualPointerManagerV1, _, _>(&qh, 1..=2, ())
            .ok()
            .map(|m| m.create_virtual_pointer(Some(seat), &qh, ())),
        _ => None,
    };
    let mut offered = Vec::new();
    match &idle {
        Some(Idle::Ext(_)) => offered.push("ext_idle_notifier_v1"),
        Some(Idle::Kde(_)) => offered.push("org_kde_kwin_idle"),
        None => {}
    }
    if fake.is_some() {
        offered.push("org_kde_kwin_fake_input");
    }
    if toplevel_manager.is_some() {
        offered.push("zwlr_foreign_toplevel_manager_v1");
    }
    if pointer.is_some() {
        offered.push("zwlr_virtual_pointer_manager_v1");
    }
    if let Err(e) = conn.flush() {
        eprintln!("dwell-e2e-wayland: {e}");
        std::process::exit(1);
    }
    out.say(&format!("ready {}", offered.join(" ")));

    let toplevels = Toplevels::default();
    let mut state = State {
        out: out.clone(),
        toplevels: toplevels.clone(),
    };
    let started = Instant::now();
    let dispatcher = {
        let out = out.clone();
        let mut queue = queue;
        thread::spawn(move || loop {
            if let Err(e) = queue.blocking_dispatch(&mut state) {
                out.say(&format!("gone {e}"));
                std::process::exit(0);
            }
        })
    };

    let mut probes = Vec::new();
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let result = match (words.next(), words.next()) {
            (Some("probe"), Some(ms)) => match (ms.parse::<u32>(), &idle, &seat) {
                (Err(e), _, _) => Err(format!("bad timeout {ms:?}: {e}")),
                (Ok(ms), Some(Idle::Ext(notifier)), Some(seat)) => {
                    probes.push(Box::new(notifier.get_idle_notification(ms, seat, &qh, ()))
                        as Box<dyn std::any::Any>);
                    Ok(())
                }
                (Ok(ms), Some(Idle::Kde(kde)), Some(seat)) => {
                    probes.push(Box::new(kde.get_idle_timeout(seat, ms, &qh, ())));
                    Ok(())
                }
                _ => Err("no idle protocol or no seat".to_owned()),
            },
            (Some("nudge"), None) => {
                // Right then back: the pointer ends where it was.
                let dx = if n % 2 == 0 { 1.0 } else { -1.0 };
                match (&fake, &pointer) {
                    (Some(fake), _) => {
                        fake.pointer_motion(dx, 0.0);
                        Ok(())
                    }
                    (None, Some(pointer)) => {
                        let ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                        pointer.motion(ms, dx, 0.0);
                        pointer.frame();
                        Ok(())
                    }
                    (None, None) => Err(
                        "no org_kde_kwin_fake_input nor zwlr_virtual_pointer_manager_v1".to_owned(),
                    ),
                }
            }
            (Some("toplevels"), None) if toplevel_manager.is_some() => {
                let flushed = conn.flush().map_err(|e| e.to_string());
                match flushed {
                    Ok(()) => {
                        out.say(&format!("ok {n} {}", toplevels.json()));
                        continue;
                    }
                    Err(e) => Err(e),
                }
            }
            (Some("activate"), Some(app_id)) => match (&seat, &toplevel_manager) {
                (Some(seat), Some(_)) => toplevels.with_app_id(app_id).map(|h| h.activate(seat)),
                _ => Err("no zwlr_foreign_toplevel_manager_v1 or no seat".to_owned()),
            },
            _ => Err(format!("unknown command {line:?}")),
        };
        let flushed = conn.flush().map_err(|e| e.to_string());
        match result.and(flushed) {
            Ok(()) => out.say(&format!("ok {n}")),
            Err(e) => out.say(&format!("error {n}: {e}")),
        }
    }
    drop(dispatcher);
}
