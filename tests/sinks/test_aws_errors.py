"""One table maps AWS error codes to the SinkError family for every AWS backend."""

from __future__ import annotations

import pytest

from corefn.errors import SinkConflictError, SinkError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn_aws.sinks._aws import aws_errors, translate_error


def client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    error: Exception = ClientError({"Error": {"Code": code, "Message": "from AWS"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")
    return error


@pytest.mark.parametrize(
    ("code", "status", "family"),
    [
        ("NoSuchKey", 404, SinkNotFoundError),
        ("ResourceNotFoundException", 400, SinkNotFoundError),
        ("AWS.SimpleQueueService.NonExistentQueue", 400, SinkNotFoundError),
        ("ConditionalCheckFailedException", 400, SinkConflictError),
        ("PreconditionFailed", 412, SinkConflictError),
        ("ProvisionedThroughputExceededException", 400, SinkThrottledError),
        ("SlowDown", 503, SinkThrottledError),
        ("ThrottlingException", 400, SinkThrottledError),
        ("AccessDenied", 403, SinkUnavailableError),
        ("SomethingNew", 404, SinkNotFoundError),  # unknown code: the HTTP status decides
        ("SomethingElse", 400, SinkError),
    ],
)
def test_codes_map_to_the_family(code: str, status: int, family: type[SinkError]) -> None:
    original = client_error(code, status)
    error = translate_error("photos", original)
    assert type(error) is family
    assert error is not None and error.cause is original and error.sink == "photos"
    assert code in str(error)


def test_connection_failures_are_unavailable() -> None:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    assert type(translate_error("x", EndpointConnectionError(endpoint_url="http://nowhere"))) is SinkUnavailableError
    assert type(translate_error("x", NoCredentialsError())) is SinkUnavailableError


def test_other_exceptions_pass_through() -> None:
    with pytest.raises(ZeroDivisionError), aws_errors("x"):
        1 / 0  # noqa: B018 - a bug in our code is not the service's failure
    assert translate_error("x", KeyError("k")) is None
