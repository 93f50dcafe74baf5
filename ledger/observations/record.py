"""Filling an observation's record in the field: checklist lines, 听查看谈 notes,
亮点 and 经验总结, participants and their evaluation scores, photos, and the
record's settings (mode, categories, demonstration lines, theme).

Every piece is saved on its own, version-checked on its own row, so two
observers can fill different lines at once, a stale write to the same line is
refused with the fresh value, and nothing typed depends on one big form.

Each save first takes the observation's row lock with a conditional
``UPDATE ... WHERE status = 'in_progress'`` (changing nothing): a save that
races a submission is either in before it or refused after it, never half in
a submitted record.  The lifecycle version of the observation is not touched,
so saving lines never makes the submit button stale.

Who may fill a record: staff of the observing unit, and the county liaisons
(分包联系) of the target's township.  Only while the record is in progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import and_, exists, select, update

from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    Cycle,
    Liaison,
    Observation,
    ObservationFile,
    ObservationGroup,
    ObservationGroupMember,
    ObservationLine,
    ObservationParticipant,
    ObservationSection,
    ObservationStatus,
    Role,
    Standard,
    User,
)
from ledger.core.uow import UnitOfWork
from ledger.observations.access import MAX_TEXT, get_observation
from ledger.observations.scoring import RESULTS
from ledger.observations.workflow import OBSERVERS, is_observer

#: the free-text sections: 听 查 看 谈, then 亮点 and 经验总结
SECTIONS = ("listen", "check", "look", "talk", "highlights", "experience")
#: the sections shared city-wide on the highlights page
SHARED = ("highlights", "experience")
#: 重点 (all lines), 选择性 (chosen categories only), 鞭策性 (last time's failures first)
MODES = ("focused", "selective", "pushing")
IN_PROGRESS = ObservationStatus.IN_PROGRESS.value


@dataclass(frozen=True)
class Saved:
    """A saved piece of the record and its new version."""

    id: int
    version: int


def category_key(standard: Standard) -> str:
    return f"{standard.set}:{standard.category_number}"


def standard_key(standard: Standard) -> str:
    return f"{standard.set}:{standard.number}"


# --- who may fill it --------------------------------------------------------------


def is_liaison(uow: UnitOfWork, obs: Observation, actor: Actor) -> bool:
    """A county staff member assigned to the township the target lies in."""
    if actor.role != Role.COUNTY_STAFF.value or obs.township_id is None:
        return False
    return bool(uow.session.scalar(select(exists().where(
        Liaison.user_id == actor.id, Liaison.township_id == obs.township_id))))


def may_fill(uow: UnitOfWork, obs: Observation, actor: Actor) -> bool:
    """Whether ``actor`` is one of those who fill this record (whatever its state)."""
    return (actor.role in OBSERVERS and is_observer(obs, actor)) or is_liaison(uow, obs, actor)


def _editable(uow: UnitOfWork, observation_id: object, actor: Actor) -> Observation:
    """The observation, locked for this save, if ``actor`` may fill it now."""
    obs = get_observation(uow, observation_id, actor)
    if not may_fill(uow, obs, actor):
        raise PermissionDenied("only the observing unit and its liaisons fill this record",
                               event="record")
    locked = uow.session.execute(
        update(Observation.__table__)
        .where(Observation.__table__.c.id == obs.id,
               Observation.__table__.c.status == IN_PROGRESS)
        .values(status=Observation.__table__.c.status)
    ).rowcount
    if locked != 1:
        uow.rollback()
        status = uow.session.scalar(select(Observation.status).where(Observation.id == obs.id))
        raise InvalidTransition("the record can be changed only while the observation is in"
                                " progress", event="record", status=status)
    return obs


def _text(value: object, field: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields={field: "too long"})
    return text or None


def _score(value: object, field: str) -> float | None:
    """A number from 0 to 100 (blank: none)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("enter a number", fields={field: "not a number"}) from None
    if number != number or not 0 <= number <= 100:  # NaN too
        raise ValidationError("enter a number from 0 to 100", fields={field: "out of range"})
    return round(number, 2)


