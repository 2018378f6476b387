#!/usr/bin/env bash
# One-command benchmark: the Java early-exit classifier (S = 0, the model card's recommended setting as the
# card has it - per predicted label when label-conditional -, S > ln 2 and a one-S sweep, and the cost of an
# accuracy budget's shadow samples), the Kafka Streams service end to end, and
# the peer runtimes (ONNX Runtime and TensorFlow Python, full depth) plus the machine's sgemm rate, in ONE
# run on the same texts, threads and machine. Prints a markdown table and writes
# target/benchmark/summary.json, events_per_s.png and saving.png.
#
# Usage: bash benchmark/run-benchmark.sh [--quick] [--limit N] [--repeats K] [--threads T] [--model-dir DIR]
#                                        [--short-texts] [--short-model-dir DIR]
#   --quick        64 texts, 1 repeat, short S sweep at batch 32 only, 60 latency events per load, 5 shadow
#                  rounds, the precision phase on the first 64 texts only (< 8 min warm)
#   --limit N      texts: the first N of model-export/build/spamassassin/data/test.jsonl (default 256)
#   --repeats K    round-robin repeats per configuration, median reported (default 5; quick 1)
#   --threads T    compute threads for every runtime (default 2)
#   --model-dir D  exported model (default model-export/models/deebert-spamassassin-minilm-l6)
#   --short-texts  train the short-text model (subject lines) first when it is missing (about 5 min on 2 cores,
#                  in the set-up phase, not measured); without it phase a2 runs only if the model exists
#   --short-model-dir D  the short-text model (default
#                  model-export/build/deebert-spamassassin-subjects-minilm-l6/model); its texts are the test
#                  split beside it, D/../data/test.jsonl (the `run` command's work directory layout)
#
# Order: set-up (model-export venv, data, Maven build, benchmark venv, ONNX conversion), then
#   a. Java ClassifierBenchmark (no Kafka)              -> target/benchmark/classifier.json
#      (rows with "setting": "card" are the card's setting, --card-setting; the others one S for every label;
#      its "shadow" section: shadow rates 0, 0.02, 0.1 at the card's setting, batch 32, round-robin)
#   a2. only when the short-text model exists: ClassifierBenchmark on short texts (SpamAssassin subject lines,
#      every test subject; quick: the first N) with the short-text model, the sweep batch sizes x (0, the
#      sweep, the card's value) and the card's setting -> target/benchmark/classifier-short.json
#   a3. precision: ClassifierBenchmark on every test e-mail (quick: the first N), batch 32, the card's setting
#      only, one repeat, float32 and - on CPUs with avx512_bf16 or amx_bf16 - bfloat16, each with its answer per
#      text (index, gold and predicted label, exit layer)
#                                                       -> target/benchmark/precision-<float32|bfloat16>.json
#                                                          (+ precision-<...>-predictions.jsonl)
#   b. Java StreamBenchmark on a fresh broker + registry, once per commit setting (classifier.batch.commit), each
#      with latency phases at 20 %, 40 % and 70 % of the first setting's measured saturation rate
#                                                       -> target/benchmark/stream.json (commit after-batch, the
#                                                          default), target/benchmark/stream-interval.json
#   c. peers.py (ONNX Runtime, TF Python, sgemm, FLOPs)  -> target/benchmark/peers.json
#   d. summarize.py                                      -> target/benchmark/summary.json + PNGs
# The broker and registry run only during (b), so they take no CPU from (a) and (c); a trap stops them
# on any exit. Every phase's log is in target/benchmark/logs/. On a shared machine each measured phase
# first waits (up to 120 s; quick 20 s) for other processes to go quiet, and run.json / summary.json
# record how many cores others used during each phase (summarize.py warns when it was > 0.2).
#
# Threads. The Java side runs TensorFlow through DJL 0.36.0. DJL builds TensorFlow's ConfigProto in
# ai.djl.tensorflow.engine.javacpp.JavacppUtils.getSessionConfig() (read with javap from
# ~/.m2/.../tensorflow-engine-0.36.0.jar), used both for its eager context (TfEngine) and for the
# SavedModel session (TfModel.load, unless a "ConfigProto" criteria option is given): it sets
# inter_op_parallelism_threads / intra_op_parallelism_threads only from the JVM system properties
# ai.djl.tensorflow.num_interop_threads / ai.djl.tensorflow.num_intraop_threads, and reads no
# environment variable itself. When a property is absent the field stays 0, and TensorFlow's runtime
# then falls back to the environment variables TF_NUM_INTEROP_THREADS / TF_NUM_INTRAOP_THREADS (both
# strings are in the libtensorflow_framework.so of tensorflow-core-native 1.0.0-rc.1 and of Python
# TF 2.16.2), else to the number of CPUs. So this script sets BOTH the -D properties and the
# environment variables: intra-op = T, inter-op = 1. Checked by counting the JVM's native threads
# (/proc/PID/task/*/comm) during a ClassifierBenchmark run on 2 CPUs: nothing set 10; -D 2/1 8;
# env 2/1 8; env 1/1 7; env 4/4 16; -D 4/4 16 - both routes size TensorFlow's pools alike.
# Python TensorFlow gets the same through tf.config.threading (peers.py), ONNX Runtime intra_op_num_threads = T, inter_op_num_threads = 1
# (sequential), numpy/OpenBLAS OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = T (set before numpy loads), and
# OPENBLAS_CORETYPE from the CPU flags (numpy 1.26.4's OpenBLAS does not know every new CPU model and
# then runs sgemm on its generic kernel: ~30-60 instead of ~280 GFLOP/s on a 2-core AVX-512 Xeon).
# ClassifierBenchmark reports TF_NUM_INTRAOP_THREADS as "threads" in classifier.json.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

