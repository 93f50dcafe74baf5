"""The workflows as data: read from the same ``RULES`` tables the services fire.

``GET /api/v1/workflow`` lists, for the ledger items and for the observations,
the states and every event with the states it leaves and enters, the roles
that may fire it, where the actor must stand (the unit rule), the inputs it
needs, its guards' names and its label, plus the Mermaid diagram the CLI
prints (``sanhu workflow --mermaid``).  Nothing here is a second copy: change
a rule and this answer changes with it.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f

from ledger.core.rulebook import Rulebook
from ledger.items import workflow as items_wf
from ledger.observations import workflow as obs_wf

blp = Blueprint("api_workflow", __name__, url_prefix="/api/v1",
                description="The item and observation workflows as data")

UNIT_RULES = {
    "own": "the actor belongs to the item's responsible unit",
    "above": "the item lies in the actor's subtree, below the actor's own unit",
    "observer": "the actor belongs to the observing unit",
    "above_observer": "the actor belongs to the unit directly above the observing unit",
}


class TransitionSchema(ma.Schema):
    event = f.String(required=True)
    label = f.String(required=True)
    from_states = f.List(f.String(), required=True)
    to_state = f.String(required=True, allow_none=True,
                        metadata={"description": "null: the state stays"})
    roles = f.List(f.String(), required=True)
    unit_rule = f.String(required=True)
    inputs = f.List(f.String(), required=True,
                    metadata={"description": "What the event needs (its form's fields)"})
    guards = f.List(f.String(), required=True)


class CreationSchema(ma.Schema):
    event = f.String(required=True)
    label = f.String(required=True)
    states = f.List(f.String(), required=True, metadata={"description": "States it creates in"})
    roles = f.List(f.String(), required=True)


class WorkflowSchema(ma.Schema):
    name = f.String(required=True)
    state_attribute = f.String(required=True)
    states = f.List(f.String(), required=True)
    events = f.List(f.Nested(TransitionSchema), required=True)
    creations = f.List(f.Nested(CreationSchema), required=True)
    unit_rules = f.Dict(keys=f.String(), values=f.String(), required=True)
    mermaid = f.String(required=True, metadata={"description": "The state diagram"})


class WorkflowsSchema(ma.Schema):
    item = f.Nested(WorkflowSchema, required=True)
    observation = f.Nested(WorkflowSchema, required=True)


def workflow_body(book: Rulebook, mermaid: str, creations=()) -> dict:
    """One rulebook as data."""
    used = {rule.unit_rule for rule in book.rules}
    return {
        "name": book.name, "state_attribute": book.state_attribute, "states": list(book.states),
        "events": [{"event": r.event, "label": r.label or r.event, "from_states": list(r.source),
                    "to_state": r.dest, "roles": sorted(r.roles), "unit_rule": r.unit_rule,
                    "inputs": list(r.needs), "guards": [g.__name__ for g in r.guards]}
                   for r in book.rules],
        "creations": [{"event": c.event, "label": c.label or c.event, "states": list(c.states),
                       "roles": sorted(c.roles)} for c in creations],
        "unit_rules": {name: UNIT_RULES.get(name, name) for name in sorted(used)},
        "mermaid": mermaid,
    }


@blp.route("/workflow")
class Workflow(MethodView):
    @blp.response(200, WorkflowsSchema)
    def get(self):
        """The item workflow (交办 … 销号) and the observation workflow (开始 … 确认) as
        data: which events exist, from and to which states, who may fire them, what
        they need.  ``GET /items/{id}/events`` and ``GET /observations/{id}/events``
        say which of them you may fire on one object now."""
        return {"item": workflow_body(items_wf.RULEBOOK, items_wf.workflow_mermaid(),
                                      items_wf.CREATIONS),
                "observation": workflow_body(obs_wf.RULEBOOK, obs_wf.observation_mermaid())}
