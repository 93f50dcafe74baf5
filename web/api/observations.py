"""Observations (观摩) over the API: the scoped list, the record, its lifecycle events
and saving one checklist line.

Every call goes through the same ledger code as the observation pages:
visibility (``ledger.observations.access``: the caller's subtree, a village
secretary only their village's confirmed record; 404 otherwise), the lifecycle
services (``ledger.observations.services``) and the line save
(``ledger.observations.record.save_line``) with their roles, states and checks.

Versions: an observation's ETag is its version, which only lifecycle events
move; every event needs ``If-Match`` with it (428 without, 412 with the
current record when stale).  Checklist lines are version-checked each on its
own (two observers fill different lines at once), so a line's ETag is the
line's own version, and saving a line needs ``If-Match`` with that.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v
from sqlalchemy import select

from ledger.core.errors import Conflict, DomainError, NotFound, ValidationError
from ledger.core.models import (
    Cycle,
    CycleKind,
    ObservationEvent,
    ObservationFile,
    ObservationStatus,
    Unit,
    User,
)
from ledger.observations import record, sheet
from ledger.observations import services as obs_svc
from ledger.observations.access import MAX_TEXT, get_observation
from ledger.observations.planning import theme_for
from ledger.observations.queries import observations_after, unit_path
from ledger.observations.record import SECTIONS
from ledger.observations.scoring import RESULTS
from ledger.observations.workflow import EVENTS, RULES_BY_EVENT, allowed_events
from web.api import schemas as s
from web.api.auth import actor
from web.api.etag import ETAG_HEADER, IF_MATCH, etag, expected_version, stale
from web.api.paging import aware, decode_id, encode_id
from web.core.extensions import sanhu
from web.core.files import send_private

blp = Blueprint("api_observations", __name__, url_prefix="/api/v1",
                description="Observations (观摩): the records, their lifecycle and checklist")

STATUSES = tuple(st.value for st in ObservationStatus)
ID = v.Range(min=1, max=2**31 - 1)
#: the lifecycle services, by event (the same table the record page uses)
LIFECYCLE = {"start": obs_svc.start, "submit": obs_svc.submit, "revise": obs_svc.revise,
             "confirm": obs_svc.confirm, "reopen": obs_svc.reopen}
assert set(LIFECYCLE) == set(EVENTS)
PROBLEM = "application/problem+json"


# --- schemas -------------------------------------------------------------------------


class CodeRefSchema(ma.Schema):
    id = f.Integer(required=True)
    code = f.String(required=True)
    name = f.String(required=True)


class CycleRefSchema(ma.Schema):
    id = f.Integer(required=True)
    kind = f.String(required=True, validate=v.OneOf([k.value for k in CycleKind]))
    period = f.String(required=True)


class ObservationSummarySchema(ma.Schema):
    id = f.Integer(required=True)
    version = f.Integer(required=True)
    status = f.String(required=True, validate=v.OneOf(STATUSES))
    cycle_id = f.Integer(required=True)
    period = f.String(required=True)
    unit = f.Nested(CodeRefSchema, required=True, metadata={"description": "The target"})
    observing_unit = f.Nested(CodeRefSchema, required=True)
    mode = f.String(required=True)
    demonstration = f.Boolean(required=True)
    theme = f.String(required=True, allow_none=True,
                     metadata={"description": "The record's own theme (the record shows the "
                                              "one that applies)"})
    group_id = f.Integer(required=True, allow_none=True)
    batch_id = f.Integer(required=True, allow_none=True)
    score = f.Float(required=True, allow_none=True,
                    metadata={"description": "Frozen at confirmation; null before"})
    started_at = f.AwareDateTime(required=True, allow_none=True)
    submitted_at = f.AwareDateTime(required=True, allow_none=True)
    confirmed_at = f.AwareDateTime(required=True, allow_none=True)
    late_at = f.AwareDateTime(required=True, allow_none=True)


class ObservationListSchema(s.CursorPage):
    observations = f.List(f.Nested(ObservationSummarySchema), required=True)


class ObservationListArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    cycle = f.Integer(validate=ID)
    status = f.String(validate=v.OneOf(STATUSES))
    unit = f.Integer(validate=ID, metadata={"description": "Only this unit's subtree"})
    limit = f.Integer(load_default=50, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Length(max=200))


class ChecklistLineSchema(ma.Schema):
    id = f.Integer(required=True)
    standard_id = f.Integer(required=True)
    key = f.String(required=True, metadata={"description": "set:number, e.g. basic:12"})
    set = f.String(required=True)
    number = f.Integer(required=True)
    category_key = f.String(required=True)
    category = f.String(required=True)
    title = f.String(required=True)
    result = f.String(required=True, allow_none=True,
                      metadata={"description": "null while open; conform (符合), partial "
                                               "(基本符合), fail (不符合), na (不适用)"})
    note = f.String(required=True, allow_none=True)
    deduction = f.Float(required=True, allow_none=True,
                        metadata={"description": "null: the standard's default"})
    version = f.Integer(required=True, metadata={"description": "The line's ETag"})
    counted = f.Boolean(required=True,
                        metadata={"description": "False: outside a selective observation's "
                                                 "categories"})
    failed_last_time = f.Boolean(required=True)
    files = f.List(f.Integer(), required=True)


class SectionSchema(ma.Schema):
    name = f.String(required=True, validate=v.OneOf(SECTIONS))
    body = f.String(required=True)
    category = f.String(required=True, allow_none=True)
    version = f.Integer(required=True)


class ParticipantSchema(ma.Schema):
    id = f.Integer(required=True)
    user_id = f.Integer(required=True, allow_none=True)
    name = f.String(required=True)
    affiliation = f.String(required=True, allow_none=True)
    score = f.Float(required=True, allow_none=True)
    comment = f.String(required=True, allow_none=True)
    version = f.Integer(required=True)


class RecordFileSchema(ma.Schema):
    id = f.Integer(required=True)
    name = f.String(required=True)
    mime = f.String(required=True)
    size = f.Integer(required=True)
    kind = f.String(required=True)
    section = f.String(required=True, allow_none=True)
    standard_id = f.Integer(required=True, allow_none=True)
    uploaded_at = f.AwareDateTime(required=True)
    download = f.String(required=True)


class FindingSchema(ma.Schema):
    id = f.Integer(required=True)
    number = f.String(required=True)
    standard_id = f.Integer(required=True, allow_none=True)
    status = f.String(required=True)
    description = f.String(required=True)
    deadline = f.Date(required=True, allow_none=True)


class PreviousSchema(ma.Schema):
    id = f.Integer(required=True)
    period = f.String(required=True)
    failed = f.List(f.String(), required=True,
                    metadata={"description": "Standards (set:number) that failed then"})


class ObservationSchema(ObservationSummarySchema):
    path = f.List(f.String(), required=True, metadata={"description": "County / township / "
                                                                      "village names"})
    cycle = f.Nested(CycleRefSchema, required=True)
    applied_theme = f.String(required=True, allow_none=True)
    categories = f.List(f.String(), required=True, allow_none=True)
    editable = f.Boolean(required=True, metadata={"description": "You may fill it now"})
    open_lines = f.Integer(required=True)
    score_breakdown = f.Dict(required=True, allow_none=True,
                             metadata={"description": "Frozen at confirmation; null before"})
    score_now = f.Dict(required=True,
                       metadata={"description": "The score as the record stands now"})
    lines = f.List(f.Nested(ChecklistLineSchema), required=True)
    sections = f.List(f.Nested(SectionSchema), required=True)
    participants = f.List(f.Nested(ParticipantSchema), required=True)
    files = f.List(f.Nested(RecordFileSchema), required=True)
    findings = f.List(f.Nested(FindingSchema), required=True,
                      metadata={"description": "Ledger items this record created"})
    previous = f.Nested(PreviousSchema, required=True, allow_none=True)
    history = f.List(f.Nested(s.HistoryEntry), required=True)
    events = f.List(f.String(), required=True,
                    metadata={"description": "The events you may fire now"})


class ObservationEventsSchema(ma.Schema):
    observation_id = f.Integer(required=True)
    version = f.Integer(required=True)
    events = f.List(f.String(), required=True)


class ObservationEventInputSchema(ma.Schema):
    """``reason`` for revise and reopen; the other events take nothing."""

    class Meta:
        unknown = ma.RAISE

    reason = f.String(validate=v.Length(min=1, max=MAX_TEXT))


class LineInputSchema(ma.Schema):
    """The whole line: what is left out is saved as empty (null)."""

    class Meta:
        unknown = ma.RAISE

    result = f.String(allow_none=True, load_default=None, validate=v.OneOf(RESULTS))
    note = f.String(allow_none=True, load_default=None, validate=v.Length(max=MAX_TEXT))
    deduction = f.Float(allow_none=True, load_default=None, allow_nan=False,
                        validate=v.Range(min=0, max=100),
                        metadata={"description": "Points off; null: the standard's default"})


# --- representations -----------------------------------------------------------------


def _ref(code: str, name: str, unit_id: int) -> dict:
    return {"id": unit_id, "code": code, "name": name}


def _summary(obs, unit: dict, observer: dict, period: str) -> dict:
    return {"id": obs.id, "version": obs.version, "status": obs.status,
            "cycle_id": obs.cycle_id, "period": period, "unit": unit, "observing_unit": observer,
            "mode": obs.mode, "demonstration": obs.demonstration, "theme": obs.theme,
            "group_id": obs.group_id, "batch_id": obs.batch_id, "score": obs.score,
            "started_at": aware(obs.started_at), "submitted_at": aware(obs.submitted_at),
            "confirmed_at": aware(obs.confirmed_at), "late_at": aware(obs.late_at)}


def line_body(line: sheet.LineView) -> dict:
    return {"id": line.id, "standard_id": line.standard_id, "key": line.standard_key,
            "set": line.set, "number": line.number, "category_key": line.category_key,
            "category": line.category, "title": line.title, "result": line.result,
            "note": line.note, "deduction": line.deduction, "version": line.version,
            "counted": line.counted, "failed_last_time": line.failed_last_time,
            "files": [file.id for file in line.files]}


def file_body(x: ObservationFile) -> dict:
    return {"id": x.id, "name": x.original_name, "mime": x.mime, "size": x.size,
            "kind": x.kind, "section": x.section, "standard_id": x.standard_id,
            "uploaded_at": aware(x.uploaded_at),
            "download": url_for("api_observations.RecordFile", file_id=x.id)}


def observation_body(uow, observation_id: int) -> dict:
    """The record as the API shows it: what the record page shows, and what you may do."""
    who = actor()
    session = uow.session
    obs = get_observation(uow, observation_id, who)
    view = sheet.sheet_of(uow, obs)
    obs.open_lines, obs.evaluations = view.open, view.score.evaluations  # for the guard
    events = allowed_events(obs, who, uow.context())
    cycle = session.get(Cycle, obs.cycle_id)
    units = {u.id: u for u in session.scalars(select(Unit).where(
        Unit.id.in_((obs.unit_id, obs.observing_unit_id))))}
    target, observer = units[obs.unit_id], units[obs.observing_unit_id]
    names: dict[int, str] = {}

    def user_ref(user_id: int, role: str) -> dict:
        if user_id not in names:
            names[user_id] = session.scalar(select(User.display_name)
                                            .where(User.id == user_id)) or ""
        return {"id": user_id, "name": names[user_id], "role": role}

    history = [{"seq": h.seq, "event": h.event, "from_status": h.from_status,
                "to_status": h.to_status, "actor": user_ref(h.actor_id, h.actor_role),
                "at": aware(h.at), "note": h.note}
               for h in session.scalars(select(ObservationEvent).where(
                   ObservationEvent.observation_id == obs.id).order_by(ObservationEvent.seq))]
    previous = None
    if view.previous is not None:
        previous = {"id": view.previous.observation.id, "period": view.previous.period,
                    "failed": [line.standard_key for line in view.previous.failed]}
    return {
        **_summary(obs, _ref(target.code, target.name, target.id),
                   _ref(observer.code, observer.name, observer.id), cycle.period),
        "path": unit_path(session, obs),
        "cycle": {"id": cycle.id, "kind": cycle.kind, "period": cycle.period},
        "applied_theme": theme_for(uow, obs), "categories": obs.categories,
        "editable": obs.status == record.IN_PROGRESS and record.may_fill(uow, obs, who),
        "open_lines": view.open, "score_breakdown": obs.score_breakdown,
        "score_now": view.score.as_dict(),
        "lines": [line_body(line) for line in view.lines],
        "sections": [{"name": sec.name, "body": sec.body, "category": sec.category,
                      "version": sec.version}
                     for sec in (view.sections[n] for n in SECTIONS if n in view.sections)],
        "participants": [{"id": p.id, "user_id": p.user_id, "name": p.name,
                          "affiliation": p.affiliation, "score": p.score, "comment": p.comment,
                          "version": p.version} for p in view.participants],
        "files": [file_body(x) for x in view.files],
        "findings": view.items, "previous": previous, "history": history, "events": events,
    }


def _line(uow, observation_id: int, standard_id: int) -> sheet.LineView:
    """One line of a record the caller sees (404 when the standard is not on it)."""
    obs = get_observation(uow, observation_id, actor())
    for line in sheet.lines_of(uow, obs):
        if line.standard_id == standard_id:
            sheet.mark_repeats([line], sheet.previous_of(uow, obs))
            line.files = list(uow.session.scalars(select(ObservationFile).where(
                ObservationFile.observation_id == obs.id,
                ObservationFile.standard_id == standard_id).order_by(ObservationFile.id)))
            return line
    raise NotFound("this standard is not on this record's checklist")


def _with_etag(body: dict, version: int):
    return body, 200, {"ETag": etag(version)}


# --- views ---------------------------------------------------------------------------


@blp.route("/observations")
class Observations(MethodView):
    @blp.arguments(ObservationListArgsSchema, location="query")
    @blp.response(200, ObservationListSchema)
    def get(self, args):
        """The observations of your area (a village secretary: their village's confirmed
        records), by id, in cursor pages; filter by cycle, status or unit subtree."""
        with sanhu().uow() as uow:
            rows, last = observations_after(
                uow.session, actor(), cycle_id=args.get("cycle"), status=args.get("status"),
                unit_id=args.get("unit"), limit=args["limit"],
                after=decode_id(args.get("cursor")))
            out = [_summary(r["observation"],
                            _ref(r["code"], r["name"], r["observation"].unit_id),
                            _ref(r["observer_code"], r["observer"],
                                 r["observation"].observing_unit_id), r["period"])
                   for r in rows]
        return {"observations": out, "next_cursor": encode_id(last)}


@blp.route("/observations/<int:observation_id>")
class Observation(MethodView):
    @blp.response(200, ObservationSchema, headers=ETAG_HEADER)
    def get(self, observation_id: int):
        """The record: header, checklist lines (each with its own version), 听查看谈 and
        the other sections, participants' scores, files, findings, history, the score
        (frozen once confirmed) and the events you may fire now."""
        with sanhu().uow() as uow:
            body = observation_body(uow, observation_id)
        return _with_etag(body, body["version"])


@blp.route("/observations/<int:observation_id>/events")
class ObservationEvents(MethodView):
    @blp.response(200, ObservationEventsSchema, headers=ETAG_HEADER)
    def get(self, observation_id: int):
        """The lifecycle events you may fire on this observation now."""
        with sanhu().uow() as uow:
            obs = get_observation(uow, observation_id, actor())
            sheet.completeness(uow, obs)  # what the submit guard counts
            body = {"observation_id": obs.id, "version": obs.version,
                    "events": allowed_events(obs, actor(), uow.context())}
        return _with_etag(body, body["version"])


@blp.route("/observations/<int:observation_id>/events/<event>")
class FireObservationEvent(MethodView):
    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ObservationEventInputSchema)
    @blp.response(200, ObservationSchema, headers=ETAG_HEADER)
    @blp.alt_response(412, schema=s.Problem, content_type=PROBLEM,
                      description="Stale If-Match: the current record is in ``current``")
    @blp.alt_response(428, schema=s.Problem, content_type=PROBLEM,
                      description="If-Match is missing")
    def post(self, data, observation_id: int, event: str):
        """Fire a lifecycle event: start (开始观摩), submit (提交), revise (退回修改, with a
        ``reason``), confirm (确认: freezes the score and enters the findings in the
        ledger), reopen (重新打开, with a ``reason``).  ``If-Match`` carries the
        observation's version you read."""
        if event not in LIFECYCLE:
            raise NotFound("no such event")
        takes_reason = "reason" in RULES_BY_EVENT[event].needs
        if "reason" in data and not takes_reason:
            raise ValidationError(f"{event} does not take these inputs",
                                  fields={"reason": "not_used_by_this_event"})
        who = actor()
        with sanhu().uow() as uow:
            obs = get_observation(uow, observation_id, who)  # 404 outside the scope, first
            version, refusal = expected_version()
            if refusal is not None:
                return refusal
            if obs.version != version:
                return _stale_observation(uow, observation_id)
            kwargs = {"reason": data.get("reason", "")} if takes_reason else {}
            try:
                LIFECYCLE[event](uow, observation_id, who, expected_version=version, **kwargs)
            except Conflict:
                uow.rollback()
                return _stale_observation(uow, observation_id)
            except DomainError:
                uow.rollback()
                raise
            body = observation_body(uow, observation_id)
        return _with_etag(body, body["version"])


