"""The demo city's observations: two quarters played through the real services.

The demo is built once per database (SQLite, and PostgreSQL when configured);
these tests only read it.  The last test loads the demo again on the first
morning of a quarter, when the current quarter's story has to fit into minutes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from conftest import _admin_engine, _with_database
from sqlalchemy import func, select, text
from web_fixtures import sign_in

from ledger.calendar.periods import period_for
from ledger.core.models import (
    Cycle,
    FundsPlan,
    FundsRow,
    Item,
    ItemEvent,
    Liaison,
    Observation,
    ObservationEvent,
    ObservationFile,
    ObservationLine,
    ObservationParticipant,
    ObservationPlan,
    ObservationSection,
    Ranking,
    Report,
    UnitClass,
    status_of,
)
from ledger.core.settings import Settings
from ledger.instance.bootstrap import bootstrap
from ledger.instance.demo import DEMO_PASSWORD, PLAN, demo_user_actor, load_demo
from ledger.observations.queries import highlights
from ledger.results import reports
from ledger.supervision.board import repeat_clause
from ledger.survey.models import Survey
from web import create_app

SH = ZoneInfo("Asia/Shanghai")
REPEAT_TEXT = "上次观摩指出的问题整改不彻底"


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request, tmp_path_factory):
    """The demo city on SQLite (a copy of the browser tests' demo file) or PostgreSQL."""
    folder = tmp_path_factory.mktemp("demo-observations")
    if request.param == "sqlite":
        path = folder / "demo.sqlite"
        shutil.copy(request.getfixturevalue("demo_template"), path)
        app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=folder / "ev"))
        yield app
        app.dispose()
        return
    url, templates = request.getfixturevalue("pg_templates")
    name = f"sanhu_demo_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{templates["plain"]}"'))
    app = bootstrap(Settings(database_url=_with_database(url, name), evidence_dir=folder / "ev"))
    load_demo(app)
    yield app
    app.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def periods(sanhu) -> tuple[str, str]:
    """(last quarter, this quarter) as the demo saw them."""
    with sanhu.uow() as uow:
        now = period_for("village_quarterly", uow.today())
    start = dt.date(int(now[:4]), 3 * int(now[-1]) - 2, 1)
    return period_for("village_quarterly", start - dt.timedelta(days=1)), now


def observations(sanhu, period: str) -> list[Observation]:
    with sanhu.uow() as uow:
        return list(uow.session.scalars(
            select(Observation).join(Cycle, Cycle.id == Observation.cycle_id)
            .where(Cycle.kind == "village_quarterly", Cycle.period == period)))


def test_both_quarters_have_confirmed_observations_with_scores_spread_enough_to_rank(demo):
    for period in periods(demo):
        confirmed = [o for o in observations(demo, period) if o.status == "confirmed"]
        assert len(confirmed) >= 20
        scores = [o.score for o in confirmed]
        assert None not in scores
        assert max(scores) - min(scores) >= 20
        assert min(scores) >= 50 and max(scores) <= 100
        assert len(set(scores)) >= len(scores) - 3  # few ties: the ranking is clear


def test_this_quarter_is_partly_confirmed_partly_in_progress_and_partly_planned(demo):
    _, now = periods(demo)
    by_status = Counter(o.status for o in observations(demo, now))
    assert by_status["confirmed"] > by_status["in_progress"] + by_status["planned"]
    assert by_status["in_progress"] >= 2 and by_status["planned"] >= 2
    with demo.uow() as uow:
        lines = dict(uow.session.execute(
            select(ObservationLine.observation_id, func.count())
            .where(ObservationLine.result.is_not(None)).group_by(ObservationLine.observation_id)).all())
        started = [o for o in observations(demo, now) if o.status == "in_progress"]
        for o in started:  # partly filled: some lines and notes, not all
            assert 0 < lines.get(o.id, 0) < 42
            body = uow.session.scalar(select(ObservationSection.body).where(
                ObservationSection.observation_id == o.id, ObservationSection.name == "listen"))
            assert body.startswith("听取")
    # the first village of the first township (sec111's) is left for the township to plan
    with demo.uow() as uow:
        first = uow.session.scalar(select(Observation).join(Cycle).where(
            Cycle.period == now, Observation.unit_id == select(func.min(Observation.unit_id))
            .where(Observation.village_id.is_not(None)).scalar_subquery()))
    assert first.status == "planned"


