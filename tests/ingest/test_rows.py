"""`ingest.rows.parse_row`: one SecurityAlert row checked and mapped onto an `AlertRow`."""

import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents.ingest.rows import AlertRow, RowError, parse_row
from incidents.models import AlertStatus, Severity

ALERT_ID = "8f5fa0dd-7d2c-4ab8-a1b1-1a0b2b7e7a2f"
ENTITIES = [
    {"$id": "2", "HostName": "ws-0042", "DnsDomain": "contoso.com", "Type": "host"},
    {"$id": "3", "Name": "alice", "UPNSuffix": "contoso.com", "Type": "account"},
    {"$id": "4", "Address": "203.0.113.7", "Type": "ip"},
]


def row(**columns) -> dict:
    """A minimal valid row; `columns` override or add columns (None drops one)."""
    data = {"SystemAlertId": ALERT_ID, "DisplayName": "Suspicious PowerShell command line"}
    for name, value in columns.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def sentinel_row() -> dict:
    """A row as Log Analytics exports it, every column filled in."""
    return {
        "TenantId": "7c3f1f2e-8d0a-4e8b-9c51-2b0f4d6e9a10",
        "TimeGenerated": "2024-07-04 22:35:00.746663+00:00",
        "DisplayName": "Suspicious PowerShell command line",
        "AlertName": "Suspicious PowerShell command line",
        "AlertSeverity": "High",
        "Description": "A PowerShell command line with an encoded payload ran.",
        "ProviderName": "MDATP",
        "VendorName": "Microsoft",
        "VendorOriginalId": "da638123456789_-1234567",
        "SystemAlertId": ALERT_ID,
        "ResourceId": "",
        "AlertType": "WindowsDefenderAtp",
        "ConfidenceLevel": "",
        "ConfidenceScore": 0.8,
        "IsIncident": False,
        "StartTime": "2024-07-04 22:34:58.123456+00:00",
        "EndTime": "2024-07-04 22:34:59+00:00",
        "ProcessingEndTime": "2024-07-04 22:35:00.746663+00:00",
        "RemediationSteps": '[\r\n  "Isolate the device."\r\n]',
        "ExtendedProperties": json.dumps({"IncidentId": "4711", "Category": "Execution"}),
        "Entities": json.dumps(ENTITIES),
        "SourceSystem": "Detection",
        "WorkspaceSubscriptionId": "d1d8779d-38d7-4f06-91db-9cbc8de0176f",
        "WorkspaceResourceGroup": "soc",
        "ExtendedLinks": json.dumps([{"Href": "https://example.test", "Category": "x"}]),
        "ProductName": "Microsoft Defender Advanced Threat Protection",
        "ProductComponentName": "",
        "AlertLink": "https://security.microsoft.com/alerts/da638123456789_-1234567",
        "Status": "InProgress",
        "CompromisedEntity": "ws-0042",
        "Tactics": "Execution, DefenseEvasion",
        "Techniques": '["T1059", "T1027"]',
        "SubTechniques": '["T1059.001"]',
        "Type": "SecurityAlert",
    }


def refused(data) -> str:
    with pytest.raises(RowError) as caught:
        parse_row(data)
    return str(caught.value)


# --- a whole row ------------------------------------------------------------------------


