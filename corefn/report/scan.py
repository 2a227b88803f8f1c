"""Provider-specific code in an app's handler modules, found by reading their syntax tree (nothing
is imported or run): provider SDK imports, reads of an event's ``raw`` payload, provider
environment variables, and which sinks each handler touches (for the picture of the layers).

A finding inside a handler's function is that handler's; one at module level (an import) is
reported as ``*``, the whole module. Local modules the handler modules import (a sibling
``reports_db.py``) are read too, one level deep.
"""

from __future__ import annotations

import ast
from pathlib import Path

from corefn.report.model import Finding, Subject, _short

#: top-level import prefix → the cloud it ties the code to
PROVIDER_IMPORTS: dict[str, str] = {
    "boto3": "aws",
    "botocore": "aws",
    "aws_lambda_powertools": "aws",
    "awswrangler": "aws",
    "corefn_aws": "aws",
    "azure": "azure",
    "corefn_azure": "azure",
    "google.cloud": "gcp",
    "google.api_core": "gcp",
    "google.auth": "gcp",
    "google.events": "gcp",
    "firebase_admin": "gcp",
    "functions_framework": "gcp",
    "corefn_gcp": "gcp",
    "ibm_boto3": "openwhisk",
    "ibm_botocore": "openwhisk",
    "ibmcloudant": "openwhisk",
    "ibm_cloud_sdk_core": "openwhisk",
    "corefn_openwhisk": "openwhisk",
}

#: environment variable prefix (or exact name) → the cloud whose runtime sets it
PROVIDER_ENV: tuple[tuple[str, str], ...] = (
    ("AWS_", "aws"),
    ("AMAZON_", "aws"),
    ("LAMBDA_TASK_ROOT", "aws"),
    ("_X_AMZN_", "aws"),
    ("WEBSITE_", "azure"),
    ("FUNCTIONS_", "azure"),
    ("AZURE_", "azure"),
    ("AzureWebJobs", "azure"),
    ("K_SERVICE", "gcp"),
    ("K_REVISION", "gcp"),
    ("K_CONFIGURATION", "gcp"),
    ("FUNCTION_TARGET", "gcp"),
    ("FUNCTION_SIGNATURE_TYPE", "gcp"),
    ("GOOGLE_", "gcp"),
    ("GCP_", "gcp"),
    ("GCLOUD_", "gcp"),
    ("__OW_", "openwhisk"),
)

SINK_METHODS = frozenset({"object_store", "table", "cache", "sql", "publisher"})


def provider_of_import(module: str) -> str | None:
    for prefix, cloud in PROVIDER_IMPORTS.items():
        if module == prefix or module.startswith(prefix + "."):
            return cloud
    return None


def provider_of_env(name: str) -> str | None:
    for prefix, cloud in PROVIDER_ENV:
        if name.startswith(prefix):
            return cloud
    return None


def scan_modules(subject: Subject, files: dict[Path, list[tuple[str, str]]], sinks: list[str]) -> None:
    """Add ``subject``'s findings, ``uses_tmp`` and each handler's ``sinks`` from ``files`` (path →
    [(handler name, function name)])."""
    by_name = {h.name: h for h in subject.handlers}
    seen: set[Path] = set()
    for path, handlers in files.items():
        tree = _parse(path)
        if tree is None:
            continue
        seen.add(path)
        module = _Module(path, tree, set(sinks))
        owner = {fn: name for name, fn in handlers}
        for finding in module.findings(owner):
            subject.findings.append(finding)
        for name, fn in handlers:
            if name in by_name:
                by_name[name].sinks = sorted(module.sinks_of(fn))
            if module.uses_tmp(fn):
                subject.uses_tmp.add(name)
        for local in module.local_imports():
            if local in seen or local in files:
                continue
            seen.add(local)
            sub = _parse(local)
            if sub is not None:
                subject.findings.extend(_Module(local, sub, set(sinks)).findings({}))


def scan_function_code(subject: Subject, path: Path, function: str, owner: str, base: Path) -> None:
    """A template function's own Python code: the same scan as an app's, attributed to ``owner``
    (the function's logical id), plus the reads of the raw event (``event["Records"]``): code that
    indexes the provider's event shape must be rewritten for any other cloud's shape."""
    tree = _parse(path)
    if tree is None:
        return
    module = _Module(path, tree, set(), base)
    known = {(f.name, f.text) for f in subject.findings}
    found = module.findings({function: owner})
    fn = module.functions.get(function)
    if fn is not None and fn.args.args:
        event = fn.args.args[0].arg
        for node in ast.walk(fn):
            reads = (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == event) or (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == event)
            if reads:
                found.append(Finding(owner, "provider event shape", f"{module.short}:{getattr(node, 'lineno', 0)}: "
                                     f"the handler indexes the provider's event ({event}[...]); other clouds deliver "
                                     "other shapes: read a portable event instead", "aws", "M"))
                break
    for local in module.local_imports():
        sub = _parse(local)
        if sub is not None:
            found.extend(_Module(local, sub, set(), base).findings({}))
    for finding in found:
        if (finding.name, finding.text) not in known:
            known.add((finding.name, finding.text))
            subject.findings.append(finding)
    if module.uses_tmp(function):
        subject.uses_tmp.update(h.name for h in subject.handlers if h.name.split(".")[0] == owner)


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


