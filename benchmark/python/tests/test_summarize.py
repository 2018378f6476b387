"""summarize.py on small synthetic inputs: ratios, target flags, missing stream.json, plots.

Run: benchmark/python/.venv/bin/python -m pytest -q benchmark/python/tests
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import summarize  # noqa: E402

# The default card's shape: label-conditional, its value the ham S.
CARD_S = 0.17628520438299405
CARD_LABELS = {"ham": CARD_S, "spam": 0.5688744696021595}


def java(batch, s, eps, saving):
    """One classifier.json result with one S (events/s, expected saving) with made-up latencies."""
    return {"batch": batch, "setting": "threshold", "policy": "ENTROPY", "threshold": s, "label_thresholds": None,
            "events_per_s": eps, "mean_ms": 1000 * batch / eps,
            "p50_ms": 1000 * batch / eps, "p99_ms": 1.5 * 1000 * batch / eps,
            "exit_histogram": [0, 0, 0, 0, 0, 10], "expected_saving": saving, "accuracy": 0.98, "protected_recall": 0.97,
            "seconds": 1.0}


def card(batch, eps, saving):
    """One classifier.json result at the card's label-conditional setting (ClassifierBenchmark --card-setting)."""
    return dict(java(batch, CARD_S, eps, saving), setting="card", label_thresholds=dict(CARD_LABELS))


def write_inputs(d: Path, stream: bool = True):
    # Each batch size also has a one-S row at the card's value (the ham S for every label): it must not be taken
    # for the card's row, which is faster here (spam leaves earlier under its looser S).
    classifier = {"model": "m", "model_version": "1", "device": "cpu()", "num_layers": 6, "texts": 10,
                  "protected_label": "spam",
                  "card_setting": {"policy": "ENTROPY", "threshold": CARD_S, "layer_thresholds": None,
                                   "label_thresholds": dict(CARD_LABELS)},
                  "policy": "ENTROPY", "threads": 2, "results": [
                      java(1, 0.0, 45.0, 0.0), java(1, CARD_S, 120.0, 0.6), card(1, 150.0, 0.7),
                      java(1, 0.7, 250.0, 0.833),
                      java(32, 0.0, 60.0, 0.0), java(32, 0.02, 62.0, 0.1), java(32, 0.05, 90.0, 0.4),
                      java(32, CARD_S, 160.0, 0.6), card(32, 190.0, 0.7), java(32, 0.7, 300.0, 0.833)]}
    peers = {"threads": 2, "texts": {"count": 10}, "results": [
        {"runtime": "onnxruntime", "batch": 1, "events_per_s": 50.0, "p50_ms": 20.0, "p99_ms": 25.0},
        {"runtime": "onnxruntime", "batch": 32, "events_per_s": 60.0, "p50_ms": 500.0, "p99_ms": 520.0},
        {"runtime": "tensorflow", "batch": 32, "events_per_s": 40.0, "p50_ms": 800.0, "p99_ms": 820.0}],
        "flops": {"card_policy": "entropy", "card_threshold": CARD_S, "card_label_thresholds": dict(CARD_LABELS),
                  "card_expected_saving": 0.71, "full_depth_gflop_per_email": 2.0},
        "physical_limit": {"gflops_used": 200.0, "full_events_per_s": 100.0, "card_events_per_s": 344.8}}
    (d / "classifier.json").write_text(json.dumps(classifier))
    (d / "peers.json").write_text(json.dumps(peers))
    if stream:
        (d / "stream.json").write_text(json.dumps({
            "events": 10, "setting": "card", "policy": "ENTROPY", "threshold": CARD_S,
            "label_thresholds": dict(CARD_LABELS), "batch_size": 32, "linger_ms": 5,
            "throughput": {"events_per_s": 180.5, "first_to_last_s": 1.0, "startup_to_first_output_s": 2.0,
                           "mean_batch": 30.0, "exit_histogram": [7, 1, 1, 0, 0, 1], "expected_saving": 0.7,
                           "accuracy": 0.98},
            "latency": {"rate_per_s": 70, "achieved_rate_per_s": 69.5, "events": 60, "p50_ms": 40.0,
                        "p90_ms": 60.0, "p99_ms": 90.0, "max_ms": 95.0, "mean_batch": 3.0}}))


