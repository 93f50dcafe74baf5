"""Use cases of the village survey: open, save, submit, return, accept, archive.

Each loads the survey in the actor's scope (others: ``NotFound``), asks the
survey rulebook whether the actor may fire the event now (``PermissionDenied``
for the wrong role or unit, ``InvalidTransition`` for the wrong state), cleans
the answers field by field (``ValidationError`` naming every wrong field;
nothing is saved unless all are right), fires the event through the shared
machine, and writes the version-checked change and its append-only history row
in one transaction.  A stale ``expected_version`` or a concurrent change is a
``Conflict``.  One survey per village and year (a unique key): opening it again
answers the existing one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select

from ledger.core.actors import Actor
from ledger.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ledger.core.models import Level, Role, Unit
from ledger.core.rulebook import Rule
from ledger.core.uow import Context, UnitOfWork
from ledger.survey.fields import BY_KEY, SCHEMA_VERSION, clean, inconsistent, missing
from ledger.survey.models import Survey, SurveyEvent, SurveyStatus
from ledger.survey.workflow import RULEBOOK, RULES_BY_EVENT, fire

#: longest return note
MAX_NOTE = 2000
FIRST_YEAR = 2000
#: the timestamps each event sets to now
STAMPS = {"submit": "submitted_at", "resubmit": "submitted_at", "accept": "accepted_at",
          "archive": "archived_at"}


@dataclass(frozen=True)
class SurveyResult:
    """What a use case leaves behind: the survey's id, status, version and changed keys."""

    id: int
    status: str
    version: int
    changed: tuple[str, ...] = ()
    created: bool = False


def _result(survey: Survey, changed: Iterable[str] = (), created: bool = False) -> SurveyResult:
    return SurveyResult(survey.id, survey.status, survey.version, tuple(changed), created)


