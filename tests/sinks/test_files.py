"""The local folder object store against the object contract, plus what only it promises."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from corefn.errors import ConfigurationError
from corefn.events.base import Event
from corefn.events.storage import StorageEvent
from corefn.sinks import notify
from corefn.sinks.files import FileStore, is_own_change, open_backend
from tests.sinks.contract import MiB, ObjectStoreContract, make_spec


class TestFileStore(ObjectStoreContract):
    stream_size = 64 * MiB
    stream_peak_limit = 8 * MiB

    @pytest.fixture
    def store(self, tmp_path: Path) -> FileStore:
        return open_backend(make_spec("object", "photos"), (tmp_path / "bucket").as_uri())


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return open_backend(make_spec("object", "photos"), (tmp_path / "bucket").as_uri())


@pytest.fixture
def events() -> Iterator[list[Event]]:
    seen: list[Event] = []
    unsubscribe = notify.subscribe(seen.append)
    yield seen
    unsubscribe()


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../../escape", "/etc/passwd", "a\\b", "nul\x00byte", "", "a//b", "./a", "a/.", "dir/", ".corefn-meta/meta/x.json", "x" * 1025],
)
def test_keys_that_would_escape_or_alias_are_rejected(store: FileStore, key: str, tmp_path: Path) -> None:
    for call in (lambda: store.put(key, b"x"), lambda: store.get(key), lambda: store.delete(key), lambda: store.exists(key)):
        with pytest.raises(ConfigurationError):
            call()
    assert not (tmp_path / "escape").exists()


def test_symlinked_folder_leading_outside_is_rejected(store: FileStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "link").symlink_to(outside)
    with pytest.raises(ConfigurationError, match="outside"):
        store.put("link/x", b"x")
    assert list(outside.iterdir()) == []
    (outside / "secret").write_bytes(b"s")
    (store.root / "inside").mkdir()
    (store.root / "alias").symlink_to(store.root / "inside")
    (store.root / "inside" / "ok").write_bytes(b"k")
    assert [o.key for o in store.list()] == ["alias/ok", "inside/ok"]
    with pytest.raises(ConfigurationError):
        store.get("link/secret")


def test_key_that_is_both_object_and_prefix_is_a_clear_error(store: FileStore) -> None:
    store.put("a", b"1")
    with pytest.raises(ConfigurationError, match="prefix"):
        store.put("a/b", b"2")


def test_put_and_delete_emit_storage_events(store: FileStore, events: list[Event]) -> None:
    store.put("in/cat.jpg", b"meow", metadata={"k": "v"})
    store.delete("in/cat.jpg")
    store.delete("in/cat.jpg")  # nothing left to delete: no event
    assert [type(e) for e in events] == [StorageEvent, StorageEvent]
    created, deleted = events
    assert isinstance(created, StorageEvent) and isinstance(deleted, StorageEvent)
    assert (created.bucket, created.key, created.operation, created.size, created.content_type) == ("photos", "in/cat.jpg", "created", 4, "image/jpeg")
    assert created.etag == hashlib.md5(b"meow").hexdigest()
    assert created.time is not None and created.time.tzinfo is not None
    assert (deleted.key, deleted.operation, deleted.size) == ("in/cat.jpg", "deleted", 4)
    assert created.to_dict()["time"].endswith("Z")


def test_sidecar_lives_under_corefn_meta_and_is_never_listed(store: FileStore) -> None:
    store.put("a/b.txt", b"x", content_type="text/plain", metadata={"m": "1"})
    sidecar = store.root / ".corefn-meta" / "meta" / "a" / "b.txt.json"
    assert json.loads(sidecar.read_text())["metadata"] == {"m": "1"}
    assert [o.key for o in store.list()] == ["a/b.txt"]
    assert list((store.root / ".corefn-meta" / "tmp").iterdir()) == []  # temp files renamed away
    store.delete("a/b.txt")
    assert not (store.root / "a").exists() and not sidecar.exists()


def test_file_replaced_by_hand_loses_stale_metadata(store: FileStore) -> None:
    store.put("doc.txt", b"corefn wrote this", content_type="text/markdown", metadata={"owner": "app"})
    path = store.root / "doc.txt"
    replacement = store.root / "new.tmp"
    replacement.write_bytes(b"a person dropped this in")
    os.replace(replacement, path)
    info = store.info("doc.txt")
    assert (info.size, info.content_type, dict(info.metadata), info.etag) == (24, "text/plain", {}, None)


def test_files_dropped_in_by_hand_are_objects(store: FileStore) -> None:
    (store.root / "dropped").mkdir()
    (store.root / "dropped" / "photo.png").write_bytes(b"\x89PNG")
    assert store.get("dropped/photo.png") == b"\x89PNG"
    assert [(o.key, o.content_type) for o in store.list()] == [("dropped/photo.png", "image/png")]


def test_list_order_is_s3_order_across_folders(store: FileStore) -> None:
    for key in ("a/1", "a-b", "a.c", "ab", "a"):
        if key != "a":
            store.put(key, b"x")
    assert [o.key for o in store.list()] == sorted(["a/1", "a-b", "a.c", "ab"])
    assert [o.key for o in store.list("a/")] == ["a/1"]


def test_readers_never_see_half_an_object(store: FileStore) -> None:
    size = 2 * MiB
    versions = [b"a" * size, b"b" * size]
    store.put("hot", versions[0])
    stop = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not stop.is_set():
            data = store.get("hot")
            seen.add(data[:1] + data[-1:] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(40):
        store.put("hot", versions[i % 2])
    stop.set()
    reader.join()
    assert seen <= {b"aa" + str(size).encode(), b"bb" + str(size).encode()}


def test_own_changes_are_reported_once_to_a_watcher(store: FileStore) -> None:
    path = store.root / "w.txt"
    store.put("w.txt", b"1")
    assert is_own_change(path, "created") is True
    assert is_own_change(path, "created") is False  # a second file system event is someone else's
    store.delete("w.txt")
    assert is_own_change(str(path), "deleted") is True
    store.delete("w.txt")
    assert is_own_change(path, "deleted") is False


def test_url_is_a_file_url(store: FileStore) -> None:
    store.put("a b.txt", b"x")
    assert store.url("a b.txt") == (store.root / "a b.txt").as_uri()
    assert store.url("a b.txt").startswith("file:///") and "%20" in store.url("a b.txt")


def test_default_local_sink_via_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn import App

    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("COREFN_SINK_ORIGINALS", raising=False)
    app = App("demo")
    originals = app.object_store("originals")
    originals.put("x.txt", b"hello")
    assert (tmp_path / "state" / "objects" / "originals" / "x.txt").read_bytes() == b"hello"
    monkeypatch.setenv("COREFN_SINK_OTHER", (tmp_path / "elsewhere").as_uri())
    app.object_store("other").put("y", b"1")
    assert (tmp_path / "elsewhere" / "y").read_bytes() == b"1"