def run(d: Path, *extra):
    assert summarize.main(["--dir", str(d), *extra]) == 0
    return json.loads((d / "summary.json").read_text())


def test_ratios_and_targets(tmp_path):
    write_inputs(tmp_path)
    write_streams(tmp_path)
    s = run(tmp_path)
    r = s["ratios"]
    assert r["classifier_full_vs_onnxruntime_b1"] == pytest.approx(45 / 50)
    assert r["classifier_full_vs_onnxruntime_b32"] == pytest.approx(60 / 60)
    assert r["classifier_card_vs_onnxruntime_full_b1"] == pytest.approx(150 / 50)
    assert r["classifier_card_vs_onnxruntime_full_b32"] == pytest.approx(190 / 60)
    assert r["stream_vs_classifier"] == pytest.approx(180.5 / 190)
    # saving at b32: S=0.05 -> measured 1-60/90 = 1/3, expected 0.4 -> 0.833 (the minimum, counted);
    # S=0.02 has expected 0.1 < 0.2: reported but not counted.
    rows = {x["threshold"]: x for x in s["saving"]["by_batch"]["32"]}
    assert rows[0.02]["counted_in_min"] is False
    assert rows[0.05]["ratio"] == pytest.approx((1 - 60 / 90) / 0.4)
    assert r["measured_vs_expected_saving_min"] == pytest.approx((1 - 60 / 90) / 0.4)
    assert s["saving"]["min_ratio_at"] == {"batch": 32, "threshold": 0.05}
    # physical limit: full 100 events/s; card limit from the measured b32 histogram's saving 0.7
    assert r["classifier_full_b32_vs_physical_limit"] == pytest.approx(0.6)
    assert r["classifier_card_b32_vs_physical_limit_card"] == pytest.approx(190 / (100 / 0.3))
    t = s["targets"]
    assert t["classifier_full_vs_onnxruntime_b32"]["met"] is True       # 1.0 >= 1.0
    assert t["classifier_full_vs_onnxruntime_b1"]["met"] is True        # 0.9 >= 0.8
    assert t["classifier_card_vs_onnxruntime_full_b32"]["met"] is True  # 3.17 >= 3.0
    assert t["classifier_card_vs_onnxruntime_full_b1"]["met"] is True   # 3.0 >= 2.5
    assert t["stream_vs_classifier"]["met"] is True                     # 0.95 >= 0.9
    assert t["measured_vs_expected_saving_min"]["met"] is False         # 0.83 < 0.9
    assert s["all_targets_met"] is False
    assert (tmp_path / "events_per_s.png").stat().st_size > 0
    assert (tmp_path / "saving.png").stat().st_size > 0
    labels = {c["label"] for c in s["configurations"]}
    assert {"ONNX Runtime full", "TF Python full", "Java S=0", "Java card setting", "Java S>ln2", "Java stream"} <= labels


def test_the_card_rows_are_the_card_setting_not_a_one_s_row_with_its_value(tmp_path, capsys):
    write_inputs(tmp_path)
    s = run(tmp_path, "--no-plots")
    rows = [c for c in s["configurations"] if c["kind"] == "java-classifier" and c["threshold"] == CARD_S]
    card_rows = {c["batch"]: c for c in rows if c["label"] == "Java card setting"}
    one_s = {c["batch"]: c for c in rows if c["label"] == "Java sweep"}
    assert card_rows[32]["events_per_s"] == 190.0 and card_rows[32]["label_thresholds"] == CARD_LABELS
    assert one_s[32]["events_per_s"] == 160.0 and one_s[32]["label_thresholds"] is None
    assert s["ratios"]["classifier_card_vs_onnxruntime_full_b32"] == pytest.approx(190 / 60)
    assert s["stream_reference"]["card_setting"] is True
    assert s["stream_reference"]["classifier_events_per_s"] == 190.0
    assert s["card_setting"]["label_thresholds"] == CARD_LABELS
    # The sweep is one S per row: the card's row is not on its S axis.
    assert [r["threshold"] for r in s["saving"]["by_batch"]["32"]].count(CARD_S) == 1
    table = capsys.readouterr().out
    assert "| Java card setting | 32 | ham 0.1763, spam 0.5689 | 190.0 |" in table
    assert "| Java sweep | 32 | 0.1763 | 160.0 |" in table


