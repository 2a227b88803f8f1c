"""The renderings: JSON against the schema shipped in the package, Markdown with a Mermaid picture
per cloud, and the HTML page opened in headless Chromium (Debian package ``chromium``, installed by
.ci/setup): it renders, the inline SVG pictures are there and visible, and the page logs no console
error. A control page that does log one proves the console check can fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from corefn.loader import load_app
from corefn.report import SCHEMA, Report, report_app, report_template
from corefn.report.diagram import COLOURS
from corefn.report.render_html import render_html
from corefn.report.render_text import render_markdown, render_text

TEMPLATES = Path(__file__).with_name("templates")
CLOUDS = ["aws", "azure", "gcp", "openwhisk"]


def _reports() -> list[Report]:
    reports = [report_app(load_app("examples/iot_site/app.py"), CLOUDS),
               report_app(load_app("examples/image_pipeline/app.py"))]
    reports += [report_template(p, CLOUDS) for p in sorted(TEMPLATES.glob("*.yaml"))]
    return reports


@pytest.fixture(scope="module")
def reports() -> list[Report]:
    return _reports()


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_json_form_matches_the_schema(reports: list[Report], validator: Any) -> None:
    for report in reports:
        data = json.loads(json.dumps(report.to_json()))
        errors = sorted(validator.iter_errors(data), key=str)
        assert not errors, (report.subject.app, errors[:3])
        assert list(data) == ["version", "app", "source", "handlers", "clouds", "differences", "lock_in", "checklist"]
        assert [s["step"] for s in data["checklist"]] == list(range(1, len(data["checklist"]) + 1))


@pytest.mark.parametrize(("path", "value"), [
    (("clouds", "aws", "items", 0, "support"), "maybe"),
    (("clouds", "aws", "score"), 101),
    (("handlers", 0, "trigger", "kind"), "carrier-pigeon"),
    (("checklist", 0, "effort"), "XL"),
    (("version",), 2),
])
def test_the_schema_rejects_a_broken_report(validator: Any, path: tuple[Any, ...], value: Any) -> None:
    data = report_app(load_app("examples/iot_site/app.py"), CLOUDS).to_json()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(validator.iter_errors(data))


def test_markdown_has_a_mermaid_picture_per_cloud(reports: list[Report]) -> None:
    md = render_markdown(reports[0])
    assert md.count("```mermaid\nflowchart LR") == 4
    assert 'aws_t5["Amazon SQS (standard and FIFO) event source mapping<br/>readings"]' in md
    assert "  gcp_t7 --> gcp_f7\n" in md and "  gcp_f7 --> gcp_s4\n" in md  # Cloud Scheduler → summarize → SQL
    assert "class gcp_t6,gcp_t7 bridged" in md  # the ordered Pub/Sub subscription and Cloud Scheduler
    assert "| summarize | schedule |" in md and "## Migration checklist" in md
    assert "[Amazon SQS (standard and FIFO) event source mapping](https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)" in md
    text = render_text(reports[0])
    assert "Portability score (0-100): aws 100, azure 100, gcp 93, openwhisk 71" in text


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip("Debian package chromium is not installed (run .ci/setup)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
            capture_output=True, text=True, timeout=120, check=False,
        )


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


def test_the_console_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "control.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("control")</script></body></html>')
    result = _chromium("--dump-dom", page.as_uri())
    assert any("control" in line for line in _console(result.stderr)), result.stderr[-2000:]


@pytest.mark.parametrize("which", ["iot_site", "apigw-sqs-lambda-ddb"])
def test_html_renders_in_chromium(tmp_path: Path, which: str) -> None:
    from PIL import Image

    report = (report_app(load_app("examples/iot_site/app.py"), CLOUDS) if which == "iot_site"
              else report_template(TEMPLATES / f"{which}.yaml", CLOUDS))
    html = render_html(report)
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # no resource is fetched: links to provider pages are plain anchors, nothing else points out
    assert "<link" not in html and "@import" not in html and "<img" not in html and "url(" not in html
    assert html.count('<a href="https://') == html.count("https://")
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")

    dom = _chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('<svg xmlns="http://www.w3.org/2000/svg" class="layers"') == 4
    assert "Migration checklist" in dom.stdout
    assert _console(dom.stderr) == []

    shot = tmp_path / "report.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert _console(result.stderr) == []
    image = Image.open(shot).convert("RGB")
    native = tuple(int(COLOURS["native"][i:i + 2], 16) for i in (1, 3, 5))
    function_box = (0xDD, 0xE7, 0xF7)
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20) or []}
    # the first cloud's picture is in the first screen: its boxes' fills are drawn
    assert native in colours and function_box in colours


MERMAID = Path(__file__).with_name("mermaid")


def _parse_mermaid(files: list[Path]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (MERMAID / "node_modules" / "mermaid").is_dir():
        pytest.skip("Mermaid's parser is not installed (run .ci/setup)")
    result = subprocess.run([node, str(MERMAID / "parse.mjs"), *map(str, files)],
                            capture_output=True, text=True, timeout=120, check=True)
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_mermaid_parses_every_picture(tmp_path: Path, reports: list[Report]) -> None:
    files = []
    for n, report in enumerate(reports):
        files.append(tmp_path / f"{n}.md")
        files[-1].write_text(render_markdown(report))
    broken = tmp_path / "broken.md"  # the control: the parser does reject a broken picture
    broken.write_text("```mermaid\nflowchart LR\n  a[ -->\n```\n")
    parsed = _parse_mermaid([*files, broken])
    assert parsed["blocks"] == 4 * (len(reports) - 1) + len(reports[1].clouds) + 1
    assert len(parsed["errors"]) == 1 and parsed["errors"][0].startswith(str(broken))
