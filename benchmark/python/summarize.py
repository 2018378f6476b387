#!/usr/bin/env python3
"""Summarizes one benchmark run: reads ``classifier.json`` (Java early-exit classifier), ``stream.json``
(Java Kafka Streams service; optional) and ``peers.json`` (ONNX Runtime, TensorFlow Python, sgemm rate,
model FLOPs; see peers.py) from one directory, and writes ``summary.json`` (every input figure plus the
ratios below and their target checks), a markdown table on stdout, and two PNG plots:
``events_per_s.png`` (events/s per configuration) and ``saving.png`` (measured vs expected saving over
the S sweep, with y = x, as DeeBERT's Fig. 3).

    benchmark/python/.venv/bin/python benchmark/python/summarize.py --dir target/benchmark

Also read when present: ``classifier-bf16.json`` (the classifier with its opt-in bfloat16 precision;
reported beside float32, outside the targets), ``classifier-short.json`` (the classifier on short texts,
SpamAssassin subject lines, with the short-text model: its own table, see ``short_texts``),
``stream-<commit>.json`` (the stream with another ``classifier.batch.commit`` setting than stream.json's, e.g.
``stream-after-batch.json``), ``precision-<precision>.json`` and ``precision-<precision>-predictions.jsonl``
(the classifier at the card's setting, batch 32, on every test e-mail, per precision: see ``precision``) and
``run.json`` (phase times, CPU used by other processes).

Latency (section ``latency``): per commit setting (stream.json's ``commit``, ``interval`` when absent, and every
stream-<commit>.json), the saturation events/s (the stream's throughput phase) and per latency phase (its
``latency_by_load``; a stream.json without it: its one ``latency`` phase) the load fraction, rates asked and
achieved (events/s), end-to-end p50/p90/p99/max in ms (record timestamp to the benchmark consumer's receipt), the
mean batch and, when the stream JSON has them, where the latency went (StreamBenchmark's PhaseTally.stages):
``wait_p50_ms``/``wait_p99_ms`` (record timestamp to the start of its batch's classification),
``classify_batch_p50_ms``/``classify_batch_p99_ms`` (its batch's classifier time), ``visible_p50_ms``/
``visible_p99_ms`` (processed_at to the consumer's receipt: the exactly-once commit), and Kafka Streams' ``commits``
during the phase and ``commit_latency_avg_ms``.

Precision (section ``precision``): per precision, accuracy, ``recall_by_label`` (every card label), the protected
label's recall, events/s and expected saving of its card-setting row at batch 32; with both precisions'
predictions files, their agreement text by text.

Ratios (all dimensionless; events/s = texts per second of wall-clock time):
- ``classifier_full_vs_onnxruntime_b1`` / ``_b32``: Java classifier at S = 0 (every input through all
  layers) / ONNX Runtime full depth, same batch size.
- ``classifier_card_vs_onnxruntime_full_b1`` / ``_b32``: Java classifier at the model card's recommended
  setting as the card has it (per predicted label when label-conditional) / ONNX Runtime full depth, same
  batch size.
- ``stream_vs_classifier``: the stream's throughput-phase events/s / the Java classifier's events/s at the
  stream's setting (the card's) and the stream's batch size.
- ``measured_vs_expected_saving``: per batch size and S of the one-S sweep, measured saving
  ``1 - eps(S=0) / eps(S)`` over expected saving (DeeBERT eq. 2, from the exit histogram); the reported
  minimum is over the S whose expected saving is >= 0.2 (below that the ratio of two small numbers is
  dominated by timing noise).
- ``measured_vs_expected_saving_min_short``: the same minimum for the short-text run (classifier-short.json),
  at batch 32 only (the target's batch; batch 1 is in the short-text table). Its target is checked only when
  classifier-short.json exists, so a run without the short-text model is judged as before.
- physical-limit ratios: measured events/s / (sgemm GFLOP/s / model GFLOP per email).
- ``short_measured_vs_expected_saving_min_b32``: the same figure as ``measured_vs_expected_saving_min_short``
  under the name of its target.
- ``stream_latency_p99_ms_at_40pct_after_batch``: p99 end-to-end latency (ms) of the latency phase at 0.4 x the
  saturation rate with ``classifier.batch.commit=after-batch`` (stream-after-batch.json, or stream.json when it
  ran after-batch).
- ``stream_saturation_after_batch_vs_interval``: saturation events/s (throughput phase) with after-batch / with
  interval.
- ``bfloat16_protected_recall_minus_float32``: the protected label's recall on the precision phase's texts,
  bfloat16 - float32 (>= 0: bfloat16 misses no more of that label).
- ``bfloat16_same_label_and_exit_share``: share of texts with the same predicted label and exit layer in both
  precisions (the measure of the service's precision=auto self-check, whose bar is 0.995).
- ``shadow_cost_ratio_r<rate>`` (e.g. ``shadow_cost_ratio_r0.02``): shadow sampling of an accuracy budget, from
  classifier.json's ``shadow`` section (ClassifierBenchmark --shadow-rates): time to classify the texts at the
  card's setting with a fraction r of them shadow-sampled (run through every layer) / time with none, median of
  per-round ratios (rates measured round-robin in one run). ``shadow_cost_predicted_r<rate>`` beside it:
  ``1 + r * (n - mean exit layer) / mean exit layer``, the shadow rows' extra layer-rows relative to the
  early-exit layer-rows (tokenizing and embedding are not in the prediction). No targets.

The card's rows ("Java card setting"): classifier.json entries with ``"setting": "card"``
(ClassifierBenchmark --card-setting), which carry the card's ``label_thresholds``; their ``threshold`` is only
the card's ``value``, so a one-S sweep entry with the same threshold is another configuration and never stands
in for them. A classifier.json without ``setting`` fields (written before label-conditional cards) falls back
on the threshold equal to the card's S.

Targets (each with a direction: the value must be >= or <= the target): full b32 >= 1.0, full b1 >= 0.8, card
b32 >= 3.0, card b1 >= 2.5, stream >= 0.9, saving ratio >= 0.9; stream p99 at 40 % load with after-batch commits
<= 100 ms, after-batch / interval saturation >= 0.95; conditional targets, judged only when their input exists
(the short-text model; a CPU with bfloat16 instructions): short texts' saving ratio at batch 32 >= 0.85,
bfloat16 - float32 protected recall >= 0, bfloat16 same label and exit share >= 0.995. A check whose inputs are
missing is reported with value and met null, not as failed; ``all_targets_met`` is null when an unconditional one
is null, else whether every judged one is met. ``measured_vs_expected_saving_min_short`` stays a target under its
earlier name (same value, present only when short texts were measured).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / "target" / "benchmark"
LN2 = math.log(2.0)
SAVING_RATIO_MIN_EXPECTED = 0.2

#: name -> (target, direction): met when value >= target (">=") or value <= target ("<=").
TARGETS: dict[str, tuple[float, str]] = {
    "classifier_full_vs_onnxruntime_b32": (1.0, ">="),
    "classifier_full_vs_onnxruntime_b1": (0.8, ">="),
    "classifier_card_vs_onnxruntime_full_b32": (3.0, ">="),
    "classifier_card_vs_onnxruntime_full_b1": (2.5, ">="),
    "stream_vs_classifier": (0.9, ">="),
    "measured_vs_expected_saving_min": (0.9, ">="),
    "stream_latency_p99_ms_at_40pct_after_batch": (100.0, "<="),
    "stream_saturation_after_batch_vs_interval": (0.95, ">="),
}
#: Judged only when their input exists (see the module docstring): name -> (target, direction, condition).
CONDITIONAL_TARGETS: dict[str, tuple[float, str, str]] = {
    "short_measured_vs_expected_saving_min_b32": (0.85, ">=", "classifier-short.json (the short-text model)"),
    "bfloat16_protected_recall_minus_float32": (0.0, ">=", "precision-bfloat16.json (a CPU with bfloat16)"),
    "bfloat16_same_label_and_exit_share": (0.995, ">=", "precision-*-predictions.jsonl of both precisions"),
}
#: The short-text target under its earlier name, kept for readers of summary.json that know it; present only when
#: the run measured short texts, as before.
SHORT_TARGETS = {"measured_vs_expected_saving_min_short": (0.85, ">=")}
SHORT_TARGET_BATCH = 32
#: The load fraction (of saturation) of the latency target, and the commit setting it is judged with.
LATENCY_TARGET_FRACTION = 0.4
LATENCY_TARGET_COMMIT = "after-batch"
#: Optional latency split keys of a latency phase (ms), shown when the stream JSON has them.
LATENCY_SPLIT_KEYS = ("wait_p50_ms", "wait_p99_ms", "classify_batch_p50_ms", "classify_batch_p99_ms",
                      "visible_p50_ms", "visible_p99_ms", "commits", "commit_latency_avg_ms")
PRECISION_BATCH = 32


def target_met(value: float | None, target: float, direction: str) -> bool | None:
    """Whether ``value`` meets ``target`` in ``direction`` (">=" or "<="); None when the value is missing."""
    if value is None:
        return None
    if direction == ">=":
        return bool(value >= target)
    if direction == "<=":
        return bool(value <= target)
    raise ValueError(f"unknown target direction {direction!r}")


def load_json(path: Path) -> dict | None:
    """The parsed JSON file, or None when it does not exist."""
    return json.loads(path.read_text()) if path.is_file() else None


def same_s(a: float, b: float) -> bool:
    """Whether two thresholds (nats) are the same setting (they come from one decimal string)."""
    return abs(a - b) <= 1e-9 + 1e-6 * abs(b)


def is_card(r: dict) -> bool:
    """Whether a classifier.json / stream.json entry ran the model card's setting as the card has it."""
    return r.get("setting") == "card"


