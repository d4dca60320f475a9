"""`manage.py ingest_alerts --workspace NAME FILE [FILE ...]`: Sentinel SecurityAlert rows in."""

import os
import sys
from typing import BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.ingest.readers import FORMATS, detect_format, read_rows
from incidents.ingest.stream import Rejection, Summary, ingest_stream
from incidents.models import Workspace
from incidents.progress import Progress


class Command(BaseCommand):
    help = (
        "Ingest Microsoft Sentinel SecurityAlert rows (JSON array, JSON lines or CSV; .gz "
        "too; '-' for standard input). New alerts get an incident; alerts seen before are "
        "updated, never duplicated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="Files to read, or '-'.")
        parser.add_argument("--workspace", required=True, help="The workspace's name.")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="The files' format (default: by extension; JSON lines for standard input).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="All or nothing: one bad row and nothing is imported.",
        )
        parser.add_argument("--batch-size", type=int, help="Rows per transaction (default 1000).")

    def handle(self, *args, files: list[str], workspace: str, **options) -> None:
        target = Workspace.objects.filter(name=workspace).first()
        if target is None:
            names = ", ".join(Workspace.objects.values_list("name", flat=True)) or "none yet"
            raise CommandError(
                f"There is no workspace “{workspace}”. Existing workspaces: {names}. "
                "Create one with `manage.py create_workspace NAME`."
            )
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        fmt = options["format"]
        for name in files:
            if name != "-" and not os.path.isfile(name):
                raise CommandError(f"{name}: no such file.")
            try:
                detect_format(name, fmt)
            except ValueError as error:
                raise CommandError(str(error)) from None
        if files.count("-") > 1:
            raise CommandError("Standard input ('-') can be read only once.")

        verbosity = options["verbosity"]
        progress = self._progress(files) if verbosity > 0 else None
        meter = _Meter()

        def on_batch(summary: Summary) -> None:
            if progress is not None:
                progress.update(meter.done())

        def on_reject(rejection: Rejection) -> None:
            # On a terminal, over the progress bar's line (it is drawn again after).
            self.stderr.write(("\r\x1b[K" if progress else "") + str(rejection))

        def rows():
            for name in files:
                try:
                    yield from read_rows(name, fmt, stdin=meter.open(name))
                finally:
                    meter.close()

        stream = rows()
        try:
            summary = ingest_stream(
                target,
                stream,
                strict=options["strict"],
                batch_size=options["batch_size"],
                on_reject=on_reject,
                on_batch=on_batch,
            )
        except KeyboardInterrupt:
            self.stderr.write(
                "Interrupted: the batches stored so far are kept whole; run the same command "
                "again to finish (nothing is imported twice)."
            )
            sys.exit(130)
        finally:
            # Closes the file being read, however the run ended.
            stream.close()
        if progress is not None:
            progress.finish(meter.done())
        if verbosity > 0:
            self._report(summary)
        if summary.rejected:
            kept = (
                "nothing was imported (--strict)"
                if summary.rolled_back
                else "the other rows were imported"
            )
            raise CommandError(
                f"{summary.rejected:,} row{'s' if summary.rejected != 1 else ''} rejected "
                f"(listed above); {kept}.",
                returncode=1,
            )

    def _progress(self, files: list[str]) -> Progress | None:
        """A bar on a terminal only, measured in bytes of the files read."""
        if "-" in files or not self.stderr.isatty():
            return None
        return Progress(self.stderr, sum(os.path.getsize(name) for name in files), "bytes")

    def _report(self, summary: Summary) -> None:
        lines = [
            ("Rows read", summary.read),
            ("Alerts new", summary.new),
            ("Alerts updated", summary.updated),
            ("Alerts unchanged", summary.unchanged),
            ("Rows rejected", summary.rejected),
            ("Incidents created", summary.incidents_created),
            ("Alerts correlated into existing incidents", summary.correlated_existing),
        ]
        width = max(len(label) for label, _ in lines)
        for label, value in lines:
            self.stdout.write(f"{label + ':':<{width + 1}} {value:>10,}")


class _Meter:
    """Counts the bytes read from the files, for the progress bar."""

    def __init__(self):
        self.finished = 0
        self.current: BinaryIO | None = None

    def open(self, name: str) -> BinaryIO:
        self.current = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
        return self.current

    def close(self) -> None:
        """The file being read is done with (closed unless it is standard input)."""
        if self.current is not None and self.current is not sys.stdin.buffer:
            self.finished += os.fstat(self.current.fileno()).st_size
            self.current.close()
        self.current = None

    def done(self) -> int:
        if self.current is None or self.current is sys.stdin.buffer:
            return self.finished
        return self.finished + self.current.tell()