def test_a_log_analytics_row_maps_onto_every_field():
    assert parse_row(sentinel_row()) == AlertRow(
        system_alert_id=uuid.UUID(ALERT_ID),
        display_name="Suspicious PowerShell command line",
        alert_type="WindowsDefenderAtp",
        severity=Severity.HIGH,
        status=AlertStatus.IN_PROGRESS,
        product_name="Microsoft Defender Advanced Threat Protection",
        provider_name="MDATP",
        vendor_name="Microsoft",
        provider_alert_id="da638123456789_-1234567",
        start_time=datetime(2024, 7, 4, 22, 34, 58, 123456, tzinfo=UTC),
        end_time=datetime(2024, 7, 4, 22, 34, 59, tzinfo=UTC),
        time_generated=datetime(2024, 7, 4, 22, 35, 0, 746663, tzinfo=UTC),
        tactics=["Execution", "DefenseEvasion"],
        techniques=["T1059", "T1027"],
        description="A PowerShell command line with an encoded payload ran.",
        remediation_steps=["Isolate the device."],
        extended_properties={"IncidentId": "4711", "Category": "Execution"},
        entities=ENTITIES,
        source_fields={
            "TenantId": "7c3f1f2e-8d0a-4e8b-9c51-2b0f4d6e9a10",
            "ConfidenceScore": 0.8,
            "IsIncident": False,
            "ProcessingEndTime": "2024-07-04 22:35:00.746663+00:00",
            "SourceSystem": "Detection",
            "WorkspaceSubscriptionId": "d1d8779d-38d7-4f06-91db-9cbc8de0176f",
            "WorkspaceResourceGroup": "soc",
            "ExtendedLinks": [{"Href": "https://example.test", "Category": "x"}],
            "AlertLink": "https://security.microsoft.com/alerts/da638123456789_-1234567",
            "CompromisedEntity": "ws-0042",
            "SubTechniques": ["T1059.001"],
            "Type": "SecurityAlert",
            "VendorOriginalId": "da638123456789_-1234567",
        },
        provider_incident_id="4711",
    )


def test_a_minimal_row_gets_the_defaults():
    alert = parse_row(row())

    assert alert.severity == Severity.MEDIUM
    assert alert.status == AlertStatus.NEW
    assert (alert.start_time, alert.end_time, alert.time_generated) == (None, None, None)
    assert (alert.tactics, alert.techniques, alert.remediation_steps) == ([], [], [])
    assert (alert.entities, alert.extended_properties, alert.source_fields) == ([], {}, {})
    assert alert.alert_type == alert.product_name == alert.provider_alert_id == ""
    assert alert.provider_incident_id == ""


def test_something_that_is_not_an_object_is_refused():
    assert refused(["SystemAlertId"]) == "expected a JSON object, got a list"


@pytest.mark.parametrize(
    "spell", [str.lower, str.upper, lambda name: name], ids=["lower", "upper", "as-is"]
)
def test_column_names_match_whatever_their_case(spell):
    data = {spell(name): value for name, value in sentinel_row().items()}

    alert = parse_row(data)

    assert alert.severity == Severity.HIGH
    assert alert.entities == ENTITIES
    assert alert.provider_incident_id == "4711"
    assert alert.source_fields["TenantId"] == "7c3f1f2e-8d0a-4e8b-9c51-2b0f4d6e9a10"


# --- SystemAlertId and the name ---------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_row_without_a_system_alert_id_is_refused(value):
    assert refused(row(SystemAlertId=value)) == "missing SystemAlertId"


def test_a_system_alert_id_that_is_not_a_guid_is_refused():
    assert refused(row(SystemAlertId="abc")) == "SystemAlertId: 'abc' is not a GUID"


def test_a_system_alert_id_that_is_not_a_string_is_refused():
    assert refused(row(SystemAlertId=42)) == "SystemAlertId: expected a string, got a number"


@pytest.mark.parametrize(
    "spelling",
    [
        ALERT_ID,
        ALERT_ID.upper(),
        "{" + ALERT_ID + "}",
        ALERT_ID.replace("-", ""),
        "urn:uuid:" + ALERT_ID,
        f" {ALERT_ID} ",
    ],
)
def test_every_guid_spelling_is_accepted(spelling):
    assert parse_row(row(SystemAlertId=spelling)).system_alert_id == uuid.UUID(ALERT_ID)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_row_without_a_name_is_refused(value):
    assert refused(row(DisplayName=value)) == "missing AlertName or DisplayName"


def test_the_alert_name_names_the_alert_without_a_display_name():
    alert = parse_row(row(DisplayName="", AlertName="Brute force"))

    assert alert.display_name == "Brute force"
    assert alert.source_fields == {}


