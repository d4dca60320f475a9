"""Check one Sentinel `SecurityAlert` row and map its columns onto an `AlertRow`.

Column names match without case. Every column that maps onto no `Alert` field is kept in
`source_fields` under its own name, so nothing a row carried is lost.
"""

import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.conf import settings

from incidents.ingest.readers import fast_json, json_kind
from incidents.models import Alert, AlertStatus, Severity

# Lower-cased, without spaces → the model's value.
_SEVERITIES = {choice.lower(): choice for choice in Severity.values}
_STATUSES = {choice.lower(): choice for choice in AlertStatus.values}

# The model's limits, so a longer text is cut rather than refused by the database.
_MAX_LENGTHS = {
    field: Alert._meta.get_field(field).max_length
    for field in (
        "display_name",
        "alert_type",
        "product_name",
        "provider_name",
        "vendor_name",
        "provider_alert_id",
    )
}
_INCIDENT_ID_MAX_LENGTH = 200  # Incident.provider_incident_id
_INCIDENT_ID_LIMIT = 10**_INCIDENT_ID_MAX_LENGTH

# Columns mapped onto an `AlertRow` field, by lower-cased name.
_MAPPED = frozenset(
    name.lower()
    for name in (
        "SystemAlertId",
        "DisplayName",
        "AlertName",
        "AlertType",
        "AlertSeverity",
        "Severity",
        "Status",
        "ProductName",
        "ProviderName",
        "VendorName",
        "VendorOriginalId",
        "StartTime",
        "EndTime",
        "TimeGenerated",
        "Tactics",
        "Techniques",
        "Description",
        "RemediationSteps",
        "ExtendedProperties",
        "Entities",
    )
)
# The other SecurityAlert columns, kept in `source_fields` under one spelling whatever the
# row's; a column Sentinel does not have keeps the row's spelling.
_SPELLINGS = {
    name.lower(): name
    for name in (
        "AlertLink",
        "CompromisedEntity",
        "ConfidenceLevel",
        "ConfidenceScore",
        "ExtendedLinks",
        "IsIncident",
        "ProcessingEndTime",
        "ProductComponentName",
        "ResourceId",
        "SourceSystem",
        "SubTechniques",
        "TenantId",
        "Type",
        "WorkspaceResourceGroup",
        "WorkspaceSubscriptionId",
    )
}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


# PostgreSQL's jsonb refuses NaN and Infinity, so the row is refused here instead.
_decode_json = fast_json(
    json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode
)
# Checks a parsed container in one pass in C: NaN and non-JSON values raise, NUL is "\\u0000".
_encode_json = json.JSONEncoder(allow_nan=False, ensure_ascii=False).encode
_PORTAL_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(1[0-2]|0?[1-9]):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?\s*([AP]M)",
    re.IGNORECASE,
)


class RowError(ValueError):
    """Why a row cannot become an alert; `str(error)` is the reason shown to the user."""


@dataclass(slots=True)
class AlertRow:
    system_alert_id: uuid.UUID
    display_name: str
    alert_type: str
    severity: str
    status: str
    product_name: str
    provider_name: str
    vendor_name: str
    provider_alert_id: str
    start_time: datetime | None
    end_time: datetime | None
    # None when the row has none: the caller then uses StartTime or the ingestion time.
    time_generated: datetime | None
    tactics: list[str]
    techniques: list[str]
    description: str
    remediation_steps: list
    extended_properties: dict
    # Decoded but not resolved: `incidents.ingest.entities` does that.
    entities: list
    source_fields: dict
    provider_incident_id: str


