"""The app reference, the same everywhere: ``module:attr`` or ``path/to/file.py:attr``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from corefn import App
from corefn.errors import AppLoadError
from corefn.loader import app_requirements, bundled_ref, load_app, split_ref


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("pkg.mod:application", ("pkg.mod", "application")),
        ("mod", ("mod", "app")),
        ("x:app", ("x", "app")),  # a one-letter module is not a drive
        ("examples/demo/app.py:web", ("examples/demo/app.py", "web")),
        (r"C:\work\app.py", (r"C:\work\app.py", "app")),
        (r"C:\work\app.py:web", (r"C:\work\app.py", "web")),
    ],
)
def test_split_ref(ref: str, expected: tuple[str, str]) -> None:
    assert split_ref(ref) == expected


def test_bundled_ref_is_the_module_beside_the_bundle_root() -> None:
    assert bundled_ref("examples/demo/app.py:web") == "app:web"
    assert bundled_ref("pkg.mod:application") == "pkg.mod:application"


def test_load_app_from_a_file_with_its_siblings_importable(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_for_loader.py").write_text("NAME = 'from a sibling'\n")
    (tmp_path / "service.py").write_text(textwrap.dedent("""
        from corefn import App
        import helper_mod_for_loader
        web = App("loaded")
        TITLE = helper_mod_for_loader.NAME
    """))
    app = load_app(f"{tmp_path / 'service.py'}:web")
    assert isinstance(app, App) and app.name == "loaded"
    assert load_app(f"{tmp_path / 'service.py'}:web") is app  # once per process


def test_load_errors_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COREFN_APP", raising=False)
    with pytest.raises(AppLoadError, match="COREFN_APP"):
        load_app(None)
    with pytest.raises(AppLoadError, match="no such file"):
        load_app(str(tmp_path / "missing.py"))
    (tmp_path / "notapp.py").write_text("app = 42\n")
    with pytest.raises(AppLoadError, match="is int, not a corefn App"):
        load_app(f"{tmp_path / 'notapp.py'}:app")
    with pytest.raises(AppLoadError, match="cannot import 'no_such_module_xyz'"):
        load_app("no_such_module_xyz:app")


def test_app_requirements_are_read_beside_the_app(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    assert app_requirements(f"{tmp_path / 'app.py'}:app") == []
    (tmp_path / "requirements.txt").write_text("# image work\nPillow>=10.3  # decoding\n\nrequests\n")
    assert app_requirements(f"{tmp_path / 'app.py'}:app") == ["Pillow>=10.3", "requests"]
