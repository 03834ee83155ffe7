"""`task2box up`: migrate, seed, serve at once, and build the first map in the background.

The page is served within seconds of the start; the slow parts (a quick first map, a first
crawl, a full fit) run as jobs after the server is up (`backend/jobs/first_run.py`), so the
page shows their progress bar and draws the map when it is published. In a terminal the same
progress is drawn as bars; in `docker logs` each job step and each tenth of a job is a line.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from backend.config import Settings, get_settings

if TYPE_CHECKING:
    import uvicorn
    from rich.progress import Progress, TaskID

    from backend.db.repository import JobRecord
    from backend.jobs.first_run import FirstRunPlan, Step

console = Console(stderr=True, soft_wrap=True)

# An offline machine must hear "no" quickly; a slow but working Hub answers well within this.
HUB_PROBE_TIMEOUT_S = 5.0


def page_url(host: str, port: int) -> str:
    """The URL to open: a wildcard bind address is reached through localhost."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:  # an IPv6 literal
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def up(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free one).")] = 8000,
    first_run: Annotated[
        bool,
        typer.Option(
            "--first-run/--no-first-run",
            help="Train a first map (and crawl, when the Hub answers) in the background.",
        ),
    ] = True,
) -> None:
    """Set up and serve: migrate, seed the catalog if empty, serve, build the first map."""
    import uvicorn

    from backend.jobs.first_run import FirstRun
    from backend.logging_setup import log_through
    from backend.main import app_version, create_app

    settings = get_settings()
    interactive = console.is_terminal
    if interactive:
        log_through(console)
    console.print(f"[bold]Task2Box Atlas[/] {app_version()}")
    plan = _prepare(settings, first_run=first_run)
    application = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(application, host=host, port=port, access_log=False, log_config=None)
    )
    announced: dict[str, str] = {}
    listening = _announce_when_listening(server, host, announced)
    if plan is None or not plan.steps:
        server.run()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    bars = Progress(*columns, TimeElapsedColumn(), console=console, disable=not interactive)
    observer = _Observer(console, bars, announced)
    state = application.state
    first = FirstRun(plan, settings, state.runner, state.job_factories, state.sessions, observer)
    first.start(after=listening.is_set)
    with bars:
        server.run()


def _announce_when_listening(
    server: uvicorn.Server, host: str, announced: dict[str, str]
) -> threading.Event:
    """Prints the URL once the server listens (`announced["url"]`); the event is set then."""
    listening = threading.Event()

    def wait() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.05)
        # The bound port, not the asked one: `--port 0` lets the OS pick a free port.
        port = int(server.servers[0].sockets[0].getsockname()[1])
        url = announced["url"] = page_url(host, port)
        console.print(f"Serving the map at [bold]{url}[/] (API docs at {url}docs); Ctrl+C stops.")
        listening.set()

    threading.Thread(target=wait, name="announce", daemon=True).start()
    return listening


def _prepare(settings: Settings, *, first_run: bool) -> FirstRunPlan | None:
    """Migrates, seeds and decides the background plan, printing each step once."""
    from backend.catalog import seed_if_empty
    from backend.crawler.probe import probe_hub
    from backend.db import repository
    from backend.db.engine import redacted_url, session_factory_for, session_scope
    from backend.jobs.first_run import completed_crawls, plan_first_run

    console.print(f"database: {redacted_url(settings.database_url)}")
    console.print(f"  schema: {_migrate(settings.database_url)}")
    sessions = session_factory_for(settings.database_url)
    with session_scope(sessions) as session:
        seeded = seed_if_empty(session)
        counts = repository.count_datasets(session)
        crawled = completed_crawls(session)
    if seeded:
        console.print(f"  first run: seeded {seeded} datasets from the built-in catalog")
    console.print(f"  {counts.ok} datasets ready to map ({counts.total} known)")
    if not first_run:
        return None
    reachable = False
    if settings.crawl_on_start == 0:
        console.print("Hub: crawling on start is off (T2B_CRAWL_ON_START=0)")
    elif crawled:
        console.print("Hub: a first crawl is done; run `task2box crawl` to refresh it")
    else:
        probe = probe_hub(
            settings.hub_endpoint, timeout_s=HUB_PROBE_TIMEOUT_S, token=settings.hf_token
        )
        reachable = probe.reachable
        if reachable:
            console.print(f"Hub: {settings.hub_endpoint} is reachable ({probe.detail})")
        else:
            console.print(
                f"[yellow]Hub: {settings.hub_endpoint} is not reachable ({probe.detail}); "
                "working offline with the datasets in the database. "
                "Run `task2box crawl` once the network is back.[/]"
            )
    with session_scope(sessions) as session:
        plan = plan_first_run(session, settings, hub_reachable=reachable)
    for note in plan.notes:
        console.print(note)
    return plan


def _migrate(url: str) -> str:
    """Upgrades the database to head; says what changed."""
    from backend.db import migrate
    from backend.db.engine import make_engine

    engine = make_engine(url)
    try:
        before = migrate.current_revision(engine)
    finally:
        engine.dispose()
    migrate.upgrade(url)
    head = migrate.head_revision()
    if before == head:
        return f"up to date (revision {head})"
    if before is None:
        return f"created (revision {head})"
    return f"migrated from revision {before} to {head}"


class _Observer:
    """Draws each first-run job as a progress bar (a terminal) or prints its start and end."""

    def __init__(self, console: Console, bars: Progress, announced: dict[str, str]) -> None:
        self.console = console
        self.bars = bars
        self.announced = announced
        self.tasks: dict[int, TaskID] = {}

    def started(self, step: Step, job: JobRecord) -> None:
        self.console.print(f"started: {step.title} (job {job.id}); the page shows its progress")
        self.tasks[job.id] = self.bars.add_task(step.title, total=job.total)

    def progress(self, step: Step, job: JobRecord) -> None:
        what = f"{step.title}: {job.message}" if job.message else step.title
        self.bars.update(
            self.tasks[job.id], completed=job.progress, total=job.total, description=what
        )

    def finished(self, step: Step, job: JobRecord) -> None:
        task = self.tasks[job.id]
        if job.status == "succeeded":
            done = job.total or job.progress
            self.bars.update(task, completed=done, total=done, description=f"{step.title}: done")
            if job.kind == "train":
                url = self.announced.get("url", "")
                self.console.print(f"[green]map published[/]; the page draws it: {url}")
            else:
                self.console.print(f"{step.title}: {_crawl_summary(job)}")
        else:
            self.bars.update(task, description=f"{step.title}: {job.status}")
            self.console.print(f"[red]{step.title} {job.status}:[/] {job.error}")

    def skipped(self, step: Step, reason: str) -> None:
        self.console.print(f"skipped: {step.title} ({reason})")


def _crawl_summary(job: JobRecord) -> str:
    result = job.result
    skipped = sum(int(v) for v in dict(result.get("skipped", {})).values())
    text = (
        f"{result.get('fetched', 0)} fetched, {result.get('unchanged', 0)} unchanged, "
        f"{skipped} skipped, {result.get('failed', 0)} failed"
    )
    if result.get("error"):
        text += f"; stopped early: {result['error']}"
    return text
