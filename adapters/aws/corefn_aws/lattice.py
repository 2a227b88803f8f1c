"""HTTP requests from Amazon VPC Lattice to a Lambda target, in both event structure versions a
target group can be set to, and the answer Lattice reads back.

From "Lambda functions as targets in VPC Lattice" (VPC Lattice user guide,
https://docs.aws.amazon.com/vpc-lattice/latest/ug/lambda-functions.html):

- version 1 (no ``version`` key): snake_case fields ``method``, ``raw_path``, ``headers``
  (one string per name, repeats joined by commas), ``query_string_parameters``, ``body``,
  ``is_base64_encoded``;
- version 2 (``version: "2.0"``): camelCase ``path``, ``queryStringParameters`` and
  ``isBase64Encoded``, headers and query values as strings or lists of strings, and a
  ``requestContext`` naming the service network, service and target group — but no ``http``
  object, which is what keeps HTTP API's 2.0 shape off it.

A ``?query`` left on the path is read as the query when no parameters come beside it.
Lattice carries no request id and no client address field (``x-forwarded-for`` is only a
header), so ``id`` and ``client_ip`` stay null rather than guessed.

The answer is ALB's single-value form: ``statusCode``, ``statusDescription`` ("200 OK"),
``headers``, ``body``, ``isBase64Encoded``.
"""

from __future__ import annotations

from corefn.dispatch import DispatchResult
from corefn.events import Body, Event, Headers, HttpRequest, Query
from corefn.events.base import decode_path
from corefn_aws.http import LATTICE_CONTEXT, HttpShape, check_base64_body, described_response, result_response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class LatticeV1(HttpShape):
    """VPC Lattice, event structure version 1 (``raw_path`` + ``method``, no ``version``)."""

    name: ClassVar[str] = "vpc-lattice"
    #: (path, query, base64 flag) field names of this version
    fields: ClassVar[tuple[str, str, str]] = ("raw_path", "query_string_parameters", "is_base64_encoded")

    @classmethod
    def matches(cls, raw: Any) -> bool:
        return isinstance(raw, dict) and "raw_path" in raw and "method" in raw and "version" not in raw

    def _check_context(self) -> None:
        """Version 1 has no ``requestContext``."""

    def to_events(self) -> list[Event]:
        r, raw = self.reader, self.raw
        path_field, query_field, base64_field = self.fields
        self._check_context()
        path, _, query_text = r.str(raw, path_field).partition("?")
        query: Query = Query(r.opt_dict(raw, query_field) or query_text)
        body = r.opt_str(raw, "body")
        is_base64 = r.get(raw, base64_field, bool, default=False)
        if is_base64 and body:
            check_base64_body(r, body)
        return [
            HttpRequest(
                method=r.str(raw, "method").upper(),
                path=decode_path(path) if "%" in path else path,
                headers=Headers(r.opt_dict(raw, "headers")),
                query=query,
                body=Body(body, base64=is_base64),
                raw=raw,
            )
        ]

    def to_response(self, result: DispatchResult) -> Any:
        return described_response(result_response(result), multi_value=False)


class LatticeV2(LatticeV1):
    """VPC Lattice, event structure version 2 (``version: "2.0"``, ``requestContext`` without
    ``http``)."""

    name: ClassVar[str] = "vpc-lattice-v2"
    fields: ClassVar[tuple[str, str, str]] = ("path", "queryStringParameters", "isBase64Encoded")

    @classmethod
    def matches(cls, raw: Any) -> bool:
        if not isinstance(raw, dict) or raw.get("version") != "2.0":
            return False
        context = raw.get("requestContext")
        return isinstance(context, dict) and "http" not in context and LATTICE_CONTEXT in context

    def _check_context(self) -> None:
        """The target group the request came through must be named: it is the signature."""
        self.reader.str(self.raw, f"requestContext.{LATTICE_CONTEXT}")


__all__ = ["LatticeV1", "LatticeV2"]
