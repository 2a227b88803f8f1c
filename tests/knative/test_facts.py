"""Knative's limits and prices facts, read through ``corefn check`` and ``corefn cost`` like every
cloud's: Knative's defaults and Code Engine's stricter limits refuse what neither runs, and the cost
estimate says why there is no list price instead of inventing one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from corefn.cli import main
from corefn.facts import load

APP = '''
from corefn import App
app = App("kn")

@app.get("/slow", timeout=900)
def slow(event):
    return "late"

@app.queue("jobs", memory=65536)
def big(event):
    return None

@app.timer("*/5 * * * *", tz="Europe/Paris")
def tick(event):
    return None
'''


def test_every_knative_limit_and_price_names_its_source() -> None:
    facts = load("knative")
    assert set(facts.topics) >= {"services", "limits", "prices"}
    for name, row in facts.topic("limits")["limits"].items():
        assert str(row["source"]).startswith("https://"), name
    assert str(facts.topic("prices")["operator"]["source"]).startswith("https://cloud.ibm.com/docs/codeengine")


def test_check_refuses_what_knative_and_code_engine_cannot_run(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    result = CliRunner().invoke(main, ["check", f"{tmp_path / 'app.py'}:app", "--cloud", "knative"])
    assert result.exit_code != 0
    out = result.output
    assert "slow" in out and "600" in out  # max-revision-timeout-seconds / Code Engine's --request-timeout
    assert "big" in out and "49152" in out  # Code Engine's largest vCPU / memory pair (48 GB)
    assert "tick" not in out  # cron with a time zone: PingSource takes it


def test_cost_has_no_list_price_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP.replace("timeout=900", "timeout=5").replace("memory=65536", "memory=512"))
    result = CliRunner().invoke(main, ["cost", f"{tmp_path / 'app.py'}:app", "--cloud", "knative"])
    assert result.exit_code == 0, result.output
    assert "n/a" in result.output and "knative: none (self-hosted Knative" in result.output