QUICK=0
LIMIT=""
REPEATS=""
THREADS=2
INTER_OP=1
MODEL_DIR="model-export/models/deebert-spamassassin-minilm-l6"
# The short-text model: `run` writes it to model-export/build/NAME/model and its data to .../NAME/data.
SHORT_NAME="deebert-spamassassin-subjects-minilm-l6"
SHORT_MODEL_DIR="model-export/build/$SHORT_NAME/model"
SHORT_TRAIN=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --model-dir) MODEL_DIR="$2"; shift 2 ;;
    --short-texts) SHORT_TRAIN=1; shift ;;
    --short-model-dir) SHORT_MODEL_DIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  LIMIT="${LIMIT:-64}"; REPEATS="${REPEATS:-1}"
  SWEEP="0.002,0.02,0.05,0.3"      # extra S for the saving plot, at the sweep batch sizes only
  SWEEP_BATCHES="32"; OTHER_BATCHES="1,8"; BF16_BATCHES="32"
  LATENCY_EVENTS=60; MATMUL_TRIALS=3; QUIET_WAIT_S=20
  SHADOW_ROUNDS=5
else
  LIMIT="${LIMIT:-256}"; REPEATS="${REPEATS:-5}"
  SWEEP="0.0005,0.002,0.005,0.02,0.05,0.1,0.3"
  SWEEP_BATCHES="1,32"; OTHER_BATCHES="8"; BF16_BATCHES="1,32"
  LATENCY_EVENTS=300; MATMUL_TRIALS=5; QUIET_WAIT_S=120
  SHADOW_ROUNDS=7
fi
# Shadow samples of an accuracy budget: rates measured (with rate 0) at the card's setting, batch 32.
SHADOW_RATES="0.02,0.1"
# Stream latency phases: fractions of the first setting's measured saturation rate (StreamBenchmark --rates, and
# --capacity for the later settings), and the service's classifier.batch.commit settings compared on the same
# broker. The first setting (the service's default) writes stream.json, the stream figure of the ratios; every
# other one stream-<setting>.json.
LATENCY_LOADS="0.2,0.4,0.7"
COMMIT_SETTINGS=(after-batch interval)
# Phase a3: the precisions whose per-class recall is measured on the test e-mails; bfloat16 only where the CPU
# has bfloat16 instructions (elsewhere it is emulated, which says nothing about a deployment).
PRECISIONS=(FLOAT32)
if grep -q -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo; then PRECISIONS+=(BFLOAT16); fi

