"""``file://`` — an object store in a folder on disk: the local default for object sinks.

URL: ``file:///absolute/folder`` (or ``file://relative/folder``, resolved against the working
directory). Each key is a file under the folder (``photos/a.jpg`` → ``<folder>/photos/a.jpg``), so
a user can drop a file in by hand and the local runtime's watcher raises a storage event for it.

Where things live inside the folder:

- ``<folder>/.corefn-meta/`` is corefn's; **the folder watcher must ignore it**. It holds
  ``meta/<key>.json`` (content type, user metadata, MD5 etag, and the data file's inode, size and
  mtime, so that metadata of a file later replaced by hand is not reported for the new content)
  and ``tmp/`` (writes in progress).
- Every write goes to ``tmp/`` first and is renamed into place (atomic on POSIX and Windows), so
  a reader or a watcher never sees half an object; metadata is renamed in *before* the data, so a
  watcher that sees the data file can read its metadata.

Keys that could leave the folder or that a file system cannot hold are rejected (see
:mod:`corefn.sinks._keys`); a key may not be both an object and a prefix (``a`` and ``a/b``), a
limit S3 does not have. ``list`` walks the folder lazily in S3's key order (UTF-8 byte order).
``url()`` is a ``file://`` URL (``expires`` and ``method`` have no meaning locally). After each
successful ``put`` / ``delete`` a :class:`~corefn.events.storage.StorageEvent` goes to
:func:`corefn.sinks.notify.emit` with the sink's logical name as ``bucket``.

For a folder watcher (the local runtime): a ``put`` shows up as a *move* from
``.corefn-meta/tmp/put-*`` to the object's path (treat it as created), and since the sink has
already emitted its own event, :func:`is_own_change` tells the watcher which file system events
this process caused (so it raises each storage event once); writes by other programs are not
in that ledger and must be raised by the watcher.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import unquote

from corefn.errors import ConfigurationError
from corefn.events.storage import StorageEvent
from corefn.sinks import notify
from corefn.sinks._errors import wrap_os
from corefn.sinks._keys import META_DIR, check_key, check_metadata
from corefn.sinks.base import ObjectInfo, Permission
from corefn.specs import SinkSpec

CHUNK = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"
OWN_CHANGE_SECONDS = 60.0

#: (path, operation) → times this process changed it through a FileStore, newest last
_own_changes: dict[tuple[str, str], list[float]] = {}
_own_lock = threading.Lock()


def _record_own_change(path: Path, operation: str) -> None:
    now = time.monotonic()
    with _own_lock:
        _own_changes.setdefault((str(path), operation), []).append(now)
        if len(_own_changes) > 1000:  # nobody is consuming: forget what is old
            for key in [k for k, times in _own_changes.items() if times[-1] < now - OWN_CHANGE_SECONDS]:
                del _own_changes[key]


def is_own_change(path: str | os.PathLike[str], operation: str) -> bool:
    """Whether this process just ``created`` / ``deleted`` the file at ``path`` through a file
    sink (which already emitted the storage event). Each recorded change answers True once."""
    key = (os.path.realpath(path), operation)
    now = time.monotonic()
    with _own_lock:
        times = _own_changes.get(key)
        while times and times[0] < now - OWN_CHANGE_SECONDS:
            times.pop(0)
        if not times:
            _own_changes.pop(key, None)
            return False
        times.pop(0)
        return True


def folder_of(url: str) -> Path:
    """The folder a ``file://`` URL names (``file://localhost/x`` is ``/x``, as RFC 8089 says)."""
    rest = url.partition("://")[2]
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    if not rest:
        raise ConfigurationError(f"sink URL {url!r} names no folder (e.g. file:///data/thumbnails)")
    return Path(unquote(rest)).absolute()


def guess_type(key: str) -> str:
    return mimetypes.guess_type(key, strict=False)[0] or DEFAULT_CONTENT_TYPE


def _now() -> datetime:
    return datetime.now(UTC)


