"""Filling an observation's record over the API: the 听/查/看/谈 notes, 亮点 and 经验总结,
participants and their evaluation scores (评), "mark the rest as conforming",
photos on a line, a section or the record, and the record's settings; and the
city-wide list of confirmed records' 亮点 and 经验总结 (the highlights page).

Each write calls the same function of ``ledger.observations.record`` as the
record page, so who may fill the record (its observing unit and the township's
county liaisons: 403 for others who see it), when (only while it is in
progress: 409 otherwise) and what is accepted (lengths, scores from 0 to 100,
the evidence store's file checks) are the page's own rules.  A record the
caller does not see is 404, before anything else.

Versions: like checklist lines, each section and each participant is
version-checked on its own row, so its ETag is the row's own version and a
change needs ``If-Match`` with it (428 without, 412 with the row as it is now).
Four writes have no row version to be checked against and take no
``If-Match``, like their pages: adding a participant and adding a file create
new rows, "mark the rest" only answers lines nobody has answered yet, leaving
every answered line alone, and the record's settings (mode, categories,
demonstration lines, theme) have no version of their own.  The 亮点 and
经验总结 are two of the record's sections (``highlights`` and ``experience``),
not rows of their own.
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v
from sqlalchemy import select

from ledger.core.errors import Conflict, DomainError, NotFound
from ledger.core.models import (
    CycleKind,
    ObservationFile,
    ObservationParticipant,
    ObservationSection,
)
from ledger.observations import queries, record, sheet
from ledger.observations.access import MAX_TEXT, get_observation
from ledger.observations.record import MODES, SECTIONS
from web.api import schemas as s
from web.api.auth import actor
from web.api.etag import ETAG_HEADER, IF_MATCH, etag, expected_version, stale
from web.api.observations import (
    ObservationSchema,
    ParticipantSchema,
    RecordFileSchema,
    SectionSchema,
    file_body,
    observation_body,
)
from web.api.paging import aware
from web.core.extensions import sanhu
from web.core.files import send_private

blp = Blueprint("api_observation_record", __name__, url_prefix="/api/v1",
                description="Filling an observation's record: notes, evaluations, photos")

PROBLEM = "application/problem+json"
#: a section in a path: only its six names route (the OpenAPI document lists them)
SECTION = "<any({}):name>".format(", ".join(SECTIONS))
ROW_IF_MATCH = {**IF_MATCH, "description": "The row's ETag (its version), e.g. \"3\" "
                                           "(428 without it, 412 when stale)"}


def _stale_and_missing(what: str):
    """The 412 and 428 answers of a version-checked write, documented."""
    def decorate(func):
        func = blp.alt_response(428, schema=s.Problem, content_type=PROBLEM,
                                description="If-Match is missing")(func)
        return blp.alt_response(412, schema=s.Problem, content_type=PROBLEM,
                                description=f"Stale If-Match: the current {what} is in "
                                            "``current``")(func)
    return decorate


# --- schemas -------------------------------------------------------------------------


class SectionInputSchema(ma.Schema):
    """The whole section: what is left out is saved as empty."""

    class Meta:
        unknown = ma.RAISE

    body = f.String(load_default="", validate=v.Length(max=MAX_TEXT),
                    metadata={"description": "The text (empty clears it)"})
    category = f.String(allow_none=True, load_default=None, validate=v.Length(max=24),
                        metadata={"description": "亮点 and 经验总结 only: the standards' "
                                                 "category it is about (e.g. basic:3), to "
                                                 "browse highlights by"})


class EvaluationInputSchema(ma.Schema):
    """A participant's evaluation (评): what is left out is saved as empty (null)."""

    class Meta:
        unknown = ma.RAISE

    score = f.Float(allow_none=True, load_default=None, allow_nan=False,
                    validate=v.Range(min=0, max=100),
                    metadata={"description": "From 0 to 100; null: none yet"})
    comment = f.String(allow_none=True, load_default=None, validate=v.Length(max=MAX_TEXT))


