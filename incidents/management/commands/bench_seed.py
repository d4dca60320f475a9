"""`manage.py bench_seed`: how long `seed_demo` takes at scale, and how much memory it needs.

Meant for a throwaway PostgreSQL cluster, e.g.

    scripts/with-postgres.sh .venv/bin/python manage.py bench_seed

(`PG_DURABLE=1` keeps fsync on). It migrates the database when needed, seeds a new
workspace named after the time and leaves it in place.
"""

import os
import resource
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from incidents.models import ActivityEntry, Alert, Entity, Incident, Relation, Workspace

# The targets of the demo data's issue.
TARGET_SECONDS = 5 * 60
TARGET_RSS_BYTES = 1 << 30


class Command(BaseCommand):
    help = "Time seed_demo at 100,000 incidents / 1,000,000 alerts in a new workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incidents", type=int, default=100_000)
        parser.add_argument("--alerts", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--workers", type=int, help="Passed on to seed_demo.")

    def handle(self, *args: Any, **options: Any) -> None:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", verbosity=0)
        name = f"bench-{time.strftime('%Y%m%d-%H%M%S')}"
        self.stdout.write(f"{describe_database()}: seeding workspace “{name}”")

        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        call_command(
            "seed_demo",
            workspace=name,
            incidents=options["incidents"],
            alerts=options["alerts"],
            seed=options["seed"],
            workers=options["workers"],
            stdout=self.stdout,
            stderr=self.stderr,
        )
        seconds = time.perf_counter() - started

        workspace = Workspace.objects.get(name=name)
        rows = {
            "incidents": Incident.objects.filter(workspace=workspace).count(),
            "alerts": Alert.objects.filter(workspace=workspace).count(),
            "relations": Relation.objects.filter(incident__workspace=workspace).count(),
            "activity entries": ActivityEntry.objects.filter(incident__workspace=workspace).count(),
            "alert–entity links": Alert.entities.through.objects.filter(
                alert__workspace=workspace
            ).count(),
            "entities": Entity.objects.filter(workspace=workspace).count(),
        }
        total = sum(rows.values())
        main, workers = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        cpu = main.ru_utime + main.ru_stime + workers.ru_utime + workers.ru_stime
        # ru_maxrss is in KiB on Linux; for the children it is the largest worker's.
        main_rss, worker_rss = main.ru_maxrss * 1024, workers.ru_maxrss * 1024
        peak = max(main_rss, worker_rss)

        self.stdout.write(f"wall time      {seconds:,.1f} s")
        for label, count in rows.items():
            self.stdout.write(f"{label:<18} {count:>12,}")
        self.stdout.write(f"rows written   {total:,} ({total / seconds:,.0f} rows/s)")
        self.stdout.write(f"alerts/s       {rows['alerts'] / seconds:,.0f}")
        # Other processes on the machine slow the run down: say how busy it was.
        self.stdout.write(
            f"Python CPU     {cpu:,.1f} s (PostgreSQL's not counted); load average "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs"
        )
        self.stdout.write(
            f"peak RSS       {main_rss / 2**20:,.0f} MiB (this process), "
            f"{worker_rss / 2**20:,.0f} MiB (largest worker)"
        )
        met = seconds <= TARGET_SECONDS and peak <= TARGET_RSS_BYTES
        verdict = self.style.SUCCESS("met") if met else self.style.ERROR("missed")
        self.stdout.write(f"target (≤ 5 min, ≤ 1 GiB per process): {verdict}")


def describe_database() -> str:
    if connection.vendor != "postgresql":
        return f"{connection.vendor} (the target is PostgreSQL)"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
        cursor.execute("SHOW fsync")
        (fsync,) = cursor.fetchone()
    return f"PostgreSQL {version}, fsync={fsync}"
