"""`ingest.stream`: the garbage collector runs rarely while a stream is ingested."""

import gc

import pytest

from incidents.ingest.readers import RawRow
from incidents.ingest.stream import GC_THRESHOLD, ingest_stream
from incidents.models import Alert
from tests.ingest.builders import row

pytestmark = pytest.mark.django_db


def raw_rows(*rows):
    return [RawRow("alerts.jsonl", f"line {n}", data, None) for n, data in enumerate(rows, 1)]


@pytest.fixture
def default_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("default_thresholds")
def test_the_collector_runs_rarely_while_ingesting_and_as_before_after(workspace):
    during = []

    ingest_stream(
        workspace,
        raw_rows(row(), row()),
        batch_size=1,
        on_batch=lambda summary: during.append(gc.get_threshold()),
    )

    assert during == [(GC_THRESHOLD, 10, 10)] * 2
    assert gc.get_threshold() == (700, 10, 10)
    assert Alert.objects.count() == 2


@pytest.mark.usefixtures("default_thresholds")
def test_the_collector_is_put_back_when_ingestion_fails(workspace):
    def fail(summary):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        ingest_stream(workspace, raw_rows(row()), on_batch=fail)

    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.usefixtures("default_thresholds")
def test_thresholds_changed_meanwhile_by_someone_else_are_left_alone(workspace):
    def change(summary):
        gc.set_threshold(5000, 10, 10)

    ingest_stream(workspace, raw_rows(row()), on_batch=change)

    assert gc.get_threshold() == (5000, 10, 10)
