/* dwell focus reporter, for GNOME Shell 45 and later (ES modules).
 *
 * Tells the local dwell agent (session bus name org.dwell.Agent) which app and
 * window title has focus, and nothing else: Focus(app_id, title, pid), with
 * empty strings and 0 when no window has focus; again whenever the agent's
 * name appears on the bus (it started after the shell). When the agent is not running
 * the call fails: that is logged once until a call succeeds again, and nothing
 * is queued or retried (the next focus change reports afresh).
 *
 * Installed by `dwell-agent gnome-extension install`, which makes the build for
 * GNOME Shell 40 to 44 (the legacy imports.gi API) from this file: see
 * `legacy_from_esm` in agent/src/cmd/gnome_extension.rs.
 */
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';

import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

const BUS_NAME = 'org.dwell.Agent';
const OBJECT_PATH = '/org/dwell/Agent';
const INTERFACE = 'org.dwell.Agent1';

export default class DwellFocusExtension extends Extension {
    constructor(metadata) {
        super(metadata);
        this._focusId = 0;
        this._window = null;
        this._titleId = 0;
        this._failing = false;
        this._watchId = 0;
    }

    enable() {
        this._focusId = global.display.connect('notify::focus-window',
            () => this._onFocus());
        // When the agent (re)starts after the shell, tell it what has focus
        // now; only an owner of the name whose process is dwell-agent is told.
        this._owner = null;
        this._watchId = Gio.bus_watch_name(Gio.BusType.SESSION, BUS_NAME,
            Gio.BusNameWatcherFlags.NONE, (c, name, owner) => this._checkOwner(owner),
            () => {
                this._owner = null;
            });
        this._onFocus();
    }

    disable() {
        if (this._watchId) {
            Gio.bus_unwatch_name(this._watchId);
            this._watchId = 0;
        }
        if (this._focusId) {
            global.display.disconnect(this._focusId);
            this._focusId = 0;
        }
        this._unwatch();
        this._report('', '', 0);
    }

    _onFocus() {
        const win = global.display.focus_window;
        if (win !== this._window) {
            this._unwatch();
            if (win) {
                this._window = win;
                this._titleId = win.connect('notify::title',
                    () => this._reportWindow(win));
            }
        }
        if (win)
            this._reportWindow(win);
        else
            this._report('', '', 0);
    }

    _unwatch() {
        if (this._window && this._titleId)
            this._window.disconnect(this._titleId);
        this._window = null;
        this._titleId = 0;
    }

    _reportWindow(win) {
        const appId = win.get_gtk_application_id() || win.get_wm_class() || '';
        const pid = win.get_pid();
        this._report(appId, win.get_title() || '', pid > 0 ? pid : 0);
    }

    // The name's owner gets window titles only if its process is dwell-agent
    // (GetConnectionUnixProcessID, then /proc/PID/exe); reports then go to
    // that connection alone, never to whoever holds the name later.
    _checkOwner(owner) {
        this._owner = null;
        Gio.DBus.session.call('org.freedesktop.DBus', '/org/freedesktop/DBus',
            'org.freedesktop.DBus', 'GetConnectionUnixProcessID',
            new GLib.Variant('(s)', [owner]), null, Gio.DBusCallFlags.NONE, 1000, null,
            (connection, result) => {
                let program = '';
                try {
                    const [pid] = connection.call_finish(result).deep_unpack();
                    const exe = GLib.file_read_link(`/proc/${pid}/exe`);
                    program = GLib.path_get_basename(exe.replace(/ \(deleted\)$/, ''));
                } catch (e) {
                    program = '';
                }
                if (program === 'dwell-agent') {
                    this._owner = owner;
                    this._onFocus();
                } else {
                    console.warn(`dwell-focus: ${BUS_NAME} is owned by a program that is not dwell-agent; it is told nothing`);
                }
            });
    }

    _report(appId, title, pid) {
        if (!this._owner)
            return;
        Gio.DBus.session.call(this._owner, OBJECT_PATH, INTERFACE, 'Focus',
            new GLib.Variant('(ssu)', [appId, title, pid]), null,
            Gio.DBusCallFlags.NO_AUTO_START, 1000, null,
            (connection, result) => {
                try {
                    connection.call_finish(result);
                    this._failing = false;
                } catch (e) {
                    if (!this._failing) {
                        this._failing = true;
                        console.warn(`dwell-focus: the dwell agent did not take a focus report (${e.message}); not retrying, the next focus change reports again`);
                    }
                }
            });
    }
}