class _Module:
    def __init__(self, path: Path, tree: ast.Module, sink_names: set[str], base: Path | None = None) -> None:
        self.path = path
        self.tree = tree
        self.short = _short(path)
        if base is not None and path.is_relative_to(base):
            self.short = str(path.relative_to(base))
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        #: module-level variable → sink name (``devices = app.table("devices")``)
        self.sink_vars: dict[str, str] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                name = _sink_call(node.value)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if name in sink_names and isinstance(target, ast.Name):
                        self.sink_vars[target.id] = name

    def findings(self, owner: dict[str, str]) -> list[Finding]:
        found: list[tuple[int, Finding]] = []
        spans = [(fn.lineno, fn.end_lineno or fn.lineno, owner[name]) for name, fn in self.functions.items() if name in owner]

        def who(line: int) -> str:
            return next((h for start, end, h in spans if start <= line <= end), "*")

        for node in ast.walk(self.tree):
            where = f"{self.short}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.module:
                    modules += [f"{node.module}.{a.name}" for a in node.names]
                cloud = next((c for c in map(provider_of_import, modules) if c), None)
                if cloud and not (isinstance(node, ast.ImportFrom) and node.level):
                    shown = modules[0] if modules[0] else modules[-1]
                    found.append((node.lineno, Finding(who(node.lineno), f"{cloud} SDK import {shown}",
                                         f"{where}: imports {shown}, which only works against {cloud}; "
                                         "replace it with a corefn sink or an injected client", cloud, "M")))
            elif isinstance(node, ast.Attribute) and node.attr == "raw" and isinstance(node.ctx, ast.Load):
                found.append((node.lineno, Finding(who(node.lineno), "raw payload read",
                                     f"{where}: reads the provider's raw payload, whose shape differs on every cloud; "
                                     "use the event's portable fields", None, "S")))
            else:
                env = _env_name(node)
                cloud = provider_of_env(env) if env else None
                line = getattr(node, "lineno", 0)
                if env and cloud:
                    found.append((line, Finding(who(line), f"{cloud} environment variable {env}",
                                         f"{where}: reads {env}, which only {cloud}'s runtime sets; "
                                         "pass the value as app configuration", cloud, "S")))
        found.sort(key=lambda pair: pair[0])
        return [finding for _, finding in found]

    def sinks_of(self, function: str) -> set[str]:
        """Sinks a function touches directly or through the module's own functions it calls."""
        done: set[str] = set()
        found: set[str] = set()
        todo = [function]
        while todo:
            name = todo.pop()
            if name in done or name not in self.functions:
                continue
            done.add(name)
            for node in ast.walk(self.functions[name]):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    if node.id in self.sink_vars:
                        found.add(self.sink_vars[node.id])
                    elif node.id in self.functions:
                        todo.append(node.id)
                elif (
                    isinstance(node, ast.Subscript)
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "sinks"
                    and isinstance(node.slice, ast.Constant)
                    and isinstance(node.slice.value, str)
                ):
                    found.add(node.slice.value)
        return found

    def uses_tmp(self, function: str) -> bool:
        fn = self.functions.get(function)
        nodes = list(ast.walk(fn)) if fn is not None else []
        return any(
            (isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("/tmp"))
            or (isinstance(n, ast.Name) and n.id == "tempfile")
            or (isinstance(n, ast.Attribute) and n.attr in ("gettempdir", "NamedTemporaryFile", "TemporaryDirectory"))
            for n in nodes
        )

    def local_imports(self) -> list[Path]:
        found = []
        for node in self.tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                candidate = self.path.parent / (name.split(".")[0] + ".py")
                if candidate.is_file() and candidate != self.path:
                    found.append(candidate)
        return found


def _sink_call(call: ast.Call) -> str | None:
    if (
        isinstance(call.func, ast.Attribute)
        and call.func.attr in SINK_METHODS
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ):
        return call.args[0].value
    return None


def _env_name(node: ast.AST) -> str | None:
    """``os.environ["X"]``, ``os.environ.get("X")``, ``os.getenv("X")``, ``environ.get("X")`` → X."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        key = node.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        value = node.args[0].value
        if not isinstance(value, str):
            return None
        if isinstance(func, ast.Attribute) and func.attr == "getenv":
            return value
        if isinstance(func, ast.Name) and func.id == "getenv":
            return value
        if isinstance(func, ast.Attribute) and func.attr in ("get", "pop") and _is_environ(func.value):
            return value
    return None


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (isinstance(node, ast.Name) and node.id == "environ")