def test_an_alert_name_that_differs_from_the_display_name_is_kept():
    alert = parse_row(row(DisplayName="Brute force on ws-0042", AlertName="Brute force"))

    assert alert.display_name == "Brute force on ws-0042"
    assert alert.source_fields == {"AlertName": "Brute force"}


@pytest.mark.parametrize(
    ("value", "kind"),
    [(42, "a number"), ({"en": "x"}, "an object"), (["x"], "a list"), (True, "a boolean")],
)
def test_a_display_name_that_is_not_a_string_is_refused(value, kind):
    assert refused(row(DisplayName=value)) == f"DisplayName: expected a string, got {kind}"


@pytest.mark.parametrize(
    "column", ["AlertType", "ProductName", "ProviderName", "VendorName", "Description"]
)
def test_a_text_column_that_is_not_a_string_is_refused(column):
    assert refused(row(**{column: 3.5})) == f"{column}: expected a string, got a number"


# --- times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "moment"),
    [
        ("2024-07-04 22:35:00.746663+00:00", datetime(2024, 7, 4, 22, 35, 0, 746663, tzinfo=UTC)),
        ("2024-07-04T22:35:00Z", datetime(2024, 7, 4, 22, 35, tzinfo=UTC)),
        ("2024-07-04T22:35:00z", datetime(2024, 7, 4, 22, 35, tzinfo=UTC)),
        ("2024-07-04T22:35:00.1234567Z", datetime(2024, 7, 4, 22, 35, 0, 123456, tzinfo=UTC)),
        ("2024-07-04T22:35:00.12Z", datetime(2024, 7, 4, 22, 35, 0, 120000, tzinfo=UTC)),
        ("2024-07-04T22:35:00", datetime(2024, 7, 4, 22, 35, tzinfo=UTC)),
        ("2024-07-05T00:35:00+02:00", datetime(2024, 7, 4, 22, 35, tzinfo=UTC)),
        ("2024-07-04T17:35:00.5-05:00", datetime(2024, 7, 4, 22, 35, 0, 500000, tzinfo=UTC)),
        (" 2024-07-04T22:35:00Z\n", datetime(2024, 7, 4, 22, 35, tzinfo=UTC)),
        ("2024-07-04", datetime(2024, 7, 4, tzinfo=UTC)),
        ("7/4/2024, 10:35:00.746 PM", datetime(2024, 7, 4, 22, 35, 0, 746000, tzinfo=UTC)),
        ("7/4/2024, 12:05:00 AM", datetime(2024, 7, 4, 0, 5, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("column", ["TimeGenerated", "StartTime", "EndTime"])
def test_every_time_spelling_is_read_as_utc(column, spelling, moment):
    alert = parse_row(row(**{column: spelling}))

    parsed = {"TimeGenerated": alert.time_generated, "StartTime": alert.start_time}.get(
        column, alert.end_time
    )
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", ["yesterday", "2024-13-01T00:00:00Z", "13/4/2024, 22:35:00"])
def test_a_time_that_does_not_parse_is_refused(value):
    assert refused(row(StartTime=value)) == f"StartTime: {value!r} is not a time"


def test_a_time_given_as_a_number_is_refused():
    assert refused(row(TimeGenerated=1720132500)) == (
        "TimeGenerated: expected a string, got a number"
    )


def test_a_long_bad_value_is_cut_in_the_message():
    message = refused(row(EndTime="x" * 500))

    assert message == f"EndTime: {'x' * 79 + '…'!r} is not a time"


def test_a_time_that_leaves_the_calendar_in_utc_is_refused():
    assert refused(row(StartTime="0001-01-01T00:00:00+01:00")) == (
        "StartTime: '0001-01-01T00:00:00+01:00' is out of range"
    )


def test_the_processing_end_time_is_kept_as_given():
    alert = parse_row(row(ProcessingEndTime="2024-07-04 22:35:00.746663+00:00"))

    assert alert.source_fields == {"ProcessingEndTime": "2024-07-04 22:35:00.746663+00:00"}


def test_times_come_back_in_utc_whatever_the_offset():
    alert = parse_row(row(StartTime="2024-07-05T00:35:00+02:00"))

    assert alert.start_time.tzinfo is UTC


# --- severity and status ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "severity"),
    [
        ("High", Severity.HIGH),
        ("high", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("Low", Severity.LOW),
        ("informational", Severity.INFORMATIONAL),
        (" Informational ", Severity.INFORMATIONAL),
    ],
)
def test_every_severity_spelling_is_accepted(spelling, severity):
    assert parse_row(row(AlertSeverity=spelling)).severity == severity


def test_a_severity_column_is_read_when_there_is_no_alert_severity():
    assert parse_row(row(Severity="low")).severity == Severity.LOW


def test_alert_severity_wins_over_severity_which_is_kept():
    alert = parse_row(row(AlertSeverity="High", Severity="Sev1"))

    assert alert.severity == Severity.HIGH
    assert alert.source_fields == {"Severity": "Sev1"}


def test_an_unknown_severity_is_refused():
    assert refused(row(AlertSeverity="Critical")) == (
        "AlertSeverity: 'Critical' is not one of High, Medium, Low, Informational"
    )


def test_a_severity_that_is_not_a_string_is_refused():
    assert refused(row(Severity=3)) == "Severity: expected a string, got a number"


@pytest.mark.parametrize(
    ("spelling", "status"),
    [
        ("New", AlertStatus.NEW),
        ("new", AlertStatus.NEW),
        ("InProgress", AlertStatus.IN_PROGRESS),
        ("inprogress", AlertStatus.IN_PROGRESS),
        ("In progress", AlertStatus.IN_PROGRESS),
        ("IN PROGRESS", AlertStatus.IN_PROGRESS),
        ("Resolved", AlertStatus.RESOLVED),
        ("dismissed", AlertStatus.DISMISSED),
        ("Unknown", AlertStatus.UNKNOWN),
    ],
)
def test_every_status_spelling_is_accepted(spelling, status):
    assert parse_row(row(Status=spelling)).status == status


def test_an_unknown_status_is_refused_listing_the_choices():
    assert refused(row(Status="Open")) == (
        "Status: 'Open' is not one of New, InProgress, Resolved, Dismissed, Unknown"
    )


# --- tactics and techniques -------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "InitialAccess, Execution",
        "InitialAccess,Execution,",
        ["InitialAccess", "Execution"],
        '["InitialAccess", "Execution"]',
    ],
)
def test_every_tactics_spelling_is_accepted(spelling):
    assert parse_row(row(Tactics=spelling)).tactics == ["InitialAccess", "Execution"]


def test_tactics_given_as_a_number_are_refused():
    assert refused(row(Tactics=7)) == (
        "Tactics: expected a string or a list of strings, got a number"
    )


def test_tactics_holding_something_else_than_strings_are_refused():
    assert refused(row(Tactics=["Execution", 7])) == (
        "Tactics: expected a list of strings, got a list holding a number"
    )


@pytest.mark.parametrize(
    "spelling", ['["T1059", "T1566"]', ["T1059", "T1566"], "T1059, T1566", "T1059,T1566"]
)
def test_every_techniques_spelling_is_accepted(spelling):
    assert parse_row(row(Techniques=spelling)).techniques == ["T1059", "T1566"]


def test_techniques_given_as_a_json_object_are_refused():
    assert refused(row(Techniques={"T1059": 1})) == (
        "Techniques: expected a string or a list of strings, got an object"
    )


def test_sub_techniques_are_decoded_into_the_source_fields():
    alert = parse_row(row(SubTechniques='["T1059.001"]'))

    assert alert.source_fields == {"SubTechniques": ["T1059.001"]}


# --- columns holding JSON ---------------------------------------------------------------


@pytest.mark.parametrize("given", [json.dumps(ENTITIES), ENTITIES], ids=["text", "parsed"])
def test_entities_are_accepted_as_json_text_or_parsed(given):
    assert parse_row(row(Entities=given)).entities == ENTITIES


@pytest.mark.parametrize("given", ["null", "[]", None, ""])
def test_entities_that_are_empty_become_an_empty_list(given):
    assert parse_row(row(Entities=given)).entities == []


def test_entities_that_are_not_a_list_are_refused():
    assert refused(row(Entities='{"Type": "host"}')) == (
        "Entities: expected a JSON list, got an object"
    )


def test_entities_that_are_not_json_are_refused():
    assert refused(row(Entities='[{"Type": "host"')) == (
        "Entities: bad JSON: Expecting ',' delimiter (column 17)"
    )


def test_a_json_error_on_a_later_line_names_the_line():
    assert refused(row(Entities='[\n  {"Type": "host",}\n]')) == (
        "Entities: bad JSON: Expecting property name enclosed in double quotes (line 2, column 19)"
    )


@pytest.mark.parametrize(
    "given", ['{"IncidentId": 12, "Query": "x"}', {"IncidentId": 12, "Query": "x"}]
)
def test_extended_properties_are_accepted_as_json_text_or_parsed(given):
    assert parse_row(row(ExtendedProperties=given)).extended_properties == {
        "IncidentId": 12,
        "Query": "x",
    }


def test_extended_properties_that_are_not_an_object_are_refused():
    assert refused(row(ExtendedProperties="[1, 2]")) == (
        "ExtendedProperties: expected a JSON object, got a list"
    )


def test_extended_properties_that_are_not_json_are_refused():
    assert refused(row(ExtendedProperties="Query=x")) == (
        "ExtendedProperties: bad JSON: Expecting value (column 1)"
    )


@pytest.mark.parametrize(
    "given",
    [
        '["Isolate the device.", "Reset the password."]',
        ["Isolate the device.", "Reset the password."],
    ],
)
def test_remediation_steps_are_accepted_as_json_text_or_parsed(given):
    assert parse_row(row(RemediationSteps=given)).remediation_steps == [
        "Isolate the device.",
        "Reset the password.",
    ]


def test_remediation_steps_that_are_not_a_list_are_refused():
    assert refused(row(RemediationSteps='"Isolate the device."')) == (
        "RemediationSteps: expected a JSON list, got a string"
    )


def test_extended_links_are_decoded_into_the_source_fields():
    alert = parse_row(row(ExtendedLinks='[{"Href": "https://example.test"}]'))

    assert alert.source_fields == {"ExtendedLinks": [{"Href": "https://example.test"}]}


def test_extended_links_that_are_not_json_are_refused():
    assert refused(row(ExtendedLinks="https://example.test")) == (
        "ExtendedLinks: bad JSON: Expecting value (column 1)"
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_text_holding_a_number_json_cannot_store_is_refused(constant):
    assert refused(row(Entities=f'[{{"Type": "ip", "Score": {constant}}}]')).startswith(
        "Entities: bad JSON: "
    )


def test_parsed_json_holding_nan_is_refused():
    assert refused(row(ExtendedProperties={"Score": math.nan})) == (
        "ExtendedProperties: cannot be stored as JSON "
        "(Out of range float values are not JSON compliant: nan)"
    )


def test_a_column_holding_nan_is_refused():
    assert (
        refused(row(ConfidenceScore=math.nan)) == "ConfidenceScore: cannot be stored as JSON (nan)"
    )


# --- NUL characters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("DisplayName", "Brute\x00force"),
        ("Description", "\x00"),
        ("Tactics", "Execution\x00"),
        ("Tactics", ["Execution\x00"]),
        ("Entities", '[{"Type": "host", "HostName": "ws\\u0000"}]'),
        ("Entities", [{"Type": "host", "HostName": "ws\x00"}]),
        ("ExtendedProperties", {"Key\x00": "x"}),
        ("ExtendedProperties", '{"Query": "x\x00"}'),
        ("CompromisedEntity", "ws-0042\x00"),
        ("CustomColumn", ["a", {"b": "\x00"}]),
    ],
)
def test_a_nul_character_anywhere_is_refused(column, value):
    assert refused(row(**{column: value})) == f"{column}: contains a NUL character"


