"""The checked-in deployments under ``deploy/<cloud>/<example>/`` are exactly what ``corefn deploy``
generates today: each example is regenerated for each cloud and compared file by file (content,
the executable bit of scripts, no file missing, no stale file left).

A generator change that alters the output fails here with the command that rewrites the
snapshot; review the diff (``git diff deploy/``) before committing it. The outputs must also be
reproducible anywhere: no absolute path of the machine that generated them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corefn.cli.deploy import generate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "image_pipeline": "examples/image_pipeline/app.py:app",
    "iot_site": "examples/iot_site/app.py:app",
}
#: every cloud with checked-in deployments (deploy/<cloud>/<example>/; deploy/locks/ is no cloud)
CLOUDS = sorted(p.name for p in (ROOT / "deploy").iterdir() if any((p / example).is_dir() for example in EXAMPLES))
#: the example with a flow: a whole deployment on every cloud that has its folder (each of them
#: deploys flows, corefn.flows.deploying; Knative deploys them too but needs a flow-state table the
#: example does not declare, so it has no folder)
FLOW_EXAMPLE = "image_pipeline_flow"
FLOW_REF = "examples/image_pipeline/flow.py:app"


def _flow_clouds() -> list[str]:
    return [c for c in CLOUDS if (ROOT / "deploy" / c / FLOW_EXAMPLE).is_dir()]


def test_every_checked_in_flow_folder_is_a_deployment() -> None:
    from corefn.adapters import get_adapter
    from corefn.flows.deploying import deploys_flows

    assert _flow_clouds() and all(deploys_flows(get_adapter(c)) for c in _flow_clouds())


CASES = [(example, cloud) for example in sorted(EXAMPLES) for cloud in CLOUDS] + [(FLOW_EXAMPLE, c) for c in _flow_clouds()]
EXAMPLES[FLOW_EXAMPLE] = FLOW_REF


def regenerate_command(example: str, cloud: str) -> str:
    return f"corefn deploy {EXAMPLES[example]} --cloud {cloud} --no-bundle --out 'deploy/{{cloud}}/{example}'  (from the repository root)"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("example", "cloud"), CASES)
def test_checked_in_deployment_is_what_corefn_deploy_writes(
    example: str, cloud: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the app reference is relative to the repository root, as in the command
    for name in [n for n in os.environ if n.startswith(("COREFN_", "PIPELINE_", "IOT_"))]:
        monkeypatch.delenv(name)
    generated = {
        rel: content.encode() if isinstance(content, str) else content
        for rel, content in generate(EXAMPLES[example], cloud).items()
    }
    folder = ROOT / "deploy" / cloud / example
    fix = f"regenerate with: {regenerate_command(example, cloud)}"
    assert folder.is_dir(), f"deploy/{cloud}/{example}/ is missing; {fix}"
    on_disk = snapshot(folder)
    missing, stale = sorted(set(generated) - set(on_disk)), sorted(set(on_disk) - set(generated))
    assert not missing and not stale, f"files differ (missing {missing}, stale {stale}); {fix}"
    changed = [rel for rel in sorted(generated) if generated[rel] != on_disk[rel]]
    assert not changed, f"{len(changed)} file(s) differ from the generator's output: {changed}; {fix}"
    not_executable = [rel for rel in generated if rel.endswith(".sh") and not os.access(folder / rel, os.X_OK)]
    assert not not_executable, f"scripts lost their executable bit: {not_executable}; {fix}"


@pytest.mark.parametrize(("example", "cloud"), CASES)
def test_generated_files_name_no_path_of_this_machine(example: str, cloud: str) -> None:
    folder = ROOT / "deploy" / cloud / example
    if not folder.is_dir():
        pytest.skip("no snapshot yet (the other test says how to make it)")
    machine = {str(ROOT), str(Path.home()), "/tmp/", os.environ.get("VIRTUAL_ENV") or str(ROOT / ".venv")}
    for rel, content in snapshot(folder).items():
        text = content.decode("utf-8", "replace")
        found = [m for m in machine if m and m in text]
        assert not found, (
            f"deploy/{cloud}/{example}/{rel} contains {found}: generated files must not depend on the machine"
        )
