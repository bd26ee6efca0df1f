# ci/apt-packages.sh - sourced by ci/install-*: install Debian packages
# that are not installed yet, idempotently.
#
#   apt_packages NAME PKG...
#
# Does nothing (and no apt-get update) when every package is already
# installed; otherwise installs the missing ones without recommends (with
# sudo when not root) and checks afterwards that all of them are there,
# rather than leaving it to the build to find out.  NAME prefixes messages.

# Print the packages that are not fully installed.
apt_missing() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || printf '%s\n' "$p"
  done
}

apt_packages() {
  local name=$1 sudo=
  shift
  local todo still
  mapfile -t todo < <(apt_missing "$@")
  if [ "${#todo[@]}" -eq 0 ]; then
    echo "$name: all $# packages already installed"
    return 0
  fi
  echo "$name: installing: ${todo[*]}"
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${todo[@]}"
  mapfile -t still < <(apt_missing "$@")
  if [ "${#still[@]}" -ne 0 ]; then
    echo "$name: still not installed: ${still[*]}" >&2
    return 1
  fi
}
