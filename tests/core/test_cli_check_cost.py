"""``corefn check`` and ``corefn cost`` through the CLI: exit codes and what they print."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from corefn.cli import main

BROKEN = '''
from corefn import App
app = App("broken")

@app.get("/slow", timeout=60)
def slow(event):
    return "late"

@app.get("/fine", timeout=5)
def fine(event):
    return "ok"
'''

CLEAN = '''
from corefn import App
app = App("clean")

@app.get("/fine", timeout=5)
def fine(event):
    return "ok"

@app.timer("*/5 * * * *")
def tick(event):
    return None
'''


def write(tmp_path: Path, text: str) -> str:
    (tmp_path / "app.py").write_text(text)
    return f"{tmp_path / 'app.py'}:app"


def test_check_exits_1_on_errors_and_names_rule_cloud_handler_and_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, BROKEN), "--cloud", "aws"])
    assert result.exit_code == 1, result.output
    assert "gateway-timeout" in result.output and "slow: timeout 60 s vs gateway 30 s" in result.output
    assert "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html" in result.output
    assert "fine" not in result.output.replace("1 error(s)", "")


def test_check_exits_0_when_clean_and_mentions_no_handler(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", write(tmp_path, CLEAN)])
    assert result.exit_code == 0, result.output
    assert "fine" not in result.output and "tick" not in result.output
    assert "clean: 0 error(s), 0 warning(s) on aws, azure, gcp, " in result.output  # and every other installed cloud


def test_check_json_and_warnings_only_exit_0(tmp_path: Path) -> None:
    app = write(tmp_path, CLEAN.replace('"*/5 * * * *"', '"0 9 * * *", tz="Europe/Berlin"'))
    result = CliRunner().invoke(main, ["check", app, "--cloud", "azure", "--json"])
    assert result.exit_code == 1  # schedule-dst is an error on Azure's default plan
    assert [f["rule"] for f in json.loads(result.output)] == ["schedule-dst"]
    result = CliRunner().invoke(main, ["check", app, "--cloud", "aws", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_check_exits_2_on_a_bad_app_or_cloud(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["check", f"{tmp_path}/missing.py:app"]).exit_code == 2
    assert CliRunner().invoke(main, ["check", write(tmp_path, CLEAN), "--cloud", "nocloud"]).exit_code == 2


def test_cost_prints_handlers_by_cloud_with_prices_and_assumptions(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["cost", write(tmp_path, CLEAN), "--invocations", "fine=2000000", "--duration", "fine=0.5", "--free-tier"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    header = next(line for line in out.splitlines() if line.startswith("handler"))
    assert {"aws", "azure", "gcp", "openwhisk"} <= set(header.split())
    fine = next(line for line in out.splitlines() if line.startswith("fine "))
    # aws: 250,000 GB-s x 0.0000133334 + 2M requests x 0.20/M + 2M HTTP API x 1.00/M
    assert fine.split()[1:5] == ["2,000,000", "0.5", "s", "256"] and fine.split()[6] == "5.733350"
    tick = next(line for line in out.splitlines() if line.startswith("tick "))
    assert tick.split()[1] == "8,640"  # */5 over 30 days
    assert "with free tier" in out and "aws free tier: compute" in out
    assert "set 2026-us-east-1, region us-east-1, 2026-12-06" in out and "https://aws.amazon.com/lambda/pricing/" in out
    assert "fine: invocations from --invocations; duration from --duration" in out
    assert "openwhisk: none (self-hosted" in out


def test_cost_rejects_bad_flags(tmp_path: Path) -> None:
    app = write(tmp_path, CLEAN)
    assert CliRunner().invoke(main, ["cost", app, "--invocations", "fine"]).exit_code == 2
    assert CliRunner().invoke(main, ["cost", app, "--duration", "fine=-1"]).exit_code == 2
    assert CliRunner().invoke(main, ["cost", app, "--invocations", "nope=5"]).exit_code == 2
    assert CliRunner().invoke(main, ["cost"]).exit_code == 2


FIXTURES = Path(__file__).parent / "fixtures"


def test_cost_with_an_operators_price_file_prices_openwhisk(tmp_path: Path) -> None:
    args = ["cost", write(tmp_path, CLEAN), "--cloud", "openwhisk", "--invocations", "fine=1000000"]
    assert "n/a" in CliRunner().invoke(main, args).output
    result = CliRunner().invoke(main, [*args, "--prices", str(FIXTURES / "openwhisk-prices.toml")])
    assert result.exit_code == 0, result.output
    fine = next(line for line in result.output.splitlines() if line.startswith("fine "))
    assert fine.split()[-1] == "2.600000"  # 250,000 GB-s x 0.00001 + 1M x 0.10/M
    assert "set cluster-2026-12, region on-premises" in result.output


def test_cost_refuses_a_price_file_without_cloud_or_sources(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[meta]\nchecked = 2026-12-01\n')
    result = CliRunner().invoke(main, ["cost", write(tmp_path, CLEAN), "--prices", str(bad)])
    assert result.exit_code == 2 and "[meta] cloud" in result.output
    bad.write_text('[meta]\ncloud = "openwhisk"\nchecked = 2026-12-01\n[sets.x.compute]\nmeter = "gb_seconds"\nprice = 1\nregion = "r"\ndate = "2026"\n')
    result = CliRunner().invoke(main, ["cost", write(tmp_path, CLEAN), "--prices", str(bad)])
    assert result.exit_code == 2 and "needs source" in result.output


def test_cost_json_gives_exact_amounts_per_cloud_and_handler(tmp_path: Path) -> None:
    args = ["cost", write(tmp_path, CLEAN), "--json", "--invocations", "fine=2000000", "--duration", "fine=0.5"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    aws = data["clouds"]["aws"]
    assert aws["prices"] == {"set": "2026-us-east-1", "region": "us-east-1", "date": "2026-12-06"}
    assert aws["handlers"]["fine"] == "5.73335"  # 250,000 GB-s x 0.0000133334 + 0.40 + 2.00
    assert data["handlers"]["tick"]["invocations"] == "8640"
    assert data["clouds"]["openwhisk"]["prices"] is None


def test_cost_says_unpriced_rather_than_zero(tmp_path: Path) -> None:
    premium = CLEAN.replace('App("clean")', 'App("clean", defaults=Options(provider={"azure": {"plan": "premium"}}))')
    premium = premium.replace("from corefn import App", "from corefn import App\nfrom corefn.specs import Options")
    result = CliRunner().invoke(main, ["cost", write(tmp_path, premium), "--cloud", "azure"])
    assert result.exit_code == 0, result.output
    fine = next(line for line in result.output.splitlines() if line.startswith("fine "))
    assert fine.split()[-1] == "unpriced"
    assert "azure: no row of set 2026-eastus applies to fine, tick" in result.output


def test_check_ignore_drops_a_rule_for_one_handler_or_all(tmp_path: Path) -> None:
    app = write(tmp_path, BROKEN)
    assert CliRunner().invoke(main, ["check", app, "--cloud", "aws", "--ignore", "gateway-timeout:slow"]).exit_code == 0
    assert CliRunner().invoke(main, ["check", app, "--cloud", "aws", "--ignore", "gateway-timeout:fine"]).exit_code == 1
    assert CliRunner().invoke(main, ["check", app, "--cloud", "aws", "--ignore", "gateway-timeout"]).exit_code == 0
    result = CliRunner().invoke(main, ["check", app, "--ignore", "no-such-rule"])
    assert result.exit_code == 2 and "no such rule" in result.output