def test_a_classifier_json_without_setting_fields_finds_the_card_by_its_s(tmp_path):
    # Files written before label-conditional cards: no "setting"; the card's row was the one at the card's S.
    write_inputs(tmp_path)
    legacy = json.loads((tmp_path / "classifier.json").read_text())
    legacy.pop("card_setting")
    legacy["results"] = [{k: v for k, v in r.items() if k not in ("setting", "label_thresholds")}
                         for r in legacy["results"] if r.get("setting") != "card"]
    (tmp_path / "classifier.json").write_text(json.dumps(legacy))
    stream = json.loads((tmp_path / "stream.json").read_text())
    stream.pop("setting")
    stream.pop("label_thresholds")
    (tmp_path / "stream.json").write_text(json.dumps(stream))
    s = run(tmp_path, "--no-plots", "--card-threshold", str(CARD_S))
    assert s["ratios"]["classifier_card_vs_onnxruntime_full_b32"] == pytest.approx(160 / 60)
    assert s["ratios"]["stream_vs_classifier"] == pytest.approx(180.5 / 160)
    assert "Java card setting" in {c["label"] for c in s["configurations"]}


def test_missing_stream_is_null(tmp_path):
    write_inputs(tmp_path, stream=False)
    s = run(tmp_path, "--no-plots")
    assert s["ratios"]["stream_vs_classifier"] is None
    assert s["targets"]["stream_vs_classifier"]["met"] is None
    assert s["all_targets_met"] is None
    assert s["inputs"]["stream"] is None
    assert not (tmp_path / "events_per_s.png").exists()


def test_contention_flag_from_run_json(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"cpu": {
        "setup": {"others_cores": 1.5}, "classifier": {"others_cores": 0.05},
        "stream": {"others_cores": 0.9}, "peers": {"others_cores": 0.6}}}))
    s = run(tmp_path, "--no-plots")
    assert s["contention"]["contended_phases"] == ["peers"]   # setup and stream are not judged
    assert s["contention"]["clean"] is False


def test_bf16_extra_outside_targets(tmp_path):
    write_inputs(tmp_path)
    bf = card(32, 380.0, 0.7)
    bf["accuracy"] = 0.97
    bf["protected_recall"] = 0.96
    (tmp_path / "classifier-bf16.json").write_text(json.dumps(
        {"precision": "BFLOAT16", "results": [java(32, 0.0, 150.0, 0.0), bf]}))
    s = run(tmp_path, "--no-plots")
    assert s["ratios"]["classifier_bf16_card_vs_onnxruntime_full_b32"] == pytest.approx(380 / 60)
    row = [r for r in s["bfloat16"]["results"] if r["card_setting"]][0]
    assert row["speedup_vs_float32"] == pytest.approx(2.0)
    assert row["accuracy_delta"] == pytest.approx(0.97 - 0.98)
    assert (row["protected_recall"], row["float32_protected_recall"]) == (0.96, 0.97)
    assert not any(k.startswith("classifier_bf16") for k in s["targets"])
    assert "Java bf16 card setting" in {c["label"] for c in s["configurations"]}


