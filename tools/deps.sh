# shellcheck shell=bash
# The Debian packages cqlmux needs to build, test and run its real-Cassandra
# harness, and one function that installs the missing ones (as root) or
# prints the exact apt-get line (otherwise). Sourced by tools/quickstart,
# tools/test-all and .ci/run.

CQLMUX_BUILD_PACKAGES=(build-essential autoconf automake libtool pkg-config
  libssl-dev zlib1g-dev liblz4-dev)
CQLMUX_TEST_PACKAGES=(libcriterion-dev clang libclang-rt-14-dev valgrind gnuplot-nox
  openssl python3 procps python3-cassandra curl)
CQLMUX_SERVER_PACKAGES=(openjdk-17-jdk-headless maven)
# Building the Debian packages (debian/, dpkg-buildpackage -us -uc -b).
CQLMUX_PACKAGING_PACKAGES=(debhelper dpkg-dev)

# missing_packages PKG... prints the packages dpkg does not report installed.
missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      printf '%s\n' "$pkg"
  done
}

# ensure_packages PKG... installs what is missing when root; otherwise prints
# the command to run and fails.
ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "cqlmux: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "cqlmux: installing ${missing[*]}" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
}
