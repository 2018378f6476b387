#!/usr/bin/env python3
"""Peer runtimes for the DeeBERT benchmark: ONNX Runtime and TensorFlow (Python) on the same exported
model, texts and thread count as the Java classifier, plus the machine's dense fp32 matmul rate and the
model's FLOPs, which together give a physical upper limit on events/s.

Run with the benchmark venv (benchmark/python/.venv), normally from benchmark/run-benchmark.sh:

    benchmark/python/.venv/bin/python benchmark/python/peers.py \
        --model-dir model-export/models/deebert-spamassassin-minilm-l6 \
        --texts model-export/build/spamassassin/data/test.jsonl --limit 256 \
        --batch-sizes 1,8,32 --threads 2 --repeats 3 --out target/benchmark/peers.json

What is measured, and how it matches the Java side (benchmark/.../ClassifierBenchmark):
- Texts: the first N non-empty ``text`` fields of the JSON-lines file, in file order, in consecutive
  batches (the last one may be short). Empty texts are skipped, as the Java benchmark does.
- Tokenization: Python ``tokenizers`` on the model's ``tokenizer.json``, truncation to the card's
  ``max_seq_length`` (longest-first, [CLS]/[SEP] included and added), no padding in the tokenizer, one
  ``encode`` for a batch of 1 and one ``encode_batch`` otherwise; each batch right-padded to its longest
  row with id 0 / mask 0 — what the Java ``BatchTokenizer`` does.
  Tokenization is inside the timed call, as in the Java classifier's ``elapsedMs``.
- Both peers run the ``serving_default`` signature: all layers, every off-ramp (``all_logits``), no
  early exit ("full depth"). ONNX Runtime runs a tf2onnx conversion of that signature (opset 17),
  cached in ``target/benchmark/model.onnx`` keyed by a hash of the SavedModel's files.
- Per (runtime, batch size): 5 unmeasured warm-up batches, then one pass over all texts. With
  ``--repeats K`` all (runtime, batch size) passes run once, then all again, K times (round-robin, so
  a slow phase of a shared machine hits every configuration alike); the reported events/s is the
  median run (the lower middle one for even K, as the Java side), latencies are pooled over the K runs,
  percentiles are nearest-rank.
- Threads (T = ``--threads``, default 2; P = ``--inter-op-threads``, default 1): ONNX Runtime
  ``intra_op_num_threads = T`` (its pool includes the calling thread), ``inter_op_num_threads = P``,
  sequential execution for P = 1, graph optimization level ALL. TensorFlow: ``tf.config.threading``
  intra-op = T, inter-op = P, the same values the Java side gets through DJL's system properties
  ``ai.djl.tensorflow.num_intraop_threads`` / ``num_interop_threads`` and TensorFlow's
  ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` (see benchmark/run-benchmark.sh). numpy/OpenBLAS:
  ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` = T, set by this script before
  numpy is first imported (numpy reads them only at import). Tokenizer batch encoding (Rust, rayon):
  ``RAYON_NUM_THREADS`` = T, as the script exports for the Java side's DJL tokenizer.

Units: events/s = texts per second of wall-clock time; latencies in milliseconds per call (one call =
one batch); FLOPs counted as 2 per multiply-add; GFLOP = 1e9 FLOP.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ONNX = REPO / "target" / "benchmark" / "model.onnx"
TF2ONNX_OPSET = 17
SIGNATURE = "serving_default"
OUTPUT = "all_logits"


# ----------------------------------------------------------------------------------------------------
# Command line and environment


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", type=Path, required=True,
                   help="exported model directory (model_card.json, tokenizer.json, saved_model/)")
    p.add_argument("--texts", type=Path, required=True, help='JSON lines with a "text" field')
    p.add_argument("--limit", type=int, default=256, help="use the first N non-empty texts (0 = all)")
    p.add_argument("--batch-sizes", default="1,8,32", help="comma-separated batch sizes (rows per call)")
    p.add_argument("--threads", type=int, default=2, help="compute threads for every runtime")
    p.add_argument("--repeats", type=int, default=3, help="round-robin passes per configuration")
    p.add_argument("--warmup-batches", type=int, default=5, help="unmeasured batches before each pass")
    p.add_argument("--runtimes", default="onnxruntime,tensorflow",
                   help="which peers to run (comma-separated: onnxruntime, tensorflow)")
    p.add_argument("--matmul-sizes", default="1024,2048", help="square sgemm sizes n for the GFLOP/s probe")
    p.add_argument("--matmul-trials", type=int, default=5, help="timed sgemm calls per size (best is kept)")
    p.add_argument("--onnx", type=Path, default=DEFAULT_ONNX, help="where the converted ONNX model is cached")
    p.add_argument("--inter-op-threads", type=int, default=1,
                   help="TensorFlow / ONNX Runtime inter-op threads (independent ops run concurrently)")
    p.add_argument("--convert-only", action="store_true",
                   help="only convert the SavedModel to ONNX (or check the cached file) and exit")
    p.add_argument("--out", type=Path, help="JSON file to write (required unless --convert-only)")
    args = p.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    args.matmul_sizes = [int(n) for n in args.matmul_sizes.split(",") if n.strip()]
    args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    if args.threads < 1 or args.repeats < 1 or args.limit < 0 or args.warmup_batches < 0 \
            or not args.batch_sizes or min(args.batch_sizes) < 1:
        p.error("--threads, --repeats and batch sizes must be >= 1; --limit, --warmup-batches >= 0")
    if args.out is None and not args.convert_only:
        p.error("--out is required")
    unknown = set(args.runtimes) - {"onnxruntime", "tensorflow"}
    if unknown:
        p.error(f"unknown runtimes {sorted(unknown)}")
    return args


def cpu_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (empty when it cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def openblas_coretype(flags: set[str]) -> str | None:
    """The OpenBLAS kernel to force for the sgemm probe: SkylakeX (AVX-512) or Haswell (AVX2), by CPU flags.

    numpy 1.26.4's OpenBLAS 0.3.23 picks its kernel from a table of CPU models; a newer CPU it does not
    know falls back to the generic "Prescott" (SSE3) kernel, which runs sgemm at a fraction of the machine's
    rate (on this project's 2-core Xeon, family 6 model 207: ~30-60 GFLOP/s instead of ~280). The probe is
    meant to measure the machine, not that table, so the kernel is chosen from the feature flags.
    """
    if "avx512f" in flags:
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def pin_thread_env(threads: int) -> dict[str, str]:
    """Sets the BLAS/OpenMP thread variables to ``threads`` and, unless the caller set it, OPENBLAS_CORETYPE
    (see :func:`openblas_coretype`). Call before numpy is imported (numpy's OpenBLAS reads them at load).

    Returns the variables as set. TensorFlow's own pools are set through tf.config, ONNX Runtime's through
    its SessionOptions; these variables only govern OpenBLAS (numpy) and any OpenMP code.
    """
    env = {k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "RAYON_NUM_THREADS")}  # rayon: the tokenizer's batch encoding
    core = os.environ.get("OPENBLAS_CORETYPE") or openblas_coretype(cpu_flags())
    if core:
        env["OPENBLAS_CORETYPE"] = core
    if "numpy" in sys.modules:
        raise RuntimeError("numpy was imported before the thread variables were set")
    os.environ.update(env)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def openblas_core(coretype: str | None) -> str | None:
    """The kernel numpy's OpenBLAS loads with OPENBLAS_CORETYPE = ``coretype`` (None = its own detection),
    as OpenBLAS reports it with OPENBLAS_VERBOSE=2 ("Core: X"), from a short child process."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    env["OPENBLAS_VERBOSE"] = "2"
    try:
        out = subprocess.run([sys.executable, "-c", "import numpy"], env=env, capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (out.stdout + out.stderr).splitlines():
        if line.startswith("Core:"):
            return line.split(":", 1)[1].strip()
    return None


# ----------------------------------------------------------------------------------------------------
# Texts and tokenization


def read_texts(path: Path, limit: int) -> list[str]:
    """The first ``limit`` non-empty ``text`` fields of a JSON-lines file, in file order (0 = all)."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            text = json.loads(line).get("text") or ""
            if not text:
                continue  # the Java classifier rejects empty texts; its benchmark skips them
            texts.append(text)
            if limit and len(texts) == limit:
                break
    if not texts:
        raise SystemExit(f"no texts in {path}")
    return texts


class BatchTokenizer:
    """Tokenizes like the Java runtime: truncation to ``max_len`` tokens (special tokens included),
    [CLS]/[SEP] added, no padding in the tokenizer; ``encode`` right-pads the batch to its longest row
    with id 0 and attention mask 0."""

    def __init__(self, tokenizer_json: Path, max_len: int):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(tokenizer_json))
        self.tok.enable_truncation(max_length=max_len)
        self.tok.no_padding()
        self.max_len = max_len

    def ids(self, text: str) -> list[int]:
        """Token ids of one text after truncation, [CLS] ... [SEP]."""
        return self.tok.encode(text).ids

    def encode(self, texts: list[str]):
        """Returns (input_ids, attention_mask), both int32 arrays of shape (B, T), T = longest row."""
        import numpy as np

        # As the Java BatchTokenizer: one encode for a single text, one native batch encode (parallel over
        # rayon's pool, RAYON_NUM_THREADS) for several.
        if len(texts) == 1:
            rows = [self.tok.encode(texts[0]).ids]
        else:
            rows = [e.ids for e in self.tok.encode_batch(texts)]
        seq = max(len(r) for r in rows)
        ids = np.zeros((len(rows), seq), dtype=np.int32)
        mask = np.zeros((len(rows), seq), dtype=np.int32)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = r
            mask[i, : len(r)] = 1
        return ids, mask


def batches(texts: list[str], size: int) -> list[list[str]]:
    """Consecutive batches of ``size`` texts in order; the last one may be shorter."""
    return [texts[i:i + size] for i in range(0, len(texts), size)]


# ----------------------------------------------------------------------------------------------------
# Statistics (same definitions as the Java BenchmarkStats)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``q`` of the values at or below it."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(q * len(sorted_values))
    return sorted_values[max(0, min(len(sorted_values) - 1, rank - 1))]


def median_index(values: list[float]) -> int:
    """Index of the median run by value; for an even count the lower of the two middle runs."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    return order[(len(values) - 1) // 2]


# ----------------------------------------------------------------------------------------------------
# Model facts and FLOPs


def sha256_of_dir(d: Path) -> str:
    """SHA-256 over the relative paths and contents of every file under ``d`` (sorted), hex."""
    h = hashlib.sha256()
    for f in sorted(p for p in d.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(d)).encode())
        h.update(b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def model_dims(model_dir: Path, card: dict) -> dict:
    """Hidden size H, layers n, intermediate size I, labels C of the exported model.

    I is read from the SavedModel's variables (shape of layer 0's intermediate kernel, (H, I):
    ``layers/0/ffn/intermediate/kernel``, or ``layer_vars/0/i_w`` in exports with flat weight names),
    cross-checked against the card's ``backbone.config.intermediate_size`` when present (the card's
    top level and export_config.json do not carry I).
    """
    import tensorflow as tf

    shapes = dict(tf.train.list_variables(str(model_dir / card.get("saved_model", "saved_model")
                                              / "variables" / "variables")))
    inter_from_vars = None
    for name, shape in shapes.items():
        if ("/layers/0/ffn/intermediate/kernel/" in name or "/layer_vars/0/i_w/" in name) and len(shape) == 2:
            inter_from_vars = int(shape[1])
    inter_from_card = (card.get("backbone") or {}).get("config", {}).get("intermediate_size")
    inter = inter_from_vars or inter_from_card
    if inter is None:
        raise SystemExit("cannot find the intermediate size in the SavedModel variables or the card")
    return {
        "hidden_size": int(card["hidden_size"]),
        "num_layers": int(card["num_layers"]),
        "intermediate_size": int(inter),
        "intermediate_size_source": "saved_model variables (layer 0's intermediate kernel)" if inter_from_vars
        else "model_card backbone.config",
        "intermediate_size_card": inter_from_card,
        "num_labels": len(card["labels"]),
        "max_seq_length": int(card["max_seq_length"]),
    }


def layer_flops(tokens: float, h: int, inter: int) -> float:
    """FLOPs of one transformer layer on one input of ``tokens`` tokens: Q/K/V/output projections
    (4 H^2 per token) and the feed-forward (2 H I per token), 2 FLOPs per multiply-add, plus attention
    scores and the weighted sum of values (2 T^2 H each): 2 T (4 H^2 + 2 H I) + 4 T^2 H."""
    return 2 * tokens * (4 * h * h + 2 * h * inter) + 4 * tokens * tokens * h


def offramp_flops(h: int, labels: int) -> float:
    """FLOPs of one off-ramp on one input: pooler dense H->H on the [CLS] vector and the linear H->C."""
    return 2 * (h * h + h * labels)


def card_setting_saving(card: dict) -> tuple[float | None, str]:
    """The expected saving (DeeBERT eq. 2, test split) of the card's recommended setting as the card has it, and
    where it came from. ``recommended_threshold.test`` holds it when that entry evaluated the same setting: the
    same policy, S and per-label thresholds (a label-conditional setting saves more than its ``value`` alone would,
    so a test entry of another setting must not stand in for it). None when the card has no such entry."""
    rec = card.get("recommended_threshold") or {}
    test = rec.get("test") or {}
    saving = test.get("expected_saving")
    if saving is None:
        return None, "none: the card's recommended_threshold has no test.expected_saving"
    same = (str(test.get("policy", rec.get("policy"))).lower() == str(rec.get("policy")).lower()
            and test.get("threshold", rec.get("value")) == rec.get("value")
            and (test.get("label_thresholds") or None) == (rec.get("label_thresholds") or None))
    if not same:
        return None, "none: recommended_threshold.test evaluated another setting than recommended_threshold"
    kind = "label-conditional " if rec.get("label_thresholds") else ""
    return saving, (f"model_card recommended_threshold.test.expected_saving (test split, DeeBERT eq. 2; the card's "
                    f"{kind}setting as the card has it)")


def flops_summary(dims: dict, token_counts: list[int], card: dict) -> dict:
    """Model FLOPs per email at full depth and at the card's recommended setting (as the card has it: per
    predicted label when label-conditional), GFLOP."""
    h, n, inter, c = dims["hidden_size"], dims["num_layers"], dims["intermediate_size"], dims["num_labels"]
    mean_t = sum(token_counts) / len(token_counts)
    # Per-email mean of the per-layer cost (T^2 term averaged over emails, not taken at the mean T).
    per_layer_exact = sum(layer_flops(t, h, inter) for t in token_counts) / len(token_counts)
    per_layer = layer_flops(mean_t, h, inter)
    ramp = offramp_flops(h, c)
    full = n * (per_layer + ramp)
    rec = card.get("recommended_threshold") or {}
    saving, saving_source = card_setting_saving(card)
    return {
        "formula": "per layer 2*T*(4*H*H + 2*H*I) + 4*T*T*H, plus off-ramp 2*(H*H + H*C); T = mean tokens "
                   "per email ([CLS]/[SEP] included, no padding); FLOP = 2 per multiply-add",
        "mean_tokens": mean_t,
        "per_layer_gflop": per_layer / 1e9,
        "per_layer_gflop_mean_over_emails": per_layer_exact / 1e9,
        "offramp_gflop": ramp / 1e9,
        "full_depth_gflop_per_email": full / 1e9,
        "full_depth_gflop_per_email_mean_over_emails": n * (per_layer_exact + ramp) / 1e9,
        "card_policy": rec.get("policy"),
        "card_threshold": rec.get("value"),
        "card_label_thresholds": rec.get("label_thresholds"),
        "card_expected_saving": saving,
        "card_expected_saving_source": saving_source,
        "card_gflop_per_email": full * (1 - saving) / 1e9 if saving is not None else None,
    }


# ----------------------------------------------------------------------------------------------------
# ONNX conversion (cached)


def convert_to_onnx(saved_model: Path, onnx_path: Path, python: str = sys.executable) -> dict:
    """Converts ``saved_model``'s serving_default signature with tf2onnx (opset 17), unless the cached
    file was made from identical SavedModel files and the same tf2onnx version / opset."""
    from importlib.metadata import version

    tf2onnx_version = version("tf2onnx")  # not imported here: importing it would start TensorFlow early
    key = hashlib.sha256(f"{sha256_of_dir(saved_model)}|tf2onnx={tf2onnx_version}|opset={TF2ONNX_OPSET}"
                         f"|sig={SIGNATURE}".encode()).hexdigest()
    stamp = onnx_path.with_suffix(onnx_path.suffix + ".sha256")
    cmd = [python, "-m", "tf2onnx.convert", "--saved-model", str(saved_model), "--signature_def", SIGNATURE,
           "--opset", str(TF2ONNX_OPSET), "--output"]
    info = {"path": str(onnx_path), "cache_key": key, "opset": TF2ONNX_OPSET, "tf2onnx": tf2onnx_version,
            "command": " ".join(cmd[1:] + [str(onnx_path)])}
    if onnx_path.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        return {**info, "converted": False, "convert_seconds": 0.0}
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=onnx_path.parent) as tmp:
        tmp_out = Path(tmp) / "model.onnx"
        log = onnx_path.parent / "tf2onnx.log"
        t0 = time.perf_counter()
        with log.open("w") as lf:
            rc = subprocess.run(cmd + [str(tmp_out)], stdout=lf, stderr=subprocess.STDOUT).returncode
        if rc != 0 or not tmp_out.is_file():
            tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-30:])
            raise SystemExit(f"tf2onnx failed (exit {rc}); last lines of {log}:\n{tail}")
        seconds = time.perf_counter() - t0
        shutil.move(str(tmp_out), onnx_path)
    stamp.write_text(key + "\n")
    return {**info, "converted": True, "convert_seconds": seconds}


