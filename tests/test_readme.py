"""The README's first example is real code: run it on the local backends, through the same
dispatcher the clouds use."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from corefn import App, Context, HttpRequest, StorageEvent
from corefn.dispatch import dispatch

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_example_makes_and_serves_a_thumbnail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    source = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert source is not None
    namespace: dict[str, object] = {}
    exec(compile(source.group(1), "README.md", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, App)

    photo = BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(photo, "JPEG")
    app.sink("originals").put("cat.jpg", photo.getvalue())
    result = dispatch(app, [StorageEvent(bucket="originals", key="cat.jpg", operation="created")], Context(app=app))
    assert result.ok and not result.outcomes[0].skipped

    answer = dispatch(app, [HttpRequest(method="GET", path="/thumbnails/cat.jpg")], Context(app=app)).response
    assert answer is not None and answer.status == 200 and answer.content_type == "image/jpeg"
    assert Image.open(BytesIO(answer.body)).size == (320, 213)
