"""`ingest.readers`: rows streamed out of JSON, JSON lines and CSV files, with where each was."""

import gzip
import io
import json
import tracemalloc

import pytest

from incidents.ingest.readers import RawRow, detect_format, fast_json, read_rows


def rows_of(content: bytes | str, fmt: str, **options) -> list[RawRow]:
    if isinstance(content, str):
        content = content.encode()
    return list(read_rows("-", fmt, stdin=io.BytesIO(content), **options))


def read(rows: list[RawRow]) -> list[tuple[str, dict | None, str | None]]:
    return [(row.location, row.data, row.error) for row in rows]


ARRAY = """[
  {"SystemAlertId": "a", "Description": "two\\nlines"},
  {"SystemAlertId": "b", "ConfidenceScore": 123456789},

  {
    "SystemAlertId": "c",
    "Entities": [{"Type": "host"}, {"Type": "ip"}]
  }
]
"""
ARRAY_ROWS = [
    ("line 2", {"SystemAlertId": "a", "Description": "two\nlines"}, None),
    ("line 3", {"SystemAlertId": "b", "ConfidenceScore": 123456789}, None),
    (
        "line 5",
        {"SystemAlertId": "c", "Entities": [{"Type": "host"}, {"Type": "ip"}]},
        None,
    ),
]


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("alerts.json", "json"),
        ("alerts.JSON", "json"),
        ("alerts.json.gz", "json"),
        ("alerts.jsonl", "jsonl"),
        ("alerts.ndjson", "jsonl"),
        ("alerts.jsonl.gz", "jsonl"),
        ("export/alerts.csv", "csv"),
        ("alerts.csv.gz", "csv"),
        ("-", "jsonl"),
    ],
)
def test_the_format_is_told_by_the_extension(name, fmt):
    assert detect_format(name) == fmt


def test_an_explicit_format_wins_over_the_extension():
    assert detect_format("alerts.json", "csv") == "csv"
    assert detect_format("-", "JSON") == "json"


def test_an_unknown_extension_names_the_format_choices():
    with pytest.raises(ValueError, match=r"^cannot tell the format of 'alerts.txt' from its "):
        detect_format("alerts.txt")
    with pytest.raises(ValueError, match=r"use --format json, jsonl or csv$"):
        detect_format("alerts.txt")


def test_an_unknown_explicit_format_is_refused():
    with pytest.raises(ValueError, match=r"^unknown format 'xml': use --format json, jsonl or csv"):
        detect_format("alerts.json", "xml")


def test_an_unknown_format_is_refused_before_reading():
    with pytest.raises(ValueError, match="cannot tell the format"):
        read_rows("missing.txt")


def test_a_missing_file_raises_when_reading_starts(tmp_path):
    rows = read_rows(str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError):
        next(rows)


# --- JSON arrays ------------------------------------------------------------------------


def test_a_json_array_yields_each_object_at_the_line_it_starts_on():
    assert read(rows_of(ARRAY, "json")) == ARRAY_ROWS


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 16, 64])
def test_objects_straddling_chunks_are_read_whole_with_their_lines(chunk_size):
    assert read(rows_of(ARRAY, "json", chunk_size=chunk_size)) == ARRAY_ROWS


def test_a_number_cut_by_a_chunk_boundary_is_read_whole():
    rows = rows_of('[{"a": 1}, 1234567890123]', "json", chunk_size=3)

    assert read(rows)[1] == ("line 1", None, "expected a JSON object, got a number")


def test_an_object_much_larger_than_a_chunk_is_read_whole():
    big = {"SystemAlertId": "a", "Entities": [{"Type": "host", "HostName": "x" * 50_000}]}

    rows = rows_of(json.dumps([big, {"SystemAlertId": "b"}]), "json", chunk_size=16)

    assert [row.data for row in rows] == [big, {"SystemAlertId": "b"}]


@pytest.mark.parametrize("content", ["", "  \n", "[]", " [ \n ] \n"])
def test_an_empty_file_or_array_has_no_rows(content):
    assert rows_of(content, "json", chunk_size=1) == []


