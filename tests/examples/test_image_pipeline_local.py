"""The image pipeline on the local runtime, as a user runs it: ``corefn run`` in a subprocess.

- the README's main command (minus the venv set-up), word for word;
- files already in the originals folder when the run starts, and a file dropped in while it runs;
- nothing loops: every sample is processed exactly once, writing outputs raises no new work, and
  a second run finds nothing to do; an output configured onto the watched bucket is refused.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.examples.conftest import PIPELINE_REF, ROOT, SAMPLES, check_outputs, photo

README_COMMAND = ".venv/bin/corefn run examples/image_pipeline/app.py:app --until-idle --seed originals=examples/image_pipeline/samples"
CORFN = str(Path(sys.executable).parent / "corefn")

GOOD = {
    "photo-srgb.jpg",
    "photo-exif-rotated.jpg",
    "print-cmyk.jpg",
    "logo-transparent.png",
    "palette.png",
    "poster.webp",
    "animated.gif",
}
BAD = {"README.txt", "truncated.jpg", "empty.jpg", "bomb.png"}
#: sample → the output's key (a GIF's first frame becomes a PNG)
OUTPUT_KEY = {name: name.replace(".gif", ".png") for name in GOOD}


def env_for(state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COREFN_", "PIPELINE_"))}
    env.update(COREFN_STATE_DIR=str(state), COREFN_LOG_FORMAT="text", **extra)
    return env


def corefn(args: list[str], state: Path, timeout: float = 90, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CORFN, *args], cwd=ROOT, env=env_for(state, **extra), capture_output=True, text=True, timeout=timeout
    )


def objects(state: Path, bucket: str) -> set[str]:
    folder = state / "objects" / bucket
    return {
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and ".corefn-meta" not in p.parts
    }


def assert_all_samples_processed(state: Path, output: str) -> None:
    assert objects(state, "watermarked") == set(OUTPUT_KEY.values())
    assert objects(state, "thumbnails") == set(OUTPUT_KEY.values())
    assert objects(state, "rejected") == {f"{name}.json" for name in BAD}
    for bucket in ("watermarked", "thumbnails", "rejected"):  # the run says where the outputs are
        assert f"{(state / 'objects' / bucket).as_uri()}/" in output, f"no line points at the {bucket} folder"
    check_outputs(
        (SAMPLES / "photo-srgb.jpg").read_bytes(),
        (state / "objects" / "watermarked" / "photo-srgb.jpg").read_bytes(),
        (state / "objects" / "thumbnails" / "photo-srgb.jpg").read_bytes(),
        fmt="JPEG",
    )


def test_readme_main_command(tmp_path: Path) -> None:
    """The exact command of the README (its venv's corefn is this interpreter's)."""
    for readme in (ROOT / "README.md", ROOT / "examples" / "image_pipeline" / "README.md"):
        assert README_COMMAND in readme.read_text(), f"{readme.relative_to(ROOT)} no longer shows the tested command"
    args = shlex.split(README_COMMAND)[1:]
    state = tmp_path / "state"
    done = corefn(args, state)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert_all_samples_processed(state, output)
    assert objects(state, "originals") == GOOD | BAD  # seeded through the sink
    assert "Warning:" not in output, output  # no raw Python warning (Pillow's DecompressionBombWarning) beside ours
    for name in BAD:  # one line per rejection: the handler's own
        assert len([line for line in output.splitlines() if f"rejected {name} " in line]) == 1, output


def test_files_in_the_originals_folder_are_processed_once_and_nothing_loops(tmp_path: Path) -> None:
    state = tmp_path / "state"
    shutil.copytree(SAMPLES, state / "objects" / "originals")
    done = corefn(["run", PIPELINE_REF, "--until-idle"], state)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert_all_samples_processed(state, output)
    # one delivery per sample, none for the 18 objects the run wrote itself
    summary = output[output.index("summary:") :].splitlines()
    (row,) = [line.split() for line in summary if line.strip().startswith("make_renditions")]
    assert row[1:] == [str(len(GOOD | BAD)), "0", "0", "0"], summary
    assert output.count(" make_renditions originals/") == len(GOOD | BAD)

    again = corefn(["run", PIPELINE_REF, "--until-idle"], state)
    assert again.returncode == 0 and "nothing was delivered" in again.stdout, again.stdout + again.stderr


def test_a_file_dropped_in_while_running(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "objects" / "originals").mkdir(parents=True)
    proc = subprocess.Popen(
        [CORFN, "run", PIPELINE_REF], cwd=ROOT, env=env_for(state, PIPELINE_FORMAT="WEBP"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        _wait(lambda: (state / "runtime.lock").exists(), proc)
        original = photo()
        drop = state / "objects" / "originals" / "holiday" / "beach.jpg"
        drop.parent.mkdir()
        thumb = state / "objects" / "thumbnails" / "holiday" / "beach.webp"
        # Dropped once, as soon as the runtime holds its state: the watcher starts before the
        # start-up scan, so a file arriving at any moment is announced by one or the other.
        drop.write_bytes(original)
        _wait(thumb.exists, proc)
        _wait(lambda: (state / "objects" / "watermarked" / "holiday" / "beach.webp").exists(), proc)
        marked = (state / "objects" / "watermarked" / "holiday" / "beach.webp").read_bytes()
        check_outputs(original, marked, thumb.read_bytes(), fmt="WEBP")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert "holiday/beach.jpg" in out


def _wait(condition: Any, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(
                f"corefn run exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}"
            )
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_an_output_configured_onto_the_watched_bucket_is_refused(tmp_path: Path) -> None:
    """The loop guard: thumbnails written into originals would trigger the pipeline on each one.
    The upload is dead-lettered (a configuration error is retried, then parked), never looped."""
    state = tmp_path / "state"
    folder = state / "objects" / "originals"
    folder.mkdir(parents=True)
    (folder / "cat.jpg").write_bytes(photo((400, 300)))
    done = corefn(
        ["run", PIPELINE_REF, "--until-idle", "--max-attempts", "1"], state, COREFN_SINK_THUMBNAILS=folder.as_uri()
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # dead-lettered
    assert "would re-trigger the pipeline" in output
    assert objects(state, "originals") == {"cat.jpg"}


def test_the_app_module_imports_no_cloud_sdk() -> None:
    """The same module runs everywhere because it names no cloud: loading it (and declaring its
    sinks) imports no provider SDK; each cloud's backend loads its SDK on first use."""
    # what the interpreter loaded before (site-packages' .pth files pre-import namespace packages
    # such as ``google``) does not count: only what loading the app adds
    code = (
        "import sys; before = set(sys.modules); from corefn.loader import load_app; "
        "load_app('examples/image_pipeline/app.py:app'); "
        "sdks = ('boto3', 'botocore', 'azure', 'google', 'functions_framework', 'flask', 'ibmcloudant'); "
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in sdks))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
