"""Middleware of the incidents app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def no_store_pages(get_response: Callable[[HttpRequest], HttpResponse]):
    """Pages show live state: Back must ask for them again, never restore a stored copy.
    Nothing a signed-in user (or API token) reads is kept by a browser or a shared cache."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        # The API sets request.user from the token while answering, so check it afterwards.
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        # A view that chose its own caching keeps it.
        if (html or signed_in) and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response

    return middleware
