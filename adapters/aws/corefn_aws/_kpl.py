"""KPL aggregation: many user records packed into one Kinesis record by the Kinesis Producer
Library (or ``aws-kinesis-agg``), unpacked here so a handler sees the records its producer put.

The format (awslabs/amazon-kinesis-producer, ``aggregation-format.md``)::

    f3 89 9a c2 | protobuf AggregatedRecord | MD5 of the protobuf (16 bytes)

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;  // skipped, as every deaggregator does
    }

As AWS's own deaggregators (KCL's ``UserRecord.deaggregate``, ``aws-kinesis-agg``) rule, data
that does not start with the magic bytes, is too short, or whose MD5 does not match is a plain
record that merely looks aggregated, and is delivered as it is. Where corefn is stricter: an
aggregate whose MD5 matches but whose protobuf cannot be read (or points past its key table) was
written by a broken producer. ``aws-kinesis-agg`` passes it on as one opaque record (or stops
mid-way, logging); here it is an ``EventShapeError`` naming the record, not half a delivery.

The protobuf is read by a dozen lines of varint code instead of the ``protobuf`` package: three
fields of two messages do not justify a dependency on every Lambda cold start.
"""

from __future__ import annotations

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_SIZE = 16

# protobuf wire types (https://protobuf.dev/programming-guides/encoding/#structure)
VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


class UserRecord:
    """One record as its producer put it. (A plain slotted class: a NamedTuple costs a
    millisecond of import time, on every cold start.)"""

    __slots__ = ("partition_key", "data")

    def __init__(self, partition_key: str, data: bytes) -> None:
        self.partition_key = partition_key
        self.data = data


class AggregateError(ValueError):
    """An aggregate whose MD5 matches but whose protobuf is malformed."""


def is_aggregate(blob: bytes) -> bool:
    """Magic bytes, room for a digest, and a matching MD5 of what lies between (KCL's test)."""
    if len(blob) <= len(MAGIC) + DIGEST_SIZE or not blob.startswith(MAGIC):
        return False
    import hashlib  # OpenSSL's bindings cost milliseconds: only a function that meets an aggregate pays

    message = blob[len(MAGIC) : -DIGEST_SIZE]
    return hashlib.md5(message, usedforsecurity=False).digest() == blob[-DIGEST_SIZE:]


def deaggregate(blob: bytes) -> list[UserRecord]:
    """The user records of an aggregate (``is_aggregate(blob)`` must hold), in order: the
    position in the list is the record's sub-sequence number."""
    keys: list[str] = []
    packed: list[tuple[int, bytes]] = []
    for number, value in _fields(blob[len(MAGIC) : -DIGEST_SIZE]):
        if number == 1:
            keys.append(_text(value, "partition_key_table"))
        elif number == 3:
            packed.append(_record(_bytes(value, "records")))
    out = []
    for index, (key_index, data) in enumerate(packed):
        if key_index >= len(keys):
            raise AggregateError(f"record {index} names partition key {key_index} of {len(keys)}")
        out.append(UserRecord(keys[key_index], data))
    return out


def _record(message: bytes) -> tuple[int, bytes]:
    key_index: int | None = None
    data: bytes | None = None
    for number, value in _fields(message):
        if number == 1:
            if not isinstance(value, int):
                raise AggregateError("partition_key_index is not a varint")
            key_index = value
        elif number == 3:
            data = _bytes(value, "data")
    if key_index is None or data is None:
        raise AggregateError("a record lacks its partition_key_index or data")
    return key_index, data


def _bytes(value: int | bytes, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise AggregateError(f"{name} is not length-delimited")
    return value


def _text(value: int | bytes, name: str) -> str:
    try:
        return _bytes(value, name).decode("utf-8")
    except UnicodeDecodeError:
        raise AggregateError(f"{name} holds a key that is not UTF-8") from None


def _fields(message: bytes) -> list[tuple[int, int | bytes]]:
    """``(field number, value)`` of each field: an int for varints, bytes for length-delimited
    fields; fixed-width fields (unused by the format) are skipped."""
    out: list[tuple[int, int | bytes]] = []
    pos, end = 0, len(message)
    while pos < end:
        tag, pos = _varint(message, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise AggregateError("field number 0")
        if wire == VARINT:
            value, pos = _varint(message, pos)
            out.append((number, value))
        elif wire == LENGTH_DELIMITED:
            size, pos = _varint(message, pos)
            if pos + size > end:
                raise AggregateError("a field runs past the end of the message")
            out.append((number, message[pos : pos + size]))
            pos += size
        elif wire in (FIXED64, FIXED32):
            pos += 8 if wire == FIXED64 else 4
            if pos > end:
                raise AggregateError("a field runs past the end of the message")
        else:
            raise AggregateError(f"wire type {wire} is not one this format uses")
    return out


def _varint(message: bytes, pos: int) -> tuple[int, int]:
    """A base-128 varint at ``pos``: 7 bits a byte, low group first, high bit = more follow."""
    value = shift = 0
    while True:
        if pos >= len(message):
            raise AggregateError("a varint runs past the end of the message")
        byte = message[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift >= 64:
            raise AggregateError("a varint longer than 10 bytes")
