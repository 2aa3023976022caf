//! The compositor's life as the door sees it: KWin's script loaded (and its
//! file kept until it reports), GNOME Shell and its extension's state, Mutter's
//! idle watches, and what goes when the compositor or the session bus goes.

use super::*;

impl Door {
    pub(super) async fn kwin_up(&mut self) {
        let Some(conn) = self.session.clone() else {
            return;
        };
        // What had focus before belongs to the KWin that went; the script
        // reports what has focus now as soon as it runs.
        self.send(WatchEvent::Focus(None)).await;
        // A KWin that has just taken its bus name may not answer on /Scripting
        // yet: try for a few seconds.
        let mut last = String::new();
        for _ in 0..KWIN_TRIES {
            // The file of a load before is rewritten under the same name.
            self.kwin_file = None;
            match kwin::load(&conn).await {
                Ok(file) => {
                    self.kwin_loaded = true;
                    self.kwin_file = Some(file);
                    self.kwin_check_at = Some(std::time::Instant::now() + KWIN_SILENT);
                    tracing::info!("KWin script loaded");
                    self.send(WatchEvent::Connected).await;
                    return;
                }
                Err(e) => last = e,
            }
            blocking_sleep(KWIN_RETRY).await;
        }
        tracing::warn!(error = %last, "cannot load the KWin script: focus is not seen");
    }

    /// What GNOME Shell says of dwell's extension: logged (with what to do)
    /// and sent to `status` when it changes.
    pub(super) async fn extension_seen(&mut self, report: gnome::ExtensionReport) {
        if self.extension.as_ref() == Some(&report) {
            return;
        }
        let hint = report.hint(self.shell_version.as_deref());
        match &hint {
            Some(hint) => tracing::warn!("{hint}"),
            None => tracing::info!("GNOME Shell runs dwell's focus extension"),
        }
        self.extension = Some(report.clone());
        self.send(WatchEvent::Hint(hint)).await;
        self.send(WatchEvent::GnomeExtension(Some(report))).await;
    }

    /// GNOME Shell is on the bus: what had focus before belongs to a shell
    /// that went; the extension reports what has focus now.
    pub(super) async fn gnome_up(&mut self) {
        self.send(WatchEvent::Focus(None)).await;
        self.send(WatchEvent::Connected).await;
    }

    /// Mutter's idle monitor is on the bus: arm the watches (again).
    pub(super) async fn mutter_up(&mut self) {
        let (Some(conn), Some(idle)) = (self.session.clone(), self.mutter.clone()) else {
            return;
        };
        if let Err(e) = self.mutter_watches.arm(&conn, &idle).await {
            idle.lost();
            tracing::warn!(error = %e, "cannot use Mutter's idle monitor: idle time is not cut");
        }
        self.send(WatchEvent::IdleChanged).await;
    }

    pub(super) async fn compositor_gone(&mut self) {
        self.kwin_loaded = false;
        self.kwin_file = None;
        self.mutter_watches = gnome::Watches::default();
        if let Some(idle) = &self.mutter {
            idle.lost();
        }
        tracing::warn!(
            backend = self.backend.name(),
            "the compositor left the session bus; waiting for it"
        );
        self.send(WatchEvent::Gone).await;
    }

    pub(super) async fn session_lost(&mut self) {
        self.session = None;
        for sender in std::mem::take(&mut self.tab_senders) {
            self.send(WatchEvent::TabGone { sender }).await;
        }
        if self.uses_door() {
            self.compositor_gone().await;
        }
    }

    pub(super) async fn cleanup(&mut self) {
        if self.kwin_loaded {
            if let Some(conn) = &self.session {
                kwin::unload(conn).await;
                tracing::info!("KWin script unloaded");
            }
            self.kwin_loaded = false;
            self.kwin_file = None;
        }
    }
}
