"""Ingest a stream of rows in atomic batches, reporting each refused row with where it was."""

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import reset_queries, transaction

from incidents.activity import Actor
from incidents.ingest.readers import RawRow
from incidents.ingest.rows import RowError
from incidents.ingest.store import CREATED, UNCHANGED, UPDATED, Prepared, ingest_batch, prepare
from incidents.models import Via, Workspace

INGESTION = Actor.system("Ingestion", via=Via.INGESTION)
KEPT_REJECTIONS = 1000
# Allocations between two runs of the cyclic garbage collector while ingesting (default 700).
GC_THRESHOLD = 100_000


@dataclass(frozen=True)
class Rejection:
    source: str
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}, {self.location}: {self.reason}"


@dataclass
class Summary:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    incidents_created: int = 0
    correlated_existing: int = 0
    # --strict with a rejected row: nothing was kept.
    rolled_back: bool = False
    # The first `KEPT_REJECTIONS`, so a file of bad rows does not fill memory
    # (`on_reject` hears of every one).
    rejections: list[Rejection] = field(default_factory=list)


class _RolledBack(Exception):
    pass


def ingest_stream(
    workspace: Workspace,
    rows: Iterable[RawRow],
    *,
    actor: Actor = INGESTION,
    strict: bool = False,
    batch_size: int | None = None,
    on_reject: Callable[[Rejection], None] = lambda rejection: None,
    on_batch: Callable[[Summary], None] = lambda summary: None,
) -> Summary:
    """Check and store `rows`. Without `strict`, each batch commits on its own (an
    interrupted run keeps whole batches, and running again finishes the job); with it,
    one refused row keeps the whole stream out, and reading goes on only to report the
    rest."""
    summary = Summary()
    size = batch_size or settings.TRIAGE_INGEST_BATCH_SIZE

    def reject(row: RawRow, reason: str) -> None:
        rejection = Rejection(row.source, row.location, reason)
        summary.rejected += 1
        if len(summary.rejections) < KEPT_REJECTIONS:
            summary.rejections.append(rejection)
        on_reject(rejection)

    def batches() -> Iterator[list[tuple[RawRow, Prepared]]]:
        batch: list[tuple[RawRow, Prepared]] = []
        for row in rows:
            summary.read += 1
            if row.error is not None:
                reject(row, row.error)
                continue
            try:
                batch.append((row, prepare(row.data)))
            except RowError as error:
                reject(row, str(error))
                continue
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    with _rare_collections():
        if not strict:
            for batch in batches():
                _store(workspace, batch, actor, summary, reject)
                on_batch(summary)
            return summary
        try:
            with transaction.atomic():
                for batch in batches():
                    if not summary.rejected:
                        _store(workspace, batch, actor, summary, reject)
                    on_batch(summary)
                if summary.rejected:
                    raise _RolledBack
        except _RolledBack:
            summary.rolled_back = True
            summary.new = summary.updated = summary.unchanged = 0
            summary.incidents_created = summary.correlated_existing = 0
    return summary


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Checking and storing a row makes hundreds of short-lived containers but no reference
    cycles, and every 700 allocations start the cyclic garbage collector: with the default
    thresholds it took about a sixth of ingestion's time. Run it less often meanwhile."""
    thresholds = gc.get_threshold()
    ours = max(thresholds[0], GC_THRESHOLD)
    gc.set_threshold(ours, *thresholds[1:])
    try:
        yield
    finally:
        # Unless someone else has changed them since.
        if gc.get_threshold()[0] == ours:
            gc.set_threshold(*thresholds)


def _store(
    workspace: Workspace,
    batch: list[tuple[RawRow, Prepared]],
    actor: Actor,
    summary: Summary,
    reject: Callable[[RawRow, str], None],
) -> None:
    result = ingest_batch(workspace, [prepared for _, prepared in batch], actor=actor)
    # With DEBUG on, Django keeps every query's SQL: big batches would pile up in memory.
    reset_queries()
    for index, reason in result.rejected.items():
        reject(batch[index][0], reason)
    summary.new += result.count(CREATED)
    summary.updated += result.count(UPDATED)
    summary.unchanged += result.count(UNCHANGED)
    summary.incidents_created += result.incidents_created
    summary.correlated_existing += result.correlated_existing
