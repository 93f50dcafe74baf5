"""The ``sanhu`` command: database, demo, catalog, workflow, calendar and the server."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from ledger.instance.bootstrap import Sanhu, bootstrap


def _app() -> Sanhu:
    return bootstrap()


@click.group()
def main() -> None:
    """Sanhu (三互): observation cycles and the problem ledger (台账)."""


# --- database ---------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations, then load the standards catalog and calendar if missing."""
    from ledger.instance.migrate import upgrade

    app = _app()
    upgrade(app, revision)
    click.echo(f"database at {revision}: {app.engine.url.render_as_string(hide_password=True)}")


@db.command("current")
def db_current() -> None:
    """Print the current migration revision."""
    from ledger.core.settings import Settings
    from ledger.instance.migrate import current_revision

    click.echo(current_revision(Settings.from_env()) or "(empty database)")


# --- backup and restore -----------------------------------------------------


@main.command()
@click.argument("dest", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(dest: Path) -> None:
    """Write the database, the evidence and the secret key to one verified archive.

    DEST is a .tar (or .tar.gz) file; a manifest inside lists the SHA-256 of every file.
    PostgreSQL needs pg_dump on PATH.  The app may keep running meanwhile.
    """
    from ledger.instance.backup import BackupError
    from ledger.instance.backup import backup as make_backup

    try:
        summary = make_backup(_app(), dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {dest}: {len(summary.tables)} tables, "
               f"{sum(summary.tables.values())} rows, {summary.blobs} evidence files, "
               f"secret key {'included' if summary.secret_key else 'not included (from settings)'}")


@main.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an instance that already has users or evidence.")
def restore(archive: Path, force: bool) -> None:
    """Restore an archive written by `sanhu backup` into this (empty) instance.

    Every file is checked against the manifest's SHA-256 before anything changes;
    migrations run afterwards.  Stop the web and scheduler processes first.
    """
    from ledger.instance.backup import BackupError
    from ledger.instance.backup import restore as restore_archive

    try:
        summary = restore_archive(_app(), archive, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {archive}: {len(summary.tables)} tables, "
               f"{sum(summary.tables.values())} rows, {summary.blobs} evidence files"
               + (", secret key" if summary.secret_key else ""))


# --- demo -------------------------------------------------------------------


@main.command()
@click.option("--if-empty", is_flag=True, help="Only load when the database has no users.")
def demo(if_empty: bool) -> None:
    """Load the demo city (2 counties × 3 townships × 6 villages) with users and items."""
    from ledger.instance.demo import DEMO_PASSWORD, is_empty, load_demo

    app = _app()
    if if_empty and not is_empty(app):
        click.echo("the database already has users; demo not loaded")
        return
    logins = load_demo(app)
    print_logins(logins, DEMO_PASSWORD)


def print_logins(logins, password: str) -> None:
    """One login per role, then the naming pattern of the rest."""
    first: dict[str, object] = {}
    for login in logins:
        first.setdefault(login.role, login)
    click.echo(f"demo logins (password for all: {password}):")
    for login in first.values():
        click.echo(f"  {login.username:<12} {login.role:<18} {login.unit}")
    click.echo("  also: county1..2, town11..town23, sec111..sec236"
               " (county, township, village digits)")


# --- catalog and workflow ---------------------------------------------------


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as a JSON list.")
def standards(as_json: bool) -> None:
    """Print the standards catalog (42 basic, 23 demonstration)."""
    from ledger.catalog.standards import catalog_as_public_json, load_catalog_file

    entries = catalog_as_public_json(load_catalog_file())
    if as_json:
        click.echo(json.dumps(entries, ensure_ascii=False, indent=1))
        return
    for e in entries:
        click.echo(f"{e['set']:<13} {e['number']:>2}  [{e['category']}] {e['title']}")


@main.command()
@click.option("--mermaid", is_flag=True, help="Print the state diagram as Mermaid text.")
@click.option("--observation", is_flag=True,
              help="The observation workflow instead of the ledger's.")
@click.option("--ranking", is_flag=True, help="The ranking's approval and publication.")
@click.option("--survey", is_flag=True, help="The village survey (调查表).")
@click.option("--funds", is_flag=True, help="The funds plan's (以奖代补) approval.")
@click.option("--report", is_flag=True, help="The upward report (报送).")
def workflow(mermaid: bool, observation: bool, ranking: bool, survey: bool,
             funds: bool, report: bool) -> None:
    """Show a workflow (the ledger's unless another is named): states, events, roles."""
    if observation:
        from ledger.observations.workflow import RULES
        from ledger.observations.workflow import observation_mermaid as diagram
    elif ranking:
        from ledger.results.workflow import RULES
        from ledger.results.workflow import ranking_mermaid as diagram
    elif survey:
        from ledger.survey.workflow import RULES
        from ledger.survey.workflow import survey_mermaid as diagram
    elif funds:
        from ledger.results.funds_workflow import RULES
        from ledger.results.funds_workflow import funds_mermaid as diagram
    elif report:
        from ledger.results.workflow import REPORT_RULES as RULES
        from ledger.results.workflow import report_mermaid as diagram
    else:
        from ledger.items.workflow import RULES
        from ledger.items.workflow import workflow_mermaid as diagram

    if mermaid:
        click.echo(diagram())
        return
    for r in RULES:
        click.echo(f"{r.event:<18} {'/'.join(r.source):<20} -> {r.dest or '(same)':<11} "
                   f"{', '.join(sorted(r.roles))}")


# --- calendar ---------------------------------------------------------------


@main.group()
def calendar() -> None:
    """The official working-day calendar."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", default="admin", show_default=True,
              help="the user the settled deadlines' history names")
def calendar_import(file: Path, username: str) -> None:
    """Import an official schedule: CSV rows date,kind[,name] (kind holiday or workday).

    Provisional deadlines in the imported years are then settled (see
    ``ledger.items.services.settle_deadlines``), each with a history entry by ``--as``.
    """
    from sqlalchemy import select

    from ledger.calendar.workdays import import_schedule
    from ledger.core.errors import ValidationError
    from ledger.core.models import User
    from ledger.items.services import settle_deadlines
    from ledger.org.directory import actor_for

    app = _app()
    with app.uow() as uow:
        try:
            years = import_schedule(uow.session, file.read_text(encoding="utf-8-sig"),
                                    source=f"csv:{file.name}")
        except ValidationError as exc:
            click.echo(f"nothing imported: {exc.message}", err=True)
            for where, what in exc.fields.items():
                click.echo(f"  {where}: {what}", err=True)
            sys.exit(1)
        uow.commit()
    click.echo("official now: " + ", ".join(map(str, years)))
    with app.uow() as uow:
        user_id = uow.session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            click.echo(f"no user {username!r}: provisional deadlines left as they are", err=True)
            return
        settled = settle_deadlines(uow, actor_for(uow.session, user_id), years)
    click.echo(f"provisional deadlines settled: {settled}")


@calendar.command("add-workdays")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("days", type=int)
def calendar_add_workdays(start: dt.datetime, days: int) -> None:
    """Print the date DAYS working days after START (the start day does not count)."""
    app = _app()
    with app.uow() as uow:
        click.echo(str(uow.calendar.add_workdays(start.date(), days)))


@calendar.command("years")
def calendar_years() -> None:
    """List the years covered and whether their schedule is official."""
    from ledger.calendar.workdays import years_covered

    app = _app()
    with app.uow() as uow:
        for year, official in years_covered(uow.session):
            click.echo(f"{year} {'official' if official else 'provisional (Monday–Friday)'}")


# --- cycles -----------------------------------------------------------------


@main.command("open-cycle")
@click.argument("kind", type=click.Choice(["village_quarterly", "township_half_yearly"]))
@click.argument("period")
def open_cycle_cmd(kind: str, period: str) -> None:
    """Open a cycle (e.g. village_quarterly 2026Q4); running it again creates nothing."""
    from ledger.core.errors import ValidationError
    from ledger.observations.cycles import open_cycle

    app = _app()
    with app.uow() as uow:
        try:
            result = open_cycle(uow, kind, period)
        except ValidationError as exc:
            raise click.BadParameter(exc.message) from exc
    click.echo(f"cycle {kind} {period}: {'opened' if result.created else 'already open'}, "
               f"{result.observations_created} observation(s) planned")


@main.group()
def observations() -> None:
    """Observations (观摩): coverage of a cycle."""


@observations.command("coverage")
@click.argument("period")
@click.option("--kind", type=click.Choice(["village_quarterly", "township_half_yearly"]),
              help="Default: from the period (2026Q4 quarterly, 2026H2 half-yearly).")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
def observations_coverage(period: str, kind: str | None, as_json: bool) -> None:
    """Per observing unit, the whole city: targets planned, scheduled, in progress,
    submitted, confirmed and late."""
    from ledger.core.errors import ValidationError
    from ledger.observations.coverage import COUNTS, coverage_of_all, total_of
    from ledger.observations.cycles import cycle_of, kind_of_period, validate_period

    try:
        kind = validate_period(kind or kind_of_period(period).value, period).value
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="PERIOD") from exc
    app = _app()
    with app.uow() as uow:
        cycle = cycle_of(uow.session, kind, period)
        if cycle is None:
            raise click.ClickException(f"no {kind} cycle {period} (sanhu open-cycle opens it)")
        rows = coverage_of_all(uow.session, cycle.id, uow.today())
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=1))
        return
    click.echo(f"{'unit':<24} " + " ".join(f"{c:>11}" for c in COUNTS))
    for row in [*rows, total_of(rows)]:
        label = f"{row.unit_code} {row.unit_name}".strip()
        click.echo(f"{label:<24} " + " ".join(f"{getattr(row, c):>11}" for c in COUNTS))


# --- server -----------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web application (waitress)."""
    from waitress import serve as waitress_serve

    from web import create_app

    app = create_app()
    click.echo(f"Sanhu is running at http://{host}:{port}/")
    waitress_serve(app, host=host, port=port, threads=threads)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True,
              help="Do not run the scheduler in this process (run `sanhu scheduler` instead).")