OUT="$REPO/target/benchmark"
LOGS="$OUT/logs"
TEXTS="model-export/build/spamassassin/data/test.jsonl"
BVENV="$REPO/benchmark/python/.venv"
BPY="$BVENV/bin/python"
mkdir -p "$OUT" "$LOGS"
rm -f "$OUT"/{classifier,classifier-sweep,classifier-other,classifier-bf16,classifier-short,stream,peers,summary,run}.json \
      "$OUT"/stream-*.json "$OUT"/precision-*.json "$OUT"/precision-*-predictions.jsonl \
      "$OUT"/events_per_s.png "$OUT"/saving.png
T0=$(date +%s)
declare -A PHASE_S=() PHASE_LOAD=() PHASE_CPU=()
# The machine may be shared. Each phase records its wall time, the 1-minute load average at its start,
# and how much CPU other processes used meanwhile: (all CPUs' busy time from /proc/stat - the CPU time of
# this script's finished children, from `times`) / wall time, in cores. Background processes started by
# this script (broker, registry) count as "others". A measured phase with others > 0.2 cores is flagged
# in run.json and by summarize.py: its events/s are not a clean measurement.
CLK_TCK="$(getconf CLK_TCK)"
machine_busy_s() { awk -v hz="$CLK_TCK" '/^cpu /{printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat; }
# `times` must run in this shell, not in a $(...) subshell (a fork starts with no child times).
children_cpu_s() { awk '{n=0; for(i=1;i<=2;i++){split($i,a,/[ms]/); n+=a[1]*60+a[2]} printf "%.2f", n}' <(tail -n 1 "$OUT/.times"); }
# Before a measured phase: wait (bounded: QUIET_WAIT_S) until other processes use < 0.3 cores over 2 s,
# so a short job of someone else's does not land in the measurement. Only a wait; never kills anything.
wait_for_quiet() {
  local deadline=$(( $(date +%s) + QUIET_WAIT_S )) b0 b1 used
  while :; do
    b0="$(machine_busy_s)"; sleep 2; b1="$(machine_busy_s)"
    used="$(awk -v a="$b0" -v b="$b1" 'BEGIN{printf "%.2f", (b-a)/2}')"
    if awk -v u="$used" 'BEGIN{exit !(u < 0.3)}'; then return 0; fi
    if (( $(date +%s) >= deadline )); then
      echo "   the machine is busy (other processes use $used cores); measuring anyway after ${QUIET_WAIT_S} s" >&2
      return 0
    fi
  done
}
phase_start() {
  [[ "${2:-}" == measured ]] && wait_for_quiet
  PHASE_T0=$(date +%s.%N); PHASE_LOAD0="$(cut -d' ' -f1 /proc/loadavg)"
  times >"$OUT/.times"; PHASE_BUSY0="$(machine_busy_s)"; PHASE_OWN0="$(children_cpu_s)"
  echo "== $1 (load average $PHASE_LOAD0)"
}
phase_end() {
  local t1 busy1 own1
  times >"$OUT/.times"; t1=$(date +%s.%N); busy1="$(machine_busy_s)"; own1="$(children_cpu_s)"
  PHASE_S[$1]="$(awk -v a="$PHASE_T0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')"
  PHASE_LOAD[$1]="$PHASE_LOAD0"
  PHASE_CPU[$1]="$(awk -v w="${PHASE_S[$1]}" -v m0="$PHASE_BUSY0" -v m1="$busy1" -v o0="$PHASE_OWN0" -v o1="$own1" \
    'BEGIN{own=o1-o0; m=m1-m0; o=m-own; if(o<0)o=0; printf "{\"wall_s\": %.1f, \"own_cpu_s\": %.1f, \"machine_busy_cpu_s\": %.1f, \"others_cores\": %.2f}", w, own, m, (w>0?o/w:0)}')"
  echo "   ${1}: ${PHASE_CPU[$1]}"
}

# ---------------------------------------------------------------------------------------------------
# Set-up
phase_start "set-up"
# shellcheck source=../deploy/lib/setup.sh
source "$REPO/deploy/lib/setup.sh"
setup_python
prepare_data
build_java

# The benchmark's own venv (benchmark/python/.venv): exactly benchmark/python/requirements.lock, installed
# with --no-deps, kept apart from model-export's runtime lock.
_deebert_locked_venv "benchmark python" "$BVENV" "$REPO/benchmark/python/requirements.lock" \
  "tensorflow onnxruntime tf2onnx onnx tokenizers matplotlib threadpoolctl"

CARD="$MODEL_DIR/model_card.json"
# The card's value: its one S, or, for a label-conditional setting, the S recorded beside the per-label ones
# (the benign label's). It is a point of the one-S sweep; the card's own setting runs as --card-setting rows.
CARD_S="$("$BPY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["recommended_threshold"]["value"])' "$CARD")"
CARD_SETTING="$("$BPY" - "$CARD" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["recommended_threshold"]
lt = r.get("label_thresholds")
s = ("S by label " + ", ".join(f"{k} {v:.4f}" for k, v in lt.items())) if lt else f"S = {r['value']}"
print(f"{r['policy']} {s} nats")
EOF
)"
echo "model: $MODEL_DIR (card setting: $CARD_SETTING); texts: first $LIMIT of $TEXTS; threads $THREADS; repeats $REPEATS"

