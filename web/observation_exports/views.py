"""Downloading a cycle's scores and one record's checklist, and printing the record.

The workbooks are written by ``ledger.observations.export`` to a temporary file
in constant memory and sent in chunks, the file removed when the download ends
(as the ledger export does).  Scope is the ledger's: an observation outside it,
or a record a village secretary may not see yet, answers 404.
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ledger.observations.export import export_checklist, export_cycle_scores, record_of
from ledger.observations.scoring import DEDUCTING
from web.core.extensions import sanhu
from web.ledger_list.views import CYCLE_KIND_LABELS, SET_LABELS, send_xlsx_file

bp = Blueprint("observation_exports", __name__)

STATUS_LABELS = {"planned": _l("Planned (计划中)"), "in_progress": _l("Being observed (观摩中)"),
                 "submitted": _l("Submitted (已提交)"), "confirmed": _l("Confirmed (已确认)")}
MODE_LABELS = {"focused": _l("Focused (重点)"), "selective": _l("Selective (选择性)"),
               "pushing": _l("Pushing (鞭策性)")}
RESULT_LABELS = {"conform": _l("Conforms (符合)"), "partial": _l("Mostly conforms (基本符合)"),
                 "fail": _l("Does not conform (不符合)"), "na": _l("Not applicable (不适用)"),
                 None: _l("Not filled in (未填)")}
SECTION_LABELS = {"listen": _l("Listen (听)"), "check": _l("Check (查)"), "look": _l("Look (看)"),
                  "talk": _l("Talk (谈)"), "highlights": _l("Highlights (亮点)"),
                  "experience": _l("Lessons worth sharing (经验总结)")}
#: what may not appear in a downloaded file's name
UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


@bp.route("/cycles/<int:cycle_id>/scores.xlsx")
@login_required
def cycle_scores(cycle_id: int):
    """The scores of a cycle's observations in the user's area, one row each (.xlsx)."""
    actor, app = current_user.actor, sanhu()

    def write(path: str) -> str:
        with app.uow() as uow:
            result = export_cycle_scores(uow.session, cycle_id, actor, path,
                                         zone=app.settings.zone)
        return f"观摩得分-{result.period}.xlsx"

    return send_xlsx_file(write)


@bp.route("/observations/<int:observation_id>/checklist.xlsx")
@login_required
def checklist(observation_id: int):
    """One observation's record: header, checklist, 听查看谈 and evaluations (.xlsx)."""
    actor, app = current_user.actor, sanhu()

    def write(path: str) -> str:
        with app.uow() as uow:
            record = export_checklist(uow.session, observation_id, actor, path,
                                      zone=app.settings.zone)
        unit = UNSAFE_NAME.sub("_", record.unit_path[-1] if record.unit_path else "")
        return f"观摩记录-{unit}-{record.cycle.period}.xlsx"

    return send_xlsx_file(write)


@bp.route("/observations/<int:observation_id>/print")
@login_required
def print_record(observation_id: int):
    """The observation record as a printable sheet (观摩记录表) with signature lines."""
    with sanhu().uow() as uow:
        record = record_of(uow.session, observation_id, current_user.actor)
        return render_template(
            "observation_exports/print.html", record=record, obs=record.observation,
            status_labels=STATUS_LABELS, mode_labels=MODE_LABELS, result_labels=RESULT_LABELS,
            section_labels=SECTION_LABELS, set_labels=SET_LABELS,
            cycle_kind_labels=CYCLE_KIND_LABELS, deducting=DEDUCTING)
