"""The local folder object store against the object contract, plus what only it promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from corefn.sinks.files import FileStore, open_backend
from tests.sinks.contract import MiB, ObjectStoreContract, make_spec


class TestFileStore(ObjectStoreContract):
    stream_size = 64 * MiB
    stream_peak_limit = 8 * MiB

    @pytest.fixture
    def store(self, tmp_path: Path) -> FileStore:
        return open_backend(make_spec("object", "photos"), (tmp_path / "bucket").as_uri())
