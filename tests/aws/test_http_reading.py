"""Reading details of the AWS HTTP shapes: stage prefixes and cookie header variants."""

from __future__ import annotations

import pytest

from corefn_aws.http import _case_variant, _strip_stage


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