# ----------------------------------------------------------------------------------------------------
# Runtimes


class OrtRunner:
    """ONNX Runtime CPU session on the converted full-depth model."""

    name = "onnxruntime"

    def __init__(self, onnx_path: Path, threads: int, inter_op: int = 1):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = inter_op
        # Sequential unless inter-op threads were asked for (ORT uses its inter-op pool only in parallel mode).
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL if inter_op <= 1 else ort.ExecutionMode.ORT_PARALLEL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(str(onnx_path), sess_options=so, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.sess.get_inputs()}
        outs = [o.name for o in self.sess.get_outputs()]
        self.output = OUTPUT if OUTPUT in outs else outs[0]
        self.settings = {"intra_op_num_threads": threads, "inter_op_num_threads": inter_op,
                         "execution_mode": str(so.execution_mode).split(".")[-1], "graph_optimization_level": "ORT_ENABLE_ALL",
                         "providers": self.sess.get_providers(), "inputs": sorted(self.inputs),
                         "output": self.output}

    def __call__(self, ids, mask):
        """Full-depth logits (B, n, C) as a numpy array."""
        feed = {"input_ids": ids, "attention_mask": mask}
        return self.sess.run([self.output], {k: v for k, v in feed.items() if k in self.inputs})[0]


class TfRunner:
    """TensorFlow (Python) on the SavedModel's serving_default signature (no conversion)."""

    name = "tensorflow"

    def __init__(self, saved_model: Path, threads: int):
        import tensorflow as tf

        self.tf = tf
        self.model = tf.saved_model.load(str(saved_model))
        self.fn = self.model.signatures[SIGNATURE]
        self.settings = {"intra_op_parallelism_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                         "inter_op_parallelism_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                         "api": "tf.saved_model.load(...).signatures['serving_default'], eager call"}

    def __call__(self, ids, mask):
        """Full-depth logits (B, n, C) as a numpy array."""
        out = self.fn(input_ids=self.tf.constant(ids), attention_mask=self.tf.constant(mask))
        return out[OUTPUT].numpy()


