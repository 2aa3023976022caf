#!/usr/bin/env bash
# dwell for Windows, packaged (`scripts/package --windows [--check]` runs this):
# inside the Windows root (scripts/roots), release dwell-agent.exe,
# dwell-agent-background.exe (the same `run` with no console window, which
# `dwell-agent install` puts in the log-in Run value), dwell-report.exe and
# dwell-native-host.exe for x86_64-pc-windows-gnu, then
#   target/windows/dwell-<version>-x86_64.msi   per-user MSI (wixl, packaging/windows/dwell.wxs)
#   target/windows/dwell-<version>-x86_64.zip   the same files in dwell-<version>-x86_64/
# with LICENSE.txt, and dwell.ico (from packaging/org.dwell.Dwell.svg, rsvg-convert and
# icotool) for the Start menu, Add/Remove Programs and the toasts. Version: the
# workspace's. dwell's AppUserModelID (the toasts' sender) is APP_ID in
# agent/src/notify/windows.rs: the MSI registers it under HKCU and puts it on the
# "dwell" Start-menu entry (the MsiShortcutProperty table, added with msibuild: wixl
# has no ShortcutProperty element).
#
# --check then inspects both (packaging/windows/check.py: msiinfo's tables, the
# files, per-user scope, no Run value or custom action, the version) and, under Wine
# in the root, installs the MSI silently, looks at what it installed (files, Start
# menu, Add/Remove Programs entry, PATH, nothing recorded, nothing set to start),
# runs the installed dwell-agent.exe --version, uninstalls silently and looks again.
set -euo pipefail
cd "$(dirname "$0")/../.."
workspace=$PWD
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
. scripts/lib/apt.sh
. scripts/lib/cargo.sh

check=0
[ "${1-}" = --check ] && check=1

apt_need_commands "rsvg-convert:librsvg2-bin" "icotool:icoutils"
apt_install_missing scripts/package "Windows packaging tools"

triple=x86_64-pc-windows-gnu
host_target=$(cargo_target_dir)
# The same build directory as scripts/test-windows: std is built once for both.
build=$host_target/windows-build
out=$host_target/windows
mkdir -p "$build" "$out"
version=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"name":"dwell-agent","version":"\([^"]*\)".*/\1/p')
[ -n "$version" ] || { echo "scripts/package: no version for dwell-agent in cargo metadata" >&2; exit 1; }
# An MSI's ProductVersion is numbers only: 0.2.0-beta.1 installs as 0.2.0.
msi_version=${version%%[-+]*}
app_id=$(sed -n 's/^pub const APP_ID: &str = "\([^"]*\)";$/\1/p' agent/src/notify/windows.rs)
[ -n "$app_id" ] || { echo "scripts/package: no APP_ID in agent/src/notify/windows.rs" >&2; exit 1; }
name=dwell-$version-x86_64
msi=$out/$name.msi
zip=$out/$name.zip
programs=(dwell-agent dwell-agent-background dwell-report dwell-native-host)

seconds() { echo $(($(date +%s) - $1)); }

scripts/roots build windows
# in_windows CMD…: CMD in the Windows root, the workspace and target directory bound
# at the same paths, the root's own cargo home, nothing of this environment.
in_windows() {
  CARGO_TARGET_DIR=$host_target scripts/roots run windows -- env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 TZ=UTC XDG_RUNTIME_DIR=/tmp/runtime-root \
    CARGO_TARGET_DIR="$build" CARGO_TERM_COLOR=never RUSTC_BOOTSTRAP=1 \
    WINEPREFIX="$build/package-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="winemenubuilder.exe=d;mscoree,mshtml=" \
    sh -c 'mkdir -m 700 -p "$XDG_RUNTIME_DIR" && cd "$0" && "$@"; rc=$?; wineserver -w 2>/dev/null; exit $rc' \
    "$workspace" "$@"
}
# (winemenubuilder off: the Start-menu entries must not become desktop files in the root.)

echo "==> building ${programs[*]} for $triple (release, std included)"
t=$(date +%s)
in_windows cargo -Zbuild-std=std,panic_abort build --release --locked -q --target "$triple" \
  -p dwell-agent -p dwell-report --bins
echo "==> built in $(seconds "$t") s"

# What both packages hold, side by side.
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"
for p in "${programs[@]}"; do
  cp "$build/$triple/release/$p.exe" "$stage/"
done
# The licence (both texts, packaging/copyright) with Windows line ends.
sed 's/$/\r/' packaging/copyright >"$stage/LICENSE.txt"
echo "==> dwell.ico from packaging/org.dwell.Dwell.svg"
icons=$out/icons
rm -rf "$icons"
mkdir -p "$icons"
for size in 16 20 24 32 40 48 64 256; do
  rsvg-convert -w "$size" -h "$size" packaging/org.dwell.Dwell.svg -o "$icons/$size.png"
done
# Windows reads the 256-pixel image as PNG inside the .ico (-r), the rest as bitmaps.
icotool -c -o "$out/dwell.ico" "$icons"/{16,20,24,32,40,48,64}.png -r "$icons/256.png"
# Beside the programs too: the toasts' icon (IconUri), for the MSI and `dwell-agent install`.
cp "$out/dwell.ico" "$stage/"

echo "==> wixl: $msi"
rm -f "$msi"
in_windows wixl -a x64 -o "$msi" \
  -D Version="$msi_version" -D Bin="$stage" -D Icon="$out/dwell.ico" -D Licence="$stage/LICENSE.txt" \
  -D AppId="$app_id" packaging/windows/dwell.wxs
# The "dwell" entry's System.AppUserModel.ID (Windows Installer 5 sets it on the .lnk).
idt=$out/MsiShortcutProperty.idt
printf 'MsiShortcutProperty\tShortcut_\tPropertyKey\tPropVariantValue\r\ns72\ts72\ts0\ts0\r\n%b\r\n%b\r\n' \
  'MsiShortcutProperty\tMsiShortcutProperty' "ReportAppUserModelId\tReportShortcut\tSystem.AppUserModel.ID\t$app_id" >"$idt"
in_windows msibuild "$msi" -i "$idt"
echo "==> $zip"
/usr/bin/python3 packaging/windows/check.py zip "$stage" "$zip" "$name"

if [ "$check" = 0 ]; then
  echo "$msi"
  echo "$zip"
  exit 0
fi

checks=$out/check
rm -rf "$checks"
mkdir -p "$checks"
echo "==> msiinfo: the tables of $msi"
in_windows sh -c '
  msi=$1 dir=$2
  # (msiinfo export writes a table'"'"'s binary cells, the icon, as TABLE/ROW.COLUMN
  # files in the current directory.)
  cd "$dir"
  msiinfo suminfo "$msi" >suminfo
  msiinfo tables "$msi" >tables
  for t in $(cat tables); do
    case "$t" in _*) continue ;; esac
    msiinfo export "$msi" "$t" >"$t.idt"
  done
  msiextract -C extracted "$msi" >extracted.list
' sh "$msi" "$checks"

echo "==> under Wine: msiexec /i $name.msi /qn, look, dwell-agent.exe --version, msiexec /x /qn, look"
t=$(date +%s)
in_windows sh packaging/windows/wine-check.sh "$msi" "$checks" "$app_id"
echo "==> installed and uninstalled under Wine in $(seconds "$t") s"

/usr/bin/python3 packaging/windows/check.py check "$stage" "$msi" "$zip" "$name" "$version" "$msi_version" "$checks" "$app_id"
