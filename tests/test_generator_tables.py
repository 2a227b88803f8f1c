"""The AWS, Azure and Knative generators dispatch on the trigger's class through one table each
(``corefn_aws.generator.EVENTS``, ``corefn_azure.generator.FUNCTIONS``, ``corefn_knative.generator.FEEDS``): every row's planner takes
exactly its key's trigger class (the table is typed by this test, as mypy cannot relate a dict's
keys to its values), every event kind is either a row or refused by name, and a trigger class no
row names is a ConfigurationError, never a function deployed without its event source."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from corefn import App
from corefn.errors import ConfigurationError
from corefn.kinds import KINDS
from corefn.specs import Trigger
from corefn_aws import adapter as aws
from corefn_aws import generator as aws_generator
from corefn_azure import adapter as azure
from corefn_azure import generator as azure_generator
from corefn_knative import adapter as knative
from corefn_knative import generator as knative_generator

TABLES: dict[str, dict[type[Trigger], Callable[..., Any]]] = {
    "aws": aws_generator.EVENTS,  # type: ignore[dict-item]
    "azure": azure_generator.FUNCTIONS,  # type: ignore[dict-item]
    "knative": knative_generator.FEEDS,
}
#: event kinds a cloud has no trigger for (refused at plan time, with the handler's name)
UNDEPLOYABLE = {"aws": set(), "azure": {"invoke", "authorizer"}, "knative": {"nosql", "authorizer"}}


def _trigger_parameter(planner: Callable[..., Any]) -> set[type]:
    """The classes the planner's last parameter (the trigger) is annotated with."""
    annotation = planner.__annotations__[list(inspect.signature(planner).parameters)[-1]]
    module = vars(inspect.getmodule(planner))
    return {module[name.strip()] for name in str(annotation).split("|")}


@pytest.mark.parametrize("cloud", sorted(TABLES))
def test_each_planner_takes_the_trigger_class_it_is_keyed_by(cloud: str) -> None:
    for trigger, planner in TABLES[cloud].items():
        assert trigger in _trigger_parameter(planner), f"{cloud}: {planner.__name__} is filed under {trigger.__name__}"


@pytest.mark.parametrize("cloud", sorted(TABLES))
def test_every_kind_has_a_row_or_is_refused_by_design(cloud: str) -> None:
    missing = {k.name for k in KINDS if k.trigger not in TABLES[cloud]}
    assert missing == UNDEPLOYABLE[cloud]


class _Carrier(Trigger):
    """A trigger class no generator knows (a new kind, before its rows are written)."""

    __slots__ = ()
    kind = "pigeon"


@pytest.mark.parametrize("provider", [aws, azure, knative], ids=lambda p: p.name)
def test_a_trigger_class_without_a_row_is_refused_by_name(provider: Any) -> None:
    app = App("tables")
    app.invoke(name="coo")(lambda event: None)
    spec = app.handler("coo")
    app._handlers["coo"] = spec.replace(trigger=_Carrier())  # as a decorator for a new kind would declare it
    with pytest.raises(ConfigurationError, match=r"'coo'"):
        provider.generate(app, "tables:app")