@click.pass_context
def run(ctx: click.Context, host: str, port: int, no_scheduler: bool) -> None:
    """Single-machine start: migrate, load the demo if empty, print logins, serve.

    Also runs the scheduler in this process (started once; waitress has no
    reloader).  If another scheduler already acts on this database, this one
    stands by.
    """
    from ledger.instance.demo import DEMO_PASSWORD, is_empty, load_demo
    from ledger.instance.migrate import upgrade

    app = _app()
    upgrade(app)
    if is_empty(app):
        click.echo("loading the demo city (first start)...")
        print_logins(load_demo(app), DEMO_PASSWORD)
    else:
        click.echo(f"existing data kept; demo password (if the demo was loaded): {DEMO_PASSWORD}")
    app.dispose()
    runner = None if no_scheduler else start_scheduler_in_process()
    try:
        ctx.invoke(serve, host=host, port=port)
    finally:
        if runner is not None:
            from schedules.leader import stop_in_process

            stop_in_process()


def start_scheduler_in_process():
    """The in-process scheduler of the single-machine default (None in a reloader parent)."""
    from schedules.leader import start_in_process

    runner = start_in_process(_app())
    if runner is not None:
        click.echo("scheduler: running in this process (reminders, cycles, deliveries)")
    return runner


# --- scheduler --------------------------------------------------------------


