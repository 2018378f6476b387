#!/usr/bin/env bash
# Runs deploy/compose/compose.yaml with podman-compose on local stand-in images and shows that events flow
# through the stack and that Prometheus scrapes the service.
#
#   1. set-up (each step skipped when done): podman, runc, mmdebstrap (apt-get); podman-compose in
#      deploy/compose/.venv (requirements.lock, pinned); the distribution; the SpamAssassin test split; the
#      stand-in images and the service image (build-local-images.sh);
#   2. compose.yaml started as the project "deebert-smoke", its images and host ports set by the variables it
#      reads (KAFKA_IMAGE=localhost/deebert-standin-kafka:4.3.1, ...; ports on 127.0.0.1 only). podman 4.3
#      has no `depends_on: condition: service_healthy` (podman-compose skips it with a warning) and runs no
#      HEALTHCHECK without systemd, so the script keeps the file's order itself: kafka and registry first,
#      their compose healthchecks run by hand (`podman healthcheck run`) until both pass, then deebert and
#      prometheus (`up --no-deps`);
#   3. checks: the service's /health/ready turns 200; EVENTS held-out emails produced from the host
#      (localhost:$KAFKA_HOST_PORT, the HOST listener) come out exactly once with the Python reference's exit
#      layers (deploy/lib/SmokeClient.java, deploy/lib/reference_exits.py); Prometheus's target
#      deebert:8080 is up and its HTTP API's `deebert_events_classified_total` reaches EVENTS;
#      `podman-compose stop deebert` ends the service with exit code 0 or 143 and "Shutting down", no ERROR;
#      then `podman-compose down` removes the stack.
# Prints a summary; exits non-zero on any failed check. The stack is removed on exit (trap). Logs and results:
# target/compose-smoke/.
#
# Usage: deploy/compose/smoke-test.sh [--events N]   (default 200 of the 888 held-out emails; "all" for every one)
# Environment (optional): SMOKE_KAFKA_HOST_PORT (19094), SMOKE_REGISTRY_HOST_PORT (18081),
#   SMOKE_STREAMS_HOST_PORT (18080), SMOKE_PROMETHEUS_HOST_PORT (19090), SMOKE_READY_TIMEOUT (300 s),
#   SMOKE_OUTPUT_TIMEOUT (300 s).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/setup.sh
source "$HERE/../lib/setup.sh"
# shellcheck source=../container/podman-lib.sh
source "$HERE/../container/podman-lib.sh"

