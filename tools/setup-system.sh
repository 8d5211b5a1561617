#!/usr/bin/env bash
# Checks the Debian packages that a command needs, and installs the missing ones with
# apt-get when it can (as root, or with password-less sudo). Otherwise it names them,
# with the exact apt-get line, and lets the command go on with what can run.
#
#   tools/setup-system.sh book   the book: npm (the pages' JavaScript comes from npm)
#   tools/setup-system.sh test   the tests: also Chromium and ChromeDriver (browser tests),
#                                bubblewrap and libseccomp2 (the grading sandbox and its
#                                system-call filter), patchelf (a test installs
#                                a Python in a user's home, as pyenv does), and Debian's own
#                                python3.11 with venv (the install tests use what users have)
set -uo pipefail

mode=${1:-test}
need=()
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "$mode" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  # a library, not a command: looked for with bash alone (Debian's multiarch folders)
  compgen -G '/usr/lib/*/libseccomp.so.2' >/dev/null || compgen -G '/lib/*/libseccomp.so.2' >/dev/null ||
    need+=(libseccomp2)
  command -v patchelf >/dev/null 2>&1 || need+=(patchelf)
  /usr/bin/python3.11 -c "import ensurepip" >/dev/null 2>&1 || need+=(python3.11 python3.11-venv)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  sudo=(none)
fi
if [ "${sudo[0]:-}" != none ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if "${sudo[@]}" apt-get update -qq && \
     "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    exit 0
  fi
  echo "setup: apt-get could not install ${need[*]}" >&2
fi

echo "setup: missing Debian packages: ${need[*]}" >&2
echo "setup: install them with:  sudo apt-get install ${need[*]}" >&2
if [ "$mode" = book ]; then
  echo "setup: the book cannot be built without npm (its pages' JavaScript comes from it)" >&2
  exit 1
fi
echo "setup: going on; the tests that need them fail and say so" >&2
exit 0
