"""On the account page each user chooses which hand-overs reach them by e-mail or webhook."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update
from web_fixtures import csrf_token

from ledger.core.models import Delivery, Notification, User
from ledger.items import services
from ledger.items.announce import KINDS
from ledger.notify import reminders


def boxes(html: str) -> dict[str, bool]:
    """The account page's choice boxes: name → ticked."""
    return {m.group(1): "checked" in m.group(0)
            for m in re.finditer(r'<input[^>]*name="([a-z_]+:(?:email|webhook))"[^>]*>', html)}


def everything_but(*off: str) -> dict[str, str]:
    return {f"{kind}:{channel}": "on" for kind in KINDS for channel in ("email", "webhook")
            if f"{kind}:{channel}" not in off}


def assign_to_sec_v121(sanhu, world) -> int:
    town = world["town_T12"]
    with sanhu.uow() as uow:
        item = services.record_finding(uow, town, unit_id=world.units["V121"].id,
                                       description="党员活动室制度未上墙")
    with sanhu.uow() as uow:
        services.assign(uow, item.id, town, responsible_user_id=world["sec_V121"].id,
                        category="deadline", deadline=dt.date.today() + dt.timedelta(days=30))
    return item.id


def test_turning_e_mail_off_for_a_kind_keeps_it_in_the_inbox_only(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        uow.session.execute(update(User).values(email="someone@example.org"))
        uow.commit()
        reminders.set_notify_settings(uow, smtp_host="127.0.0.1", email_enabled=True)
    client = signed_in("sec_V121")
    html = client.get("/account").get_data(as_text=True)
    assert "问题整改消息" in html
    assert len(boxes(html)) == 2 * len(KINDS) and all(boxes(html).values())

    token = csrf_token(client, "/account")
    response = client.post("/account/notifications",
                           data={**everything_but("assigned:email"), "csrf_token": token})
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "消息接收选择已保存" in html
    ticked = boxes(html)
    assert ticked.pop("assigned:email") is False and all(ticked.values())

    item_id = assign_to_sec_v121(sanhu, world)
    with sanhu.uow() as uow:
        channels = uow.session.scalars(
            select(Delivery.channel).join(Notification,
                                          Notification.id == Delivery.notification_id)
            .where(Notification.item_id == item_id)).all()
    assert channels == ["inbox"]
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "交办：" in inbox and "已交办" in inbox


def test_the_choices_need_the_csrf_token_and_are_the_users_own(sanhu, world, signed_in):
    client = signed_in("sec_V121")
    assert client.post("/account/notifications", data=everything_but()).status_code == 400
    other = signed_in("sec_V111")
    token = csrf_token(other, "/account")
    other.post("/account/notifications", data={"csrf_token": token})  # everything off
    assert all(boxes(client.get("/account").get_data(as_text=True)).values())
    assert not any(boxes(other.get("/account").get_data(as_text=True)).values())