def test_last_quarters_unconfirmed_observations_are_marked_late(demo):
    last, _ = periods(demo)
    rows = observations(demo, last)
    unconfirmed = [o for o in rows if o.status != "confirmed"]
    assert 2 <= len(unconfirmed) <= 3
    assert {o.status for o in unconfirmed} <= {"in_progress", "submitted"}
    assert all((o.late_at is not None) == (o.status != "confirmed") for o in rows)


def test_some_villages_fail_the_same_standard_again_and_the_board_sees_it(demo):
    last, now = periods(demo)
    with demo.uow() as uow:
        s = uow.session
        cycles = dict(s.execute(select(Cycle.period, Cycle.id).where(
            Cycle.kind == "village_quarterly")).all())
        pairs = {}
        for period in (last, now):
            pairs[period] = set(s.execute(
                select(Item.unit_id, Item.standard_id).where(Item.cycle_id == cycles[period])))
        repeats = pairs[last] & pairs[now]
        assert len(repeats) >= 2
        flagged = s.scalar(select(func.count(Item.id)).where(
            Item.cycle_id == cycles[now], repeat_clause()))
        assert flagged >= 2
        pushed = s.scalars(select(Observation.mode).where(
            Observation.cycle_id == cycles[now],
            Observation.unit_id.in_([u for u, _ in repeats]))).all()
        assert "pushing" in pushed  # last time's weakest get a 鞭策性 visit


def test_every_observation_item_is_a_finding_of_its_confirmed_record(demo):
    with demo.uow() as uow:
        s = uow.session
        rows = s.execute(
            select(Item, Observation, ObservationLine.result)
            .join(Observation, Observation.id == Item.observation_id)
            .join(ObservationLine, (ObservationLine.observation_id == Observation.id)
                  & (ObservationLine.standard_id == Item.standard_id))).all()
        assert len(rows) == s.scalar(select(func.count(Item.id)).where(
            Item.observation_id.is_not(None)))
        for item, obs, result in rows:
            assert item.source == "observation"
            assert (item.cycle_id, item.unit_id) == (obs.cycle_id, obs.unit_id)
            assert obs.status == "confirmed" and result == "fail"
            assert item.created_at >= obs.confirmed_at - dt.timedelta(seconds=1)
        # and every failed line of a confirmed record is in the ledger
        failed = s.scalar(select(func.count()).select_from(ObservationLine).join(
            Observation, Observation.id == ObservationLine.observation_id).where(
            Observation.status == "confirmed", ObservationLine.result == "fail"))
        assert failed == len(rows) > 60


def test_no_observation_has_two_items_for_one_standard(demo):
    with demo.uow() as uow:
        twice = uow.session.execute(
            select(Item.observation_id, Item.standard_id).where(Item.observation_id.is_not(None))
            .group_by(Item.observation_id, Item.standard_id).having(func.count() > 1)).all()
    assert twice == []


def test_the_records_read_like_a_visit(demo):
    with demo.uow() as uow:
        s = uow.session
        confirmed = s.scalars(select(Observation.id).where(
            Observation.status == "confirmed")).all()
        notes = dict(s.execute(select(ObservationSection.name, ObservationSection.body).where(
            ObservationSection.observation_id == confirmed[0])).all())
        assert notes["listen"].startswith("听取") and notes["check"].startswith("查阅")
        assert notes["look"].startswith("实地查看") and "谈话" in notes["talk"]
        participants = s.execute(select(ObservationParticipant.observation_id,
                                        ObservationParticipant.user_id,
                                        ObservationParticipant.score)
                                 .where(ObservationParticipant.observation_id.in_(confirmed))
                                 ).all()
        per = Counter(p.observation_id for p in participants)
        assert min(per.values()) >= 2  # the township's staff and outside people
        assert all(p.score is not None for p in participants)
        assert any(p.user_id is None for p in participants)
        failed_notes = s.scalars(select(ObservationLine.note).where(
            ObservationLine.result.in_(("fail", "partial")))).all()
        assert all(failed_notes) and len(set(failed_notes)) > 20
        modes = Counter(s.scalars(select(Observation.mode).where(
            Observation.id.in_(confirmed))))
        assert modes["selective"] and modes["pushing"]
        chosen = s.scalars(select(Observation.categories).where(
            Observation.mode == "selective")).all()
        assert all(chosen)
        themes = set(s.scalars(select(Observation.theme).where(Observation.theme.is_not(None))))
        assert len(themes) >= 3


