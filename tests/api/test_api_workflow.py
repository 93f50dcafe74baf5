"""The workflows as data: the same tables the services fire, with the diagrams."""

from __future__ import annotations

from ledger.items.workflow import RULES as ITEM_RULES
from ledger.observations.workflow import RULES as OBSERVATION_RULES


def test_the_item_workflow_lists_every_event_with_its_states_roles_inputs_and_guards(api_as):
    response = api_as("sec_V111").get("/api/v1/workflow")
    assert response.status_code == 200
    item = response.json["item"]
    assert item["states"] == ["found", "assigned", "rectifying", "verified", "closed"]
    events = {e["event"]: e for e in item["events"]}
    assert list(events) == [r.event for r in ITEM_RULES]
    assert events["assign"] == {
        "event": "assign", "label": "assign (交办)", "from_states": ["found"],
        "to_state": "assigned", "roles": ["county_staff", "township_staff"],
        "unit_rule": "above", "inputs": ["responsible_user_id", "category", "deadline"],
        "guards": []}
    assert events["verify"]["guards"] == ["is_submitted", "not_the_submitter"]
    assert events["submit"]["to_state"] is None  # the state stays (待验收)
    assert {c["event"] for c in item["creations"]} == {"record", "import"}
    assert set(item["unit_rules"]) == {"own", "above"}
    assert item["mermaid"].startswith("stateDiagram-v2")


def test_the_observation_workflow_is_there_too(api_as):
    observation = api_as("town_T11").get("/api/v1/workflow").json["observation"]
    assert observation["states"] == ["planned", "in_progress", "submitted", "confirmed"]
    events = {e["event"]: e for e in observation["events"]}
    assert list(events) == [r.event for r in OBSERVATION_RULES]
    assert events["reopen"]["inputs"] == ["reason"]
    assert events["reopen"]["unit_rule"] == "above_observer"
    assert events["submit"]["guards"] == ["record_complete"]
    assert "planned --> in_progress: start" in observation["mermaid"]


def test_the_workflow_needs_a_token(client):
    assert client.get("/api/v1/workflow").status_code == 401
