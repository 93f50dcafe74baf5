"""The standards catalog and the observation cycles over the API.

Standards are the same for everyone (the current catalog version, as shipped).
Cycles carry the counts of the caller's area, and a cycle's coverage is the
coverage table of the cycle page: both come from the same ledger queries
(``ledger.observations.queries.cycles_overview``, ``ledger.observations.coverage``).
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v
from sqlalchemy import select

from ledger.catalog.standards import current_catalog
from ledger.core.errors import NotFound
from ledger.core.models import CatalogVersion, CycleKind, ObservationStatus, Standard
from ledger.observations import coverage as cov
from ledger.observations.cycles import period_bounds
from ledger.observations.queries import cycles_overview
from web.api.auth import actor
from web.api.paging import aware
from web.core.extensions import sanhu

blp = Blueprint("api_catalog", __name__, url_prefix="/api/v1",
                description="The standards catalog, the observation cycles and their coverage")

SETS = ("basic", "demonstration")
STATUSES = tuple(s.value for s in ObservationStatus)


class CatalogRefSchema(ma.Schema):
    id = f.Integer(required=True)
    label = f.String(required=True)


class StandardSchema(ma.Schema):
    id = f.Integer(required=True)
    catalog = f.Nested(CatalogRefSchema, required=True)
    set = f.String(required=True, validate=v.OneOf(SETS),
                   metadata={"description": "basic (基本标准) or demonstration (示范标准)"})
    number = f.Integer(required=True)
    key = f.String(required=True, metadata={"description": "set:number, e.g. basic:12"})
    category_number = f.Integer(required=True)
    category_key = f.String(required=True, metadata={"description": "set:category, e.g. basic:3"})
    category = f.String(required=True)
    title = f.String(required=True)
    text = f.String(required=True)


class StandardListSchema(ma.Schema):
    catalog = f.Nested(CatalogRefSchema, required=True, allow_none=True)
    standards = f.List(f.Nested(StandardSchema), required=True)


class StandardArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    set = f.String(validate=v.OneOf(SETS))
    category = f.Integer(validate=v.Range(min=1, max=1000),
                         metadata={"description": "The category number within the set"})


class StatusCountsSchema(ma.Schema):
    planned = f.Integer(required=True)
    in_progress = f.Integer(required=True)
    submitted = f.Integer(required=True)
    confirmed = f.Integer(required=True)


class CycleSchema(ma.Schema):
    id = f.Integer(required=True)
    kind = f.String(required=True, validate=v.OneOf([k.value for k in CycleKind]))
    period = f.String(required=True)
    first_day = f.Date(required=True)
    last_day = f.Date(required=True)
    theme = f.String(required=True, allow_none=True)
    opened_at = f.AwareDateTime(required=True)
    catalog_version_id = f.Integer(required=True)
    checklist_weight = f.Integer(required=True)
    findings_include_partial = f.Boolean(required=True)
    finding_deadline_workdays = f.Integer(required=True, allow_none=True)
    counts = f.Nested(StatusCountsSchema, required=True,
                      metadata={"description": "Observations of your area by status"})
    total = f.Integer(required=True)


class CycleListSchema(ma.Schema):
    cycles = f.List(f.Nested(CycleSchema), required=True)


class CoverageArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    by = f.String(load_default="observing_unit", validate=v.OneOf(cov.BY))


class CoverageRowSchema(ma.Schema):
    unit_id = f.Integer(required=True, allow_none=True,
                        metadata={"description": "The observing unit (or county); null on "
                                                 "the total"})
    unit_code = f.String(required=True)
    unit_name = f.String(required=True)
    planned = f.Integer(required=True)
    scheduled = f.Integer(required=True)
    in_progress = f.Integer(required=True)
    submitted = f.Integer(required=True)
    confirmed = f.Integer(required=True)
    late = f.Integer(required=True)
    unfinished = f.Integer(required=True)


class CoverageSchema(ma.Schema):
    cycle_id = f.Integer(required=True)
    by = f.String(required=True, validate=v.OneOf(cov.BY))
    rows = f.List(f.Nested(CoverageRowSchema), required=True)
    total = f.Nested(CoverageRowSchema, required=True, allow_none=True)


# --- representations ---------------------------------------------------------------


def standard_body(std: Standard, catalog: CatalogVersion) -> dict:
    return {"id": std.id, "catalog": {"id": catalog.id, "label": catalog.label},
            "set": std.set, "number": std.number, "key": f"{std.set}:{std.number}",
            "category_number": std.category_number,
            "category_key": f"{std.set}:{std.category_number}", "category": std.category,
            "title": std.title, "text": std.text}


def cycle_body(row: dict) -> dict:
    c = row["cycle"]
    first, last = period_bounds(c.kind, c.period)
    return {"id": c.id, "kind": c.kind, "period": c.period, "first_day": first,
            "last_day": last, "theme": c.theme, "opened_at": aware(c.opened_at),
            "catalog_version_id": c.catalog_version_id, "checklist_weight": c.checklist_weight,
            "findings_include_partial": c.findings_include_partial,
            "finding_deadline_workdays": c.finding_deadline_workdays,
            "counts": {s: row["counts"].get(s, 0) for s in STATUSES}, "total": row["total"]}


def coverage_row(row: cov.CoverageRow) -> dict:
    return {"unit_id": row.unit_id, "unit_code": row.unit_code, "unit_name": row.unit_name,
            **{name: getattr(row, name) for name in cov.COUNTS}, "unfinished": row.unfinished}


# --- views ---------------------------------------------------------------------------


@blp.route("/standards")
class Standards(MethodView):
    @blp.arguments(StandardArgsSchema, location="query")
    @blp.response(200, StandardListSchema)
    def get(self, args):
        """The current catalog's standards (42 basic, 23 demonstration), in catalog order."""
        with sanhu().uow() as uow:
            catalog = current_catalog(uow.session)
            if catalog is None:
                return {"catalog": None, "standards": []}
            query = select(Standard).where(Standard.catalog_version_id == catalog.id)
            if args.get("set"):
                query = query.where(Standard.set == args["set"])
            if args.get("category") is not None:
                query = query.where(Standard.category_number == args["category"])
            rows = uow.session.scalars(query.order_by(Standard.set, Standard.number))
            return {"catalog": {"id": catalog.id, "label": catalog.label},
                    "standards": [standard_body(s, catalog) for s in rows]}