class ParticipantInputSchema(ma.Schema):
    """Someone who took part, by name (e.g. from outside the system), as on the page."""

    class Meta:
        unknown = ma.RAISE

    name = f.String(required=True, validate=v.Length(min=1, max=100))
    affiliation = f.String(allow_none=True, load_default=None, validate=v.Length(max=100))


class MarkRestResultSchema(ma.Schema):
    marked = f.Integer(required=True, metadata={"description": "Lines set to conform (符合)"})
    open_lines = f.Integer(required=True, metadata={"description": "Counted lines still open"})


class SettingsInputSchema(ma.Schema):
    """The record's settings, all of them (what is left out takes its default)."""

    class Meta:
        unknown = ma.RAISE

    mode = f.String(required=True, validate=v.OneOf(MODES),
                    metadata={"description": "focused (重点: all lines), selective (选择性: "
                                             "the chosen categories), pushing (鞭策性: last "
                                             "time's failures first)"})
    categories = f.List(f.String(validate=v.Length(max=24)), load_default=list,
                        validate=v.Length(max=200),
                        metadata={"description": "A selective observation's categories "
                                                 "(e.g. basic:3); needed for selective"})
    demonstration = f.Boolean(load_default=False,
                              metadata={"description": "Add the demonstration lines (+23); "
                                                       "once added they stay"})
    theme = f.String(allow_none=True, load_default=None, validate=v.Length(max=200),
                     metadata={"description": "The record's own theme; null: the cycle's"})


class HighlightSchema(ma.Schema):
    period = f.String(required=True)
    path = f.List(f.String(), required=True,
                  metadata={"description": "County / township / village names"})
    theme = f.String(required=True, allow_none=True)
    confirmed_at = f.AwareDateTime(required=True, allow_none=True)
    highlights = f.String(required=True, metadata={"description": "亮点"})
    experience = f.String(required=True, metadata={"description": "经验总结"})
    categories = f.List(f.String(), required=True,
                        metadata={"description": "The standards' categories they are about"})
    photos = f.List(f.String(), required=True,
                    metadata={"description": "Download addresses of their photos"})


class HighlightListSchema(ma.Schema):
    highlights = f.List(f.Nested(HighlightSchema), required=True)
    total = f.Integer(required=True)
    page = f.Integer(required=True)
    pages = f.Integer(required=True)


class HighlightListArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    q = f.String(load_default="", validate=v.Length(max=200),
                 metadata={"description": "Text in the 亮点, 经验总结 or the unit's name"})
    theme = f.String(load_default="", validate=v.Length(max=200))
    county = f.Integer(validate=v.Range(min=1, max=2**31 - 1))
    kind = f.String(load_default="", validate=v.OneOf(["", *(k.value for k in CycleKind)]))
    category = f.String(load_default="", validate=v.Length(max=24),
                        metadata={"description": "A standards' category, e.g. basic:3"})
    page = f.Integer(load_default=1, validate=v.Range(min=1, max=100_000),
                     metadata={"description": "20 a page, newest first"})


class RecordFileUploadSchema(ma.Schema):
    file = f.Raw(required=True, metadata={"type": "string", "format": "binary",
                                          "description": "A photo, PDF or Office document"})


# --- representations -----------------------------------------------------------------


def section_body(row: ObservationSection) -> dict:
    return {"name": row.name, "body": row.body or "", "category": row.category,
            "version": row.version}


def participant_body(row: ObservationParticipant) -> dict:
    return {"id": row.id, "user_id": row.user_id, "name": row.name,
            "affiliation": row.affiliation, "score": row.score, "comment": row.comment,
            "version": row.version}


