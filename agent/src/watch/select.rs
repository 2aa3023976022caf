//! Picks the backend (`[tracking] backend`, `auto` by default) and starts its
//! watchers: the focus watcher, the idle source, and the bus thread (lock,
//! suspend, and the door for KWin and GNOME) that every backend has.
//!
//! `auto`, in a Wayland session (`WAYLAND_DISPLAY` set): GNOME Shell when
//! `org.gnome.Shell` is on the session bus, KWin when `org.kde.KWin` is, else the
//! wlroots foreign-toplevel protocol when the compositor offers it; X11 when
//! only `DISPLAY` is set (or as the last resort: under Wayland it then sees
//! XWayland windows only).

use anyhow::{Context, Result};
use dwell_core::config::BackendChoice;
use tokio::sync::mpsc;

use super::bus;
use super::wayland::{self, Offer};
use super::{gnome, kwin, x11, Backend, IdleSource, PushedIdle, WatchEvent, Watching};

/// Said when the agent sees no desktop at all: typically a systemd user
/// service started before the session exported its variables.
pub const NO_DESKTOP: &str = "neither WAYLAND_DISPLAY nor DISPLAY is set, so dwell cannot see your desktop: if it runs as a systemd user service, have your session run `systemctl --user import-environment WAYLAND_DISPLAY DISPLAY` at log-in (GNOME and Plasma do; on sway, Hyprland, labwc or river, add the line `dwell-agent install` prints to the compositor's config), then `systemctl --user restart dwell-agent`";

/// What `auto` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionFacts {
    pub wayland: bool,
    pub x11: bool,
    pub gnome_on_bus: bool,
    pub kwin_on_bus: bool,
    /// The Wayland compositor offers foreign-toplevel.
    pub wlr_toplevel: bool,
}

/// The backend `auto` picks from what the session shows.
pub fn auto(f: SessionFacts) -> Backend {
    if f.wayland {
        if f.gnome_on_bus {
            return Backend::Gnome;
        }
        if f.kwin_on_bus {
            return Backend::Kwin;
        }
        if f.wlr_toplevel {
            return Backend::Wlroots;
        }
    }
    if f.x11 || !f.wayland {
        return Backend::X11;
    }
    // Wayland without anything dwell knows: wlroots says why in the log.
    Backend::Wlroots
}

fn env_set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

/// Looks at the session (once, at start).
fn session_facts(offer: Option<Offer>) -> SessionFacts {
    let wayland = env_set("WAYLAND_DISPLAY");
    let (gnome_on_bus, kwin_on_bus) = if wayland {
        zbus::block_on(async {
            match bus::session().await {
                Ok(conn) => (
                    bus::has_owner(&conn, gnome::SHELL).await,
                    bus::has_owner(&conn, kwin::BUS_NAME).await,
                ),
                Err(_) => (false, false),
            }
        })
    } else {
        (false, false)
    };
    SessionFacts {
        wayland,
        x11: env_set("DISPLAY"),
        gnome_on_bus,
        kwin_on_bus,
        wlr_toplevel: offer.is_some_and(|o| o.toplevel),
    }
}

/// Said when the compositor offers no `zwlr_foreign_toplevel_manager_v1`.
pub const NO_WLR_TOPLEVEL: &str = "the compositor does not offer zwlr_foreign_toplevel_manager_v1, so dwell cannot see which window has focus: set [tracking] backend to the one for your desktop";

/// Said on COSMIC: it offers only its own `zcosmic_toplevel_info_v1` (and
/// `ext_foreign_toplevel_list_v1`, which has no focus state).
pub const COSMIC_UNSUPPORTED: &str = "this looks like COSMIC (it offers zcosmic_toplevel_info_v1 and no zwlr_foreign_toplevel_manager_v1): dwell does not support COSMIC yet, so it cannot see which window has focus";

/// What the wlroots backend says about seeing focus on a compositor that offers
/// `offer` (`None`: no compositor answered): nothing when it offers the wlroots
/// toplevel protocol, that COSMIC is not supported yet when only COSMIC's own
/// protocol is there, else that the protocol is missing.
pub fn toplevel_hint(offer: Option<Offer>) -> Option<&'static str> {
    match offer {
        Some(o) if o.toplevel => None,
        Some(o) if o.cosmic_toplevel => Some(COSMIC_UNSUPPORTED),
        _ => Some(NO_WLR_TOPLEVEL),
    }
}