def java_result(classifier: dict | None, batch: int, threshold: float) -> dict | None:
    """The classifier.json result for (batch, one S for every label), or None. The card's rows are not one-S
    rows, whatever their ``threshold`` (see :func:`card_result`)."""
    if not classifier:
        return None
    for r in classifier.get("results", []):
        if r["batch"] == batch and not is_card(r) and not r.get("label_thresholds") \
                and same_s(r["threshold"], threshold):
            return r
    return None


def card_result(classifier: dict | None, batch: int, card_s: float | None) -> dict | None:
    """The classifier.json result for (batch, the model card's setting), or None: the entry marked
    ``"setting": "card"``; for a file without ``setting`` fields (older ClassifierBenchmark, one-S cards), the
    one whose S is the card's."""
    if not classifier:
        return None
    results = classifier.get("results", [])
    if any("setting" in r for r in results):
        return next((r for r in results if r["batch"] == batch and is_card(r)), None)
    return java_result(classifier, batch, card_s) if card_s is not None else None


def setting_text(label_thresholds: dict | None) -> str | None:
    """Per-label thresholds for a table cell, e.g. ``ham 0.1763, spam 0.5689``; None for one S."""
    if not label_thresholds:
        return None
    return ", ".join(f"{name} {s:.4f}" for name, s in label_thresholds.items())


def card_setting(classifier: dict | None, peers: dict | None, card_s: float | None) -> dict | None:
    """The model card's recommended setting the run used: classifier.json's ``card_setting``, else peers.json's
    flops figures, else only the S (--card-threshold)."""
    if classifier and classifier.get("card_setting"):
        c = classifier["card_setting"]
        return {"policy": c.get("policy"), "threshold": c.get("threshold"),
                "label_thresholds": c.get("label_thresholds"), "source": "classifier.json card_setting"}
    fl = (peers or {}).get("flops") or {}
    if fl.get("card_threshold") is not None:
        return {"policy": fl.get("card_policy"), "threshold": fl["card_threshold"],
                "label_thresholds": fl.get("card_label_thresholds"), "source": "peers.json flops (model card)"}
    if card_s is not None:
        return {"policy": None, "threshold": card_s, "label_thresholds": None, "source": "--card-threshold"}
    return None


def peer_result(peers: dict | None, runtime: str, batch: int) -> dict | None:
    """The peers.json result of ``runtime`` (full depth) at ``batch``, or None."""
    if not peers:
        return None
    for r in peers.get("results", []):
        if r["runtime"] == runtime and r["batch"] == batch:
            return r
    return None


def ratio(num: dict | float | None, den: dict | float | None, key: str = "events_per_s") -> float | None:
    """num/den of events/s (dicts) or plain numbers; None when either is missing or den is 0."""
    n = num.get(key) if isinstance(num, dict) else num
    d = den.get(key) if isinstance(den, dict) else den
    if n is None or d is None or d == 0:
        return None
    return n / d


def card_threshold(args, peers: dict | None) -> tuple[float | None, str]:
    """The card's recommended S (nats) and where it came from: --card-threshold, peers.json, the card."""
    if args.card_threshold is not None:
        return args.card_threshold, "--card-threshold"
    if peers and (peers.get("flops") or {}).get("card_threshold") is not None:
        return float(peers["flops"]["card_threshold"]), "peers.json flops.card_threshold (model card)"
    if args.model_dir and (args.model_dir / "model_card.json").is_file():
        card = json.loads((args.model_dir / "model_card.json").read_text())
        return float(card["recommended_threshold"]["value"]), f"{args.model_dir}/model_card.json"
    return None, "unknown"


