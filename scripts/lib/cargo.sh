# shellcheck shell=bash
# Sourced: where cargo builds. CARGO_TARGET_DIR or a cargo config may move the
# target directory, so ask cargo rather than assume ./target.
#
#   . scripts/lib/cargo.sh
#   bin="$(cargo_target_dir)/release"

cargo_target_dir() {
  local dir
  dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  echo "${dir:-$PWD/target}"
}
