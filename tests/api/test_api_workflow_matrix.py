"""The workflow matrix through the API: every event × every person (in and out of
the item's area) × every state answers exactly as the services decide.

The oracle is ``ledger.items.services.check_event`` (what firing the event now
would raise, which ``tests/unit/test_workflow_matrix.py`` checks against the
SPEC tables): where it allows, ``POST /api/v1/items/{id}/events/{event}`` with
the form's inputs succeeds (200, the item moved on, the event listed by
``GET …/events`` beforehand); where it raises ``PermissionDenied`` the API
answers 403 ``forbidden``, ``InvalidTransition`` 409 ``invalid-transition``,
``NotFound`` (outside the area) 404 ``not-found``, and the item is unchanged.

Items are built through the services by the unit matrix's ``Ledger`` on one
shared world (built once per module, like the unit matrix).
"""

from __future__ import annotations

import dataclasses
import io

import pytest
from api_fixtures import ApiClient, make_token
from unit.test_workflow_matrix import (
    ALL_ACTORS,
    CROSS_CHECK_STATES,
    EVENTS,
    Ledger,
    expected_outcome,
)

from ledger.core.errors import InvalidTransition, NotFound, PermissionDenied
from ledger.items import services as svc
from web import create_app

PROBLEM = {PermissionDenied: (403, "forbidden"), InvalidTransition: (409, "invalid-transition"),
           NotFound: (404, "not-found")}
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module")
def _shared(sqlite_template, tmp_path_factory):
    from conftest import build_world, make_sqlite

    app = make_sqlite(sqlite_template, tmp_path_factory.mktemp("api_matrix"))
    world = build_world(app)
    # some 40 requests a test per person: no rate limit in the way
    web = create_app(sanhu=dataclasses.replace(
        app, settings=app.settings.with_(api_rate_per_minute=1_000_000)))
    clients = {who: ApiClient(web.test_client(), make_token(app, world[who]))
               for who in ALL_ACTORS}
    yield app, world, clients
    app.dispose()


@pytest.fixture
def ledger(_shared) -> Ledger:
    return Ledger(_shared[0], _shared[1])


@pytest.fixture
def clients(_shared) -> dict[str, ApiClient]:
    return _shared[2]


def api_inputs(ledger: Ledger, event: str, api: ApiClient) -> dict:
    """The event's form inputs as JSON (dates as ISO strings, files uploaded first)."""
    body = {}
    for key, value in ledger.inputs(event).items():
        if key == "uploads":
            response = api.client.post("/api/v1/uploads", headers=api.headers(),
                                       data={"file": (io.BytesIO(PDF), "a.pdf")},
                                       content_type="multipart/form-data")
            assert response.status_code == 201, response.get_data(as_text=True)
            body["uploads"] = [response.json["upload"]]
        elif hasattr(value, "isoformat"):
            body[key] = value.isoformat()
        else:
            body[key] = value
    return body


def service_says(ledger: Ledger, item_id: int, who: str, event: str):
    """None if the services would let ``who`` fire ``event`` now, else the error class."""
    with ledger.app.uow() as uow:
        try:
            svc.check_event(uow, item_id, ledger.world[who], event)
        except (PermissionDenied, InvalidTransition, NotFound) as exc:
            return type(exc)
    return None


@pytest.mark.parametrize("who", ALL_ACTORS)
@pytest.mark.parametrize("state", CROSS_CHECK_STATES)
def test_every_event_answers_over_the_api_as_the_services_decide(ledger, clients, state, who):
    api = clients[who]
    item_id = ledger.make(state)
    for event in EVENTS:
        before = ledger.snap(item_id)
        expected = service_says(ledger, item_id, who, event)
        listed = api.get(f"/api/v1/items/{item_id}/events")
        response = api.post(f"/api/v1/items/{item_id}/events/{event}",
                            json=api_inputs(ledger, event, api),
                            headers={"If-Match": f'"{before.version}"'})
        label = f"{event} by {who} on a {state} item"
        if expected is None:
            assert listed.status_code == 200 and event in listed.json["events"], label
            assert response.status_code == 200, (label, response.get_data(as_text=True))
            after = ledger.snap(item_id)
            assert response.json["version"] == after.version == before.version + 1, label
            assert response.headers["ETag"] == f'"{after.version}"'
            assert response.json["history"][-1]["event"] == event, label
            item_id = ledger.make(state)  # the success changed it: start again
            continue
        status, slug = PROBLEM[expected]
        assert response.status_code == status, (label, response.get_data(as_text=True))
        assert response.content_type == "application/problem+json", label
        assert response.json["type"] == f"/api/v1/problems/{slug}", label
        if expected is NotFound:
            assert listed.status_code == 404, label
        else:
            assert event not in listed.json["events"], label
        after = ledger.snap(item_id)
        assert (after.version, after.status, len(after.history), after.evidence_count) == (
            before.version, before.status, len(before.history), before.evidence_count), label


@pytest.mark.parametrize("who", ALL_ACTORS)
def test_recording_a_finding_over_the_api_is_allowed_exactly_as_by_the_services(
        ledger, clients, who):
    expected = expected_outcome("record_finding", who)
    village = ledger.world.units["V111"].id
    response = clients[who].post("/api/v1/items", json={"unit_id": village,
                                                        "description": "制度未上墙"})
    if expected is None:
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.json["status"] == "found" and response.json["version"] == 1
        assert response.json["history"][0]["actor"]["id"] == ledger.world[who].id
    else:
        status, slug = PROBLEM[expected]
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.json["type"] == f"/api/v1/problems/{slug}"
