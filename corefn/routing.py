"""HTTP routes: ``/devices/{id}`` matches one segment, ``/files/{path+}`` the rest of the path
(API Gateway's greedy syntax; Azure calls it ``{*path}``). Compiled once per app.

Static routes (no ``{``) need no regular expression: they are found by one dict lookup, so
``re`` (and the ``enum`` it imports, ~2 ms together) is imported only by an app that declares a
parameterised route, on its first request (a Lambda cold start pays it only then)."""

from __future__ import annotations

from corefn.errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

    from corefn.specs import HandlerSpec


def compile_route(route: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """The route's regular expression and its parameters' names, in order."""
    import re

    pattern, names, pos = "", [], 0
    for match in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}", route):
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


class Route:
    """One declared route. ``pattern`` is None for a static route, matched by equality."""

    __slots__ = ("methods", "params", "pattern", "spec")

    def __init__(self, spec: HandlerSpec, pattern: re.Pattern[str] | None, params: tuple[str, ...], methods: frozenset[str]) -> None:
        self.spec, self.pattern, self.params, self.methods = spec, pattern, params, methods

    def sort_key(self) -> tuple[int, int]:
        """Fewer parameters first, then the longer (more specific) pattern."""
        return len(self.params), -len(self.pattern.pattern if self.pattern is not None else self.spec.trigger.route)  # type: ignore[attr-defined]


class Router:
    """Matches (method, path) to a handler. Static routes win over parameterised ones, as on
    API Gateway, so ``/devices/latest`` beats ``/devices/{id}`` whatever the declaration order."""

    __slots__ = ("_routes", "_static")

    def __init__(self, specs: list[HandlerSpec]) -> None:
        routes = []
        for spec in specs:
            route: str = spec.trigger.route  # type: ignore[attr-defined]
            pattern, params = compile_route(route) if "{" in route else (None, ())
            methods = frozenset(spec.trigger.methods)  # type: ignore[attr-defined]
            routes.append(Route(spec, pattern, params, methods))
        routes.sort(key=Route.sort_key)
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
            if route.pattern is None:  # static: its paths are the keys of _static
                if route not in self._static.get(path, ()):
                    continue
                params: dict[str, str] = {}
            else:
                found = route.pattern.match(path)
                if found is None:
                    continue
                params = found.groupdict()
            if method in route.methods or "*" in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route.spec, params, _NO_METHODS
            allowed |= route.methods
        return None, {}, frozenset(allowed)


_NO_METHODS: frozenset[str] = frozenset()
