"""``--from-template`` on real public templates (tests/report/templates/README.md names each
one's repository, path and commit): one handler per (function, event), the features a port must
rebuild, and the includes it cannot read, named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corefn.errors import ConfigurationError
from corefn.report import report_template
from corefn.report.from_template import read_template

TEMPLATES = Path(__file__).with_name("templates")
CLOUDS = ["aws", "azure", "gcp", "openwhisk"]

#: file → (handlers as name → trigger, features as (kind, name), sinks, findings' names)
EXPECTED: dict[str, tuple[dict[str, dict[str, object]], set[tuple[str, str]], set[str], set[str]]] = {
    "s3-lambda.yaml": (
        {"CreateThumbnail.CreateThumbnailEvent": {"kind": "storage", "bucket": "SrcBucket", "operations": ["created"],
                                                  "prefix": "", "suffix": ""}},
        set(), set(), set()),
    "dynamodb-lambda.yaml": (
        {"DynamoDBProcessStreamFunction.MyDynamoDBtable": {"kind": "nosql", "table": "MyDynamoDBtable"}},
        set(), set(), set()),
    "kinesis-lambda.yaml": (
        {"ApplicationFunction.Stream": {"kind": "stream", "stream": "KinesisStream"}}, set(), set(), set()),
    "eventbridge-schedule-to-lambda.yaml": (
        {"ScheduledLambdaFunction.MyFirstSchedule": {"kind": "timer", "schedule": "rate(5 minute)", "tz": "UTC"}},
        set(), set(), set()),
    "apigw-sqs-lambda.yaml": (
        {"MyLambdaFunction.MySQSEvent": {"kind": "queue", "queue": "MySqsQueue"}},
        set(), set(), {"include: api.yaml"}),
    "apigw-sqs-lambda-ddb.yaml": (
        {"SqsHandlerFunction.SQSEvent": {"kind": "queue", "queue": "BufferingQueue"},
         "GatewayAuthorizerFunction.Invoke": {"kind": "invoke"}},
        {("layer", "AWSLambdaPowertoolsPythonV2 (SqsHandlerFunction)"),
         ("layer", "AWSLambdaPowertoolsPythonV2 (GatewayAuthorizerFunction)"),
         ("direct-integration", "HttpApi: POST /submit")},
        {"BufferingQueue", "EventTable"}, set()),
    "apigw-rest-api-dynamodb.yaml": (
        {},
        {("direct-integration", "MusicMethodPost: POST /music"),
         ("direct-integration", "MusicArtistMethodGet: GET /music/{artist}")},
        {"DynamoDBTable"}, set()),
    "lambda-layer.yaml": (
        {"PyMySQLLayerLambdaFunction.Invoke": {"kind": "invoke"}, "PyMySQLNoLayerLambdaFunction.Invoke": {"kind": "invoke"}},
        {("layer", "PyMySQLLayer (PyMySQLLayerLambdaFunction)")}, set(), set()),
    "sfn-lambda.yaml": (
        {"GenerateRefernceNumber.Invoke": {"kind": "invoke"}},
        {("state-machine", "StateMachineExpressSynctoLambda")}, set(), set()),
}


def test_every_vendored_template_is_covered_and_named_in_the_readme() -> None:
    files = {p.name for p in TEMPLATES.glob("*.yaml")}
    assert files == set(EXPECTED)
    readme = (TEMPLATES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_import(name: str) -> None:
    handlers, features, sinks, findings = EXPECTED[name]
    subject = read_template(TEMPLATES / name)
    assert subject.source == "template"
    assert {h.name: h.trigger for h in subject.handlers} == handlers
    assert {(n.kind, n.name) for n in subject.needs if n.what == "feature"} == features
    assert {n.name for n in subject.needs if n.what == "sink"} == sinks
    assert {f.name for f in subject.findings} == findings


def test_a_layer_from_another_account_says_so() -> None:
    report = report_template(TEMPLATES / "apigw-sqs-lambda-ddb.yaml", CLOUDS)
    layer = next(x for x in report.lock_in if x["name"].startswith("layer: ") and x["handler"] == "SqsHandlerFunction")
    assert layer["text"].startswith("apigw-sqs-lambda-ddb.yaml:79: a Lambda layer published by AWS account 017000801446")
    assert "unsupported on azure, gcp" in layer["text"]
    direct = next(x for x in report.lock_in if x["name"].startswith("direct-integration"))
    assert direct["text"].startswith("apigw-sqs-lambda-ddb.yaml:9: API Gateway calls SQS-SendMessage directly")
    handler = next(h for h in report.subject.handlers if h.name == "SqsHandlerFunction.SQSEvent")
    assert handler.options["max_attempts"] == 5 and handler.sinks == ["EventTable"]


def test_the_direct_integration_names_the_service_action() -> None:
    report = report_template(TEMPLATES / "apigw-rest-api-dynamodb.yaml", CLOUDS)
    texts = [x["text"] for x in report.lock_in]
    assert any("dynamodb:action/PutItem" in t for t in texts) and any("dynamodb:action/Query" in t for t in texts)
    assert report.clouds["aws"].score == 100 and report.clouds["gcp"].score < report.clouds["azure"].score


def test_an_unresolved_include_is_named_and_first_in_the_checklist() -> None:
    report = report_template(TEMPLATES / "apigw-sqs-lambda.yaml", CLOUDS)
    assert report.checklist[0]["what"].startswith("Resolve api.yaml by hand: AWS::Include at MyHttpApi.DefinitionBody")
    assert report.clouds["gcp"].score == 100  # an unknown is named, not scored


def test_includes_outside_api_definitions_are_named(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""\
Transform: [AWS::Serverless-2016-10-31, {Name: AWS::Include, Parameters: {Location: s3://bucket/common.yaml}}]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Fn::Transform: {Name: AWS::Include, Parameters: {Location: props.yaml}}
  Nested:
    Type: AWS::Serverless::Application
    Properties: {Location: ./child.yaml}
""")
    names = {f.name: f.text for f in read_template(path).findings}
    assert set(names) == {"include: s3://bucket/common.yaml", "include: props.yaml", "include: nested stack ./child.yaml"}
    assert "only API definitions are read" in names["include: props.yaml"]


