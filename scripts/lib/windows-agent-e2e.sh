#!/bin/sh
# dwell-agent.exe end to end under Wine, run by scripts/test-windows inside the
# Windows root, with the data and config in their default places (%LOCALAPPDATA%\dwell,
# %APPDATA%\dwell\config.toml). The agent runs as Windows starts it at log-in:
# the program and arguments of the Run value `install` wrote (the windowless
# dwell-agent-background.exe beside AGENT_EXE, `run`; install also registers dwell's
# AppUserModelID for its toasts, which a plain uninstall leaves and uninstall --all removes). Writes what each step said into OUT; the checks of
# the JSON are scripts/test-windows'. Fails on the first step that does.
#
# Last, the end of the session: in Xvfb + openbox (Wine makes the watcher's hidden
# window only with a display), the agent runs with Notepad in front (an open span),
# then `wineboot --end-session` sends WM_QUERYENDSESSION and WM_ENDSESSION to every
# window, as a log-off does, and ends each program once its WM_ENDSESSION returns.
# The span must be recorded up to the log-off (within 1 s), and the agent must have
# stopped as at `disable` (its log says so, `status` says not running).
#
#   windows-agent-e2e.sh AGENT_EXE WINEPREFIX OUT
set -u
agent=$1 prefix=$2 out=$3
roaming=$prefix/drive_c/users/root/AppData/Roaming/dwell
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'
# dwell's AppUserModelID (its toasts' sender), registered by install: APP_ID in the source.
app_id=$(sed -n 's/^pub const APP_ID: &str = "\([^"]*\)";$/\1/p' agent/src/notify/windows.rs)
[ -n "$app_id" ] || { echo "windows-agent-e2e: no APP_ID in agent/src/notify/windows.rs" >&2; exit 1; }
app_id_key="HKCU\\Software\\Classes\\AppUserModelId\\$app_id"

fail() { echo "windows-agent-e2e: $*" >&2; exit 1; }

# wait_status NAME PATTERN: `status --json` into OUT/NAME until it matches PATTERN
# (30 s at most: each wine start takes a moment).
wait_status() {
  i=0
  while [ "$i" -lt 60 ]; do
    if wine "$agent" status --json >"$out/$1" 2>>"$out/status.err" && grep -Eq "$2" "$out/$1"; then
      return 0
    fi
    sleep 0.5
    i=$((i + 1))
  done
  fail "status --json never said $2 (the last answer is $out/$1)"
}

mkdir -p "$roaming"
printf '[schedule]\nrecord = "always"\n' >"$roaming/config.toml"
wine "$agent" status --json >"$out/status.before.json" 2>"$out/status.err" || fail "status --json failed"

wine "$agent" install --no-start >"$out/install.out" 2>&1 || fail "install failed"
wine reg query "$run_key" /v dwell >"$out/reg.installed.out" 2>&1 || fail "no Run value after install"
# The Run value starts the windowless program beside dwell-agent.exe (no console
# window at log-in): `"…\dwell-agent-background.exe" run` or the same unquoted.
line=$(sed -n 's/^ *dwell *REG_SZ *//p' "$out/reg.installed.out" | tr -d '\r')
case $line in
  \"*) exe=${line#\"}; exe=${exe%%\"*}; rest=${line#\"*\"} ;;
  *) exe=${line%% *}; rest=${line#"$exe"} ;;
esac
case $exe in
  *\\dwell-agent-background.exe) ;;
  *) fail "the Run value does not start dwell-agent-background.exe: $line" ;;
esac
[ "$(echo $rest)" = run ] || fail "the Run value's arguments are not just run: $line"
wine reg query "$app_id_key" >"$out/reg.app-id.out" 2>&1 || fail "install registered no AppUserModelID $app_id"
grep -Eq 'DisplayName +REG_SZ +dwell' "$out/reg.app-id.out" || fail "the AppUserModelID has not dwell's name: $(cat "$out/reg.app-id.out")"
wine "$agent" uninstall >"$out/uninstall.out" 2>&1 || fail "uninstall failed"
if wine reg query "$run_key" /v dwell >"$out/reg.uninstalled.out" 2>&1; then
  fail "the Run value is still there after uninstall"
fi
wine reg query "$app_id_key" >>"$out/reg.uninstalled.out" 2>&1 ||
  fail "a plain uninstall removed the AppUserModelID $app_id (only --all removes it)"
wine "$agent" uninstall --all >"$out/uninstall-all.out" 2>&1 || fail "uninstall --all failed"
if wine reg query "$app_id_key" >"$out/reg.uninstalled-all.out" 2>&1; then
  fail "the AppUserModelID $app_id is still registered after uninstall --all"
