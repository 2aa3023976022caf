#!/usr/bin/python3
"""A GTK3 test window for dwell's Wayland end-to-end tests.

    wayland-window.py APP_ID TITLE

The Wayland app id comes from GLib.set_prgname(APP_ID), set before any window
exists. Each line on stdin is a new title (a line "quit" ends the program).
Prints "mapped" once the window is mapped and "title N" after the N-th change
(stdout is flushed at once), so the test knows when the compositor has it.
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def say(text):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: wayland-window.py APP_ID TITLE\n")
        return 2
    app_id, title = sys.argv[1], sys.argv[2]
    GLib.set_prgname(app_id)
    win = Gtk.Window(title=title)
    win.set_default_size(400, 300)
    win.add(Gtk.Label(label="dwell end-to-end test window"))
    win.connect("destroy", Gtk.main_quit)
    win.connect("map-event", lambda *_: say("mapped") or False)
    changes = [0]

    def on_stdin(channel, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR):
            Gtk.main_quit()
            return False
        line = channel.readline()
        if not line:
            Gtk.main_quit()
            return False
        line = line.rstrip("\n")
        if line == "quit":
            Gtk.main_quit()
            return False
        win.set_title(line)
        changes[0] += 1
        # Let GTK send the new title to the compositor before saying so.
        GLib.idle_add(lambda n=changes[0]: say("title %d" % n) or False)
        return True

    channel = GLib.IOChannel.unix_new(sys.stdin.fileno())
    channel.set_encoding("utf-8")
    GLib.io_add_watch(channel, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    win.show_all()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
