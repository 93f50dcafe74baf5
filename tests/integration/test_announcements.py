"""Every hand-over of an item is announced once to the people it concerns, on both databases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select, update

from ledger.core.errors import Conflict, PermissionDenied
from ledger.core.models import Delivery, Notification, User
from ledger.items import services as svc
from ledger.notify import reminders

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%\n%%EOF\n"


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 9, 0, tzinfo=SH)


def inboxes(app, world) -> dict[str, Counter]:
    """Every user's notifications as a count of (kind, title), by user name."""
    who = {actor.id: name for name, actor in world.actors.items()}
    with app.uow() as uow:
        rows = uow.session.execute(select(Notification.user_id, Notification.kind,
                                          Notification.title)).all()
    out: dict[str, Counter] = {}
    for user_id, kind, title in rows:
        out.setdefault(who[user_id], Counter())[(kind, title)] += 1
    return out


def new_item(app, world, village: str = "V111", *, assign: bool = True) -> svc.ItemResult:
    town = world[f"town_T{village[1:3]}"]
    with app.uow() as uow:
        item = svc.record_finding(uow, town, unit_id=world.units[village].id,
                                  description=f"{village} 三会一课记录不全")
    if assign:
        with app.uow() as uow:
            item = svc.assign(uow, item.id, town, responsible_user_id=world[f"sec_{village}"].id,
                              category="deadline", deadline=dt.date(2026, 11, 30))
    return item


