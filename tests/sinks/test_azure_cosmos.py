"""Cosmos DB (``cosmos://``): the table contract through the real azure-cosmos SDK, with its HTTP
transport replaced by :class:`FakeCosmos`.

What is faked, and where: there is no Cosmos DB emulator here (the official one is a Windows /
Linux-container image), so the azure-core ``transport`` the SDK sends through is an in-memory
implementation of the slice of the Cosmos REST API this backend uses: database account and
container reads, document create / upsert (``x-ms-documentdb-is-upsert``) / read / replace
(``If-Match``) / delete, and single-partition SQL queries (``x-ms-documentdb-isquery``) with
``x-ms-max-item-count`` paging and continuation tokens. Everything above the transport is real:
the SDK's request building, master-key signing (the fake verifies the HMAC signature of every
request), retries, response parsing and exceptions. The queries the fake understands are the
shapes the backend generates; anything else gets a 400, so a change there fails loudly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn.sinks.base import Table
from corefn_azure.sinks.cosmos import CosmosTable, account_key, document_id, parse_url
from tests.sinks.contract import TableContract, make_spec
from tests.sinks.fake_transport import FakeTransport

KEY = base64.b64encode(b"a throwaway cosmos master key, for the fake only").decode()
ENDPOINT = "https://acct.documents.azure.com:443/"
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}  # fmt: skip
QUERY = re.compile(
    r'SELECT \* FROM c'
    r'(?: WHERE (?:c\[(?P<field>"[^"]*")\] (?P<op><=|>=|=|<|>) @v|STARTSWITH\(c\[(?P<sfield>"[^"]*")\], @v\)))?'
    r'(?: ORDER BY c\[(?P<order>"[^"]*")\])?'
)


def _response(request: Any, status: int, body: Any, headers: dict[str, str] | None = None) -> Any:
    from azure.core.pipeline.transport import HttpResponse
    from requests.structures import CaseInsensitiveDict

    class Response(HttpResponse):
        def body(self) -> bytes:
            return payload

    payload = json.dumps(body).encode()
    response = Response(request, None)
    response.status_code = status
    response.reason = {200: "OK", 201: "Created", 204: "No Content"}.get(status, "Error")
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "x-ms-request-charge": "1", **(headers or {})})
    response.content_type = "application/json"
    return response


class FakeCosmos(FakeTransport):
    """An azure-core HttpTransport holding one account's containers in memory."""

    def __init__(self, containers: dict[tuple[str, str], str]) -> None:
        #: (database, container) → partition key path
        self.paths = containers
        self.docs: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {c: {} for c in containers}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.throttle = 0  # answer the next N document requests with 429
        self._etag = 0

    def send(self, request: Any, **kwargs: Any) -> Any:
        path = urllib.parse.unquote(urllib.parse.urlsplit(request.url).path)
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = json.loads(request.data) if request.data else None
        self.requests.append((request.method, path, headers, body))
        if not self._signed(request.method, path, headers):
            return _response(request, 401, {"code": "Unauthorized", "message": "bad signature"})
        return self._route(request, request.method, [p for p in path.split("/") if p], headers, body)

    def _signed(self, verb: str, path: str, headers: dict[str, str]) -> bool:
        """Cosmos master-key auth: HMAC-SHA256 over verb, resource type, resource link, date."""
        segments = [p for p in path.split("/") if p]
        if len(segments) % 2:
            kind, link = segments[-1], "/".join(segments[:-1])
        else:
            kind, link = (segments[-2] if segments else ""), "/".join(segments)
        text = f"{verb.lower()}\n{kind.lower()}\n{link}\n{headers.get('x-ms-date', '').lower()}\n\n"
        digest = hmac.new(base64.b64decode(KEY), text.encode(), hashlib.sha256).digest()
        expected = urllib.parse.quote(f"type=master&ver=1.0&sig={base64.b64encode(digest).decode()}", "-_.!~*'()")
        return hmac.compare_digest(headers.get("authorization", ""), expected)

    def _route(self, request: Any, verb: str, parts: list[str], headers: dict[str, str], body: Any) -> Any:
        if not parts:
            here = {"databaseAccountEndpoint": ENDPOINT, "name": "local"}
            return _response(request, 200, {"id": "acct", "_self": "", "writableLocations": [here], "readableLocations": [here],
                                            "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"}})  # fmt: skip
        container = (parts[1], parts[3]) if len(parts) >= 4 else None
        if container not in self.paths:
            return _response(request, 404, {"code": "NotFound", "message": "Resource Not Found"})
        if len(parts) == 4:
            return _response(request, 200, {"id": parts[3], "_rid": "rid1", "_self": "/".join(parts),
                                            "partitionKey": {"paths": [self.paths[container]], "kind": "Hash", "version": 2}})  # fmt: skip
        if parts[4] == "pkranges":
            return _response(request, 200, {"_rid": "rid1", "PartitionKeyRanges": [{"id": "0", "minInclusive": "", "maxExclusive": "FF"}]})
        if self.throttle:
            self.throttle -= 1
            return _response(request, 429, {"code": "TooManyRequests", "message": "Request rate is large"}, {"x-ms-retry-after-ms": "1"})
        (pk,) = json.loads(headers["x-ms-documentdb-partitionkey"])
        docs = self.docs[container]
        if verb == "POST" and headers.get("x-ms-documentdb-isquery") == "true":
            return self._query(request, docs, pk, headers, body)
        if verb == "POST":
            field = self.paths[container].lstrip("/")
            if body.get(field) != pk:
                return _response(request, 400, {"code": "BadRequest", "message": "PartitionKey extracted from document doesn't match the one specified in the header"})
            if (pk, body["id"]) in docs and headers.get("x-ms-documentdb-is-upsert") != "True":
                return _response(request, 409, {"code": "Conflict", "message": "Entity with the specified id already exists in the system."})
            return self._store(request, docs, pk, body, 201)
        key = (pk, parts[5])
        current = docs.get(key)
        if current is None:
            return _response(request, 404, {"code": "NotFound", "message": "Entity with the specified id does not exist in the system."})
        if verb == "GET":
            return _response(request, 200, current, {"etag": current["_etag"]})
        if "if-match" in headers and headers["if-match"] != current["_etag"]:
            return _response(request, 412, {"code": "PreconditionFailed", "message": "Operation cannot be performed because one of the specified precondition is not met."})
        if verb == "PUT":
            return self._store(request, docs, pk, body, 200)
        del docs[key]
        return _response(request, 204, None)

    def _store(self, request: Any, docs: dict[tuple[str, str], dict[str, Any]], pk: Any, body: dict[str, Any], status: int) -> Any:
        self._etag += 1
        stored = {**body, "_rid": "r", "_self": "s", "_etag": f'"{self._etag:08x}"', "_attachments": "attachments/", "_ts": 1}
        docs[(pk, body["id"])] = stored
        return _response(request, status, stored, {"etag": stored["_etag"]})

    def _query(self, request: Any, docs: dict[tuple[str, str], dict[str, Any]], pk: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
        match = QUERY.fullmatch(body["query"])
        if match is None:
            return _response(request, 400, {"code": "BadRequest", "message": f"fake cannot run {body['query']!r}"})
        value = {p["name"]: p["value"] for p in body.get("parameters") or []}.get("@v")
        rows = [d for (p, _), d in docs.items() if p == pk]
        if match["field"]:
            field = json.loads(match["field"])
            rows = [d for d in rows if field in d and OPS[match["op"]](d[field], value)]
        if match["sfield"]:
            field = json.loads(match["sfield"])
            rows = [d for d in rows if isinstance(d.get(field), str) and d[field].startswith(value)]
        if match["order"]:
            field = json.loads(match["order"])
            rows.sort(key=lambda d: d[field])
        start = int(headers.get("x-ms-continuation") or 0)
        size = int(headers.get("x-ms-max-item-count") or 100)
        page = rows[start : start + size]
        more = {"x-ms-continuation": str(start + size)} if start + size < len(rows) else {}
        return _response(request, 200, {"_rid": "rid1", "Documents": page, "_count": len(page)}, more)


@pytest.fixture
def cosmos_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMOS_KEY", KEY)


@pytest.fixture
def fake() -> FakeCosmos:
    return FakeCosmos({("db", "pk"): "/pk", ("db", "id"): "/id", ("db", "device"): "/device"})


@pytest.fixture
def make_table(fake: FakeCosmos, cosmos_env: None) -> Callable[[str, str | None], Table]:
    def make(key: str, sort_key: str | None) -> Table:
        fake.docs = {c: {} for c in fake.paths}  # a fresh, empty container
        spec = make_spec("table", key=key, sort_key=sort_key)
        return CosmosTable(spec, f"cosmos://acct/db/{key}", transport=fake)

    return make


class TestCosmosContract(TableContract):
    pass


def requests_to_docs(fake: FakeCosmos) -> list[tuple[str, str, dict[str, str], Any]]:
    return [r for r in fake.requests if "/docs" in r[1]]


def test_writes_address_the_partition_and_id(make_table: Callable[[str, str | None], Table], fake: FakeCosmos) -> None:
    table = make_table("pk", "sk")
    table.put({"pk": "p1", "sk": "a/b", "v": 1})
    method, path, headers, body = requests_to_docs(fake)[-1]
    assert (method, path) == ("POST", "/dbs/db/colls/pk/docs/")
    assert headers["x-ms-documentdb-partitionkey"] == '["p1"]'
    assert headers["x-ms-documentdb-is-upsert"] == "True"
    assert body == {"pk": "p1", "sk": "a/b", "v": 1, "id": "a%2Fb"}
    got = table.get("p1", "a/b")
    assert got is not None and "id" not in got and got["sk"] == "a/b"
    assert requests_to_docs(fake)[-1][1] == "/dbs/db/colls/pk/docs/a%2Fb/"


def test_version_is_the_etag_sent_as_if_match(make_table: Callable[[str, str | None], Table], fake: FakeCosmos) -> None:
    table = make_table("id", None)
    stored = table.put({"id": "x", "n": 1})
    table.put({"id": "x", "n": 2}, if_version=stored["_version"])
    method, _, headers, _ = requests_to_docs(fake)[-1]
    assert method == "PUT" and headers["if-match"] == stored["_version"]


def test_query_is_single_partition_and_paged(make_table: Callable[[str, str | None], Table], fake: FakeCosmos) -> None:
    import corefn_azure.sinks.cosmos as module

    table = make_table("device", "ts")
    for ts in range(7):
        table.put({"device": "d", "ts": ts})
    module.PAGE, old = 3, module.PAGE
    try:
        assert [i["ts"] for i in table.query("d", sort_op=">=", sort_value=2)] == [2, 3, 4, 5, 6]
    finally:
        module.PAGE = old
    queries = [r for r in requests_to_docs(fake) if r[2].get("x-ms-documentdb-isquery") == "true"]
    assert len(queries) == 2  # two pages of three
    assert all(r[2]["x-ms-documentdb-partitionkey"] == '["d"]' for r in queries)
    assert queries[0][3]["query"] == 'SELECT * FROM c WHERE c["ts"] >= @v ORDER BY c["ts"]'
    assert "x-ms-continuation" in queries[1][2]


def test_partition_key_types_are_kept(make_table: Callable[[str, str | None], Table], fake: FakeCosmos) -> None:
    table = make_table("device", "ts")
    table.put({"device": 42, "ts": 1})
    assert requests_to_docs(fake)[-1][2]["x-ms-documentdb-partitionkey"] == "[42]"
    got = table.get(42, 1)
    assert got is not None and got["device"] == 42


def test_id_rules(make_table: Callable[[str, str | None], Table]) -> None:
    with pytest.raises(ConfigurationError, match="Cosmos DB's own"):
        make_table("pk", "sk").put({"pk": "p", "sk": "s", "id": "mine"})
    with pytest.raises(ConfigurationError, match="without"):
        make_table("id", None).put({"id": "a/b"})


def test_throttling_is_retried_by_the_sdk_then_mapped(make_table: Callable[[str, str | None], Table], fake: FakeCosmos) -> None:
    table = make_table("id", None)
    fake.throttle = 2  # the SDK retries these itself
    table.put({"id": "t"})
    fake.throttle = 1000
    with pytest.raises(SinkThrottledError) as caught:
        table.get("t")
    assert caught.value.retry_after == 0.001
    assert getattr(caught.value.cause, "status_code", None) == 429


def test_missing_container_is_not_found(fake: FakeCosmos, cosmos_env: None) -> None:
    table = CosmosTable(make_spec("table"), "cosmos://acct/db/nothing", transport=fake)
    with pytest.raises(SinkNotFoundError):
        table.put({"id": "x"})


def test_wrong_key_is_refused_by_the_signature_check(fake: FakeCosmos, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMOS_KEY", base64.b64encode(b"wrong").decode())
    with pytest.raises(SinkUnavailableError) as caught:  # the SDK fails reading the account already
        CosmosTable(make_spec("table"), "cosmos://acct/db/id", transport=fake)
    assert getattr(caught.value.cause, "status_code", None) == 401


def test_url_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_url("cosmos://acct/db/items") == ("https://acct.documents.azure.com:443/", "acct", "db", "items")
    assert parse_url("cosmos://localhost:8081/db/items")[0] == "https://localhost:8081/"
    with pytest.raises(ConfigurationError):
        parse_url("cosmos://acct/db")
    monkeypatch.delenv("COSMOS_KEY", raising=False)
    monkeypatch.setenv("COSMOS_CONNECTION_STRING", f"AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey={KEY};")
    assert account_key("https://acct.documents.azure.com:443/") == KEY
    with pytest.raises(ConfigurationError, match="COSMOS_KEY"):
        account_key("https://other.documents.azure.com:443/")
    monkeypatch.delenv("COSMOS_CONNECTION_STRING")
    from azure.identity import DefaultAzureCredential

    assert isinstance(account_key("https://acct.documents.azure.com:443/"), DefaultAzureCredential)  # managed identity


def test_document_id_encoding() -> None:
    assert document_id("a/b?c#d\\e%") == "a%2Fb%3Fc%23d%5Ce%25"
    assert document_id(7) == "7"


def test_permissions() -> None:
    (grant,) = CosmosTable.permissions("cosmos://acct/db/items", "table")
    assert grant.actions == ("Cosmos DB Built-in Data Contributor",)
    assert grant.resource == "databaseAccounts/acct/dbs/db/colls/items"
