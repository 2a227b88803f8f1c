"""The local HTTP server, through a real ``corefn run`` process and real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.local.conftest import API_KEY, Local


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Local, str]]:
    root = tmp_path_factory.mktemp("http")
    (root / "out").mkdir()
    here = Local(root)
    _, base = here.serve("--timeout", "1", "--max-body-size", "1000")
    yield here, base
    here.stop_all()


def test_routes_answer(server: tuple[Local, str]) -> None:
    _, base = server
    assert httpx.get(f"{base}/hello", params={"name": "seoul"}).json() == {"hello": "seoul"}
    echoed = httpx.post(f"{base}/echo", content=b"\x00\xffbinary")
    assert echoed.status_code == 200 and echoed.content == b"\x00\xffbinary"
    assert httpx.get(f"{base}/async/ada").json() == {"hi": "ada"}


def test_unknown_path_is_404_and_wrong_method_405(server: tuple[Local, str]) -> None:
    _, base = server
    missing = httpx.get(f"{base}/nope")
    assert missing.status_code == 404 and missing.json()["path"] == "/nope"
    wrong = httpx.delete(f"{base}/hello")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]


def test_body_over_the_limit_is_413(server: tuple[Local, str]) -> None:
    _, base = server
    assert httpx.post(f"{base}/echo", content=b"x" * 1000).status_code == 200
    assert httpx.post(f"{base}/echo", content=b"x" * 1001).status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: the limit holds while streaming
        for _ in range(5):
            yield b"y" * 300

    assert httpx.post(f"{base}/echo", content=chunks()).status_code == 413


def test_api_key_is_checked(server: tuple[Local, str]) -> None:
    _, base = server
    assert httpx.get(f"{base}/secret").status_code == 401
    assert httpx.get(f"{base}/secret", headers={"x-api-key": "wrong"}).status_code == 401
    ok = httpx.get(f"{base}/secret", headers={"x-api-key": API_KEY})
    assert ok.status_code == 200 and ok.text == "the secret"


def test_slow_handler_gets_504_after_the_timeout(server: tuple[Local, str]) -> None:
    _, base = server
    started = time.monotonic()
    response = httpx.get(f"{base}/slow", params={"s": "3"}, timeout=10)
    assert response.status_code == 504
    assert 0.9 < time.monotonic() - started < 2.9  # before the handler itself ends (3 s)
    assert httpx.get(f"{base}/slow", params={"s": "0.1"}).text == "late"  # the server still serves


def test_binds_loopback_by_default(server: tuple[Local, str]) -> None:
    _, base = server
    assert base.startswith("http://127.0.0.1:")
    from corefn.local.settings import Settings

    assert Settings(state=Path(".")).host == "127.0.0.1"