def test_an_escaped_backslash_before_u0000_is_not_a_nul_character():
    alert = parse_row(row(Entities='[{"Type": "file", "Name": "C:\\\\u0000.txt"}]'))

    assert alert.entities == [{"Type": "file", "Name": "C:\\u0000.txt"}]


# --- lengths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "field", "max_length"),
    [
        ("DisplayName", "display_name", 256),
        ("AlertType", "alert_type", 256),
        ("ProductName", "product_name", 200),
        ("ProviderName", "provider_name", 200),
        ("VendorName", "vendor_name", 200),
        ("VendorOriginalId", "provider_alert_id", 200),
    ],
)
def test_text_longer_than_its_field_is_cut_and_kept_whole(column, field, max_length):
    value = "x" * (max_length + 50)

    alert = parse_row(row(**{column: value}))

    assert getattr(alert, field) == "x" * (max_length - 1) + "…"
    assert alert.source_fields[column] == value


def test_text_as_long_as_its_field_is_not_cut():
    alert = parse_row(row(DisplayName="x" * 256))

    assert alert.display_name == "x" * 256
    assert alert.source_fields == {}


def test_a_cut_alert_name_keeps_its_whole_value_under_its_own_column():
    alert = parse_row(row(DisplayName=None, AlertName="y" * 300))

    assert alert.display_name == "y" * 255 + "…"
    assert alert.source_fields == {"AlertName": "y" * 300}


