#!/usr/bin/env bash
# dwell end to end under Wine, inside the Windows root (run by scripts/test-windows, which
# checks the results with tests/windows/check.py): Xvfb + openbox, copies of
# dwell-test-window.exe named msedge.exe, chrome.exe, Discord.exe, WINWORD.EXE and
# notes.exe, the real `dwell-agent.exe run` opted in with a config of its own, and a focus
# plan driven with xdotool (activations, pointer moves, key presses), with a title change,
# a screen lock and time away from the keyboard in the middle (the lock sent to the watcher's window as Windows
# would: Wine never locks), then a site counted through the browser extension's way in: a
# second msedge.exe starts dwell-native-host.exe as Edge does (through cmd.exe) and the test
# writes the extension's frames to it (the focused tab's host), while that window, then
# another program, has the foreground.
#
#   tests/windows/e2e.sh EXE_DIR WORK TOKEN
#
# EXE_DIR holds dwell-agent.exe, dwell-report.exe, dwell-native-host.exe and
# dwell-test-window.exe; WORK is an empty directory for the data, the config, the logs and
# what the checks read:
#   plan.tsv      the focus plan as driven: when each change was done
#   status.json   `dwell-agent status --json` while the agent runs
#   day.json      `dwell-report day --json` after it stopped
#   agent.log     the agent's log (debug)
#   host.out      what dwell-native-host.exe answered the "browser" (framed JSON)
#   host.log      its log (at its default level, info) and its msedge.exe's standard error
# TOKEN is planted in window titles, and in lower case in the hosts the extension reports
# (TOKEN.reddit.com, TOKEN.example.com); it must end up nowhere (the hosts: in no log line
# above debug). Needs WINEPREFIX set.
set -euo pipefail
exe_dir=$1 work=$2 token=$3
apps=$work/apps data=$work/data config=$work/config.toml
# The host names the extension reports: a host name is lower case.
htok=$(printf '%s' "$token" | tr '[:upper:]' '[:lower:]')
mkdir -p "$apps"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wineserver -k 2>/dev/null || true
}
trap cleanup EXIT
die() {
  echo "tests/windows/e2e.sh: $*" >&2
  if [ -f "$work/agent.log" ]; then tail -n 30 "$work/agent.log" >&2; fi
  exit 1
}
now() { date +%s.%N; }
# In parentheses: a bare `>` in awk's printf writes to a file.
calc() { awk "BEGIN { printf \"%.3f\", ($*) }"; }

# The desktop.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
exec 3>&-
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || die "Xvfb did not start: $(cat "$work/xvfb.log")"
DISPLAY=:$(head -n 1 "$work/display")
export DISPLAY
openbox >"$work/openbox.log" 2>&1 &
pids+=($!)
# Wine's own processes (wineserver, explorer) first, so they are not timed in the plan.
wine cmd /c exit 0 >/dev/null 2>&1 || die "wine does not start"

win() { winepath -w "$1"; }
agent() { wine "$exe_dir/dwell-agent.exe" --data-dir "$(win "$data")" --config "$(win "$config")" "$@"; }
report() { wine "$exe_dir/dwell-report.exe" --data-dir "$(win "$data")" --config "$(win "$config")" "$@"; }

cat >"$config" <<'EOF'
[tracking]
idle_timeout = "5s"
[schedule]
record = "always"
EOF
agent enable --yes >"$work/enable.out" 2>&1 || die "enable failed: $(cat "$work/enable.out")"

# The programs: one .exe under the names of the programs it plays.
for name in msedge.exe chrome.exe Discord.exe WINWORD.EXE notes.exe; do
  cp "$exe_dir/dwell-test-window.exe" "$apps/$name"