def configure_tf_threads(threads: int, inter_op: int = 1) -> None:
    """Sets TensorFlow's intra-op pool to ``threads`` and its inter-op pool to ``inter_op`` threads (must run
    before TensorFlow's runtime starts). The Java side gets the same values through DJL's system properties
    and TensorFlow's TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS (benchmark/run-benchmark.sh)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(inter_op)


def one_pass(runner, tokenizer: BatchTokenizer, texts: list[str], batch: int, warmup: int) -> dict:
    """Warm-up batches, then one timed pass over ``texts`` in batches of ``batch``.

    Returns seconds (wall-clock of the pass), events_per_s and per-call latencies in ms (each call =
    tokenize + pad + run + fetch the logits).
    """
    groups = batches(texts, batch)
    for w in range(warmup):
        start = (w * batch) % len(texts)
        runner(*tokenizer.encode(texts[start:start + batch]))
    lat = []
    cpu0 = os.times()
    t0 = time.perf_counter()
    for g in groups:
        c0 = time.perf_counter()
        runner(*tokenizer.encode(g))
        lat.append((time.perf_counter() - c0) * 1e3)
    seconds = time.perf_counter() - t0
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {"seconds": seconds, "events_per_s": len(texts) / seconds, "latencies_ms": lat,
            "cpu_seconds": cpu}


def summarize_runs(runtime: str, batch: int, runs: list[dict]) -> dict:
    """The reported entry of one (runtime, batch): median run's events/s, pooled latencies (ms)."""
    rates = [r["events_per_s"] for r in runs]
    med = runs[median_index(rates)]
    pooled = sorted(x for r in runs for x in r["latencies_ms"])
    return {"runtime": runtime, "depth": "full", "batch": batch, "events_per_s": med["events_per_s"],
            "mean_ms": sum(pooled) / len(pooled), "p50_ms": percentile(pooled, 0.50),
            "p90_ms": percentile(pooled, 0.90), "p99_ms": percentile(pooled, 0.99), "max_ms": pooled[-1],
            "calls": len(pooled), "seconds": med["seconds"], "events_per_s_runs": rates,
            # process CPU seconds (user + sys, all threads) per wall second of the median run: about the
            # thread count when the runtime had the cores to itself; spin-waiting threads count as busy
            "cpu_per_wall_s": med["cpu_seconds"] / med["seconds"]}


