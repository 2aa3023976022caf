#!/bin/sh
# Runs in the Windows root (packaging/windows/package.sh --check): installs the MSI
# silently under Wine, snapshots what it did, runs the installed dwell-agent.exe
# --version, uninstalls silently and snapshots again. packaging/windows/check.py
# judges the snapshots; this script only fails when Wine itself cannot run.
#
#   sh packaging/windows/wine-check.sh MSI DIR APP_ID     (WINEPREFIX set by the caller)
#
# DIR/PHASE/ for PHASE before, installed, removed: home.list (every path under the
# Wine user's profile), user.reg and system.reg (HKCU and HKLM as Wine keeps them),
# uninstaller.list (Wine's Add/Remove Programs), app-id.out and app-id.rc (`wine reg
# query` of the AppUserModelID registration of APP_ID, and its exit code). DIR/install.rc, uninstall.rc, version.{rc,out,err}, and
# msiexec's logs install.log and uninstall.log (UTF-16).
set -eu
msi=$1 dir=$2 app_id=$3
prefix=${WINEPREFIX:?}
home=$prefix/drive_c/users/$(id -un)
installed=$home/AppData/Local/Programs/dwell

# A check interrupted after installing leaves dwell in the prefix: start afresh.
if [ -e "$installed" ]; then
  echo "  a dwell install is left in $prefix from an earlier check: removing the prefix"
  rm -rf "$prefix"
fi
wineboot -i >/dev/null 2>&1
wineserver -w

snapshot() {
  mkdir -p "$dir/$1"
  (cd "$home" && find . | sort) >"$dir/$1/home.list"
  # Wine's uninstaller lists on stderr when stdout is not a console.
  wine uninstaller --list >"$dir/$1/uninstaller.list" 2>&1 || true
  rc=0
  wine reg query "HKCU\\Software\\Classes\\AppUserModelId\\$app_id" >"$dir/$1/app-id.out" 2>&1 || rc=$?
  echo "$rc" >"$dir/$1/app-id.rc"
  # Wine writes its registry files when its server ends.
  wineserver -w
  cp "$prefix/user.reg" "$prefix/system.reg" "$dir/$1/"
}

snapshot before
rc=0
wine msiexec /i "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$dir/install.log")" || rc=$?
echo "$rc" >"$dir/install.rc"
wineserver -w
snapshot installed
cp "$home/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/"*.lnk "$dir/installed/" 2>/dev/null || true

rc=0
wine "$installed/dwell-agent.exe" --version >"$dir/version.out" 2>"$dir/version.err" || rc=$?
echo "$rc" >"$dir/version.rc"
wineserver -w

rc=0
wine msiexec /x "$(winepath -w "$msi")" /qn /l*v "$(winepath -w "$dir/uninstall.log")" || rc=$?
echo "$rc" >"$dir/uninstall.rc"
wineserver -w
snapshot removed
