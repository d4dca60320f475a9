import io

from django.core.management import call_command

from incidents.models import CorrelationRule, Workspace


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_bench_ingest_runs_the_default_rules(db):
    out = run("bench_ingest", "--alerts", "40", "--batch-size", "20", "--seed", "5")

    assert "with the default correlation rules" in out
    workspace = Workspace.objects.get(name__startswith="bench-")
    assert CorrelationRule.objects.filter(workspace=workspace, enabled=True).count() == 3


def test_bench_ingest_without_rules_times_ingestion_alone(db):
    out = run("bench_ingest", "--alerts", "40", "--seed", "5", "--without-rules")

    assert "with no correlation rules" in out
    workspace = Workspace.objects.get(name__startswith="bench-")
    assert not CorrelationRule.objects.filter(workspace=workspace).exists()
