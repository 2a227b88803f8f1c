"""The facts loader: every fact names its source, every file its check date."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from corefn import facts
from corefn.errors import ConfigurationError


@pytest.fixture
def facts_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "fakecloud_facts"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(facts, "facts_package", lambda cloud: "fakecloud_facts")
    yield folder
    sys.modules.pop("fakecloud_facts", None)


def test_loads_topics_with_their_dates(facts_pkg: Path) -> None:
    (facts_pkg / "limits.toml").write_text(
        '[meta]\nchecked = 2026-12-01\n[limits.timeout]\nmax = 900\nsource = "https://example.com/limits"\n'
    )
    loaded = facts.load("fake")
    assert loaded.get("limits", "limits.timeout") == {"max": 900, "source": "https://example.com/limits"}
    assert str(loaded.checked["limits"]) == "2026-12-01"
    assert loaded.topic("prices") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[limits.timeout]\nmax = 900\nsource = "https://x"\n', "checked = YYYY-MM-DD"),
        ('[meta]\nchecked = 2026-12-01\n[limits.timeout]\nmax = 900\n', "needs source"),
        ('[meta]\nchecked = 2026-12-01\n[limits.timeout]\nmax = 900\nsource = "http://x"\n', "needs source"),
        ("[meta\n", "not valid TOML"),
    ],
)
def test_refuses_undated_or_unsourced_facts(facts_pkg: Path, text: str, says: str) -> None:
    (facts_pkg / "limits.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=says):
        facts.load("fake")


def test_grouping_tables_need_no_source(facts_pkg: Path) -> None:
    (facts_pkg / "services.toml").write_text(
        '[meta]\nchecked = 2026-12-01\n[triggers.queue.sqs]\nservice = "SQS"\nsource = "https://x"\n'
    )
    assert [path for path, _ in facts.iter_facts(facts.load("fake").topic("services"))] == ["triggers.queue.sqs"]
