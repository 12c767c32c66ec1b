"""The `catalogage` command line.

With no `DATABASE_URL`, commands use the embedded PostgreSQL cluster in
`VAR_DIR/postgres`: they start it if needed (and stop it again if they started
it), and apply migrations first. With `DATABASE_URL`, migrations are an explicit
`catalogage migrate` step.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from catalogage.accounts import service as accounts
from catalogage.accounts.models import Role
from catalogage.config import ConfigError, Settings, load_settings
from catalogage.datasets.models import Visibility
from catalogage.db import Database
from catalogage.db.cluster import EmbeddedCluster
from catalogage.db.session import create_engine
from catalogage.errors import AppError
from catalogage.interop.schemas import ImportReport

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

app = typer.Typer(help="catalogage: the data catalog service.", no_args_is_help=True)
org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
member_app = typer.Typer(help="Memberships.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(member_app, name="member")
app.add_typer(token_app, name="token")

console = Console(stderr=True)
T = TypeVar("T")


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        console.print(f"catalogage: {exc}", highlight=False, markup=False)
        raise typer.Exit(code=2) from None


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The URL to use; in embedded mode, a running and migrated embedded cluster."""
    if not settings.embedded:
        yield settings.database_url
        return
    from catalogage.db.migrate import upgrade

    cluster = EmbeddedCluster(settings.var_dir / "postgres")
    started = not cluster.is_running()
    cluster.start()
    try:
        upgrade(cluster.url())
        yield cluster.url()
    finally:
        if started:
            cluster.stop()


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction, committed if it returns normally."""

    async def main(url: str) -> T:
        database = Database(create_engine(settings, url))
        try:
            async with database.sessionmaker() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await database.dispose()

    try:
        with database_url(settings) as url:
            return asyncio.run(main(url))
    except AppError as exc:
        details = "; ".join(f"{f['field']}: {f['message']}" for f in exc.fields or [])
        raise fail(exc.message + (f" ({details})" if details else "")) from None
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT (3579)")] = None,
    workers: Annotated[int | None, typer.Option(help="Default: WORKERS (1)")] = None,
) -> None:
    """Serve the app with uvicorn (embedded database when DATABASE_URL is unset)."""
    import uvicorn

    from catalogage.logs import logging_config

    settings = settings_or_exit()
    try:
        with database_url(settings) as url:
            # Workers are separate processes: they read the settings from the environment.
            os.environ["DATABASE_URL"] = url
            os.environ["SECRET_KEY"] = settings.secret_key
            if settings.embedded:
                console.print(f"Embedded database: {settings.var_dir / 'postgres'}")
            uvicorn.run(
                "catalogage.app:create_app",
                factory=True,
                host=host or settings.host,
                port=port or settings.port,
                workers=workers or settings.workers,
                proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                log_config=logging_config(settings),
                server_header=False,
            )
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply database migrations (one transaction, serialised by an advisory lock)."""
    from catalogage.db.migrate import current_revision_sync, upgrade

    settings = settings_or_exit()
    try:
        with database_url(settings) as url:
            upgrade(url, revision)
            console.print(f"Database at revision {current_revision_sync(url)}")
    except ConfigError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:  # alembic / driver errors: report, exit non-zero
        raise fail(f"migration failed: {type(exc).__name__}: {exc}") from None


@app.command()
def createuser(
    email: str,
    name: Annotated[str, typer.Option(help="Display name")],
    admin: Annotated[bool, typer.Option("--admin", help="Grant every permission")] = False,
    password: Annotated[
        str | None, typer.Option(envvar="CATALOGAGE_PASSWORD", help="Prompted when omitted")
    ] = None,
) -> None:
    """Create a user account."""
    from catalogage.accounts.schemas import UserCreate

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(email=email, name=name, password=password, is_admin=admin)
    except ValueError as exc:
        raise fail(_first_error(exc)) from None
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        user = await accounts.create_user(
            session, email=data.email, name=data.name, password=data.password, is_admin=admin
        )
        return str(user.id)

    user_id = run_in_session(settings, work)
    console.print(f"Created user {data.email} ({user_id}){' with admin rights' if admin else ''}")


