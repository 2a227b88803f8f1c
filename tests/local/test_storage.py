"""Storage events from the object sink and from files dropped into a bucket's folder, NoSQL
changes from the table sink, and ``--until-idle`` backfills."""

from __future__ import annotations

import os
import time

import httpx

from tests.local.conftest import Local


def test_file_dropped_into_the_folder_runs_the_handler_once(local: Local) -> None:
    proc, base = local.serve()
    folder = local.state / "objects" / "originals"
    assert folder.is_dir()  # created at start so a user can drop files in
    (folder / "cat.jpg").write_bytes(b"\xff\xd8 fake jpeg")
    (folder / "notes.txt").write_bytes(b"not an image")  # filtered out by suffix=".jpg"
    (folder / ".hidden.jpg").write_bytes(b"ignored")  # dot files are ignored
    local.wait_for(lambda: local.records("on_image") != [])
    time.sleep(1.0)  # no second delivery arrives later
    assert local.records("on_image") == [{"key": "cat.jpg", "size": 12, "operation": "created"}]


def test_write_through_the_sink_runs_the_handler_once_not_twice(local: Local) -> None:
    proc, base = local.serve()
    for name in ("a.jpg", "b.jpg"):
        assert httpx.post(f"{base}/upload/{name}", content=b"12345").json() == {"key": name, "size": 5}
    local.wait_for(lambda: len(local.records("on_image")) >= 2)
    time.sleep(1.0)  # the watcher has seen the same files by now
    assert sorted(r["key"] for r in local.records("on_image")) == ["a.jpg", "b.jpg"]


def test_until_idle_processes_files_already_there_and_a_rerun_does_not_redo_them(local: Local) -> None:
    folder = local.state / "objects" / "originals"
    (folder / "album").mkdir(parents=True)
    for i in range(3):
        (folder / "album" / f"p{i}.jpg").write_bytes(b"x" * i)
    status, out = local.until_idle()
    assert status == 0, out
    assert sorted(r["key"] for r in local.records("on_image")) == ["album/p0.jpg", "album/p1.jpg", "album/p2.jpg"]
    status, _ = local.until_idle()
    assert status == 0 and len(local.records("on_image")) == 3
    # a new version of one file is a new event (an overwrite), the others stay done
    path = folder / "album" / "p1.jpg"
    path.write_bytes(b"changed")
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    assert local.until_idle()[0] == 0
    assert [r["key"] for r in local.records("on_image")][3:] == ["album/p1.jpg"]


def test_table_writes_become_changes_in_order_per_key(local: Local) -> None:
    proc, base = local.serve()
    for t in range(4):
        assert httpx.put(f"{base}/devices/d1", json={"t": t}).status_code == 200
    local.wait_for(lambda: len(local.records("on_device")) >= 4)
    changes = local.records("on_device")
    assert [c["operation"] for c in changes] == ["insert", "modify", "modify", "modify"]
    assert [c["new"]["t"] for c in changes] == [0, 1, 2, 3]
    assert all(c["keys"] == {"id": "d1"} for c in changes)


def test_deletes_through_the_sink_and_by_hand_are_delivered_once_each(local: Local) -> None:
    proc, base = local.serve()
    assert httpx.post(f"{base}/upload/gone/a.jpg", content=b"1").status_code == 200
    local.wait_for(lambda: len(local.records("on_image")) == 1)
    assert httpx.delete(f"{base}/upload/gone/a.jpg").status_code == 204
    local.wait_for(lambda: len(local.records("on_removed")) == 1)
    by_hand = local.state / "objects" / "originals" / "gone" / "b.jpg"
    by_hand.parent.mkdir(parents=True, exist_ok=True)
    by_hand.write_bytes(b"2")
    local.wait_for(lambda: len(local.records("on_image")) == 2)
    by_hand.unlink()
    local.wait_for(lambda: len(local.records("on_removed")) == 2)
    time.sleep(0.8)
    assert local.records("on_removed") == [
        {"key": "gone/a.jpg", "operation": "deleted"},
        {"key": "gone/b.jpg", "operation": "deleted"},
    ]


def test_seed_uploads_through_the_sink_once(local: Local) -> None:
    samples = local.root / "samples"
    (samples / "sub").mkdir(parents=True)
    (samples / "one.jpg").write_bytes(b"1")
    (samples / "sub" / "two.jpg").write_bytes(b"22")
    (samples / ".DS_Store").write_bytes(b"junk")
    status, out = local.until_idle("--seed", f"originals={samples}")
    assert status == 0, out
    assert "2 uploaded" in out
    assert sorted(r["key"] for r in local.records("on_image")) == ["one.jpg", "sub/two.jpg"]
    assert (local.state / "objects" / "originals" / "sub" / "two.jpg").read_bytes() == b"22"
    status, out = local.until_idle("--seed", f"originals={samples}")  # same files: nothing to do
    assert status == 0 and "0 uploaded, 2 already there" in out
    assert len(local.records("on_image")) == 2
    status, out = local.until_idle("--seed", "originals")
    assert status == 2 and "BUCKET=DIR" in out