# ONNX conversion is set-up, not measurement: done (or found cached) before anything is timed.
_deebert_logged "$LOGS/onnx-convert.log" "$BPY" benchmark/python/peers.py --convert-only \
  --model-dir "$MODEL_DIR" --texts "$TEXTS" --onnx "$OUT/model.onnx"
tail -n 1 "$LOGS/onnx-convert.log"

# The short-text model (phase a2). Training it is opt-in (--short-texts): minutes of CPU, so a default run
# stays as long as before unless the model is already there. This is the model-export README's documented
# command: subjects fit in 48 tokens (99.8 % of training subjects; the longest test subject has 58).
SHORT_WORK="$(dirname "$SHORT_MODEL_DIR")"
SHORT_WORK_ABS="$(realpath -m "$SHORT_WORK")"; SHORT_MODEL_ABS="$(realpath -m "$SHORT_MODEL_DIR")"  # before any cd
SHORT_TEXTS="$SHORT_WORK/data/test.jsonl"
if [[ ! -f "$SHORT_MODEL_DIR/model_card.json" && $SHORT_TRAIN == 1 ]]; then
  echo "short texts: training $SHORT_MODEL_DIR (log: $LOGS/short-train.log)"
  SHORT_RC=0
  (cd model-export && "$DEEBERT_VENV/bin/python" -m deebert_export run --dataset spamassassin-subjects \
     --work-dir "$SHORT_WORK_ABS" --out "$SHORT_MODEL_ABS" --max-seq-length 48 --stage1-epochs 3) \
     >"$LOGS/short-train.log" 2>&1 || SHORT_RC=$?
  # Exit status 3: a label is weak on dev; the model is written and its card lists the label under warnings.
  # Benchmarked anyway (speed does not depend on it), but said loudly.
  if [[ $SHORT_RC == 3 ]]; then
    echo "WARNING: the short-text model has a weak label (exit 3):" >&2; grep '^error:' "$LOGS/short-train.log" >&2 || true
  elif [[ $SHORT_RC != 0 ]]; then
    echo "FAILED: training the short-text model; last lines of $LOGS/short-train.log:" >&2
    tail -n 30 "$LOGS/short-train.log" >&2; exit 1
  fi
fi
SHORT_CARD_S=""
if [[ -f "$SHORT_MODEL_DIR/model_card.json" ]]; then
  if [[ ! -s "$SHORT_TEXTS" ]]; then   # a model copied without its data: the split is deterministic (seed 13)
    (cd model-export && _deebert_logged "$LOGS/short-prepare.log" "$DEEBERT_VENV/bin/python" -m deebert_export \
       prepare --dataset spamassassin-subjects --work-dir "$SHORT_WORK_ABS") || exit 1
  fi
  SHORT_CARD_S="$("$BPY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["recommended_threshold"]["value"])' \
    "$SHORT_MODEL_DIR/model_card.json")"
  echo "short texts: $SHORT_MODEL_DIR on $(wc -l <"$SHORT_TEXTS") subjects in $SHORT_TEXTS (card S $SHORT_CARD_S)"
else
  echo "short texts: no model at $SHORT_MODEL_DIR; phase a2 skipped (--short-texts trains it)"
fi
phase_end setup

