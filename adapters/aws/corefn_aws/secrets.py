"""Fetching a secret referenced by a setting (:mod:`corefn.secrets`): AWS Secrets Manager
(``secretsmanager:<ARN or name>``) and SSM Parameter Store (``ssm:<parameter name>``, decrypted:
SecureString parameters are the point). The function's role needs ``secretsmanager:GetSecretValue``
on that secret, or ``ssm:GetParameter`` on that parameter; the generator grants exactly that.
"""

from __future__ import annotations

from corefn_aws.sinks._aws import client  # one client cache per process


def fetch_secretsmanager(reference: str) -> str:
    """``SecretString`` of the secret's current version (binary secrets are not settings)."""
    answer = client("secretsmanager").get_secret_value(SecretId=reference)
    return str(answer.get("SecretString") or "")


def fetch_ssm(reference: str) -> str:
    answer = client("ssm").get_parameter(Name=reference, WithDecryption=True)
    return str(answer["Parameter"]["Value"])
