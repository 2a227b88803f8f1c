"""Idempotent handlers against every record store's real service: concurrent duplicate deliveries
of one event run the handler once, on DynamoDB (moto), Table Storage (Azurite), Firestore (its
emulator), Cloudant (pouchdb-server), SQLite, Redis and the in-process cache.

Each test builds an app whose handler counts its runs, binds the record sink to a fresh table
(or cache) on the emulator, and fires the same event from several threads at once, as a queue
redelivering a message to several consumers would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from corefn import App, Context, QueueMessage
from corefn.dispatch import DispatchResult, dispatch
from corefn.errors import IdempotencyInProgressError
from corefn.idempotency import Idempotency
from tests.fixtures.emulators import Azurite, FirestoreEmulator, MotoServer, PouchdbServer, RedisServer
from tests.sinks.contract import make_spec, unique

Make = Callable[[], Any]  # a fresh, empty record store (a table keyed "id", or a cache)

DUPLICATES = 6


# --------------------------------------------------------------------------- record stores


@pytest.fixture
def dynamodb(aws_env: MotoServer) -> Make:
    from corefn_aws.sinks.dynamodb import open_backend
    from tests.sinks.test_aws_dynamodb import create_table

    return lambda: open_backend(make_spec("table", "idem", key="id"), f"dynamodb://{create_table('id', None)}")


@pytest.fixture
def aztable(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Make]:
    from azure.data.tables import TableServiceClient

    from corefn_azure.sinks.table import open_backend

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    for name in ("AzureWebJobsStorage", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    service = TableServiceClient.from_connection_string(azurite.connection_string)
    created: list[str] = []

    def make() -> Any:
        name = "t" + unique("").replace("-", "")
        service.create_table(name)
        created.append(name)
        return open_backend(make_spec("table", "idem", key="id"), f"aztable://{name}")

    yield make
    for name in created:
        service.delete_table(name)


@pytest.fixture
def firestore(firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch) -> Make:
    from corefn_gcp.sinks.firestore import open_backend

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", firestore_emulator.project)
    return lambda: open_backend(make_spec("table", "idem", key="id"), f"firestore://{unique('c')}")


@pytest.fixture
def cloudant(pouchdb_server: PouchdbServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Make]:
    from ibm_cloud_sdk_core.authenticators import NoAuthAuthenticator
    from ibmcloudant.cloudant_v1 import CloudantV1

    from corefn_openwhisk.sinks.cloudant import open_backend

    monkeypatch.setenv("CLOUDANT_URL", pouchdb_server.url)
    for name in ("CLOUDANT_APIKEY", "CLOUDANT_AUTH_TYPE", "CLOUDANT_USERNAME", "CLOUDANT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    admin = CloudantV1(authenticator=NoAuthAuthenticator())
    admin.set_service_url(pouchdb_server.url)
    created: list[str] = []

    def make() -> Any:
        name = unique("db")
        admin.put_database(db=name)
        created.append(name)
        return open_backend(make_spec("table", "idem", key="id"), f"cloudant://{name}")

    yield make
    for name in created:
        admin.delete_database(db=name)


@pytest.fixture
def sqlite(tmp_path: Any) -> Make:
    from corefn.sinks.sqlite import open_backend

    return lambda: open_backend(make_spec("table", "idem", key="id"), f"sqlite:///{tmp_path}/{unique('t')}.db")


@pytest.fixture
def redis(redis_server: RedisServer) -> Make:
    from corefn.sinks.rediscache import open_backend

    return lambda: open_backend(make_spec("cache", unique("idem")), redis_server.url)


@pytest.fixture
def memory() -> Make:
    from corefn.sinks.memory import open_backend

    return lambda: open_backend(make_spec("cache", "idem"), f"memory://{unique()}")


TABLES = ["dynamodb", "aztable", "firestore", "cloudant", "sqlite"]
CACHES = ["redis", "memory"]


@pytest.fixture(params=TABLES + CACHES)
def store(request: pytest.FixtureRequest) -> tuple[str, Any]:
    kind = "cache" if request.param in CACHES else "table"
    return kind, request.getfixturevalue(request.param)()


# ----------------------------------------------------------------------------------- app


class Counting:
    """An app with one idempotent queue handler that counts its runs and can be made to fail."""

    def __init__(self, kind: str, backend: Any, hold: float = 0.0) -> None:
        self.app = App("idem")
        self.runs: dict[str, int] = {}
        self.fail_next = 0
        self.hold = hold
        self._lock = threading.Lock()
        setting = Idempotency(cache="records") if kind == "cache" else Idempotency(table="records")
        sink = self.app.cache("records") if kind == "cache" else self.app.table("records")
        sink.bind(backend)  # type: ignore[attr-defined]

        @self.app.queue("orders", idempotent=setting)
        def handle(message: QueueMessage) -> dict[str, Any]:
            with self._lock:
                self.runs[message.text] = self.runs.get(message.text, 0) + 1
                failing = self.fail_next > 0
                self.fail_next -= failing
            time.sleep(self.hold)
            if failing:
                raise RuntimeError("boom")
            return {"handled": message.text, "run": self.runs[message.text]}

    def deliver(self, message_id: str, body: str) -> DispatchResult:
        event = QueueMessage(queue="orders", id=message_id, body=body, attempt=1)
        return dispatch(self.app, [event], Context(app=self.app))


def deliver_at_once(app: Counting, count: int, message_id: str) -> list[DispatchResult]:
    barrier = threading.Barrier(count)
    results: list[DispatchResult] = []
    lock = threading.Lock()

    def one() -> None:
        barrier.wait()
        result = app.deliver(message_id, "order-1")
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --------------------------------------------------------------------------------- tests


def test_concurrent_duplicates_run_the_handler_once(store: tuple[str, Any]) -> None:
    app = Counting(*store, hold=0.5)
    results = deliver_at_once(app, DUPLICATES, "m-1")
    assert app.runs == {"order-1": 1}
    outcomes = [r.outcomes[0] for r in results]
    ran = [o for o in outcomes if o.ok and not o.replayed]
    waiting = [o for o in outcomes if not o.ok]
    assert len(ran) == 1 and ran[0].result == {"handled": "order-1", "run": 1}
    # the others either found the run in progress (their delivery fails, the queue retries it)
    # or, if they came after it, the stored result
    assert all(isinstance(o.error, IdempotencyInProgressError) for o in waiting)
    assert all(o.replayed and o.result == ran[0].result for o in outcomes if o.ok and o is not ran[0])
    # the queue redelivers the ones that failed: the stored result answers, the handler stays at 1 run
    for _ in waiting:
        again = app.deliver("m-1", "order-1").outcomes[0]
        assert again.ok and again.replayed and again.result == {"handled": "order-1", "run": 1}
    assert app.runs == {"order-1": 1}


def test_a_failed_run_is_forgotten_so_the_retry_runs(store: tuple[str, Any]) -> None:
    app = Counting(*store)
    app.fail_next = 1
    first = app.deliver("m-2", "order-2").outcomes[0]
    assert not first.ok and str(first.error) == "boom"
    second = app.deliver("m-2", "order-2").outcomes[0]
    assert second.ok and not second.replayed and second.result == {"handled": "order-2", "run": 2}
    third = app.deliver("m-2", "order-2").outcomes[0]
    assert third.replayed and third.result == second.result
    assert app.runs == {"order-2": 2}


def test_another_message_id_is_another_event(store: tuple[str, Any]) -> None:
    app = Counting(*store)
    app.deliver("m-3", "order-3")
    app.deliver("m-4", "order-3")  # same body, new message: runs again
    assert app.runs == {"order-3": 2}


@pytest.mark.parametrize("name", ["sqlite", "redis"])
def test_a_dead_in_progress_record_is_taken_over(name: str, request: pytest.FixtureRequest) -> None:
    """A run that died (killed, timed out) leaves an in-progress record: after its in-progress
    time a redelivery runs the handler, as Powertools does past the Lambda's remaining time."""
    kind = "cache" if name in CACHES else "table"
    backend = request.getfixturevalue(name)()
    app = Counting(kind, backend)
    spec = app.app.handler("handle")
    from corefn.idempotency import guard_for

    guard = guard_for(spec.replace(options=spec.options.replace(idempotent=Idempotency(**{kind: "records"}, in_progress_s=0.5))), Context(app=app.app))
    assert guard is not None
    assert guard.begin("handle#m-5") is None  # a run starts, then dies without a word
    blocked = app.deliver("m-5", "order-5").outcomes[0]
    assert isinstance(blocked.error, IdempotencyInProgressError)
    time.sleep(0.8)
    taken = app.deliver("m-5", "order-5").outcomes[0]
    assert taken.ok and not taken.replayed
    assert app.runs == {"order-5": 1}
