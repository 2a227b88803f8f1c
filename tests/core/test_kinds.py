"""The table of event kinds (:mod:`corefn.kinds`) agrees with every class it names and with the
readers that depend on it, so adding a kind is one row, never a hunt for spellings."""

from __future__ import annotations

import typing

import pytest

from corefn import kinds
from corefn.dispatch import RESOURCE_FIELD
from corefn.events import EVENT_KINDS
from corefn.local.deliveries import EVENT_BUILDERS
from corefn.local.runner import QUEUED_KINDS
from corefn.policy import DELIVERY


@pytest.mark.parametrize("row", kinds.KINDS, ids=lambda k: k.name)
def test_row_names_classes_of_its_kind(row: kinds.Kind) -> None:
    assert row.event.kind == row.name
    assert row.trigger.kind == row.name
    if row.resource_field is not None:
        assert any(row.resource_field in getattr(cls, "__slots__", ()) for cls in row.event.__mro__)


def test_table_is_ordered_by_nature_and_complete() -> None:
    order = typing.get_args(kinds.Nature)
    positions = [order.index(k.nature) for k in kinds.KINDS]
    assert positions == sorted(positions)
    assert {k.name: k.event for k in kinds.KINDS} == EVENT_KINDS


def test_only_requests_are_delivered_synchronously() -> None:
    """A caller waits only for a request; every other kind is retried and dead-lettered (its
    delivery column says how), so a new message kind cannot silently become "sync"."""
    assert {k.name for k in kinds.KINDS if k.delivery == "sync"} == set(kinds.names("request"))
    assert DELIVERY == {k.name: k.delivery for k in kinds.KINDS}


def test_readers_take_their_kinds_from_the_table() -> None:
    assert RESOURCE_FIELD == kinds.resource_fields()
    assert QUEUED_KINDS == kinds.names("message", "change", "schedule")
    assert set(EVENT_BUILDERS) == set(QUEUED_KINDS)  # the local runtime can rebuild every queued kind


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="http, invoke"):
        kinds.kind("carrier-pigeon")
