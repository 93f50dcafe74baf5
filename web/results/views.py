"""The ranking page: compute, move a class with a reason, excuse a missing target,
approve (someone else), publish, correct; the tie-break and class rules stated.

The observing unit's staff act on their own ranking; the level above reads the
rankings of the units in its scope (``?unit=``).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, TextAreaField

from ledger.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Cycle, Item, RankingEvent, RankingRow, Unit, User, status_of
from ledger.results import classes, pairing, publication, rankings, weak
from ledger.results import notice as ranking_notice
from ledger.results.workflow import RULEBOOK
from web.core.domain_text import explain, field_errors
from web.core.errors import render_error
from web.core.extensions import sanhu
from web.core.files import send_private
from web.core.labels import CLASS_LABELS
from web.supervision.views import notice_label

bp = Blueprint("results", __name__, url_prefix="/results")

STATUS_LABELS = {"draft": _l("Draft"), "approved": _l("Approved"),
                 "published": _l("Published (公示)"), "superseded": _l("Superseded")}
EVENT_LABELS = {"compute": _l("Computed"), "change_class": _l("Class changed"),
                "excuse": _l("Target excused"), "approve": _l("Approved"),
                "revise": _l("Taken back for corrections"), "publish": _l("Published")}
REASONS = {
    "nobody approves a ranking they computed":
        _l("Nobody approves a ranking they computed: another staff member of the unit does."),
    "only a draft ranking can be changed": _l("Only a draft ranking can be changed."),
    "an approved ranking is revised before it is computed again":
        _l("An approved ranking is taken back for corrections before it is computed again."),
    "a published ranking is corrected by a new version with a reason":
        _l("A published ranking is corrected by a new version: give the reason."),
    "only the observing unit's staff rank its targets":
        _l("Only the observing unit's staff rank its targets."),
    "only the observing unit's staff change its ranking":
        _l("Only the observing unit's staff change its ranking."),
    "only ranked units have a class": _l("Only ranked units have a class."),
    "a ranked unit needs no excuse": _l("A ranked unit needs no excuse."),
    "the 公示 period is over": _l("The 公示 period is over: objections are closed."),
    "write the objection": _l("Write the objection."),
    "too many objections from here; try again later":
        _l("Too many objections from here; please try again later."),
    "only the observing unit answers objections": _l("Only the observing unit answers."),
    "write the answer": _l("Write the answer."),
    "the 示范 and 后进 quotas add up to more than 100%":
        _l("The 示范 and 后进 quotas add up to more than 100%."),
    "the 示范 threshold must lie above the 后进 one":
        _l("The 示范 threshold must lie above the 后进 one."),
    "between 1 and 12 cycles": _l("Enter between 1 and 12 cycles."),
    "enter a whole number": _l("Enter a whole number."),
    "the county records the determination": _l("The county records the determination."),
    "check the determination": _l("Check the determination."),
    "the unit is not flagged": _l("The unit is not flagged."),
    "the determination has been recorded already":
        _l("The determination has been recorded already."),
    "only a 认定 unit has a plan": _l("Only a 认定 unit has a plan."),
    "the unit has no responsible person": _l("The unit has no responsible person."),
    "only the observing unit changes a pair": _l("Only the observing unit changes a pair."),
    "only the pair and its observing unit record visits":
        _l("Only the pair and its observing unit record visits."),
    "check the visit": _l("Check the visit's date, people and what was learned, and that "
                          "the photos are images (at most 10)."),
    "a visit's photos are images": _l("A visit's photos are images (JPEG, PNG …)."),
    "the partner is another unit of the same level in the county":
        _l("The partner is another unit of the same level in the county."),
    "the objection has been answered already": _l("The objection has been answered already."),
    "only the observing county's staff notify its ranking":
        _l("Only the staff of the county that ranked its townships issue its ranking notice."),
    "only a county's ranking of its townships is notified":
        _l("Only a county's ranking of its townships is notified (通报排名)."),
    "only a published ranking is notified":
        _l("Only a published ranking can be notified: publish it (公示) first."),
    "the ranking has been notified already":
        _l("This ranking has been notified already; a corrected version, once published, "
           "can be notified again."),
}
#: what is wrong with the ranking notice's title or text
NOTICE_FIELDS = {
    ("title", "required"): _l("Write the title of the notice."),
    ("title", "too long"): _l("The title of the notice is at most %(n)s characters.",
                              n=ranking_notice.MAX_TITLE),
    ("body", "required"): _l("Write the text of the notice."),
    ("body", "too long"): _l("The text of the notice is at most %(n)s characters.",
                             n=ranking_notice.MAX_BODY),
}


class RankingNoticeForm(FlaskForm):
    """通报排名: title and text; the number is given on issue, the table is the ranking's.
    The lengths are checked by the service, which names what is wrong."""

    title = StringField(_l("Title"))
    body = TextAreaField(_l("Text of the notice"))


def notice_defaults(cycle: Cycle) -> dict[str, str]:
    """The prefilled title and text: ``关于2026年下半年乡镇观摩评议排名情况的通报``."""
    year, half = cycle.period[:4], cycle.period[-1:]
    period = (_("the first half of %(year)s", year=year) if half == "1"
              else _("the second half of %(year)s", year=year))
    return {"title": _("Notice on the ranking of the townships in the observation and "
                       "evaluation of %(period)s", period=period),
            "body": _("Following the observation and evaluation of %(period)s, approved and "
                      "published (公示), the townships' ranking and the rectification of "
                      "their problems are notified as follows.", period=period)}


def status_for(exc: DomainError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict | InvalidTransition):
        return 409
    return 400


def reason_text(exc: DomainError) -> str:
    message = exc.message or ""
    if message.endswith("targets are neither confirmed nor excused"):
        return _("%(n)s targets are neither confirmed nor excused: confirm their observations "
                 "and compute again, or excuse them with a reason.", n=message.split()[0])
    if isinstance(exc, ValidationError) and all(k in NOTICE_FIELDS for k in exc.fields.items()):
        return " ".join(str(NOTICE_FIELDS[k]) for k in exc.fields.items())
    known = REASONS.get(message)
    text = str(known) if known else explain(exc)
    fields = field_errors(exc) if hasattr(exc, "fields") else {}
    return " ".join([text, *fields.values()])


def _page(uow, cycle_id: int, unit_id: int | None, message: str | None = None,
          typed: dict | None = None, status: int = 200, notice_form=None):
    actor = current_user.actor
    cycle = uow.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    own = unit_id is None or unit_id == actor.unit_id
    unit = uow.session.get(Unit, actor.unit_id if own else unit_id)
    if unit is None or not actor.sees(unit) or unit.level != rankings.OBSERVING_LEVEL[cycle.kind]:
        abort(404)
    ranking = rankings.latest(uow.session, cycle.id, unit.id)
    rows, names, history, people, events, objections = [], {}, [], {}, [], []
    notices: list = []
    if ranking is not None:
        rows = uow.session.scalars(select(RankingRow).where(
            RankingRow.ranking_id == ranking.id).order_by(
            RankingRow.rank.is_(None), RankingRow.rank)).all()
        names = dict(uow.session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_([r.unit_id for r in rows]))).all())
        history = uow.session.scalars(select(RankingEvent).where(
            RankingEvent.ranking_id == ranking.id).order_by(RankingEvent.seq)).all()
        people = dict(uow.session.execute(select(User.id, User.display_name).where(
            User.id.in_({h.actor_id for h in history}))).all())
        rankings.count_missing(uow, ranking)
        objections = publication.objections_of(uow.session, ranking.id)
        events = RULEBOOK.allowed_events(ranking, actor, uow.context()) if own else []
        notices = ranking_notice.notices_of(uow.session, ranking.id)
    staff = own and actor.role in ("township_staff", "county_staff")
    may_notify = (own and actor.role == "county_staff" and ranking is not None
                  and ranking.status == "published" and cycle.kind == ranking_notice.COUNTY_KIND
                  and not notices)
    if may_notify and notice_form is None:
        notice_form = RankingNoticeForm(formdata=None, data=notice_defaults(cycle))
    html = render_template(
        "results/ranking.html", cycle=cycle, unit=unit, ranking=ranking, rows=rows,
        names=names, history=history, people=people, events=events, staff=staff,
        objections=objections, notices=notices,
        notice_form=notice_form if may_notify else None, notice_label=notice_label,
        editable=staff and ranking is not None and ranking.status == "draft",
        rule=classes.load_rule(uow.session, cycle.kind) if ranking is None
        else classes.parse_rule(ranking.rule), message=message, typed=typed or {},
        class_labels=CLASS_LABELS, status_labels=STATUS_LABELS, event_labels=EVENT_LABELS)
    return html, status


@bp.route("/cycles/<int:cycle_id>/ranking")
@login_required
def ranking(cycle_id: int):
    """The observing unit's ranking of its targets in the cycle (or one below, read-only)."""
    with sanhu().uow() as uow:
        return _page(uow, cycle_id, request.args.get("unit", type=int))