def parse_row(data: dict) -> AlertRow:
    """The row as an `AlertRow`; raises RowError naming the first column that is wrong."""
    if not isinstance(data, dict):
        raise RowError(f"expected a JSON object, got {json_kind(data)}")
    _check_unicode(data)
    mapped: dict[str, object] = {}  # lower-cased name → value
    source_fields: dict[str, object] = {}
    for name, value in data.items():
        if value is None or value == "":
            continue
        key = name.lower() if isinstance(name, str) else str(name).lower()
        if key in _MAPPED and key not in mapped:
            mapped[key] = value
            continue
        name = _SPELLINGS.get(key, name if isinstance(name, str) else str(name))
        if key == "subtechniques":
            source_fields[name] = _json_list(value, name, comma_separated=True)
        elif key == "extendedlinks":
            source_fields[name] = (
                _decoded(value, name) if isinstance(value, str) else _checked(value, name)
            )
        else:
            source_fields[name] = _checked(value, name)

    system_alert_id = _guid(mapped.pop("systemalertid", None))
    display_name = _text(mapped.pop("displayname", ""), "DisplayName")
    alert_name = _text(mapped.pop("alertname", ""), "AlertName")
    if display_name.strip():
        name_column = "DisplayName"
        if alert_name and alert_name != display_name:
            source_fields["AlertName"] = alert_name
    elif alert_name.strip():
        display_name, name_column = alert_name, "AlertName"
    else:
        raise RowError("missing AlertName or DisplayName")
    if "alertseverity" in mapped:
        severity = _choice(mapped.pop("alertseverity"), "AlertSeverity", _SEVERITIES)
        if "severity" in mapped:
            source_fields["Severity"] = _checked(mapped.pop("severity"), "Severity")
    else:
        severity = _choice(mapped.pop("severity", None), "Severity", _SEVERITIES)
    provider_alert_id = _text(mapped.pop("vendororiginalid", ""), "VendorOriginalId")
    if provider_alert_id:
        source_fields["VendorOriginalId"] = provider_alert_id
    product_name = _text(mapped.pop("productname", ""), "ProductName")
    provider_name = _text(mapped.pop("providername", ""), "ProviderName")
    alert_type = _text(mapped.pop("alerttype", ""), "AlertType")
    extended_properties = _json_object(mapped.pop("extendedproperties", None))
    return AlertRow(
        system_alert_id=system_alert_id,
        display_name=_cut(display_name, name_column, "display_name", source_fields),
        alert_type=_cut(alert_type, "AlertType", "alert_type", source_fields),
        severity=severity or Severity.MEDIUM.value,
        status=_choice(mapped.pop("status", None), "Status", _STATUSES) or AlertStatus.NEW.value,
        product_name=_cut(product_name, "ProductName", "product_name", source_fields),
        provider_name=_cut(provider_name, "ProviderName", "provider_name", source_fields),
        vendor_name=_cut(
            _text(mapped.pop("vendorname", ""), "VendorName"),
            "VendorName",
            "vendor_name",
            source_fields,
        ),
        provider_alert_id=_cut(
            provider_alert_id, "VendorOriginalId", "provider_alert_id", source_fields
        ),
        start_time=_time(mapped.pop("starttime", None), "StartTime"),
        end_time=_time(mapped.pop("endtime", None), "EndTime"),
        time_generated=_time(mapped.pop("timegenerated", None), "TimeGenerated"),
        tactics=_json_list(mapped.pop("tactics", None), "Tactics", comma_separated=True),
        techniques=_json_list(mapped.pop("techniques", None), "Techniques", comma_separated=True),
        description=_text(mapped.pop("description", ""), "Description"),
        remediation_steps=_json_list(mapped.pop("remediationsteps", None), "RemediationSteps"),
        extended_properties=extended_properties,
        entities=_json_list(mapped.pop("entities", None), "Entities"),
        source_fields=source_fields,
        provider_incident_id=_provider_incident_id(
            provider_name, product_name, extended_properties
        ),
    )


def _shown(value: str) -> str:
    """The value quoted for a message, cut when long."""
    return repr(value if len(value) <= 80 else value[:79] + "…")


def _check_unicode(data: dict) -> None:
    """Refuse text the database cannot store: a lone surrogate ("\\ud800"), which JSON
    allows and UTF-8 does not. orjson checks the whole row in C; only what it refuses
    (also numbers past 64 bits, which are fine) is looked at again."""
    try:
        orjson.dumps(data)
    except orjson.JSONEncodeError:
        try:
            json.dumps(data, ensure_ascii=False, default=str).encode()
        except UnicodeEncodeError:
            raise RowError(
                "holds text that is not valid Unicode (a lone surrogate such as \\ud800)"
            ) from None


def _text(value: object, column: str) -> str:
    if not isinstance(value, str):
        raise RowError(f"{column}: expected a string, got {json_kind(value)}")
    if "\x00" in value:
        raise RowError(f"{column}: contains a NUL character")
    return value


def _cut(value: str, column: str, field: str, source_fields: dict) -> str:
    """The value cut to the model field's length; the whole of it kept in `source_fields`."""
    max_length = _MAX_LENGTHS[field]
    if len(value) <= max_length:
        return value
    source_fields[column] = value
    return value[: max_length - 1] + "…"


def _guid(value: object) -> uuid.UUID:
    text = "" if value is None else _text(value, "SystemAlertId").strip()
    if not text:
        raise RowError("missing SystemAlertId")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise RowError(f"SystemAlertId: {_shown(text)} is not a GUID") from None


def _choice(value: object, column: str, choices: dict[str, str]) -> str | None:
    if value is None:
        return None
    text = _text(value, column)
    choice = choices.get(text.lower()) or choices.get("".join(text.lower().split()))
    if choice is None:
        shown = ", ".join(choices.values())
        raise RowError(f"{column}: {_shown(text)} is not one of {shown}")
    return choice


