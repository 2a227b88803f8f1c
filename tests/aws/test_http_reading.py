"""Reading details of the AWS HTTP shapes: stage prefixes, cookie header variants, base64 bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corefn.adapters import parse
from corefn.errors import EventShapeError
from corefn_aws.http import _case_variant, _strip_stage

EVENTS = Path(__file__).parent.parent / "events" / "aws"


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



@pytest.mark.parametrize(
    ("fixture", "shape"),
    [("http-apigw-v2", "apigw-v2"), ("http-function-url", "function-url"), ("http-apigw-v1", "apigw-v1"), ("http-alb", "alb"),
     ("http-vpc-lattice-v2", "vpc-lattice-v2")],
)
def test_a_body_flagged_base64_that_is_not_is_one_error_whatever_the_gateway(fixture: str, shape: str) -> None:
    """Every AWS HTTP shape checks ``isBase64Encoded`` bodies at parse time, in the same words
    (REST v1 and ALB used to say "should be base64 (isBase64Encoded is true) (...)")."""
    raw = json.loads((EVENTS / f"{fixture}.json").read_text())
    raw.update(body="not base64!", isBase64Encoded=True)
    with pytest.raises(EventShapeError) as caught:
        parse(raw, cloud="aws")
    assert str(caught.value).startswith(f"aws {shape} payload: field 'body' is flagged isBase64Encoded but not base64:")
