"""Search boxes are bounded: the first 20 words within 200 characters, and the page says so.

A thousand words were a thousand LIKE clauses: a 500 on SQLite, a slow scan on PostgreSQL.
"""

import pytest

from incidents.filters import SEARCH_LENGTH, SEARCH_TERMS, parse_search
from tests.factories import IncidentFactory, alert_in

NOTE = "Search shortened to the first 20 words and 200 characters."
WORDS = [f"w{n}" for n in range(1000)]
THOUSAND = " ".join(WORDS)
# Holds the first twenty words only: found once the rest are dropped.
TITLE = " ".join(WORDS[:SEARCH_TERMS])
HTMX = {"HX-Request": "true"}


def rows(response) -> list:
    return response.context["page"].rows


@pytest.fixture
def incident(workspace):
    IncidentFactory(workspace=workspace, title="Unrelated phishing")
    return IncidentFactory(workspace=workspace, title=TITLE)


@pytest.fixture
def alert(incident):
    alert_in(IncidentFactory(workspace=incident.workspace), display_name="Unrelated alert")
    return alert_in(incident, display_name=TITLE)


def test_a_search_keeps_its_first_twenty_words():
    search = parse_search(THOUSAND)

    assert search.words == WORDS[:SEARCH_TERMS]
    assert search.note == NOTE


def test_a_search_keeps_its_first_two_hundred_characters():
    search = parse_search("x" * 150 + " " + "y" * 150)

    assert search.words == ["x" * 150, "y" * (SEARCH_LENGTH - 151)]
    assert search.note == NOTE


def test_a_search_within_the_bounds_is_kept_whole_and_says_nothing():
    words = "  ".join(WORDS[:SEARCH_TERMS])

    assert parse_search(words) == parse_search(" ".join(WORDS[:SEARCH_TERMS]))
    assert parse_search(words).words == WORDS[:SEARCH_TERMS]
    assert parse_search(words).note == ""
    assert parse_search("").words == []


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_incidents_queue_searches_the_first_twenty_words_and_says_so(
    client, reader, incident, headers
):
    client.force_login(reader)

    response = client.get("/incidents/", {"q": THOUSAND}, headers=headers)

    assert response.status_code == 200
    assert [i.pk for i in rows(response)] == [incident.pk]
    assert NOTE in response.text


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_the_alerts_queue_searches_the_first_twenty_words_and_says_so(
    client, reader, alert, headers
):
    client.force_login(reader)

    response = client.get("/alerts/", {"q": THOUSAND}, headers=headers)

    assert response.status_code == 200
    assert [a.pk for a in rows(response)] == [alert.pk]
    assert NOTE in response.text


def test_the_typeahead_searches_the_first_twenty_words_and_says_so(client, reader, incident):
    client.force_login(reader)

    response = client.get("/incidents/search/", {"incident": THOUSAND})

    assert response.status_code == 200
    assert [i.number for i in response.context["incidents"]] == [incident.number]
    assert NOTE in response.text
    assert 'aria-disabled="true" aria-selected="false">Search shortened' in response.text


@pytest.mark.parametrize("url", ["/incidents/", "/alerts/"])
def test_a_short_search_says_nothing(client, reader, alert, url):
    client.force_login(reader)

    response = client.get(url, {"q": "w1 w2"})

    assert response.status_code == 200
    assert len(rows(response)) == 1
    assert "Search shortened" not in response.text


@pytest.mark.parametrize("q", ["1" * 25, "#" + "9" * 40, "²", "¹²³"])
def test_digits_that_are_no_incident_number_are_searched_as_words(client, reader, workspace, q):
    found = IncidentFactory(workspace=workspace, title=f"Serial {q} seen")
    client.force_login(reader)

    response = client.get("/incidents/", {"q": q})

    assert response.status_code == 200
    assert [i.pk for i in rows(response)] == [found.pk]
