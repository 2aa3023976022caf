// dwell end-to-end tests only: never install this in a real session.
//
// The one source, an ES module as GNOME Shell 45 and later load it; the harness makes the
// legacy (imports.*) build GNOME Shell 43 and 44 load from it when it installs it
// (legacy_build in tests/src/wayland/gnome_helper.rs: the import lines, the class line and
// console.log are swapped). The harness installs it with a metadata.json whose
// shell-version names the running major, so GNOME's version check stays on.
//
// org.gnome.Shell.Eval is disabled, so the tests drive the shell through this extension
// instead. It
//  - hides the overview once the shell has started (windows opened while the
//    overview shows get no focus), and
//  - owns org.dwell.TestHelper on the session bus, object /org/dwell/TestHelper:
//      Activate(u pid) -> (b found)   focus the window of that process
//      Focused() -> (s json)          the focused window as {"app_id", "title", "pid"}, or null
//      Windows() -> (s json)          every normal window, as a JSON array of the same
//      Nudge() -> ()                  move a virtual pointer by one pixel (resets idle)

import Clutter from 'gi://Clutter';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import Meta from 'gi://Meta';

import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

const IFACE = `
<node>
  <interface name="org.dwell.TestHelper">
    <method name="Activate">
      <arg type="u" direction="in" name="pid"/>
      <arg type="b" direction="out" name="found"/>
    </method>
    <method name="Focused">
      <arg type="s" direction="out" name="json"/>
    </method>
    <method name="Windows">
      <arg type="s" direction="out" name="json"/>
    </method>
    <method name="Nudge"/>
  </interface>
</node>`;

function describe(w) {
    return {app_id: w.get_wm_class() || '', title: w.get_title() || '', pid: Math.max(w.get_pid(), 0)};
}

function normalWindows() {
    return global.get_window_actors()
        .map(actor => actor.get_meta_window())
        .filter(w => w && w.get_window_type() === Meta.WindowType.NORMAL);
}

export default class DwellTestHelper extends Extension {
    constructor(metadata) {
        super(metadata);
        this._dbus = null;
        this._nameId = 0;
        this._startupId = 0;
        this._pointer = null;
        this._left = false;
    }

    Activate(pid) {
        const win = normalWindows().find(w => w.get_pid() === pid);
        if (!win)
            return false;
        Main.overview.hide();
        Main.activateWindow(win, global.display.get_current_time_roundtrip());
        return true;
    }

    Focused() {
        const w = global.display.get_focus_window();
        return JSON.stringify(w ? describe(w) : null);
    }

    Windows() {
        return JSON.stringify(normalWindows().map(describe));
    }

    Nudge() {
        if (!this._pointer) {
            const seat = Clutter.get_default_backend().get_default_seat();
            this._pointer = seat.create_virtual_device(Clutter.InputDeviceType.POINTER_DEVICE);
        }
        this._left = !this._left;
        this._pointer.notify_relative_motion(GLib.get_monotonic_time(), this._left ? -1 : 1, 0);
    }

    enable() {
        this._dbus = Gio.DBusExportedObject.wrapJSObject(IFACE, this);
        this._dbus.export(Gio.DBus.session, '/org/dwell/TestHelper');
        if (Main.layoutManager._startingUp) {
            this._startupId = Main.layoutManager.connect('startup-complete', () => {
                Main.overview.hide();
                this._ownName();
            });
        } else {
            Main.overview.hide();
            this._ownName();
        }
    }

    // The name is taken once the overview is gone: owning it means "ready".
    _ownName() {
        this._nameId = Gio.bus_own_name_on_connection(Gio.DBus.session,
            'org.dwell.TestHelper', Gio.BusNameOwnerFlags.NONE, null, null);
        console.log('dwell-test-helper: ready');
    }

    disable() {
        if (this._startupId)
            Main.layoutManager.disconnect(this._startupId);
        this._startupId = 0;
        if (this._nameId)
            Gio.bus_unown_name(this._nameId);
        this._nameId = 0;
        if (this._dbus)
            this._dbus.unexport();
        this._dbus = null;
        this._pointer = null;
    }
}