# Same thread settings for every runtime (see the header).
export OPT_OUT_TRACKING=true TF_CPP_MIN_LOG_LEVEL=2
export TF_NUM_INTRAOP_THREADS="$THREADS" TF_NUM_INTEROP_THREADS="$INTER_OP"
export OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"
export RAYON_NUM_THREADS="$THREADS"  # the Rust tokenizers' batch encoding, in DJL (Java) and in Python
# The stream benchmark's service reads its settings from DEEBERT_* (as `run` does): same threads, float32.
export DEEBERT_DEVICE=cpu DEEBERT_INTRA_OP_THREADS="$THREADS" DEEBERT_INTER_OP_THREADS="$INTER_OP" DEEBERT_PRECISION=float32
JAVA_CP="benchmark/target/classes:$(cat benchmark/target/classpath.txt)"
JAVA_FLAGS=(-Dai.djl.tensorflow.num_intraop_threads="$THREADS" -Dai.djl.tensorflow.num_interop_threads="$INTER_OP")

# ---------------------------------------------------------------------------------------------------
# a. Java classifier. Call 1: the sweep batch sizes x (0, the sweep, the card's value as one S, 0.7, and the
# card's setting as the card has it) - one call, so the S = 0 baseline of the saving plot is measured
# round-robin with every setting. Call 2: the other batch sizes x (0, the card's setting, 0.7). The two JSON
# files are merged into classifier.json. Call 1 also measures shadow
# sampling (rates 0 and SHADOW_RATES at the card's recommended setting, SHADOW_ROUNDS rounds round-robin,
# about 3 x (SHADOW_ROUNDS + 1) passes over the texts); its "shadow" section is kept in classifier.json.
phase_start "a. Java classifier ($LIMIT texts, repeats $REPEATS)" measured
classifier() {  # $1 = batch sizes, $2 = thresholds, $3 = JSON file, $4 = log, $5 = precision (default FLOAT32),
               # $6... = more ClassifierBenchmark options
  # C_MODEL, C_TEXTS, C_LIMIT (set for one call) replace the model, texts and limit (phase a2).
  java "${JAVA_FLAGS[@]}" -cp "$JAVA_CP" org.deebert.streams.benchmark.ClassifierBenchmark \
    "${C_MODEL:-$MODEL_DIR}" "${C_TEXTS:-$TEXTS}" --device CPU --precision "${5:-FLOAT32}" --batch-sizes "$1" \
    --thresholds "$2" --limit "${C_LIMIT:-$LIMIT}" --repeats "$REPEATS" --json "$3" "${@:6}" >"$4" 2>&1 \
    || { echo "FAILED: ClassifierBenchmark; last lines of $4:" >&2; tail -n 30 "$4" >&2; return 1; }
  grep -E '^[0-9]+	' "$4" || true
}
sorted_list() { tr ',' '\n' <<<"$1" | sort -g -u | paste -sd, -; }
# ClassifierBenchmark adds a <label>_recall column when the card names a protected_label.
PROTECTED="$("$BPY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("protected_label") or "")' "$CARD")"
# In the S column the card's rows read card:<label>=<S>,... (its setting as the card has it).
echo "batch	S	events/s	mean_ms	p50_ms	p99_ms	exit_histogram	expected_saving	accuracy${PROTECTED:+	${PROTECTED}_recall}"
classifier "$SWEEP_BATCHES" "$(sorted_list "0,$SWEEP,$CARD_S,0.7")" "$OUT/classifier-sweep.json" "$LOGS/classifier-sweep.log" \
  FLOAT32 --card-setting --shadow-rates "$SHADOW_RATES" --shadow-batch 32 --shadow-rounds "$SHADOW_ROUNDS"
grep '^shadow' "$LOGS/classifier-sweep.log" | grep -v '^shadow round' || true
classifier "$OTHER_BATCHES" "0,0.7" "$OUT/classifier-other.json" "$LOGS/classifier-other.log" FLOAT32 --card-setting
# Extra, outside the float32 comparison (ONNX Runtime runs float32): the classifier's opt-in bfloat16
# precision (oneDNN auto mixed precision), only on CPUs with bfloat16 instructions; its accuracy is in
# the table beside float32's.
if grep -q -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  echo "(bfloat16, extra)"
  classifier "$BF16_BATCHES" "0" "$OUT/classifier-bf16.json" "$LOGS/classifier-bf16.log" BFLOAT16 --card-setting