def test_highlights_are_shared_with_photos(demo):
    with demo.uow() as uow:
        page = highlights(uow.session)
        photos = uow.session.scalar(select(func.count(ObservationFile.id)).where(
            ObservationFile.section == "highlights"))
    assert page.total >= 5
    assert photos >= 1


def test_the_ledger_keeps_its_mix_of_states_for_the_board_and_the_lists(demo):
    expected = Counter()
    for target, _ in PLAN:
        submitted = target == "submitted"
        expected[{"submitted": "rectifying", "dismissed": "closed"}.get(target, target),
                 submitted] += 1
    with demo.uow() as uow:
        s = uow.session
        today = uow.today()
        items = s.scalars(select(Item)).all()
        assert Counter((i.state, i.submitted) for i in items) == expected
        overdue = [i for i in items if i.state in ("assigned", "rectifying")
                   and not i.submitted and i.deadline < today]
        assert len(overdue) == 11  # the board's browser test counts these
        assert {i.county_id for i in overdue} == set(s.scalars(select(Item.county_id)))
        by_hand = [i for i in items if i.observation_id is None]
        assert by_hand and {i.source for i in by_hand} <= {"inspection", "patrol",
                                                            "self_check"}
        assert all(i.cycle_id is None for i in by_hand)
        open_ = [i for i in items if status_of(i.state, i.submitted) in ("assigned",
                                                                          "rectifying")]
        assert sum(1 for i in open_ if i.pending_extension) == 2
        assert sum(1 for i in items if i.rejection_count) == 9
        assert sum(1 for i in items if i.extension_count) == 3


def test_every_history_moves_forward_and_ends_before_now(demo):
    with demo.uow() as uow:
        s = uow.session
        now = uow.now()
        for model, key in ((ItemEvent, ItemEvent.item_id),
                           (ObservationEvent, ObservationEvent.observation_id)):
            last: dict[int, dt.datetime] = {}
            for owner, at in s.execute(select(key, model.at).order_by(key, model.seq)):
                at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
                assert at <= now
                assert at >= last.get(owner, at)
                last[owner] = at
        # items start when the record is confirmed
        confirmed = dict(s.execute(select(Observation.id, Observation.confirmed_at)).all())
        first = s.execute(select(Item.observation_id, ItemEvent.at).join(
            Item, Item.id == ItemEvent.item_id).where(ItemEvent.event == "record",
                                                      Item.observation_id.is_not(None))).all()
        for obs, at in first:
            assert at == confirmed[obs]


def test_the_demo_fits_into_the_first_minutes_of_a_quarter(sqlite_template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(sqlite_template, path)
    app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=tmp_path / "ev"))
    moment = dt.datetime(2027, 1, 1, 0, 40, tzinfo=SH)
    with time_machine.travel(moment, tick=False):
        load_demo(app)
    with app.uow() as uow:
        s = uow.session
        assert set(s.scalars(select(Cycle.period))) == {"2026Q4", "2027Q1", "2027H1"}
        latest = max(s.scalar(select(func.max(ItemEvent.at))),
                     s.scalar(select(func.max(ObservationEvent.at))))
        latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
        assert latest <= moment
        new = s.scalars(select(ObservationEvent.at).join(
            Observation, Observation.id == ObservationEvent.observation_id).join(Cycle).where(
            Cycle.period == "2027Q1")).all()
        assert new and all((a if a.tzinfo else a.replace(tzinfo=dt.UTC))
                           >= dt.datetime(2027, 1, 1, tzinfo=SH) for a in new)
        assert s.scalar(select(func.count(Item.id))) == len(PLAN)
        overdue = s.scalar(select(func.count(Item.id)).where(
            Item.state.in_(("assigned", "rectifying")), Item.submitted.is_(False),
            Item.deadline < dt.date(2027, 1, 1)))
        assert overdue == 11
    app.dispose()