@blp.route("/standards/<int:standard_id>")
class StandardView(MethodView):
    @blp.response(200, StandardSchema)
    def get(self, standard_id: int):
        """One standard, of any catalog version (an item or a record may name an older one)."""
        with sanhu().uow() as uow:
            std = uow.session.get(Standard, standard_id)
            if std is None:
                raise NotFound("no such standard")
            return standard_body(std, uow.session.get(CatalogVersion, std.catalog_version_id))


@blp.route("/cycles")
class Cycles(MethodView):
    @blp.response(200, CycleListSchema)
    def get(self):
        """Every cycle, newest first, with the observations of your area counted by status
        (the cycles page)."""
        with sanhu().uow() as uow:
            return {"cycles": [cycle_body(r) for r in cycles_overview(uow.session, actor())]}


def _cycle_row(session, cycle_id: int) -> dict:
    for row in cycles_overview(session, actor()):
        if row["cycle"].id == cycle_id:
            return row
    raise NotFound("no such cycle")


@blp.route("/cycles/<int:cycle_id>")
class CycleView(MethodView):
    @blp.response(200, CycleSchema)
    def get(self, cycle_id: int):
        """One cycle with the observations of your area counted by status."""
        with sanhu().uow() as uow:
            return cycle_body(_cycle_row(uow.session, cycle_id))


@blp.route("/cycles/<int:cycle_id>/coverage")
class CycleCoverage(MethodView):
    @blp.arguments(CoverageArgsSchema, location="query")
    @blp.response(200, CoverageSchema)
    def get(self, args, cycle_id: int):
        """Coverage (全覆盖): the cycle's targets in your area per observing unit (or per
        county) by progress, and their total, as the cycle page shows it.  Staff and
        supervisors only: a village secretary gets 403."""
        with sanhu().uow() as uow:
            rows = cov.coverage(uow.session, cycle_id, actor(), uow.today(), by=args["by"])
        total = cov.total_of(rows, "Total") if rows else None
        return {"cycle_id": cycle_id, "by": args["by"], "rows": [coverage_row(r) for r in rows],
                "total": coverage_row(total) if total else None}
