"""Small helpers the views share."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from incidents.selectors import Sort, parse_sort


def page_or_fragment(request: HttpRequest, template: str, fragment: str) -> str:
    """The whole page, or only its `fragment` partial when htmx asks (a list refreshing)."""
    return f"{template}#{fragment}" if request.htmx else template


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it points back into this site, else None."""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else None


def sort_columns(value: str, sorts: dict[str, Sort], default: str) -> dict[str, dict]:
    """Per sortable column: the sort its header link asks for and its aria-sort state."""
    _, column, descending = parse_sort(value, sorts, default)
    columns = {}
    for name in sorts:
        active = name == column.column
        columns[name] = {
            "param": (name if descending else f"-{name}") if active else f"-{name}",
            "state": ("descending" if descending else "ascending") if active else "none",
        }
    return columns
