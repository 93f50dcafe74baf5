"""An observation from plan to ledger in Chromium (issue 10, point 12).

``town11`` plans a batch for next quarter's visit to 东村 (sec111's village),
records the visit on a tablet — 听查看谈 notes, a photo, two 不符合 lines, an
evaluation score, a 亮点 — submits and confirms; the two failed lines are ledger
items that ``sec111`` sees on a phone, and the highlights page shows the 亮点.
Every save of the record page happens in the background; the test waits for
the "已保存" the user waits for.
"""

from __future__ import annotations

import re

from browser_fixtures import PHONE, demo_session, submit
from playwright.sync_api import expect
from samples import make_png
from sqlalchemy import select

from ledger.core.models import Item, Observation, User
from ledger.observations.cycles import open_cycle

TABLET = {"width": 1024, "height": 1366}
PERIOD = "2027Q1"


def saved(form) -> None:
    expect(form.locator(".save-state")).to_have_text("已保存")


def test_an_observation_from_plan_to_ledger_in_the_browser(demo_sanhu, demo_server, browser,
                                                           screenshot, tmp_path):
    with demo_sanhu.uow() as uow:
        cycle = open_cycle(uow, "village_quarterly", PERIOD)
    with demo_sanhu.uow() as uow:
        village = uow.session.scalar(select(User).where(User.username == "sec111")).unit
        oid = uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle.cycle_id, Observation.unit_id == village.id))
    photo = tmp_path / "活动室.png"
    photo.write_bytes(make_png(21))

    # 1. the township plans a batch and schedules the village
    ctx, town, errors = demo_session(browser, demo_server, "town11", TABLET)
    town.goto(f"{demo_server}/observations/cycles/{cycle.cycle_id}")
    town.get_by_role("link", name="本单位观摩方案、分组和日期").click()
    expect(town.locator("h1")).to_contain_text("观摩方案")
    batch = town.locator("#new-batch")
    batch.get_by_label("批次名称").fill("第一批")
    batch.get_by_label("日期").fill("2027-01-12")
    submit(town, batch.get_by_role("button", name="添加批次"))
    row = town.locator(f"tr.plan-target[data-unit='{village.code}']")
    row.get_by_role("checkbox").check()
    town.get_by_label("批次", exact=True).select_option(label="第一批 2027年1月12日")
    submit(town, town.get_by_role("button", name="安排勾选的对象"))
    expect(row.locator(".t-day")).to_have_text("2027年1月12日")
    screenshot(town, "observation-plan")

    # 2. in the village, on a tablet: start, 听查看谈, two failed lines, a score, a 亮点
    submit(town, row.get_by_role("link", name=village.name))
    expect(town.locator("#obs-status")).to_have_text("计划中")
    submit(town, town.get_by_role("button", name="开始观摩"))
    expect(town.locator("#obs-status")).to_have_text("观摩中")
    for name, text in (("listen", "听取村党支部书记汇报三会一课落实情况"),
                       ("check", "查阅支部会议记录，缺少第三季度党课记录"),
                       ("look", "实地查看党员活动室，制度未上墙"),
                       ("talk", "与3名党员群众代表谈话，反映良好")):
        section = town.locator(f"#section-{name}")
        section.locator("textarea[name=body]").fill(text)
        section.locator("textarea[name=body]").blur()
        saved(section.locator("form.autosave"))
    look = town.locator("#section-look")
    look.locator("input[type=file]").set_input_files(str(photo))
    submit(town, look.get_by_role("button", name="添加照片"))
    expect(town.locator("#section-look .thumbs img")).to_have_count(1)
    lines = town.locator(".checklist-line form.line-form")
    for n, note in ((0, "党员活动室未悬挂入党誓词"), (1, "三会一课记录不全")):
        form = lines.nth(n)
        form.locator("label.btn", has_text="不符合").click()
        saved(form)
        form.locator("textarea[name=note]").fill(note)
        form.locator("textarea[name=note]").blur()
        saved(form)
    expect(town.locator("#open-count")).to_have_text("40 项未填")
    submit(town, town.get_by_role("button", name="其余全部标为符合"))
    expect(town.locator("#open-count")).to_have_text("0 项未填")
    evaluation = town.locator("#participants form.autosave").first
    evaluation.locator("input[name=score]").fill("88")
    evaluation.locator("input[name=score]").blur()
    saved(evaluation)
    highlight = town.locator("#section-highlights")
    highlight.locator("textarea[name=body]").fill("推行党员积分制管理，每月公开积分")
    highlight.locator("textarea[name=body]").blur()
    saved(highlight.locator("form.autosave"))
    screenshot(town, "observation-record-tablet")
    submit(town, town.get_by_role("button", name="提交记录"))
    expect(town.locator("#obs-status")).to_have_text("已提交")
    submit(town, town.get_by_role("button", name="确认记录"))
    expect(town.locator("#obs-status")).to_have_text("已确认")
    expect(town.locator("#findings .finding")).to_have_count(2)
    expect(town.locator("#score-total")).to_have_text(re.compile(r"^\d+\.\d\d$"))
    screenshot(town, "observation-confirmed")
    with demo_sanhu.uow() as uow:
        numbers = uow.session.scalars(select(Item.number).where(
            Item.observation_id == oid).order_by(Item.id)).all()
    assert len(numbers) == 2

    # 3. the village secretary sees the record and its two items on a phone
    sec_ctx, phone, phone_errors = demo_session(browser, demo_server, "sec111", PHONE)
    phone.goto(f"{demo_server}/observations/{oid}")
    expect(phone.locator("#obs-status")).to_have_text("已确认")
    expect(phone.locator("#findings .finding")).to_have_count(2)
    expect(phone.locator("form.autosave")).to_have_count(0)
    submit(phone, phone.locator("#findings a", has_text=numbers[0]))
    expect(phone.locator("#item-number")).to_have_text(numbers[0])
    expect(phone.locator("#item-observation")).to_be_visible()
    screenshot(phone, "observation-item-secretary-phone")

    # 4. the highlights page shows the 亮点 to everyone
    phone.goto(f"{demo_server}/observations/highlights?q=积分制")
    expect(phone.locator(".highlight .hl-text").first).to_contain_text("推行党员积分制管理")
    screenshot(phone, "observation-highlights-phone")
    assert errors == [] and phone_errors == []
    ctx.close()
    sec_ctx.close()
