"""`manage.py bench_ingest --alerts N`: how fast ingestion is, and how much memory it takes.

Writes N realistic SecurityAlert rows to a temporary JSON lines file (in another process,
not timed), then ingests the file into a new workspace with the default correlation rules
(none with `--without-rules`, to time ingestion alone) exactly as `ingest_alerts` does,
and prints alerts per second, the ingesting process's peak memory and the queries each
batch cost. Run it on PostgreSQL with data
already in the database (e.g. after `seed_demo --alerts 1000000`) for the real figure.

It also prints the CPU time each alert cost in this process and, with PostgreSQL on this
machine, in the server process of its connection; and from their sum, the most alerts per
second this machine's cores could ingest if both kinds of work ran side by side on every
core with nothing else running: a bound no change of batching or pipelining can pass.
"""

import json
import multiprocessing
import os
import resource
import secrets
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from incidents.ingest.readers import read_rows
from incidents.ingest.samples import generate_rows
from incidents.ingest.stream import Summary, ingest_stream
from incidents.models import Alert, Workspace
from incidents.rules.defaults import install_default_rules


class Command(BaseCommand):
    help = (
        "Ingest N generated alerts into a new workspace with the default correlation rules; "
        "print alerts/s and peak memory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alerts", type=int, default=10_000, help="Rows to ingest.")
        parser.add_argument("--batch-size", type=int, help="Rows per transaction (1000).")
        parser.add_argument(
            "--seed", type=int, help="Seed of the generated rows (default: a new one each run)."
        )
        parser.add_argument(
            "--workspace", help="Name of the new workspace (default: bench-<time>)."
        )
        parser.add_argument(
            "--without-rules",
            action="store_true",
            help="Give the workspace no correlation rules (default: the default rules).",
        )

    def handle(
        self,
        *args,
        alerts: int,
        batch_size: int | None,
        seed: int | None,
        without_rules: bool,
        **options,
    ) -> None:
        if alerts < 1:
            raise CommandError("--alerts must be at least 1.")
        # Alert ids come from the seed: a new one per run, so runs never share alerts.
        seed = seed if seed is not None else secrets.randbits(32)
        name = options["workspace"] or f"bench-{timezone.now():%Y%m%d-%H%M%S}"
        if Workspace.objects.filter(name=name).exists():
            raise CommandError(f"Workspace “{name}” exists: pick another --workspace.")
        workspace = Workspace.objects.create(name=name, display_name="Ingestion benchmark")
        rules = "no correlation rules" if without_rules else "the default correlation rules"
        if not without_rules:
            install_default_rules(workspace)
        before = Alert.objects.count()
        self.stdout.write(
            f"{connection.vendor}: {before:,} alerts already in the database; "
            f"ingesting {alerts:,} (seed {seed}) into workspace “{name}” with {rules}."
        )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "alerts.jsonl"
            # Written by another process: the generator plans the whole stream up front, and
            # its memory is not ingestion's. The child never touches the database.
            writer = multiprocessing.get_context("fork").Process(
                target=_write_rows, args=(path, alerts, seed)
            )
            writer.start()
            writer.join()
            if writer.exitcode != 0:
                raise CommandError("Generating the rows failed.")
            queries = _QueryCounter()
            batches: list[int] = []

            def on_batch(summary: Summary) -> None:
                batches.append(queries.take())

            database = _DatabaseCpu()
            started, ours = time.perf_counter(), _own_cpu()
            with connection.execute_wrapper(queries):
                summary = ingest_stream(
                    workspace, read_rows(str(path)), batch_size=batch_size, on_batch=on_batch
                )
            elapsed, ours = time.perf_counter() - started, _own_cpu() - ours
            theirs = database.used()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"{summary.new:,} new, {summary.updated:,} updated, {summary.rejected:,} rejected; "
            f"{summary.incidents_created:,} incidents created, "
            f"{summary.correlated_existing:,} alerts joined existing ones.\n"
            f"{elapsed:.1f} s: {summary.read / elapsed:,.0f} alerts/s; peak memory "
            f"{peak:,.0f} MB; queries per batch: {_spread(batches[:-1] or batches)}."
        )
        per_alert = 1000 / max(summary.read, 1)
        cpu = f"CPU per alert: {ours * per_alert:.3f} ms in this process"
        if theirs is not None:
            # What the machine's cores could do at best, every one busy with nothing else.
            cores = os.cpu_count() or 1
            ceiling = cores * summary.read / max(ours + theirs, 1e-9)
            cpu += (
                f", {theirs * per_alert:.3f} ms in its PostgreSQL server process; "
                f"{cores} cores would ingest at most {ceiling:,.0f} alerts/s"
            )
        self.stdout.write(f"{cpu}.")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _DatabaseCpu:
    """The CPU time of this connection's PostgreSQL server process, when the server runs on
    this machine (its /proc entry is readable); `used()` is None otherwise."""

    def __init__(self):
        self.stat = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.start = self._read()

    def _read(self) -> float | None:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except (AttributeError, OSError, IndexError):
            return None
        # utime and stime, the 14th and 15th fields (the 12th and 13th after the name).
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def used(self) -> float | None:
        end = self._read()
        return None if end is None or self.start is None else end - self.start


def _write_rows(path: Path, alerts: int, seed: int) -> None:
    with path.open("w") as out:
        for row in generate_rows(alerts, seed=seed):
            out.write(json.dumps(row) + "\n")


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


def _spread(values: list[int]) -> str:
    if not values:
        return "none"
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low} to {high}"
