"""The operator's cockpit under deploy/observability/, checked offline with promtool.

- alerts.yml: `promtool check rules`, and `promtool test rules alerts.test.yml`; every alert has a case
  where it fires and one where it stays quiet.
- grafana/deebert.json: every panel query is written into a generated rules file as a recording rule and
  checked with `promtool check rules` (PromQL syntax; Grafana's $__rate_interval replaced by 5m).
- Every deebert_* series the dashboard and the alerts use is one docs/observability.md documents (the
  service's /metrics list), and the compose file mounts what Prometheus and Grafana load.

promtool comes from Debian's `prometheus` package; deploy/run-tests.sh installs it (setup_promtool) and sets
DEEBERT_REQUIRE_PROMTOOL=1, so there a missing promtool fails instead of skipping.

Run: deploy/validate/.venv/bin/python -m pytest deploy/validate/tests (deploy/run-tests.sh does).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
OBS = REPO / "deploy" / "observability"
ALERTS = OBS / "alerts.yml"
ALERT_TESTS = OBS / "alerts.test.yml"
DASHBOARD = OBS / "grafana" / "deebert.json"
DATASOURCES = OBS / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
COMPOSE_DIR = REPO / "deploy" / "compose"
OBSERVABILITY_PAGE = REPO / "docs" / "observability.md"

# Grafana's interval variables: promtool does not know them; 5m stands for any range.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("DEEBERT_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool not found (Debian package prometheus; deploy/lib/setup.sh setup_promtool installs it)")
        pytest.skip("promtool not found: install Debian's prometheus package (deploy/run-tests.sh does)")
    return found


def run_promtool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([promtool(), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def alert_rules() -> list[dict]:
    return [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"] if "alert" in r]


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target of every panel."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(p["title"], t["expr"]) for p in panels for t in p.get("targets", [])]


def with_grafana_variables_replaced(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def check_rules_text(tmp_path: Path, rules: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return run_promtool("check", "rules", path)


def as_recording_rules(queries: list[str]) -> dict:
    return {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)]}]}


# --- alerts -------------------------------------------------------------------------------------------


def test_alert_rules_pass_promtool_check():
    result = run_promtool("check", "rules", ALERTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_alert_unit_tests_pass():
    result = run_promtool("test", "rules", ALERT_TESTS.name, cwd=OBS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_case_that_fires_and_one_that_does_not():
    cases = [c for t in yaml.safe_load(ALERT_TESTS.read_text())["tests"] for c in t.get("alert_rule_test", [])]
    for rule in alert_rules():
        mine = [c for c in cases if c["alertname"] == rule["alert"]]
        assert any(c.get("exp_alerts") for c in mine), f"{rule['alert']}: no case where it fires"
        assert any(not c.get("exp_alerts") for c in mine), f"{rule['alert']}: no case where it stays quiet"


def test_the_alert_unit_tests_can_fail(tmp_path: Path):
    # The lag alert with an unreachable threshold: its "fires" case must now fail.
    broken = ALERTS.read_text().replace(" > 1000\n", " > 1000000000\n")
    assert broken != ALERTS.read_text()
    (tmp_path / "alerts.yml").write_text(broken)
    shutil.copy(ALERT_TESTS, tmp_path / "alerts.test.yml")
    result = run_promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "DeebertConsumerLagGrowing" in result.stdout + result.stderr


# --- dashboard ----------------------------------------------------------------------------------------


def test_dashboard_has_the_cockpit_panels_on_the_provisioned_datasource():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {p["title"] for p in dashboard["panels"]}
    for expected in ["Events classified per second", "Consumer lag (input partitions)", "Exits per layer",
                     "Expected saving (paper eq. 2)", "S in force", "Latency p50 / p99", "Batch size",
                     "Dead letters by code", "Accuracy budget: disagreement vs budget", "Labels per second",
                     "JVM heap", "GC"]:
        assert expected in titles
    uid = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["uid"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"], panel["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_dashboard_query_parses(tmp_path: Path):
    queries = [with_grafana_variables_replaced(q) for _, q in dashboard_queries()]
    result = check_rules_text(tmp_path, as_recording_rules(queries))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_a_query_that_does_not_parse_fails_the_check(tmp_path: Path):
    result = check_rules_text(tmp_path, as_recording_rules(["sum by (le) (rate(deebert_exits_total[5m])"]))
    assert result.returncode != 0


def test_every_deebert_series_used_is_documented_in_the_observability_page():
    """Every deebert_* series a dashboard query or an alert rule uses is named, in backticks, in the /metrics
    table of docs/observability.md."""
    page = OBSERVABILITY_PAGE.read_text()
    used = set()
    for expr in [q for _, q in dashboard_queries()] + [r["expr"] for r in alert_rules()]:
        used |= set(re.findall(r"\bdeebert_[a-z_]+", expr))
    assert used
    for name in sorted(used):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert f"`{base}" in page, f"{name} is not in the /metrics list of docs/observability.md"


# --- compose wiring -----------------------------------------------------------------------------------


def test_compose_mounts_the_alerts_and_the_dashboard():
    services = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())["services"]
    mounts = {}
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            source, target = volume.split(":")[:2]
            assert (COMPOSE_DIR / source).resolve().exists(), volume
            mounts[target] = (COMPOSE_DIR / source).resolve()
    assert mounts["/etc/prometheus/alerts.yml"] == ALERTS
    assert mounts["/var/lib/grafana/dashboards/deebert.json"] == DASHBOARD
    prometheus = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["alerts.yml"]
    assert services["grafana"]["image"].startswith("${GRAFANA_IMAGE:-grafana/grafana:")