def test_the_whole_journey_tells_each_person_once_and_never_the_actor(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    sec, town, county = w["sec_V111"], w["town_T11"], w["county_K1"]
    with time_machine.travel(at(2), tick=False):
        item = new_item(app, w, assign=False)  # recording announces nothing
        assert inboxes(app, w) == {}
        steps = [
            (svc.assign, town, dict(responsible_user_id=sec.id, category="deadline",
                                    deadline=dt.date(2026, 11, 30))),
            (svc.accept, sec, dict(measures="逐月补记")),
            (svc.submit, sec, dict(note="已补齐", uploads=[svc.Upload(PDF, "a.pdf")])),
            (svc.reject, town, dict(reason="缺少十月记录")),
            (svc.submit, sec, dict(note="十月已补", uploads=[svc.Upload(PDF, "b.pdf")])),
            (svc.verify, town, dict(method="records", note="记录齐全")),
            (svc.close, county, {}),
            (svc.reopen, county, dict(reason="回头看发现又缺")),
            (svc.request_extension, sec, dict(deadline="2026-12-15", reason="人手不足")),
            (svc.approve_extension, county, {}),
            (svc.request_extension, sec, dict(deadline="2026-12-31", reason="还需时间")),
            (svc.deny_extension, county, dict(reason="不再延期")),
        ]
        for service, actor, kwargs in steps:
            with app.uow() as uow:
                service(uow, item.id, actor, **kwargs)
    n = item.number
    assert inboxes(app, w) == {
        "sec_V111": Counter({("assigned", f"交办：{n}"): 1,
                             ("rejected", f"退回重新整改：{n}"): 1,
                             ("closed", f"已销号：{n}"): 1,
                             ("reopened", f"回头看，重新整改：{n}"): 1,
                             ("ext_approved", f"延期已批准：{n}"): 1,
                             ("ext_denied", f"延期被驳回：{n}"): 1}),
        "town_T11": Counter({("submitted", f"申请销号，待验收：{n}"): 2,
                             ("closed", f"已销号：{n}"): 1,
                             ("reopened", f"回头看，重新整改：{n}"): 1}),
        "county_K1": Counter({("verified", f"已验收，待销号：{n}"): 1,
                              ("ext_requested", f"申请延期：{n}"): 2}),
    }
    with app.uow() as uow:
        bodies = dict(uow.session.execute(select(Notification.kind, Notification.body).where(
            Notification.kind.in_(["rejected", "ext_denied", "ext_approved"]))).all())
        keys = uow.session.scalars(select(Notification.dedupe_key)).all()
        inbox_copies = uow.session.scalar(select(func.count(Delivery.id)).where(
            Delivery.channel == "inbox", Delivery.status == "sent"))
    assert "退回理由：缺少十月记录" in bodies["rejected"]
    assert "驳回理由：不再延期" in bodies["ext_denied"]
    assert "新的整改时限：2026年12月15日" in bodies["ext_approved"]
    assert len(keys) == len(set(keys)) == inbox_copies == 13


def test_a_township_item_goes_to_the_county_for_verification(any_sanhu, any_world):
    """Township staff rectify their own township's item; the county verifies it."""
    app, w = any_sanhu, any_world
    town, county = w["town_T11"], w["county_K1"]
    with time_machine.travel(at(2), tick=False):
        with app.uow() as uow:
            item = svc.record_finding(uow, county, unit_id=w.units["T11"].id,
                                      description="乡镇党委会议记录不全")
        for service, actor, kwargs in [
            (svc.assign, county, dict(responsible_user_id=town.id, category="immediate",
                                      deadline=dt.date(2026, 11, 30))),
            (svc.accept, town, dict(measures="补记")),
            (svc.submit, town, dict(note="已补", uploads=[svc.Upload(PDF, "a.pdf")])),
        ]:
            with app.uow() as uow:
                service(uow, item.id, actor, **kwargs)
    got = {name: sorted(kind for kind, _ in inbox) for name, inbox in inboxes(app, w).items()}
    assert got == {"town_T11": ["assigned"], "county_K1": ["submitted"]}


def test_reassigning_tells_the_new_responsible_person(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with time_machine.travel(at(2), tick=False):
        item = new_item(app, w)
        with app.uow() as uow:
            svc.reassign(uow, item.id, w["county_K1"], responsible_user_id=w["sec_V112"].id,
                         unit_id=w.units["V112"].id, reason="责任村调整")
    got = inboxes(app, w)
    assert got == {"sec_V111": Counter({("assigned", f"交办：{item.number}"): 1}),
                   "sec_V112": Counter({("reassigned", f"改派：{item.number}"): 1})}


def test_the_actor_is_not_told_of_their_own_act(any_sanhu, any_world):
    """County staff may verify a village's item too; they would be the ones to close it."""
    app, w = any_sanhu, any_world
    sec, county = w["sec_V111"], w["county_K1"]
    with time_machine.travel(at(2), tick=False):
        item = new_item(app, w)
        for service, actor, kwargs in [
            (svc.accept, sec, dict(measures="补记")),
            (svc.submit, sec, dict(note="已补", uploads=[svc.Upload(PDF, "a.pdf")])),
            (svc.verify, county, dict(method="onsite", note="属实")),
        ]:
            with app.uow() as uow:
                service(uow, item.id, actor, **kwargs)
    assert "county_K1" not in inboxes(app, w)


def test_a_refused_or_stale_event_announces_nothing(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with time_machine.travel(at(2), tick=False):
        item = new_item(app, w, assign=False)
        with app.uow() as uow, pytest.raises(Conflict):  # the form was read before a change
            svc.assign(uow, item.id, w["town_T11"], responsible_user_id=w["sec_V111"].id,
                       category="deadline", deadline=dt.date(2026, 11, 30),
                       expected_version=item.version - 1)
        with app.uow() as uow, pytest.raises(PermissionDenied):  # a secretary may not assign
            svc.assign(uow, item.id, w["sec_V111"], responsible_user_id=w["sec_V111"].id,
                       category="deadline", deadline=dt.date(2026, 11, 30))
    assert inboxes(app, w) == {}
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count(Delivery.id))) == 0


def test_a_disabled_recipient_is_not_told(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    sec = w["sec_V111"]
    with time_machine.travel(at(2), tick=False):
        item = new_item(app, w)
        with app.uow() as uow:
            svc.accept(uow, item.id, sec, measures="补记")
        with app.uow() as uow:
            uow.session.execute(update(User).where(User.id == w["town_T11"].id)
                                .values(active=False))
            uow.commit()
        with app.uow() as uow:
            svc.submit(uow, item.id, sec, note="已补", uploads=[svc.Upload(PDF, "a.pdf")])
    assert set(inboxes(app, w)) == {"sec_V111"}


def test_e_mail_follows_each_users_choice_and_the_inbox_has_everything(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        uow.session.execute(update(User).values(email="someone@example.org"))
        uow.commit()
        reminders.set_notify_settings(uow, smtp_host="127.0.0.1", email_enabled=True)
    with app.uow() as uow:
        reminders.set_opt_outs(uow, w["sec_V112"].id, ["assigned"], {("assigned", "email")})
    with time_machine.travel(at(2), tick=False):
        new_item(app, w, "V111")
        new_item(app, w, "V112")
    with app.uow() as uow:
        rows = uow.session.execute(
            select(User.username, Delivery.channel)
            .join(Notification, Notification.user_id == User.id)
            .join(Delivery, Delivery.notification_id == Notification.id)).all()
    assert sorted(rows) == [("sec_V111", "email"), ("sec_V111", "inbox"),
                            ("sec_V112", "inbox")]


def test_a_bulk_assignment_tells_each_item_in_the_inbox_and_e_mails_one_digest(any_sanhu,
                                                                              any_world):
    app, w = any_sanhu, any_world
    town, sec = w["town_T11"], w["sec_V111"]
    with app.uow() as uow:
        uow.session.execute(update(User).values(email="someone@example.org"))
        uow.commit()
        reminders.set_notify_settings(uow, smtp_host="127.0.0.1", email_enabled=True)
    with time_machine.travel(at(2), tick=False):
        items = [new_item(app, w, assign=False) for _ in range(3)]
        lone = new_item(app, w, "V121", assign=False)
        results = svc.bulk_assign(app.uow, [i.id for i in items] + [items[0].id], town,
                                  responsible_user_id=sec.id, category="deadline",
                                  deadline=dt.date(2026, 11, 30))
        [single] = svc.bulk_assign(app.uow, [lone.id], w["town_T12"],
                                   responsible_user_id=w["sec_V121"].id, category="deadline",
                                   deadline=dt.date(2026, 11, 30))
    assert [r.ok for r in results] == [True, True, True, False] and single.ok
    assert inboxes(app, w) == {
        "sec_V111": Counter({("assigned", f"交办：{i.number}"): 1 for i in items}
                            | {("assigned", "交办：共 3 项"): 1}),
        "sec_V121": Counter({("assigned", f"交办：{lone.number}"): 1})}
    with app.uow() as uow:
        mails = uow.session.execute(
            select(User.username, Notification.title, Notification.body)
            .join(Notification, Notification.user_id == User.id)
            .join(Delivery, Delivery.notification_id == Notification.id)
            .where(Delivery.channel == "email").order_by(User.username)).all()
        assert reminders.unread_count(uow, sec.id) == 3  # the digest is only a copy
    assert [(user, title) for user, title, _ in mails] == [
        ("sec_V111", "交办：共 3 项"), ("sec_V121", f"交办：{lone.number}")]
    assert all(i.number in mails[0].body for i in items)
