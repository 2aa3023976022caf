/* dwell focus reporter, for GNOME Shell 40 to 44 (the legacy imports.gi API).
 *
 * Tells the local dwell agent (session bus name org.dwell.Agent) which app and
 * window title has focus, and nothing else: Focus(app_id, title, pid), with
 * empty strings and 0 when no window has focus; again whenever the agent's
 * name appears on the bus (it started after the shell). When the agent is not running
 * the call fails: that is logged once until a call succeeds again, and nothing
 * is queued or retried (the next focus change reports afresh).
 *
 * Installed by `dwell-agent gnome-extension install`; the shell 45+ twin is
 * ../esm/extension.js: keep the two alike.
 */
'use strict';

const { Gio, GLib } = imports.gi;

const BUS_NAME = 'org.dwell.Agent';
const OBJECT_PATH = '/org/dwell/Agent';
const INTERFACE = 'org.dwell.Agent1';

class Extension {
    constructor() {
        this._focusId = 0;
        this._window = null;
        this._titleId = 0;
        this._failing = false;
        this._watchId = 0;
    }

    enable() {
        this._focusId = global.display.connect('notify::focus-window',
            () => this._onFocus());
        // When the agent (re)starts after the shell, tell it what has focus now.
        this._watchId = Gio.bus_watch_name(Gio.BusType.SESSION, BUS_NAME,
            Gio.BusNameWatcherFlags.NONE, () => this._onFocus(), null);
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

    _report(appId, title, pid) {
        Gio.DBus.session.call(BUS_NAME, OBJECT_PATH, INTERFACE, 'Focus',
            new GLib.Variant('(ssu)', [appId, title, pid]), null,
            Gio.DBusCallFlags.NO_AUTO_START, 1000, null,
            (connection, result) => {
                try {
                    connection.call_finish(result);
                    this._failing = false;
                } catch (e) {
                    if (!this._failing) {
                        this._failing = true;
                        log(`dwell-focus: the dwell agent did not take a focus report (${e.message}); not retrying, the next focus change reports again`);
                    }
                }
            });
    }
}

function init() {
    return new Extension();
}