@org_app.command("create")
def org_create(
    siret: str,
    name: str,
    alternative_id: Annotated[str | None, typer.Option("--alt-id")] = None,
    logo_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create an organization and its catalog."""
    from catalogage.organizations.schemas import OrganizationCreate
    from catalogage.organizations.service import create_organization

    try:
        data = OrganizationCreate(
            siret=siret, name=name, alternative_id=alternative_id, logo_url=logo_url
        )
    except ValueError as exc:
        raise fail(_first_error(exc)) from None
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> None:
        await create_organization(session, data)

    run_in_session(settings, work)
    console.print(f"Created organization {data.name} ({data.siret})")


@member_app.command("add")
def member_add(
    email: str,
    siret: str,
    role: Annotated[Role, typer.Option(help="editor or manager")] = Role.EDITOR,
) -> None:
    """Give a user a role in an organization."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> None:
        await accounts.set_membership(session, siret, email, role)

    run_in_session(settings, work)
    console.print(f"{email} is now {role.value} of {siret}")


@token_app.command("create")
def token_create(
    email: str,
    name: Annotated[str, typer.Option(help="Token name")] = "cli",
    days: Annotated[int, typer.Option(min=1, max=365)] = 90,
) -> None:
    """Create an API token for a user and print it (shown once)."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        user = await accounts.get_user_by_email(session, email)
        if user is None:
            raise AppError(f"no user with email {email}")
        _, plain = await accounts.issue_token(session, user, name=name, days=days)
        return plain

    token = run_in_session(settings, work)
    sys.stdout.write(token + "\n")


@app.command()
def demo() -> None:
    """Load a small realistic French catalog (4 organizations, 30 datasets). Idempotent."""
    from catalogage.demo.loader import load_demo

    settings = settings_or_exit()
    created = run_in_session(settings, load_demo)
    console.print(f"Demo catalog loaded: {created} dataset(s) created")


# --- interop: catalog file import and harvesting ---------------------------------


def _print_report(report: ImportReport, *, limit: int = 50) -> None:
    """Summary, then the problems of the file and of the first rejected rows."""
    from rich.table import Table

    for problem in report.errors:
        console.print(f"[red]file:[/red] {problem.field}: {problem.message}", highlight=False)
    table = Table("created", "updated", "unchanged", "rejected", "removed upstream")
    summary = report.summary
    table.add_row(
        *(
            str(n)
            for n in (
                summary.create,
                summary.update,
                summary.unchanged,
                summary.reject,
                summary.removed_upstream,
            )
        )
    )
    console.print(table)
    shown = 0
    for row in report.rows:
        for problem in row.errors + row.warnings:
            if shown == limit:
                console.print("... more in the full report (--report FILE)", highlight=False)
                return
            level = "[red]rejected[/red]" if problem in row.errors else "[yellow]warning[/yellow]"
            label = row.remote_id or f"row {row.row}"
            console.print(f"{level} {label}: {problem.field}: {problem.message}", highlight=False)
            shown += 1


def _progress_bar() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: Annotated[str, typer.Option("--org", help="SIRET of the catalog to import into")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run/--apply", help="Only report (default), or apply")
    ] = True,
    visibility: Annotated[
        Visibility, typer.Option(help="Visibility of the datasets created")
    ] = Visibility.DRAFT,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write the full JSON report there")
    ] = None,
) -> None:
    """Import a CSV or XLSX catalog file (schema-catalogue-donnees), all or nothing."""
    from catalogage.interop.importer import ImportRejected
    from catalogage.interop.importer import import_file as run_import
    from catalogage.interop.reader import MAX_FILE_BYTES

    if file.stat().st_size > MAX_FILE_BYTES:
        raise fail(f"{file}: larger than the {MAX_FILE_BYTES:,} bytes limit")
    data = file.read_bytes()
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> ImportReport:
        with _progress_bar() as progress:
            task = progress.add_task("checking rows", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                report = await run_import(
                    session,
                    None,
                    org,
                    data,
                    filename=file.name,
                    dry_run=dry_run,
                    visibility=visibility,
                    progress=advance,
                )
            except ImportRejected as exc:
                report = exc.report
        if dry_run or not report.applied:
            await session.rollback()
        return report

    report = run_in_session(settings, work)
    if report_path is not None:
        report_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    _print_report(report)
    if not report.acceptable:
        raise fail(
            "nothing imported: fix the problems above"
            if not dry_run
            else "the file would be rejected"
        )
    if dry_run:
        console.print("Dry run: nothing written. Repeat with --apply to import.")
    else:
        console.print(f"Imported into {org}.")


@app.command()
def harvest(
    url: Annotated[
        str, typer.Argument(help="DCAT document (ttl, jsonld, rdf), CKAN site, or file")
    ],
    org: Annotated[str, typer.Option("--org", help="SIRET of the catalog to harvest into")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report")] = False,
    visibility: Annotated[
        Visibility, typer.Option(help="Visibility of the datasets created")
    ] = Visibility.PUBLIC,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Write the full JSON report there")
    ] = None,
) -> None:
    """Harvest a remote DCAT catalog (following Hydra pages) or CKAN API into a catalog.

    Harvesting again updates the same datasets; those the source no longer lists
    are flagged, not deleted. Invalid remote records are reported and skipped.
    """
    from catalogage.interop.harvest import HarvestError
    from catalogage.interop.harvest import harvest as run_harvest

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> ImportReport:
        with _progress_bar() as progress:
            tasks: dict[str, TaskID] = {}

            def advance(stage: str, done: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(f"reading {stage}", total=None)
                progress.update(tasks[stage], completed=done)

            try:
                report = await run_harvest(
                    session,
                    None,
                    org,
                    url,
                    dry_run=dry_run,
                    visibility=visibility,
                    progress=advance,
                )
            except HarvestError as exc:
                raise fail(str(exc)) from None
        if dry_run:
            await session.rollback()
        return report

    report = run_in_session(settings, work)
    if report_path is not None:
        report_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    _print_report(report)
    if report.summary.reject:
        raise fail(f"{report.summary.reject} record(s) rejected (the others were harvested)")
    console.print("Dry run: nothing written." if dry_run else f"Harvested into {org}.")


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        return f"{field}: {first['msg'].removeprefix('Value error, ')}"
    return str(exc)


def main() -> None:
    app()
