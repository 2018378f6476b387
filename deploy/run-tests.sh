#!/usr/bin/env bash
# Every test of the project in one command, set-up included (the README's test command; .ci/run runs
# exactly this): the Python venv, the SpamAssassin split (the Java end-to-end tests classify its
# held-out emails), the Maven build including the Schema Registry app; then
#   1. model-export's pytest suite, and the benchmark summary's (benchmark/python/tests; it needs only
#      pytest and matplotlib, so it runs in model-export's venv, not the heavy benchmark venv),
#   2. deploy/validate's pytest: the Kubernetes manifests, the compose file and the Dockerfiles checked
#      by offline validators (kubernetes-validate --strict, check-jsonschema's compose-spec) in their own
#      locked venv (deploy/validate/requirements.lock); the alert rules and the Grafana dashboard's queries
#      checked with promtool (Debian's `prometheus` package, installed by setup_promtool when missing),
#   3. `mvn test` over all modules: unit tests and tests/ (real KRaft broker, real registry server,
#      committed default model, real emails; DistributionE2ETest runs the packaged distribution).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/setup.sh
source "$HERE/lib/setup.sh"

setup_python
setup_validate_venv
setup_promtool
prepare_data
build_java

cd "$DEEBERT_REPO/model-export"
echo "== model-export: pytest"
.venv/bin/python -m pytest tests -p no:cacheprovider
echo "== benchmark/python: pytest (summary ratios and target checks)"
.venv/bin/python -m pytest "$DEEBERT_REPO/benchmark/python/tests" -p no:cacheprovider -q

echo "== deploy/validate: pytest (k8s manifests, compose file, Dockerfiles; offline validators)"
DEEBERT_REQUIRE_PROMTOOL=1 "$DEEBERT_REPO/deploy/validate/.venv/bin/python" -m pytest "$DEEBERT_REPO/deploy/validate/tests" -p no:cacheprovider -q

cd "$DEEBERT_REPO"
echo "== Java: mvn test (unit + end-to-end)"
export OPT_OUT_TRACKING=true TF_CPP_MIN_LOG_LEVEL=2
mvn -B test
