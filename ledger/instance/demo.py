"""A demo city for trying Sanhu: 2 counties × 3 townships × 6 villages.

Users for every role share one printed demo password.  About a hundred ledger
items are played through the real services over the past weeks (with a
backfill clock), so every state and sub-step appears, including overdue,
rejected-once and extended items, each with a true history.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import func, select

from ledger.catalog.standards import current_catalog
from ledger.core.actors import Actor
from ledger.core.models import Observation, Role, Standard, Unit, User
from ledger.instance.bootstrap import Sanhu
from ledger.items import services as svc
from ledger.observations.cycles import open_cycle, period_for
from ledger.org.directory import add_unit, add_user

DEMO_PASSWORD = "sanhu-demo-2026"
COUNTIES = ["东山县", "西河县"]
TOWNSHIPS = ["城关镇", "青石乡", "柳林镇"]
VILLAGES = ["东村", "西村", "南村", "北村", "前进村", "新华社区"]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a2dd7b5a0000000049454e44ae426082"
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    unit: str


def is_empty(sanhu: Sanhu) -> bool:
    with sanhu.uow() as uow:
        return not uow.session.scalar(select(func.count(User.id)))


def _clock(start: dt.datetime):
    """A backfill clock: each call is a few minutes after the previous one."""
    state = {"now": start}

    def tick() -> dt.datetime:
        state["now"] += dt.timedelta(minutes=7)
        return state["now"]

    return state, tick


def load_demo(sanhu: Sanhu, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo organisation, users, cycles and items; returns the logins."""
    rnd = random.Random(seed)
    logins: list[DemoLogin] = []
    secretaries: dict[int, Actor] = {}
    township_staff: dict[int, Actor] = {}
    county_staff: dict[int, Actor] = {}
    with sanhu.uow() as uow:
        s = uow.session

        def user(username: str, name: str, role: Role, unit: Unit, post: str) -> Actor:
            u = add_user(s, username=username, display_name=name, role=role, unit=unit,
                         password=DEMO_PASSWORD, post=post, email=f"{username}@example.org")
            logins.append(DemoLogin(username, role.value, unit.name))
            return Actor.of(u, unit)

        city = add_unit(s, code="139900000000", name="示范市", level="city")
        user("admin", "系统管理员", Role.ADMIN, city, "管理员")
        user("city", "市委组织部 王科长", Role.CITY_STAFF, city, "组织科科长")
        user("supervisor", "市督查组 李组长", Role.SUPERVISOR, city, "督查组组长")
        for ci, cname in enumerate(COUNTIES, start=1):
            county = add_unit(s, code=f"1399{ci:02d}000000", name=cname, level="county",
                              parent=city)
            county_staff[county.id] = user(f"county{ci}", f"{cname}委组织部 张干事",
                                           Role.COUNTY_STAFF, county, "组织部干事")
            for ti, tname in enumerate(TOWNSHIPS, start=1):
                town = add_unit(s, code=f"1399{ci:02d}{ti:03d}000", name=tname,
                                level="township", parent=county)
                township_staff[town.id] = user(f"town{ci}{ti}", f"{tname}党委 组织委员",
                                               Role.TOWNSHIP_STAFF, town, "组织委员")
                for vi, vname in enumerate(VILLAGES, start=1):
                    village = add_unit(s, code=f"1399{ci:02d}{ti:03d}{vi:03d}", name=vname,
                                       level="village", parent=town)
                    secretaries[village.id] = user(f"sec{ci}{ti}{vi}", f"{vname}党支部书记",
                                                   Role.VILLAGE_SECRETARY, village, "党支部书记")
        uow.commit()
    with sanhu.uow() as uow:
        today = uow.today()
        quarter = open_cycle(uow, "village_quarterly", period_for("village_quarterly", today))
    with sanhu.uow() as uow:
        open_cycle(uow, "township_half_yearly", period_for("township_half_yearly", today))
    _play_items(sanhu, rnd, quarter.cycle_id, secretaries, township_staff, county_staff)
    return logins


