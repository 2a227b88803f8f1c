"""Public ``Literal`` type aliases (``StorageOperation``, ``Nature`` ...) built when first named
at run time, not when their module is imported.

The modules every cold start imports keep ``typing`` out: it imports ``re``, which imports
``enum``, ~5 ms of a Lambda cold start together, more than corefn's own modules. The type checker
reads each alias from its module's ``if TYPE_CHECKING:`` block; a module's ``__getattr__`` calls
:func:`alias` for code that reads the alias at run time (``typing.get_args(StorageOperation)``),
which gets the same ``Literal`` as before."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def alias(module: dict[str, Any], name: str, values: tuple[str, ...]) -> Any:
    """``Literal[values]``, kept in ``module`` (a module's ``globals()``) under ``name``, so that
    the module's ``__getattr__`` runs once per alias."""
    from typing import Literal

    module[name] = made = Literal[values]
    return made


def missing(module: str, name: str) -> AttributeError:
    """What a module's ``__getattr__`` raises for a name it does not have."""
    return AttributeError(f"module {module!r} has no attribute {name!r}")