def _section(uow, observation_id: int, name: str) -> ObservationSection:
    """A section of a record the caller sees (404 for an unknown name or before the visit)."""
    obs = get_observation(uow, observation_id, actor())
    row = uow.session.scalar(select(ObservationSection).where(
        ObservationSection.observation_id == obs.id, ObservationSection.name == name))
    if name not in SECTIONS or row is None:
        raise NotFound("no such section")
    return row


def _participant(uow, observation_id: int, participant_id: int) -> ObservationParticipant:
    obs = get_observation(uow, observation_id, actor())
    row = uow.session.get(ObservationParticipant, participant_id)
    if row is None or row.observation_id != obs.id:
        raise NotFound("no such participant")
    return row


def _with_etag(body: dict, version: int, status: int = 200):
    return body, status, {"ETag": etag(version)}


def _versioned_write(observation_id: int, save, current):
    """Run a version-checked ``save(uow, version)``; 428/412 like the checklist lines.

    ``current(uow)`` returns (representation, version) of the row as it is now.
    """
    with sanhu().uow() as uow:
        get_observation(uow, observation_id, actor())  # 404 outside the scope, first
        version, refusal = expected_version()
        if refusal is not None:
            return refusal
        try:
            save(uow, version)
        except Conflict:
            uow.rollback()
            body, now = current(uow)
            return stale(body, now)
        except DomainError:
            uow.rollback()
            raise
        body, now = current(uow)
    return _with_etag(body, now)


# --- sections --------------------------------------------------------------------------


@blp.route(f"/observations/<int:observation_id>/sections/{SECTION}")
class Section(MethodView):
    @blp.response(200, SectionSchema, headers=ETAG_HEADER)
    def get(self, observation_id: int, name: str):
        """One of the record's texts: listen (听), check (查), look (看), talk (谈),
        highlights (亮点) or experience (经验总结); its ETag is its own version."""
        with sanhu().uow() as uow:
            body = section_body(_section(uow, observation_id, name))
        return _with_etag(body, body["version"])

    @blp.doc(parameters=[ROW_IF_MATCH])
    @blp.arguments(SectionInputSchema)
    @blp.response(200, SectionSchema, headers=ETAG_HEADER)
    @_stale_and_missing("section")
    def put(self, data, observation_id: int, name: str):
        """Save one text of the record while it is in progress, as its observers and
        liaisons do on the record page.  A 亮点 or 经验总结 may name the standards'
        category it is about; the 听查看谈 notes take none.  ``If-Match`` carries the
        section's version."""
        def save(uow, version):
            record.save_section(uow, observation_id, name, actor(), body=data["body"],
                                category=data["category"], expected_version=version)

        def current(uow):
            body = section_body(_section(uow, observation_id, name))
            return SectionSchema().dump(body), body["version"]
        return _versioned_write(observation_id, save, current)


# --- participants and their evaluations ----------------------------------------------------


@blp.route("/observations/<int:observation_id>/participants")
class Participants(MethodView):
    @blp.arguments(ParticipantInputSchema)
    @blp.response(201, ParticipantSchema, headers=ETAG_HEADER)
    def post(self, data, observation_id: int):
        """Add a participant by name (someone from outside, say) and their affiliation,
        while the record is in progress.  A new row: no ``If-Match``."""
        with sanhu().uow() as uow:
            get_observation(uow, observation_id, actor())
            try:
                saved = record.add_participant(uow, observation_id, actor(), name=data["name"],
                                               affiliation=data["affiliation"])
            except DomainError:
                uow.rollback()
                raise
            body = participant_body(_participant(uow, observation_id, saved.id))
        return _with_etag(body, body["version"], 201)


