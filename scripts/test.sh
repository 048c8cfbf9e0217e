#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then runs all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Chromium (Debian package) for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

make -s install-test

# The browser tests drive Chromium through Playwright's sync API, which runs an event loop of
# its own in the test process: they get a process of their own.
run() {
  .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
  local status=$?
  if [ "$status" -eq 5 ]; then
    echo "no tests were collected: that is a failure"
    return 1
  fi
  return "$status"
}

set +e
echo "== static checks: ruff, and mypy on the packages"
.venv/bin/ruff check edge rules widgets cache tests loadtests && .venv/bin/mypy; lint=$?
echo "== running the tests (all but the browser ones)"
run -m "not browser" "$@"; main=$?
echo "== running the browser tests in headless Chromium"
run -m browser "$@"; browser=$?
set -e
echo "== tests: static checks exit $lint, main run exit $main, browser run exit $browser"
[ "$lint" -eq 0 ] && [ "$main" -eq 0 ] && [ "$browser" -eq 0 ]
