"""Middleware of the incidents app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def no_store_pages(get_response: Callable[[HttpRequest], HttpResponse]):
    """Pages show live state: Back must ask for them again, never restore a stored copy."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        # A view that chose its own caching keeps it; a 204 (htmx event) has no page.
        if html and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response

    return middleware
