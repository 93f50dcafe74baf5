"""Results in Chromium, each step by the demo user whose job it is (issue "Results", point 11).

``town11`` computes its villages' ranking, the township's 党委书记 ``lead11`` approves
it (nobody approves what they computed), ``town11`` publishes; the 公示 link opens
signed out on a phone and takes an objection, which ``town11`` answers on record;
then ``county1`` finds the village that was 后进 in this and the previous
published cycle flagged 软弱涣散, records 认定 and adds a 一村一策 task, a ledger item.

What the journey does not do itself is built through the services beforehand:
every village of the township confirmed in two cycles after the demo's own (so
the demo's story cannot change which cycles are the latest), and the earlier
cycle ranked and published with ``LAGGING`` 后进, as it will be in the journey's.
"""

from __future__ import annotations

import datetime as dt

from browser_fixtures import DESKTOP, PHONE, demo_session, submit
from observation_helpers import start_and_fill
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.calendar.periods import period_for
from ledger.core.models import Cycle, Item, Observation, RankingRow, Unit, UnitClass, User
from ledger.instance.demo import VQ, demo_user_actor
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle, period_bounds
from ledger.results import rankings

#: the village of town11's township that comes last in both cycles
LAGGING = "北村"
#: evaluation scores of the other five villages (no 不符合 line): all ranked above it
SCORES = {"东村": 96, "西村": 92, "南村": 90, "前进村": 88, "新华社区": 86}
OBJECTION = "<script>alert('异议')</script>北村的得分偏低，请复核评分依据。"
TASK = "规范三会一课记录，每月报送乡镇党委"
ANSWER = "经复核，北村三会一课记录不全属实，排名无误。"
COVER = "本季度六个村全部完成观摩，北村后进，已安排结对帮扶。"


def next_period(period: str) -> str:
    return period_for(VQ, period_bounds(VQ, period)[1] + dt.timedelta(days=1))


def confirm_township(sanhu, period: str) -> tuple[int, dict[str, int]]:
    """Open ``period`` and confirm every village of town11's township through the services:
    ``LAGGING`` with two 不符合 lines and a low evaluation, the others clean.
    Returns the cycle id and the village ids by name."""
    town = demo_user_actor(sanhu, "town11")
    with sanhu.uow() as uow:
        cycle_id = open_cycle(uow, VQ, period).cycle_id
    with sanhu.uow() as uow:
        rows = uow.session.execute(
            select(Observation.id, Unit.name, Unit.id).join(Unit, Unit.id == Observation.unit_id)
            .where(Observation.cycle_id == cycle_id,
                   Observation.observing_unit_id == town.unit_id)).all()
    for oid, name, _ in rows:
        if name == LAGGING:
            start_and_fill(sanhu, oid, town, score=60,
                           fails={"basic:3": "三会一课记录不全", "basic:5": "党员档案缺失"})
        else:
            start_and_fill(sanhu, oid, town, score=SCORES[name])
        for step in (obs_svc.submit, obs_svc.confirm):
            with sanhu.uow() as uow:
                step(uow, oid, town)
    return cycle_id, {name: unit_id for _, name, unit_id in rows}


def publish_through_services(sanhu, cycle_id: int) -> None:
    """The earlier cycle: computed by town11, approved by lead11, published by town11."""
    town, leader = demo_user_actor(sanhu, "town11"), demo_user_actor(sanhu, "lead11")
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)


def class_of(sanhu, cycle_id: int, unit_id: int) -> str | None:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(UnitClass.klass).where(
            UnitClass.cycle_id == cycle_id, UnitClass.unit_id == unit_id))


