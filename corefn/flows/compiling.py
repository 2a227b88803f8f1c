"""What every flow compiler needs and no cloud owns: error names as the clouds see them.

The local engine matches a rule's names against a failed step's error class *and its bases*
(``Retry("SinkError")`` retries a ``SinkThrottledError``). A cloud's workflow service sees only
the name the function reported: Lambda's ``errorType`` is the class's own name
(https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html), and corefn's HTTP and
activity runtimes report ``"<class name>: <message>"``. So a compiler expands each name into the
names of every loaded exception class that has it among its bases; the app's modules (and so its
exception classes) are imported before a flow is compiled.

Only classes of corefn and of the app's own folder count (see :func:`home_of`): what else a
process happens to have imported (a test suite, a notebook) must not change the output.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corefn.flows.spec import ANY_ERROR


def home_of(app: Any) -> Callable[[type], bool]:
    """Whether a class is corefn's or comes from the folder (or below) of one of ``app``'s
    handler modules: the classes whose names a compiled flow may list."""
    homes: set[Path] = set()
    for spec in app.handlers:
        module = sys.modules.get(getattr(spec.handler, "__module__", "") or "")
        file = getattr(module, "__file__", None)
        if file:
            homes.add(Path(file).resolve().parent)

    def belongs(cls: type) -> bool:
        name = cls.__module__
        if name == "corefn" or name.startswith("corefn."):
            return True
        file = getattr(sys.modules.get(name), "__file__", None)
        return isinstance(file, str) and any(Path(file).resolve().is_relative_to(home) for home in homes)

    return belongs


def subclass_names(name: str, where: Callable[[type], bool] | None = None) -> list[str]:
    """Names of loaded exception classes with a base (not themselves) named ``name``, sorted;
    only those ``where`` accepts, when given."""
    found: set[str] = set()
    stack: list[type[BaseException]] = [BaseException]
    seen: set[type[BaseException]] = set()
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if sub.__name__ != name and any(base.__name__ == name for base in sub.__mro__[1:]) and (where is None or where(sub)):
                found.add(sub.__name__)
    return sorted(found)


def expand(errors: tuple[str, ...], reserved: dict[str, str], where: Callable[[type], bool] | None = None) -> list[str]:
    """A rule's names as a cloud compares them: a name in ``reserved`` becomes the cloud's own
    word (and is not expanded), any other name is followed by its subclasses' names. ``"*"``
    alone stands for every error; it maps through ``reserved`` too."""
    if ANY_ERROR in errors:
        return [reserved.get(ANY_ERROR, ANY_ERROR)]
    out: list[str] = []
    for name in errors:
        for each in [reserved.get(name, name), *([] if name in reserved else subclass_names(name, where))]:
            if each not in out:
                out.append(each)
    return out


__all__ = ["expand", "home_of", "subclass_names"]