# --- source fields ----------------------------------------------------------------------


def test_columns_that_map_onto_no_field_are_kept_by_name():
    alert = parse_row(
        row(
            ConfidenceLevel="High",
            ConfidenceScore=0.8,
            IsIncident=False,
            CustomDetails_Owner="soc",
            Nested={"a": [1, 2]},
        )
    )

    assert alert.source_fields == {
        "ConfidenceLevel": "High",
        "ConfidenceScore": 0.8,
        "IsIncident": False,
        "CustomDetails_Owner": "soc",
        "Nested": {"a": [1, 2]},
    }


def test_empty_columns_are_left_out_of_the_source_fields():
    alert = parse_row(row(ResourceId="", ConfidenceLevel=None, Custom=""))

    assert alert.source_fields == {}


def test_sentinel_columns_keep_sentinels_spelling_and_others_their_own():
    alert = parse_row(row(tenantid="t1", WORKSPACERESOURCEGROUP="soc", my_column="x"))

    assert alert.source_fields == {
        "TenantId": "t1",
        "WorkspaceResourceGroup": "soc",
        "my_column": "x",
    }


def test_the_vendor_original_id_is_also_kept_in_the_source_fields():
    alert = parse_row(row(VendorOriginalId="da638_1"))

    assert alert.provider_alert_id == "da638_1"
    assert alert.source_fields == {"VendorOriginalId": "da638_1"}


