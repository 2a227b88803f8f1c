"""HTTP routes: ``/devices/{id}`` matches one segment, ``/files/{path+}`` the rest of the path
(API Gateway's greedy syntax; Azure calls it ``{*path}``). Compiled once per app."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from corefn.errors import ConfigurationError

if TYPE_CHECKING:
    from corefn.specs import HandlerSpec

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}")


def compile_route(route: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    pattern, names, pos = "", [], 0
    for match in _PARAM.finditer(route):
        pattern += re.escape(route[pos : match.start()])
        name, greedy = match.group(1), match.group(2)
        if name in names:
            raise ConfigurationError(f"route {route!r} names parameter {name!r} twice")
        if greedy and match.end() != len(route):
            raise ConfigurationError(f"route {route!r}: a greedy parameter {{{name}+}} must come last")
        names.append(name)
        pattern += f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)"
        pos = match.end()
    pattern += re.escape(route[pos:])
    return re.compile(pattern + "/?$" if route != "/" else "/$"), tuple(names)


class Route(NamedTuple):
    spec: HandlerSpec
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    methods: frozenset[str]


class Router:
    """Matches (method, path) to a handler. Static routes win over parameterised ones, as on
    API Gateway, so ``/devices/latest`` beats ``/devices/{id}`` whatever the declaration order."""

    __slots__ = ("_routes", "_static")

    def __init__(self, specs: list[HandlerSpec]) -> None:
        routes = []
        for spec in specs:
            route: str = spec.trigger.route  # type: ignore[attr-defined]
            pattern, params = compile_route(route)
            methods = frozenset(spec.trigger.methods)  # type: ignore[attr-defined]
            routes.append(Route(spec, pattern, params, methods))
        routes.sort(key=lambda r: (len(r.params), -len(r.pattern.pattern)))
        self._routes = tuple(routes)
        # Routes without parameters, by the exact paths they match (the pattern's optional
        # trailing slash included): most requests find their handler in one dict lookup.
        static: dict[str, list[Route]] = {}
        for found in routes:
            if not found.params:
                route = found.spec.trigger.route  # type: ignore[attr-defined]
                for path in (route,) if route == "/" else (route, route + "/"):
                    static.setdefault(path, []).append(found)
        self._static = static

    def match(self, method: str, path: str) -> tuple[HandlerSpec | None, dict[str, str], frozenset[str]]:
        """(spec, params, allowed methods). ``spec`` is None when nothing matches the method;
        ``allowed`` is then empty for a 404 and non-empty for a 405."""
        method = method.upper()
        for route in self._static.get(path, ()):  # a static route wins (the order of _routes)
            if method in route.methods or "*" in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route.spec, {}, _NO_METHODS
        allowed: set[str] = set()
        for route in self._routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if method in route.methods or "*" in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route.spec, found.groupdict(), _NO_METHODS
            allowed |= route.methods
        return None, {}, frozenset(allowed)


_NO_METHODS: frozenset[str] = frozenset()
