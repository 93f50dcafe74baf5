"""The item page says what matters first: banners at the top (sent back, overdue, an
extension awaiting a decision), the history in the order asked for, and no internal
fields for village secretaries."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import time_machine
from samples import make_png

from ledger.core.models import Item
from ledger.items import services as svc
from ledger.items.services import Upload


def text(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def banners(html: str) -> dict[str, str]:
    """The banners at the top of the page, by kind, as text."""
    block = html.split('<div id="item-banners">', 1)
    if len(block) == 1:
        return {}
    found = re.findall(r'id="banner-(\w+)">(.*?)\n  </div>', block[1].split('<div class="row')[0],
                       re.S)
    return {kind: text(body) for kind, body in found}


def history_notes(html: str) -> list[str]:
    return [text(n) for n in re.findall(r'<div class="history-note">(.*?)</div>', html)]


def timeline_class(html: str) -> str:
    return re.search(r'<ol class="(timeline[^"]*)"', html).group(1)


def rectifying(sanhu, world, description="党员活动室制度未上墙") -> int:
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description=description)
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        svc.accept(uow, item.id, world["sec_V111"], measures="制作制度牌")
    return item.id


def submit(sanhu, world, item_id, note="已上墙"):
    with sanhu.uow() as uow:
        svc.submit(uow, item_id, world["sec_V111"], note=note,
                   uploads=[Upload(make_png(), "after.png")])


def test_an_item_sent_back_says_why_who_and_when_at_the_top(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    html = signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True)
    assert banners(html) == {}  # nothing to tell yet
    submit(sanhu, world, item_id)
    with sanhu.uow() as uow:
        svc.reject(uow, item_id, world["town_T11"], reason="缺少支部委员签字")
    submit(sanhu, world, item_id, note="已补签字")
    with sanhu.uow() as uow:
        svc.reject(uow, item_id, world["town_T11"], reason="照片不清楚")
        at = uow.session.get(Item, item_id).updated_at
    html = signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True)
    shown = banners(html)
    assert list(shown) == ["rejected"]
    # the latest reason, who sent it back and when; and how often it happened
    assert "已退回，需继续整改" in shown["rejected"] and "退回 2 次" in shown["rejected"]
    assert "理由：照片不清楚" in shown["rejected"] and "缺少支部委员签字" not in shown["rejected"]
    assert "town_T11" in shown["rejected"]
    assert at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%H:%M") \
        in shown["rejected"]
    assert html.index('id="item-banners"') < html.index('id="item-description"')
    # once submitted again, the banner is gone
    submit(sanhu, world, item_id, note="已重新拍照")
    html = signed_in("town_T11").get(f"/items/{item_id}").get_data(as_text=True)
    assert "rejected" not in banners(html)


def test_an_overdue_item_says_so_at_the_top(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    with sanhu.uow() as uow:
        deadline = uow.session.get(Item, item_id).deadline
    later = dt.datetime.combine(deadline + dt.timedelta(days=5), dt.time(4), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        html = signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True)
    shown = banners(html)
    assert list(shown) == ["overdue"]
    assert re.search(r"逾期 5 天（\d+ 个工作日）", shown["overdue"])


def test_an_extension_awaiting_a_decision_is_shown_at_the_top(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    with sanhu.uow() as uow:
        later = uow.session.get(Item, item_id).deadline + dt.timedelta(days=20)
    with sanhu.uow() as uow:
        svc.request_extension(uow, item_id, world["sec_V111"], deadline=later,
                              reason="材料需外地采购")
    html = signed_in("town_T11").get(f"/items/{item_id}").get_data(as_text=True)
    shown = banners(html)
    assert list(shown) == ["extension_pending"]
    assert f"已申请延期至 {later.year}年{later.month}月{later.day}日" in shown["extension_pending"]
    assert "待审批" in shown["extension_pending"]
    assert "理由：材料需外地采购" in shown["extension_pending"]
    assert "sec_V111" in shown["extension_pending"]
    with sanhu.uow() as uow:
        svc.approve_extension(uow, item_id, world["county_K1"])
    shown = banners(signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True))
    assert list(shown) == ["extended"]
    assert "整改时限已延期 1 次" in shown["extended"]
    assert f"现为 {later.year}年{later.month}月{later.day}日" in shown["extended"]


def test_the_version_is_hidden_from_village_secretaries_only(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    secretary = signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="item-version"' not in secretary and ">版本</dt>" \
        not in secretary
    assert "最近更新" in secretary
    for staff in ("town_T11", "county_K1"):
        page = signed_in(staff).get(f"/items/{item_id}").get_data(as_text=True)
        assert re.search(r'id="item-version">3 · ', page), staff


def test_the_history_order_can_be_chosen(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    with sanhu.uow() as uow:
        svc.report_progress(uow, item_id, world["sec_V111"], note="第一次进展")
    with sanhu.uow() as uow:
        svc.report_progress(uow, item_id, world["sec_V111"], note="第二次进展")
    client = signed_in("sec_V111")
    plain = client.get(f"/items/{item_id}").get_data(as_text=True)
    # without a choice: oldest first in the page, shown newest first on a phone
    assert history_notes(plain)[-2:] == ["第一次进展", "第二次进展"]
    assert "flex-column-reverse flex-sm-column" in timeline_class(plain)
    assert f'href="/items/{item_id}?history=oldest#history"' in plain
    newest = client.get(f"/items/{item_id}?history=newest").get_data(as_text=True)
    assert history_notes(newest)[:2] == ["第二次进展", "第一次进展"]
    assert "reverse" not in timeline_class(newest)
    oldest = client.get(f"/items/{item_id}?history=oldest").get_data(as_text=True)
    assert history_notes(oldest)[-2:] == ["第一次进展", "第二次进展"]
    assert "reverse" not in timeline_class(oldest)
    assert f'href="/items/{item_id}?history=newest#history"' in oldest
    assert "history=oldest" not in oldest
    # anything else is no choice
    other = client.get(f"/items/{item_id}?history=sideways").get_data(as_text=True)
    assert "flex-column-reverse" in timeline_class(other)


def test_the_page_uses_its_full_width_when_there_is_nothing_to_do(sanhu, world, signed_in):
    item_id = rectifying(sanhu, world)
    secretary = signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="actions"' in secretary and 'class="col-lg-7 order-lg-1"' in secretary
    city = signed_in("city").get(f"/items/{item_id}").get_data(as_text=True)
    assert 'id="actions"' not in city
    assert 'class="col-lg-5' not in city and 'class="col-12"' in city


def test_an_item_listed_for_supervision_says_so_at_the_top(sanhu, world, signed_in):
    from ledger.supervision import acts

    item_id = rectifying(sanhu, world)
    with sanhu.uow() as uow:
        until = uow.today() + dt.timedelta(days=30)
        acts.place_listing(uow, [item_id], world["sup_K1"], reason="群众反映强烈",
                           term_until=until)
    shown = banners(signed_in("sec_V111").get(f"/items/{item_id}").get_data(as_text=True))
    assert list(shown) == ["listed"]
    assert f"挂牌督办 · 至 {until.year}年{until.month}月{until.day}日" in shown["listed"]
    assert "sup_K1" in shown["listed"]
