"""The organisation over the API: who is calling (``/me``) and the units of their
subtree.

Scope is the ledger's: the caller's own unit and everything below it
(``Actor.scope_clause``, ``unit_in_scope``); a unit outside it is 404, never 403.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v

from ledger.core.models import LEVEL_ORDER, Unit
from ledger.items.queries import unit_children
from ledger.org.directory import child_counts, unit_in_scope, units_after
from web.api.auth import actor, caller
from web.api.paging import decode_id, encode_id
from web.api.schemas import CursorPage
from web.core.extensions import sanhu

blp = Blueprint("api_org", __name__, url_prefix="/api/v1",
                description="Who you are, and the units of your area")

LEVELS = tuple(level.value for level in LEVEL_ORDER)
ID = v.Range(min=1, max=2**31 - 1)


class UnitRefSchema(ma.Schema):
    id = f.Integer(required=True)
    code = f.String(required=True)
    name = f.String(required=True)
    level = f.String(required=True, validate=v.OneOf(LEVELS))


class UnitSchema(UnitRefSchema):
    parent_id = f.Integer(required=True, allow_none=True)
    active = f.Boolean(required=True)
    city_id = f.Integer(required=True, allow_none=True)
    county_id = f.Integer(required=True, allow_none=True)
    township_id = f.Integer(required=True, allow_none=True)
    village_id = f.Integer(required=True, allow_none=True)
    child_count = f.Integer(required=True, metadata={"description": "Direct children"})


class UnitDetailSchema(UnitSchema):
    children = f.List(f.Integer(), required=True,
                      metadata={"description": "Ids of the direct children, by code"})


class UnitListSchema(CursorPage):
    units = f.List(f.Nested(UnitSchema), required=True)


class UnitListArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    level = f.String(validate=v.OneOf(LEVELS))
    parent = f.Integer(validate=ID, metadata={"description": "Only this unit's direct children"})
    limit = f.Integer(load_default=100, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Length(max=200))


class ScopeSchema(ma.Schema):
    unit = f.Nested(UnitRefSchema, required=True)
    level = f.String(required=True,
                     metadata={"description": "You see this unit and everything below it"})


class MeSchema(ma.Schema):
    id = f.Integer(required=True)
    username = f.String(required=True)
    name = f.String(required=True)
    role = f.String(required=True)
    unit = f.Nested(UnitRefSchema, required=True)
    scope = f.Nested(ScopeSchema, required=True)
    via = f.String(required=True, validate=v.OneOf(("token", "session")),
                   metadata={"description": "A personal access token, or a browser session "
                                            "(reads only)"})


def unit_ref(unit: Unit) -> dict:
    return {"id": unit.id, "code": unit.code, "name": unit.name, "level": unit.level}


def unit_body(unit: Unit, child_count: int) -> dict:
    return {**unit_ref(unit), "parent_id": unit.parent_id, "active": unit.active,
            "city_id": unit.city_id, "county_id": unit.county_id,
            "township_id": unit.township_id, "village_id": unit.village_id,
            "child_count": child_count}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """You: your user, role and unit, and the scope you see (your unit's subtree)."""
        who = caller()
        unit = unit_ref(who.unit)
        return {"id": who.user.id, "username": who.user.username,
                "name": who.user.display_name, "role": who.user.role, "unit": unit,
                "scope": {"unit": unit, "level": who.unit.level},
                "via": "session" if who.token_id is None else "token"}


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitListArgsSchema, location="query")
    @blp.response(200, UnitListSchema)
    def get(self, args):
        """The units of your subtree (yours included), by id, in cursor pages; ``parent``
        lists one unit's direct children (404 outside your area)."""
        with sanhu().uow() as uow:
            rows, last = units_after(uow.session, actor(), level=args.get("level"),
                                     parent_id=args.get("parent"), limit=args["limit"],
                                     after=decode_id(args.get("cursor")))
            units = [unit_body(unit, n) for unit, n in rows]
        return {"units": units, "next_cursor": encode_id(last)}


@blp.route("/units/<int:unit_id>")
class UnitView(MethodView):
    @blp.response(200, UnitDetailSchema)
    def get(self, unit_id: int):
        """One unit of your subtree with the ids of its direct children (404 outside it)."""
        with sanhu().uow() as uow:
            who = actor()
            unit = unit_in_scope(uow.session, who, unit_id)
            children = [cid for cid, _name in unit_children(uow.session, who, unit.id)]
            count = child_counts(uow.session, [unit.id]).get(unit.id, 0)
            return {**unit_body(unit, count), "children": children}
