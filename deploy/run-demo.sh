#!/usr/bin/env bash
# The project's main job in one command: sets up what is missing (Python venv, the SpamAssassin test
# split, the Maven build), then runs the one-command demo on an embedded Kafka broker and Schema Registry:
# the real emails through the streaming classifier, a threshold change half-way through the control
# topic, a live view and a per-phase summary (also written to deploy/local/target/demo-summary.json); then the
# budget phase: the same emails ordered easy -> hard, streamed at the card's fixed setting (per label, as the card
# has it) and under an accuracy budget whose controller moves one S, with a per-half table (about 2 minutes more; --no-budget-phase skips it).
#
# Usage: deploy/run-demo.sh [demo options]      e.g. --rate 50, --switch-threshold 0.3, --limit 200
#        deploy/run-demo.sh --help              all demo options
# The service's logs go to deploy/local/target/demo.log; warnings and errors also to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/setup.sh
source "$HERE/lib/setup.sh"

setup_python
prepare_data
build_java

cd "$DEEBERT_REPO"
mkdir -p deploy/local/target
# OPT_OUT_TRACKING: no DJL telemetry; TF_CPP_MIN_LOG_LEVEL=2: TensorFlow's C++ info lines off.
export OPT_OUT_TRACKING=true TF_CPP_MIN_LOG_LEVEL=2
exec java \
  -Dlogback.configurationFile="$HERE/lib/logback-demo.xml" \
  -Ddemo.log="$DEEBERT_REPO/deploy/local/target/demo.log" \
  -cp "$(module_classpath deploy/local)" \
  org.deebert.streams.demo.Demo "$@"
