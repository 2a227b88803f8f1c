"""What every flow compiler needs and no cloud owns: error names as the clouds see them.

The local engine matches a rule's names against a failed step's error class *and its bases*
(``Retry("SinkError")`` retries a ``SinkThrottledError``). A cloud's workflow service sees only
the name the function reported: Lambda's ``errorType`` is the class's own name
(https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html), and corefn's HTTP and
activity runtimes report ``"<class name>: <message>"``. So a compiler expands each name into the
names of every loaded exception class that has it among its bases; the app's modules (and so its
exception classes) are imported before a flow is compiled.

Only classes of corefn's error tree and of the app's own modules count (see :func:`home_of`):
what else a process happens to have imported (a test suite, a notebook) must not change the output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from corefn.flows.spec import ANY_ERROR


def home_of(app: Any) -> Callable[[type], bool]:
    """Whether a class is one a compiled flow of ``app`` may list: an exception class of
    :mod:`corefn.errors`, or one found from the app's handlers — in their modules' globals, and
    in the modules those import from the handlers' own folder (the example's ``imaging``), found
    by following the objects themselves, not ``sys.modules`` (which a test or a reload changes)."""
    import corefn.errors

    homes: set[Path] = set()
    namespaces: list[dict[str, Any]] = []
    for spec in app.handlers:
        code = getattr(spec.handler, "__code__", None)
        if code is not None:
            homes.add(Path(code.co_filename).resolve().parent)
            namespaces.append(spec.handler.__globals__)
    allowed: set[type] = set()
    seen: set[int] = set()
    namespaces.append(vars(corefn.errors))
    while namespaces:
        for value in list(namespaces.pop().values()):
            if isinstance(value, type) and issubclass(value, BaseException):
                allowed.add(value)
            elif isinstance(value, ModuleType) and id(value) not in seen:
                seen.add(id(value))
                file = getattr(value, "__file__", None)
                if isinstance(file, str) and any(Path(file).resolve().is_relative_to(home) for home in homes):
                    namespaces.append(vars(value))
    return allowed.__contains__


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