def test_a_row_that_is_not_an_object_is_an_error_row_and_reading_goes_on():
    rows = rows_of('[{"a": 1},\n 3,\n [1],\n "x",\n null,\n true,\n {"b": 2}]', "json")

    assert read(rows) == [
        ("line 1", {"a": 1}, None),
        ("line 2", None, "expected a JSON object, got a number"),
        ("line 3", None, "expected a JSON object, got a list"),
        ("line 4", None, "expected a JSON object, got a string"),
        ("line 5", None, "expected a JSON object, got null"),
        ("line 6", None, "expected a JSON object, got a boolean"),
        ("line 7", {"b": 2}, None),
    ]


def test_a_single_object_instead_of_an_array_is_an_error_row():
    rows = rows_of('\n{"SystemAlertId": "a"}', "json")

    assert read(rows) == [("line 2", None, "expected a JSON array of rows")]


@pytest.mark.parametrize("chunk_size", [1, 7, 65536])
def test_a_syntax_error_in_an_array_ends_the_file_with_its_line_and_column(chunk_size):
    content = '[\n  {"a": 1},\n  {"b": 2 "c": 3},\n  {"d": 4}\n]'

    rows = rows_of(content, "json", chunk_size=chunk_size)

    assert read(rows) == [
        ("line 2", {"a": 1}, None),
        ("line 3", None, "bad JSON: Expecting ',' delimiter (column 11)"),
    ]


def test_the_column_of_an_error_counts_from_the_start_of_its_line_across_chunks():
    content = "[" + '{"a": 1}, ' * 20 + "{oops}]"

    rows = rows_of(content, "json", chunk_size=5)

    assert rows[-1].error == (
        "bad JSON: Expecting property name enclosed in double quotes (column 203)"
    )
    assert rows[-1].location == "line 1"
    assert len(rows) == 21


def test_a_missing_comma_between_objects_is_a_syntax_error():
    rows = rows_of('[{"a": 1} {"b": 2}]', "json")

    assert read(rows)[-1] == ("line 1", None, "bad JSON: Expecting ',' delimiter (column 11)")


def test_a_trailing_comma_is_a_syntax_error_after_the_rows():
    rows = rows_of('[{"a": 1},\n]', "json")

    assert read(rows) == [
        ("line 1", {"a": 1}, None),
        ("line 2", None, "bad JSON: Expecting value (column 1)"),
    ]


def test_an_array_that_is_not_closed_is_an_error_after_its_rows():
    rows = rows_of('[{"a": 1},\n{"b": 2}\n', "json")

    assert read(rows) == [
        ("line 1", {"a": 1}, None),
        ("line 2", {"b": 2}, None),
        ("line 3", None, "bad JSON: the array is not closed (column 1)"),
    ]


def test_an_object_cut_short_at_the_end_of_the_file_is_an_error():
    rows = rows_of('[{"a": 1},\n{"b": "unfinished', "json", chunk_size=4)

    assert read(rows) == [
        ("line 1", {"a": 1}, None),
        ("line 2", None, "bad JSON: Unterminated string starting at (column 7)"),
    ]


def test_data_after_the_array_is_an_error():
    rows = rows_of('[{"a": 1}]\n{"b": 2}', "json")

    assert read(rows)[-1] == ("line 2", None, "bad JSON: extra data after the array (column 1)")


def test_a_json_file_with_a_byte_order_mark_is_read():
    rows = rows_of(b"\xef\xbb\xbf" + ARRAY.encode(), "json")

    assert read(rows) == ARRAY_ROWS


def test_text_that_is_not_utf8_is_an_error_row():
    rows = rows_of(b'[{"a": "caf\xe9"}]', "json")

    assert read(rows) == [("line 1", None, "not UTF-8 text (invalid continuation byte)")]


# --- files, gzip and stdin --------------------------------------------------------------


