"""``corefn report`` from the command line: formats, --out, and clear errors (exit status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from corefn.cli import main
from corefn.report import SCHEMA

TEMPLATE = str(Path(__file__).with_name("templates") / "sfn-lambda.yaml")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["report", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_for_an_app() -> None:
    code, out, _ = _run("examples/iot_site/app.py", "--format", "json", "--cloud", "aws", "--cloud", "gcp")
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, json.loads(SCHEMA.read_text()))
    assert data["source"] == "app" and list(data["clouds"]) == ["aws", "gcp"]


@pytest.mark.parametrize(("fmt", "marker"), [("text", "Migration checklist (effort S / M / L)"),
                                             ("markdown", "```mermaid"), ("html", "<svg")])
def test_formats_from_a_template(tmp_path: Path, fmt: str, marker: str) -> None:
    out = tmp_path / "deep" / f"report.{fmt}"
    code, stdout, _ = _run("--from-template", TEMPLATE, "--format", fmt, "--out", str(out))
    assert code == 0 and stdout.strip() == str(out)
    text = out.read_text()
    assert marker in text and "StateMachineExpressSynctoLambda" in text


@pytest.mark.parametrize(("args", "says"), [
    ((), "give either APP or --from-template FILE"),
    (("examples/iot_site/app.py", "--from-template", TEMPLATE), "give either APP or --from-template FILE"),
    (("no_such_module:app",), "cannot import"),
    (("--from-template", "README.md"), "README.md: not valid YAML at line 18, column 1: expected '<document start>'"),
    (("--from-template", "pyproject.toml"), "not valid YAML at line"),
    (("--from-template", "missing.yaml"), "cannot read the template"),
    (("examples/iot_site/app.py", "--cloud", "nope"), "unknown cloud 'nope'"),
])
def test_errors_are_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert err.startswith("corefn report: ") and says in err and err.count("\n") == 1


def test_the_verb_is_listed() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "report" in result.stdout and "lock-in" in result.stdout
