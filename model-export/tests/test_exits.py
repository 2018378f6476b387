"""The exit maths (deebert_export.exits): each policy on hand-made logits, the setting rules, and the
committed cross-language golden file (tests/golden/exit_policies.json), which streams-app's
ExitPoliciesGoldenTest checks Java against."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from deebert_export import exits
from deebert_export.exits import DIVERGENCE, ENTROPY, PATIENCE, ExitSetting
from deebert_export.golden import golden

GOLDEN = Path(__file__).resolve().parent / "golden" / "exit_policies.json"
CONFIDENT, UNSURE = [0.0, 6.0], [0.0, 0.01]  # class 1 either way; entropy ~0.0067 / ~0.69 nats


def _logits(per_layer_confident: list[list[bool]]) -> np.ndarray:
    """(N, n, 2) logits, confident or unsure per layer."""
    return np.array([[CONFIDENT if c else UNSURE for c in row] for row in per_layer_confident], np.float32)


def test_entropy_exit_is_first_layer_below_threshold_else_last():
    logits = _logits([[True, True, True], [False, True, True], [False, False, False]])
    assert exits.exit_layers(logits, 0.1).tolist() == [1, 2, 3]
    assert exits.exit_layers(logits, 0.0).tolist() == [3, 3, 3]      # S = 0: nobody exits early
    assert exits.exit_layers(logits, 0.7).tolist() == [1, 1, 1]      # S > ln 2: everyone exits at layer 1


def test_per_layer_thresholds_replace_s_layer_by_layer():
    logits = _logits([[True, True, True], [False, True, True], [False, False, False]])
    # layer 1 accepts nobody (S_1 = 0), layer 2 only the confident, layer 3 is last anyway
    setting = ExitSetting(ENTROPY, 0.0, (0.0, 0.1, 0.0))
    assert exits.exit_layers(logits, setting).tolist() == [2, 2, 3]


def test_per_label_thresholds_pick_the_s_of_the_label_each_off_ramp_predicts():
    benign, harmful = [4.0, 0.0], [0.0, 4.0]      # entropy ~0.0789 nats either way
    unsure_harm = [0.0, 1.0]                      # label 1, entropy ~0.582 nats
    logits = np.array([[benign, benign, benign], [harmful, harmful, harmful], [unsure_harm, harmful, harmful]])
    # one S for both labels: the confident ones leave at layer 1, the unsure one at layer 2
    assert exits.exit_layers(logits, 0.1).tolist() == [1, 1, 2]
    # benign answers must be very sure (S 0.05), harmful ones may leave under a loose S (0.6)
    setting = ExitSetting(ENTROPY, 0.05, label_thresholds=(0.05, 0.6))
    assert exits.exit_layers(logits, setting).tolist() == [3, 1, 1]


def test_expected_saving_is_paper_eq_2():
    # 4 inputs, n = 4 layers: exits at 1, 2, 4, 4 -> layers run 11 of 16 -> saving 5/16
    assert exits.expected_saving(np.array([1, 2, 4, 4]), 4) == pytest.approx(5 / 16)
    assert exits.expected_saving(np.array([4, 4]), 4) == 0.0
    assert exits.expected_saving(np.array([1, 1]), 4) == pytest.approx(0.75)


def test_divergence_scores_layer_1_as_infinity_so_it_never_exits_there():
    logits = _logits([[True, True, True]])
    assert exits.exit_scores(logits, DIVERGENCE)[0, 0] == math.inf
    assert exits.exit_layers(logits, 0.5, DIVERGENCE).tolist() == [2]
    assert exits.exit_layers(logits, 1e9, DIVERGENCE).tolist() == [2]


def test_js_divergence_is_zero_for_equal_and_ln2_for_disjoint_distributions():
    assert exits.js_divergence(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == pytest.approx(0.0)
    assert exits.js_divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(math.log(2))


def test_patience_exits_once_the_label_held_for_t_more_off_ramps():
    a, b = [5.0, 0.0], [0.0, 5.0]
    logits = np.array([[a, a, a, a, a], [a, b, b, b, a], [a, b, a, b, a]])
    assert exits.agreeing_streak(logits).tolist() == [[0, 1, 2, 3, 4], [0, 0, 1, 2, 0], [0, 0, 0, 0, 0]]
    assert exits.exit_layers(logits, 1, PATIENCE).tolist() == [2, 3, 5]
    assert exits.exit_layers(logits, 2, PATIENCE).tolist() == [3, 4, 5]
    assert exits.exit_layers(logits, 5, PATIENCE).tolist() == [5, 5, 5]  # t = n: never early


def test_argmax_tie_goes_to_the_lowest_label_index():
    logits = np.array([[[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 3.0]]])
    assert exits.predicted_labels(logits).tolist() == [[0, 1, 0]]


@pytest.mark.parametrize("setting, message", [
    (ExitSetting(ENTROPY, -0.1), "finite number >= 0"),
    (ExitSetting(ENTROPY, math.nan), "finite number >= 0"),
    (ExitSetting(DIVERGENCE, math.inf), "finite number >= 0"),
    (ExitSetting(PATIENCE, 0.0), "integer in 1..3"),
    (ExitSetting(PATIENCE, 1.5), "integer in 1..3"),
    (ExitSetting(PATIENCE, 4.0), "integer in 1..3"),
    (ExitSetting(PATIENCE, 1.0, (0.1, 0.1, 0.1)), "entropy and divergence only"),
    (ExitSetting(ENTROPY, 0.0, (0.1, 0.1)), "need 3 values"),
    (ExitSetting(ENTROPY, 0.0, (0.1, -0.1, 0.1)), "S_2 must be"),
    (ExitSetting("badge", 0.1), "unknown exit policy"),
    (ExitSetting(PATIENCE, 1.0, label_thresholds=(0.1, 0.1)), "entropy and divergence only"),
    (ExitSetting(ENTROPY, 0.0, (0.1, 0.1, 0.1), (0.1, 0.1)), "cannot be combined"),
    (ExitSetting(ENTROPY, 0.0, label_thresholds=(0.1, 0.1, 0.1)), "need 2 values"),
    (ExitSetting(DIVERGENCE, 0.0, label_thresholds=(0.1, math.nan)), "label 1 must be"),
])
def test_invalid_settings_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        exits.exit_layers(_logits([[True, True, True]]), setting)


def test_committed_golden_file_is_what_the_generator_writes():
    committed = json.loads(GOLDEN.read_text())
    # round trip through JSON, as the file went, so floats compare exactly
    assert committed == json.loads(json.dumps(golden(committed["seed"]))), \
        "regenerate: python -m deebert_export golden"


def test_exit_layers_and_savings_match_the_golden_file():
    doc = json.loads(GOLDEN.read_text())
    policies_seen = set()
    for case in doc["cases"]:
        logits = np.array(case["logits"])
        assert logits.shape == (case["num_inputs"], case["num_layers"], case["num_labels"])
        assert exits.predicted_labels(logits).tolist() == case["predicted_labels"]
        for row in case["settings"]:
            lt, ct = row["layer_thresholds"], row["label_thresholds"]
            setting = ExitSetting(row["policy"], row["threshold"], None if lt is None else tuple(lt),
                                  None if ct is None else tuple(ct))
            layers = exits.exit_layers(logits, setting)
            assert layers.tolist() == row["exit_layers"], (case["name"], row)
            assert exits.expected_saving(layers, case["num_layers"]) == pytest.approx(row["expected_saving"], abs=1e-12)
            policies_seen.add((row["policy"], lt is not None, ct is not None))
    assert policies_seen == {(ENTROPY, False, False), (ENTROPY, True, False), (ENTROPY, False, True),
                             (DIVERGENCE, False, False), (DIVERGENCE, True, False), (DIVERGENCE, False, True),
                             (PATIENCE, False, False)}