def phone_context(browser):
    """A fresh, signed-out phone (touch, mobile viewport): nobody's cookies."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=3, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    return context, page, errors


def quarterly_report_step(town, county, township: str, period: str) -> None:
    """``town11`` opens the period's report from its published ranking, writes the cover
    note and submits it; ``county1`` follows the message it gets and receives it."""
    submit(town, town.locator("#report-link"))
    expect(town.locator("#report-status")).to_have_text("未开始")  # nobody opened it yet
    expect(town.locator("#report-ranking .report-ranking-row")).to_have_count(6)
    expect(town.locator("#report-ranking .report-ranking-row").last).to_contain_text(LAGGING)
    town.get_by_label("报送说明").fill(COVER)
    submit(town, town.get_by_role("button", name="报送", exact=True))
    expect(town.locator(".flash")).to_contain_text("已报送")
    expect(town.locator("#report-status")).to_have_text("已报送，待签收")
    expect(town.locator("#report-locked")).to_be_visible()
    expect(town.locator("#cover-text")).to_have_text(COVER)
    submit(county, county.locator("a.inbox-link"))
    submit(county, county.get_by_role("button", name=f"{township} 已报送 {period} 情况"))
    expect(county.locator("#report-title")).to_contain_text(township)
    expect(county.locator("#cover-text")).to_have_text(COVER)
    submit(county, county.get_by_role("button", name="签收"))
    expect(county.locator("#report-status")).to_have_text("已签收")
    expect(county.locator("#report-history")).to_contain_text("签收")


def test_results_from_ranking_to_publication_objection_and_weak_unit(
        demo_sanhu, demo_server, browser, screenshot):
    with demo_sanhu.uow() as uow:
        today = uow.today()
    earlier = next_period(period_for(VQ, today))  # after the demo's own two quarters
    period = next_period(earlier)
    earlier_id, villages = confirm_township(demo_sanhu, earlier)
    publish_through_services(demo_sanhu, earlier_id)
    lagging_id = villages[LAGGING]
    assert class_of(demo_sanhu, earlier_id, lagging_id) == "lagging"
    cycle_id, _ = confirm_township(demo_sanhu, period)
    with demo_sanhu.uow() as uow:
        numbers = uow.session.scalars(select(Item.number).join(
            Observation, Observation.id == Item.observation_id).where(
            Observation.cycle_id == cycle_id)).all()
        staff_names = uow.session.scalars(select(User.display_name).where(
            User.username.in_(("town11", "lead11")))).all()
    assert len(numbers) == 2  # the two 不符合 lines of LAGGING, now ledger items

    # 1. town11 computes from the cycle page; the author is offered no approval
    town_ctx, town, town_errors = demo_session(browser, demo_server, "town11", DESKTOP)
    town.goto(f"{demo_server}/observations/cycles/{cycle_id}")
    submit(town, town.locator("#ranking-link"))
    expect(town.locator("#no-ranking")).to_be_visible()
    submit(town, town.get_by_role("button", name="计算排名"))
    expect(town.locator("#ranking-status")).to_have_text("草稿")
    expect(town.locator("#ranking-table .ranking-row")).to_have_count(6)
    last = town.locator("#ranking-table .ranking-row").last
    expect(last).to_contain_text(LAGGING)
    expect(last.locator(".rank")).to_have_text("6")
    expect(last.locator(".klass")).to_have_text("后进")
    expect(town.locator("#ranking-approve")).to_have_count(0)
    ranking_url = town.url

    # 2. the 党委书记 approves
    lead_ctx, lead, lead_errors = demo_session(browser, demo_server, "lead11", DESKTOP)
    lead.goto(ranking_url)
    submit(lead, lead.get_by_role("button", name="审定"))
    expect(lead.locator("#ranking-status")).to_have_text("已审定")

    # 3. town11 publishes: the 公示 link appears
    town.reload()
    expect(town.locator("#ranking-status")).to_have_text("已审定")
    submit(town, town.get_by_role("button", name="发布公示"))
    expect(town.locator("#ranking-status")).to_have_text("已公示")
    expect(town.locator("#public-link")).to_be_visible()
    public_url = town.locator("#public-link").get_attribute("href")
    screenshot(town, "results-ranking-published")
    with demo_sanhu.uow() as uow:
        rows = uow.session.execute(
            select(RankingRow.rank, RankingRow.score, Unit.name)
            .join(Unit, Unit.id == RankingRow.unit_id)
            .where(RankingRow.ranking_id == rankings.latest(
                uow.session, cycle_id, demo_user_actor(demo_sanhu, "town11").unit_id).id)
            .order_by(RankingRow.rank)).all()

    # 4. signed out on a phone: ranks, classes and scores, nothing of the ledger
    phone_ctx, phone, phone_errors = phone_context(browser)
    assert phone_ctx.cookies() == []
    phone.goto(public_url)
    table = phone.locator("#public-ranking")
    expect(table.locator(".public-row")).to_have_count(6)
    for n, (rank, score, name) in enumerate(rows):
        row = table.locator(".public-row").nth(n)
        expect(row).to_contain_text(name)
        expect(row.locator("td").first).to_have_text(str(rank))
        expect(row.locator("td").nth(2)).to_have_text(f"{score:.2f}")
    expect(table.locator(".public-row").first.locator("td").last).to_have_text("示范")
    expect(table.locator(".public-row").last.locator("td").last).to_have_text("后进")
    expect(phone.locator(".who")).to_have_count(0)  # nobody is signed in
    expect(phone.locator("#mainnav .nav-link")).to_have_count(0)  # no way into the ledger
    shown = phone.locator("body").inner_text()
    for secret in (*numbers, *staff_names, "三会一课记录不全", "党员档案缺失"):
        assert secret not in shown
    phone.get_by_label("异议内容").fill(OBJECTION)
    submit(phone, phone.get_by_role("button", name="提交"))
    expect(phone.locator(".flash")).to_contain_text("您的异议已记录")
    objection = phone.locator("#objections .public-objection")
    expect(objection).to_have_count(1)
    expect(objection).to_contain_text(OBJECTION)  # shown as text: it was escaped
    expect(objection).to_contain_text("尚未答复。")
    expect(phone.locator("#objections script")).to_have_count(0)
    screenshot(phone, "results-public-phone")

    # 5. town11 answers on record; the answer shows on the link
    town.reload()
    held = town.locator("#publication .objection", has_text="北村的得分偏低")
    expect(held).to_contain_text(OBJECTION)
    held.get_by_label("答复内容（记录在案）").fill(ANSWER)
    submit(town, held.get_by_role("button", name="答复", exact=True))
    expect(town.locator("#publication .objection").first).to_contain_text(f"答复： {ANSWER}")
    phone.reload()
    expect(objection).to_contain_text(ANSWER)
    expect(objection).not_to_contain_text("尚未答复。")
    screenshot(phone, "results-public-answered-phone")

    # 6. the quarterly report: town11 submits it, county1 receives it
    county_ctx, county, county_errors = demo_session(browser, demo_server, "county1", DESKTOP)
    with demo_sanhu.uow() as uow:
        township = uow.session.get(Unit, demo_user_actor(demo_sanhu, "town11").unit_id).name
    quarterly_report_step(town, county, township, period)

    # 7. county1 finds the village flagged after two 后进 cycles and decides 认定 with a plan
    submit(county, county.get_by_role("link", name="软弱涣散"))
    expect(county.locator("h1")).to_have_text("软弱涣散认定")
    expect(county.locator(".weak-unit")).to_have_count(1)
    card = county.locator(f"#weak-{lagging_id}")
    expect(card.locator("h2")).to_contain_text(LAGGING)
    expect(card.locator("h2")).to_contain_text(f"{earlier}、{period} 后进")
    card.get_by_label("认定结论").select_option(label="认定")
    card.get_by_label("日期").fill(today.isoformat())
    card.get_by_label("理由").fill("连续两个季度观摩后进，组织生活不规范")
    card.get_by_label("一村一策整顿方案（认定时填写）").fill("选派第一书记，三个月内整改到位")
    submit(county, card.get_by_role("button", name="登记"))
    expect(county.locator(".flash")).to_contain_text("已保存")
    expect(card.locator(".determination strong")).to_have_text("认定")
    expect(card.locator(".determination")).to_contain_text(f"{today.year}年{today.month}月{today.day}日")
    expect(card).to_contain_text("选派第一书记")
    expect(card.locator(".task")).to_have_count(0)
    card.get_by_label("整顿任务").fill(TASK)
    card.get_by_label("整改时限").fill("10w")
    submit(county, card.get_by_role("button", name="添加任务"))
    task = card.locator(".task")
    expect(task).to_have_count(1)
    expect(task).to_contain_text("规范三会一课记录")
    expect(task).to_contain_text("已交办")
    screenshot(county, "results-weak-unit")
    submit(county, task.get_by_role("link"))
    expect(county.locator("#item-status")).to_have_text("已交办")
    expect(county.locator("body")).to_contain_text(TASK)

    with demo_sanhu.uow() as uow:
        item = uow.session.scalar(select(Item).where(Item.description == TASK))
        responsible = uow.session.get(User, item.responsible_user_id).username
        lagging_in = uow.session.scalars(select(Cycle.period).join(
            UnitClass, UnitClass.cycle_id == Cycle.id).where(
            UnitClass.unit_id == lagging_id, UnitClass.klass == "lagging")).all()
    expect(county.locator("#item-number")).to_have_text(item.number)
    assert (item.source, item.unit_id, item.state, responsible) == (
        "rectification", lagging_id, "assigned", "sec114")
    assert sorted(lagging_in)[-2:] == [earlier, period]
    assert not (town_errors or lead_errors or phone_errors or county_errors), (
        town_errors, lead_errors, phone_errors, county_errors)
    for ctx in (town_ctx, lead_ctx, phone_ctx, county_ctx):
        ctx.close()
