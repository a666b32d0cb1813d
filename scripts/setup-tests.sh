#!/usr/bin/env bash
# Install everything the test suite needs into .venv (and, as root, the Debian
# programs the integration tests start). Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=""
    for program in prometheus:prometheus prometheus-node-exporter:prometheus-node-exporter \
                   prometheus-alertmanager:prometheus-alertmanager stress-ng:stress-ng \
                   chromium:chromium systemd-analyze:systemd openssl:openssl; do
        command -v "${program%%:*}" >/dev/null 2>&1 || missing="$missing ${program##*:}"
    done
    if [ -n "$missing" ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# The CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -e ".[test,dl,web]"
.venv/bin/pip install -q -e ".[fast]"  # ONNX Runtime for the deep detectors' fast inference
.venv/bin/pip install -q -e ".[scale]"  # Dask: tests/engine/test_distributed.py
# Reference implementations the tests compare against; they pin old numpy/pandas,
# so they are installed without their dependencies (their code runs on numpy 2).
.venv/bin/pip install -q --no-deps "tsb-ad==1.5" "banpei==0.1.2"
.venv/bin/pip install -q "changefinder==0.3"