@main.command()
@click.option("--retry-seconds", default=5.0, show_default=True, type=float,
              help="How often a standby checks whether it may take over.")
def scheduler(retry_seconds: float) -> None:
    """Run the scheduler as its own process (production); only one acts per database.

    Others started against the same database stand by and take over when it
    stops.  SIGTERM or Ctrl-C stop it cleanly.
    """
    import logging
    import signal
    import threading
    import time

    from schedules.leader import SchedulerRunner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    runner = SchedulerRunner(_app(), retry_seconds=retry_seconds,
                             heartbeat_seconds=min(5.0, retry_seconds)).start()
    # The runner works in its own thread so that this one is always free to take
    # the signal: a thread blocked in a database call (an SQLite busy wait, a
    # slow PostgreSQL query) cannot delay the stop.
    while not stopping.wait(0.5):
        if not runner.alive():
            break
    deadline = time.monotonic() + SIGTERM_GRACE_SECONDS
    runner.stop(timeout=SIGTERM_GRACE_SECONDS)
    click.echo("scheduler stopped")
    _exit_soon(deadline)


#: after SIGTERM the scheduler process is gone within this many seconds, whatever runs
SIGTERM_GRACE_SECONDS = 3.0


def _exit_soon(deadline: float) -> None:
    """Exit once job threads are done, or at the deadline regardless.

    Always through ``os._exit``: the interpreter's own shutdown would join
    threads again (one an executor started a moment ago, one blocked in a
    database call) with no bound.  The lock is released by then, or goes with
    the process (the flock, the PostgreSQL session); a run cut short is left
    ``running`` and the next leader recovers it (the jobs are idempotent),
    exactly as after a crash.
    """
    import logging
    import os
    import sys
    import threading
    import time

    while time.monotonic() < deadline:
        busy = [t for t in threading.enumerate()
                if t is not threading.current_thread() and t.is_alive()
                and (not t.daemon or t.name == "sanhu-scheduler")]
        if not busy:
            break
        time.sleep(0.05)
    else:
        click.echo("scheduler: still busy (a job or a database call); "
                   "leaving it to the next leader")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@main.group()
def jobs() -> None:
    """The scheduled jobs."""


@jobs.command("list")
def jobs_list() -> None:
    """Each job with its trigger, next run, last run and outcome."""
    from schedules import jobs_overview

    for job in jobs_overview(_app()):
        nxt = f"{job['next_run']:%Y-%m-%d %H:%M}" if job["next_run"] else "paused"
        last = (f"{job['last_run_key']} {job['last_outcome']}" if job["last_outcome"]
                else "never")
        click.echo(f"{job['id']:<26} next {nxt:<16} last {last:<24} {job['trigger']}")


@jobs.command("run")
@click.argument("job_id")
def jobs_run(job_id: str) -> None:
    """Run one job now in this process (idempotent: a repeated period changes nothing)."""
    from schedules import run_now
    from schedules.scheduler import RUNNABLE

    if job_id not in RUNNABLE:
        raise click.BadParameter(f"one of {', '.join(RUNNABLE)}", param_hint="JOB_ID")
    click.echo(f"{job_id}: {run_now(_app(), job_id)}")


if __name__ == "__main__":  # pragma: no cover
    main()
