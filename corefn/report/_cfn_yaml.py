"""Reading CloudFormation YAML: short-form intrinsic functions (``!Ref``, ``!GetAtt``, ``!Sub``,
``!If`` ...) become the long form CloudFormation itself uses (``{"Ref": ...}``,
``{"Fn::GetAtt": [resource, attribute]}``), so the template reader sees one shape.

CloudFormation's rule ("Intrinsic function reference", short form): ``!GetAtt A.B`` is
``Fn::GetAtt: [A, B]``; ``!Ref`` keeps its name; every other ``!X`` is ``Fn::X``. Dates stay
strings (``AWSTemplateFormatVersion: 2010-09-09`` is not a date to CloudFormation).

PyYAML is the ``report`` extra, imported only when a template is read.
"""

from __future__ import annotations

import json
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
