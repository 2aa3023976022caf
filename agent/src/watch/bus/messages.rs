//! What the door does with each message: session-bus calls (`Focus`, `Tab`,
//! `PauseResult`, `PauseResultFor`) and signals (owners, screen savers,
//! GNOME's extension and idle watches), and system-bus signals (logind), each
//! checked for its sender first (`watch::trust`).

use super::*;

impl Door {
    /// Handles one session-bus message; `false` when the connection is unusable.
    pub(super) async fn on_session(&mut self, msg: &Message) -> bool {
        let header = msg.header();
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let sender = header.sender().map(|s| s.as_str());
        match header.message_type() {
            MsgType::MethodCall => self.on_call(msg).await,
            // Signals the agent takes on the session bus (logind's are on the system bus).
            MsgType::Signal
                if trust::signal_owner(iface, member).is_none_or(|n| n == trust::LOGIN1) => {}
            // Match rules name the sender, but a signal sent to the agent alone
            // bypasses them: the sender is checked here.
            MsgType::Signal if !trust::signal_allowed(iface, member, sender, &self.owners) => {
                self.refuse(member);
            }
            MsgType::Signal => match (iface, member) {
                ("org.freedesktop.ScreenSaver" | "org.gnome.ScreenSaver", "ActiveChanged") => {
                    if let Ok(active) = msg.body().deserialize::<bool>() {
                        let lock = LockState {
                            screensaver: active,
                            ..self.lock
                        };
                        self.set_lock(lock).await;
                    }
                }
                (DBUS, "NameOwnerChanged") => {
                    if let Ok((name, _old, new)) =
                        msg.body().deserialize::<(String, String, String)>()
                    {
                        self.name_owner_changed(name, new).await;
                    }
                }
                (DBUS, "NameAcquired")
                    if msg.body().deserialize::<String>().is_ok_and(|n| n == NAME) =>
                {
                    self.name_acquired().await;
                }
                (gnome::EXTENSIONS_IFACE, "ExtensionStateChanged") => {
                    if let Ok((uuid, info)) = msg
                        .body()
                        .deserialize::<(String, HashMap<String, OwnedValue>)>()
                    {
                        if uuid == gnome::EXTENSION_UUID {
                            let report = gnome::ExtensionReport::from_info(
                                &info,
                                gnome::installed_on_disk(),
                            );
                            self.extension_seen(report).await;
                        }
                    }
                }
                (gnome::IDLE_IFACE, "WatchFired") => {
                    if let (Some(idle), Ok(id)) = (&self.mutter, msg.body().deserialize::<u32>()) {
                        let idle = idle.clone();
                        if let Some(conn) = self.session.clone() {
                            if self.mutter_watches.fired(&conn, &idle, id).await {
                                self.send(WatchEvent::IdleChanged).await;
                            }
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        true
    }

    /// A method call: the door's four methods, each from whom it is for;
    /// anything else addressed to the agent is answered with an error.
    pub(super) async fn on_call(&mut self, msg: &Message) {
        let header = msg.header();
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let path = header.path().map(|p| p.as_str()).unwrap_or("");
        let sender = header.sender().map(|s| s.as_str().to_owned());
        let ours = path == PATH && iface == IFACE;
        match member {
            "Focus" if ours => {
                if trust::focus_allowed(sender.as_deref(), self.compositor(), &self.owners) {
                    self.on_focus(msg).await;
                } else {
                    self.deny(msg, "Focus").await;
                }
            }
            _ if ours && trust::host_only(member) => {
                let host = match &sender {
                    Some(s) => self.is_host(s).await,
                    None => false,
                };
                if !host {
                    self.deny(msg, member).await;
                } else if member == "Tab" {
                    self.on_tab(msg).await;
                } else {
                    self.on_pause_result(msg, member == "PauseResultFor").await;
                }
            }
            _ => {
                if let Some(conn) = &self.session {
                    if header.destination().is_some_and(|d| d.as_str() == NAME) || path == PATH {
                        let _ = conn
                            .reply_error(
                                &header,
                                "org.freedesktop.DBus.Error.UnknownMethod",
                                &"dwell-agent has four methods: org.dwell.Agent1.Focus, Tab, PauseResult and PauseResultFor",
                            )
                            .await;
                    }
                }
            }
        }
    }

    /// A watched name changed owner (told by the bus).
    pub(super) async fn name_owner_changed(&mut self, name: String, new: String) {
        self.owners.set(&name, &new);
        if name.starts_with(':') && new.is_empty() {
            self.hosts.remove(&name);
        }
        if new.is_empty() && self.tab_senders.remove(&name) {
            if let Some(conn) = &self.session {
                let _ = remove_match(conn, &leave_rule(&name)).await;
            }
            self.send(WatchEvent::TabGone { sender: name }).await;
            return;
        }
        if name == NAME {
            let ours = self.session.as_ref().and_then(|c| c.unique_name());
            if ours.is_some_and(|u| u.as_str() == new) {
                self.name_acquired().await;
            }
            return;
        }
        if self.backend == Backend::Gnome && name == gnome::MUTTER {
            if new.is_empty() {
                self.mutter_watches = gnome::Watches::default();
                if let Some(idle) = &self.mutter {
                    idle.lost();
                }
                self.send(WatchEvent::IdleChanged).await;
            } else if !self.squatted {
                self.mutter_up().await;
            }
            return;
        }
        if self.compositor() == Some(name.as_str()) {
            if new.is_empty() {
                self.compositor_gone().await;
            } else if self.squatted {
                // No script for a compositor while another program has the door.
            } else if self.backend == Backend::Kwin {
                self.kwin_up().await;
            } else {
                self.gnome_up().await;
            }
        }
    }

    pub(super) async fn on_focus(&mut self, msg: &Message) {
        let header = msg.header();
        let parsed = parse_focus(msg);
        if let Some(conn) = &self.session {
            let _ = match &parsed {
                Some(_) => conn.reply(&header, &()).await,
                None => {
                    conn.reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &"Focus takes (app_id: s, title: s, pid: u)",
                    )
                    .await
                }
            };
        }
        let Some((app_id, title, pid)) = parsed else {
            if !self.warned_malformed {
                tracing::warn!(
                    signature = %msg.body().signature(),
                    "ignored a malformed focus report (logged once)"
                );
                self.warned_malformed = true;
            }
            return;
        };
        if !self.uses_door() {
            return;
        }
        // A report proves the script runs: KWin has read its file.
        self.kwin_check_at = None;
        self.kwin_file = None;
        self.kwin_reloads = 0;
        // A report proves the extension runs.
        if self.backend == Backend::Gnome {
            self.extension_seen(gnome::ExtensionReport::active()).await;
        }
        let window = if app_id.is_empty() && title.is_empty() {
            None
        } else {
            let process = pid.filter(|p| *p > 0).and_then(|p| self.procs.name(p));
            Some(window_from_app_id(
                cut(&app_id, MAX_APP_ID),
                cut(&title, crate::watch::MAX_TITLE),
                process,
            ))
        };
        self.send(WatchEvent::Focus(window)).await;
    }

    /// A report from the native host (`dwell-native-host`): what the browser extension
    /// says about the focused window's active tab.
    pub(super) async fn on_tab(&mut self, msg: &Message) {
        let header = msg.header();
        let parsed = msg
            .body()
            .deserialize::<(String, String, bool, bool, bool, u32)>()
            .ok()
            .filter(|(_, host, ..)| host.is_empty() || dwell_core::rules::valid_host(host).is_ok());
        let sender = header.sender().map(|s| s.as_str().to_owned());
        if parsed.is_none() {
            if let Some(conn) = &self.session {
                let _ = conn
                    .reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &"Tab takes (browser: s, host: s (a host name or empty), private: b, audible: b, focused: b, pid: u)",
                    )
                    .await;
            }
        }
        let well_formed = parsed.is_some();
        let (Some((browser, host, private, audible, focused, _pid)), Some(sender)) =
            (parsed, sender)
        else {
            if well_formed {
                // No sender (not through a bus daemon): taken as nothing.
                if let Some(conn) = &self.session {
                    let _ = conn.reply(&header, &HashMap::<String, String>::new()).await;
                }
            }
            if !self.warned_malformed {
                tracing::warn!("ignored a malformed tab report (logged once)");
                self.warned_malformed = true;
            }
            return;
        };
        tracing::debug!(host = %host, private, focused, "tab report");
        // The reply carries the run loop's answer (the pause page, if any).
        let pause = self
            .take_tab(browser, host, private, audible, focused, sender)
            .await;
        let answer = pause.map(|p| p.to_map()).unwrap_or_default();
        if let Some(conn) = &self.session {
            let _ = conn.reply(&header, &answer).await;
        }
    }

    /// Passes a well-formed tab report on to the run loop and waits for its
    /// answer (`None`: nothing to show, or the report did not count).
    pub(super) async fn take_tab(
        &mut self,
        browser: String,
        host: String,
        private: bool,
        audible: bool,
        focused: bool,
        sender: String,
    ) -> Option<crate::door::Pause> {
        if self.tab_senders.insert(sender.clone()) {
            if let Some(conn) = &self.session {
                let _ = add_match(conn, &leave_rule(&sender)).await;
                // Gone before the match was in place: no signal will come.
                if !has_owner(conn, &sender).await {
                    self.tab_senders.remove(&sender);
                    let _ = remove_match(conn, &leave_rule(&sender)).await;
                    return None;
                }
            }
        }
        let facts = crate::door::TabFacts {
            host: (!host.is_empty() && !private).then_some(host),
            private,
            audible: audible && !private,
            focused,
        };
        let (reply, answer) = crate::door::Answer::new();
        self.send(WatchEvent::Tab {
            browser: cut(&browser, MAX_APP_ID).to_owned(),
            sender,
            facts,
            reply,
        })
        .await;
        // The run loop answers at once (or drops the answer: nothing to show).
        answer.await.ok().flatten()
    }

    /// `PauseResult(s outcome)` or, with `for_page`, `PauseResultFor(s
    /// outcome, s page)` from the native host (`dwell-native-host`): what the
    /// employee chose on the pause page (with `PauseResultFor`, on the page
    /// with that id, [`crate::door::PageId`]).
    pub(super) async fn on_pause_result(&mut self, msg: &Message, for_page: bool) {
        let header = msg.header();
        let body = msg.body();
        let outcome = |o: &str| crate::door::PauseOutcome::parse(o);
        let choice = if for_page {
            body.deserialize::<(String, String)>()
                .ok()
                .and_then(|(o, p)| {
                    Some(crate::door::PauseChoice {
                        outcome: outcome(&o)?,
                        page: Some(crate::door::PageId::parse(&p)?),
                    })
                })
        } else {
            body.deserialize::<String>()
                .ok()
                .and_then(|o| outcome(&o))
                .map(|outcome| crate::door::PauseChoice {
                    outcome,
                    page: None,
                })
        };
        if let Some(conn) = &self.session {
            let _ = match choice {
                Some(_) => conn.reply(&header, &()).await,
                None => {
                    conn.reply_error(
                        &header,
                        "org.freedesktop.DBus.Error.InvalidArgs",
                        &if for_page {
                            "PauseResultFor takes (outcome: s, \"continued\" or \"closed\"; page: s, the page's id, 1 to 20 digits)"
                        } else {
                            "PauseResult takes (outcome: s, \"continued\" or \"closed\")"
                        },
                    )
                    .await
                }
            };
        }
        match choice {
            Some(c) => self.send(c.into()).await,
            None if !self.warned_malformed => {
                tracing::warn!("ignored a malformed pause page outcome (logged once)");
                self.warned_malformed = true;
            }
            None => {}
        }
    }

    pub(super) async fn on_system(&mut self, msg: &Message) -> bool {
        let header = msg.header();
        if header.message_type() != MsgType::Signal {
            return true;
        }
        let member = header.member().map(|m| m.as_str()).unwrap_or("");
        let iface = header.interface().map(|i| i.as_str()).unwrap_or("");
        let path = header.path().map(|p| p.as_str()).unwrap_or("");
        let ours = self.login_session.as_deref() == Some(path);
        let sender = header.sender().map(|s| s.as_str());
        if trust::signal_owner(iface, member).is_none() {
            return true;
        }
        // Only logind speaks for logind (a signal sent to the agent alone
        // bypasses the match rules' sender), and only the bus for its names.
        if !trust::signal_allowed(iface, member, sender, &self.system_owners) {
            self.refuse(member);
            return true;
        }
        match (iface, member) {
            (DBUS, "NameOwnerChanged") => {
                if let Ok((name, _old, new)) = msg.body().deserialize::<(String, String, String)>()
                {
                    if name == LOGIN1 {
                        self.system_owners.set(&name, &new);
                    }
                }
            }
            (LOGIN1_MANAGER, "PrepareForSleep") => {
                if let Ok(sleeping) = msg.body().deserialize::<bool>() {
                    tracing::info!(sleeping, "suspend");
                    self.send(WatchEvent::Sleeping(sleeping)).await;
                }
            }
            (LOGIN1_SESSION, "Lock") if ours => {
                self.set_lock(LockState {
                    logind: true,
                    ..self.lock
                })
                .await
            }
            (LOGIN1_SESSION, "Unlock") if ours => {
                self.set_lock(LockState {
                    logind: false,
                    ..self.lock
                })
                .await
            }
            (PROPERTIES, "PropertiesChanged") if ours => {
                if let Ok((iface, changed, _)) =
                    msg.body()
                        .deserialize::<(String, HashMap<String, OwnedValue>, Vec<String>)>()
                {
                    if iface == LOGIN1_SESSION {
                        if let Some(v) = changed.get("LockedHint") {
                            if let Ok(locked) = bool::try_from(v) {
                                self.set_lock(LockState {
                                    logind: locked,
                                    ..self.lock
                                })
                                .await;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        true
    }
}

/// The match rule that tells when the bus name `name` leaves.
pub(super) fn leave_rule(name: &str) -> String {
    format!(
        "type='signal',sender='{DBUS}',interface='{DBUS}',member='NameOwnerChanged',arg0='{name}'"
    )
}

/// `(app_id, title, pid)` from a `Focus` call: two strings and an optional
/// number (`u`, `i`, `x`, `t` or `d`: a KWin script passes JavaScript numbers).
pub(super) fn parse_focus(msg: &Message) -> Option<(String, String, Option<u32>)> {
    let body = msg.body();
    let sig = body.signature().to_string();
    let sig = sig.trim_start_matches('(').trim_end_matches(')');
    let clamp = |v: i64| u32::try_from(v).ok();
    match sig {
        "ss" => body
            .deserialize::<(String, String)>()
            .ok()
            .map(|(a, t)| (a, t, None)),
        "ssu" => body
            .deserialize::<(String, String, u32)>()
            .ok()
            .map(|(a, t, p)| (a, t, Some(p))),
        "ssi" => body
            .deserialize::<(String, String, i32)>()
            .ok()
            .map(|(a, t, p)| (a, t, clamp(i64::from(p)))),
        "ssx" => body
            .deserialize::<(String, String, i64)>()
            .ok()
            .map(|(a, t, p)| (a, t, clamp(p))),
        "sst" => body
            .deserialize::<(String, String, u64)>()
            .ok()
            .map(|(a, t, p)| (a, t, u32::try_from(p).ok())),
        "ssd" => body
            .deserialize::<(String, String, f64)>()
            .ok()
            .map(|(a, t, p)| {
                // A whole number in u32's range: the cast is exact.
                let pid =
                    (p.is_finite() && (1.0..=f64::from(u32::MAX)).contains(&p)).then_some(p as u32);
                (a, t, pid)
            }),
        _ => None,
    }
}
