#!/usr/bin/env bash
# Installs everything kspider and its tests need on a fresh machine:
# the virtualenv from requirements.txt and the project itself (editable), Chromium and Redis from Debian (when
# run as root and missing), and the MongoDB-wire test server from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v redis-server >/dev/null || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# A fresh venv's pip cannot resolve lxml[html-clean]: upgrade it first.
.venv/bin/pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
# The project itself, editable: `python -m kspider…` and `scrapy` (with SCRAPY_SETTINGS_MODULE=kspider.settings)
# then work from any directory, and edits to the checkout take effect without reinstalling.
.venv/bin/pip install -q --disable-pip-version-check --no-deps -e .

if [ -f package-lock.json ] && command -v npm >/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "setup: done"
