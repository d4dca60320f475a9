"""Middleware of the incidents app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers

NUL_REFUSED = "The query string holds a NUL character (%00): no page or API takes one."


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


def refuse_nul_in_query(get_response: Callable[[HttpRequest], HttpResponse]):
    """A NUL in the query string is a 400: PostgreSQL refuses it in any text it is sent,
    so it would be a 500 wherever a parameter reaches a query."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
            return _nul_refused(request)
        return get_response(request)

    return middleware


def _nul_refused(request: HttpRequest) -> HttpResponse:
    try:
        api = resolve(request.path_info).namespace == "api"
    except Resolver404:
        api = False
    if api:
        # The API's error shape (incidents.api.errors).
        body = {"error": {"code": "BadRequest", "message": NUL_REFUSED}}
        return JsonResponse(body, status=400)
    return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain; charset=utf-8")