def saving_analysis(classifier: dict | None, min_batches: tuple[int, ...] = (32, 1)) -> dict:
    """Measured vs expected saving per batch size (32 and 1 when present) over the one-S sweep (the card's
    label-conditional rows are not on the S axis and are left out); ``min_ratio`` is over the rows of
    ``min_batches``."""
    out: dict = {
        "definition": "measured = 1 - events_per_s(S=0) / events_per_s(S); expected = DeeBERT eq. 2 from the "
                      "exit histogram of the same run; ratio = measured / expected",
        "min_expected_saving_for_ratio": SAVING_RATIO_MIN_EXPECTED,
        "note": f"the minimum ratio is taken over S with expected saving >= {SAVING_RATIO_MIN_EXPECTED}: for tiny "
                "savings measured/expected divides two small, noisy numbers and is meaningless",
        "by_batch": {}, "min_ratio": None, "min_ratio_at": None,
    }
    if not classifier:
        return out
    batches = sorted({r["batch"] for r in classifier.get("results", [])})
    mins = []
    for b in [x for x in (32, 1) if x in batches]:
        base = java_result(classifier, b, 0.0)
        if base is None:
            continue
        rows = []
        for r in sorted((r for r in classifier["results"] if r["batch"] == b and r["threshold"] > 0
                         and not is_card(r) and not r.get("label_thresholds")),
                        key=lambda r: r["threshold"]):
            measured = 1 - base["events_per_s"] / r["events_per_s"]
            expected = r.get("expected_saving")
            rat = measured / expected if expected else None
            counted = expected is not None and expected >= SAVING_RATIO_MIN_EXPECTED
            rows.append({"threshold": r["threshold"], "expected_saving": expected, "measured_saving": measured,
                         "ratio": rat, "counted_in_min": counted})
            if counted and rat is not None and b in min_batches:
                mins.append((rat, b, r["threshold"]))
        out["by_batch"][str(b)] = rows
    if mins:
        m = min(mins)
        out["min_ratio"], out["min_ratio_at"] = m[0], {"batch": m[1], "threshold": m[2]}
    return out


def bf16_analysis(bf16: dict | None, classifier: dict | None, peers: dict | None, card_s: float | None,
                  ratios: dict) -> dict | None:
    """The opt-in bfloat16 classifier runs (classifier-bf16.json): events/s and accuracy beside float32's at
    the same (batch, S), and informational ratios to ONNX Runtime (float32) added to ``ratios`` (no
    targets: the comparison basis is float32)."""
    if not bf16:
        return None
    rows = []
    for r in bf16.get("results", []):
        fp32 = card_result(classifier, r["batch"], card_s) if is_card(r) else java_result(classifier, r["batch"],
                                                                                          r["threshold"])
        acc, acc32 = r.get("accuracy"), (fp32 or {}).get("accuracy")
        rec, rec32 = r.get("protected_recall"), (fp32 or {}).get("protected_recall")
        rows.append({"batch": r["batch"], "threshold": r["threshold"], "card_setting": is_card(r),
                     "label_thresholds": r.get("label_thresholds"), "events_per_s": r["events_per_s"],
                     "float32_events_per_s": fp32["events_per_s"] if fp32 else None,
                     "speedup_vs_float32": ratio(r, fp32), "accuracy": acc, "float32_accuracy": acc32,
                     "accuracy_delta": acc - acc32 if acc is not None and acc32 is not None else None,
                     "protected_recall": rec, "float32_protected_recall": rec32,
                     "exit_histogram": r.get("exit_histogram"),
                     "float32_exit_histogram": fp32.get("exit_histogram") if fp32 else None})
    for b in (1, 32):
        ort = peer_result(peers, "onnxruntime", b)
        ratios[f"classifier_bf16_full_vs_onnxruntime_b{b}"] = ratio(java_result(bf16, b, 0.0), ort)
        ratios[f"classifier_bf16_card_vs_onnxruntime_full_b{b}"] = ratio(card_result(bf16, b, card_s), ort)
    return {"precision": bf16.get("precision", "BFLOAT16"), "results": rows,
            "note": "opt-in oneDNN auto mixed precision (matmuls in bfloat16); not part of the targets, which "
                    "compare float32 with float32 ONNX Runtime"}


def shadow_key(rate: float) -> str:
    """The suffix of a shadow rate's ratio names: 0.02 -> "r0.02", 0.1 -> "r0.1"."""
    return f"r{rate:g}"


def shadow_analysis(classifier: dict | None, ratios: dict) -> dict | None:
    """What shadow samples cost (classifier.json ``shadow``, see the module docstring): per rate, ms/event,
    layer-rows/event, measured and predicted cost ratio; adds ``shadow_cost_ratio_r<rate>`` and
    ``shadow_cost_predicted_r<rate>`` for every rate > 0 to ``ratios``."""
    shadow = (classifier or {}).get("shadow")
    if not shadow:
        return None
    rows = []
    for r in shadow.get("results", []):
        rows.append({k: r.get(k) for k in ("rate", "shadow_rows", "shadow_fraction", "ms_per_event",
                                           "layer_rows_per_event", "shadow_layer_rows_per_event", "cost_ratio",
                                           "cost_predicted", "layer_rows_ratio")})
        if r["rate"] > 0:
            ratios[f"shadow_cost_ratio_{shadow_key(r['rate'])}"] = r.get("cost_ratio")
            ratios[f"shadow_cost_predicted_{shadow_key(r['rate'])}"] = r.get("cost_predicted")
    return {"setting": shadow.get("setting"), "batch": shadow.get("batch"), "texts": shadow.get("texts"),
            "rounds": shadow.get("rounds"), "num_layers": shadow.get("num_layers"),
            "mean_exit_layer": shadow.get("mean_exit_layer"), "results": rows,
            "definition": shadow.get("definition"),
            "note": "predicted = 1 + r * (n - mean exit layer) / mean exit layer counts transformer layer-rows only; "
                    "tokenizing and embedding cost the same at every rate and are not in it, so the measured "
                    "ratio is expected slightly below the prediction"}


def short_text_analysis(short: dict | None, ratios: dict) -> dict | None:
    """The short-text run (classifier-short.json): per batch size events/s at S = 0 and at the short model's
    card setting, the speed-up between them, every row, and measured vs expected saving over its one-S sweep;
    adds ``measured_vs_expected_saving_min_short`` (batch 32) to ``ratios``. None without the file."""
    if not short:
        return None
    card_s = (short.get("card_setting") or {}).get("threshold")
    saving = saving_analysis(short, min_batches=(SHORT_TARGET_BATCH,))
    ratios["measured_vs_expected_saving_min_short"] = saving["min_ratio"]
    by_batch = {}
    for b in sorted({r["batch"] for r in short.get("results", [])}):
        full, card = java_result(short, b, 0.0), card_result(short, b, card_s)
        by_batch[str(b)] = {"full_events_per_s": full["events_per_s"] if full else None,
                            "card_events_per_s": card["events_per_s"] if card else None,
                            "card_vs_full": ratio(card, full),
                            "card_expected_saving": card.get("expected_saving") if card else None,
                            "card_measured_saving": 1 - full["events_per_s"] / card["events_per_s"]
                            if full and card else None}
    rows = [{"batch": r["batch"], "threshold": r["threshold"], "card_setting": is_card(r),
             "label_thresholds": r.get("label_thresholds"), "setting_text": setting_text(r.get("label_thresholds")),
             "events_per_s": r["events_per_s"], "p50_ms": r.get("p50_ms"), "p99_ms": r.get("p99_ms"),
             "expected_saving": r.get("expected_saving"), "accuracy": r.get("accuracy"),
             "protected_recall": r.get("protected_recall"), "exit_histogram": r.get("exit_histogram")}
            for r in sorted(short.get("results", []), key=lambda r: (r["batch"], is_card(r), r["threshold"]))]
    return {"model": short.get("model"), "model_version": short.get("model_version"), "texts": short.get("texts"),
            "card_setting": short.get("card_setting"), "protected_label": short.get("protected_label"),
            "by_batch": by_batch, "results": rows, "saving": saving,
            "note": f"measured_vs_expected_saving_min_short is the minimum at batch {SHORT_TARGET_BATCH}; "
                    "saving.by_batch has batch 1 too"}