/// Chooses the backend and starts its watchers, sending to `tx`.
pub fn start(choice: BackendChoice, tx: mpsc::Sender<WatchEvent>) -> Result<Watching> {
    let offer = if env_set("WAYLAND_DISPLAY") {
        wayland::probe()
    } else {
        None
    };
    let backend = match choice {
        BackendChoice::Auto => auto(session_facts(offer)),
        BackendChoice::X11 => Backend::X11,
        BackendChoice::Wlroots => Backend::Wlroots,
        BackendChoice::Kwin => Backend::Kwin,
        BackendChoice::Gnome => Backend::Gnome,
    };
    let mut hint = None;
    let (idle, idle_name, mutter): (Box<dyn IdleSource>, Option<&'static str>, _) = match backend {
        Backend::X11 => {
            // Pushed idle from SYNC's IDLETIME when the server has it; else
            // MIT-SCREEN-SAVER, polled (also when no X server answers yet).
            let pushed = x11::has_sync_idle().then(PushedIdle::new);
            x11::spawn(tx.clone(), pushed.clone())
                .context("cannot start the X11 watcher thread")?;
            if env_set("WAYLAND_DISPLAY") {
                hint = Some(
                    "dwell watches X11 in a Wayland session: only XWayland windows are seen (set [tracking] backend, or see `dwell-agent status`)".to_owned(),
                );
            } else if !env_set("DISPLAY") {
                hint = Some(NO_DESKTOP.to_owned());
            }
            let (idle, name): (Box<dyn IdleSource>, _) = match pushed {
                Some(p) => (Box::new(p), "x11-sync"),
                None => (Box::new(x11::X11Idle::default()), "x11-screensaver"),
            };
            (idle, Some(name), None)
        }
        Backend::Wlroots | Backend::Kwin => {
            let idle = PushedIdle::new();
            let toplevel = backend == Backend::Wlroots;
            wayland::spawn(toplevel, tx.clone(), idle.clone())
                .context("cannot start the Wayland watcher thread")?;
            let name = offer.and_then(|o| o.idle).map(|p| p.name());
            if name.is_none() {
                hint = Some(
                    "the compositor offers no idle protocol (ext-idle-notify-v1 or org_kde_kwin_idle): time away from the keyboard is not cut".to_owned(),
                );
            }
            if toplevel {
                if let Some(missing) = toplevel_hint(offer) {
                    hint = Some(missing.to_owned());
                }
            }
            (Box::new(idle), name, None)
        }
        Backend::Gnome => {
            let idle = PushedIdle::new();
            (Box::new(idle.clone()), Some("mutter"), Some(idle))
        }
    };
    let bus = match bus::spawn(backend, tx, mutter) {
        Ok(h) => Some(Box::new(h) as Box<dyn Send>),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the D-Bus thread: lock and suspend are seen only as clock gaps");
            None
        }
    };
    Ok(Watching {
        backend,
        idle,
        idle_name,
        guard: bus,
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosmic_is_named_when_only_its_own_toplevel_protocol_is_offered() {
        let offer = |toplevel, cosmic_toplevel| {
            Some(Offer {
                toplevel,
                cosmic_toplevel,
                idle: None,
            })
        };
        assert_eq!(toplevel_hint(offer(true, false)), None);
        assert_eq!(
            toplevel_hint(offer(true, true)),
            None,
            "the wlroots protocol wins when both are offered"
        );
        let cosmic = toplevel_hint(offer(false, true)).unwrap_or_default();
        assert!(
            cosmic.contains("COSMIC") && cosmic.contains("not support"),
            "{cosmic}"
        );
        assert_eq!(toplevel_hint(offer(false, false)), Some(NO_WLR_TOPLEVEL));
        assert_eq!(toplevel_hint(None), Some(NO_WLR_TOPLEVEL));
        assert!(!NO_WLR_TOPLEVEL.contains("COSMIC"));
    }

    #[test]
    fn auto_prefers_the_shell_then_kwin_then_wlroots_then_x11() {
        let wl = SessionFacts {
            wayland: true,
            x11: true,
            ..Default::default()
        };
        assert_eq!(
            auto(SessionFacts {
                gnome_on_bus: true,
                kwin_on_bus: true,
                wlr_toplevel: true,
                ..wl
            }),
            Backend::Gnome
        );
        assert_eq!(
            auto(SessionFacts {
                kwin_on_bus: true,
                wlr_toplevel: true,
                ..wl
            }),
            Backend::Kwin
        );
        assert_eq!(
            auto(SessionFacts {
                wlr_toplevel: true,
                ..wl
            }),
            Backend::Wlroots
        );
        assert_eq!(auto(wl), Backend::X11, "XWayland as the last resort");
        assert_eq!(
            auto(SessionFacts {
                x11: true,
                gnome_on_bus: true,
                ..Default::default()
            }),
            Backend::X11,
            "GNOME on Xorg is X11"
        );
        assert_eq!(auto(SessionFacts::default()), Backend::X11);
        assert_eq!(
            auto(SessionFacts {
                wayland: true,
                ..Default::default()
            }),
            Backend::Wlroots
        );
    }
}
