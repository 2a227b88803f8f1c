"""The fast paths of the HTTP API v2 reader give the same answers as the general ones."""

from __future__ import annotations

import pytest

from corefn.events import Headers, Query
from corefn_aws.http import FlatHeaders, RawQuery, _case_variant, _strip_stage


@pytest.mark.parametrize(
    "source",
    [{"Accept": "a", "X-Id": "1"}, {"Cookie": "a=1", "cookie": "b=2"}, {"x": ["1", "2"], "y": "3"}, {}, {"n": 5, "none": None}],
)
def test_flat_headers_match_the_general_headers(source: dict[str, object]) -> None:
    fast, general = FlatHeaders(source), Headers(source)  # type: ignore[arg-type]
    assert fast.to_dict() == general.to_dict()
    for name in list(general) + ["missing"]:
        assert fast.get(name.upper()) == general.get(name.upper())


def test_raw_query_get_is_the_first_value() -> None:
    query = RawQuery("a=1&a=2&b=%20x")
    assert query.get("a") == Query("a=1&a=2").get("a") == "1"
    assert query.get("b") == " x" and query.get("c", "none") == "none"


@pytest.mark.parametrize(
    "path, stage, domain, expected",
    [
        ("/prod/items", "prod", "x.execute-api.us-east-1.amazonaws.com", "/items"),
        ("/prod", "prod", None, "/"),
        ("/production/items", "prod", None, "/production/items"),
        ("/prod/items", "prod", "api.example.com", "/prod/items"),
        ("/items", "$default", None, "/items"),
    ],
)
def test_stage_prefix(path: str, stage: str, domain: str | None, expected: str) -> None:
    assert _strip_stage(path, stage, domain) == expected


def test_cookie_header_case_variants_are_distinct() -> None:
    names = {_case_variant("set-cookie", n) for n in range(8)}
    assert len(names) == 8 and {n.lower() for n in names} == {"set-cookie"}