fi
"$BPY" - "$OUT/classifier-sweep.json" "$OUT/classifier-other.json" "$OUT/classifier.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
merged = dict(a)
# One-S rows by S, then the card's row, per batch size.
merged["results"] = sorted(a["results"] + b["results"],
                           key=lambda r: (r["batch"], r.get("setting") == "card", r["threshold"]))
merged["calls"] = [{"file": f, "batch_sizes": sorted({r["batch"] for r in d["results"]}),
                    "thresholds": sorted({r["threshold"] for r in d["results"] if r.get("setting") != "card"}),
                    "card_setting": any(r.get("setting") == "card" for r in d["results"])}
                   for f, d in ((sys.argv[1], a), (sys.argv[2], b))]
json.dump(merged, open(sys.argv[3], "w"), indent=2)
EOF
phase_end classifier

# ---------------------------------------------------------------------------------------------------
# a2. Java classifier on short texts (subject lines) with the short-text model, when it exists. One call, so
# S = 0 is measured round-robin with the sweep and the card's setting; every test subject (quick: the first
# LIMIT). summarize.py reports it as its own table and measured_vs_expected_saving_min_short (batch 32).
if [[ -n "$SHORT_CARD_S" ]]; then
  SHORT_LIMIT=0; [[ $QUICK == 1 ]] && SHORT_LIMIT="$LIMIT"
  phase_start "a2. Java classifier, short texts ($SHORT_TEXTS, repeats $REPEATS)" measured
  echo "batch	S	events/s	mean_ms	p50_ms	p99_ms	exit_histogram	expected_saving	accuracy	spam_recall"
  C_MODEL="$SHORT_MODEL_DIR" C_TEXTS="$SHORT_TEXTS" C_LIMIT="$SHORT_LIMIT" \
    classifier "$SWEEP_BATCHES" "$(sorted_list "0,$SWEEP,$SHORT_CARD_S")" "$OUT/classifier-short.json" \
    "$LOGS/classifier-short.log" FLOAT32 --card-setting
  phase_end short
fi

# ---------------------------------------------------------------------------------------------------
# a3. Precision: per-class recall of each precision on every test e-mail (quick: the first LIMIT), at batch 32
# and the card's setting only (--thresholds none), one repeat: this phase is about answers, not speed. Each
# run also writes its answer per text, so summarize.py compares the precisions text by text (same label and
# exit layer, as the service's precision=auto self-check does; extra misses of the protected label).
PRECISION_LIMIT=0; [[ $QUICK == 1 ]] && PRECISION_LIMIT="$LIMIT"
phase_start "a3. Java classifier, precision (${PRECISIONS[*]}; $TEXTS, limit $PRECISION_LIMIT, 0 = all)" measured
echo "batch	S	events/s	mean_ms	p50_ms	p99_ms	exit_histogram	expected_saving	accuracy${PROTECTED:+	${PROTECTED}_recall}"
for P in "${PRECISIONS[@]}"; do
  p="${P,,}"
  echo "($p)"
  C_LIMIT="$PRECISION_LIMIT" REPEATS=1 classifier 32 none "$OUT/precision-$p.json" "$LOGS/precision-$p.log" "$P" \
    --card-setting --predictions "$OUT/precision-$p-predictions.jsonl"
done
phase_end precision