# ----------------------------------------------------------------------------------------------------
# Parity


def parity(runners: dict, tokenizer: BatchTokenizer, texts: list[str], batch: int, model_dir: Path) -> dict:
    """Max |logit| difference ONNX Runtime vs TensorFlow over all texts (batches of ``batch``), and
    TensorFlow vs the export's reference_outputs.jsonl for texts found there (by SHA-256 of the text),
    plus how many texts' token ids equal the reference's (the Java parity test checks DJL against them)."""
    import numpy as np

    out: dict = {"batch": batch, "texts": len(texts)}
    ref = {}
    ref_file = model_dir / "reference_outputs.jsonl"
    if ref_file.is_file():
        with ref_file.open() as f:
            for line in f:
                r = json.loads(line)
                ref[r["text_sha256"]] = r
    ort_tf = 0.0
    tf_ref = 0.0
    matched = ids_equal = 0
    for g in batches(texts, batch):
        ids, mask = tokenizer.encode(g)
        res = {name: r(ids, mask) for name, r in runners.items()}
        if "onnxruntime" in res and "tensorflow" in res:
            ort_tf = max(ort_tf, float(np.max(np.abs(res["onnxruntime"] - res["tensorflow"]))))
        some = res.get("tensorflow", res.get("onnxruntime"))
        for i, t in enumerate(g):
            r = ref.get(hashlib.sha256(t.encode("utf-8")).hexdigest())
            if r is None:
                continue
            matched += 1
            ids_equal += int(r["token_ids"] == tokenizer.ids(t))
            tf_ref = max(tf_ref, float(np.max(np.abs(some[i] - np.asarray(r["logits"], dtype=np.float32)))))
    out["onnxruntime_vs_tensorflow_max_abs_logit_diff"] = ort_tf if len(runners) == 2 else None
    out["reference_source_runtime"] = "tensorflow" if "tensorflow" in runners else "onnxruntime"
    out["vs_reference_outputs_max_abs_logit_diff"] = tf_ref if matched else None
    out["reference_outputs_matched"] = matched
    out["token_ids_equal_reference"] = ids_equal
    return out