def test_a_local_include_is_read(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text((TEMPLATES / "apigw-sqs-lambda.yaml").read_text())
    (tmp_path / "api.yaml").write_text(json.dumps({"openapi": "3.0.1", "paths": {"/orders": {"post": {
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "integrationSubtype": "SQS-SendMessage"}}}}}))
    subject = read_template(tmp_path / "template.yaml")
    assert subject.app == tmp_path.name
    assert not subject.findings
    assert [(n.kind, n.name) for n in subject.needs if n.what == "feature"] == [("direct-integration", "MyHttpApi: POST /orders")]


@pytest.mark.parametrize(("text", "says"), [
    ("Resources: [1, 2", "not valid YAML"),
    ("Description: no resources\n", "no Resources mapping"),
    ('{"Resources": ', "not valid JSON"),
])
def test_bad_templates_get_a_clear_error(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=says):
        read_template(path)


WIRED = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 1200
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:shared-utils:4]
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true}
  Alerts:
    Type: AWS::SNS::Topic
    Properties:
      Subscription: [{Protocol: lambda, Endpoint: !GetAtt Worker.Arn}]
  Ws:
    Type: AWS::ApiGatewayV2::Api
  WsIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Ws
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Worker.Arn}/invocations
  WsConnect:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Ws, RouteKey: $connect, Target: !Sub "integrations/${WsIntegration}"}
  Pipe:
    Type: AWS::Pipes::Pipe
    Properties: {Source: !GetAtt Orders.Arn, Target: !GetAtt Worker.Arn}
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: !Sub "cron(0 ${Hour} * * ? *)"
      Targets: [{Arn: !GetAtt Worker.Arn, Id: w}]
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      MemorySize: 64
      FunctionUrlConfig: {AuthType: NONE}