def test_a_file_is_read_by_its_name_and_rows_name_it(tmp_path):
    path = tmp_path / "alerts.json"
    path.write_text(ARRAY)

    rows = list(read_rows(str(path)))

    assert read(rows) == ARRAY_ROWS
    assert {row.source for row in rows} == {str(path)}


def test_a_gzipped_file_is_decompressed(tmp_path):
    path = tmp_path / "alerts.json.gz"
    path.write_bytes(gzip.compress(ARRAY.encode()))

    assert read(list(read_rows(str(path)))) == ARRAY_ROWS


def test_gzipped_stdin_is_recognised_by_its_magic_bytes():
    rows = list(read_rows("-", "json", stdin=io.BytesIO(gzip.compress(ARRAY.encode()))))

    assert read(rows) == ARRAY_ROWS
    assert {row.source for row in rows} == {"<stdin>"}


def test_stdin_is_read_as_json_lines_by_default_and_left_open():
    stdin = io.BytesIO(b'{"a": 1}\n{"b": 2}\n')

    rows = list(read_rows("-", stdin=stdin))

    assert read(rows) == [("line 1", {"a": 1}, None), ("line 2", {"b": 2}, None)]
    assert not stdin.closed


def test_a_stream_given_for_a_file_is_read_and_left_open(tmp_path):
    stream = io.BytesIO(ARRAY.encode())

    rows = list(read_rows("alerts.json", stdin=stream))

    assert read(rows) == ARRAY_ROWS
    assert {row.source for row in rows} == {"alerts.json"}
    assert not stream.closed


def test_a_gzip_stream_cut_short_ends_with_an_error_row():
    content = gzip.compress(b'{"a": 1}\n' * 1000)[:-20]

    rows = rows_of(content, "jsonl")

    assert rows[-1].error == "the gzip data is cut short"
    assert all(row.data == {"a": 1} for row in rows[:-1])


# --- JSON lines -------------------------------------------------------------------------


def test_a_bad_json_line_is_an_error_row_and_reading_goes_on():
    content = '{"a": 1}\n{"b": 2 "c": 3}\n{"d": 4}\n'

    assert read(rows_of(content, "jsonl")) == [
        ("line 1", {"a": 1}, None),
        ("line 2", None, "bad JSON: Expecting ',' delimiter (column 9)"),
        ("line 3", {"d": 4}, None),
    ]


def test_blank_lines_are_skipped_but_counted():
    content = '\n{"a": 1}\r\n   \r\n\n{"b": 2}'

    assert read(rows_of(content, "jsonl")) == [
        ("line 2", {"a": 1}, None),
        ("line 5", {"b": 2}, None),
    ]


def test_a_json_line_that_is_not_an_object_is_an_error_row():
    assert read(rows_of('[{"a": 1}]\n42\n', "jsonl")) == [
        ("line 1", None, "expected a JSON object, got a list"),
        ("line 2", None, "expected a JSON object, got a number"),
    ]


def test_a_json_line_with_extra_data_is_an_error_row():
    assert read(rows_of('{"a": 1} {"b": 2}\n', "jsonl")) == [
        ("line 1", None, "bad JSON: Extra data (column 10)"),
    ]


def test_json_lines_with_a_byte_order_mark_are_read():
    assert read(rows_of(b'\xef\xbb\xbf{"a": 1}\n', "jsonl")) == [("line 1", {"a": 1}, None)]


# --- CSV --------------------------------------------------------------------------------


def test_a_log_analytics_csv_export_is_read():
    content = (
        "\ufeffTenantId,TimeGenerated [UTC],StartTime [Local Time],DisplayName,Description\r\n"
        't1,2024-07-04T22:35:00Z,2024-07-04T22:30:00Z,Alert one,"two\r\nlines, ""quoted"""\r\n'
        "t2,2024-07-04T22:36:00Z,,Alert two,\r\n"
    )

    assert read(rows_of(content, "csv")) == [
        (
            "row 1",
            {
                "TenantId": "t1",
                "TimeGenerated": "2024-07-04T22:35:00Z",
                "StartTime": "2024-07-04T22:30:00Z",
                "DisplayName": "Alert one",
                "Description": 'two\r\nlines, "quoted"',
            },
            None,
        ),
        (
            "row 2",
            {"TenantId": "t2", "TimeGenerated": "2024-07-04T22:36:00Z", "DisplayName": "Alert two"},
            None,
        ),
    ]


