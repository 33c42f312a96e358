# Sourced by .ci/run: Ray (the `cluster` extra) for tests/test_cluster_locate.py, which starts a local
# cluster of 2 worker processes. Optional: when it cannot be installed the test skips, saying so.
# shellcheck shell=bash
python3 -m pip install -q -e ".[cluster]" ||
    echo "warning: could not install Ray (the cluster extra); the cluster tests will skip" >&2