def all_met(targets: dict) -> bool | None:
    """None when an unconditional target could not be judged (its input is missing); else whether every judged
    target is met (a conditional target without its input does not count)."""
    if any(t["met"] is None and "conditional_on" not in t for t in targets.values()):
        return None
    return all(t["met"] is not False for t in targets.values())


def stream_commit(stream: dict, default: str = "interval") -> str:
    """The stream JSON's ``classifier.batch.commit`` setting (files without ``commit`` ran the default)."""
    return stream.get("commit") or default


def latency_rows(stream: dict) -> list[dict]:
    """The stream JSON's latency phases, in the order run: ``latency_by_load``, else its one ``latency``."""
    by_load = stream.get("latency_by_load")
    if by_load is None:
        by_load = [stream["latency"]] if stream.get("latency") else []
    rows = []
    for lat in by_load:
        row = {"fraction": lat.get("fraction"), "rate_per_s": lat.get("rate_per_s"),
               "achieved_rate_per_s": lat.get("achieved_rate_per_s"), "events": lat.get("events"),
               "p50_ms": lat.get("p50_ms"), "p90_ms": lat.get("p90_ms"), "p99_ms": lat.get("p99_ms"),
               "max_ms": lat.get("max_ms"), "mean_batch": lat.get("mean_batch"), "missing": lat.get("missing")}
        row.update({k: lat[k] for k in LATENCY_SPLIT_KEYS if k in lat})
        rows.append(row)
    return rows


def latency_analysis(streams: dict[str, dict], ratios: dict) -> dict | None:
    """Latency by commit setting and load (see the module docstring); adds the two stream targets' ratios."""
    ratios["stream_latency_p99_ms_at_40pct_after_batch"] = None
    ratios["stream_saturation_after_batch_vs_interval"] = None
    if not streams:
        return None
    by_commit = {}
    for commit, st in streams.items():
        by_commit[commit] = {"saturation_events_per_s": (st.get("throughput") or {}).get("events_per_s"),
                             "batch_size": st.get("batch_size"), "linger_ms": st.get("linger_ms"),
                             "complete": st.get("complete"), "by_load": latency_rows(st)}
    target = by_commit.get(LATENCY_TARGET_COMMIT)
    if target:
        at = [r for r in target["by_load"] if r["fraction"] is not None
              and abs(r["fraction"] - LATENCY_TARGET_FRACTION) < 1e-9]
        ratios["stream_latency_p99_ms_at_40pct_after_batch"] = at[0]["p99_ms"] if at else None
        ratios["stream_saturation_after_batch_vs_interval"] = ratio(
            target["saturation_events_per_s"], (by_commit.get("interval") or {}).get("saturation_events_per_s"))
    return {"definition": "latency = the benchmark consumer's receipt of the classified record - the input record's "
                          "timestamp (its send time), ms; rate_per_s = fraction x saturation_events_per_s (the same "
                          "run's throughput phase), events/s; wait_* = record timestamp to its batch's classification, "
                          "classify_batch_* = the batch's classifier time, visible_* = processed_at to receipt, ms; "
                          "commits and commit_latency_avg_ms = Kafka Streams' (when the stream JSON has them)",
            "by_commit": by_commit}


def precision_row(result: dict | None) -> dict | None:
    """The precision phase's card-setting row at batch 32 (its only row), or None."""
    if not result:
        return None
    rows = [r for r in result.get("results", []) if r["batch"] == PRECISION_BATCH and is_card(r)] \
        or result.get("results", [])[:1]
    return rows[0] if rows else None


def agreement(a: list[dict], b: list[dict], protected: str | None) -> dict | None:
    """Text-by-text agreement of two predictions files (lines ``index``, ``gold``, ``label``, ``exit_layer``):
    the share with the same label, the share with the same label and exit layer, and the protected label's
    extra misses of ``b`` (gold protected, found by ``a``, missed by ``b``) and ``a``. None when the files do not
    cover the same texts."""
    if not a or len(a) != len(b):
        return None
    by_index = {p["index"]: p for p in b}
    if set(by_index) != {p["index"] for p in a}:
        return None
    same_label = same_both = extra_b = extra_a = 0
    for pa in a:
        pb = by_index[pa["index"]]
        same_label += pa["label"] == pb["label"]
        same_both += pa["label"] == pb["label"] and pa["exit_layer"] == pb["exit_layer"]
        if protected is not None and pa.get("gold") == protected:
            extra_b += pa["label"] == protected and pb["label"] != protected
            extra_a += pb["label"] == protected and pa["label"] != protected
    return {"texts": len(a), "same_label_share": same_label / len(a), "same_label_and_exit_share": same_both / len(a),
            "protected_label": protected, "extra_protected_misses": extra_b,
            "fewer_protected_misses": extra_a}


def precision_analysis(precisions: dict[str, dict], predictions: dict[str, list[dict]], ratios: dict) -> dict | None:
    """Per precision (float32, bfloat16) its quality and speed on the precision phase's texts, and bfloat16 vs
    float32 (see the module docstring); adds the two bfloat16 targets' ratios."""
    ratios["bfloat16_protected_recall_minus_float32"] = None
    ratios["bfloat16_same_label_and_exit_share"] = None
    if not precisions:
        return None
    by_precision = {}
    protected = None
    for name, result in precisions.items():
        r = precision_row(result)
        protected = protected or result.get("protected_label")
        by_precision[name] = None if r is None else {
            "texts": result.get("texts"), "batch": r["batch"], "label_thresholds": r.get("label_thresholds"),
            "threshold": r.get("threshold"), "accuracy": r.get("accuracy"),
            "recall_by_label": r.get("recall_by_label"), "protected_recall": r.get("protected_recall"),
            "events_per_s": r.get("events_per_s"), "expected_saving": r.get("expected_saving"),
            "exit_histogram": r.get("exit_histogram")}
    f32, b16 = by_precision.get("float32"), by_precision.get("bfloat16")
    if f32 and b16 and f32.get("protected_recall") is not None and b16.get("protected_recall") is not None:
        ratios["bfloat16_protected_recall_minus_float32"] = b16["protected_recall"] - f32["protected_recall"]
    agree = agreement(predictions.get("float32") or [], predictions.get("bfloat16") or [], protected) \
        if predictions.get("float32") and predictions.get("bfloat16") else None
    if agree:
        ratios["bfloat16_same_label_and_exit_share"] = agree["same_label_and_exit_share"]
    return {"protected_label": protected, "by_precision": by_precision, "bfloat16_vs_float32": agree,
            "note": "batch 32, the card's setting, one repeat; events/s here are one pass, not a speed figure"}


