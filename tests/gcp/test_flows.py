"""The Cloud Workflows side of flows: every compiled construct validates against SchemaStore's
Workflows schema extended for the syntax it lacks (tests/gcp/schemas/README.md), the extension
still rejects bad steps, and the ``gcloud workflows deploy`` command the GCP script runs passes
gcloud's own argument parser offline (with a fresh gcloud config, gcloud parses the command and
its flags, then stops at the missing account: that error means everything before it was
accepted)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from corefn_gcp.flows import definition, deploy_command, to_yaml, workflow_name
from tests.flows.compile_app import CASES, app

SCHEMAS = Path(__file__).parent / "schemas"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "image_pipeline"


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def _patched(document: Any, patch: list[dict[str, Any]]) -> Any:
    """RFC 6902 ``add`` / ``replace`` / ``move`` (all the extension uses)."""
    out = copy.deepcopy(document)
    for op in patch:
        if op["op"] == "move":
            *head, last = _pointer(op["from"])
            parent = out
            for part in head:
                parent = parent[part]
            value = parent.pop(last)
        else:
            value = copy.deepcopy(op["value"])
        *head, last = _pointer(op["path"])
        parent = out
        for part in head:
            parent = parent[part]
        if op["op"] == "replace":
            assert last in parent, f"replace of a missing {op['path']}"
        parent[last] = value
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = _patched(json.loads((SCHEMAS / "workflows.json").read_text()), json.loads((SCHEMAS / "workflows-extension.json").read_text()))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_construct_validates_against_the_extended_schema(case: str, validator: jsonschema.Draft7Validator) -> None:
    text = to_yaml(definition(app.get_flow(case), app))
    document = yaml.safe_load(text)
    assert document == json.loads(json.dumps(definition(app.get_flow(case), app))), "the YAML reads back as the definition"
    assert _errors(validator, document) == []


def test_the_vendored_schema_alone_rejects_what_the_extension_adds() -> None:
    """Proof the extension is needed (and so, that it is what lets the output through)."""
    plain = jsonschema.Draft7Validator(json.loads((SCHEMAS / "workflows.json").read_text()))
    assert list(plain.iter_errors(definition(app.get_flow("parallel"), app)))


BAD_STEPS: dict[str, dict[str, Any]] = {
    "unknown keyword": {"oops": {"calll": "http.post"}},
    "for without in or range": {"loop": {"for": {"value": "v", "steps": [{"s": {"return": 1}}]}}},
    "parallel with branches and for": {"p": {"parallel": {"branches": [{"b": {"steps": [{"s": {"return": 1}}]}}],
                                                          "for": {"value": "v", "in": [1], "steps": [{"s": {"return": 1}}]}}}},
    "misspelt http.post argument": {"c": {"call": "http.post", "args": {"urll": "https://example.com"}}},
    "empty nested steps": {"n": {"steps": []}},
}


@pytest.mark.parametrize("bad", sorted(BAD_STEPS))
def test_the_extension_still_rejects_a_bad_step(bad: str, validator: jsonschema.Draft7Validator) -> None:
    document = {"main": {"params": ["input"], "steps": [{"ok": {"assign": [{"x": 1}]}}, BAD_STEPS[bad]]}}
    assert _errors(validator, document), f"{bad} was accepted"


def test_example_flow_deploy_command_passes_gclouds_parser(tmp_path: Path) -> None:
    """The image pipeline's flow, written and deployed as the GCP script does it."""
    gcloud = shutil.which("gcloud")
    assert gcloud, "the gcloud CLI is needed (preinstalled on this machine kind; see .ci/setup)"
    import sys

    sys.path.insert(0, str(EXAMPLE))
    try:
        import flow as example
    finally:
        sys.path.remove(str(EXAMPLE))
    spec = example.app.get_flow("process-upload")
    source = f"workflows/{workflow_name(example.app.name, spec)}.yaml"
    (tmp_path / "workflows").mkdir()
    (tmp_path / source).write_text(to_yaml(definition(spec, example.app)))
    command = deploy_command(example.app.name, spec, source)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud-config"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
        "CLOUDSDK_CORE_PROJECT": "corefn-test",
        "REGION": "us-central1",
        "INVOKER_SA": "corefn-invoker@corefn-test.iam.gserviceaccount.com",
    }
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "active account" in done.stderr, done.stderr
    broken = subprocess.run(["bash", "-c", command + " --no-such-flag"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "unrecognized arguments" in broken.stderr, "gcloud did not parse the command (a bad flag went unnoticed)"


def _assigned(steps: list[dict[str, Any]], outside_parallel: bool = True) -> tuple[set[str], list[tuple[set[str], set[str]]]]:
    """Variables the steps assign outside any parallel step, and for each parallel branch (or
    loop) what it assigns and which variables it shares."""
    names: set[str] = set()
    branches: list[tuple[set[str], set[str]]] = []
    for item in steps:
        (body,) = item.values()
        for assignment in body.get("assign", ()):
            names |= {key.split("[")[0].split(".")[0] for key in assignment}
        names |= {body[k] for k in ("result",) if k in body}
        for nested in (body.get("steps"), (body.get("try") or {}).get("steps"), (body.get("except") or {}).get("steps")):
            if nested:
                inner, more = _assigned(nested)
                names |= inner
                branches += more
        if isinstance(body.get("except"), dict) and "as" in body["except"]:
            names.add(body["except"]["as"])
        for case in body.get("switch", ()):
            if "steps" in case:
                inner, more = _assigned(case["steps"])
                names |= inner
                branches += more
        if "parallel" in body:
            shared = set(body["parallel"].get("shared", ()))
            loop = body["parallel"].get("for")
            for branch in body["parallel"].get("branches", ()) if not loop else [{"loop": loop}]:
                (inner_steps,) = [b["steps"] for b in branch.values()]
                inner, more = _assigned(inner_steps)
                branches.append((inner | ({loop["value"], loop.get("index", "")} if loop else set()), shared))
                branches += more
    return names, branches


@pytest.mark.parametrize("case", [*sorted(CASES), "example"])
def test_parallel_branches_assign_only_their_own_or_shared_variables(case: str) -> None:
    """Workflows refuses to deploy a branch that assigns a variable of its parent scope that is
    not ``shared`` (https://cloud.google.com/workflows/docs/reference/syntax/parallel-steps)."""
    if case == "example":
        import sys

        sys.path.insert(0, str(EXAMPLE))
        try:
            import flow as example
        finally:
            sys.path.remove(str(EXAMPLE))
        document = definition(example.pipeline, example.app)
    else:
        document = definition(app.get_flow(case), app)
    outside, branches = _assigned(document["main"]["steps"])
    for inside, shared in branches:
        assert not (inside & outside) - shared, f"a branch assigns {sorted((inside & outside) - shared)} of its parent scope"


def test_the_branch_check_sees_a_parent_variable() -> None:
    parent = [{"a": {"assign": [{"x": 1}]}}, {"p": {"parallel": {"branches": [{"b": {"steps": [{"s": {"assign": [{"x": 2}]}}]}}]}}}]
    outside, branches = _assigned(parent)
    assert branches and branches[0][0] & outside == {"x"}