done
# opens NAME TITLE [ARGS…]: starts the program and prints its X window once mapped.
opens() {
  local name=$1 title=$2
  shift 2
  # In a subshell: ended by `wineserver -k` at exit, with every Wine process.
  wine "$apps/$name" "$title" "$@" >>"$work/apps.log" 2>&1 &
  window_of "$name" "$title"
}
# window_of NAME TITLE: prints the X window titled TITLE once mapped.
window_of() {
  local name=$1 title=$2 id= re
  re="^$(printf '%s' "$title" | sed 's/[][().*+?|^$\\]/\\&/g')\$"
  # Polled, not --sync: a search fails outright when a window it looks at vanishes
  # meanwhile (BadWindow), which Wine's short-lived windows do.
  for _ in $(seq 150); do
    id=$(xdotool search --onlyvisible --name "$re" 2>/dev/null | head -n 1) || true
    [ -n "$id" ] && break
    sleep 0.2
  done
  [ -n "$id" ] || die "no window '$name' within 30 s"
  echo "$id"
}
notes=$(opens notes.exe "Meeting notes")
# A page whose title names the site as its last component, with the token before it.
edge=$(opens msedge.exe "$token | Facebook - Microsoft Edge")
# The Word trap: a document named after Facebook; Word is not a browser.
word=$(opens WINWORD.EXE "Facebook $token review.docx - Word")
# Discord counts by program name, whatever its title.
discord=$(opens Discord.exe "#general $token - Discord")
# A title change while it has focus: mail, then (2 s after it comes to the front) Facebook.
chrome=$(opens chrome.exe "Inbox - Outlook - Google Chrome" --retitle 2 "$token | Facebook - Google Chrome")
# Edge with dwell's extension: msedge.exe starts dwell-native-host.exe through cmd.exe, with
# the extension's origin, as Edge does; the host reads the extension's port, here the
# fifo `port`, on its standard input. Its title names no site: only the host the extension
# reports can make it count. `sleep` holds the port open for writing (each frame is
# written by a short process of its own, so no other process keeps the port open); once
# it ends, the host reads the end of its input, as when the browser closes the port.
mkfifo "$work/port"
wine "$apps/msedge.exe" "New tab $token - Microsoft Edge" \
  --native-host "$(win "$exe_dir/dwell-native-host.exe")" chrome-extension://mdbmdcjahoajldikneojnlbokdlmghlk/ \
  <"$work/port" >"$work/host.out" 2>"$work/host.log" &
sleep infinity >"$work/port" &
port_holder=$!
pids+=($port_holder)
edge_ext=$(window_of msedge.exe "New tab $token - Microsoft Edge")

xdotool windowactivate --sync "$notes"
DWELL_LOG=debug wine "$exe_dir/dwell-agent.exe" --data-dir "$(win "$data")" --config "$(win "$config")" run \
  >"$work/agent.out" 2>"$work/agent.log" &
agent_pid=$!
pids+=($agent_pid)
for _ in $(seq 300); do grep -q "watching focus" "$work/agent.log" 2>/dev/null && break; sleep 0.1; done
grep -q "watching focus" "$work/agent.log" || die "the agent did not log 'watching focus' within 30 s"
# Wine starts the agent slowly: it may begin idle (no input for the 5 s timeout). A key,
# and a quiet moment for the agent to see it (it looks once a second while idle).
xdotool key shift
sleep 2