def test_shadow_cost_ratios(tmp_path, capsys):
    write_inputs(tmp_path)
    classifier = json.loads((tmp_path / "classifier.json").read_text())

    def shadow(rate, rows, ratio, predicted):
        return {"rate": rate, "shadow_rows": rows, "shadow_fraction": rows / 50, "ms_per_event": 10 * ratio,
                "layer_rows_per_event": 1.5 * predicted, "shadow_layer_rows_per_event": 1.5 * (predicted - 1),
                "cost_ratio": ratio, "cost_predicted": predicted, "layer_rows_ratio": predicted}

    classifier["shadow"] = {"setting": {"policy": "ENTROPY", "threshold": CARD_S, "label_thresholds": dict(CARD_LABELS)},
                            "batch": 32, "texts": 50,
                            "rounds": 5, "num_layers": 6, "mean_exit_layer": 1.5, "results": [
                                shadow(0.0, 0, 1.0, 1.0), shadow(0.02, 1, 1.04, 1.06), shadow(0.1, 5, 1.25, 1.3)]}
    (tmp_path / "classifier.json").write_text(json.dumps(classifier))
    s = run(tmp_path, "--no-plots")
    r = s["ratios"]
    assert r["shadow_cost_ratio_r0.02"] == pytest.approx(1.04)
    assert r["shadow_cost_predicted_r0.02"] == pytest.approx(1.06)
    assert r["shadow_cost_ratio_r0.1"] == pytest.approx(1.25)
    assert r["shadow_cost_predicted_r0.1"] == pytest.approx(1.3)
    assert "shadow_cost_ratio_r0" not in r
    assert not any(k.startswith("shadow") for k in s["targets"])
    assert [x["rate"] for x in s["shadow"]["results"]] == [0.0, 0.02, 0.1]
    assert "shadow sampling cost (card setting ENTROPY ham 0.1763, spam 0.5689," in capsys.readouterr().out


def test_no_shadow_section_without_shadow_measurement(tmp_path):
    write_inputs(tmp_path)
    s = run(tmp_path, "--no-plots")
    assert s["shadow"] is None
    assert not any(k.startswith("shadow") for k in s["ratios"])


def test_protected_label_recall_is_a_column_of_every_configuration(tmp_path, capsys):
    write_inputs(tmp_path)
    s = run(tmp_path, "--no-plots")
    assert s["protected_label"] == "spam"
    row = [c for c in s["configurations"] if c["label"] == "Java card setting" and c["batch"] == 32][0]
    assert row["protected_recall"] == 0.97
    table = summarize.markdown(s)
    assert "| spam recall |" in table.splitlines()[0]
    assert "| 0.9700 |" in table


# --- short texts (classifier-short.json, phase a2) ---------------------------------------------------

SHORT_CARD_S = 0.25


def write_short(d: Path):
    """classifier-short.json as ClassifierBenchmark writes it for a one-S card (the short-text model's)."""
    def short_card(batch, eps, saving):
        return dict(java(batch, SHORT_CARD_S, eps, saving), setting="card")
    (d / "classifier-short.json").write_text(json.dumps({
        "model": "deebert-spamassassin-subjects-minilm-l6", "model_version": "2", "texts": 587, "num_layers": 6,
        "protected_label": "spam", "policy": "ENTROPY", "threads": 2,
        "card_setting": {"policy": "ENTROPY", "threshold": SHORT_CARD_S, "layer_thresholds": None,
                         "label_thresholds": None},
        "results": [java(1, 0.0, 100.0, 0.0), java(1, 0.1, 150.0, 0.5), java(1, SHORT_CARD_S, 180.0, 0.6),
                    short_card(1, 181.0, 0.6),
                    java(32, 0.0, 400.0, 0.0), java(32, 0.05, 410.0, 0.1), java(32, 0.1, 700.0, 0.5),
                    java(32, SHORT_CARD_S, 900.0, 0.6), short_card(32, 880.0, 0.6)]}))