def test_a_second_spelling_of_a_mapped_column_is_kept_not_lost():
    data = row(Description="first")
    data["DESCRIPTION"] = "second"

    alert = parse_row(data)

    assert alert.description == "first"
    assert alert.source_fields == {"DESCRIPTION": "second"}


# --- Defender XDR incident id -----------------------------------------------------------


@pytest.mark.parametrize(
    "provider",
    [
        "MDATP",
        "mdatp",
        "MicrosoftThreatProtection",
        "OATP",
        "MCAS",
        "Azure Advanced Threat Protection",
        "IPC",
        "Microsoft 365 Defender",
        "Microsoft Defender XDR",
    ],
)
def test_a_defender_xdr_provider_gives_its_incident_id(provider):
    alert = parse_row(row(ProviderName=provider, ExtendedProperties='{"IncidentId": "4711"}'))

    assert alert.provider_incident_id == "4711"


@pytest.mark.parametrize(
    "product",
    [
        "Microsoft Defender Advanced Threat Protection",
        "Microsoft 365 Defender",
        "Office 365 Advanced Threat Protection",
        "Microsoft Cloud App Security",
        "Azure Active Directory Identity Protection",
        "Microsoft Defender for Identity",
        "Microsoft Defender for Endpoint",
        "Microsoft Defender for Office 365",
        "Microsoft Defender for Cloud Apps",
        "MICROSOFT ENTRA ID PROTECTION",
        "Microsoft Defender XDR",
    ],
)
def test_a_defender_xdr_product_gives_its_incident_id(product):
    alert = parse_row(
        row(ProviderName="Other", ProductName=product, ExtendedProperties='{"IncidentId": 4711}')
    )

    assert alert.provider_incident_id == "4711"


