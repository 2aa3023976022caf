//! Compositors that start neither XDG autostart entries nor
//! `graphical-session.target` by themselves (sway, Hyprland, labwc, river),
//! told apart from the session's environment, and the one line to add to
//! each one's own config so dwell starts at login. Pure: the caller passes
//! the environment and prints the words.

use super::UNIT_NAME;

/// A compositor that needs a line in its own config to start dwell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compositor {
    Sway,
    Hyprland,
    Labwc,
    River,
}

/// How dwell was set to start: which the line has to set off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started<'a> {
    /// A systemd user unit (written or packaged).
    Systemd,
    /// Otherwise: the agent's own command line.
    Exec(&'a [String]),
}

impl Compositor {
    /// Its name, as people know it.
    pub fn name(self) -> &'static str {
        match self {
            Compositor::Sway => "sway",
            Compositor::Hyprland => "Hyprland",
            Compositor::Labwc => "labwc",
            Compositor::River => "river",
        }
    }

    /// The file the line goes into (shown with `~`).
    pub fn config_file(self) -> &'static str {
        match self {
            Compositor::Sway => "~/.config/sway/config",
            Compositor::Hyprland => "~/.config/hypr/hyprland.conf",
            Compositor::Labwc => "~/.config/labwc/autostart",
            Compositor::River => "~/.config/river/init",
        }
    }

    /// The session variables the unit needs, besides `WAYLAND_DISPLAY` and
    /// `XDG_CURRENT_DESKTOP`.
    fn own_variable(self) -> Option<&'static str> {
        match self {
            Compositor::Sway => Some("SWAYSOCK"),
            Compositor::Hyprland => Some("HYPRLAND_INSTANCE_SIGNATURE"),
            Compositor::Labwc | Compositor::River => None,
        }
    }

    /// The exact line to add to [`Compositor::config_file`].
    pub fn line(self, started: Started<'_>) -> String {
        let command = match started {
            Started::Systemd => {
                let mut vars = String::from("WAYLAND_DISPLAY XDG_CURRENT_DESKTOP");
                if let Some(v) = self.own_variable() {
                    vars.push(' ');
                    vars.push_str(v);
                }
                format!(
                    "systemctl --user import-environment {vars}; systemctl --user start {UNIT_NAME}"
                )
            }
            Started::Exec(exec) => exec
                .iter()
                .map(|a| sh_quote(a))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let background = matches!(started, Started::Exec(_));
        match self {
            // sway runs `exec` through `sh -c`; the quotes keep its `;` in.
            Compositor::Sway => format!("exec \"{}\"", command.replace('"', "\\\"")),
            Compositor::Hyprland => format!("exec-once = {command}"),
            // Shell scripts run at start: the agent itself must not hold them up.
            Compositor::Labwc | Compositor::River if background => format!("{command} &"),
            Compositor::Labwc | Compositor::River => command,
        }
    }
}

/// The compositor of this session, from its environment (`env` reads a
/// variable): its own variables first, then `XDG_CURRENT_DESKTOP`.
pub fn detect(env: impl Fn(&str) -> Option<String>) -> Option<Compositor> {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if set("SWAYSOCK") {
        return Some(Compositor::Sway);
    }
    if set("HYPRLAND_INSTANCE_SIGNATURE") {
        return Some(Compositor::Hyprland);
    }
    if set("LABWC_PID") {
        return Some(Compositor::Labwc);
    }
    let desktops = env("XDG_CURRENT_DESKTOP").unwrap_or_default();
    desktops
        .split(':')
        .find_map(|d| match d.trim().to_ascii_lowercase().as_str() {
            "sway" => Some(Compositor::Sway),
            "hyprland" => Some(Compositor::Hyprland),
            "labwc" | "wlroots:labwc" => Some(Compositor::Labwc),
            "river" => Some(Compositor::River),
            _ => None,
        })
}

/// What `install` (and so `setup`) says on such a compositor: it does not
/// start dwell by itself, and the line that does.
pub fn instructions(c: Compositor, started: Started<'_>) -> String {
    let what = match started {
        Started::Systemd => "does not start graphical-session.target by itself",
        Started::Exec(_) => "does not run ~/.config/autostart entries",
    };
    format!(
        "{name} {what}: for dwell to start at every login, add this line to {file}:\n\n    {line}\n",
        name = c.name(),
        file = c.config_file(),
        line = c.line(started),
    )
}

