"""``kinesis://stream`` — a publisher on Amazon Kinesis Data Streams (``?region=`` overrides).

The partition key (which shard, and the scope of ordering) is ``group`` when given, else the
SHA-256 of the record (so a retried send lands on the same shard). Records carry no attributes:
Kinesis has none, and passing some raises ConfigurationError rather than dropping them silently
(put them in the body). ``send`` returns the record's sequence number; ``send_batch`` uses
``PutRecords`` in chunks of 500 records / 5 MiB, and raises one SinkError for the records Kinesis
rejected (``ProvisionedThroughputExceededException`` → SinkThrottledError).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from corefn.errors import ConfigurationError
from corefn.kit.sinks import Body, body_bytes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_aws.sinks._aws import aws_errors, client, url_parts
from corefn_aws.sinks._publish import raise_failures

MAX_RECORDS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024


class KinesisPublisher:
    """A :class:`~corefn.sinks.base.Publisher` to one Kinesis data stream."""

    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False

    def __init__(self, spec: SinkSpec, url: str) -> None:
        self.spec = spec
        self.name = spec.name
        self.stream, _, query = url_parts(url, "kinesis")
        self.region = query.get("region")

    @property
    def client(self) -> Any:
        return client("kinesis", region=self.region)

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        stream, _, _ = url_parts(url, "kinesis")
        return [Permission("aws", ("kinesis:PutRecord", "kinesis:PutRecords"), f"arn:aws:kinesis:*:*:stream/{stream}")]

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return False

    def _check(self, attributes: Mapping[str, str] | None) -> None:
        if attributes:
            raise ConfigurationError(f"sink {self.name!r}: Kinesis records carry no attributes; put them in the body")

    @staticmethod
    def _partition_key(data: bytes, group: str | None) -> str:
        return group if group else hashlib.sha256(data).hexdigest()

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        self._check(attributes)
        data = body_bytes(body)
        with aws_errors(self.name):
            answer = self.client.put_record(StreamName=self.stream, Data=data, PartitionKey=self._partition_key(data, group))
        return str(answer["SequenceNumber"])

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        self._check(attributes)
        records = [{"Data": data, "PartitionKey": self._partition_key(data, None)} for data in map(body_bytes, bodies)]
        ids: list[str] = []
        failed: list[Mapping[str, Any]] = []
        for start, chunk in self._chunks(records):
            with aws_errors(self.name):
                answer = self.client.put_records(StreamName=self.stream, Records=chunk)
            for index, result in enumerate(answer.get("Records", ()), start):
                if "ErrorCode" in result:
                    failed.append({"Id": str(index), "Code": result["ErrorCode"], "Message": result.get("ErrorMessage", "")})
                else:
                    ids.append(str(result["SequenceNumber"]))
        raise_failures(self.name, failed, len(records))
        return ids

    @staticmethod
    def _chunks(records: list[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """PutRecords limits: 500 records and 5 MiB (data + partition keys) per call."""
        start, size = 0, 0
        chunk: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            weight = len(record["Data"]) + len(record["PartitionKey"])
            if chunk and (len(chunk) == MAX_RECORDS or size + weight > MAX_BATCH_BYTES):
                yield start, chunk
                start, size, chunk = index, 0, []
            chunk.append(record)
            size += weight
        if chunk:
            yield start, chunk


def open_backend(spec: SinkSpec, url: str) -> KinesisPublisher:
    return KinesisPublisher(spec, url)