class FileStore:
    """An :class:`~corefn.sinks.base.ObjectStore` in a local folder. Thread-safe."""

    families: ClassVar[tuple[str, ...]] = ("object",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.root = folder_of(url)
        self._meta = self.root / META_DIR / "meta"
        self._tmp = self.root / META_DIR / "tmp"
        self._lock = threading.Lock()
        try:
            self._tmp.mkdir(parents=True, exist_ok=True)
            self._meta.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise wrap_os(self.name, "", exc) from exc
        self._real_root = self.root.resolve()

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """Local folders need no cloud grant; the path is reported so a reader sees what is used."""
        return [Permission("local", ("read", "write"), folder_of(url).as_posix())]

    # ------------------------------------------------------------------ paths

    def path(self, key: str) -> Path:
        """The data file of ``key``; refuses keys (and symlinked folders) leading outside."""
        path = self.root.joinpath(*check_key(key, self.name).split("/"))
        if not path.parent.resolve().is_relative_to(self._real_root):
            raise ConfigurationError(f"sink {self.name!r}: key {key!r} leads outside {self.root} (symlink)")
        return path

    def meta_path(self, key: str) -> Path:
        return self._meta.joinpath(*key.split("/")).with_name(key.rsplit("/", 1)[-1] + ".json")

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except OSError as exc:
            raise wrap_os(self.name, key, exc) from exc

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.path(key).open("rb")
        except OSError as exc:
            raise wrap_os(self.name, key, exc) from exc

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def info(self, key: str) -> ObjectInfo:
        path = self.path(key)
        try:
            stat = path.stat()
        except OSError as exc:
            raise wrap_os(self.name, key, exc) from exc
        if not path.is_file():
            raise wrap_os(self.name, key, FileNotFoundError(2, "not a file", str(path)))
        return self._info(key, stat)

    def _info(self, key: str, stat: os.stat_result) -> ObjectInfo:
        meta = self._read_meta(key, stat)
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=meta.get("etag"),
            content_type=meta.get("content_type") or guess_type(key),
            modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            metadata=dict(meta.get("metadata") or {}),
        )

    def _read_meta(self, key: str, stat: os.stat_result) -> dict[str, Any]:
        """The sidecar, if it still describes this very file (else the file was replaced by hand)."""
        try:
            meta: dict[str, Any] = json.loads(self.meta_path(key).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if meta.get("file") != [stat.st_ino, stat.st_size, stat.st_mtime_ns]:
            return {}
        return meta

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return self._walk(self.root, "", prefix)

    def _walk(self, folder: Path, above: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise wrap_os(self.name, above, exc) from exc
        # S3 order: a folder's keys all start with "name/", so sort folders as "name/"
        order = sorted(((e.name + "/" if e.is_dir() else e.name), e) for e in entries if e.name != META_DIR or above)
        for name, entry in order:
            key = above + name
            if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(self._real_root):
                continue  # get() would refuse it too
            if entry.is_dir():
                if prefix.startswith(key) or key.startswith(prefix):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif entry.is_file() and key.startswith(prefix):
                yield self._info(key, entry.stat())

    def url(self, key: str, *, expires: int = 3600, method: str = "GET") -> str:
        return self.path(key).as_uri()

    # ------------------------------------------------------------------ writing

    def put(
        self,
        key: str,
        data: bytes | IO[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        path = self.path(key)
        metadata = check_metadata(metadata, self.name)
        content_type = content_type or guess_type(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp, etag = self._write_temp(data)
        except OSError as exc:
            raise wrap_os(self.name, key, exc) from exc
        try:
            stat = temp.stat()
            meta = {
                "content_type": content_type,
                "metadata": metadata,
                "etag": etag,
                "file": [stat.st_ino, stat.st_size, stat.st_mtime_ns],
            }
            meta_temp, _ = self._write_temp(json.dumps(meta).encode())
            meta_path = self.meta_path(key)
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:  # metadata first: whoever sees the data file can read its metadata
                os.replace(meta_temp, meta_path)
                _record_own_change(self._real_root.joinpath(*key.split("/")), "created")
                os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise wrap_os(self.name, key, exc) from exc
        info = ObjectInfo(key, stat.st_size, etag, content_type, datetime.fromtimestamp(stat.st_mtime, UTC), dict(metadata or {}))
        notify.emit(
            StorageEvent(bucket=self.name, key=key, operation="created", size=info.size, time=_now(), etag=etag, content_type=content_type)
        )
        return info

    def _write_temp(self, data: bytes | bytearray | memoryview | str | IO[bytes]) -> tuple[Path, str]:
        """Copy ``data`` into a new temp file in chunks; returns its path and MD5 (S3's etag for
        single-part uploads)."""
        if isinstance(data, str):
            data = data.encode()
        digest = hashlib.md5(usedforsecurity=False)
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    digest.update(data)
                    out.write(data)
                else:
                    while chunk := data.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name), digest.hexdigest()

    def delete(self, key: str) -> None:
        path = self.path(key)
        try:
            with self._lock:
                size = path.stat().st_size if path.is_file() else None
                if size is not None:
                    _record_own_change(self._real_root.joinpath(*key.split("/")), "deleted")
                path.unlink()
                self.meta_path(key).unlink(missing_ok=True)
        except FileNotFoundError:
            return  # deleting what is gone is not an error (S3's rule)
        except OSError as exc:
            raise wrap_os(self.name, key, exc) from exc
        self._prune(path.parent, self.root)
        self._prune(self.meta_path(key).parent, self._meta)
        notify.emit(StorageEvent(bucket=self.name, key=key, operation="deleted", size=size, time=_now()))

    @staticmethod
    def _prune(folder: Path, stop: Path) -> None:
        """Remove folders a delete left empty, as S3 has no folders to leave behind."""
        while folder != stop and folder.is_relative_to(stop):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def clear(self) -> None:
        """Delete every object without events (tests, ``corefn run --reset``)."""
        shutil.rmtree(self.root, ignore_errors=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._meta.mkdir(parents=True, exist_ok=True)


def open_backend(spec: SinkSpec, url: str) -> FileStore:
    return FileStore(spec, url)
