"""The per-cloud switch for deploying flows (:mod:`corefn.flows.deploying`): an adapter that
declares ``deploys_flows`` gets the app with its flows; one that does not makes ``corefn deploy``
fail with the cloud and every flow named; ``ctx.start_flow`` on a cloud goes to the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from corefn import App, ConfigurationError, Context
from corefn.adapters import register, unregister
from corefn.flows import step
from corefn.flows.deploying import check_deployable, starters
from corefn.flows.limits import PAYLOAD_LIMIT, FlowPayloadTooLarge
from corefn.kit import Provider

#: (flow, payload, key) of every start the deploying adapter was asked for
STARTED: list[tuple[str, str, str | None]] = []


def _start(ctx: Context, flow: str, payload: str, key: str | None) -> str:
    STARTED.append((flow, payload, key))
    return f"run-{len(STARTED)}"


@pytest.fixture
def adapters() -> Iterator[None]:
    """Two adapters whose generator lists the flows it is given: one that deploys them, one not."""
    register(Provider("plainflows", (), generator="tests.flows.test_deploying"))
    register(Provider("deployflows", (), generator="tests.flows.test_deploying", deploys_flows=True, start_flow=_start))
    yield
    unregister("plainflows")
    unregister("deployflows")


def plan(app: App, app_ref: str) -> App:
    """This module is the two adapters' generator (corefn.kit.Generator): the app is the plan."""
    return app


def render(app: App) -> dict[str, str | bytes]:
    return {"flows.txt": ",".join(flow.name for flow in app.flows)}


def _app() -> App:
    app = App("flowdeploy")
    app.object_store("inbox")

    @app.invoke()
    def one(event: Any) -> Any:
        return event.payload

    first = app.flow("first", [step("one")])
    app.flow("second", [step("one")])
    app.storage("inbox")(first)
    return app


def test_a_cloud_that_does_not_deploy_flows_is_named_with_every_flow(adapters: None) -> None:
    from corefn.adapters import get_adapter

    app = _app()
    with pytest.raises(ConfigurationError, match=r"flow\(s\) 'first', 'second'.*cannot deploy to plainflows"):
        check_deployable(app, "plainflows", get_adapter("plainflows"))
    check_deployable(app, "deployflows", get_adapter("deployflows"))
    check_deployable(App("noflows"), "plainflows", get_adapter("plainflows"))  # no flow, nothing to refuse


def test_a_flow_that_calls_no_handler_is_refused_everywhere(adapters: None) -> None:
    from corefn.adapters import get_adapter
    from corefn.flows import wait

    app = App("waits")
    app.flow("idle", [wait(5)])
    with pytest.raises(ConfigurationError, match="flow 'idle' calls no handler"):
        check_deployable(app, "deployflows", get_adapter("deployflows"))


def test_cli_generate_hands_the_flows_to_an_adapter_that_deploys_them(adapters: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import corefn.loader
    from corefn.cli.deploy import generate

    app = _app()
    monkeypatch.setattr(corefn.loader, "load_app", lambda ref: app)
    assert generate("x:app", "deployflows") == {"flows.txt": "first,second"}
    with pytest.raises(ConfigurationError, match="plainflows"):
        generate("x:app", "plainflows")


def test_starters_names_the_trigger_functions_of_flows() -> None:
    assert starters(_app()) == {"first": "first"}


def test_ctx_start_flow_on_a_cloud_goes_to_its_adapter_with_the_input_held_to_the_limit(adapters: None) -> None:
    app = _app()
    STARTED.clear()
    assert Context(cloud="deployflows", app=app).start_flow("first", {"n": 1}, key="k") == "run-1"
    assert STARTED == [("first", '{"n":1}', "k")]
    with pytest.raises(FlowPayloadTooLarge):
        Context(cloud="deployflows", app=app).start_flow("first", "x" * PAYLOAD_LIMIT)
    with pytest.raises(ConfigurationError, match="plainflows adapter cannot start flows"):
        Context(cloud="plainflows", app=app).start_flow("first", {})