def build_summary(classifier: dict | None, stream: dict | None, peers: dict | None, card_s: float | None,
                  card_s_source: str, bf16: dict | None = None, short: dict | None = None,
                  streams: dict[str, dict] | None = None, precisions: dict[str, dict] | None = None,
                  predictions: dict[str, list[dict]] | None = None) -> dict:
    """Every figure of the inputs plus the derived ratios and target checks (see the module docstring).

    ``streams``: commit setting -> stream JSON (stream.json included; default: stream.json as ``interval``);
    ``precisions``: precision (``float32``, ``bfloat16``) -> precision-<p>.json; ``predictions``: precision ->
    its predictions file's lines."""
    ratios: dict[str, float | None] = {}
    ort = {b: peer_result(peers, "onnxruntime", b) for b in (1, 8, 32)}
    full = {b: java_result(classifier, b, 0.0) for b in (1, 8, 32)}
    card = {b: card_result(classifier, b, card_s) for b in (1, 8, 32)}
    for b in (1, 32):
        ratios[f"classifier_full_vs_onnxruntime_b{b}"] = ratio(full[b], ort[b])
        ratios[f"classifier_card_vs_onnxruntime_full_b{b}"] = ratio(card[b], ort[b])

    stream_info = None
    if stream:
        sb = int(stream.get("batch_size") or 32)
        ss = stream.get("threshold", card_s)
        # The stream ran the card's setting unless it says it ran one S (older stream.json: no "setting"; its S
        # equal to the card's meant the card's).
        stream_card = is_card(stream) or ("setting" not in stream and ss is not None and card_s is not None
                                          and same_s(ss, card_s))
        if stream_card:
            ref = card_result(classifier, sb, card_s)
        else:
            ref = java_result(classifier, sb, ss) if ss is not None else None
        ratios["stream_vs_classifier"] = ratio((stream.get("throughput") or {}).get("events_per_s"),
                                               ref["events_per_s"] if ref else None)
        stream_info = {"batch": sb, "threshold": ss, "card_setting": stream_card,
                       "label_thresholds": stream.get("label_thresholds"),
                       "classifier_events_per_s": ref["events_per_s"] if ref else None}
    else:
        ratios["stream_vs_classifier"] = None

    saving = saving_analysis(classifier)
    ratios["measured_vs_expected_saving_min"] = saving["min_ratio"]

    # Physical limit: sgemm GFLOP/s over GFLOP per email. At the card's setting the saving is the one measured
    # by the Java run's exit histogram on these texts when present, else the card's test-split figure.
    physical = None
    if peers and peers.get("physical_limit"):
        pl = peers["physical_limit"]
        fl = peers["flops"]
        card_saving = card[32]["expected_saving"] if card[32] else fl.get("card_expected_saving")
        card_limit = pl["full_events_per_s"] / (1 - card_saving) if card_saving is not None and card_saving < 1 else None
        physical = {"gflops": pl["gflops_used"], "full_depth_gflop_per_email": fl["full_depth_gflop_per_email"],
                    "full_events_per_s": pl["full_events_per_s"], "card_expected_saving": card_saving,
                    "card_expected_saving_source": "classifier.json exit histogram at the card's setting, batch 32"
                    if card[32] else "model card (test split)", "card_events_per_s": card_limit}
        for b in (1, 32):
            ratios[f"onnxruntime_full_b{b}_vs_physical_limit"] = ratio(ort[b], pl["full_events_per_s"])
            ratios[f"classifier_full_b{b}_vs_physical_limit"] = ratio(full[b], pl["full_events_per_s"])
            ratios[f"classifier_card_b{b}_vs_physical_limit_card"] = ratio(card[b], card_limit)
        if stream:
            ratios["stream_vs_physical_limit_card"] = ratio(
                (stream.get("throughput") or {}).get("events_per_s"), card_limit)

    bfloat16 = bf16_analysis(bf16, classifier, peers, card_s, ratios)
    shadow = shadow_analysis(classifier, ratios)
    short_texts = short_text_analysis(short, ratios)

    if short_texts:
        ratios["short_measured_vs_expected_saving_min_b32"] = ratios.get("measured_vs_expected_saving_min_short")
    latency = latency_analysis(streams or ({"interval": stream} if stream else {}), ratios)
    precision = precision_analysis(precisions or {}, predictions or {}, ratios)

    targets = {}
    for name, (target, direction) in TARGETS.items():
        value = ratios.get(name)
        targets[name] = {"value": value, "target": target, "direction": direction,
                         "met": target_met(value, target, direction)}
    for name, (target, direction) in (SHORT_TARGETS if short_texts else {}).items():
        value = ratios.get(name)
        targets[name] = {"value": value, "target": target, "direction": direction,
                         "met": target_met(value, target, direction),
                         "same_as": "short_measured_vs_expected_saving_min_b32"}
    for name, (target, direction, condition) in CONDITIONAL_TARGETS.items():
        value = ratios.get(name)
        targets[name] = {"value": value, "target": target, "direction": direction,
                         "met": target_met(value, target, direction), "conditional_on": condition}

    return {
        "schema": "deebert-benchmark-summary/1",
        "card_threshold": card_s, "card_threshold_source": card_s_source,
        "card_setting": card_setting(classifier, peers, card_s),
        "protected_label": (classifier or {}).get("protected_label")
        or ((stream or {}).get("throughput") or {}).get("protected_label"),
        "configurations": configurations(classifier, stream, peers, card_s, bf16),
        "ratios": ratios,
        "targets": targets,
        "all_targets_met": all_met(targets),
        "saving": saving,
        "stream_reference": stream_info,
        "physical_limit": physical,
        "bfloat16": bfloat16,
        "shadow": shadow,
        "short_texts": short_texts,
        "latency": latency,
        "precision": precision,
        "inputs": {"classifier": classifier, "stream": stream, "peers": peers, "classifier_bf16": bf16,
                   "classifier_short": short,
                   "streams_by_commit": {k: v for k, v in (streams or {}).items() if v is not stream},
                   "precision": precisions or {}},
    }


