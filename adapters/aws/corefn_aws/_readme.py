"""The README of a generated SAM project: exact commands from a fresh machine, what gets created
and what costs money, how to tear it down, each handler's compiled retry policy, and the
checkov checks the template fails on purpose, with the reason (``tests/aws`` runs checkov on
the translated template and fails on any check not listed here)."""

from __future__ import annotations

import re
from typing import Any

from corefn_aws._flow_resources import flow_readme
from corefn_aws._sam_resources import CODE_DIR, Plan

#: checkov checks a generated template fails by design → why (the test allows exactly these)
CHECKOV_ACCEPTED: dict[str, str] = {
    "CKV_AWS_18": "S3 access logging needs a separate log bucket you own; enable it with your organisation's log bucket",
    "CKV_AWS_21": "S3 versioning is off: outputs are re-creatable from the originals; turn it on for buckets you cannot rebuild",
    "CKV_AWS_117": "only functions whose sinks live in a private network run in a VPC (a VPC function needs NAT or endpoints to reach AWS APIs)",
    "CKV_AWS_115": "reserved concurrency is set only where the handler declares concurrency= (it takes capacity from the account's pool)",
    "CKV_AWS_116": "synchronous (HTTP, invoke) and poll-based (SQS, Kinesis, DynamoDB) functions have no function DLQ: callers see errors, pollers use the queue's redrive or the mapping's on-failure destination",
    "CKV_AWS_120": "API Gateway caching costs money per hour and would serve stale device data",
    "CKV_AWS_76": "API access logging needs a log group and an account-level CloudWatch role; add both for production",
    "CKV_AWS_95": "API access logging needs a log group and an account-level CloudWatch role; add both for production",
    "CKV_AWS_309": "routes are authorised by corefn's API key check (api_key=True), not by an API Gateway authoriser",
    "CKV_AWS_59": "routes are authorised by corefn's API key check (api_key=True), not by an API Gateway authoriser",
    "CKV2_AWS_62": "S3 event notifications are configured (they are the trigger); checkov does not see SAM's S3 events",
}


def _commands(plan: Plan, template: dict[str, Any]) -> list[str]:
    params = template["Parameters"]
    app = plan.app.name
    stack = f"{app}-dev"
    lines = [
        "    # 1. tools (any OS with Python 3.9+): the SAM CLI and the AWS CLI, and credentials",
        "    python3 -m pip install --user aws-sam-cli awscli",
        "    aws configure                      # an access key allowed to use CloudFormation, IAM, Lambda, ...",
        f"    # sam build installs src/requirements.txt with pip for {plan.runtime}: have that Python on PATH",
        "    # (or add --use-container to sam build, with Docker running)",
    ]
    overrides = ["Stage=dev"]
    secrets = [p for p in params if p.endswith("Secret")]
    if secrets:
        lines.append("    # 2. secrets, once per stage: Secrets Manager holds them, the template only their ARNs")
        for p in secrets:
            what = "API key (20+ characters)" if p == "ApiKeySecret" else params[p]["Description"].split(" is the ", 1)[-1]
            value = "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\"" if p == "ApiKeySecret" else "'postgresql+psycopg://USER:PASSWORD@HOST:5432/DB'"
            if p != "ApiKeySecret" and "cache" in what:
                value = "'rediss://:PASSWORD@HOST:6379/0'"
            var = re.sub(r"(?<!^)(?=[A-Z])", "_", p).upper()
            lines.append(f"    # {what}")
            lines.append(f"    {var}=$(aws secretsmanager create-secret --name {app}/dev/{p} --secret-string {value} --query ARN --output text)")
            overrides.append(f'{p}="${var}"')
    if "PrivateSubnetIds" in params:
        lines.append("    # the VPC your database / cache lives in: put its private subnets and a security group it admits")
        lines.append("    # in place of subnet-aaa,subnet-bbb and sg-ccc below")
        overrides += ["PrivateSubnetIds=subnet-aaa,subnet-bbb", "SecurityGroupIds=sg-ccc"]
    lines += [
        "    # 3. build and deploy (from this folder)",
        "    sam build",
        f"    sam deploy --stack-name {stack} --resolve-s3 --capabilities CAPABILITY_IAM \\",
        f"        --parameter-overrides {' '.join(overrides)}",
    ]
    return lines


def _created(template: dict[str, Any]) -> list[str]:
    counts: dict[str, int] = {}
    for body in template["Resources"].values():
        counts[body["Type"]] = counts.get(body["Type"], 0) + 1
    costs = {
        "AWS::Serverless::Function": "per request and GB-second (free tier first)",
        "AWS::Serverless::StateMachine": "per state transition (Standard workflow; free tier first): each step, Pass and Choice is one",
        "AWS::IAM::Role": "free",
        "AWS::KMS::Key": "per key per month, plus requests (encrypts the functions' environment)",
        "AWS::SQS::Queue": "per request",
        "AWS::S3::Bucket": "per GB stored and per request",
        "AWS::DynamoDB::Table": "on demand: per request, plus storage and point-in-time-recovery backups",
        "AWS::Kinesis::Stream": "on demand: billed **per hour while the stream exists**, even idle, plus data",
        "AWS::SNS::Topic": "per publish and delivery",
        "AWS::Serverless::HttpApi": "per request",
        "AWS::Serverless::Api": "per request",
    }
    return [f"| {t} | {n} | {costs.get(t, 'see the service page')} |" for t, n in sorted(counts.items())]


