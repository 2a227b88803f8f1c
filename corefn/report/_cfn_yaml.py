"""Reading CloudFormation: the YAML, and the intrinsic values in it.

Short-form intrinsic functions (``!Ref``, ``!GetAtt``, ``!Sub``,
``!If`` ...) become the long form CloudFormation itself uses (``{"Ref": ...}``,
``{"Fn::GetAtt": [resource, attribute]}``), so the template reader sees one shape.

CloudFormation's rule ("Intrinsic function reference", short form): ``!GetAtt A.B`` is
``Fn::GetAtt: [A, B]``; ``!Ref`` keeps its name; every other ``!X`` is ``Fn::X``. Dates stay
strings (``AWSTemplateFormatVersion: 2010-09-09`` is not a date to CloudFormation).

PyYAML is the ``report`` extra, imported only when a template is read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from corefn.errors import ConfigurationError, MissingExtraError


def load_template(path: Path) -> dict[str, Any]:
    """The template at ``path`` (YAML or JSON) as plain data; a clear error when it is neither."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the template ({exc.strerror})") from exc
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{path}: not valid JSON ({exc})") from exc
    else:
        data = _yaml(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise ConfigurationError(f"{path}: not a CloudFormation template (no Resources mapping)")
    return data


def resource_lines(path: Path, names: list[str]) -> dict[str, int]:
    """The line (from 1) where each logical id is declared under ``Resources``, found in the text
    (YAML or JSON alike), so the report can say ``template.yaml:57``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((n for n, line in enumerate(lines) if re.match(r'\s*"?Resources"?\s*:', line)), 0)
    wanted = set(names)
    found: dict[str, int] = {}
    for n in range(start, len(lines)):
        match = re.match(r'\s*"?([A-Za-z0-9]+)"?\s*:', lines[n])
        if match and match.group(1) in wanted and match.group(1) not in found:
            found[match.group(1)] = n + 1
    return found


def _yaml(text: str, path: Path) -> Any:
    try:
        import yaml
    except ImportError as exc:
        raise MissingExtraError("PyYAML", "report") from exc

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            resource, _, attribute = value.partition(".")
            return {"Fn::GetAtt": [resource, attribute]}
        return {f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    # CloudFormation reads 2010-09-09 as a string, not a date
    Loader.yaml_implicit_resolvers = {
        key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigurationError(f"{path}: not valid YAML{where}: {problem}") from exc


def ref(value: Any) -> str | None:
    """The logical id ``value`` points at (``Ref``, ``Fn::GetAtt``), or None."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".")[0]
    return None


def as_text(value: Any) -> str | None:
    """A template value as text for the report: strings as they are, ``Ref`` as ``${Name}``,
    ``Fn::Sub`` as its pattern, anything else computed as ``(computed)``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    name = ref(value)
    if name and "Ref" in value:
        return "${" + name + "}"
    sub = value.get("Fn::Sub") if isinstance(value, dict) else None
    sub = sub[0] if isinstance(sub, list) and sub else sub
    return sub if isinstance(sub, str) else "(computed)"


def refs_in(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        name = ref(value)
        if name:
            found.add(name)
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
        for item in value.values():
            found |= refs_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs_in(item)
    return found


def service_action(uri: Any) -> str:
    """``dynamodb:action/PutItem`` from an API Gateway integration URI
    (``arn:aws:apigateway:REGION:dynamodb:action/PutItem``)."""
    text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
    text = text[0] if isinstance(text, list) and text else text
    if isinstance(text, str) and ":apigateway:" in text:
        plain = re.sub(r"\$\{[^}]*\}", "region", text)  # ${AWS::Region} holds colons
        return plain.split(":apigateway:", 1)[1].split(":", 1)[-1]
    return "an AWS service"