# how many items end in each status, and what extra happens on the way
PLAN = (
    [("found", {})] * 12
    + [("assigned", {})] * 8 + [("assigned", {"overdue": True})] * 5
    + [("assigned", {"extension": "pending"})] * 2
    + [("rectifying", {})] * 8 + [("rectifying", {"overdue": True})] * 6
    + [("rectifying", {"rejected": True})] * 4 + [("rectifying", {"extension": "approved"})] * 3
    + [("submitted", {})] * 12 + [("submitted", {"rejected": True})] * 3
    + [("verified", {})] * 10
    + [("closed", {})] * 14 + [("closed", {"rejected": True})] * 2 + [("dismissed", {})] * 4
)


def _play_items(sanhu: Sanhu, rnd: random.Random, cycle_id: int, secretaries: dict,
                township_staff: dict, county_staff: dict) -> None:
    real_now = dt.datetime.now(dt.UTC)
    with sanhu.uow() as uow:
        s = uow.session
        catalog = current_catalog(s)
        standards = s.scalars(select(Standard).where(
            Standard.catalog_version_id == catalog.id, Standard.set == "basic")).all()
        observations = {o.unit_id: o.id for o in s.scalars(
            select(Observation).where(Observation.cycle_id == cycle_id))}
        villages = {u.id: u for u in s.scalars(select(Unit).where(Unit.level == "village"))}
    village_ids = sorted(villages)
    for n, (target, extra) in enumerate(PLAN):
        vid = village_ids[n % len(village_ids)]
        village = villages[vid]
        sec, town, county = secretaries[vid], township_staff[village.township_id], \
            county_staff[village.county_id]
        overdue = extra.get("overdue", False)
        # overdue items started long ago with short deadlines; others recently
        start = real_now - dt.timedelta(days=rnd.randint(40, 60) if overdue
                                        else rnd.randint(8, 20))
        clock_state, tick = _clock(start)
        standard = rnd.choice(standards)

        def step(fn, *args, tick=tick, **kwargs):
            with sanhu.uow(clock=tick) as uow:
                return fn(uow, *args, **kwargs)

        recorder = town if n % 3 else county
        item = step(svc.record_finding, recorder, unit_id=vid, standard_id=standard.id,
                    observation_id=observations.get(vid),
                    description=f"{village.name}:{standard.title}方面存在不足({standard.text[:30]}…)",
                    severity=rnd.choice(svc.SEVERITIES))
        if target == "found":
            continue
        if target == "dismissed":
            step(svc.dismiss, item.id, county, reason="与已登记问题重复", kind="duplicate")
            continue
        deadline = "10w" if overdue else f"{rnd.randint(25, 40)}w"
        step(svc.assign, item.id, recorder, responsible_user_id=sec.id,
             category=rnd.choice(svc.CATEGORIES), deadline=deadline)
        if extra.get("extension") == "pending" and target == "assigned":
            step(svc.request_extension, item.id, sec, reason="需等待上级资金下拨",
                 deadline=(real_now + dt.timedelta(days=60)).date())
        if target == "assigned":
            continue
        step(svc.accept, item.id, sec, measures="召开支委会研究整改方案,明确专人负责,限期完成。")
        clock_state["now"] += dt.timedelta(days=2)
        step(svc.report_progress, item.id, sec, note="已完成整改方案,正在推进。",
             uploads=[svc.Upload(PNG, "整改前.png")])
        if extra.get("extension") == "approved":
            step(svc.request_extension, item.id, sec, reason="工程量大,需延期",
                 deadline=(real_now + dt.timedelta(days=45)).date())
            step(svc.approve_extension, item.id, county, note="同意延期")
        if extra.get("rejected"):
            clock_state["now"] += dt.timedelta(days=1)
            step(svc.submit, item.id, sec, note="已整改完毕",
                 uploads=[svc.Upload(PNG, "整改后.png")])
            step(svc.reject, item.id, town, reason="佐证材料不足,请补充整改后照片和会议记录")
        if target == "rectifying":
            continue
        clock_state["now"] += dt.timedelta(days=1)
        step(svc.submit, item.id, sec, note="已按要求整改到位",
             uploads=[svc.Upload(PNG + bytes([n % 256]), "整改后照片.png")])
        if target == "submitted":
            continue
        step(svc.verify, item.id, town, method="实地查看", note="整改到位")
        if target == "verified":
            continue
        step(svc.close, item.id, county, note="同意销号")


def demo_user_actor(sanhu: Sanhu, username: str) -> Actor:
    with sanhu.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        return Actor.of(user, uow.session.get(Unit, user.unit_id))