def parse_time(value: str, column: str) -> datetime:
    """An ISO 8601 time (no zone: UTC) or the Log Analytics portal's, as an aware UTC time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = _portal_time(value, column)
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise RowError(f"{column}: {_shown(value)} is out of range") from None


def _portal_time(value: str, column: str) -> datetime:
    """What `fromisoformat` refuses: surrounding spaces, a lower-case "z", and the Log
    Analytics portal's en-US export, "7/4/2024, 10:35:00.746 PM" (the AM/PM tells it apart
    from day-first locales)."""
    text = value.strip()
    if text[-1:] == "z":
        text = text[:-1] + "Z"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _PORTAL_TIME.fullmatch(text)
    if match is not None:
        month, day, year, hour, minute, second, fraction, half = match.groups()
        hour = int(hour) % 12 + (12 if half.upper() == "PM" else 0)
        fraction = int((fraction or "0").ljust(6, "0"))
        try:
            return datetime(
                int(year), int(month), int(day), hour, int(minute), int(second or 0), fraction
            )
        except ValueError:
            pass
    raise RowError(f"{column}: {_shown(value)} is not a time")


def _time(value: object, column: str) -> datetime | None:
    if value is None:
        return None
    return parse_time(_text(value, column), column)


def _decoded(text: str, column: str) -> object:
    """A column's JSON text, decoded."""
    if "\x00" in text:
        raise RowError(f"{column}: contains a NUL character")
    try:
        value = _decode_json(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, " if error.lineno > 1 else ""
        raise RowError(f"{column}: bad JSON: {error.msg} ({where}column {error.colno})") from None
    except ValueError as error:
        raise RowError(f"{column}: bad JSON: {error}") from None
    except RecursionError:
        raise RowError(f"{column}: bad JSON: nested too deeply") from None
    if "\\u0000" in text and _holds_nul(value):
        raise RowError(f"{column}: contains a NUL character")
    return value


def _checked(value: object, column: str) -> object:
    """The value as given, once it is known to be storable as JSON."""
    if isinstance(value, str):
        if "\x00" in value:
            raise RowError(f"{column}: contains a NUL character")
    elif isinstance(value, list | dict):
        try:
            encoded = _encode_json(value)
        except (ValueError, TypeError) as error:
            raise RowError(f"{column}: cannot be stored as JSON ({error})") from None
        except RecursionError:
            raise RowError(f"{column}: cannot be stored as JSON (nested too deeply)") from None
        if "\\u0000" in encoded and _holds_nul(value):
            raise RowError(f"{column}: contains a NUL character")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise RowError(f"{column}: cannot be stored as JSON ({value})")
    elif not isinstance(value, int):  # bool is an int
        raise RowError(f"{column}: cannot be stored as JSON ({json_kind(value)})")
    return value


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False


def _json_list(value: object, column: str, *, comma_separated: bool = False) -> list:
    """A list given as JSON text or parsed; `comma_separated` lists of strings also as
    "T1059, T1566"."""
    if value is None:
        return []
    if isinstance(value, str):
        if comma_separated and not value.lstrip().startswith("["):
            if "\x00" in value:
                raise RowError(f"{column}: contains a NUL character")
            return [item for item in (part.strip() for part in value.split(",")) if item]
        value = _decoded(value, column)
        if value is None:
            return []
    elif comma_separated and not isinstance(value, list):
        raise RowError(f"{column}: expected a string or a list of strings, got {json_kind(value)}")
    else:
        value = _checked(value, column)
    if not isinstance(value, list):
        raise RowError(f"{column}: expected a JSON list, got {json_kind(value)}")
    if comma_separated:
        for item in value:
            if not isinstance(item, str):
                raise RowError(
                    f"{column}: expected a list of strings, got a list holding {json_kind(item)}"
                )
            if "\x00" in item:
                raise RowError(f"{column}: contains a NUL character")
    return value


def _json_object(value: object) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        value = _decoded(value, "ExtendedProperties")
        if value is None:
            return {}
    else:
        value = _checked(value, "ExtendedProperties")
    if not isinstance(value, dict):
        raise RowError(f"ExtendedProperties: expected a JSON object, got {json_kind(value)}")
    return value


# The setting's value last seen and its names lower-cased, so each row costs one lookup.
_xdr_sources: tuple[object, frozenset[str]] = (None, frozenset())


def _defender_xdr_sources() -> frozenset[str]:
    global _xdr_sources
    names = settings.TRIAGE_DEFENDER_XDR_SOURCES
    if _xdr_sources[0] is not names:
        _xdr_sources = (names, frozenset(name.lower() for name in names))
    return _xdr_sources[1]


def _provider_incident_id(provider_name: str, product_name: str, extended: dict) -> str:
    """The Defender XDR incident's id, which XDR alerts carry in ExtendedProperties."""
    if not extended:
        return ""
    incident_id = extended.get("IncidentId")
    if incident_id is None:
        for key, value in extended.items():
            if isinstance(key, str) and key.lower() == "incidentid":
                incident_id = value
                break
    if isinstance(incident_id, bool) or not isinstance(incident_id, str | int):
        return ""
    sources = _defender_xdr_sources()
    if provider_name.lower() not in sources and product_name.lower() not in sources:
        return ""
    # Checked before str(), which refuses ints of thousands of digits.
    if isinstance(incident_id, int) and abs(incident_id) >= _INCIDENT_ID_LIMIT:
        incident_id = "-" * (_INCIDENT_ID_MAX_LENGTH + 1)
    incident_id = str(incident_id).strip()
    if len(incident_id) > _INCIDENT_ID_MAX_LENGTH:
        raise RowError(
            f"ExtendedProperties: IncidentId is longer than {_INCIDENT_ID_MAX_LENGTH} characters"
        )
    return incident_id
