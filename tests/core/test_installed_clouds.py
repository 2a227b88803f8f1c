"""Clouds come from what is installed (``corefn.adapters`` entry points), never from a list in
the core; the fifth-cloud proof is tests/test_fifth_cloud.py."""

from __future__ import annotations

from importlib.metadata import entry_points

from click.testing import CliRunner

from corefn import adapters
from corefn.cli import main


def test_installed_clouds_are_the_entry_points() -> None:
    assert adapters.installed_clouds() == sorted({ep.name for ep in entry_points(group="corefn.adapters")})
    assert "demo" not in adapters.installed_clouds()  # registered for the tests, not installed


def test_the_old_cloud_list_name_gives_what_is_installed() -> None:
    assert adapters.BUILTIN_CLOUDS == tuple(adapters.installed_clouds())


def test_cli_names_the_installed_clouds() -> None:
    help_text = CliRunner().invoke(main, ["event", "--help"]).output.replace("\n", " ")
    assert f"Installed clouds: {', '.join(adapters.installed_clouds())}." in help_text
    unknown = CliRunner().invoke(main, ["event", "no-such-cloud", "queue"])
    assert unknown.exit_code == 2 and ", ".join(adapters.installed_clouds()) in unknown.output
