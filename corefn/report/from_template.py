"""An AWS SAM / CloudFormation template as a report subject, without any corefn code.

One handler per (function, event), named ``Function.Event`` (a function with no event at all is
``Function.Invoke``): SAM ``Events`` of ``AWS::Serverless::Function`` and the resources that wire a
plain ``AWS::Lambda::Function`` (event source mappings, EventBridge rules and Scheduler schedules,
SNS subscriptions, S3 bucket notifications, API Gateway methods with a Lambda proxy). Data
resources a function or an API reads or writes become sinks; resources that only feed a trigger
are the trigger. Layers, API Gateway service integrations with no function behind them, state
machines and event sources no other cloud has become features. ``AWS::Include`` transforms and
nested stacks are read when they are local files, and named as unresolved otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from corefn.report._cfn_yaml import as_text, load_template, ref, refs_in, resource_lines, service_action
from corefn.report.model import Finding, Handler, Need, Subject

#: SAM event type → corefn trigger kind (types absent here are provider-only event sources)
SAM_EVENTS: dict[str, str] = {
    "Api": "http", "HttpApi": "http", "S3": "storage", "SQS": "queue", "SNS": "topic", "Schedule": "timer",
    "ScheduleV2": "timer", "EventBridgeRule": "topic", "CloudWatchEvent": "topic", "Kinesis": "stream",
    "MSK": "stream", "SelfManagedKafka": "stream", "DynamoDB": "nosql", "MQ": "queue",
}
#: SAM event type → the AWS facts entry that carries it (so an EventBridge rule is not reported as SNS)
SAM_VIA: dict[str, str] = {
    "Api": "api-gateway", "HttpApi": "api-gateway", "S3": "s3", "SQS": "sqs", "SNS": "sns", "Schedule": "eventbridge-rule",
    "ScheduleV2": "eventbridge-scheduler", "EventBridgeRule": "eventbridge", "CloudWatchEvent": "eventbridge",
    "Kinesis": "kinesis", "MSK": "msk", "SelfManagedKafka": "msk", "DynamoDB": "dynamodb-streams",
}
#: event source type of an event source mapping or a pipe → its facts entry
SOURCE_VIA = {"AWS::SQS::Queue": "sqs", "AWS::Kinesis::Stream": "kinesis", "AWS::DynamoDB::Table": "dynamodb-streams"}
#: resource type → (sink kind, publisher target)
DATA_RESOURCES: dict[str, tuple[str, str | None]] = {
    "AWS::S3::Bucket": ("object", None), "AWS::DynamoDB::Table": ("table", None),
    "AWS::Serverless::SimpleTable": ("table", None), "AWS::SQS::Queue": ("publisher", "queue"),
    "AWS::SNS::Topic": ("publisher", "topic"), "AWS::Kinesis::Stream": ("publisher", "stream"),
    "AWS::ElastiCache::CacheCluster": ("cache", None), "AWS::ElastiCache::ReplicationGroup": ("cache", None),
    "AWS::ElastiCache::ServerlessCache": ("cache", None), "AWS::RDS::DBInstance": ("sql", None),
    "AWS::RDS::DBCluster": ("sql", None),
}
#: event source resource type → trigger kind (event source mappings name the source by ARN)
SOURCE_KINDS = {"AWS::SQS::Queue": "queue", "AWS::Kinesis::Stream": "stream", "AWS::DynamoDB::Table": "nosql"}
FUNCTIONS = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
S3_OPERATIONS = {"s3:ObjectCreated": "created", "s3:ObjectRemoved": "deleted", "s3:ObjectRestore": "metadata_updated",
                 "s3:LifecycleExpiration": "deleted", "s3:LifecycleTransition": "archived", "s3:ObjectTagging": "metadata_updated"}
_LAYER_ARN = re.compile(r"arn:aws[\w-]*:lambda:[^:]*:(?P<account>[^:]+):layer:(?P<name>[^:]+)")


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = load_template(path)
        self.resources: dict[str, Any] = {k: v for k, v in self.data["Resources"].items() if isinstance(v, dict)}
        self.lines = resource_lines(path, list(self.resources))
        stem = path.stem if path.stem not in ("template", "packaged") else path.resolve().parent.name
        self.subject = Subject(app=stem, source="template")
        self.glob = (self.data.get("Globals") or {}).get("Function") or {}
        self.triggered: set[str] = set()  # data resources that feed a trigger
        self.used: dict[str, set[str]] = {}  # data resource → functions / "api" using it
        self.events: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}

    def at(self, name: str) -> str:
        """``template.yaml:57``: where a resource is declared."""
        line = self.lines.get(name)
        return f"{self.path.name}:{line}" if line else f"{self.path.name}: {name}"

    def type_of(self, name: str | None) -> str:
        return str(self.resources.get(name or "", {}).get("Type", ""))

    def props(self, name: str) -> dict[str, Any]:
        p = self.resources[name].get("Properties") or {}
        return p if isinstance(p, dict) else {}

    def read(self) -> Subject:
        functions = [n for n, r in self.resources.items() if r.get("Type") in FUNCTIONS]
        for fn in functions:
            self.events[fn] = []
            self._sam_events(fn)
        self._wiring(set(functions))
        self._apis()  # before the handlers: an OpenAPI body may proxy routes to functions
        for fn in functions:
            self._handlers(fn)
            self._code(fn)
            self._layers(fn)
            for used in self._reached({k: v for k, v in self.props(fn).items() if k != "Events"}):
                self.used.setdefault(used, set()).add(fn)
        self._state_machines()
        self._includes(self.data, "template")
        self._sinks()
        return self.subject

    def _reached(self, props: Any) -> set[str]:
        """Resources a function's properties point at, through its IAM role and policies too
        (a role's policy names the table the function writes)."""
        found = refs_in(props)
        for name in list(found):
            if self.type_of(name) in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                found |= refs_in(self.props(name))
        return found

    # ---------------------------------------------------------------------------- triggers
    def _sam_events(self, fn: str) -> None:
        for event, spec in (self.props(fn).get("Events") or {}).items():
            if not isinstance(spec, dict):
                continue
            kind = SAM_EVENTS.get(str(spec.get("Type")))
            p = spec.get("Properties") or {}
            via = SAM_VIA.get(str(spec.get("Type")))
            if spec.get("Type") == "CloudWatchEvent" and "Schedule" in p:
                kind, via = "timer", "eventbridge-rule"
            if kind is None:
                self.subject.needs.append(Need("feature", "provider-event", f"{fn}.{event}",
                                               {"handler": f"{fn}.{event}"}, where=self.at(fn),
                                               detail=f"{spec.get('Type')} event source"))
                kind = "invoke"
            trig = {"kind": kind, **self._fields(kind, str(spec.get("Type")), p)}
            self.events[fn].append((event, {**trig, "_via": via} if via else trig, p))

    def _fields(self, kind: str, sam_type: str, p: dict[str, Any]) -> dict[str, Any]:
        if kind == "http":
            return {"route": as_text(p.get("Path")) or "/", "methods": [str(as_text(p.get("Method")) or "ANY").upper()]}
        if kind == "storage":
            bucket = ref(p.get("Bucket")) or as_text(p.get("Bucket")) or "(computed)"
            self.triggered.add(bucket)
            events = p.get("Events") or []
            ops = sorted({op for e in (events if isinstance(events, list) else [events]) for prefix, op in
                          S3_OPERATIONS.items() if str(e).startswith(prefix)})
            rules = ((p.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            rule = {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules if isinstance(r, dict)}
            return {"bucket": bucket, "operations": ops or ["created"], "prefix": rule.get("prefix", ""),
                    "suffix": rule.get("suffix", "")}
        if kind == "timer":
            expr = p.get("ScheduleExpression") or p.get("Schedule")
            return {"schedule": as_text(expr), "tz": as_text(p.get("ScheduleExpressionTimezone")) or "UTC"}
        source = p.get("Queue") or p.get("Topic") or p.get("Stream") or p.get("EventBusName") or p.get("Broker")
        name = ref(source) or (str(as_text(source)).split(":")[-1] if source else None)
        if sam_type in ("MSK", "SelfManagedKafka"):
            topics = p.get("Topics") or []
            name = as_text(topics[0]) if topics else name
        if name:
            self.triggered.add(name)
        field = {"queue": "queue", "topic": "topic", "stream": "stream", "nosql": "table"}.get(kind)
        if kind == "topic" and sam_type in ("EventBridgeRule", "CloudWatchEvent"):
            name = name or "default"
        return {field: name} if field else {}

    def _wiring(self, functions: set[str]) -> None:
        """Plain CloudFormation resources that make a function a target."""
        trig: dict[str, Any]
        for name, res in self.resources.items():
            t, p = res.get("Type"), self.props(name)
            if t == "AWS::Lambda::EventSourceMapping":
                fn, source = ref(p.get("FunctionName")), ref(p.get("EventSourceArn"))
                kind = SOURCE_KINDS.get(self.type_of(source), "stream")
                field = {"queue": "queue", "stream": "stream", "nosql": "table"}[kind]
                if fn in functions:
                    self.triggered.add(source or "")
                    via = SOURCE_VIA.get(self.type_of(source), "msk")
                    self.events[fn].append((name, {"kind": kind, field: source, "_via": via}, p))
            elif t in ("AWS::Scheduler::Schedule", "AWS::Events::Rule"):
                targets = [p.get("Target")] if t == "AWS::Scheduler::Schedule" else list(p.get("Targets") or [])
                for target in targets:
                    fn = ref((target or {}).get("Arn"))
                    if fn not in functions:
                        continue
                    if p.get("ScheduleExpression"):
                        trig = {"kind": "timer", "schedule": as_text(p["ScheduleExpression"]),
                                "tz": as_text(p.get("ScheduleExpressionTimezone")) or "UTC",
                                "_via": "eventbridge-scheduler" if t == "AWS::Scheduler::Schedule" else "eventbridge-rule"}
                    else:
                        trig = {"kind": "topic", "topic": ref(p.get("EventBusName")) or as_text(p.get("EventBusName")) or "default",
                                "_via": "eventbridge"}
                    self.events[fn].append((name, trig, p))
            elif t == "AWS::SNS::Subscription" and str(p.get("Protocol")).lower() == "lambda":
                fn, topic = ref(p.get("Endpoint")), ref(p.get("TopicArn"))
                if fn in functions:
                    self.triggered.add(topic or "")
                    self.events[fn].append((name, {"kind": "topic", "topic": topic, "_via": "sns"}, p))
            elif t == "AWS::S3::Bucket":
                for conf in (p.get("NotificationConfiguration") or {}).get("LambdaConfigurations") or []:
                    fn = ref(conf.get("Function"))
                    if fn in functions:
                        self.triggered.add(name)
                        trig = {"kind": "storage", "_via": "s3",
                                **self._fields("storage", "S3", {"Bucket": {"Ref": name}, "Events": [conf.get("Event")]})}
                        self.events[fn].append((name, trig, conf))
            elif t == "AWS::ApiGatewayV2::Integration" and str(p.get("IntegrationType")).upper() == "AWS_PROXY":
                fn = next((r for r in refs_in(p.get("IntegrationUri")) if r in functions), None)
                routes = [as_text(self.props(r).get("RouteKey")) or "$default" for r, res2 in self.resources.items()
                          if res2.get("Type") == "AWS::ApiGatewayV2::Route" and name in refs_in(self.props(r).get("Target"))]
                for key in routes or ["$default"]:
                    method, _, path = str(key).partition(" ")
                    trig = {"kind": "http", "route": path or "/", "methods": [method.upper() if path else "ANY"],
                            "_via": "api-gateway"}
                    if fn:
                        self.events[fn].append((f"{name} {key}", trig, p))
            elif t == "AWS::Lambda::Url" and ref(p.get("TargetFunctionArn")) in functions:
                fn = ref(p.get("TargetFunctionArn"))
                self.events[str(fn)].append((name, {"kind": "http", "route": "/", "methods": ["ANY"], "_via": "function-url"}, p))
            elif t == "AWS::SNS::Topic":
                for sub in p.get("Subscription") or []:
                    fn = ref((sub or {}).get("Endpoint"))
                    if fn in functions and str(sub.get("Protocol")).lower() == "lambda":
                        self.triggered.add(name)
                        self.events[str(fn)].append((name, {"kind": "topic", "topic": name, "_via": "sns"}, sub))
            elif t == "AWS::ElasticLoadBalancingV2::TargetGroup" and str(p.get("TargetType")).lower() == "lambda":
                for target in p.get("Targets") or []:
                    fn = ref((target or {}).get("Id"))
                    if fn in functions:
                        self.events[str(fn)].append((name, {"kind": "http", "route": "/", "methods": ["ANY"], "_via": "alb"}, p))
            elif t == "AWS::Pipes::Pipe":
                fn, source = ref(p.get("Target")), ref(p.get("Source"))
                if fn in functions:
                    kind = SOURCE_KINDS.get(self.type_of(source), "stream")
                    field = {"queue": "queue", "stream": "stream", "nosql": "table"}[kind]
                    self.triggered.add(source or "")
                    self.events[str(fn)].append((name, {"kind": kind, field: source}, p))
            elif t == "AWS::ApiGateway::Method":
                integ = p.get("Integration") or {}
                fn = next((r for r in refs_in(integ.get("Uri")) if r in functions), None)
                if fn and str(integ.get("Type")).upper() == "AWS_PROXY":
                    trig = {"kind": "http", "route": self._route(p.get("ResourceId")),
                            "methods": [str(as_text(p.get("HttpMethod")) or "ANY").upper()]}
                    self.events[fn].append((name, trig, p))

    def _route(self, resource: Any, depth: int = 0) -> str:
        name = ref(resource)
        if name is None or self.type_of(name) != "AWS::ApiGateway::Resource" or depth > 20:
            return "/"
        p = self.props(name)
        parent = self._route(p.get("ParentId"), depth + 1)
        return parent.rstrip("/") + "/" + str(as_text(p.get("PathPart")) or "")

    def _code(self, fn: str) -> None:
        """Scan the function's Python module when the template's folder holds it (CodeUri +
        Handler, the layout ``sam build`` uses)."""
        from corefn.report.scan import scan_function_code

        props = self.props(fn)
        runtime = str(props.get("Runtime", self.glob.get("Runtime", "")))
        code, handler = props.get("CodeUri", self.glob.get("CodeUri", ".")), props.get("Handler", self.glob.get("Handler"))
        if not runtime.startswith("python") or not isinstance(code, str) or not isinstance(handler, str) or "." not in handler:
            return
        module, function = handler.rsplit(".", 1)
        path = (self.path.parent / code / (module.replace(".", "/") + ".py")).resolve()
        if path.is_file():
            scan_function_code(self.subject, path, function, fn, self.path.parent.resolve())

    def _handlers(self, fn: str) -> None:
        props = self.props(fn)
        if isinstance(props.get("FunctionUrlConfig"), dict):
            self.events[fn].append(("FunctionUrl", {"kind": "http", "route": "/", "methods": ["ANY"], "_via": "function-url"}, {}))
        events = self.events[fn] or [("Invoke", {"kind": "invoke"}, {})]
        for event, trig, p in events:
            via = trig.get("_via")
            trig = {k: v for k, v in trig.items() if k != "_via"}
            source = next((trig.get(f) for f in ("queue", "stream", "table", "topic") if trig.get(f)), None)
            sp = self.props(source) if source in self.resources else {}
            redrive = sp.get("RedrivePolicy") or {}
            options = {
                "memory": props.get("MemorySize", self.glob.get("MemorySize")),
                "timeout": props.get("Timeout", self.glob.get("Timeout")),
                "ordered": trig["kind"] in ("stream", "nosql") or bool(sp.get("FifoQueue")),
                "max_attempts": redrive.get("maxReceiveCount") if isinstance(redrive, dict) else None,
                "batch": bool(p.get("BatchSize")) if isinstance(p, dict) else False,
                "via": via,
            }
            options = {k: (v if isinstance(v, int | float | bool | str) or v is None else None) for k, v in options.items()}
            self.subject.handlers.append(Handler(f"{fn}.{event}", trig, options, where=self.at(fn)))

    # ---------------------------------------------------------------------------- features
    def _layers(self, fn: str) -> None:
        layers = list(self.props(fn).get("Layers") or []) + list(self.glob.get("Layers") or [])
        for layer in layers:
            local = ref(layer)
            text = layer.get("Fn::Sub") if isinstance(layer, dict) else layer
            text = text[0] if isinstance(text, list) and text else text
            if local:
                name, detail = local, "a Lambda layer built from this template"
            elif isinstance(text, str) and (m := _LAYER_ARN.search(re.sub(r"\$\{AWS::(Region|Partition)\}", "x", text))):
                account = m.group("account")
                name = m.group("name")
                if account.isdigit() and len(account) == 12:
                    detail = f"a Lambda layer published by AWS account {account}, outside this template: the function breaks if that account deletes or stops sharing the version"
                else:
                    detail = "a Lambda layer published from this account, outside this template"
            else:
                name, detail = str(text), "a Lambda layer given by a parameter or expression"
            self.subject.needs.append(Need("feature", "layer", f"{name} ({fn})", {"handler": fn}, where=self.at(fn),
                                           detail=detail))

    def _apis(self) -> None:
        for name, res in self.resources.items():
            t, p = res.get("Type"), self.props(name)
            if t == "AWS::ApiGateway::Method":
                integ = p.get("Integration") or {}
                if str(integ.get("Type")).upper() == "AWS":
                    action = service_action(integ.get("Uri"))
                    self._direct(f"{name}: {p.get('HttpMethod')} {self._route(p.get('ResourceId'))}", action, integ, name)
            elif t == "AWS::ApiGatewayV2::Integration" and p.get("IntegrationSubtype"):
                self._direct(name, str(p["IntegrationSubtype"]), p, name)
            elif t in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi"):
                body = p.get("DefinitionBody") or p.get("Body")
                if body is None and isinstance(p.get("DefinitionUri"), str):
                    body = self._local(str(p["DefinitionUri"]), f"{name}.DefinitionUri")
                if isinstance(body, dict) and "Fn::Transform" in body:
                    body = self._transform(body["Fn::Transform"], f"{name}.DefinitionBody")
                if isinstance(body, dict):
                    self._openapi(name, body)

    def _openapi(self, api: str, body: dict[str, Any]) -> None:
        for path, ops in (body.get("paths") or {}).items():
            for method, op in (ops or {}).items():
                integ = (op or {}).get("x-amazon-apigateway-integration") if isinstance(op, dict) else None
                if not isinstance(integ, dict):
                    continue
                subtype = integ.get("integrationSubtype")
                proxied = next((r for r in refs_in(integ.get("uri")) if r in self.events), None)
                if proxied and str(integ.get("type")).lower() == "aws_proxy" and not subtype:
                    trig = {"kind": "http", "route": str(path), "methods": [str(method).upper()]}
                    self.events[proxied].append((f"{api} {str(method).upper()} {path}", trig, {}))
                elif str(integ.get("type")).lower() == "aws" or subtype:
                    action = str(subtype) if subtype else service_action(integ.get("uri"))
                    self._direct(f"{api}: {method.upper()} {path}", action, integ, api)

    def _direct(self, name: str, action: str, integ: Any, resource: str) -> None:
        writes = sorted(r for r in self._reached(integ) if self.type_of(r) in DATA_RESOURCES)
        for used in writes:
            self.used.setdefault(used, set()).add("api")
        self.subject.needs.append(Need("feature", "direct-integration", name, {"handler": "*", "writes": writes},
                                       where=self.at(resource),
                                       detail=f"API Gateway calls {action} directly, with no function behind it"))

    def _state_machines(self) -> None:
        for name, res in self.resources.items():
            if res.get("Type") in STATE_MACHINES:
                p = self.props(name)
                kind = p.get("Type") or p.get("StateMachineType") or "STANDARD"
                calls = sorted(r for r in refs_in(p) if self.type_of(r) in FUNCTIONS)
                detail = f"a Step Functions {str(kind).lower()} state machine" + (f" calling {', '.join(calls)}" if calls else "")
                self.subject.needs.append(Need("feature", "state-machine", name, {"handler": "*", "calls": calls},
                                               where=self.at(name), detail=detail))

    # ---------------------------------------------------------------------------- includes
    def _includes(self, node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::Transform":
                    if not where.endswith(("DefinitionBody", ".Body")):  # API bodies: read by _apis
                        self._include_elsewhere(value, where)
                elif key == "Transform" and where == "template":
                    for spec in value if isinstance(value, list) else [value]:
                        self._include_elsewhere(spec, "the template's Transform")
                else:
                    self._includes(value, f"{where}.{key}" if where != "template" else key)
            res_type = node.get("Type")
            if res_type in ("AWS::Serverless::Application", "AWS::CloudFormation::Stack"):
                location = (node.get("Properties") or {}).get("Location") or (node.get("Properties") or {}).get("TemplateURL")
                self._unresolved(f"nested stack {location if isinstance(location, str) else '(computed location)'}",
                                 f"{res_type} {where}: its resources are not part of this report")
        elif isinstance(node, list):
            for item in node:
                self._includes(item, where)

    def _include_elsewhere(self, spec: Any, where: str) -> None:
        """An include outside an API definition: its resources or properties are not analysed."""
        if isinstance(spec, dict) and spec.get("Name") == "AWS::Include":
            location = (spec.get("Parameters") or {}).get("Location")
            self._unresolved(str(as_text(location)), f"AWS::Include at {where} (only API definitions are read from includes)")

    def _transform(self, spec: Any, where: str) -> Any:
        spec = spec if isinstance(spec, dict) else {}
        if spec.get("Name") != "AWS::Include":
            return None
        location = (spec.get("Parameters") or {}).get("Location")
        if isinstance(location, str) and not location.startswith("s3://"):
            return self._local(location, where)
        self._unresolved(str(location), f"AWS::Include at {where} is not a local file")
        return None

    def _local(self, location: str, where: str) -> Any:
        target = (self.path.parent / location).resolve()
        if not target.is_file():
            self._unresolved(location, f"AWS::Include at {where}: {location} is not beside the template")
            return None
        try:
            from corefn.report._cfn_yaml import _yaml

            return _yaml(target.read_text(encoding="utf-8"), target)
        except Exception as exc:  # noqa: BLE001 - an unreadable include is reported, not fatal
            self._unresolved(location, f"AWS::Include at {where}: {exc}")
            return None

    def _unresolved(self, location: str, text: str) -> None:
        name = f"include: {location}"
        if not any(f.name == name for f in self.subject.findings):
            self.subject.findings.append(
                Finding("*", name, f"{text}; what it defines is not in this report", "aws", "M", scored=False)
            )

    # ---------------------------------------------------------------------------- sinks
    def _sinks(self) -> None:
        dead_letters = {ref((self.props(n).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
                        for n in self.resources if isinstance(self.props(n).get("RedrivePolicy"), dict)}
        for name, res in self.resources.items():
            kind = DATA_RESOURCES.get(str(res.get("Type")))
            if kind is None or name in dead_letters:
                continue  # a dead-letter queue belongs to the queue it serves
            # a function whose role or environment names its own trigger's source reads it, not writes it
            consumers = {h.name.split(".")[0] for h in self.subject.handlers if name in h.trigger.values()}
            users = self.used.get(name, set()) - consumers
            if name in self.triggered and not users:
                continue  # only feeds a trigger: the trigger is the item
            options: dict[str, Any] = {"target": kind[1]} if kind[1] else {}
            self.subject.needs.append(Need("sink", kind[0], name, options, where=self.at(name)))
            for h in self.subject.handlers:
                if h.name.split(".")[0] in users and name not in h.trigger.values():  # reading its own source
                    h.sinks.append(name)


def read_template(path: Path) -> Subject:
    """The report subject of the SAM / CloudFormation template at ``path``."""
    return _Reader(path).read()
