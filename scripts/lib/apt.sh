# shellcheck shell=bash
# Sourced by scripts/test and scripts/package: installs, with apt-get, the
# Debian packages of what is missing (only that), as root or through sudo.
#
#   . scripts/lib/apt.sh
#   apt_need_commands "Xvfb:xvfb" "/usr/libexec/dconf-service:dconf-service"   # command or absolute path : package
#   apt_need_python "import dbus:python3-dbus"                                 # statement for /usr/bin/python3 : package
#   apt_install_missing scripts/test "test dependencies"                       # who asks, what for

APT_MISSING=()

apt_need() {
  case " ${APT_MISSING[*]-} " in *" $1 "*) ;; *) APT_MISSING+=("$1") ;; esac
}

apt_need_commands() {
  local entry cmd pkg
  for entry in "$@"; do
    cmd="${entry%%:*}" pkg="${entry##*:}"
    if [[ $cmd == /* ]]; then
      [ -x "$cmd" ] || apt_need "$pkg"
    elif ! command -v "$cmd" >/dev/null 2>&1; then
      apt_need "$pkg"
    fi
  done
}

apt_need_python() {
  local entry stmt pkg
  for entry in "$@"; do
    stmt="${entry%:*}" pkg="${entry##*:}"
    if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c "$stmt" >/dev/null 2>&1; then
      apt_need "$pkg"
    fi
  done
}

apt_install_missing() {
  local who="$1" what="$2"
  [ "${#APT_MISSING[@]}" -gt 0 ] || return 0
  echo "==> installing $what: ${APT_MISSING[*]}"
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "$who: need root or sudo to install: ${APT_MISSING[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${APT_MISSING[@]}"; then
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${APT_MISSING[@]}"
  fi
  APT_MISSING=()
}