# ---------------------------------------------------------------------------------------------------
# b. Java stream on a fresh broker and registry (own processes, free loopback ports, fresh data dirs).
phase_start "b. Java stream" measured
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
KAFKA_PORT="$(free_port)"; KAFKA_CONTROLLER_PORT="$(free_port)"; REGISTRY_PORT="$(free_port)"
while [[ "$KAFKA_CONTROLLER_PORT" == "$KAFKA_PORT" ]]; do KAFKA_CONTROLLER_PORT="$(free_port)"; done
while [[ "$REGISTRY_PORT" == "$KAFKA_PORT" || "$REGISTRY_PORT" == "$KAFKA_CONTROLLER_PORT" ]]; do REGISTRY_PORT="$(free_port)"; done
KAFKA_DATA_DIR="$(mktemp -d "$OUT/kafka.XXXXXX")"
REGISTRY_RUN_DIR="$(mktemp -d "$OUT/registry.XXXXXX")"
export KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_DATA_DIR REGISTRY_PORT REGISTRY_RUN_DIR
BROKER_STARTED=0; REGISTRY_STARTED=0
stop_services() {
  if [[ $REGISTRY_STARTED == 1 ]]; then
    REGISTRY_STARTED=0; bash "$REPO/deploy/schema-registry/stop-registry.sh" || true
  fi
  if [[ $BROKER_STARTED == 1 ]]; then
    BROKER_STARTED=0; bash "$REPO/deploy/kafka/stop-broker.sh" || true
  fi
}
trap stop_services EXIT
trap 'exit 130' INT TERM
# start-broker.sh resolves the broker classpath with Maven into its data dir when the file is missing;
# it is the runtime classpath of streams-app, which build_java already wrote.
cp deploy/local/target/classpath.txt "$KAFKA_DATA_DIR/classpath.txt"
BROKER_STARTED=1; bash deploy/kafka/start-broker.sh
REGISTRY_STARTED=1; bash deploy/schema-registry/start-registry.sh
# Latency phases at LATENCY_LOADS of the stream's own saturation rate (its throughput phase, measured in the same
# run), once per commit setting, one after the other on this broker (each run has its own topics and
# application.id). The stream runs the card's setting as the card has it, as the classifier's card rows do.
echo "stream: broker 127.0.0.1:$KAFKA_PORT, registry 127.0.0.1:$REGISTRY_PORT, latency at $LATENCY_LOADS x saturation," \
     "$LATENCY_EVENTS events each; commit settings: ${COMMIT_SETTINGS[*]}"
STREAM_OK=1
COMMIT_OK_PY=""                  # run.json: commit setting -> whether its run completed
# The first setting's latency phases run at fractions of its own saturation rate; the later settings' at the same
# events/s (--capacity = the first run's saturation), so the settings are compared at the same input rates.
CAPACITY=0
for COMMIT in "${COMMIT_SETTINGS[@]}"; do
  if [[ "$COMMIT" == "${COMMIT_SETTINGS[0]}" ]]; then S_JSON="$OUT/stream.json"; S_LOG="$LOGS/stream.log"
  else S_JSON="$OUT/stream-$COMMIT.json"; S_LOG="$LOGS/stream-$COMMIT.log"; fi
  echo "(commit $COMMIT)"
  if java "${JAVA_FLAGS[@]}" -cp "$JAVA_CP" org.deebert.streams.benchmark.StreamBenchmark \
      --bootstrap-servers "127.0.0.1:$KAFKA_PORT" \
      --schema-registry-url "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7" \
      --model-dir "$MODEL_DIR" --events "$TEXTS" --limit "$LIMIT" --batch-size 32 --commit "$COMMIT" \
      --rates "$LATENCY_LOADS" --capacity "$CAPACITY" --latency-events "$LATENCY_EVENTS" --json "$S_JSON" \
      >"$S_LOG" 2>&1; then
    if [[ "$CAPACITY" == 0 ]]; then
      CAPACITY="$("$BPY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput"]["events_per_s"] or 0)' "$S_JSON")"
    fi
    COMMIT_OK_PY+="\"$COMMIT\": True, "
    grep -v -E '^\s*$| (DEBUG|INFO|WARN) ' "$S_LOG" | tail -n 15 || true
  else
    COMMIT_OK_PY+="\"$COMMIT\": False, "; STREAM_OK=0
    echo "FAILED: StreamBenchmark --commit $COMMIT (continuing without $(basename "$S_JSON")); last lines of $S_LOG:" >&2
    tail -n 30 "$S_LOG" >&2
    rm -f "$S_JSON"
  fi
done
stop_services
# The broker's data and the registry's log are only kept when the stream phase failed (for its logs).
if [[ $STREAM_OK == 1 ]]; then rm -rf "$KAFKA_DATA_DIR" "$REGISTRY_RUN_DIR"; fi
phase_end stream

# ---------------------------------------------------------------------------------------------------
# c. Peers: ONNX Runtime and TensorFlow Python at full depth, sgemm, FLOPs.
phase_start "c. peers (ONNX Runtime, TensorFlow Python, sgemm)" measured
"$BPY" benchmark/python/peers.py --model-dir "$MODEL_DIR" --texts "$TEXTS" --limit "$LIMIT" \
  --batch-sizes 1,8,32 --threads "$THREADS" --inter-op-threads "$INTER_OP" --repeats "$REPEATS" \
  --matmul-trials "$MATMUL_TRIALS" --onnx "$OUT/model.onnx" --out "$OUT/peers.json" 2>"$LOGS/peers.log" \
  || { echo "FAILED: peers.py; last lines of $LOGS/peers.log:" >&2; tail -n 30 "$LOGS/peers.log" >&2; exit 1; }
