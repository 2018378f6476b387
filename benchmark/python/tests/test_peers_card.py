"""peers.py's FLOPs at the card's setting: the expected saving is the one the card recorded for that very setting.

Run: benchmark/python/.venv/bin/python -m pytest -q benchmark/python/tests
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import peers  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
DEFAULT_CARD = REPO / "model-export" / "models" / "deebert-spamassassin-minilm-l6" / "model_card.json"

DIMS = {"hidden_size": 4, "num_layers": 2, "intermediate_size": 8, "num_labels": 2}


def card(rec):
    return {"recommended_threshold": rec}


def test_a_label_conditional_setting_uses_its_own_test_saving():
    rec = {"policy": "entropy", "value": 0.17, "label_thresholds": {"ham": 0.17, "spam": 0.57},
           "test": {"policy": "entropy", "threshold": 0.17, "label_thresholds": {"ham": 0.17, "spam": 0.57},
                    "expected_saving": 0.77}}
    f = peers.flops_summary(DIMS, [10, 20], card(rec))
    assert f["card_expected_saving"] == 0.77
    assert f["card_label_thresholds"] == {"ham": 0.17, "spam": 0.57}
    assert f["card_threshold"] == 0.17 and f["card_policy"] == "entropy"
    assert "label-conditional" in f["card_expected_saving_source"]
    assert f["card_gflop_per_email"] == pytest.approx(f["full_depth_gflop_per_email"] * (1 - 0.77))


def test_a_test_entry_of_another_setting_is_not_the_cards_saving():
    # The card's value alone (one S) saves less than the per-label setting: it must not stand in for it.
    rec = {"policy": "entropy", "value": 0.17, "label_thresholds": {"ham": 0.17, "spam": 0.57},
           "test": {"policy": "entropy", "threshold": 0.17, "expected_saving": 0.63}}
    f = peers.flops_summary(DIMS, [10], card(rec))
    assert f["card_expected_saving"] is None and f["card_gflop_per_email"] is None
    assert "another setting" in f["card_expected_saving_source"]


def test_a_one_s_card_keeps_its_test_saving():
    rec = {"policy": "entropy", "value": 0.14, "test": {"threshold": 0.14, "expected_saving": 0.71}}
    assert peers.card_setting_saving(card(rec))[0] == 0.71


def test_the_committed_default_card():
    rec = json.loads(DEFAULT_CARD.read_text())["recommended_threshold"]
    saving, _ = peers.card_setting_saving({"recommended_threshold": rec})
    assert saving == rec["test"]["expected_saving"]