def configurations(classifier, stream, peers, card_s, bf16=None) -> list[dict]:
    """One row per measured configuration: label, kind, batch, S, events/s, latency (ms) and more."""
    rows = []
    for r in (peers or {}).get("results", []):
        label = {"onnxruntime": "ONNX Runtime", "tensorflow": "TF Python"}.get(r["runtime"], r["runtime"])
        rows.append({"label": f"{label} full", "kind": r["runtime"], "batch": r["batch"], "threshold": None,
                     "events_per_s": r["events_per_s"], "mean_ms": r.get("mean_ms"), "p50_ms": r.get("p50_ms"),
                     "p99_ms": r.get("p99_ms"), "expected_saving": 0.0, "accuracy": None, "protected_recall": None,
                     "exit_histogram": None})
    legacy = not any("setting" in r for r in (classifier or {}).get("results", []))
    for r in (classifier or {}).get("results", []):
        s = r["threshold"]
        if is_card(r) or (legacy and card_s is not None and same_s(s, card_s)):
            name = "Java card setting"
        elif r.get("label_thresholds"):
            name = "Java per-label"
        elif s == 0:
            name = "Java S=0"
        elif s > LN2:
            name = "Java S>ln2"
        else:
            name = "Java sweep"
        rows.append({"label": name, "kind": "java-classifier", "batch": r["batch"], "threshold": s,
                     "label_thresholds": r.get("label_thresholds"), "setting_text": setting_text(r.get("label_thresholds")),
                     "events_per_s": r["events_per_s"], "mean_ms": r.get("mean_ms"), "p50_ms": r.get("p50_ms"),
                     "p99_ms": r.get("p99_ms"), "expected_saving": r.get("expected_saving"),
                     "accuracy": r.get("accuracy"), "protected_recall": r.get("protected_recall"),
                     "exit_histogram": r.get("exit_histogram")})
    bf16_legacy = not any("setting" in r for r in (bf16 or {}).get("results", []))
    for r in (bf16 or {}).get("results", []):
        s = r["threshold"]
        if is_card(r) or (bf16_legacy and card_s is not None and same_s(s, card_s)):
            name = "Java bf16 card setting"
        else:
            name = "Java bf16 S=0" if s == 0 else f"Java bf16 S={s:g}"
        rows.append({"label": name, "kind": "java-classifier-bf16", "batch": r["batch"], "threshold": s,
                     "label_thresholds": r.get("label_thresholds"), "setting_text": setting_text(r.get("label_thresholds")),
                     "events_per_s": r["events_per_s"], "mean_ms": r.get("mean_ms"), "p50_ms": r.get("p50_ms"),
                     "p99_ms": r.get("p99_ms"), "expected_saving": r.get("expected_saving"),
                     "accuracy": r.get("accuracy"), "protected_recall": r.get("protected_recall"),
                     "exit_histogram": r.get("exit_histogram")})
    if stream:
        t = stream.get("throughput") or {}
        rows.append({"label": "Java stream", "kind": "java-stream", "batch": stream.get("batch_size"),
                     "threshold": stream.get("threshold"), "label_thresholds": stream.get("label_thresholds"),
                     "setting_text": setting_text(stream.get("label_thresholds")),
                     "events_per_s": t.get("events_per_s"), "mean_ms": None,
                     "p50_ms": None, "p99_ms": None, "expected_saving": t.get("expected_saving"),
                     "accuracy": t.get("accuracy"), "protected_recall": t.get("protected_recall"),
                     "exit_histogram": t.get("exit_histogram"),
                     "mean_batch": t.get("mean_batch")})
        lat = stream.get("latency")
        if lat:
            # --rates gives an unrounded rate (fraction x saturation); the label shows one decimal.
            rate = lat.get("rate_per_s")
            rows.append({"label": f"Java stream @ {fmt(rate)}/s", "kind": "java-stream-latency",
                         "batch": stream.get("batch_size"), "threshold": stream.get("threshold"),
                         "label_thresholds": stream.get("label_thresholds"),
                         "setting_text": setting_text(stream.get("label_thresholds")),
                         "events_per_s": lat.get("achieved_rate_per_s"), "mean_ms": None,
                         "p50_ms": lat.get("p50_ms"), "p99_ms": lat.get("p99_ms"), "expected_saving": None,
                         "accuracy": None, "protected_recall": None, "exit_histogram": None,
                         "mean_batch": lat.get("mean_batch"),
                         "note": "end-to-end latency (produce to classified output) at a fixed input rate"})
    return rows


CONTENTION_LIMIT_CORES = 0.2


def contention(run: dict | None) -> dict | None:
    """Whether other processes took CPU during the measured phases (from run.json's per-phase CPU figures).

    ``others_cores`` = CPU seconds used by processes other than the benchmark's own / wall seconds. The
    stream phase is not judged: the broker and registry it needs count as others there.
    """
    if not run or not run.get("cpu"):
        return None
    others = {k: v.get("others_cores") for k, v in run["cpu"].items()}
    short_cpu = (run.get("short_texts") or {}).get("cpu")
    if short_cpu:   # phase a2 (short texts), when it ran
        others["short"] = short_cpu.get("others_cores")
    judged = {k: v for k, v in others.items() if k in ("classifier", "precision", "peers", "short")}
    busy = {k: v for k, v in judged.items() if v is not None and v > CONTENTION_LIMIT_CORES}
    return {"others_cores": others,
            "limit_cores": CONTENTION_LIMIT_CORES, "contended_phases": sorted(busy),
            "clean": not busy,
            "note": "a phase where other processes used more than the limit did not have the machine to itself: "
                    "its events/s are low and noisy (ONNX Runtime suffers more than TensorFlow from a lost core)"}


