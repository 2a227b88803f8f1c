"""The adapter kit (:mod:`corefn.kit`): the public surface adapters are written against.

- no adapter module reaches into a private corefn sink module (they import :mod:`corefn.kit.sinks`);
- every shape built on :class:`~corefn.kit.PayloadShape` answers a failed handler the way its
  declared :class:`~corefn.kit.Failure` says, checked on every payload fixture of every cloud
  (tests/events/<cloud>/): a declaration that lied would let a failed message be dropped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from corefn import App
from corefn.adapters import parse
from corefn.dispatch import DispatchResult, Outcome
from corefn.events import HttpRequest
from corefn.kit import Failure, PayloadShape
from corefn.testing import call, load_payload, payload_files

ROOT = Path(__file__).parents[2]
EVENTS = ROOT / "tests" / "events"
ADAPTER_MODULES = sorted((ROOT / "adapters").glob("*/*/**/*.py"))
#: still read by the Azure and GCP generators, which another change is rewriting: they should
#: read ``corefn.__version__``, the public name
TOLERATED = {"corefn._version"}


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("corefn."):
            if any(part.startswith("_") for part in node.module.split(".")[1:]) and node.module not in TOLERATED:
                found.append(node.module)
    return found


@pytest.mark.parametrize("path", ADAPTER_MODULES, ids=lambda p: str(p.relative_to(ROOT / "adapters")))
def test_adapters_import_no_private_corefn_module(path: Path) -> None:
    assert _private_imports(path) == []


class Boom(RuntimeError):
    pass


PAYLOADS = list(payload_files(EVENTS))


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_shapes_answer_a_failure_as_they_declare(path: Path) -> None:
    parsed = parse(load_payload(path), cloud=path.parent.name)
    shape = parsed.shape
    if shape is None:
        pytest.skip("a direct invoke: no shape, the caller sees the error")
    assert isinstance(shape, PayloadShape), f"{type(shape).__name__} is not built on the kit"
    if shape.kind in ("http", "warmup", "invoke") or not parsed.events:
        # an HTTP failure is the 500 that dispatch writes into result.response; nothing to fail otherwise
        assert shape.kind != "http" or shape.failure is Failure.RESULT
        return
    ok = DispatchResult([Outcome(event, None) for event in parsed.events])
    failed = DispatchResult([Outcome(event, None, error=Boom("handler failed")) for event in parsed.events])
    success = shape.to_response(ok)
    if shape.failure is Failure.RAISE:
        with pytest.raises(Exception) as caught:
            shape.to_response(failed)
        chain = [caught.value, caught.value.__cause__]
        assert any(isinstance(e, Boom) for e in chain)  # the handler's own error, not a new one
        return
    answer = shape.to_response(failed)
    assert answer != success, f"{type(shape).__name__}: a failure must not be answered as a success"
    if shape.failure is Failure.PARTIAL:  # the answer names (at least) the first failed record
        first = parsed.events[0]  # ordered sources name only it: the platform retries from there
        # a KPL sub-record's sequence is "<record sequence>:<index>"; Lambda is told the record's
        identifier = getattr(first, "sequence", None) or first.id
        if identifier is None:  # an event carried in a queue message (S3 → SQS): the message is named
            identifier = load_payload(path)["Records"][0]["messageId"]
        record = str(identifier).split(":")[0]
        assert record in str(answer), answer


def test_reader_names_the_provider_and_the_shape() -> None:
    class Example(PayloadShape):
        provider = "demo"
        name = "example"
        kind = "queue"

    error = Example({}).reader.error("body")
    assert (error.provider, error.shape, error.field) == ("demo", "example", "body")


def test_a_shape_that_does_not_raise_must_write_its_answer() -> None:
    class Partial(PayloadShape):
        provider, name, kind, failure = "demo", "batch", "queue", Failure.PARTIAL

    with pytest.raises(NotImplementedError, match="partial"):
        Partial({}).to_response(DispatchResult([]))


def _http_app(fail: bool) -> App:
    app = App("kit-http")

    def answer(req: HttpRequest) -> str:
        if fail:
            raise Boom("handler failed")
        return "fine"

    app.http("*", "/", name="root")(answer)
    app.http("*", "/{path+}", name="anything")(answer)
    return app


HTTP_PAYLOADS = [p for p in PAYLOADS if p.stem.startswith("http-")]


@pytest.mark.parametrize("path", HTTP_PAYLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_http_shapes_answer_a_failure_with_a_500(path: Path) -> None:
    """Failure.RESULT for HTTP: the provider's answer carries a 500, never the success answer."""
    cloud, payload = path.parent.name, load_payload(path)
    shape = parse(payload, cloud=cloud).shape
    assert isinstance(shape, PayloadShape), f"{type(shape).__name__} is not built on the kit"
    assert shape.failure is Failure.RESULT
    success = call(_http_app(fail=False), payload, cloud=cloud)
    failure = call(_http_app(fail=True), payload, cloud=cloud)
    assert failure != success and "500" in str(failure)



def test_failure_constants_keep_their_identity_names_and_values() -> None:
    """``Failure`` is three constants, not an Enum (``enum`` is off the cold path): each keeps
    the name, value and identity an enum member has, also through pickling."""
    import pickle

    assert [(f.name, f.value) for f in Failure.members()] == [("RAISE", "raise"), ("PARTIAL", "partial"), ("RESULT", "result")]
    for failure in Failure.members():
        assert pickle.loads(pickle.dumps(failure)) is failure
        assert repr(failure) == f"<Failure.{failure.name}: {failure.value!r}>"
    assert Failure.RAISE is not Failure.RESULT and Failure.RAISE != Failure.RESULT
