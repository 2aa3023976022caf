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
//!   offered when it runs with `KWIN_WAYLAND_NO_PERMISSION_CHECKS=1`);
//!
//! and answers each with `ok N` (N counts commands) or `error N: why`. Exits at the end
//! of stdin or when the compositor goes away (`gone`).

use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use wayland_client::globals::{registry_queue_init, GlobalListContents};
use wayland_client::protocol::{wl_registry, wl_seat};
use wayland_client::{Connection, Dispatch, EventQueue, QueueHandle};
use wayland_protocols::ext::idle_notify::v1::client::{
    ext_idle_notification_v1, ext_idle_notifier_v1,
};
use wayland_protocols_plasma::fake_input::client::org_kde_kwin_fake_input;
use wayland_protocols_plasma::idle::client::{org_kde_kwin_idle, org_kde_kwin_idle_timeout};

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

struct State {
    out: Out,
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
    let mut offered = Vec::new();
    match &idle {
        Some(Idle::Ext(_)) => offered.push("ext_idle_notifier_v1"),
        Some(Idle::Kde(_)) => offered.push("org_kde_kwin_idle"),
        None => {}
    }
    if fake.is_some() {
        offered.push("org_kde_kwin_fake_input");
    }
    if let Err(e) = conn.flush() {
        eprintln!("dwell-e2e-wayland: {e}");
        std::process::exit(1);
    }
    out.say(&format!("ready {}", offered.join(" ")));

    let mut state = State { out: out.clone() };
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
            (Some("nudge"), None) => match &fake {
                Some(fake) => {
                    // Right then back: the pointer ends where it was.
                    let dx = if n % 2 == 0 { 1.0 } else { -1.0 };
                    fake.pointer_motion(dx, 0.0);
                    Ok(())
                }
                None => Err("no org_kde_kwin_fake_input".to_owned()),
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