fi

wine "$agent" enable --yes >"$out/enable.out" 2>&1 || fail "enable failed"
# Started as Windows starts it at log-in: the Run value's program and arguments.
# shellcheck disable=SC2086 # the value's arguments, split as Windows would (no spaces)
wine "$exe" $rest >"$out/run.log" 2>&1 &
run=$!
wait_status status.running.json '"backend": "windows"'
wine "$agent" pause 10m >"$out/pause.out" 2>&1 || fail "pause failed"
# Saved while it runs: refused (the previous config stays), then fixed and taken.
printf '[schedule]\nrecord = "always"\n[limits]\ndaily = "soon"\n' >"$roaming/config.toml"
wait_status status.refused.json '"config_error": "'
printf '[schedule]\nrecord = "always"\n[limits]\ndaily = "20m"\n' >"$roaming/config.toml"
wait_status status.fixed.json '"config_error": null'
wine "$agent" disable --yes >"$out/disable.out" 2>&1 || fail "disable failed"
wait "$run" || fail "the agent ended with an error (see $out/run.log)"

# ---- the end of the session (log-off, shut-down) ----------------------------------------
# The processes above had no display: all gone first, so the next ones get one.
wineserver -w
desk=$(mktemp -d)
# shellcheck disable=SC2317 # called by the trap
stop_desktop() { kill "$openbox" "$xvfb" 2>/dev/null; rm -rf "$desk"; }
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$desk/display" >"$out/xvfb.log" 2>&1 &
xvfb=$! openbox=
trap stop_desktop EXIT
i=0
while [ ! -s "$desk/display" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$desk/display" ] || fail "Xvfb did not start (see $out/xvfb.log)"
DISPLAY=:$(head -n 1 "$desk/display")
export DISPLAY
openbox >"$out/openbox.log" 2>&1 &
openbox=$!
wine "$agent" enable --yes >"$out/enable.session.out" 2>&1 || fail "enable failed (session end)"
# (The pause above is still on.)
wine "$agent" resume >"$out/resume.session.out" 2>&1 || fail "resume failed (session end)"
# A window in front for the whole run: an open span (other time).
wine notepad >/dev/null 2>&1 &
# shellcheck disable=SC2086 # as above
wine "$exe" $rest >"$out/session.log" 2>&1 &
run=$!
wait_status status.session.json '"running": true'
grep -q "hidden window" "$out/session.log" && fail "the watcher has no hidden window (see $out/session.log)"
# Before the first checkpoint (9 s): without the end of the session, nothing of this span
# would be on disk.
sleep 4
logoff=$(date +%s.%N)
wineboot --end-session >"$out/wineboot.out" 2>&1 || fail "wineboot --end-session failed"
ended=$(date +%s.%N)
i=0
while kill -0 "$run" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$run" 2>/dev/null && fail "the agent still runs 10 s after the end of the session"
wait "$run" || fail "the agent ended with an error at the end of the session (see $out/session.log)"
wine "$agent" export --format csv >"$out/export.session.csv" 2>"$out/export.err" || fail "export failed"
# The last span's end (UTC, TZ=UTC here) against the moment of the log-off.
last=$(grep '^span,' "$out/export.session.csv" | cut -d, -f3 | sort | tail -n 1)
case $last in
  20*) ;;
  *) fail "no span was recorded before the end of the session (export: $out/export.session.csv)" ;;
esac
end=$(date -d "$last" +%s.%N) || fail "cannot read the span's end: $last"
awk -v e="$end" -v l="$logoff" -v d="$ended" 'BEGIN { exit !(e >= l - 1 && e <= d + 0.5) }' \
  || fail "the span ends at $last, not at the log-off ($(date -u -d "@$logoff" +%T.%N) to $(date -u -d "@$ended" +%T.%N))"
grep -q "Windows ends the session" "$out/session.log" \
  || fail "the agent did not hear the end of the session (see $out/session.log)"
grep -q "dwell-agent stopped" "$out/session.log" \
  || fail "the agent did not stop cleanly at the end of the session (see $out/session.log)"
wine "$agent" status --json >"$out/status.session-ended.json" 2>>"$out/status.err" \
  || fail "status --json failed after the end of the session"
grep -q '"running": false' "$out/status.session-ended.json" \
  || fail "status says the agent still runs after the end of the session"
echo "windows-agent-e2e: the end of the session: the span ends at $last (log-off from $(date -u -d "@$logoff" +%T.%3N) to $(date -u -d "@$ended" +%T.%3N)), the agent stopped"
wine "$agent" disable --yes >"$out/disable.session.out" 2>&1 || fail "disable failed (session end)"
