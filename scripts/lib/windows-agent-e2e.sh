#!/bin/sh
# dwell-agent.exe end to end under Wine, run by scripts/test-windows inside the
# Windows root, with the data and config in their default places (%LOCALAPPDATA%\dwell,
# %APPDATA%\dwell\config.toml). The agent runs as Windows starts it at log-in:
# the program and arguments of the Run value `install` wrote (the windowless
# dwell-agent-background.exe beside AGENT_EXE, `run`). Writes what each step said into OUT; the checks of
# the JSON are scripts/test-windows'. Fails on the first step that does.
#
#   windows-agent-e2e.sh AGENT_EXE WINEPREFIX OUT
set -u
agent=$1 prefix=$2 out=$3
roaming=$prefix/drive_c/users/root/AppData/Roaming/dwell
run_key='HKCU\Software\Microsoft\Windows\CurrentVersion\Run'

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
wine "$agent" uninstall >"$out/uninstall.out" 2>&1 || fail "uninstall failed"
if wine reg query "$run_key" /v dwell >"$out/reg.uninstalled.out" 2>&1; then
  fail "the Run value is still there after uninstall"
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