def _version(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("bad version", fields={"version": "not a number"}) from None


def categories_of(uow: UnitOfWork) -> set[str]:
    """Every category key of the catalogs ("basic:3", "demonstration:2", ...)."""
    return {f"{s}:{n}" for s, n in uow.session.execute(
        select(Standard.set, Standard.category_number).distinct())}


# --- lines and sections are created when the visit starts -----------------------------


def ensure_record(uow: UnitOfWork, obs: Observation) -> None:
    """Create the checklist lines and sections a record needs (idempotent).

    All basic standards of the cycle's frozen catalog, plus the demonstration
    standards when the target is a demonstration candidate.  Lines already
    there (with what was typed into them) are left alone.
    """
    cycle = uow.session.get(Cycle, obs.cycle_id)
    sets = ["basic", "demonstration"] if obs.demonstration else ["basic"]
    standards = uow.session.scalars(select(Standard.id).where(
        Standard.catalog_version_id == cycle.catalog_version_id, Standard.set.in_(sets))).all()
    now = uow.now()
    if standards:
        ins = dialect_insert(uow.session, ObservationLine.__table__).values(
            [{"observation_id": obs.id, "standard_id": sid, "version": 1, "updated_at": now}
             for sid in standards])
        uow.session.execute(ins.on_conflict_do_nothing(
            index_elements=["observation_id", "standard_id"]))
    ins = dialect_insert(uow.session, ObservationSection.__table__).values(
        [{"observation_id": obs.id, "name": name, "body": "", "version": 1, "updated_at": now}
         for name in SECTIONS])
    uow.session.execute(ins.on_conflict_do_nothing(index_elements=["observation_id", "name"]))


def add_participants(uow: UnitOfWork, obs: Observation, actor: Actor) -> None:
    """Seed the participants when the visit starts: the group, the liaisons, the starter."""
    have = set(uow.session.scalars(select(ObservationParticipant.user_id).where(
        ObservationParticipant.observation_id == obs.id,
        ObservationParticipant.user_id.is_not(None))))
    user_ids: list[int] = []
    outside: list[str] = []
    if obs.group_id is not None:
        user_ids += uow.session.scalars(select(ObservationGroupMember.user_id).where(
            ObservationGroupMember.group_id == obs.group_id)).all()
        group = uow.session.get(ObservationGroup, obs.group_id)
        outside = [n.strip() for n in (group.outside or "").splitlines() if n.strip()]
    if obs.township_id is not None:
        user_ids += uow.session.scalars(select(Liaison.user_id).where(
            Liaison.township_id == obs.township_id)).all()
    user_ids.append(actor.id)
    rows = []
    for user in uow.session.scalars(select(User).where(User.id.in_(set(user_ids) - have))):
        rows.append({"observation_id": obs.id, "user_id": user.id, "name": user.display_name,
                     "affiliation": user.unit.name, "version": 1})
    if not have:
        rows += [{"observation_id": obs.id, "user_id": None, "name": name[:100],
                  "affiliation": None, "version": 1} for name in outside]
    if rows:
        uow.session.execute(ObservationParticipant.__table__.insert(), rows)


# --- checklist lines --------------------------------------------------------------


def save_line(uow: UnitOfWork, observation_id: object, standard_id: object, actor: Actor, *,
              result: str | None, note: str | None = None, deduction: object = None,
              expected_version: object = None) -> Saved:
    """Save one checklist line: result, note and deduction (blank: the default).

    A line whose version moved since the page was loaded is refused with a
    ``Conflict`` carrying the line's current values.
    """
    fields: dict[str, str] = {}
    if result in ("", None):
        result = None
    elif result not in RESULTS:
        fields["result"] = "unknown result"
    try:
        points = _score(deduction, "deduction")
    except ValidationError as exc:
        fields.update(exc.fields)
        points = None
    if fields:
        raise ValidationError("check the line's result and deduction", fields=fields)
    note = _text(note, "note")
    expected = _version(expected_version)
    obs = _editable(uow, observation_id, actor)
    try:
        sid = int(standard_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        sid = -1
    line = uow.session.scalar(select(ObservationLine).where(
        ObservationLine.observation_id == obs.id, ObservationLine.standard_id == sid))
    if line is None:
        raise ValidationError("this standard is not on this record's checklist",
                              fields={"standard_id": "not in the checklist"})
    if expected is not None and line.version != expected:
        current = _line_values(line)
        uow.rollback()
        raise Conflict("someone else changed this line; here is what it says now",
                       current=current)
    line.result, line.note, line.deduction = result, note, points
    line.updated_by_id, line.updated_at = actor.id, uow.now()
    try:
        uow.commit()
    except Conflict:
        fresh = uow.session.scalar(select(ObservationLine).where(ObservationLine.id == line.id))
        raise Conflict("someone else changed this line; here is what it says now",
                       current=_line_values(fresh)) from None
    return Saved(line.id, line.version)


def mark_rest(uow: UnitOfWork, observation_id: object, actor: Actor, *,
              result: str = "conform") -> int:
    """Give every line still open (and counted) the same result, e.g. 其余全部符合.

    Returns how many lines were set; lines someone already answered are left alone.
    """
    if result not in RESULTS:
        raise ValidationError("unknown result", fields={"result": "unknown result"})
    obs = _editable(uow, observation_id, actor)
    lines = ObservationLine.__table__
    open_lines = [lines.c.observation_id == obs.id, lines.c.result.is_(None)]
    if obs.mode == "selective":
        chosen = set(obs.categories or [])
        counted = [sid for sid, set_, category in uow.session.execute(
            select(Standard.id, Standard.set, Standard.category_number)
            .join(ObservationLine, ObservationLine.standard_id == Standard.id)
            .where(ObservationLine.observation_id == obs.id))
            if f"{set_}:{category}" in chosen]
        open_lines.append(lines.c.standard_id.in_(counted))
    # one statement; each line's version moves as if saved alone
    count = uow.session.execute(
        update(lines).where(*open_lines).values(
            result=result, updated_by_id=actor.id, updated_at=uow.now(),
            version=lines.c.version + 1)).rowcount
    uow.commit()
    return count


def _line_values(line: ObservationLine) -> dict:
    return {"standard_id": line.standard_id, "result": line.result, "note": line.note,
            "deduction": line.deduction, "version": line.version}


def save_section(uow: UnitOfWork, observation_id: object, name: str, actor: Actor, *,
                 body: str | None, expected_version: object = None,
                 category: str | None = None) -> Saved:
    """Save one of the 听/查/看/谈/亮点/经验总结 texts, version-checked; a 亮点 or
    经验总结 may name the standards' category it is about (to browse highlights by)."""
    if name not in SECTIONS:
        raise ValidationError("unknown section", fields={"section": "unknown"})
    text = _text(body, name) or ""
    expected = _version(expected_version)
    category = (category or "").strip() or None
    if category is not None and (name not in SHARED or category not in categories_of(uow)):
        raise ValidationError("unknown category", fields={"category": "unknown"})
    obs = _editable(uow, observation_id, actor)
    section = uow.session.scalar(select(ObservationSection).where(
        ObservationSection.observation_id == obs.id, ObservationSection.name == name))
    if section is None:
        raise NotFound("no such section")
    if expected is not None and section.version != expected:
        current = {"name": name, "body": section.body, "version": section.version}
        uow.rollback()
        raise Conflict("someone else changed this text; here is what it says now",
                       current=current)
    section.body, section.updated_by_id, section.updated_at = text, actor.id, uow.now()
    if name in SHARED:
        section.category = category
    uow.commit()
    return Saved(section.id, section.version)


# --- participants -------------------------------------------------------------------


def add_participant(uow: UnitOfWork, observation_id: object, actor: Actor, *, name: str,
                    affiliation: str | None = None, user_id: object = None) -> Saved:
    """Add a participant: a user (by id) or an outside person by name."""
    obs = _editable(uow, observation_id, actor)
    if user_id not in (None, ""):
        user = uow.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        if user is None or not user.active:
            raise ValidationError("no such user", fields={"user_id": "unknown"})
        name, affiliation = user.display_name, user.unit.name
    name = _text(name, "name") or ""
    if not name:
        raise ValidationError("enter the participant's name", fields={"name": "required"})
    row = ObservationParticipant(observation_id=obs.id, user_id=int(user_id) if user_id else None,
                                 name=name[:100], affiliation=(_text(affiliation, "affiliation")
                                                               or None))
    uow.session.add(row)
    uow.commit()
    return Saved(row.id, row.version)


def save_evaluation(uow: UnitOfWork, observation_id: object, participant_id: object,
                    actor: Actor, *, score: object, comment: str | None = None,
                    expected_version: object = None) -> Saved:
    """A participant's evaluation (评): a score from 0 to 100 and a comment."""
    points = _score(score, "score")
    comment = _text(comment, "comment")
    expected = _version(expected_version)
    obs = _editable(uow, observation_id, actor)
    row = _participant(uow, obs, participant_id)
    if expected is not None and row.version != expected:
        current = {"id": row.id, "score": row.score, "comment": row.comment,
                   "version": row.version}
        uow.rollback()
        raise Conflict("someone else changed this evaluation; here is what it says now",
                       current=current)
    row.score, row.comment = points, comment
    uow.commit()
    return Saved(row.id, row.version)


def remove_participant(uow: UnitOfWork, observation_id: object, participant_id: object,
                       actor: Actor) -> None:
    obs = _editable(uow, observation_id, actor)
    uow.session.delete(_participant(uow, obs, participant_id))
    uow.commit()


def _participant(uow: UnitOfWork, obs: Observation, participant_id: object
                 ) -> ObservationParticipant:
    row = None
    if str(participant_id).isdigit():
        row = uow.session.get(ObservationParticipant, int(participant_id))  # type: ignore[arg-type]
    if row is None or row.observation_id != obs.id:
        raise NotFound("no such participant")
    return row


# --- settings of the record -----------------------------------------------------------


def save_settings(uow: UnitOfWork, observation_id: object, actor: Actor, *, mode: str,
                  categories: list[str] | None = None, demonstration: bool = False,
                  theme: str | None = None) -> None:
    """Mode (and a selective observation's categories), demonstration lines, theme."""
    if mode not in MODES:
        raise ValidationError("unknown mode", fields={"mode": "unknown"})
    categories = sorted({c for c in categories or [] if c})
    if mode == "selective" and not categories:
        raise ValidationError("a selective observation needs at least one category",
                              fields={"categories": "required"})
    theme = _text(theme, "theme")
    obs = _editable(uow, observation_id, actor)
    if set(categories) - categories_of(uow):
        raise ValidationError("unknown category", fields={"categories": "unknown"})
    uow.session.execute(update(Observation.__table__).where(
        Observation.__table__.c.id == obs.id).values(
        mode=mode, categories=categories if mode == "selective" else None,
        demonstration=bool(demonstration) or obs.demonstration, theme=theme))
    uow.session.refresh(obs)
    ensure_record(uow, obs)
    uow.commit()


# --- photos -------------------------------------------------------------------------


def attach(uow: UnitOfWork, observation_id: object, actor: Actor, *, data, filename: str,
           section: str | None = None, standard_id: object = None) -> int:
    """Store a photo or document for a section or a checklist line of the record."""
    if section is not None and section not in SECTIONS:
        raise ValidationError("unknown section", fields={"section": "unknown"})
    sid = None
    if standard_id not in (None, ""):
        sid = int(standard_id) if str(standard_id).isdigit() else -1
    seen = get_observation(uow, observation_id, actor)
    if not may_fill(uow, seen, actor):
        raise PermissionDenied("only the observing unit and its liaisons fill this record",
                               event="record")
    # checked and staged before the row lock is taken (a refused type raises here);
    # it enters the store only once the record accepts it, and is removed otherwise
    staged = uow.evidence.stage(data, filename)
    try:
        obs = _editable(uow, observation_id, actor)
        if sid is not None and not uow.session.scalar(select(exists().where(and_(
                ObservationLine.observation_id == obs.id, ObservationLine.standard_id == sid)))):
            raise ValidationError("this standard is not on this record's checklist",
                                  fields={"standard_id": "not in the checklist"})
        blob = uow.evidence.commit(staged)
        row = ObservationFile(observation_id=obs.id, section=section, standard_id=sid,
                              sha256=blob.sha256, size=blob.size, mime=blob.mime,
                              kind=blob.kind, original_name=staged.name,
                              uploaded_by_id=actor.id, uploaded_at=uow.now())
        uow.session.add(row)
        uow.commit()
    finally:
        uow.evidence.discard(staged)
    return row.id


def file_for_download(uow: UnitOfWork, file_id: object, actor: Actor) -> ObservationFile:
    """A file of a record the actor may see (``NotFound`` otherwise)."""
    row = uow.session.get(ObservationFile, int(file_id)) if str(file_id).isdigit() else None
    if row is None or row.observation_id is None:
        raise NotFound("no such file")
    get_observation(uow, row.observation_id, actor)
    return row


def blobs_of(files) -> list[tuple]:
    """Files as the ledger's evidence wants them: (blob-like, display name)."""
    return [(SimpleNamespace(sha256=f.sha256, size=f.size, mime=f.mime, kind=f.kind),
             f.original_name) for f in files]