def test_short_texts_table_and_saving_ratio_at_batch_32(tmp_path, capsys):
    write_inputs(tmp_path)
    write_short(tmp_path)
    s = run(tmp_path, "--no-plots")
    st = s["short_texts"]
    assert st["by_batch"]["32"]["full_events_per_s"] == 400.0
    assert st["by_batch"]["32"]["card_events_per_s"] == 880.0          # the card's row, not the one-S row (900)
    assert st["by_batch"]["1"]["card_vs_full"] == pytest.approx(1.81)
    assert st["by_batch"]["32"]["card_measured_saving"] == pytest.approx(1 - 400 / 880)
    # b32: S=0.1 -> (1-400/700)/0.5 = 0.857, S=0.25 -> (1-400/900)/0.6 = 0.926; S=0.05 (expected 0.1) not
    # counted. b1 (S=0.1: (1-100/150)/0.5 = 0.667) is reported but not in the minimum: the target is at b32.
    r = s["ratios"]
    assert r["measured_vs_expected_saving_min_short"] == pytest.approx((1 - 400 / 700) / 0.5)
    assert st["saving"]["min_ratio_at"] == {"batch": 32, "threshold": 0.1}
    assert [x["ratio"] for x in st["saving"]["by_batch"]["1"]] == [pytest.approx(2 / 3), pytest.approx((1 - 100 / 180) / 0.6)]
    assert s["targets"]["measured_vs_expected_saving_min_short"] == {
        "value": pytest.approx(0.857142857), "target": 0.85, "direction": ">=", "met": True,
        "same_as": "short_measured_vs_expected_saving_min_b32"}
    assert s["targets"]["short_measured_vs_expected_saving_min_b32"] == {
        "value": pytest.approx(0.857142857), "target": 0.85, "direction": ">=", "met": True,
        "conditional_on": "classifier-short.json (the short-text model)"}
    # Every existing key is still there, with the same values as without short texts.
    assert r["measured_vs_expected_saving_min"] == pytest.approx((1 - 60 / 90) / 0.4)
    assert s["inputs"]["classifier_short"]["texts"] == 587
    out = capsys.readouterr().out
    assert "short texts (587 texts, model deebert-spamassassin-subjects-minilm-l6 2; card setting ENTROPY 0.25 nats)" in out
    assert "| 32 | 400.0 | 880.0 | 2.20 | 0.600 | 0.545 |" in out
    assert "| 32 | card: 0.25 | 880.0 |" in out
    assert "| 1 | 0.1 | 0.500 | 0.333 | 0.667 (not counted) |" in out
    assert "| measured_vs_expected_saving_min_short | 0.857 | >= 0.85 | yes |" in out


def test_short_texts_failing_target_and_absent_file(tmp_path):
    write_inputs(tmp_path)
    s = run(tmp_path, "--no-plots")
    # Without classifier-short.json: no section, no ratio, no target; the other targets are judged as before.
    assert s["short_texts"] is None and "measured_vs_expected_saving_min_short" not in s["ratios"]
    assert "measured_vs_expected_saving_min_short" not in s["targets"]
    # Its new name is always listed, unjudged without the input, and does not make all_targets_met null.
    assert s["targets"]["short_measured_vs_expected_saving_min_b32"]["met"] is None
    write_short(tmp_path)
    data = json.loads((tmp_path / "classifier-short.json").read_text())
    data["results"][6]["events_per_s"] = 500.0   # b32 S=0.1: measured 0.2 of an expected 0.5 -> 0.4
    (tmp_path / "classifier-short.json").write_text(json.dumps(data))
    s = run(tmp_path, "--no-plots")
    assert s["targets"]["measured_vs_expected_saving_min_short"]["met"] is False
    assert s["targets"]["short_measured_vs_expected_saving_min_b32"]["met"] is False
    assert s["ratios"]["measured_vs_expected_saving_min_short"] == pytest.approx(0.4)


def test_short_texts_phase_is_judged_for_contention(tmp_path):
    write_inputs(tmp_path)
    write_short(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({
        "cpu": {"classifier": {"others_cores": 0.05}, "peers": {"others_cores": 0.0}},
        "short_texts": {"ran": True, "cpu": {"others_cores": 0.7}}}))
    s = run(tmp_path, "--no-plots")
    assert s["contention"]["contended_phases"] == ["short"]
    assert s["contention"]["others_cores"]["short"] == 0.7


# --- target directions, stream latency by load and commit setting, precision ----------------------------------