EVENTS=200
while (($#)); do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$EVENTS" == all || "$EVENTS" =~ ^[1-9][0-9]*$ ]] || { echo "--events must be a positive integer or all, got $EVENTS" >&2; exit 2; }

export KAFKA_HOST_PORT="${SMOKE_KAFKA_HOST_PORT:-19094}"
export REGISTRY_HOST_PORT="${SMOKE_REGISTRY_HOST_PORT:-18081}"
export STREAMS_HOST_PORT="${SMOKE_STREAMS_HOST_PORT:-18080}"
export PROMETHEUS_HOST_PORT="${SMOKE_PROMETHEUS_HOST_PORT:-19090}"
export KAFKA_IMAGE=localhost/deebert-standin-kafka:4.3.1
export REGISTRY_IMAGE=localhost/deebert-standin-registry:2.4.2
export PROMETHEUS_IMAGE=localhost/deebert-standin-prometheus:2.42
export STREAMS_IMAGE="$DEEBERT_IMAGE" STREAMS_BASE_IMAGE="$DEEBERT_BASE_IMAGE"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-300}"
OUTPUT_TIMEOUT="${SMOKE_OUTPUT_TIMEOUT:-300}"
PROJECT=deebert-smoke
MODEL_DIR="$DEEBERT_REPO/model-export/models/deebert-spamassassin-minilm-l6"
WORK="$DEEBERT_REPO/target/compose-smoke"
COMPOSE_VENV="$HERE/.venv"
BOOTSTRAP="localhost:$KAFKA_HOST_PORT"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_HOST_PORT/apis/ccompat/v7"
HTTP="http://127.0.0.1:$STREAMS_HOST_PORT"
PROMETHEUS="http://127.0.0.1:$PROMETHEUS_HOST_PORT"
T0=$SECONDS
declare -a PASSED=() FAILED=()

pass() { PASSED+=("$1"); echo "PASS $1"; }
fail() { FAILED+=("$1"); echo "FAIL $1"; }
summary() {
  echo "== summary ($((SECONDS - T0)) s in all; project $PROJECT; logs in ${WORK#"$DEEBERT_REPO"/})"
  local line
  for line in "${PASSED[@]+"${PASSED[@]}"}"; do echo "  passed: $line"; done
  for line in "${FAILED[@]+"${FAILED[@]}"}"; do echo "  FAILED: $line"; done
  ((${#FAILED[@]} == 0))
}
# podman-compose's and podman's own chatter (e.g. about the missing systemd) goes to compose.log.
compose() { timeout 300 "$COMPOSE_VENV/bin/podman-compose" -p "$PROJECT" -f "$HERE/compose.yaml" "$@" >>"$WORK/compose.log" 2>&1; }
container() { echo "${PROJECT}_$1_1"; }

cleanup() {
  local rc=$?
  local service
  for service in kafka registry deebert prometheus; do
    "${PODMAN[@]}" logs "$(container "$service")" >"$WORK/$service.log" 2>&1 || true
  done
  compose down -t 10 || true
  exit "$rc"
}

for port in "$KAFKA_HOST_PORT" "$REGISTRY_HOST_PORT" "$STREAMS_HOST_PORT" "$PROMETHEUS_HOST_PORT"; do
  if port_in_use "$port"; then
    echo "127.0.0.1:$port is in use; pick other ports (SMOKE_*_HOST_PORT, see --help)" >&2
    exit 1
  fi
done
rm -rf "$WORK"
mkdir -p "$WORK"
# podman's settings for podman-compose's podman calls: the runtime, cgroup manager and rlimits these machines
# need (podman-lib.sh passes them as flags to the other scripts' podman calls).
cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

echo "== set-up"
ensure_podman
_deebert_locked_venv compose "$COMPOSE_VENV" "$HERE/requirements.lock" "podman_compose"
ensure_distribution
setup_python
prepare_data
"$HERE/build-local-images.sh" | grep -v -e '^point compose' -e '^  export '

trap cleanup EXIT INT TERM
echo "== podman-compose up: kafka and registry"
compose down -t 10 || true  # a stack left over by an interrupted run
compose up -d --no-build kafka registry
STARTED=$SECONDS
healthy=""
deadline=$((SECONDS + 180))
while ((SECONDS < deadline)); do
  if timeout 40 "${PODMAN[@]}" healthcheck run "$(container kafka)" >/dev/null 2>&1 \
     && timeout 20 "${PODMAN[@]}" healthcheck run "$(container registry)" >/dev/null 2>&1; then
    healthy=$((SECONDS - STARTED))
    break
  fi
  sleep 3
done
if [[ -z "$healthy" ]]; then
  fail "kafka and registry did not pass their compose healthchecks within 180 s"
  summary || exit 1
fi
pass "kafka and registry pass compose.yaml's healthchecks ${healthy} s after up"

echo "== podman-compose up: deebert and prometheus"
compose up -d --no-build --no-deps deebert prometheus
STARTED=$SECONDS
ready=""
deadline=$((SECONDS + READY_TIMEOUT))
while ((SECONDS < deadline)); do
  if [[ "$(http_status "$HTTP/health/ready")" == 200 ]]; then
    ready=$((SECONDS - STARTED))
    break
  fi
  sleep 2
done
if [[ -z "$ready" ]]; then
  fail "the service's /health/ready did not answer 200 within $READY_TIMEOUT s"
  summary || exit 1
fi
pass "the service's /health/ready answered 200 ${ready} s after up (topics created by the service, topics.create=true)"

echo "== events"
reference_exits() {
  PYTHONPATH="$DEEBERT_REPO/model-export/src" "$DEEBERT_VENV/bin/python" "$DEEBERT_REPO/deploy/lib/reference_exits.py" "$@"
}
reference_exits pick "$MODEL_DIR" "$DEEBERT_TEST_SPLIT" "$EVENTS" "$WORK/ids.txt" "$WORK/expected.jsonl"
EVENTS="$(wc -l <"$WORK/ids.txt")"
CLASSPATH_SVC="$(streams_classpath)"
smoke_client() { java -cp "$CLASSPATH_SVC" "$DEEBERT_REPO/deploy/lib/SmokeClient.java" "$@"; }
PRODUCED=$SECONDS
smoke_client produce "$BOOTSTRAP" "$REGISTRY_URL" text-events "$DEEBERT_TEST_SPLIT" "$WORK/ids.txt"
if smoke_client consume "$BOOTSTRAP" "$REGISTRY_URL" text-events-classified "$WORK/ids.txt" "$OUTPUT_TIMEOUT" "$WORK/results.jsonl"; then
  pass "$EVENTS of $EVENTS events came out exactly once (read_committed), $((SECONDS - PRODUCED)) s after producing"
else
  fail "not every event came out exactly once within $OUTPUT_TIMEOUT s"
fi
if reference_exits compare "$WORK/expected.jsonl" "$WORK/results.jsonl" >"$WORK/compare.txt"; then
  pass "$(tail -1 "$WORK/compare.txt")"
else
  cat "$WORK/compare.txt"
  fail "exit layers or labels differ from the Python reference (see ${WORK#"$DEEBERT_REPO"/}/compare.txt)"
fi

echo "== Prometheus"
# Scrape interval 15 s (prometheus.yml): the last events show within about two scrapes.
scraped=""
deadline=$((SECONDS + 90))
while ((SECONDS < deadline)); do
  curl -fsS --max-time 5 "$PROMETHEUS/api/v1/query?query=deebert_events_classified_total" >"$WORK/prometheus-query.json" 2>/dev/null || true
  scraped="$(python3 -c 'import json,sys
try:
    r = json.load(open(sys.argv[1]))["data"]["result"]
    print(int(sum(float(s["value"][1]) for s in r)) if r else "")
except Exception:
    print("")' "$WORK/prometheus-query.json")"
  [[ -n "$scraped" ]] && ((scraped >= EVENTS)) && break
  sleep 3
done
curl -fsS --max-time 5 "$PROMETHEUS/api/v1/targets" >"$WORK/prometheus-targets.json" 2>/dev/null || true
target="$(python3 -c 'import json,sys
try:
    t = [a for a in json.load(open(sys.argv[1]))["data"]["activeTargets"] if a["labels"]["job"] == "deebert-streams"]
    print(t[0]["scrapeUrl"], t[0]["health"]) if t else print("none")
except Exception:
    print("none")' "$WORK/prometheus-targets.json")"
if [[ -n "$scraped" ]] && ((scraped >= EVENTS)) && [[ "$target" == *" up" ]]; then
  pass "Prometheus scrapes $target; /api/v1/query?query=deebert_events_classified_total = $scraped"
else
  fail "Prometheus: target '$target', deebert_events_classified_total '${scraped:-absent}' (want >= $EVENTS)"
fi

echo "== podman-compose stop deebert, then down"
STOPPING=$SECONDS
compose stop -t 60 deebert || true
code="$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$(container deebert)")"
"${PODMAN[@]}" logs "$(container deebert)" >"$WORK/deebert.log" 2>&1 || true
if [[ "$code" == 0 || "$code" == 143 ]] && grep -q 'Shutting down' "$WORK/deebert.log" && ! grep -q ' ERROR ' "$WORK/deebert.log"; then
  pass "podman-compose stop deebert: exit code $code $((SECONDS - STOPPING)) s after SIGTERM, 'Shutting down' logged, no ERROR line"
else
  fail "podman-compose stop deebert: exit code $code; 'Shutting down' lines: $(grep -c 'Shutting down' "$WORK/deebert.log"); ERROR lines: $(grep -c ' ERROR ' "$WORK/deebert.log")"
fi
STOPPING=$SECONDS
compose stop -t 30 prometheus registry kafka || true
codes=""
for service in prometheus registry kafka; do
  codes+="$service $("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$(container "$service")"), "
done
echo "podman-compose stop of the rest in $((SECONDS - STOPPING)) s (exit codes: ${codes%, })"
compose down -t 10
left="$("${PODMAN[@]}" ps -a --filter "label=io.podman.compose.project=$PROJECT" --format '{{.Names}}' | tr '\n' ' ')"
if [[ -z "$left" ]]; then
  pass "podman-compose down removed the stack"
else
  fail "containers left after down: $left"
fi
summary
