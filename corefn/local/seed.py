"""``corefn run --seed BUCKET=DIR``: put a folder's files into an object store through its sink.

Going through the sink (not copying into the bucket's folder) means each upload raises its
storage event the way a real upload would, whatever backend the bucket is configured with. A key
already holding the same bytes (the sink's MD5 etag, S3's single-part rule) is skipped, so
running the same seeded command twice does not process the samples twice.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError, SinkNotFoundError

if TYPE_CHECKING:
    from corefn.app import App


def object_store(app: App, bucket: str) -> Any:
    """The app's declared sink ``bucket``, or the configured backend of an undeclared one."""
    if any(s.name == bucket and s.family == "object" for s in app.sinks):
        return app.sink(bucket)
    if any(s.name == bucket for s in app.sinks):
        raise ConfigurationError(f"--seed: {bucket!r} is not an object store of app {app.name!r}")
    from corefn.sinks import open_sink
    from corefn.specs import SinkSpec

    return open_sink(SinkSpec("object", bucket))


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def seed(app: App, bucket: str, folder: Path) -> str:
    """Upload; returns the line to print."""
    store = object_store(app, bucket)
    put = same = 0
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in key.split("/")):
            continue
        try:
            if store.info(key).etag == _md5(path):
                same += 1
                continue
        except SinkNotFoundError:
            pass
        with path.open("rb") as data:
            store.put(key, data)
        put += 1
    return f"seeded {bucket} from {folder}: {put} uploaded" + (f", {same} already there" if same else "")
