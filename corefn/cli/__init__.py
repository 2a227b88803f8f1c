"""The ``corefn`` command. One convention for every verb: ``corefn VERB [APP] [--cloud NAME ...]``
(``--cloud`` repeatable; where a verb works per cloud, no ``--cloud`` means every installed
adapter, found through the ``corefn.adapters`` entry points).

Each verb lives in its own module here and is imported only when run, so ``corefn inspect``
does not pay for the local runtime's server.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from corefn._version import __version__

#: verb → "module:command" (modules under corefn.cli)
VERBS: dict[str, tuple[str, str]] = {
    "inspect": ("corefn.cli.inspect:command", "Print a provider payload as corefn events (JSON)."),
    "deploy": ("corefn.cli.deploy:command", "Generate each cloud's entry point and deployment files."),
    "run": ("corefn.cli.run:command", "Run an app on the local runtime."),
    "invoke": ("corefn.cli.invoke:command", "Invoke one handler locally with a payload or a provider event."),
    "event": ("corefn.cli.event:command", "Print a sample provider payload for a cloud and trigger."),
    "flow": ("corefn.cli.flow:command", "Start a flow run locally and print its step log."),
    "report": ("corefn.cli.report:command", "Report the lock-in of an app or an AWS template, per cloud."),
    "dead": ("corefn.cli.dead:command", "List, show and redrive dead letters (local runtime or a cloud's DLQ)."),
    "policy": ("corefn.cli.policy:command", "Print each handler's retry policy per cloud, and what a cloud cannot honour."),
    "token": ("corefn.cli.token:command", "Mint a development JWT from the local issuer (auth=Jwt.local())."),
    "check": ("corefn.cli.check:command", "Check an app against each cloud's limits (exit 1 on errors)."),
    "cost": ("corefn.cli.cost:command", "Estimate an app's monthly cost per handler and cloud; plan warm-ups."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in VERBS if self._available(name))

    @staticmethod
    def _available(name: str) -> bool:
        module = VERBS[name][0].split(":")[0]
        return importlib.util.find_spec(module) is not None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS or not self._available(name):
            return None
        module, attr = VERBS[name][0].split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, VERBS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="corefn")
def main() -> None:
    """corefn: one set of handlers for AWS, Azure, GCP, OpenWhisk and your laptop."""