def test_target_directions():
    assert summarize.target_met(0.95, 0.95, ">=") is True
    assert summarize.target_met(0.94, 0.95, ">=") is False
    assert summarize.target_met(100.0, 100.0, "<=") is True
    assert summarize.target_met(101.0, 100.0, "<=") is False
    assert summarize.target_met(None, 100.0, "<=") is None
    with pytest.raises(ValueError):
        summarize.target_met(1.0, 1.0, ">")


def load(fraction, rate, p50, p99, **extra):
    """One latency_by_load entry of a stream JSON (StreamBenchmark --rates)."""
    return {"fraction": fraction, "rate_per_s": rate, "achieved_rate_per_s": rate * 0.99, "events": 300,
            "p50_ms": p50, "p90_ms": (p50 + p99) / 2, "p99_ms": p99, "max_ms": p99 + 5, "mean_batch": 2.0,
            "classified": 300, "dead_lettered": 0, "missing": 0, **extra}


def write_streams(d: Path, p99_at_40_after_batch=80.0, saturation_after_batch=175.0, split=False):
    """stream.json (commit interval, saturation 180.5 events/s) and stream-after-batch.json, both with latency
    phases at 0.2, 0.4 and 0.7 of their own saturation; ``split`` adds the wait / visible keys to after-batch."""
    def stream(commit, sat, p99_40, extra):
        by_load = [load(f, f * sat, p50, p99, **extra) for f, p50, p99 in
                   ((0.2, 30.0, 60.0), (0.4, 40.0, p99_40), (0.7, 70.0, 180.0))]
        return {"events": 10, "setting": "card", "policy": "ENTROPY", "threshold": CARD_S,
                "label_thresholds": dict(CARD_LABELS), "batch_size": 32, "linger_ms": 5, "commit": commit,
                "throughput": {"events_per_s": sat, "mean_batch": 30.0, "exit_histogram": [7, 1, 1, 0, 0, 1],
                               "expected_saving": 0.7, "accuracy": 0.98},
                "latency": by_load[1], "latency_by_load": by_load, "complete": True}
    (d / "stream.json").write_text(json.dumps(stream("interval", 180.5, 90.0, {})))
    extra = {"wait_p50_ms": 12.0, "wait_p99_ms": 33.0, "visible_p50_ms": 20.0, "visible_p99_ms": 44.0} \
        if split else {}
    (d / "stream-after-batch.json").write_text(json.dumps(
        stream("after-batch", saturation_after_batch, p99_at_40_after_batch, extra)))


def test_latency_by_load_and_commit_setting_with_met_targets(tmp_path, capsys):
    write_inputs(tmp_path)
    write_streams(tmp_path)
    s = run(tmp_path, "--no-plots")
    lat = s["latency"]["by_commit"]
    assert list(lat) == ["interval", "after-batch"]
    assert lat["interval"]["saturation_events_per_s"] == 180.5
    assert [r["fraction"] for r in lat["after-batch"]["by_load"]] == [0.2, 0.4, 0.7]
    row = lat["after-batch"]["by_load"][1]
    assert (row["rate_per_s"], row["p50_ms"], row["p90_ms"], row["p99_ms"], row["mean_batch"]) == (70.0, 40.0, 60.0, 80.0, 2.0)
    assert "wait_p99_ms" not in row    # absent in the input: absent here
    t = s["targets"]
    assert t["stream_latency_p99_ms_at_40pct_after_batch"] == {"value": 80.0, "target": 100.0, "direction": "<=",
                                                               "met": True}
    assert t["stream_saturation_after_batch_vs_interval"]["value"] == pytest.approx(175 / 180.5)
    assert t["stream_saturation_after_batch_vs_interval"]["met"] is True
    # stream.json is still the stream's reference for stream_vs_classifier.
    assert s["ratios"]["stream_vs_classifier"] == pytest.approx(180.5 / 190)
    out = capsys.readouterr().out
    assert "saturation events/s: interval 180.5; after-batch 175.0" in out
    assert "| 40% | interval | 72.2 | 71.5 | 40 | 65 | 90 | 2.0 |" in out
    assert "| 40% | after-batch | 70.0 | 69.3 | 40 | 60 | 80 | 2.0 |" in out
    assert "| stream_latency_p99_ms_at_40pct_after_batch | 80.000 | <= 100 | yes |" in out
    assert "wait p99" not in out