@bp.route("/rankings/<int:ranking_id>")
@login_required
def ranking_by_id(ranking_id: int):
    """A ranking by its id (links from notifications): its cycle's ranking page."""
    with sanhu().uow() as uow:
        found = rankings.get_ranking(uow, ranking_id, current_user.actor)
        cycle_id, unit_id = found.cycle_id, found.observing_unit_id
    unit = None if unit_id == current_user.actor.unit_id else unit_id
    return redirect(url_for("results.ranking", cycle_id=cycle_id, unit=unit))


def _act(cycle_id: int, call, typed: dict | None = None):
    with sanhu().uow() as uow:
        try:
            call(uow)
        except NotFound:
            raise
        except PermissionDenied as exc:
            return render_error(403, reason_text(exc))
        except DomainError as exc:
            uow.rollback()
            return _page(uow, cycle_id, None, reason_text(exc), typed, status_for(exc))
    flash(_("Done."), "success")
    return redirect(url_for("results.ranking", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/ranking/compute", methods=["POST"])
@login_required
def compute(cycle_id: int):
    reason = request.form.get("reason")
    return _act(cycle_id, lambda uow: rankings.compute(uow, cycle_id, current_user.actor,
                                                       reason=reason),
                {"reason": reason or ""})


@bp.route("/rankings/<int:ranking_id>/units/<int:unit_id>/class", methods=["POST"])
@login_required
def change_class(ranking_id: int, unit_id: int):
    form = request.form
    with sanhu().uow() as uow:
        cycle_id = rankings.get_ranking(uow, ranking_id, current_user.actor).cycle_id
    return _act(cycle_id, lambda uow: rankings.change_class(
        uow, ranking_id, unit_id, current_user.actor, klass=form.get("klass", ""),
        reason=form.get("reason", ""), expected_version=form.get("expected_version")),
        {"unit": unit_id, "reason": form.get("reason", "")})


@bp.route("/rankings/<int:ranking_id>/units/<int:unit_id>/excuse", methods=["POST"])
@login_required
def excuse(ranking_id: int, unit_id: int):
    form = request.form
    with sanhu().uow() as uow:
        cycle_id = rankings.get_ranking(uow, ranking_id, current_user.actor).cycle_id
    return _act(cycle_id, lambda uow: rankings.excuse(
        uow, ranking_id, unit_id, current_user.actor, reason=form.get("reason", ""),
        expected_version=form.get("expected_version")),
        {"unit": unit_id, "reason": form.get("reason", "")})


@bp.route("/rankings/<int:ranking_id>/events/<event>", methods=["POST"])
@login_required
def fire(ranking_id: int, event: str):
    calls = {"approve": rankings.approve, "publish": rankings.publish}
    if event not in (*calls, "revise"):
        abort(404)
    form = request.form
    with sanhu().uow() as uow:
        cycle_id = rankings.get_ranking(uow, ranking_id, current_user.actor).cycle_id
    if event == "revise":
        return _act(cycle_id, lambda uow: rankings.revise(
            uow, ranking_id, current_user.actor, reason=form.get("reason", ""),
            expected_version=form.get("expected_version")), {"reason": form.get("reason", "")})
    return _act(cycle_id, lambda uow: calls[event](
        uow, ranking_id, current_user.actor, expected_version=form.get("expected_version")))


@bp.route("/rankings/<int:ranking_id>/notice", methods=["POST"])
@login_required
def notify(ranking_id: int):
    """通报排名: the county issues the notice of its published ranking of its townships,
    then shows it, printable; a refusal shows the ranking page with the text kept."""
    actor = current_user.actor
    form = RankingNoticeForm()
    if not form.validate():  # only the CSRF token: the service checks title and text
        abort(400)
    with sanhu().uow() as uow:
        cycle_id = rankings.get_ranking(uow, ranking_id, actor).cycle_id
        try:
            issued = ranking_notice.issue_ranking_notice(
                uow, ranking_id, actor, title=form.title.data, body=form.body.data)
        except PermissionDenied as exc:
            return render_error(403, reason_text(exc))
        except DomainError as exc:
            uow.rollback()
            return _page(uow, cycle_id, None, reason_text(exc), None, status_for(exc),
                         notice_form=form)
    flash(_("Ranking notice %(number)s issued.", number=notice_label(issued)), "success")
    return redirect(url_for("supervision.notice", notice_id=issued.notice_id))


@bp.route("/p/<token>", methods=["GET", "POST"])
def public(token: str):
    """The 公示 page, open without signing in: ranks, classes and scores of one ranking,
    its objections and answers, and (during the period) a form to raise one."""
    form = request.form
    typed: dict = {}
    message = None
    status = 200
    with sanhu().uow() as uow:
        if request.method == "POST":
            typed = {"name": form.get("name", ""), "contact": form.get("contact", ""),
                     "body": form.get("body", "")}
            try:
                publication.raise_objection(
                    uow, token, **typed,
                    client=publication.client_key(current_app.secret_key, request.remote_addr))
            except NotFound:
                raise
            except DomainError as exc:
                uow.rollback()
                message, status = reason_text(exc), status_for(exc)
            else:
                flash(_("Your objection has been recorded. The answer will appear here."),
                      "success")
                return redirect(url_for("results.public", token=token) + "#objections")
        view = publication.public_view(uow.session, token, uow.today())
        response = render_template("results/public.html", view=view, typed=typed,
                                   message=message, class_labels=CLASS_LABELS)
    # no-store: objections are free text and a refused form shows the sender's name again
    return response, status, {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
                              "Cache-Control": "no-store"}


@bp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@login_required
def answer(objection_id: int):
    """The observing unit answers an objection on record; back to its ranking."""
    with sanhu().uow() as uow:
        try:
            ranking_id = publication.answer(uow, objection_id, current_user.actor,
                                            text=request.form.get("answer", ""))
        except NotFound:
            raise
        except PermissionDenied as exc:
            return render_error(403, reason_text(exc))
        except DomainError as exc:
            uow.rollback()
            flash(reason_text(exc), "error")
            return redirect(request.referrer or url_for("observations.cycles"))
    flash(_("The answer has been recorded and appears on the 公示 page."), "success")
    return redirect(url_for("results.ranking_by_id", ranking_id=ranking_id) + "#publication")


@bp.route("/pairs/<int:pair_id>", methods=["GET", "POST"])
@login_required
def pair(pair_id: int):
    """A pair (互帮): the two units, their exchange visits, and the forms to add one or
    (the observing unit) to change the partner."""
    actor = current_user.actor
    message, typed, status = None, {}, 200
    with sanhu().uow() as uow:
        if request.method == "POST":
            form = request.form
            try:
                if "partner_unit_id" in form:
                    pairing.change_partner(uow, pair_id, actor,
                                           partner_unit_id=form.get("partner_unit_id"))
                else:
                    typed = {"day": form.get("day", ""), "who": form.get("who", ""),
                             "learned": form.get("learned", "")}
                    photos = [(f.stream, f.filename) for f in request.files.getlist("photos")
                              if getattr(f, "filename", "")]
                    pairing.record_visit(uow, pair_id, actor, **typed, photos=photos)
            except NotFound:
                raise
            except PermissionDenied as exc:
                return render_error(403, reason_text(exc))
            except DomainError as exc:
                uow.rollback()
                message, status = reason_text(exc), status_for(exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("results.pair", pair_id=pair_id))
        view = pairing.view(uow, pair_id, actor)
        choices = []
        if view.may_change:
            choices = uow.session.execute(select(Unit.id, Unit.name).where(
                Unit.parent_id == view.lagging.parent_id, Unit.id != view.lagging.id,
                Unit.active.is_(True)).order_by(Unit.code)).all()
        cycle = uow.session.get(Cycle, view.pair.cycle_id)
        html = render_template("results/pair.html", view=view, cycle=cycle, choices=choices,
                               message=message, typed=typed)
    return html, status


@bp.route("/pairs/<int:pair_id>/photos/<int:photo_id>")
@login_required
def pair_photo(pair_id: int, photo_id: int):
    """A photo of an exchange visit, only for those who see the pair."""
    with sanhu().uow() as uow:
        photo = pairing.photo_for_download(uow, pair_id, photo_id, current_user.actor)
        path = uow.evidence.path_for(photo.sha256)
        mime, name = photo.mime, photo.original_name
    return send_private(path, mime, name, inline=request.args.get("inline") == "1")


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The admin's class rule per cycle kind and k of the 软弱涣散 flag."""
    actor = current_user.actor
    if actor.role != "admin":
        abort(403)
    message, status = None, 200
    with sanhu().uow() as uow:
        if request.method == "POST":
            form = request.form
            try:
                if "weak_after" in form:
                    classes.save_weak_after(uow, actor, form.get("weak_after"))
                else:
                    classes.save_rule(uow, actor, form.get("kind", ""), {
                        k: form.get(k) for k in ("mode", "top", "bottom", "demonstration_min",
                                                 "lagging_below")})
            except DomainError as exc:
                uow.rollback()
                message, status = reason_text(exc), status_for(exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("results.settings"))
        rules = {kind: classes.load_rule(uow.session, kind)
                 for kind in ("village_quarterly", "township_half_yearly")}
        html = render_template("results/settings.html", rules=rules, message=message,
                               weak_after=classes.weak_after(uow.session))
    return html, status


@bp.route("/weak", methods=["GET", "POST"])
@login_required
def weak_units():
    """软弱涣散: the units flagged after k 后进 cycles in a row, the county's determination
    and the 一村一策 plan's tasks (ledger items)."""
    actor = current_user.actor
    if actor.role not in ("county_staff", "city_staff", "supervisor"):
        abort(403)
    message, status, typed = None, 200, {}
    with sanhu().uow() as uow:
        if request.method == "POST":
            form = request.form
            typed = dict(form)
            try:
                if form.get("review_id"):
                    weak.add_task(uow, form["review_id"], actor,
                                  description=form.get("description", ""),
                                  deadline=form.get("deadline", ""))
                else:
                    weak.determine(uow, form.get("unit_id"), actor,
                                   decision=form.get("decision", ""),
                                   reason=form.get("reason", ""),
                                   decided_on=form.get("decided_on", ""),
                                   plan=form.get("plan", ""))
            except NotFound:
                raise
            except PermissionDenied as exc:
                return render_error(403, reason_text(exc))
            except DomainError as exc:
                uow.rollback()
                message, status = reason_text(exc), status_for(exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("results.weak_units"))
        flags = weak.flagged(uow.session, actor)
        tasks = {}
        for f in flags:
            if f.review is not None:
                ids = weak.tasks_of(uow.session, f.review.id)
                tasks[f.review.id] = uow.session.execute(
                    select(Item.id, Item.number, Item.description, Item.state, Item.submitted,
                           Item.deadline).where(Item.id.in_(ids)).order_by(Item.id)).all()
        html = render_template("results/weak.html", flags=flags, tasks=tasks, message=message,
                               typed=typed, k=classes.weak_after(uow.session),
                               today=uow.today(), may_decide=actor.role == "county_staff",
                               status_of=status_of)
    return html, status


# the report (报送) and 以奖代补 pages hang on this blueprint too
from web.results import funds_views, report_views  # noqa: E402, F401