# The plan as driven: plan.tsv, one line per change, "SECONDS-SINCE-EPOCH WHAT" (a site,
# other, idle, lock or unlock), each taken when the change is done (the activation has
# returned, the message has been handled), which is when the agent sees it.
mark() { echo "$(now) $1" >>"$work/plan.tsv"; }
# to WINDOW WHAT: brings WINDOW to the front and marks WHAT.
to() {
  xdotool windowactivate --sync "$1"
  mark "$2"
}
# hold WINDOW SECONDS: moves the pointer and presses a key every half second (input, as
# a person would) until SECONDS have passed.
hold() {
  local id=$1 t0
  t0=$(now)
  while [ "$(calc "$(now) < $t0 + $2 - 0.6")" = 1.000 ]; do
    xdotool mousemove --window "$id" $((RANDOM % 300 + 20)) $((RANDOM % 200 + 20)) key shift
    sleep 0.5
  done
  local left
  left=$(calc "$t0 + $2 - $(now)")
  if [ "$(calc "$left > 0")" = 1.000 ]; then sleep "$left"; fi
}
to "$edge" facebook.com && hold "$edge" 6
to "$word" other && hold "$word" 4
to "$discord" discord.com && hold "$discord" 5
to "$edge" facebook.com && hold "$edge" 3
# Locked for 2 s while Edge has focus: not counted. The watcher's window gets what
# Windows would send (WTS_SESSION_LOCK 7, WTS_SESSION_UNLOCK 8); SendMessage returns once
# it is handled. A key at the lock screen (the password) before the unlock.
wine "$apps/notes.exe" --notify session 7 || die "cannot send the lock"
mark lock
sleep 2
xdotool key shift
wine "$apps/notes.exe" --notify session 8 || die "cannot send the unlock"
mark unlock
hold "$edge" 2
# Mail, then Facebook in the same window 2 s after it came to the front.
to "$chrome" other
echo "$(calc "$(tail -n 1 "$work/plan.tsv" | cut -d' ' -f1) + 2") facebook.com" >>"$work/plan.tsv"
hold "$chrome" 6
to "$discord" discord.com && hold "$discord" 3
# Away from the keyboard on Facebook: no input for 8 s (the idle timeout is 5 s), then a
# key. Nothing counts from the last input (Wine counts the activation as one) to the key.
to "$edge" facebook.com
mark idle
sleep 8
xdotool key shift
mark facebook.com
# GetLastInputInfo tells only the latest input, and the agent looks once a second while
# away: a quiet second after the key lets it see that key as the return (with input
# right after, the return is seen up to 1 s late, as for any polled idle source).
sleep 1.5
hold "$edge" 2

# The browser extension's way in. tab HOST: the extension's report that Edge's focused
# window shows a tab on HOST, framed as the browser frames it (a u32 length in native
# order, then the JSON the extension posts), written to the host's port.
tab() {
  python3 -c '
import json, struct, sys
body = json.dumps({"host": sys.argv[1], "private": False, "audible": False, "focused": True},
                  separators=(",", ":")).encode()
sys.stdout.buffer.write(struct.pack("=I", len(body)) + body)' "$1" >>"$work/port"
}
# The first report while another program has the foreground: the extension connects (the
# agent names the browser from the host's ancestors: Edge, not the origin's "chromium"),
# nothing counts yet. Input meanwhile, so the agent is not idle when Edge comes to the front.
to "$notes" other
tab "$htok.reddit.com"
for _ in $(seq 50); do
  grep -q "browser extension connected browser=edge" "$work/agent.log" && break
  xdotool key shift
  sleep 0.2
done
grep -q "browser extension connected browser=edge" "$work/agent.log" \
  || die "no 'browser extension connected browser=edge' within 10 s of the host's first frame: $(cat "$work/host.log")"
hold "$notes" 2
# Edge in front: its tab's host counts (reddit.com), not its title.
to "$edge_ext" reddit.com && hold "$edge_ext" 5
# Another tab, on a site that is not social: counting stops.
tab "$htok.example.com" && mark other && hold "$edge_ext" 3
tab "$htok.reddit.com" && mark reddit.com && hold "$edge_ext" 4
# Another program in front: the host still says its tab is focused (the extension's word on
# window focus may come late or never), yet Reddit stops counting: the foreground window
# decides. It counts again when Edge is back.
to "$notes" other && hold "$notes" 3
to "$edge_ext" reddit.com && hold "$edge_ext" 3
to "$notes" other && sleep 1

agent status --json >"$work/status.json" 2>"$work/status.err" || die "status --json failed: $(cat "$work/status.err")"
# The browser closes the port: the host reads the end of its input and leaves, and the
# agent sees its connection end.
kill "$port_holder"
for _ in $(seq 100); do grep -q "a browser extension disconnected" "$work/agent.log" && break; sleep 0.1; done
grep -q "a browser extension disconnected" "$work/agent.log" \
  || die "the agent did not see the host leave within 10 s of the end of its input: $(cat "$work/host.log")"
agent disable --yes >"$work/disable.out" 2>&1 || die "disable failed: $(cat "$work/disable.out")"
for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$agent_pid" 2>/dev/null; then die "the agent still runs 10 s after disable"; fi
report day --json >"$work/day.json" 2>"$work/day.err" || die "report day --json failed: $(cat "$work/day.err")"
echo "e2e plan done: $(wc -l <"$work/plan.tsv") changes"