def test_a_csv_row_with_more_cells_than_the_header_is_an_error_row():
    content = "A,B\n1,2\n1,2,3\n4,5\n"

    assert read(rows_of(content, "csv")) == [
        ("row 1", {"A": "1", "B": "2"}, None),
        ("row 2", None, "3 cells but the header has 2 columns"),
        ("row 3", {"A": "4", "B": "5"}, None),
    ]


def test_a_csv_row_with_fewer_cells_lacks_the_last_columns():
    assert read(rows_of("A,B,C\n1\n", "csv")) == [("row 1", {"A": "1"}, None)]


def test_blank_csv_lines_are_skipped_but_counted():
    assert read(rows_of("A\n1\n\n2\n", "csv")) == [
        ("row 1", {"A": "1"}, None),
        ("row 3", {"A": "2"}, None),
    ]


@pytest.mark.parametrize("content", ["", "A,B\r\n"])
def test_a_csv_file_without_data_rows_has_no_rows(content):
    assert rows_of(content, "csv") == []


def test_a_csv_cell_larger_than_the_csv_module_default_is_read():
    entities = json.dumps([{"Type": "host", "HostName": "x" * 300_000}])
    content = "Entities\n" + '"' + entities.replace('"', '""') + '"\n'

    assert rows_of(content, "csv")[0].data == {"Entities": entities}


# --- memory -----------------------------------------------------------------------------


def _write_rows(path, count: int, fmt: str) -> None:
    """`count` rows written one at a time, so the test itself holds none of them."""
    template = {
        "SystemAlertId": "00000000-0000-0000-0000-000000000000",
        "DisplayName": "Suspicious PowerShell command line",
        "Entities": json.dumps([{"$id": "1", "Type": "host", "HostName": "ws-0042"}]),
        "Description": "An encoded PowerShell command ran on the device. " * 3,
    }
    with open(path, "w", newline="") as file:
        if fmt == "csv":
            file.write(",".join(template) + "\n")
        elif fmt == "json":
            file.write("[\n")
        for number in range(count):
            row = {**template, "SystemAlertId": f"00000000-0000-0000-0000-{number:012d}"}
            if fmt == "csv":
                file.write(",".join(f'"{value.replace('"', '""')}"' for value in row.values()))
            else:
                file.write(json.dumps(row, indent=2 if fmt == "json" else None))
            file.write(",\n" if fmt == "json" and number < count - 1 else "\n")
        if fmt == "json":
            file.write("]\n")


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_reading_a_large_file_keeps_memory_flat(tmp_path, fmt):
    path = tmp_path / f"alerts.{fmt}"
    _write_rows(path, 50_000, fmt)
    assert path.stat().st_size > 14_000_000

    tracemalloc.start()
    try:
        count = sum(1 for row in read_rows(str(path)) if row.error is None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 50_000
    assert peak < 1_000_000


@pytest.mark.parametrize("number", [2**64, 2**70, -(2**64), 10**25, 18446744073709551615])
def test_integers_past_64_bits_are_read_exactly(number):
    decode = fast_json(json.loads)
    assert decode(f'{{"ConfidenceScore": {number}, "x": 0.5}}') == {
        "ConfidenceScore": number,
        "x": 0.5,
    }


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_row_with_an_integer_past_64_bits_keeps_it_exact(fmt):
    text = '{"ConfidenceScore": 18446744073709551616}'
    data = text + "\n" if fmt == "jsonl" else f"[{text}]"
    (raw,) = read_rows("-", fmt, stdin=io.BytesIO(data.encode()))
    assert raw.data == {"ConfidenceScore": 2**64}
