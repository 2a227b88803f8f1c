"""The bundled samples read as the trigger kind they are named after."""

from __future__ import annotations

import pytest

from corefn.adapters import parse
from corefn.errors import ConfigurationError
from corefn_aws.samples import TRIGGERS, sample


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_each_sample_is_its_kind(trigger: str) -> None:
    parsed = parse(sample(trigger), cloud="aws")
    assert parsed.events and {e.kind for e in parsed.events} == {trigger}
    if trigger != "invoke":
        assert parse(sample(trigger)).cloud == "aws"  # detected without --cloud too


def test_samples_are_fresh_copies() -> None:
    first = sample("queue")
    first["Records"].clear()
    assert sample("queue")["Records"]


def test_unknown_trigger_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="storage"):
        sample("bucket")


def test_the_documented_shape_table_lists_every_shape_in_order() -> None:
    import corefn_aws

    table = [line.split()[0] for line in (corefn_aws.__doc__ or "").splitlines() if line[:1].isalpha() and "  " in line]
    documented = [name for name in table if name != "shape"]  # the header row
    assert documented == [shape.name for shape in corefn_aws.SHAPES]