/// One argument for `sh`: as it is when plain, else in single quotes.
fn sh_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '=' | ':' | '+' | ',')
        });
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn compositors_are_told_from_their_environment() {
        assert_eq!(
            detect(env(&[("SWAYSOCK", "/run/user/1000/sway-ipc.sock")])),
            Some(Compositor::Sway)
        );
        assert_eq!(
            detect(env(&[("HYPRLAND_INSTANCE_SIGNATURE", "abc")])),
            Some(Compositor::Hyprland)
        );
        assert_eq!(
            detect(env(&[("LABWC_PID", "812")])),
            Some(Compositor::Labwc)
        );
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "river")])),
            Some(Compositor::River)
        );
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "sway")])),
            Some(Compositor::Sway)
        );
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "Hyprland")])),
            Some(Compositor::Hyprland)
        );
        // GNOME, Plasma and the rest run autostart entries and the target.
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")])),
            None
        );
        assert_eq!(detect(env(&[("XDG_CURRENT_DESKTOP", "KDE")])), None);
        assert_eq!(detect(env(&[("SWAYSOCK", "")])), None);
        assert_eq!(detect(env(&[])), None);
    }

    #[test]
    fn each_compositor_gets_its_own_line_with_systemd() {
        assert_eq!(
            Compositor::Sway.line(Started::Systemd),
            "exec \"systemctl --user import-environment WAYLAND_DISPLAY XDG_CURRENT_DESKTOP SWAYSOCK; systemctl --user start dwell-agent.service\""
        );
        assert_eq!(
            Compositor::Hyprland.line(Started::Systemd),
            "exec-once = systemctl --user import-environment WAYLAND_DISPLAY XDG_CURRENT_DESKTOP HYPRLAND_INSTANCE_SIGNATURE; systemctl --user start dwell-agent.service"
        );
        assert_eq!(
            Compositor::Labwc.line(Started::Systemd),
            "systemctl --user import-environment WAYLAND_DISPLAY XDG_CURRENT_DESKTOP; systemctl --user start dwell-agent.service"
        );
    }

    #[test]
    fn without_systemd_the_line_runs_the_agent() {
        let exec = ["/usr/bin/dwell-agent".to_owned(), "run".to_owned()];
        assert_eq!(
            Compositor::Sway.line(Started::Exec(&exec)),
            "exec \"/usr/bin/dwell-agent run\""
        );
        assert_eq!(
            Compositor::Hyprland.line(Started::Exec(&exec)),
            "exec-once = /usr/bin/dwell-agent run"
        );
        assert_eq!(
            Compositor::Labwc.line(Started::Exec(&exec)),
            "/usr/bin/dwell-agent run &"
        );
        assert_eq!(
            Compositor::River.line(Started::Exec(&exec)),
            "/usr/bin/dwell-agent run &"
        );
        let odd = [
            "/home/me/my dwell/dwell-agent".to_owned(),
            "run".to_owned(),
            "--data-dir".to_owned(),
            "/d/it's".to_owned(),
        ];
        assert_eq!(
            Compositor::Hyprland.line(Started::Exec(&odd)),
            "exec-once = '/home/me/my dwell/dwell-agent' run --data-dir '/d/it'\\''s'"
        );
    }

    #[test]
    fn the_instructions_name_the_file_and_the_line() {
        let exec = ["/usr/bin/dwell-agent".to_owned(), "run".to_owned()];
        let t = instructions(Compositor::Sway, Started::Exec(&exec));
        assert!(
            t.starts_with("sway does not run ~/.config/autostart entries"),
            "{t}"
        );
        assert!(
            t.contains("~/.config/sway/config:\n\n    exec \"/usr/bin/dwell-agent run\"\n"),
            "{t}"
        );
        let t = instructions(Compositor::Labwc, Started::Systemd);
        assert!(t.contains("graphical-session.target"), "{t}");
        assert!(t.contains("~/.config/labwc/autostart"), "{t}");
    }
}
