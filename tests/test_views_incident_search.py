"""The "Incident name or ID" typeahead: /incidents/search/."""

import pytest

from incidents.models import IncidentStatus
from tests.factories import IncidentFactory

URL = "/incidents/search/"


def numbers(response) -> list[int]:
    return [i.number for i in response.context["incidents"]]


@pytest.fixture
def incidents(workspace):
    return [
        IncidentFactory(workspace=workspace, title="Phishing campaign against finance"),
        IncidentFactory(workspace=workspace, title="Ransomware on file server"),
        IncidentFactory(workspace=workspace, title="Phishing link clicked"),
        IncidentFactory(workspace=workspace, title="Old phishing", status=IncidentStatus.CLOSED),
    ]


def test_a_number_finds_that_incident(client, reader, incidents):
    client.force_login(reader)
    assert numbers(client.get(URL, {"incident": "2"})) == [2]
    assert numbers(client.get(URL, {"incident": "#3"})) == [3]


def test_words_match_the_title(client, reader, incidents):
    client.force_login(reader)
    response = client.get(URL, {"incident": "phishing"})
    assert sorted(numbers(response)) == [1, 3, 4]
    assert numbers(client.get(URL, {"incident": "PHISH finance"})) == [1]
    html = response.content.decode()
    assert 'role="option"' in html
    assert 'data-value="#1 Phishing campaign against finance"' in html


def test_nothing_typed_lists_open_incidents(client, reader, incidents):
    client.force_login(reader)
    assert sorted(numbers(client.get(URL))) == [1, 2, 3]


def test_it_leaves_out_the_source_incident(client, reader, incidents):
    client.force_login(reader)
    assert sorted(numbers(client.get(URL, {"incident": "phishing", "exclude": "1"}))) == [3, 4]


def test_words_search_every_title_open_first_then_closed_newest_first(client, reader, incidents):
    client.force_login(reader)
    assert numbers(client.get(URL, {"incident": "phishing"})) == [3, 1, 4]
    assert numbers(client.get(URL, {"incident": "#1"})) == [1]


def test_no_match_says_so(client, reader, incidents):
    client.force_login(reader)
    assert "No incident matches “zebra”." in client.get(URL, {"incident": "zebra"}).content.decode()


def test_it_finds_nothing_of_another_workspace(client, outsider, incidents):
    client.force_login(outsider)
    assert numbers(client.get(URL, {"incident": "phishing"})) == []
    assert numbers(client.get(URL, {"incident": "1"})) == []


def test_it_needs_login(client, incidents):
    assert client.get(URL).status_code == 302


@pytest.mark.parametrize("rows", [10, 100])
def test_its_query_count_does_not_grow_with_incidents(
    client, reader, workspace, rows, django_assert_max_num_queries
):
    for i in range(rows):
        IncidentFactory(workspace=workspace, title=f"Phishing {i}")
    client.force_login(reader)
    # Session, user, memberships; the matches.
    with django_assert_max_num_queries(4):
        response = client.get(URL, {"incident": "phishing"})
    assert len(numbers(response)) == 10
