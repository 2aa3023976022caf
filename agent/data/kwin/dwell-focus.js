// dwell focus reporter for KWin (Plasma 5.27 and 6).
//
// Tells the local dwell agent which app and window title has focus, and nothing
// else: Focus(app_id, title, pid), with empty strings and 0 when no window has
// focus. The agent loads this script with DWELL_SERVICE set to its own unique
// bus name (":1.N"), never given to another connection: if that agent is gone
// (killed before it could unload this script), the call reaches no one. It
// fails silently (callDBus without a callback logs nothing) and is not retried:
// the next focus change reports again.

var DWELL_SERVICE = "org.dwell.Agent"; // replaced by the agent's unique name
var DWELL_PATH = "/org/dwell/Agent";
var DWELL_INTERFACE = "org.dwell.Agent1";

// KWin 6 renamed clients to windows.
var kwin6 = typeof workspace.windowActivated !== "undefined";

var watched = null; // the window whose captionChanged we are connected to
var pendingEmpty = null; // a timer that confirms "no window has focus"

function activeWindow() {
    return kwin6 ? workspace.activeWindow : workspace.activeClient;
}

function text(value) {
    return value === null || value === undefined ? "" : String(value);
}

function report(appId, title, pid) {
    callDBus(DWELL_SERVICE, DWELL_PATH, DWELL_INTERFACE, "Focus", appId, title, pid);
}

function reportWindow(w) {
    var appId = text(w.resourceClass);
    if (appId === "") {
        appId = text(w.desktopFileName);
    }
    var pid = Number(w.pid);
    if (!isFinite(pid) || pid < 0) {
        pid = 0;
    }
    report(appId, text(w.caption), pid);
}

function onCaptionChanged() {
    if (watched !== null) {
        reportWindow(watched);
    }
}

function unwatch() {
    if (watched !== null) {
        try {
            watched.captionChanged.disconnect(onCaptionChanged);
        } catch (e) {
            // The window is gone already.
        }
        watched = null;
    }
}

// "No window" is reported only when it lasts: every switch first activates
// nothing, then the new window, in one go.
function confirmEmpty() {
    if (typeof QTimer === "undefined") {
        return;
    }
    if (pendingEmpty === null) {
        pendingEmpty = new QTimer();
        pendingEmpty.singleShot = true;
        pendingEmpty.interval = 0;
        pendingEmpty.timeout.connect(function () {
            if (!activeWindow()) {
                report("", "", 0);
            }
        });
    }
    pendingEmpty.start();
}

function onActivated(w) {
    if (!w) {
        unwatch();
        confirmEmpty();
        return;
    }
    if (pendingEmpty !== null) {
        pendingEmpty.stop();
    }
    if (w !== watched) {
        unwatch();
        watched = w;
        w.captionChanged.connect(onCaptionChanged);
    }
    reportWindow(w);
}

if (kwin6) {
    workspace.windowActivated.connect(onActivated);
} else {
    workspace.clientActivated.connect(onActivated);
}

var current = activeWindow();
if (current) {
    onActivated(current);
} else {
    report("", "", 0);
}