@blp.route("/observations/<int:observation_id>/participants/<int:participant_id>")
class Participant(MethodView):
    @blp.response(200, ParticipantSchema, headers=ETAG_HEADER)
    def get(self, observation_id: int, participant_id: int):
        """One participant and their evaluation; the ETag is the participant's version."""
        with sanhu().uow() as uow:
            body = participant_body(_participant(uow, observation_id, participant_id))
        return _with_etag(body, body["version"])

    @blp.doc(parameters=[ROW_IF_MATCH])
    @blp.arguments(EvaluationInputSchema)
    @blp.response(200, ParticipantSchema, headers=ETAG_HEADER)
    @_stale_and_missing("participant")
    def put(self, data, observation_id: int, participant_id: int):
        """Save a participant's evaluation (评): a score from 0 to 100 and a comment, while
        the record is in progress.  ``If-Match`` carries the participant's version."""
        def save(uow, version):
            record.save_evaluation(uow, observation_id, participant_id, actor(),
                                   score=data["score"], comment=data["comment"],
                                   expected_version=version)

        def current(uow):
            body = participant_body(_participant(uow, observation_id, participant_id))
            return ParticipantSchema().dump(body), body["version"]
        return _versioned_write(observation_id, save, current)

    @blp.doc(parameters=[ROW_IF_MATCH])
    @blp.response(204)
    @_stale_and_missing("participant")
    def delete(self, observation_id: int, participant_id: int):
        """Remove a participant (and their evaluation) while the record is in progress.
        ``If-Match`` carries the participant's version, so an evaluation someone saved
        meanwhile is not removed unseen."""
        with sanhu().uow() as uow:
            row = _participant(uow, observation_id, participant_id)  # 404 first
            version, refusal = expected_version()
            if refusal is not None:
                return refusal
            if row.version != version:
                return stale(ParticipantSchema().dump(participant_body(row)), row.version)
            try:
                record.remove_participant(uow, observation_id, participant_id, actor())
            except DomainError:
                uow.rollback()
                raise
        return "", 204


# --- the record's settings -------------------------------------------------------------


@blp.route("/observations/<int:observation_id>/settings")
class Settings(MethodView):
    @blp.arguments(SettingsInputSchema)
    @blp.response(200, ObservationSchema, headers=ETAG_HEADER)
    def put(self, data, observation_id: int):
        """Set the mode (重点 / 选择性 with its categories / 鞭策性), add the demonstration
        lines and set the record's theme while it is in progress, as the record page's
        settings form does; answers with the record.  Like that form it takes no
        ``If-Match``: the settings have no version of their own (the observation's
        version moves only with its lifecycle)."""
        with sanhu().uow() as uow:
            get_observation(uow, observation_id, actor())
            try:
                record.save_settings(uow, observation_id, actor(), mode=data["mode"],
                                     categories=data["categories"],
                                     demonstration=data["demonstration"], theme=data["theme"])
            except DomainError:
                uow.rollback()
                raise
            body = observation_body(uow, observation_id)
        return _with_etag(body, body["version"])


# --- the rest of the checklist ------------------------------------------------------------


@blp.route("/observations/<int:observation_id>/lines/rest")
class MarkRest(MethodView):
    @blp.response(200, MarkRestResultSchema)
    def post(self, observation_id: int):
        """Mark every checklist line still open as conforming (其余全部标为符合), as the
        record page's button does; lines already answered are left alone (so no
        ``If-Match``: nothing anyone saved is overwritten).  In a selective
        observation only the chosen categories' lines are marked."""
        with sanhu().uow() as uow:
            get_observation(uow, observation_id, actor())
            try:
                marked = record.mark_rest(uow, observation_id, actor())
            except DomainError:
                uow.rollback()
                raise
            obs = get_observation(uow, observation_id, actor())
            open_lines, _scores = sheet.completeness(uow, obs)
        return {"marked": marked, "open_lines": open_lines}


# --- photos ---------------------------------------------------------------------------


def _attach(observation_id: int, files: dict, *, section: str | None = None,
            standard_id: int | None = None):
    """Store one file for the record, a section or a line, with the page's checks."""
    storage = files["file"]
    with sanhu().uow() as uow:
        get_observation(uow, observation_id, actor())
        try:
            file_id = record.attach(uow, observation_id, actor(), data=storage.stream,
                                    filename=storage.filename or "upload", section=section,
                                    standard_id=standard_id)
        except DomainError:
            uow.rollback()
            raise
        body = file_body(uow.session.get(ObservationFile, file_id))
    return body, 201


