"""The 以奖代补 page of a published ranking: the funds rule form, the table per unit,
approval by a colleague, reopening after a ranking correction, and the .xlsx.

The observing unit's staff set and approve; the units above (county, city,
supervisors in scope) read and download; anyone else gets 404, as on the ranking
page. The routes hang on the results blueprint (``web.results.views.bp``).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ledger.core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from ledger.core.models import FundsEvent, User
from ledger.results import funds, funds_rules
from ledger.results.funds_export import export_funds
from web.core.domain_text import field_message
from web.core.errors import render_error
from web.core.extensions import sanhu
from web.core.labels import CLASS_LABELS
from web.ledger_list.views import send_xlsx_file
from web.results.views import STATUS_LABELS, bp, reason_text, status_for

#: band rows on the form: at least this many, and always two blank ones to add more
BAND_ROWS = 5
KIND_LABELS = {"class": _l("An amount per class"), "band": _l("An amount per rank band"),
               "pool": _l("A pool split by score")}
WHO_LABELS = {"all": _l("every ranked unit"),
              "not_lagging": _l("every ranked unit except the 后进 ones")}
FUNDS_STATUS = {"draft": _l("Draft"), "approved": _l("Approved")}
EVENT_LABELS = {"save": _l("Funds rule saved"), "approve": _l("Approved"),
                "reopen": _l("Reopened after a ranking correction")}
#: the field codes of ``ledger.results.funds`` beside the fields
FIELD_TEXT = {
    "negative amount": _l("An amount cannot be negative."),
    "amount too large": _l("At most 100,000,000 yuan."),
    "too many decimals": _l("At most two decimals (to the fen)."),
    "pool not positive": _l("The pool must be more than 0 yuan."),
    "not a rank": _l("Enter a rank: a whole number from 1."),
    "band reversed": _l("This band ends before it starts."),
    "bands gap": _l("The bands start at rank 1 and follow each other without a gap."),
    "bands overlap": _l("This band overlaps the one before."),
    "bands out of order": _l("List the bands from rank 1 down, in order."),
    "no band": _l("Enter at least one band."),
    "too many bands": _l("At most 20 bands."),
    "nobody shares": _l("Nobody would share the pool: every ranked unit is 后进."),
}
#: the services' refusals, in the user's language
REASONS = {
    "check the funds rule": _l("The funds rule was not saved: correct the marked fields."),
    "choose how the funds are given": _l("Choose how the funds are given."),
    "nobody shares the pool": FIELD_TEXT["nobody shares"],
    "nobody approves a funds rule they saved":
        _l("Nobody approves a funds rule they saved: another staff member of the unit does."),
    "the ranking was corrected: save the funds rule again first":
        _l("The ranking has been corrected: save the funds rule again to compute the table "
           "from the correction, then approve it."),
    "an approved funds table is frozen":
        _l("An approved funds table is frozen: its rule and amounts no longer change."),
    "the ranking has been superseded by a correction":
        _l("This ranking has been superseded by a correction: open the funds of the "
           "published version."),
    "only the observing unit's staff set its funds rule":
        _l("Only the observing unit's staff set its funds rule."),
    "the funds plan was changed by someone else; reload and try again":
        _l("Someone else changed the funds meanwhile. The current table is shown below; what "
           "you typed is kept."),
}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class BandForm(Form):
    """One rank band: ranks ``from_rank``–``to_rank`` get ``amount`` yuan each."""

    from_rank = StringField(_l("From rank"))
    to_rank = StringField(_l("To rank"))
    amount = StringField(_l("Amount (元)"))


class FundsRuleForm(FlaskForm):
    """The funds rule; the service checks the amounts (one place for the rules)."""

    expected_version = HiddenField()
    kind = RadioField(_l("How the funds are given"), choices=_choices(KIND_LABELS),
                      default="class", validate_choice=False)
    demonstration = StringField(_l("示范 units get (元)"))
    middle = StringField(_l("中间 units get (元)"))
    lagging = StringField(_l("后进 units get (元)"))
    bands = FieldList(FormField(BandForm), min_entries=BAND_ROWS, max_entries=funds_rules.MAX_BANDS)
    total = StringField(_l("The pool (元)"))
    who = SelectField(_l("Shared by"), choices=_choices(WHO_LABELS), validate_choice=False)

    def rule_data(self) -> dict:
        return {"kind": self.kind.data, "demonstration": self.demonstration.data,
                "middle": self.middle.data, "lagging": self.lagging.data,
                "bands": [dict(b.data) for b in self.bands], "total": self.total.data,
                "who": self.who.data}


def funds_reason(exc: DomainError) -> str:
    known = REASONS.get(exc.message or "")
    return str(known) if known else reason_text(exc)


def field_text(code: str) -> str:
    known = FIELD_TEXT.get(code)
    return str(known) if known else field_message(code)


def _mark_fields(form: FundsRuleForm, exc: ValidationError) -> str | None:
    """Put each refused field's message beside it; returns the message of the bands as a
    whole (or of a field the form does not show), if any."""
    general = None
    for name, code in exc.fields.items():
        parts = name.split("-")
        target = None
        if len(parts) == 3 and parts[0] == "bands" and parts[1].isdigit() \
                and int(parts[1]) < len(form.bands):
            target = getattr(form.bands[int(parts[1])].form, parts[2], None)
        elif name in ("kind", "demonstration", "middle", "lagging", "total", "who"):
            target = getattr(form, name)
        if target is None:
            general = field_text(code)
        else:
            target.errors = [*list(target.errors), field_text(code)]
    return general


def _add_blank_bands(form: FundsRuleForm) -> None:
    filled = sum(1 for b in form.bands if any(str(v or "").strip() for v in b.data.values()))
    while len(form.bands) < min(funds_rules.MAX_BANDS, max(BAND_ROWS, filled + 2)):
        form.bands.append_entry()


def _render(uow, ranking_id: int, form: FundsRuleForm | None = None, *,
            message: str | None = None, bands_error: str | None = None,
            typed: dict | None = None, status: int = 200):
    actor = current_user.actor
    seen = funds.view(uow, ranking_id, actor)
    if form is None:
        stored = funds_rules.as_input(seen.plan.rule) if seen.plan else {}
        form = FundsRuleForm(data=stored)
    if seen.plan is not None:
        form.expected_version.data = str(seen.plan.version)
    _add_blank_bands(form)
    history, people = [], {}
    if seen.plan is not None:
        history = uow.session.scalars(select(FundsEvent).where(
            FundsEvent.plan_id == seen.plan.id).order_by(FundsEvent.seq)).all()
        people = dict(uow.session.execute(select(User.id, User.display_name).where(
            User.id.in_({h.actor_id for h in history}))).all())
    html = render_template(
        "results/funds.html", view=seen, form=form, message=message, bands_error=bands_error,
        typed=typed or {}, history=history, people=people, class_labels=CLASS_LABELS,
        kind_labels=KIND_LABELS, who_labels=WHO_LABELS, funds_status=FUNDS_STATUS,
        ranking_status=STATUS_LABELS, event_labels=EVENT_LABELS,
        unit_arg=None if seen.staff else seen.unit.id)
    return html, status


@bp.route("/rankings/<int:ranking_id>/funds", methods=["GET", "POST"])
@login_required
def funds_page(ranking_id: int):
    """以奖代补 of a published ranking's cycle and observing unit: the rule, the table per
    unit and its approval; saving the rule recomputes the table."""
    with sanhu().uow() as uow:
        if request.method == "GET":
            return _render(uow, ranking_id)
        form = FundsRuleForm()
        if not form.validate_on_submit():
            return _render(uow, ranking_id, form, status=400,
                           message=_("The funds rule was not saved: correct the marked fields."))
        try:
            funds.save_rule(uow, ranking_id, current_user.actor, form.rule_data(),
                            expected_version=form.expected_version.data)
        except NotFound:
            raise
        except PermissionDenied as exc:
            return render_error(403, funds_reason(exc))
        except DomainError as exc:
            uow.rollback()
            bands_error = _mark_fields(form, exc) if isinstance(exc, ValidationError) else None
            return _render(uow, ranking_id, form, message=funds_reason(exc),
                           bands_error=bands_error, status=status_for(exc))
    flash(_("The funds rule is saved and the table computed."), "success")
    return redirect(url_for("results.funds_page", ranking_id=ranking_id))


@bp.route("/rankings/<int:ranking_id>/funds/<event>", methods=["POST"])
@login_required
def funds_event(ranking_id: int, event: str):
    """Approve the funds table (a colleague of whoever saved the rule last), or reopen an
    approved one after a ranking correction, with a reason."""
    if event not in ("approve", "reopen"):
        abort(404)
    form = request.form
    with sanhu().uow() as uow:
        try:
            if event == "approve":
                funds.approve(uow, ranking_id, current_user.actor,
                              expected_version=form.get("expected_version"))
            else:
                funds.reopen(uow, ranking_id, current_user.actor,
                             reason=form.get("reason", ""),
                             expected_version=form.get("expected_version"))
        except NotFound:
            raise
        except PermissionDenied as exc:
            return render_error(403, funds_reason(exc))
        except DomainError as exc:
            uow.rollback()
            return _render(uow, ranking_id, message=funds_reason(exc),
                           typed={"reason": form.get("reason", "")}, status=status_for(exc))
    flash(_("Done."), "success")
    return redirect(url_for("results.funds_page", ranking_id=ranking_id))


@bp.route("/rankings/<int:ranking_id>/funds.xlsx")
@login_required
def funds_xlsx(ranking_id: int):
    """The funds table as .xlsx: 序号, 单位, 排名, 类别, 得分, 奖补金额（元） and the 合计."""
    app = sanhu()

    def write(path: str) -> str:
        with app.uow() as uow:
            result = export_funds(uow, ranking_id, current_user.actor, path,
                                  zone=app.settings.zone)
        return f"以奖代补-{result.period}-{result.unit_name}.xlsx"

    return send_xlsx_file(write, "funds")