"""


def test_plain_cloudformation_wiring(tmp_path: Path) -> None:
    path = tmp_path / "wired.yaml"
    path.write_text(WIRED)
    report = report_template(path, CLOUDS)
    triggers = {h.name: h.trigger for h in report.subject.handlers}
    assert triggers == {
        "Worker.Alerts": {"kind": "topic", "topic": "Alerts"},
        "Worker.WsIntegration $connect": {"kind": "http", "route": "/", "methods": ["ANY"]},
        "Worker.Pipe": {"kind": "queue", "queue": "Orders"},
        "Worker.Nightly": {"kind": "timer", "schedule": "cron(0 ${Hour} * * ? *)", "tz": "UTC"},
        "Worker.FunctionUrl": {"kind": "http", "route": "/", "methods": ["ANY"]},
    }
    aws = {i.name: i.service for i in report.clouds["aws"].items}
    assert aws["Worker.Nightly"] == "Amazon EventBridge rule schedule (UTC only)"  # a rule, not Scheduler
    assert aws["Worker.Alerts"] == "Amazon SNS subscription"
    assert aws["Worker.FunctionUrl"] == "Lambda function URL"
    assert aws["Worker.Pipe"].startswith("Amazon SQS")
    assert {i.name: i.service for i in report.clouds["gcp"].items}["Worker.Nightly"].startswith("Cloud Scheduler")
    pipe = next(h for h in report.subject.handlers if h.name == "Worker.Pipe")
    assert pipe.options["ordered"] is True and pipe.options["timeout"] == 1200
    assert report.clouds["azure"].items[2].service == "Azure Service Bus queue trigger"  # FIFO → sessions
    layer = next(x for x in report.lock_in if x["name"].startswith("layer: shared-utils"))
    assert "AWS account 123456789012" in layer["text"]
    flags = [d["flag"] for d in report.differences if d.get("flag")]
    assert any("timeout of 1200 s exceeds the limit on aws (900 s)" in f for f in flags)
    assert any("memory of 64 MB is outside the range on aws (128-10,240 MB)" in f for f in flags)
    data = report.to_json()
    assert {h["name"] for h in data["handlers"]} == set(triggers)


def test_python_function_code_beside_the_template_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import json\nimport os\nimport boto3\n\n\n"
        "def handler(event, context):\n"
        "    table = os.environ['TABLE']\n"
        "    for record in event['Records']:\n"
        "        boto3.resource('dynamodb').Table(table).put_item(Item=json.loads(record['body']))\n"
        "    open('/tmp/last', 'w').write(os.environ['AWS_REGION'])\n"
    )
    (tmp_path / "template.yaml").write_text((TEMPLATES / "apigw-sqs-lambda.yaml").read_text().replace(
        "Runtime: nodejs24.x", "Runtime: python3.12"))
    subject = read_template(tmp_path / "template.yaml")
    found = {(f.handler, f.name, f.text.split(": ")[0]) for f in subject.findings}
    where = "src/app.py"  # relative to the template's folder
    assert ("*", "aws SDK import boto3", f"{where}:3") in found
    assert ("MyLambdaFunction", "provider event shape", f"{where}:8") in found
    assert ("MyLambdaFunction", "aws environment variable AWS_REGION", f"{where}:10") in found
    assert subject.uses_tmp == {"MyLambdaFunction.MySQSEvent"}


def test_json_templates_and_zoned_schedules(tmp_path: Path) -> None:
    import yaml

    data = {"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.12", "Handler": "a.b", "Events": {
            "Morning": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "cron(30 7 ? * MON-FRI *)",
                                                              "ScheduleExpressionTimezone": "Europe/Paris"}},
            "Often": {"Type": "ScheduleV2", "Properties": {"ScheduleExpression": "rate(5 minutes)",
                                                            "ScheduleExpressionTimezone": "Europe/Paris"}}}}}}}
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    report = report_template(path, CLOUDS)
    assert {h.name: h.trigger["tz"] for h in report.subject.handlers} == {"Fn.Morning": "Europe/Paris", "Fn.Often": "Europe/Paris"}
    flags = {d["handler"]: d["flag"] for d in report.differences if d["topic"] == "schedule"}
    assert flags["Fn.Often"] is None  # a rate has no time of day
    assert flags["Fn.Morning"].startswith("azure evaluates schedules in UTC only")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    from_yaml = read_template(tmp_path / "t.yaml").handlers
    assert [(h.name, h.trigger) for h in from_yaml] == [(h.name, h.trigger) for h in report.subject.handlers]


def test_a_queue_read_by_its_consumer_is_not_a_sink(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("""\
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs: {Type: AWS::SQS::Queue}
  Results: {Type: AWS::DynamoDB::Table}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Policies: [{SQSPollerPolicy: {QueueName: !GetAtt Jobs.QueueName}}, {DynamoDBCrudPolicy: {TableName: !Ref Results}}]
      Environment: {Variables: {QUEUE: !Ref Jobs, TABLE: !Ref Results}}
      Events: {Job: {Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn}}}
""")
    subject = read_template(path)
    assert [(n.kind, n.name) for n in subject.needs] == [("table", "Results")]
    assert subject.handlers[0].sinks == ["Results"]


def test_without_pyyaml_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from corefn.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "yaml", None)  # what an install without the extra looks like
    with pytest.raises(MissingExtraError, match=r"pip install 'corefn\[report\]'"):
        read_template(TEMPLATES / "s3-lambda.yaml")
