"""Failed bearer-token attempts are throttled per client address (429, the API's error body)."""

import pytest

from incidents.api.tokens import FailedTokenThrottle
from tests.api.conftest import error
from tests.factories import IncidentFactory

LIMIT = 20  # the default rate, 20 failures a minute


@pytest.fixture
def incident(workspace):
    return IncidentFactory(workspace=workspace)


def guess(api, times: int, address: str = "203.0.113.7") -> list[int]:
    good, api.token = api.token, "trg_guessed-token"
    codes = [
        api.client.get(api.url("incidents"), REMOTE_ADDR=address, **api.headers()).status_code
        for _ in range(times)
    ]
    api.token = good
    return codes


def test_the_rate_is_a_setting():
    assert FailedTokenThrottle().rate == "20/min"


def test_bad_tokens_are_refused_with_401_up_to_the_limit_then_429(api, incident):
    assert guess(api, LIMIT + 1) == [401] * LIMIT + [429]


def test_a_throttled_address_gets_the_api_error_body_and_retry_after(api, incident):
    guess(api, LIMIT)
    api.token = "trg_another-guess"

    response = api.client.get(api.url("incidents"), REMOTE_ADDR="203.0.113.7", **api.headers())

    status, code, message = error(response)
    assert (status, code) == (429, "TooManyRequests")
    assert "throttled" in message
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_throttled_address_is_refused_even_with_a_good_token(api, incident):
    guess(api, LIMIT)

    response = api.client.get(api.url("incidents"), REMOTE_ADDR="203.0.113.7", **api.headers())

    assert response.status_code == 429


def test_other_addresses_are_not_throttled(api, incident):
    guess(api, LIMIT)

    response = api.client.get(api.url("incidents"), REMOTE_ADDR="198.51.100.1", **api.headers())

    assert response.status_code == 200


def test_good_tokens_are_never_counted(api, incident):
    for _ in range(LIMIT + 5):
        assert api.get("incidents").status_code == 200