def test_latency_targets_not_met_and_the_wait_visible_split(tmp_path, capsys):
    write_inputs(tmp_path)
    write_streams(tmp_path, p99_at_40_after_batch=150.0, saturation_after_batch=162.0, split=True)
    s = run(tmp_path, "--no-plots")
    t = s["targets"]
    assert t["stream_latency_p99_ms_at_40pct_after_batch"]["met"] is False    # 150 ms > 100 ms
    assert t["stream_saturation_after_batch_vs_interval"]["met"] is False     # 162 / 180.5 = 0.90 < 0.95
    assert s["all_targets_met"] is False
    row = s["latency"]["by_commit"]["after-batch"]["by_load"][0]
    assert (row["wait_p50_ms"], row["wait_p99_ms"], row["visible_p50_ms"], row["visible_p99_ms"]) == (12, 33, 20, 44)
    out = capsys.readouterr().out
    assert "| wait p50 ms | wait p99 ms | visible p50 ms | visible p99 ms |" in out
    assert "| 20% | after-batch | 32.4 | 32.1 | 30 | 45 | 60 | 2.0 | 12 | 33 | 20 | 44 |" in out
    assert "| 20% | interval | 36.1 | 35.7 | 30 | 45 | 60 | 2.0 | — | — | — | — |" in out
    assert "| stream_latency_p99_ms_at_40pct_after_batch | 150.000 | <= 100 | NO |" in out


def test_latency_targets_are_null_without_the_after_batch_run(tmp_path):
    # An older stream.json (one latency phase, no commit field): the latency section shows it as interval.
    write_inputs(tmp_path)
    s = run(tmp_path, "--no-plots")
    assert list(s["latency"]["by_commit"]) == ["interval"]
    assert s["latency"]["by_commit"]["interval"]["by_load"][0]["fraction"] is None
    for name in ("stream_latency_p99_ms_at_40pct_after_batch", "stream_saturation_after_batch_vs_interval"):
        assert s["targets"][name]["value"] is None and s["targets"][name]["met"] is None
    assert s["all_targets_met"] is None


def precision_json(name, accuracy, recall):
    """precision-<name>.json: ClassifierBenchmark --thresholds none --card-setting --batch-sizes 32."""
    r = dict(card(32, 100.0 if name == "FLOAT32" else 180.0, 0.7), accuracy=accuracy, protected_recall=recall["spam"],
             recall_by_label=recall)
    return {"precision": name, "texts": 8, "protected_label": "spam", "results": [r]}


def predictions(answers):
    """A predictions file's lines from (gold, label, exit_layer) per text."""
    return "".join(json.dumps({"index": i, "gold": g, "label": lab, "exit_layer": e}) + "\n"
                   for i, (g, lab, e) in enumerate(answers))


def write_precision(d: Path, bf16_answers):
    f32 = [("ham", "ham", 1), ("ham", "ham", 1), ("ham", "spam", 2), ("ham", "ham", 1),
           ("spam", "spam", 3), ("spam", "spam", 6), ("spam", "ham", 6), ("spam", "spam", 1)]
    (d / "precision-float32.json").write_text(json.dumps(precision_json("FLOAT32", 0.75, {"ham": 0.75, "spam": 0.75})))
    (d / "precision-float32-predictions.jsonl").write_text(predictions(f32))
    def recall(label):
        gold = [a for a in bf16_answers if a[0] == label]
        return sum(a[1] == label for a in gold) / len(gold)
    (d / "precision-bfloat16.json").write_text(json.dumps(precision_json(
        "BFLOAT16", sum(a[0] == a[1] for a in bf16_answers) / 8, {"ham": recall("ham"), "spam": recall("spam")})))
    (d / "precision-bfloat16-predictions.jsonl").write_text(predictions(bf16_answers))
    return f32