def _stale_observation(uow, observation_id: int):
    body = observation_body(uow, observation_id)
    return stale(ObservationSchema().dump(body), body["version"])


@blp.route("/observations/<int:observation_id>/lines/<int:standard_id>")
class ChecklistLine(MethodView):
    @blp.response(200, ChecklistLineSchema, headers=ETAG_HEADER)
    def get(self, observation_id: int, standard_id: int):
        """One checklist line; its ETag is the line's own version."""
        with sanhu().uow() as uow:
            body = line_body(_line(uow, observation_id, standard_id))
        return _with_etag(body, body["version"])

    @blp.doc(parameters=[{**IF_MATCH, "description": "The line's ETag (its version), e.g. "
                                                     '"3" (428 without it, 412 when stale)'}])
    @blp.arguments(LineInputSchema)
    @blp.response(200, ChecklistLineSchema, headers=ETAG_HEADER)
    @blp.alt_response(412, schema=s.Problem, content_type=PROBLEM,
                      description="Stale If-Match: the current line is in ``current``")
    @blp.alt_response(428, schema=s.Problem, content_type=PROBLEM,
                      description="If-Match is missing")
    def put(self, data, observation_id: int, standard_id: int):
        """Save one checklist line (result, note, deduction) while the record is in
        progress, as its observers and liaisons do on the record page.

        Lines are version-checked each on its own, so ``If-Match`` carries the
        line's version (the ``version`` of the line, or the ETag of
        ``GET …/lines/{standard_id}``), not the observation's: two observers may
        fill different lines at once, and a stale write to the same line is 412
        with the line as it is now."""
        who = actor()
        with sanhu().uow() as uow:
            get_observation(uow, observation_id, who)  # 404 outside the scope, first
            version, refusal = expected_version()
            if refusal is not None:
                return refusal
            try:
                record.save_line(uow, observation_id, standard_id, who, result=data["result"],
                                 note=data["note"], deduction=data["deduction"],
                                 expected_version=version)
            except Conflict:
                uow.rollback()
                body = line_body(_line(uow, observation_id, standard_id))
                return stale(ChecklistLineSchema().dump(body), body["version"])
            except DomainError:
                uow.rollback()
                raise
            body = line_body(_line(uow, observation_id, standard_id))
        return _with_etag(body, body["version"])


@blp.route("/observation-files/<int:file_id>")
class RecordFile(MethodView):
    @blp.response(200, content_type="application/octet-stream",
                  description="The file, as uploaded (its detected type)")
    def get(self, file_id: int):
        """Download a photo or document of a record you may see."""
        with sanhu().uow() as uow:
            row = record.file_for_download(uow, file_id, actor())
            path = uow.evidence.path_for(row.sha256)
            mime, name = row.mime, row.original_name
        return send_private(path, mime, name)