@pytest.mark.parametrize("key", ["incidentId", "INCIDENTID", "incidentid"])
def test_the_incident_id_key_matches_whatever_its_case(key):
    alert = parse_row(row(ProviderName="MDATP", ExtendedProperties={key: " 4711 "}))

    assert alert.provider_incident_id == "4711"


def test_an_alert_from_another_provider_has_no_provider_incident():
    alert = parse_row(
        row(
            ProviderName="ASI Scheduled Alerts",
            ProductName="Azure Sentinel",
            ExtendedProperties='{"IncidentId": "4711"}',
        )
    )

    assert alert.provider_incident_id == ""


@pytest.mark.parametrize("extended", [None, "{}", '{"IncidentId": null}', '{"IncidentId": true}'])
def test_a_defender_alert_without_an_incident_id_has_no_provider_incident(extended):
    alert = parse_row(row(ProviderName="MDATP", ExtendedProperties=extended))

    assert alert.provider_incident_id == ""


def test_an_incident_id_longer_than_the_field_is_refused():
    message = refused(row(ProviderName="MDATP", ExtendedProperties={"IncidentId": "9" * 201}))

    assert message == "ExtendedProperties: IncidentId is longer than 200 characters"


def test_the_defender_sources_come_from_the_setting(settings):
    settings.TRIAGE_DEFENDER_XDR_SOURCES = ("Contoso XDR",)
    extended = '{"IncidentId": "4711"}'

    assert (
        parse_row(row(ProviderName="contoso xdr", ExtendedProperties=extended)).provider_incident_id
        == "4711"
    )
    assert (
        parse_row(row(ProviderName="MDATP", ExtendedProperties=extended)).provider_incident_id == ""
    )


# --- anything else ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
column_names = st.sampled_from(
    [
        "SystemAlertId",
        "DisplayName",
        "AlertName",
        "AlertSeverity",
        "Severity",
        "Status",
        "StartTime",
        "TimeGenerated",
        "Tactics",
        "Techniques",
        "SubTechniques",
        "Entities",
        "ExtendedProperties",
        "ExtendedLinks",
        "RemediationSteps",
        "ProviderName",
        "VendorOriginalId",
        "Custom",
    ]
) | st.text(max_size=12)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(column_names, json_values | st.text().map(json.dumps), max_size=12),
    st.booleans(),
)
def test_any_row_becomes_an_alert_row_or_a_row_error(data, valid_core):
    if valid_core:
        data = {**data, "SystemAlertId": ALERT_ID, "DisplayName": "x"}
    try:
        alert = parse_row(data)
    except RowError:
        return  # any other exception fails the test
    assert isinstance(alert.system_alert_id, uuid.UUID)
    assert alert.severity in Severity.values
    assert alert.status in AlertStatus.values
    assert isinstance(alert.entities, list)
    assert isinstance(alert.extended_properties, dict)
    json.dumps(alert.source_fields, allow_nan=False)


def test_a_lone_surrogate_is_refused_before_the_database_sees_it():
    data = json.loads('{"Description": "bad \\ud800 text"}')

    with pytest.raises(RowError, match=r"holds text that is not valid Unicode"):
        parse_row(row(**data))


def test_a_number_past_64_bits_is_not_taken_for_bad_unicode():
    alert = parse_row(row(ConfidenceScore=123456789012345678901234567890))

    assert alert.source_fields["ConfidenceScore"] == 123456789012345678901234567890