def fmt(x, spec: str = ".1f") -> str:
    """A number for the table, or an em dash for a missing one."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    return format(x, spec)


def markdown(summary: dict) -> str:
    """The configurations table and the ratios table, markdown. The recall column is the model card's
    protected label's (``protected_label`` in the summary; moderation is judged on it, not on accuracy)."""
    recall = f"{summary.get('protected_label') or 'protected'} recall"
    lines = [f"| configuration | batch | S (nats) | events/s | p50 ms | p99 ms | exp. saving | accuracy | {recall} |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in summary["configurations"]:
        # A label-conditional setting names every label's S; its threshold alone would pass for one S.
        s_cell = r.get("setting_text") or fmt(r["threshold"], ".4g")
        lines.append(f"| {r['label']} | {fmt(r['batch'], 'd')} | {s_cell} | "
                     f"{fmt(r['events_per_s'])} | {fmt(r['p50_ms'], '.2f')} | {fmt(r['p99_ms'], '.2f')} | "
                     f"{fmt(r['expected_saving'], '.3f')} | {fmt(r['accuracy'], '.4f')} | "
                     f"{fmt(r.get('protected_recall'), '.4f')} |")
    lines += ["", "| ratio | value | target | met |", "|---|---:|---:|---|"]
    for name, value in summary["ratios"].items():
        t = summary["targets"].get(name)
        target = f"{t.get('direction', '>=')} {t['target']:.3g}" if t else ""
        met = ("— (not measured here)" if t.get("conditional_on") and t["met"] is None else fmt(t["met"])) if t else ""
        lines.append(f"| {name} | {fmt(value, '.3f')} | {target} | {met} |")
    s = summary["saving"]
    if s["by_batch"]:
        lines += ["", "| batch | S (nats) | expected saving | measured saving | measured/expected |",
                  "|---:|---:|---:|---:|---:|"]
        for b, rows in s["by_batch"].items():
            for r in rows:
                mark = "" if r["counted_in_min"] else " (not counted)"
                lines.append(f"| {b} | {r['threshold']:.4g} | {fmt(r['expected_saving'], '.3f')} | "
                             f"{r['measured_saving']:.3f} | {fmt(r['ratio'], '.3f')}{mark} |")
    bf = summary.get("bfloat16")
    if bf and bf["results"]:
        lines += ["", "bfloat16 (opt-in, outside the targets):", "",
                  f"| batch | S (nats) | bf16 events/s | fp32 events/s | speed-up | bf16 accuracy | fp32 accuracy "
                  f"| bf16 {recall} | fp32 {recall} |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in bf["results"]:
            lines.append(f"| {r['batch']} | {setting_text(r.get('label_thresholds')) or format(r['threshold'], '.4g')} | "
                         f"{fmt(r['events_per_s'])} | "
                         f"{fmt(r['float32_events_per_s'])} | {fmt(r['speedup_vs_float32'], '.2f')} | "
                         f"{fmt(r['accuracy'], '.4f')} | {fmt(r['float32_accuracy'], '.4f')} | "
                         f"{fmt(r.get('protected_recall'), '.4f')} | {fmt(r.get('float32_protected_recall'), '.4f')} |")
    sh = summary.get("shadow")
    if sh and sh["results"]:
        setting = sh.get("setting") or {}
        lt = setting.get("label_thresholds")
        # Older classifier.json wrote the per-label thresholds as a list by label index.
        shown = setting_text(lt) if isinstance(lt, dict) else (f"S by label index {lt}" if lt else setting.get("threshold"))
        lines += ["", f"shadow sampling cost (card setting {setting.get('policy')} {shown}, "
                      f"batch {sh['batch']}, {sh['texts']} texts, {sh['rounds']} rounds; n = {sh['num_layers']}, "
                      f"mean exit layer {fmt(sh['mean_exit_layer'], '.3f')}; predicted counts layers only, "
                      "not tokenizing/embedding):", "",
                  "| rate | shadow rows | ms/event | layer-rows/event | time ratio | predicted | layer-rows ratio |",
                  "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in sh["results"]:
            lines.append(f"| {r['rate']:g} | {fmt(r['shadow_rows'], 'd')} | {fmt(r['ms_per_event'], '.2f')} | "
                         f"{fmt(r['layer_rows_per_event'], '.3f')} | {fmt(r['cost_ratio'], '.3f')} | "
                         f"{fmt(r['cost_predicted'], '.3f')} | {fmt(r['layer_rows_ratio'], '.3f')} |")
    st = summary.get("short_texts")
    if st:
        lines += ["", short_markdown(st, recall)]
    if summary.get("latency"):
        lines += ["", latency_markdown(summary["latency"])]
    if summary.get("precision"):
        lines += ["", precision_markdown(summary["precision"])]
    c = summary.get("contention")
    if c:
        lines += ["", "machine: " + ("no other load during the measured phases" if c["clean"] else
                                     "WARNING: other processes used CPU during " + ", ".join(c["contended_phases"])
                                     + " (cores: " + ", ".join(f"{k} {v:.2f}" for k, v in c["others_cores"].items()
                                                                if v is not None) + "); figures are not clean")]
    return "\n".join(lines)


def latency_markdown(lat: dict) -> str:
    """The latency table: one row per (load, commit setting), end-to-end percentiles in ms; the split columns
    (wait, classify_batch, visible, commits) only when some phase has them."""
    by_commit = lat["by_commit"]
    split = [k for k in LATENCY_SPLIT_KEYS if any(k in r for c in by_commit.values() for r in c["by_load"])]
    sat = "; ".join(f"{c} {fmt(v['saturation_events_per_s'])}" for c, v in by_commit.items())
    head = "| load | commit | asked events/s | achieved events/s | p50 ms | p90 ms | p99 ms | mean batch |"
    sep = "|---:|---|---:|---:|---:|---:|---:|---:|"
    for k in split:
        head += f" {k.replace('_ms', ' ms').replace('_', ' ')} |"
        sep += "---:|"
    lines = [f"stream latency (end to end, record timestamp to the consumer's receipt; saturation events/s: {sat}):",
             "", head, sep]
    rows = [(r, c) for c, v in by_commit.items() for r in v["by_load"]]
    rows.sort(key=lambda rc: (rc[0]["fraction"] if rc[0]["fraction"] is not None else -1, list(by_commit).index(rc[1])))
    for r, c in rows:
        load = f"{r['fraction']:.0%}" if r["fraction"] is not None else "fixed"
        line = (f"| {load} | {c} | {fmt(r['rate_per_s'])} | {fmt(r['achieved_rate_per_s'])} | {fmt(r['p50_ms'], '.0f')} | "
                f"{fmt(r['p90_ms'], '.0f')} | {fmt(r['p99_ms'], '.0f')} | {fmt(r['mean_batch'], '.1f')} |")
        for k in split:
            line += f" {fmt(r.get(k), '.0f')} |"
        lines.append(line)
    return "\n".join(lines)


def precision_markdown(pr: dict) -> str:
    """The precision table: per precision, accuracy and every label's recall on the precision phase's texts."""
    by = {k: v for k, v in pr["by_precision"].items() if v}
    labels = list(dict.fromkeys(label for v in by.values() for label in (v.get("recall_by_label") or {})))
    lines = [f"precision (card setting, batch {PRECISION_BATCH}, one pass over the texts):", "",
             "| precision | texts | events/s | exp. saving | accuracy | "
             + " | ".join(f"{label} recall" for label in labels) + (" |" if labels else ""),
             "|---|---:|---:|---:|---:|" + "---:|" * len(labels)]
    for name, v in by.items():
        rec = v.get("recall_by_label") or {}
        lines.append(f"| {name} | {fmt(v['texts'], 'd')} | {fmt(v['events_per_s'])} | {fmt(v['expected_saving'], '.3f')} | "
                     f"{fmt(v['accuracy'], '.4f')} | " + " | ".join(fmt(rec.get(label), '.4f') for label in labels)
                     + (" |" if labels else ""))
    a = pr.get("bfloat16_vs_float32")
    if a:
        lines += ["", f"bfloat16 vs float32 on {a['texts']} texts: same label {a['same_label_share']:.4f}, same label and "
                      f"exit layer {a['same_label_and_exit_share']:.4f}; {a['protected_label']} texts float32 finds and "
                      f"bfloat16 misses: {a['extra_protected_misses']} (the reverse: {a['fewer_protected_misses']})"]
    return "\n".join(lines)


def short_markdown(st: dict, recall: str) -> str:
    """The short-text tables: events/s at S = 0 and the card's setting per batch size, every row, and measured
    vs expected saving over the one-S sweep."""
    cs = st.get("card_setting") or {}
    card_text = setting_text(cs.get("label_thresholds")) or fmt(cs.get("threshold"), ".4g")
    short_recall = f"{st.get('protected_label') or 'protected'} recall" if st.get("protected_label") else recall
    lines = [f"short texts ({st.get('texts')} texts, model {st.get('model')} {st.get('model_version') or ''}; "
             f"card setting {cs.get('policy')} {card_text} nats):", "",
             "| batch | events/s S=0 | events/s card | card / S=0 | card exp. saving | card measured saving |",
             "|---:|---:|---:|---:|---:|---:|"]
    for b, r in st["by_batch"].items():
        lines.append(f"| {b} | {fmt(r['full_events_per_s'])} | {fmt(r['card_events_per_s'])} | "
                     f"{fmt(r['card_vs_full'], '.2f')} | {fmt(r['card_expected_saving'], '.3f')} | "
                     f"{fmt(r['card_measured_saving'], '.3f')} |")
    lines += ["", f"| batch | S (nats) | events/s | p50 ms | p99 ms | exp. saving | accuracy | {short_recall} |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in st["results"]:
        s_cell = ("card: " + (r.get("setting_text") or format(r["threshold"], ".4g"))) if r["card_setting"] \
            else format(r["threshold"], ".4g")
        lines.append(f"| {r['batch']} | {s_cell} | {fmt(r['events_per_s'])} | {fmt(r['p50_ms'], '.2f')} | "
                     f"{fmt(r['p99_ms'], '.2f')} | {fmt(r['expected_saving'], '.3f')} | {fmt(r['accuracy'], '.4f')} | "
                     f"{fmt(r.get('protected_recall'), '.4f')} |")
    lines += ["", "| batch | S (nats) | expected saving | measured saving | measured/expected |",
              "|---:|---:|---:|---:|---:|"]
    for b, rows in st["saving"]["by_batch"].items():
        for r in rows:
            mark = "" if r["counted_in_min"] and int(b) == SHORT_TARGET_BATCH else " (not counted)"
            lines.append(f"| {b} | {r['threshold']:.4g} | {fmt(r['expected_saving'], '.3f')} | "
                         f"{r['measured_saving']:.3f} | {fmt(r['ratio'], '.3f')}{mark} |")
    return "\n".join(lines)


def plot_events(summary: dict, path: Path) -> None:
    """Bar chart of events/s per configuration (full-depth peers, Java at S=0 / the card's setting / S>ln2, stream)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = ["ONNX Runtime full", "TF Python full", "Java S=0", "Java card setting", "Java S>ln2", "Java stream",
             "Java bf16 S=0", "Java bf16 card setting"]
    colors = {"ONNX Runtime full": "#4c72b0", "TF Python full": "#8172b2", "Java S=0": "#dd8452",
              "Java card setting": "#55a868", "Java S>ln2": "#c44e52", "Java stream": "#937860",
              "Java bf16 S=0": "#f2c7a5", "Java bf16 card setting": "#a9d5b2"}
    bars = []
    for label in order:
        rows = [r for r in summary["configurations"] if r["label"] == label and r["events_per_s"] is not None]
        if label.startswith("Java S>ln2"):
            top = max((r["threshold"] for r in rows), default=None)
            rows = [r for r in rows if r["threshold"] == top]
        for r in sorted(rows, key=lambda r: r["batch"] or 0):
            bars.append((f"{label}\nb{r['batch']}", r["events_per_s"], colors[label]))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(bars) + 2), 4.5))
    xs = range(len(bars))
    ax.bar(xs, [b[1] for b in bars], color=[b[2] for b in bars])
    for x, b in zip(xs, bars):
        ax.text(x, b[1], f"{b[1]:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([b[0] for b in bars], fontsize=7, rotation=45, ha="right")
    ax.set_ylabel("events/s")
    s = summary.get("card_threshold")
    cs = summary.get("card_setting") or {}
    card_text = setting_text(cs.get("label_thresholds")) or (f"S = {s:.4g}" if s is not None else "S = ?")
    peers = summary["inputs"].get("peers") or {}
    ax.set_title(f"Throughput per configuration (card setting {card_text} nats, "
                 f"{peers.get('threads', '?')} threads, {peers.get('texts', {}).get('count', '?')} texts)", fontsize=9)
    pl = summary.get("physical_limit")
    for key, text, style in (("full_events_per_s", "sgemm limit, full depth", "--"),
                             ("card_events_per_s", "sgemm limit, card setting", ":")):
        if pl and pl.get(key):
            ax.axhline(pl[key], color="grey", linestyle=style, linewidth=1)
            ax.text(-0.45, pl[key], text, ha="left", va="bottom", fontsize=7, color="grey")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_saving(summary: dict, path: Path) -> None:
    """Measured vs expected saving over the S sweep, one series per batch size, with the y = x line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="y = x")
    for (b, rows), marker in zip(summary["saving"]["by_batch"].items(), ("o", "s", "^")):
        pts = [(r["expected_saving"], r["measured_saving"], r["threshold"]) for r in rows
               if r["expected_saving"] is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, linestyle="-", label=f"batch {b}")
        for e, m, s in pts:
            ax.annotate(f"S={s:g}", (e, m), fontsize=6, textcoords="offset points", xytext=(3, -8))
    ax.set_xlim(0, 1)
    ax.set_ylim(min(0, *(r["measured_saving"] for rows in summary["saving"]["by_batch"].values() for r in rows))
                if summary["saving"]["by_batch"] else 0, 1)
    ax.set_xlabel("expected saving (DeeBERT eq. 2)")
    ax.set_ylabel("measured saving = 1 - events/s(S=0) / events/s(S)")
    ax.set_title("Measured vs expected saving (Java classifier)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def load_jsonl(path: Path) -> list[dict] | None:
    """The parsed JSON Lines file, or None when it does not exist."""
    if not path.is_file():
        return None
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_optional(d: Path, stream: dict | None) -> tuple[dict, dict, dict]:
    """The stream runs by commit setting (stream.json under its own ``commit``, every stream-<commit>.json), the
    precision phase's JSON by precision and its predictions by precision, from directory ``d``."""
    streams = {stream_commit(stream): stream} if stream else {}
    for path in sorted(d.glob("stream-*.json")):
        st = json.loads(path.read_text())
        streams.setdefault(stream_commit(st, path.stem[len("stream-"):]), st)
    precisions, predictions = {}, {}
    for name in ("float32", "bfloat16"):
        p = load_json(d / f"precision-{name}.json")
        if p is not None:
            precisions[name] = p
        lines = load_jsonl(d / f"precision-{name}-predictions.jsonl")
        if lines is not None:
            predictions[name] = lines
    return streams, precisions, predictions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                   help="directory with classifier.json, stream.json (optional), peers.json")
    p.add_argument("--out", type=Path, default=None, help="summary JSON (default DIR/summary.json)")
    p.add_argument("--card-threshold", type=float, default=None,
                   help="the model card's recommended S in nats (its value; default: from peers.json or --model-dir); "
                        "only used to find the card's rows in a classifier.json without setting fields")
    p.add_argument("--model-dir", type=Path, default=None, help="model directory, to read the card's S (its value)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    args = p.parse_args(argv)

    classifier = load_json(args.dir / "classifier.json")
    stream = load_json(args.dir / "stream.json")
    peers = load_json(args.dir / "peers.json")
    bf16 = load_json(args.dir / "classifier-bf16.json")  # optional extra (benchmark/run-benchmark.sh)
    short = load_json(args.dir / "classifier-short.json")  # phase a2, only when the short-text model exists
    if classifier is None and peers is None and short is None:
        print(f"summarize: none of classifier.json, peers.json, classifier-short.json in {args.dir}", file=sys.stderr)
        return 1
    card_s, source = card_threshold(args, peers)
    streams, precisions, predictions = load_optional(args.dir, stream)
    summary = build_summary(classifier, stream, peers, card_s, source, bf16, short, streams, precisions, predictions)
    summary["run"] = load_json(args.dir / "run.json")  # written by benchmark/run-benchmark.sh, when present
    summary["contention"] = contention(summary["run"])
    out = args.out or args.dir / "summary.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.no_plots:
        summary["plots"] = {"events_per_s": str(args.dir / "events_per_s.png"), "saving": str(args.dir / "saving.png")}
        plot_events(summary, args.dir / "events_per_s.png")
        plot_saving(summary, args.dir / "saving.png")
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(summary))
    print(f"\nsummary: {out}" + ("" if args.no_plots else f"; plots: {args.dir}/events_per_s.png, {args.dir}/saving.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