def test_precision_recall_by_label_and_agreement_met(tmp_path, capsys):
    write_inputs(tmp_path)
    f32 = [("ham", "ham", 1), ("ham", "ham", 1), ("ham", "spam", 2), ("ham", "ham", 1),
           ("spam", "spam", 3), ("spam", "spam", 6), ("spam", "ham", 6), ("spam", "spam", 1)]
    write_precision(tmp_path, f32)   # bfloat16 answers exactly as float32
    s = run(tmp_path, "--no-plots")
    pr = s["precision"]
    assert pr["by_precision"]["float32"]["recall_by_label"] == {"ham": 0.75, "spam": 0.75}
    assert pr["by_precision"]["bfloat16"]["events_per_s"] == 180.0
    assert pr["bfloat16_vs_float32"]["same_label_and_exit_share"] == 1.0
    t = s["targets"]
    assert t["bfloat16_protected_recall_minus_float32"]["value"] == 0.0
    assert t["bfloat16_protected_recall_minus_float32"]["met"] is True       # 0 >= 0: no extra misses
    assert t["bfloat16_same_label_and_exit_share"]["met"] is True
    out = capsys.readouterr().out
    assert "| precision | texts | events/s | exp. saving | accuracy | ham recall | spam recall |" in out
    assert "| float32 | 8 | 100.0 | 0.700 | 0.7500 | 0.7500 | 0.7500 |" in out
    assert "spam texts float32 finds and bfloat16 misses: 0 (the reverse: 0)" in out


def test_precision_targets_not_met_when_bfloat16_misses_more_spam(tmp_path):
    write_inputs(tmp_path)
    # Text 4: spam found by float32, missed by bfloat16; text 0 leaves one layer later.
    bf16 = [("ham", "ham", 2), ("ham", "ham", 1), ("ham", "spam", 2), ("ham", "ham", 1),
            ("spam", "ham", 3), ("spam", "spam", 6), ("spam", "ham", 6), ("spam", "spam", 1)]
    write_precision(tmp_path, bf16)
    s = run(tmp_path, "--no-plots")
    a = s["precision"]["bfloat16_vs_float32"]
    assert a["same_label_share"] == pytest.approx(7 / 8)
    assert a["same_label_and_exit_share"] == pytest.approx(6 / 8)
    assert (a["extra_protected_misses"], a["fewer_protected_misses"]) == (1, 0)
    t = s["targets"]
    assert t["bfloat16_protected_recall_minus_float32"]["value"] == pytest.approx(0.5 - 0.75)
    assert t["bfloat16_protected_recall_minus_float32"]["met"] is False
    assert t["bfloat16_same_label_and_exit_share"]["met"] is False


def test_precision_without_bfloat16_leaves_its_targets_unjudged(tmp_path):
    # A CPU without bfloat16 instructions: float32 only; the conditional targets are null and do not count.
    write_inputs(tmp_path)
    write_streams(tmp_path)
    write_precision(tmp_path, [("ham", "ham", 1)] * 4 + [("spam", "spam", 1)] * 4)
    (tmp_path / "precision-bfloat16.json").unlink()
    (tmp_path / "precision-bfloat16-predictions.jsonl").unlink()
    s = run(tmp_path, "--no-plots")
    assert list(s["precision"]["by_precision"]) == ["float32"]
    assert s["precision"]["bfloat16_vs_float32"] is None
    for name in ("bfloat16_protected_recall_minus_float32", "bfloat16_same_label_and_exit_share"):
        assert s["targets"][name]["met"] is None and "conditional_on" in s["targets"][name]
    # The unconditional targets are all judged; the saving target fails (0.83 < 0.9), the rest are met.
    assert s["all_targets_met"] is False
    assert [k for k, v in s["targets"].items() if v["met"] is False] == ["measured_vs_expected_saving_min"]


def test_precision_phase_is_judged_for_contention(tmp_path):
    write_inputs(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"cpu": {
        "classifier": {"others_cores": 0.0}, "precision": {"others_cores": 0.5}, "peers": {"others_cores": 0.0}}}))
    s = run(tmp_path, "--no-plots")
    assert s["contention"]["contended_phases"] == ["precision"]