def get_survey(uow: UnitOfWork, survey_id: object, actor: Actor) -> Survey:
    """The survey if it lies in ``actor``'s scope, else ``NotFound``."""
    try:
        key = int(survey_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound("no such survey") from None
    survey = uow.session.get(Survey, key)
    if survey is None or not actor.sees(survey):
        raise NotFound("no such survey")
    return survey


def check_year(year: object, today_year: int) -> int:
    """A survey year from 2000 to next year."""
    try:
        value = int(str(year).strip())
    except (TypeError, ValueError):
        raise ValidationError("enter a year", fields={"year": "not a whole number"}) from None
    if not FIRST_YEAR <= value <= today_year + 1:
        raise ValidationError(f"the year must lie between {FIRST_YEAR} and {today_year + 1}",
                              fields={"year": "out of range"})
    return value


def _record(uow: UnitOfWork, survey: Survey, event: str, from_status: str | None,
            actor: Actor, ctx: Context, *, changes: dict | None = None,
            note: str | None = None) -> None:
    uow.session.execute(insert(SurveyEvent), [{
        "survey_id": survey.id, "seq": survey.version, "event": event,
        "from_status": from_status, "to_status": survey.status, "actor_id": actor.id,
        "actor_role": actor.role, "at": ctx.now, "note": note, "changes": changes or None}])


def open_survey(uow: UnitOfWork, actor: Actor, year: object, *,
                carry_over: bool = True) -> SurveyResult:
    """The village secretary's survey of their village for ``year``, opened as a draft
    when there is none yet.  The answers of the latest earlier survey are carried over,
    except one year's figures (``Field.yearly``), so only what changed needs typing."""
    if actor.role != Role.VILLAGE_SECRETARY.value or actor.unit_level != Level.VILLAGE.value:
        raise PermissionDenied("the village's secretary fills in its survey", event="open")
    year = check_year(year, uow.today().year)
    existing = _of_village(uow, actor.unit_id, year)
    if existing is not None:
        return _result(existing)
    village = uow.session.get(Unit, actor.unit_id)
    answers: dict = {}
    previous = None
    if carry_over:
        previous = uow.session.scalar(
            select(Survey).where(Survey.unit_id == village.id, Survey.year < year)
            .order_by(Survey.year.desc()).limit(1))
        if previous is not None:
            answers = {k: v for k, v in (previous.answers or {}).items()
                       if k in BY_KEY and not BY_KEY[k].yearly}
    ctx = uow.context()
    survey = Survey(unit_id=village.id, year=year, status=SurveyStatus.DRAFT.value,
                    schema_version=SCHEMA_VERSION, answers=answers, created_by_id=actor.id,
                    created_at=ctx.now, updated_at=ctx.now)
    survey.copy_ancestors(village)
    uow.session.add(survey)
    try:
        uow.flush()
    except Conflict:
        # opened at the same moment elsewhere (the unique key): answer that one
        existing = _of_village(uow, actor.unit_id, year)
        if existing is None:
            raise
        return _result(existing)
    note = f"carried over from {previous.year}" if previous is not None and answers else None
    _record(uow, survey, "open", None, actor, ctx, changes=answers, note=note)
    uow.commit()
    return _result(survey, answers, created=True)


def _of_village(uow: UnitOfWork, unit_id: int, year: int) -> Survey | None:
    return uow.session.scalar(select(Survey).where(Survey.unit_id == unit_id,
                                                   Survey.year == year))


def _who_and_when(rule: Rule, survey: Survey, actor: Actor, ctx: Context,
                  inputs: Mapping[str, object]) -> None:
    """Refuse the wrong role, unit or state before looking at what was typed."""
    refused = RULEBOOK.refusal(rule, survey, actor, ctx)
    if refused is not None and refused.kind != "guard":
        RULEBOOK.require(rule, survey, actor, ctx, inputs)


def _apply(survey: Survey, values: object) -> dict[str, object]:
    """Clean ``values`` and put them into the answers; the changed keys and new values.

    All or nothing: any wrong field refuses the whole save, naming each.
    """
    if not isinstance(values, Mapping):
        raise ValidationError("the answers are a mapping of field keys to values",
                              fields={"answers": "not a mapping"})
    cleaned, errors = clean(values)
    answers = dict(survey.answers or {})
    merged = {k: v for k, v in {**answers, **cleaned}.items() if v is not None}
    errors.update({k: v for k, v in inconsistent(merged).items() if k not in errors})
    if errors:
        raise ValidationError("check the marked answers", fields=errors)
    changes = {k: v for k, v in cleaned.items() if answers.get(k) != v}
    if changes:
        survey.answers = merged
        survey.schema_version = SCHEMA_VERSION
    return changes


def _transition(uow: UnitOfWork, survey_id: object, actor: Actor, event: str, *,
                expected_version: int | None, values: object = None,
                note: str | None = None) -> SurveyResult:
    """The shared path of every event: scope, version, who and when, answers, fire, record."""
    survey = get_survey(uow, survey_id, actor)
    if expected_version is not None and survey.version != expected_version:
        raise Conflict("the survey was changed by someone else; reload and try again",
                       current_version=survey.version, status=survey.status)
    rule = RULES_BY_EVENT[event]
    ctx = uow.context()
    inputs = {"note": note} if "note" in rule.needs else {}
    _who_and_when(rule, survey, actor, ctx, inputs)
    changes = _apply(survey, values) if values is not None else {}
    if rule.guards:
        gaps = missing(survey.answers or {})
        if gaps:
            raise ValidationError("answer every required field before submitting",
                                  fields=gaps)
    RULEBOOK.require(rule, survey, actor, ctx, inputs)
    if note is not None:
        note = note.strip()
        if len(note) > MAX_NOTE:
            raise ValidationError(f"at most {MAX_NOTE} characters", fields={"note": "too long"})
    if event == "save" and not changes:
        return _result(survey)
    from_status = survey.status
    fire(survey, event, actor, ctx)
    if event in STAMPS:
        setattr(survey, STAMPS[event], ctx.now)
    survey.updated_at = ctx.now
    uow.flush()  # the version-checked UPDATE: a concurrent change is a Conflict here
    _record(uow, survey, event, from_status, actor, ctx, changes=changes, note=note or None)
    uow.commit()
    return _result(survey, changes)


def save(uow: UnitOfWork, survey_id: object, actor: Actor, values: Mapping[str, object], *,
         expected_version: int | None = None) -> SurveyResult:
    """Save answers of a draft or returned survey (the village's secretary only).

    ``values`` maps field keys to what was typed; keys left out keep their answer,
    a blank value clears it.  Saving nothing new writes nothing.
    """
    return _transition(uow, survey_id, actor, "save", expected_version=expected_version,
                       values=values)


def submit(uow: UnitOfWork, survey_id: object, actor: Actor, *,
           values: Mapping[str, object] | None = None,
           expected_version: int | None = None) -> SurveyResult:
    """Hand the survey to the township (draft → submitted, or returned → submitted as
    ``resubmit``), saving ``values`` first in the same transaction.  Every required
    field must be answered."""
    survey = get_survey(uow, survey_id, actor)
    event = "resubmit" if survey.status == SurveyStatus.RETURNED.value else "submit"
    return _transition(uow, survey_id, actor, event, expected_version=expected_version,
                       values=values)


def return_survey(uow: UnitOfWork, survey_id: object, actor: Actor, *, note: str,
                  expected_version: int | None = None) -> SurveyResult:
    """Send a submitted survey back to the village with a note saying what to correct
    (the village's township)."""
    return _transition(uow, survey_id, actor, "return", expected_version=expected_version,
                       note=note if note is not None else "")


def accept(uow: UnitOfWork, survey_id: object, actor: Actor, *,
           expected_version: int | None = None) -> SurveyResult:
    """Accept a submitted survey (the village's township); it is read-only from now on."""
    return _transition(uow, survey_id, actor, "accept", expected_version=expected_version)


def archive(uow: UnitOfWork, survey_id: object, actor: Actor, *,
            expected_version: int | None = None) -> SurveyResult:
    """Archive an accepted survey (存档, the village's county)."""
    return _transition(uow, survey_id, actor, "archive", expected_version=expected_version)


def archive_many(uow: UnitOfWork, actor: Actor, survey_ids: Iterable[object]) -> int:
    """Archive several accepted surveys at once: all of them, or none."""
    ids = list(dict.fromkeys(survey_ids))
    if not ids:
        raise ValidationError("choose the surveys", fields={"survey_ids": "required"})
    with uow.one_transaction():
        for survey_id in ids:
            archive(uow, survey_id, actor)
    uow.commit()
    return len(ids)