# ----------------------------------------------------------------------------------------------------
# Matmul probe and machine facts


def matmul_rate(sizes: list[int], trials: int) -> dict:
    """Best-of-``trials`` float32 square matmul (numpy, OpenBLAS sgemm) per size n; GFLOP/s = 2 n^3 / s."""
    import numpy as np

    rng = np.random.default_rng(0)
    results = []
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm-up (thread pool start, page faults)
        times = []
        for _ in range(trials):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - t0)
        best = min(times)
        results.append({"n": n, "trials": trials, "seconds_best": best, "seconds_median": sorted(times)[len(times) // 2],
                        "gflops_best": 2 * n ** 3 / best / 1e9})
    info = {"dtype": "float32", "op": "numpy.matmul (sgemm)", "results": results,
            "gflops_peak": max(r["gflops_best"] for r in results)}
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    info["openblas"] = {"coretype_set": coretype, "core_used": openblas_core(coretype),
                        "core_by_own_detection": openblas_core(None),
                        "note": "OPENBLAS_CORETYPE is chosen from the CPU flags (peers.openblas_coretype) because "
                                "OpenBLAS's own model table may not know this CPU and fall back to a generic kernel"}
    try:
        from threadpoolctl import threadpool_info

        # threadpoolctl's "architecture" is not reported: it shows the build's default ("Prescott") whatever
        # kernel OpenBLAS loaded; core_used above is OpenBLAS's own word.
        info["blas_pools"] = [{k: p.get(k) for k in ("internal_api", "num_threads", "version", "threading_layer")}
                              for p in threadpool_info()]
    except ImportError:
        pass
    return info


def cpu_facts() -> dict:
    """CPU model name and logical CPU counts (from /proc/cpuinfo and the scheduler affinity)."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    simd = sorted(cpu_flags() & {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile"})
    return {"cpu_model": model or platform.processor(), "simd_flags": simd, "logical_cpus": os.cpu_count(),
            "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "machine": platform.machine(), "python": platform.python_version()}


# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    thread_env = pin_thread_env(args.threads)
    t_start = time.perf_counter()
    load_start = os.getloadavg()

    import numpy as np  # noqa: F401  (first import: after the thread variables are set)

    card = json.loads((args.model_dir / "model_card.json").read_text())
    saved_model = args.model_dir / card.get("saved_model", "saved_model")
    if args.convert_only:
        info = convert_to_onnx(saved_model, args.onnx)
        print(f"peers: ONNX model {'converted in %.0f s' % info['convert_seconds'] if info['converted'] else 'cached'}:"
              f" {args.onnx}", file=sys.stderr)
        return 0
    texts = read_texts(args.texts, args.limit)
    tokenizer = BatchTokenizer(args.model_dir / card.get("tokenizer", "tokenizer.json"), int(card["max_seq_length"]))
    counts = [len(tokenizer.ids(t)) for t in texts]
    padded = {}
    for b in args.batch_sizes:
        lens = [max(len(tokenizer.ids(t)) for t in g) * len(g) for g in batches(texts, b)]
        padded[str(b)] = sum(lens) / len(texts)
    print(f"peers: {len(texts)} texts, mean {sum(counts) / len(counts):.1f} tokens, threads {args.threads}",
          file=sys.stderr)

    onnx_info = None
    if "onnxruntime" in args.runtimes:
        onnx_info = convert_to_onnx(saved_model, args.onnx)
        print(f"peers: ONNX model {'converted in %.0f s' % onnx_info['convert_seconds'] if onnx_info['converted'] else 'from cache'}"
              f" ({args.onnx})", file=sys.stderr)

    # The matmul probe runs before any inference runtime is loaded, so their pools are not yet started.
    matmul = matmul_rate(args.matmul_sizes, args.matmul_trials)
    print(f"peers: sgemm peak {matmul['gflops_peak']:.1f} GFLOP/s", file=sys.stderr)

    configure_tf_threads(args.threads, args.inter_op_threads)
    import tensorflow as tf
    import onnxruntime as ort

    dims = model_dims(args.model_dir, card)
    flops = flops_summary(dims, counts, card)
    runners = {}
    if "onnxruntime" in args.runtimes:
        runners["onnxruntime"] = OrtRunner(args.onnx, args.threads, args.inter_op_threads)
    if "tensorflow" in args.runtimes:
        runners["tensorflow"] = TfRunner(saved_model, args.threads)

    par = parity(runners, tokenizer, texts, max(args.batch_sizes), args.model_dir)
    print(f"peers: parity ORT vs TF max |diff| {par['onnxruntime_vs_tensorflow_max_abs_logit_diff']}", file=sys.stderr)

    runs: dict[tuple[str, int], list[dict]] = {(r, b): [] for r in runners for b in args.batch_sizes}
    for k in range(args.repeats):
        for (name, b), lst in runs.items():
            lst.append(one_pass(runners[name], tokenizer, texts, b, args.warmup_batches))
            print(f"peers: round {k + 1}/{args.repeats} {name} b{b}: {lst[-1]['events_per_s']:.1f} events/s",
                  file=sys.stderr)
    results = [summarize_runs(name, b, lst) for (name, b), lst in runs.items()]

    peak = matmul["gflops_peak"]
    limit = {"gflops_used": peak, "gflops_source": "best numpy sgemm rate over the probed sizes",
             "full_events_per_s": peak / flops["full_depth_gflop_per_email"],
             "card_events_per_s": peak / flops["card_gflop_per_email"] if flops["card_gflop_per_email"] else None,
             "note": "dense fp32 compute bound: events/s if every FLOP of the model ran at the sgemm rate "
                     "(no padding, no attention softmax/layer-norm/GELU cost)"}

    doc = {
        "schema": "deebert-benchmark-peers/1",
        "model": {"name": card.get("name"), "version": card.get("version"), "dir": str(args.model_dir),
                  "saved_model_sha256": sha256_of_dir(saved_model), **dims},
        "texts": {"file": str(args.texts), "count": len(texts), "mean_tokens": sum(counts) / len(counts),
                  "min_tokens": min(counts), "max_tokens": max(counts),
                  "padded_tokens_per_email_by_batch": padded},
        "threads": args.threads, "inter_op_threads": args.inter_op_threads, "repeats": args.repeats, "warmup_batches": args.warmup_batches,
        "batch_sizes": args.batch_sizes,
        "timing": "one call = tokenize + pad + run serving_default (all layers, all off-ramps) + fetch logits; "
                  "events/s = texts / wall-clock seconds of a pass, median of the round-robin repeats; "
                  "latencies in ms per call pooled over repeats, nearest-rank percentiles",
        "environment": {**cpu_facts(),
                        "versions": {"onnxruntime": ort.__version__, "tensorflow": tf.__version__,
                                     "numpy": np.__version__, "tokenizers": __import__("tokenizers").__version__,
                                     "tf2onnx": onnx_info["tf2onnx"] if onnx_info else None},
                        "loadavg_1_5_15min": {"start": load_start, "end": os.getloadavg()},
                        "thread_env": thread_env,
                        "runtime_settings": {name: r.settings for name, r in runners.items()}},
        "onnx": onnx_info,
        "results": results,
        "parity": par,
        "matmul": matmul,
        "flops": flops,
        "physical_limit": limit,
        "wall_seconds": time.perf_counter() - t_start,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    for r in results:
        print(f"peers: {r['runtime']:<11} b{r['batch']:<3} {r['events_per_s']:8.1f} events/s  "
              f"p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms", file=sys.stderr)
    print(f"peers: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