def _shell(name: str, template: dict[str, Any]) -> str:
    """A physical name as the default stage deploys it (the account id from the shell)."""
    prefix = template["Parameters"]["ResourcePrefix"]["Default"]
    return name.replace("${ResourcePrefix}", prefix).replace("${Stage}", "dev").replace("${AWS::AccountId}", "$ACCOUNT")


def readme(plan: Plan, template: dict[str, Any]) -> str:
    name = plan.app.name
    params = template["Parameters"]
    resources = template["Resources"].values()
    buckets = [_shell(b["Properties"]["BucketName"]["Fn::Sub"], template) for b in resources if b["Type"] == "AWS::S3::Bucket"]
    tables = [_shell(b["Properties"]["TableName"]["Fn::Sub"], template) for b in resources if b["Type"] == "AWS::DynamoDB::Table"]
    lines = [
        f"# {name} on AWS (generated by corefn)",
        "",
        f"A SAM project for `{plan.app_ref}` on Lambda {plan.runtime} ({plan.architecture}). `{CODE_DIR}/` is",
        "self-contained: the app and the local modules it imports, corefn's core and AWS adapter (vendored),",
        f"and `{CODE_DIR}/requirements.txt` with third-party packages only, pinned from corefn's lock. `deploy/`",
        "in corefn's repository keeps only the generated text files; `corefn deploy --out DIR` writes the whole bundle.",
        "",
        "## Deploy from a fresh machine",
        "",
        *_commands(plan, template),
        "",
        "Deploy a second stage beside it with another `--stack-name` and `Stage=prod`: every physical name",
        "carries the stage.",
        "",
        "## What gets created, and what costs money",
        "",
        "| resource | count | billed |",
        "| --- | --- | --- |",
        *_created(template),
        "",
    ]
    if "PrivateSubnetIds" in params:
        lines += [
            "Functions that use a SQL database or a cache run in the subnets you give (only those functions).",
            "From there they reach S3, DynamoDB, SQS, Kinesis and Secrets Manager only through a NAT gateway or",
            "VPC endpoints, which you provide and which are **billed per hour**.",
            "",
        ]
    if any(p.endswith("Secret") for p in params):
        lines += ["Each Secrets Manager secret is billed per month and per 10,000 API calls (fetched once per cold start).", ""]
    lines += [
        "## Tear down",
        "",
        f"    sam delete --stack-name {name}-dev",
        "",
        "Buckets and tables are kept (`DeletionPolicy: Retain`: data outlives a stack by accident); delete",
        "them yourself when you mean it (names with your prefix, stage and account id):",
        "",
        *(["    ACCOUNT=$(aws sts get-caller-identity --query Account --output text)"] if buckets else []),
        *[f"    aws s3 rb \"s3://{b}\" --force" for b in buckets],
        *[f"    aws dynamodb delete-table --table-name {t}" for t in tables],
        *([f"    aws secretsmanager delete-secret --secret-id {name}/dev/{p}" for p in params if p.endswith("Secret")]),
        "",
        "## Retries and dead letters (compiled from each handler's policy)",
        "",
        "| handler | trigger | attempts | on the cloud |",
        "| --- | --- | --- | --- |",
    ]
    for spec in plan.handlers:
        compiled = plan.policies[spec.name]
        policy = compiled.policy
        attempts = "1 (the caller sees the error)" if policy.delivery == "sync" else ("until expiry" if policy.retries_forever else str(policy.max_attempts))
        fields = ", ".join(f"{k}={v['name'] or 'own queue'}" if isinstance(v, dict) else f"{k}={v}" for k, v in compiled.settings.items())
        lines.append(f"| {spec.name} | {spec.kind} | {attempts} | {fields or '-'} |")
    lines += [
        "",
        "SQS, Kinesis and DynamoDB Streams triggers have `FunctionResponseTypes: [ReportBatchItemFailures]`:",
        "corefn answers with the failed records only, so it MUST stay on: without it Lambda ignores the",
        "answer and deletes (or checkpoints past) the whole batch, failed records included. Where it cannot",
        "be on, set `COREFN_AWS_BATCH_FAILURES=raise` so a failure retries the whole batch instead.",
        "Schedules run on EventBridge Scheduler in the declared time zone; functions run in UTC.",
        "",
        "## Permissions",
        "",
        "Each function has its own role with only what its `uses=` sinks and its trigger need, on those",
        "resources only (no `*` action; `*` resource only for `ec2:DescribeNetworkInterfaces`, which IAM",
        "cannot scope). A handler without `uses=` gets every sink of the app.",
        *flow_readme(plan),
        "",
        "## checkov findings accepted by design",
        "",
        "`checkov` on the translated template passes every IAM, encryption-at-rest and public-access check;",
        "these checks may fail, for these reasons:",
        "",
        *[f"- {check}: {why}" for check, why in CHECKOV_ACCEPTED.items()],
    ]
    if plan.warnings:
        lines += ["", "## Warnings", "", *[f"- {w}" for w in plan.warnings]]
    return "\n".join(lines) + "\n"
