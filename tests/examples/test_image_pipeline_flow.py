"""The image pipeline as a flow (examples/image_pipeline/flow.py), end to end under ``corefn run``
on the bundled samples: every good sample is validated, watermarked and thumbnailed in parallel,
indexed in the ``uploads`` table and announced on the ``processed`` topic; every bad one ends in
``rejected`` with its reason, the truncated JPEG only after its retries. A second run finds
nothing to do."""

from __future__ import annotations

import json
import shlex
import sqlite3
from pathlib import Path

from tests.examples.conftest import SAMPLES, check_outputs
from tests.examples.test_image_pipeline_local import BAD, GOOD, OUTPUT_KEY, corefn, objects

COMMAND = ".venv/bin/corefn run examples/image_pipeline/flow.py:app --until-idle --seed originals=examples/image_pipeline/samples"
REASONS = {"README.txt": "not-an-image", "empty.jpg": "empty", "bomb.png": "too-large", "truncated.jpg": "truncated"}


def test_the_flow_example_end_to_end(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = corefn(shlex.split(COMMAND)[1:], state)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output

    assert objects(state, "watermarked") == set(OUTPUT_KEY.values())
    assert objects(state, "thumbnails") == set(OUTPUT_KEY.values())
    assert objects(state, "rejected") == {f"{name}.json" for name in BAD}
    for name, reason in REASONS.items():
        assert json.loads((state / "objects" / "rejected" / f"{name}.json").read_text())["reason"] == reason
    check_outputs(
        (SAMPLES / "photo-srgb.jpg").read_bytes(),
        (state / "objects" / "watermarked" / "photo-srgb.jpg").read_bytes(),
        (state / "objects" / "thumbnails" / "photo-srgb.jpg").read_bytes(),
        fmt="JPEG",
    )

    with sqlite3.connect(state / "tables.db") as db:
        rows = [json.loads(item) for (item,) in db.execute("SELECT item FROM uploads")]
    assert {row["key"] for row in rows} == GOOD
    srgb = next(row for row in rows if row["key"] == "photo-srgb.jpg")
    assert (srgb["width"], srgb["height"]) == (1200, 800) and srgb["thumbnail"] == "photo-srgb.jpg"
    assert output.count("ok    announce topic processed") == len(GOOD)  # the topic's subscriber, once per image

    with sqlite3.connect(state / "flows.db") as db:
        runs = db.execute("SELECT id, status, output FROM flow_runs").fetchall()
        assert len(runs) == len(GOOD | BAD) and {status for _, status, _ in runs} == {"succeeded"}
        outcomes = {json.loads(out)["key"]: json.loads(out)["outcome"] for _, _, out in runs}
        assert outcomes == {**dict.fromkeys(GOOD, "done"), **dict.fromkeys(BAD, "rejected")}
        truncated = next(run for run, _, out in runs if json.loads(out)["key"] == "truncated.jpg")
        steps = dict(db.execute("SELECT name, attempt FROM flow_steps WHERE run=? AND kind='task'", (truncated,)).fetchall())
    assert (steps.pop("validate"), steps.pop("reject-unreadable")) == (1, 1)
    # retried, then caught: the first branch to run out of attempts fails the parallel step (as on Step
    # Functions); the other branch, retrying on the same schedule, is then at its second or third attempt
    assert sorted(steps.values()) in ([2, 3], [3, 3])

    again = corefn(shlex.split(COMMAND)[1:], state)
    assert again.returncode == 0 and "process-upload#" not in again.stdout  # nothing new: no run starts twice


def test_the_readmes_show_the_tested_command() -> None:
    root = Path(__file__).resolve().parents[2]
    for readme in (root / "README.md", root / "examples" / "image_pipeline" / "README.md", root / "examples" / "image_pipeline" / "flow.py"):
        assert COMMAND.replace(".venv/bin/", "") in readme.read_text(), f"{readme.name} no longer shows the tested command"
