"""Rankings and classes (结果运用) over the API: read.

A ranking is one observing unit's ranking of its targets in one cycle (a
township ranks its villages each quarter, a county its townships each
half-year).  Who sees one is the ranking page's rule
(``ledger.results.rankings.get_ranking``): its observing unit lies in the
caller's area.  A village secretary sees none here; the public 公示 page is for
them.  The ETag is the ranking's version.  Computing, class changes and the
approval workflow stay on the ranking page for now.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v
from sqlalchemy import select

from ledger.core.models import Ranking, RankingEvent, RankingRow, RankingStatus, Unit, User
from ledger.results import rankings
from ledger.results.workflow import RULEBOOK
from web.api import schemas as s
from web.api.auth import actor
from web.api.etag import ETAG_HEADER, etag
from web.api.paging import aware, decode_id, encode_id
from web.core.extensions import sanhu

blp = Blueprint("api_rankings", __name__, url_prefix="/api/v1",
                description="Rankings and classes (结果运用) of the observing units in your area")

STATUSES = tuple(st.value for st in RankingStatus)


class RankingArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    cycle = f.Integer(validate=v.Range(min=1, max=2**31 - 1))
    unit = f.Integer(validate=v.Range(min=1, max=2**31 - 1),
                     metadata={"description": "The observing unit"})
    status = f.String(validate=v.OneOf(STATUSES))
    limit = f.Integer(load_default=50, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Length(max=200))


class RankingSummarySchema(ma.Schema):
    id = f.Integer(required=True)
    cycle_id = f.Integer(required=True)
    observing_unit = f.Nested(s.Ref, required=True)
    number = f.Integer(required=True, metadata={"description": "The ranking's edition"})
    status = f.String(required=True)
    computed_at = f.AwareDateTime(required=True)
    approved_at = f.AwareDateTime(allow_none=True)
    published_at = f.AwareDateTime(allow_none=True)
    publication_ends_on = f.Date(allow_none=True)
    version = f.Integer(required=True)


class RankingListSchema(s.CursorPage):
    rankings = f.List(f.Nested(RankingSummarySchema), required=True)


class RankingRowSchema(ma.Schema):
    unit = f.Nested(s.Ref, required=True)
    observation_id = f.Integer(required=True)
    rank = f.Integer(allow_none=True)
    score = f.Float(allow_none=True)
    checklist = f.Float(allow_none=True)
    failed_basic = f.Integer(allow_none=True)
    klass = f.String(allow_none=True, metadata={"description": "demonstration, middle or "
                                                               "lagging"})
    rule_klass = f.String(allow_none=True,
                          metadata={"description": "The class the rule gave, when moved"})
    klass_reason = f.String(allow_none=True)
    excused = f.String(allow_none=True)


class RankingSchema(RankingSummarySchema):
    reason = f.String(allow_none=True, metadata={"description": "Why this edition corrects "
                                                                "the previous one"})
    rule = f.Dict(required=True, metadata={"description": "The class rule it used"})
    rows = f.List(f.Nested(RankingRowSchema), required=True)
    history = f.List(f.Nested(s.HistoryEntry), required=True)
    events = f.List(f.String(), required=True,
                    metadata={"description": "The workflow events you may fire now"})


def _summary(ranking: Ranking, unit_name: str) -> dict:
    return {"id": ranking.id, "cycle_id": ranking.cycle_id,
            "observing_unit": {"id": ranking.observing_unit_id, "name": unit_name},
            "number": ranking.number, "status": ranking.status,
            "computed_at": aware(ranking.computed_at), "approved_at": aware(ranking.approved_at),
            "published_at": aware(ranking.published_at),
            "publication_ends_on": ranking.publication_ends_on, "version": ranking.version}


@blp.route("/rankings")
class Rankings(MethodView):
    @blp.arguments(RankingArgsSchema, location="query")
    @blp.response(200, RankingListSchema)
    def get(self, args):
        """The rankings of the observing units in your area (every edition), by id."""
        who = actor()
        q = (select(Ranking, Unit.name).join(Unit, Unit.id == Ranking.observing_unit_id)
             .where(who.scope_clause(Unit)))
        for column, key in ((Ranking.cycle_id, "cycle"), (Ranking.observing_unit_id, "unit"),
                            (Ranking.status, "status")):
            if args.get(key) is not None:
                q = q.where(column == args[key])
        after = decode_id(args.get("cursor"))
        if after is not None:
            q = q.where(Ranking.id > after)
        with sanhu().uow() as uow:
            found = uow.session.execute(q.order_by(Ranking.id).limit(args["limit"] + 1)).all()
        more = len(found) > args["limit"]
        found = found[:args["limit"]]
        return {"rankings": [_summary(r, name) for r, name in found],
                "next_cursor": encode_id(found[-1][0].id) if more and found else None}


@blp.route("/rankings/<int:ranking_id>")
class RankingView(MethodView):
    @blp.response(200, RankingSchema, headers=ETAG_HEADER)
    def get(self, ranking_id: int):
        """One ranking: its rows (rank, score, class, why a class was moved, who was
        excused), its history and the events you may fire now."""
        who = actor()
        with sanhu().uow() as uow:
            ranking = rankings.get_ranking(uow, ranking_id, who)  # 404 outside the area
            session = uow.session
            rows = session.scalars(select(RankingRow).where(RankingRow.ranking_id == ranking.id)
                                   .order_by(RankingRow.rank.is_(None), RankingRow.rank,
                                             RankingRow.unit_id)).all()
            names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(
                [r.unit_id for r in rows] + [ranking.observing_unit_id]))).all())
            history = session.scalars(select(RankingEvent).where(
                RankingEvent.ranking_id == ranking.id).order_by(RankingEvent.seq)).all()
            people = {row.id: (row.display_name, row.role) for row in session.execute(
                select(User.id, User.display_name, User.role).where(
                    User.id.in_({h.actor_id for h in history})))}
            own = ranking.observing_unit_id == who.unit_id
            events = RULEBOOK.allowed_events(ranking, who, uow.context()) if own else []
            body = {
                **_summary(ranking, names.get(ranking.observing_unit_id, "")),
                "reason": ranking.reason, "rule": ranking.rule or {},
                "rows": [{"unit": {"id": r.unit_id, "name": names.get(r.unit_id, "")},
                          "observation_id": r.observation_id, "rank": r.rank, "score": r.score,
                          "checklist": r.checklist, "failed_basic": r.failed_basic,
                          "klass": r.klass, "rule_klass": r.rule_klass,
                          "klass_reason": r.klass_reason, "excused": r.excused} for r in rows],
                "history": [{"seq": h.seq, "event": h.event, "from_status": h.from_status,
                             "to_status": h.to_status,
                             "actor": {"id": h.actor_id,
                                       "name": people.get(h.actor_id, ("", None))[0],
                                       "role": h.actor_role},
                             "at": aware(h.at), "note": h.note} for h in history],
                "events": events,
            }
        return body, 200, {"ETag": etag(body["version"])}