def test_the_demo_users_open_the_observation_pages(demo):
    app = create_app(sanhu=demo)
    _, now = periods(demo)
    with demo.uow() as uow:
        s = uow.session
        town = s.scalar(select(Observation.observing_unit_id).join(Cycle).where(
            Cycle.period == now, Observation.mode == "pushing").limit(1))
        mine = s.scalars(select(Observation).join(Cycle).where(
            Cycle.period == now, Observation.observing_unit_id == town)).all()
        cycle = mine[0].cycle_id
        item = s.scalar(select(Item.id).where(Item.observation_id.in_([o.id for o in mine]))
                        .limit(1))
        staff = s.scalar(text("select username from users where unit_id = :u"), {"u": town})
    client = app.test_client()
    assert sign_in(client, staff, DEMO_PASSWORD).status_code == 302
    pages = ["/observations/cycles", f"/observations/cycles/{cycle}",
             "/observations/highlights", f"/items/{item}"]
    pages += [f"/observations/{o.id}" for o in mine]
    for page in pages:
        assert client.get(page).status_code == 200, page
    html = client.get(f"/observations/{next(o.id for o in mine if o.mode == 'pushing')}")
    assert REPEAT_TEXT in html.get_data(as_text=True)


def test_each_township_has_this_quarters_plan_and_each_county_a_liaison(demo):
    _, this = periods(demo)
    with demo.uow() as uow:
        cycle_id = uow.session.scalar(select(Cycle.id).where(Cycle.period == this,
                                                             Cycle.kind == "village_quarterly"))
        plans = uow.session.scalar(select(func.count()).select_from(ObservationPlan).where(
            ObservationPlan.cycle_id == cycle_id))
        liaisons = uow.session.scalar(select(func.count()).select_from(Liaison))
        unscheduled = uow.session.scalar(select(func.count()).select_from(Observation).where(
            Observation.cycle_id == cycle_id, Observation.status == "planned",
            Observation.batch_id.is_(None)))
    assert (plans, liaisons, unscheduled) == (6, 2, 0)


def test_last_quarters_rankings_are_published_so_units_have_a_class(demo):
    last, _ = periods(demo)
    with demo.uow() as uow:
        cycle_id = uow.session.scalar(select(Cycle.id).where(Cycle.period == last,
                                                             Cycle.kind == "village_quarterly"))
        classes = Counter(uow.session.scalars(select(UnitClass.klass).where(
            UnitClass.cycle_id == cycle_id)))
        statuses = set(uow.session.scalars(select(Ranking.status).where(
            Ranking.cycle_id == cycle_id)))
    assert statuses == {"published"}
    assert classes["demonstration"] >= 6 and classes["lagging"] >= 6 and classes["middle"]
    with demo.uow() as uow:  # 以奖代补: the first township's, approved
        plans = uow.session.execute(select(FundsPlan.status, FundsPlan.cycle_id)).all()
        amounts = uow.session.scalars(select(FundsRow.amount)).all()
    assert plans == [("approved", cycle_id)] and max(amounts) == 20000


def test_the_demo_has_this_years_surveys_in_several_states(demo):
    with demo.uow() as uow:
        statuses = Counter(uow.session.scalars(select(Survey.status)))
    assert statuses["accepted"] == 6 and statuses["returned"] == 2 and statuses["draft"] == 2
    assert statuses["submitted"] == 2


def test_last_quarters_reports_are_received_waiting_returned_or_missing(demo):
    last, _ = periods(demo)
    with demo.uow() as uow:
        statuses = Counter(uow.session.scalars(select(Report.status).where(
            Report.period == last)))
        snapshot = uow.session.scalar(select(Report.snapshot).where(
            Report.status == "received").limit(1))
        county = demo_user_actor(demo, "county1")
        late = reports.overdue_for(uow, county)
        due = reports.due_on(uow, "village_quarterly", last)
        today = uow.today()
    assert statuses == {"received": 2, "submitted": 2, "returned": 2}
    assert snapshot["ranking"]["rows"] and snapshot["total"]["found"] > 0
    # the townships that did not report show on county1's board once the due date passed
    assert (len(late) >= 1) == (due < today)