grep '^peers:' "$LOGS/peers.log" | grep -v 'round ' || true
phase_end peers

# ---------------------------------------------------------------------------------------------------
# d. Summary.
"$BPY" - "$OUT/run.json" <<EOF
import json, sys
json.dump({"command": "bash benchmark/run-benchmark.sh" + (" --quick" if $QUICK else ""), "quick": bool($QUICK),
           "limit": $LIMIT, "repeats": $REPEATS, "threads": $THREADS, "inter_op_threads": $INTER_OP,
           "model_dir": "$MODEL_DIR", "texts": "$TEXTS", "card_threshold": $CARD_S,
           "short_texts": {"model_dir": "$SHORT_MODEL_DIR", "texts": "$SHORT_TEXTS",
                           "card_threshold": ${SHORT_CARD_S:-None}, "ran": bool("$SHORT_CARD_S"),
                           "seconds": ${PHASE_S[short]:-None}, "cpu": ${PHASE_CPU[short]:-None}},
           "card_setting": "$CARD_SETTING",
           "git_commit": "$(git rev-parse HEAD 2>/dev/null || echo unknown)",
           "phase_seconds": {"setup": ${PHASE_S[setup]}, "classifier": ${PHASE_S[classifier]},
                             "precision": ${PHASE_S[precision]},
                             "stream": ${PHASE_S[stream]}, "peers": ${PHASE_S[peers]}},
           "load_average_1min_at_phase_start": {"setup": ${PHASE_LOAD[setup]}, "classifier": ${PHASE_LOAD[classifier]},
                                                "precision": ${PHASE_LOAD[precision]},
                                                "stream": ${PHASE_LOAD[stream]}, "peers": ${PHASE_LOAD[peers]}},
           "cpu": {"setup": ${PHASE_CPU[setup]}, "classifier": ${PHASE_CPU[classifier]},
                   "precision": ${PHASE_CPU[precision]},
                   "stream": ${PHASE_CPU[stream]}, "peers": ${PHASE_CPU[peers]}},
           "precision_phase": {"precisions": "${PRECISIONS[*]}".lower().split(), "batch": 32, "setting": "card",
                               "limit": $PRECISION_LIMIT, "limit_note": "0 = every test e-mail", "repeats": 1},
           "stream_phase": {"commit_settings": "${COMMIT_SETTINGS[*]}".split(), "latency_loads": [$LATENCY_LOADS],
                            "latency_events_per_load": $LATENCY_EVENTS, "completed": {$COMMIT_OK_PY}},
           "cpu_note": "others_cores = (CPU time all processes used, /proc/stat - this script's children's CPU time) / wall time; in the stream phase the broker and registry count as others",
           "cpus": $(nproc),
           "stream_ok": bool($STREAM_OK),
           "thread_settings": {"java": "-Dai.djl.tensorflow.num_intraop_threads=$THREADS -Dai.djl.tensorflow.num_interop_threads=$INTER_OP, TF_NUM_INTRAOP_THREADS=$THREADS TF_NUM_INTEROP_THREADS=$INTER_OP",
                               "python_tensorflow": "tf.config.threading intra=$THREADS inter=$INTER_OP",
                               "onnxruntime": "intra_op_num_threads=$THREADS inter_op_num_threads=$INTER_OP",
                               "numpy": "OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=$THREADS"}},
          open(sys.argv[1], "w"), indent=2)
EOF
echo "== d. summary"
"$BPY" benchmark/python/summarize.py --dir "$OUT" --card-threshold "$CARD_S"
echo "benchmark: $(( $(date +%s) - T0 )) s in total (set-up ${PHASE_S[setup]} s, classifier ${PHASE_S[classifier]} s," \
     "precision ${PHASE_S[precision]} s, stream ${PHASE_S[stream]} s, peers ${PHASE_S[peers]} s)"
[[ $STREAM_OK == 1 ]] || { echo "benchmark: a stream run failed; its figures are null in summary.json" >&2; exit 1; }
