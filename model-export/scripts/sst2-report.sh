#!/usr/bin/env bash
# One command for the SST-2 report: trains the three regimes on the same
# subsample, measures the two-stage model's runtime in the Java classifier, and writes
# model-export/docs/sst2-report.md with its figures and results.json under model-export/docs/sst2/.
#
# Usage: bash model-export/scripts/sst2-report.sh [--max-train-examples N] [--repeats K] [--threads T]
#   --max-train-examples N  stratified fixed-seed training subsample (default 20000 of 60,614)
#   --repeats K             round-robin repeats of each Java measurement, median reported (default 3)
#   --threads T             TensorFlow intra-op threads of the Java measurement (default 2)
# Environment: SST2_DIR (default ../shared/data/sst2 beside the repository), DEEBERT_BUILD_DIR
# (work directories; default model-export/build).
#
# Steps, each skipped when its output exists (delete build/sst2-<regime>/ to retrain):
#   1. set-up: model-export venv, Maven build (benchmark module's classpath)
#   2. python -m deebert_export run --regime R for R in two-stage, joint, bypass  -> build/sst2-R/
#      (seed 13; ~10-20 min each on 2 CPU cores)
#   3. python model-export/tools/sst2_report.py plan: the settings to time (grid + settings chosen on dev)
#   4. Java ClassifierBenchmark, batch 1, on GLUE SST-2 dev, per exit policy -> build/sst2-report/java_*.json
#   5. python model-export/tools/sst2_report.py write -> docs/sst2-report.md, docs/sst2/*.png, docs/sst2/results.json
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
MAX_TRAIN=20000
REPEATS=3
THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-train-examples) MAX_TRAIN="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
SST2="${SST2_DIR:-$REPO/../shared/data/sst2}"
BUILD="${DEEBERT_BUILD_DIR:-$REPO/model-export/build}"
OUT="$BUILD/sst2-report"
for f in train.tsv validation.tsv glue-dev.tsv; do
  [[ -s "$SST2/$f" ]] || { echo "sst2-report: $SST2/$f not found (set SST2_DIR)" >&2; exit 2; }
done
mkdir -p "$OUT/logs"

# shellcheck source=../../deploy/lib/setup.sh
source "$REPO/deploy/lib/setup.sh"
setup_python
build_java
PY="$REPO/model-export/.venv/bin/python"
export OPT_OUT_TRACKING=true TF_CPP_MIN_LOG_LEVEL=2

for regime in two-stage joint bypass; do
  work="$BUILD/sst2-$regime"
  if [[ -s "$work/model/model_card.json" ]]; then
    echo "train: $work/model exists (delete $work to retrain)"
    continue
  fi
  echo "train: $regime on $MAX_TRAIN SST-2 sentences -> $work (log $OUT/logs/train-$regime.log)"
  # --select-on last: the report's models kept their final weights (they predate checkpoint selection)
  (cd model-export && "$PY" -m deebert_export run --name "sst2-$regime" --work-dir "$work" --regime "$regime" \
      --train-file "$SST2/train.tsv" --dev-file "$SST2/validation.tsv" --test-file "$SST2/glue-dev.tsv" \
      --labels 0,1 --max-train-examples "$MAX_TRAIN" --task "sentiment (SST-2)" \
      --select-on last) >"$OUT/logs/train-$regime.log" 2>&1 \
    || { echo "FAILED: training $regime; last lines of $OUT/logs/train-$regime.log:" >&2; tail -n 20 "$OUT/logs/train-$regime.log" >&2; exit 1; }
done

BASE="$BUILD/sst2-two-stage"
PLAN="$("$PY" model-export/tools/sst2_report.py plan --run "two-stage=$BASE")"
JAVA_CP="benchmark/target/classes:$(cat benchmark/target/classpath.txt)"
JAVA_ARGS=()
while IFS=$'\t' read -r policy values; do
  json="$OUT/java_${policy,,}.json"
  echo "java: $policy at batch 1 on $(wc -l <"$BASE/data/test.jsonl") GLUE-dev sentences, settings $values"
  TF_NUM_INTRAOP_THREADS="$THREADS" TF_NUM_INTEROP_THREADS=1 java \
      -Dai.djl.tensorflow.num_intraop_threads="$THREADS" -Dai.djl.tensorflow.num_interop_threads=1 \
      -cp "$JAVA_CP" org.deebert.streams.benchmark.ClassifierBenchmark "$BASE/model" "$BASE/data/test.jsonl" \
      --device CPU --policy "$policy" --batch-sizes 1 --thresholds "$values" --repeats "$REPEATS" \
      --warmup-batches 20 --json "$json" >"$OUT/logs/java-${policy,,}.log" 2>&1 \
    || { echo "FAILED: ClassifierBenchmark $policy; see $OUT/logs/java-${policy,,}.log" >&2; exit 1; }
  JAVA_ARGS+=(--java "${policy,,}=$json")
done <<<"$PLAN"

"$PY" model-export/tools/sst2_report.py write --run "two-stage=$BASE" --run "joint=$BUILD/sst2-joint" \
  --run "bypass=$BUILD/sst2-bypass" "${JAVA_ARGS[@]}" --out model-export/docs/sst2-report.md \
  --fig-dir model-export/docs/sst2 --append model-export/docs/sst2-discussion.md \
  --command "bash model-export/scripts/sst2-report.sh --max-train-examples $MAX_TRAIN --repeats $REPEATS --threads $THREADS"
echo "report: model-export/docs/sst2-report.md"
