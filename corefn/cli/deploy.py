"""``corefn deploy APP [--cloud NAME ...] [--out DIR]``: write each cloud's deployment for APP
under ``DIR/<cloud>/``, ready for the provider's own tools: the generated files (template, entry
points, README, pinned requirements) and, for clouds whose adapter names a ``bundle_root``, the
self-contained bundle there (the app, its local modules, ``include=``, corefn's core and that
cloud's adapter vendored; see :mod:`corefn.bundle`), then whatever the adapter builds from it
(its ``Provider.build_bundle``: OpenWhisk's action zips). ``--no-bundle`` writes
the generated text files only (what ``deploy/`` in the repository keeps)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from corefn.errors import CorefnError


def generate(app_ref: str, cloud: str) -> dict[str, str | bytes]:
    from corefn.adapters import get_adapter
    from corefn.loader import load_app

    app = load_app(app_ref)
    adapter = get_adapter(cloud)
    from corefn.flows.deploying import check_deployable

    check_deployable(app, cloud, adapter)  # an adapter with deploys_flows compiles them in its generate
    from corefn.auth import refuse_local_issuer

    refuse_local_issuer(app.handlers)
    return dict(adapter.generate(app, app_ref))


def write_bundle(app_ref: str, cloud: str, out: Path) -> list[Path]:
    """The vendored part of the bundle, under the adapter's ``bundle_root`` (nothing for an
    adapter that does not bundle yet)."""
    from corefn.adapters import get_adapter
    from corefn.bundle import vendored_files, write_vendored
    from corefn.loader import load_app

    adapter = get_adapter(cloud)
    root = adapter.bundle_root
    if root is None:
        click.echo(f"corefn deploy: {cloud}: warning: this adapter does not bundle yet: its requirements name corefn, "
                   "which the cloud's build cannot install from PyPI", err=True)  # fmt: skip
        return []
    files, warnings = vendored_files(load_app(app_ref), app_ref, cloud)
    for warning in warnings:
        click.echo(f"corefn deploy: {cloud}: warning: {warning}", err=True)
    written = write_vendored(files, out / root)
    if adapter.build_bundle is not None:  # artifacts built from the bundle (OpenWhisk's action zips, size-checked)
        written += adapter.build_bundle(out)
    return written


def write_files(files: dict[str, str | bytes], out: Path) -> list[Path]:
    written = []
    for rel, content in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if path.suffix == ".sh":
            path.chmod(0o755)
        written.append(path)
    return written


@click.command()
@click.argument("app_ref", metavar="APP")
@click.option("--cloud", "clouds", multiple=True, help="Repeatable; every installed adapter when omitted.")
@click.option(
    "--out",
    default="build/deploy/{cloud}",
    show_default=True,
    help="Output folder; '{cloud}' is replaced by each cloud's name (else DIR/<cloud>).",
)
@click.option("--no-bundle", is_flag=True, help="Write the generated files only, not the vendored code.")
def command(app_ref: str, clouds: tuple[str, ...], out: str, no_bundle: bool) -> None:
    """Generate deployment files for APP (MODULE:ATTRIBUTE or path/to/file.py:ATTRIBUTE)."""
    from corefn.adapters import installed_clouds

    for cloud in clouds or installed_clouds():
        target = Path(out.format(cloud=cloud)) if "{cloud}" in out else Path(out) / cloud
        try:
            files = generate(app_ref, cloud)
            for path in write_files(files, target):
                click.echo(str(path))
            vendored = [] if no_bundle else write_bundle(app_ref, cloud, target)
        except (CorefnError, NotImplementedError) as exc:
            click.echo(f"corefn deploy: {cloud}: {exc}", err=True)
            sys.exit(2)
        if vendored:
            click.echo(f"{target}: {len(vendored)} vendored file(s) (the app, its modules, corefn, the {cloud} adapter)")
