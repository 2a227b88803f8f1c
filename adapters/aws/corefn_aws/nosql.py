"""DynamoDB Streams records, with attribute values unmarshalled to plain JSON values.

Unmarshalling is lazy (:class:`~corefn.events.LazyMap`): a handler that only reads ``keys``
never pays for decoding the images. The images are checked to be objects at parse time; a
malformed typed value surfaces as an EventShapeError naming its path when first read.

Type mapping (DynamoDB's wire types → JSON values):

=======  ==============================================================================
S        str
N        int when integral (``"101"``, ``"1E+2"``); otherwise a float when the float
         prints back as the same decimal (``"2.5"``); otherwise the original string, so
         a 38-digit DynamoDB number is never silently rounded (``decimal.Decimal(value)``
         recovers it exactly)
B        the base64 string as the stream carries it
SS / NS  lists of str / of numbers as for N (DynamoDB sets are unordered)
BS       list of base64 strings
M / L    dict / list, recursively
NULL     None
BOOL     bool
=======  ==============================================================================

``operation``: INSERT → insert, MODIFY → modify, REMOVE → remove (TTL deletions too; they
carry ``userIdentity.principalId == "dynamodb.amazonaws.com"``). ``new`` / ``old`` are null
when the stream view type leaves them out (KEYS_ONLY has neither).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from corefn.dispatch import DispatchResult
from corefn.events import Event, LazyMap, NoSqlChange
from corefn.payload import Reader
from corefn_aws._common import PROVIDER, RecordSource, arn_name, epoch_seconds, first_failure, records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from corefn.events import NoSqlOperation

OPERATIONS: dict[str, NoSqlOperation] = {"INSERT": "insert", "MODIFY": "modify", "REMOVE": "remove"}

_R = Reader(PROVIDER, "dynamodb-stream")


def number(text: Any, where: str) -> int | float | str:
    """A DynamoDB ``N`` value as the JSON number it denotes (see the module docstring)."""
    if not isinstance(text, str):
        raise _R.error(where, f"should be a number string, got {type(text).__name__}")
    if text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        return int(text)  # the common case, without Decimal
    from decimal import Decimal, InvalidOperation

    try:
        exact = Decimal(text)
    except InvalidOperation:
        raise _R.error(where, f"is not a number ({text!r})") from None
    if not exact.is_finite():
        raise _R.error(where, f"is not a finite number ({text!r})")
    if exact == exact.to_integral_value():
        return int(exact)
    approx = float(exact)
    return approx if Decimal(repr(approx)) == exact else text


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _R.error(where, "should be a list of strings")
    return value


def _map(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _R.error(where, "should be an object of typed values")
    return {name: unmarshal(item, f"{where}.{name}") for name, item in value.items()}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _R.error(where, "should be a list of typed values")
    return [unmarshal(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _check(kind: type, what: str) -> Callable[[Any, str], Any]:
    def read(value: Any, where: str) -> Any:
        if not isinstance(value, kind):
            raise _R.error(where, f"should be {what}")
        return value

    return read


#: type descriptor → reader of its value
_TYPES: dict[str, Callable[[Any, str], Any]] = {
    "S": _check(str, "a string"),
    "N": number,
    "B": _check(str, "a base64 string"),
    "BOOL": _check(bool, "a boolean"),
    "NULL": lambda value, where: None,
    "SS": _strings,
    "BS": _strings,
    "NS": lambda value, where: [number(v, f"{where}[{i}]") for i, v in enumerate(_strings(value, where))],
    "M": _map,
    "L": _list,
}


def unmarshal(typed: Any, where: str = "") -> Any:
    """One typed attribute value (``{"S": "x"}``) as a plain value."""
    if not isinstance(typed, dict) or len(typed) != 1:
        raise _R.error(where, "should be a typed value such as {\"S\": ...}")
    (tag, value), = typed.items()
    reader = _TYPES.get(tag)
    if reader is None:
        raise _R.error(where, f"has an unknown DynamoDB type {tag!r}")
    return reader(value, f"{where}.{tag}")


def _image(record: dict[str, Any], name: str, at: str) -> Mapping[str, Any] | None:
    image = _R.get(record, f"dynamodb.{name}", dict, default=None, at=at)
    if image is None:
        return None
    return LazyMap(lambda: _map(image, f"{at}.dynamodb.{name}"))


class DynamoDbStream(RecordSource):
    name: ClassVar[str] = "dynamodb-stream"
    kind: ClassVar[str] = "nosql"
    signature: ClassVar[tuple[str, str]] = ("eventSource", "aws:dynamodb")

    def to_events(self) -> list[Event]:
        r = self.reader
        events: list[Event] = []
        for i, record in enumerate(records(r, self.raw)):
            at = f"Records[{i}]"
            name = r.str(record, "eventName", at=at)
            operation = OPERATIONS.get(name)
            if operation is None:
                raise r.error(f"{at}.eventName", f"should be INSERT, MODIFY or REMOVE, got {name!r}")
            created = r.get(record, "dynamodb.ApproximateCreationDateTime", (int, float), default=None, at=at)
            keys = _image(record, "Keys", at)
            if keys is None:
                raise r.error(f"{at}.dynamodb.Keys")
            events.append(
                NoSqlChange(
                    table=arn_name(r.str(record, "eventSourceARN", at=at), "table/"),
                    operation=operation,
                    keys=keys,
                    new=_image(record, "NewImage", at),
                    old=_image(record, "OldImage", at),
                    sequence=r.str(record, "dynamodb.SequenceNumber", at=at),
                    time=None if created is None else r.convert(created, epoch_seconds, f"{at}.dynamodb", "epoch seconds"),
                    id=r.opt_str(record, "eventID", at=at),
                    raw=record,
                )
            )
        return events

    def to_response(self, result: DispatchResult) -> Any:
        return first_failure(result, "sequence")