@blp.route("/observations/<int:observation_id>/files")
class RecordFiles(MethodView):
    @blp.arguments(RecordFileUploadSchema, location="files")
    @blp.response(201, RecordFileSchema)
    @blp.alt_response(413, schema=s.Problem, content_type=PROBLEM,
                      description="The file is larger than the evidence limit")
    def post(self, files, observation_id: int):
        """Add a photo or document to the record as a whole.

        Checked by content and size like the record page's uploads (photos, PDF,
        Office documents); only while the record is in progress, by its observers
        and liaisons.  A new row: no ``If-Match``."""
        return _attach(observation_id, files)


@blp.route(f"/observations/<int:observation_id>/sections/{SECTION}/files")
class SectionFiles(MethodView):
    @blp.arguments(RecordFileUploadSchema, location="files")
    @blp.response(201, RecordFileSchema)
    @blp.alt_response(413, schema=s.Problem, content_type=PROBLEM,
                      description="The file is larger than the evidence limit")
    def post(self, files, observation_id: int, name: str):
        """Add a photo or document to one of the texts (听查看谈, 亮点, 经验总结), with
        the same checks as ``POST /observations/{observation_id}/files``."""
        return _attach(observation_id, files, section=name)


@blp.route("/observations/<int:observation_id>/lines/<int:standard_id>/files")
class LineFiles(MethodView):
    @blp.arguments(RecordFileUploadSchema, location="files")
    @blp.response(201, RecordFileSchema)
    @blp.alt_response(413, schema=s.Problem, content_type=PROBLEM,
                      description="The file is larger than the evidence limit")
    def post(self, files, observation_id: int, standard_id: int):
        """Add a photo or document to a checklist line (by its standard), with the
        same checks as ``POST /observations/{observation_id}/files``."""
        return _attach(observation_id, files, standard_id=standard_id)



# --- highlights ---------------------------------------------------------------------------


@blp.route("/highlights")
class Highlights(MethodView):
    @blp.arguments(HighlightListArgsSchema, location="query")
    @blp.response(200, HighlightListSchema)
    def get(self, args):
        """The 亮点 and 经验总结 of every confirmed observation in the city, to learn from
        each other (互学互鉴), as the highlights page shows them to everyone: newest
        first, 20 a page, searchable by text, theme, county, kind and category."""
        with sanhu().uow() as uow:
            listing = queries.highlights(
                uow.session, q=args["q"], theme=args["theme"], county=args.get("county"),
                kind=args["kind"], category=args["category"], page=args["page"])
            rows = [{"period": row["period"], "path": row["path"], "theme": row["theme"],
                     "confirmed_at": aware(row["observation"].confirmed_at),
                     "highlights": row["highlights"], "experience": row["experience"],
                     "categories": row["categories"],
                     "photos": [url_for("api_observation_record.HighlightFile", file_id=fid)
                                for fid in row["photos"]]}
                    for row in listing.rows]
        return {"highlights": rows, "total": listing.total, "page": listing.page,
                "pages": listing.pages}


@blp.route("/highlight-files/<int:file_id>")
class HighlightFile(MethodView):
    @blp.response(200, content_type="application/octet-stream",
                  description="The photo, as uploaded (its detected type)")
    def get(self, file_id: int):
        """A photo of a confirmed record's 亮点 or 经验总结 (shared city-wide, like the
        text); other files are 404 here."""
        with sanhu().uow() as uow:
            row = queries.highlight_file(uow.session, file_id)
            path = uow.evidence.path_for(row.sha256)
            mime, name = row.mime, row.original_name
        return send_private(path, mime, name)
