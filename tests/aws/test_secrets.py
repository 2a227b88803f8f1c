"""Secrets by reference against a real moto server: a setting holding ``secretsmanager:<ARN>`` or
``ssm:<name>`` is fetched once (cached), used as the value, and never written anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from corefn import App, secrets
from corefn.errors import ConfigurationError
from corefn.sinks import sink_url

pytestmark = pytest.mark.emulator


@pytest.fixture
def aws(aws_env: Any, reset_moto: Any) -> Iterator[Any]:
    import boto3

    from corefn_aws.sinks import _aws

    _aws._clients.clear()
    secrets.forget()
    session = boto3.session.Session(region_name=aws_env.region)
    yield lambda service: session.client(service, endpoint_url=aws_env.endpoint_url)
    secrets.forget()
    _aws._clients.clear()


def test_a_sink_url_in_secrets_manager_is_fetched_once(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = aws("secretsmanager").create_secret(Name="shop/dev/reports", SecretString="sqlite:///tmp/reports.db")["ARN"]
    app = App("shop")
    reports = app.sql("reports")
    monkeypatch.setenv("COREFN_SINK_REPORTS", f"secretsmanager:{arn}")
    assert sink_url(reports.spec) == "sqlite:///tmp/reports.db"
    aws("secretsmanager").put_secret_value(SecretId=arn, SecretString="postgresql://rotated")
    assert sink_url(reports.spec) == "sqlite:///tmp/reports.db"  # cached for the life of the process


def test_an_api_key_in_ssm_is_resolved_into_this_process_only(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    aws("ssm").put_parameter(Name="/shop/dev/api-key", Value="k" * 32, Type="SecureString")
    monkeypatch.setenv("COREFN_API_KEY", "ssm:/shop/dev/api-key")
    secrets.resolve_environment(["COREFN_API_KEY"])
    import os

    assert os.environ["COREFN_API_KEY"] == "k" * 32


def test_a_missing_secret_is_a_configuration_error_naming_the_setting(aws: Any) -> None:
    with pytest.raises(ConfigurationError, match="COREFN_SINK_X"):
        secrets.resolve("secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf", "COREFN_SINK_X")


@pytest.mark.parametrize("value", ["s3://bucket", "postgresql://u:p@h/db", "file:///tmp/x", "plain", "unknown:scheme"])
def test_urls_and_plain_values_are_not_references(value: str) -> None:
    assert secrets.resolve(value) == value
