"""The adapter registry: providers are found without corefn/ knowing them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from corefn import adapters
from corefn.adapters import parse
from corefn.errors import ConfigurationError, UnrecognizedPayloadError


def test_a_provider_is_discovered_through_its_entry_point(tmp_path: Path) -> None:
    """A package installed with a ``corefn.adapters`` entry point is found by name and used for
    detection, with no change in corefn/ (checked in a fresh interpreter)."""
    pkg = tmp_path / "corefn_acme"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('only reachable through the entry point')\n")
    (tmp_path / "acme_plugin.py").write_text(textwrap.dedent('''
        from corefn.events import InvokeEvent
        from corefn.kit import Failure, PayloadShape, Provider
        class Ping(PayloadShape):
            provider, name, kind, failure = "acme", "acme-ping", "invoke", Failure.RESULT
            @classmethod
            def matches(cls, raw): return isinstance(raw, dict) and "acme" in raw
            def to_events(self): return [InvokeEvent(payload=self.raw["acme"])]
            def to_response(self, result): return result.value()
        adapter = Provider("acme", (Ping,))
        class Old:  # an adapter class of before the kit: named, it says what to write instead
            name, shapes = "old", (Ping,)
        old = Old()
    '''))
    dist = tmp_path / "acme_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[corefn.adapters]\nacme = acme_plugin:adapter\nold = acme_plugin:old\n")
    code = textwrap.dedent(f'''
        import sys; sys.path.insert(0, {str(tmp_path)!r})
        from corefn.adapters import parse, get_adapter
        assert get_adapter("acme").name == "acme"
        parsed = parse({{"acme": 7}})
        print(parsed.cloud, parsed.shape_name, parsed.events[0].payload)
        try:
            get_adapter("old")
        except Exception as exc:
            print(type(exc).__name__, "Provider" in str(exc))
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["acme", "acme-ping", "7", "ConfigurationError", "True"]


def test_unknown_cloud_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown cloud 'nimbus'"):
        adapters.get_adapter("nimbus")


def test_arbitrary_json_is_never_guessed_to_be_an_invoke() -> None:
    with pytest.raises(UnrecognizedPayloadError):
        parse({"width": 100})
    assert parse({"width": 100}, cloud="demo").events[0].to_dict() == {"kind": "invoke", "payload": {"width": 100}}
    assert parse({"width": 100}, shape="invoke").shape_name == "invoke"


def test_warmup_pings_never_reach_user_code() -> None:
    from corefn import App
    from corefn.testing import call

    app = App("w")
    ran: list[object] = []
    app.invoke()(ran.append)
    assert call(app, {"corefn": "warmup"}, cloud="demo") == {"warmup": True}
    assert call(app, {"source": "serverless-plugin-warmup"}, cloud="demo") == {"warmup": True}
    assert ran == []
    assert call(app, {"size": 3}, cloud="demo") is None and len(ran) == 1


def test_naming_a_shape_skips_detection_but_still_validates() -> None:
    from corefn.errors import EventShapeError

    with pytest.raises(EventShapeError, match="'queue' is missing"):
        parse({"demo": "http"}, cloud="demo", shape="demo-queue")
    with pytest.raises(ConfigurationError, match="no shape 'nope'"):
        parse({}, cloud="demo", shape="nope")
