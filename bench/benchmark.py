"""Sanhu benchmark: build a province-shaped ledger and report the SPEC §14 figures.

Run from the repository root::

    .venv/bin/python -m bench.benchmark                       # a tenth of a province, both DBs
    .venv/bin/python -m bench.benchmark --db sqlite --db postgres \\
        --villages 25000 --items 2000000 --json bench-full.json

For every database the benchmark

1. builds the data (setup, timed but not a target): migrates a fresh database
   with ``ledger.migrate.upgrade``, bulk-inserts the organisation (city →
   counties → townships → villages, ancestor ids filled as ``ledger.org.add_unit``
   does), one user per unit and role (one argon2 hash reused), twelve quarterly
   and six half-yearly cycles with their observations, and the ledger items
   with about five history entries each and their evidence rows.  Secondary
   indexes and constraints of the three big tables are dropped before the load
   and re-created afterwards (from the database's own DDL, or from the model
   for PostgreSQL's partial indexes), and checked to equal the migrated ones.
   ``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE``) runs at the end;
2. measures, in a fresh process, the operations of SPEC §14 that exist so far,
   through the real services and queries (one unit of work per call, as a web
   request would use them).

See ``bench/README.md`` for what each figure means and the figures measured.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import cProfile
import datetime as dt
import io
import json
import math
import multiprocessing
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, event, func, insert, select, text

from ledger import cycles, queries, services
from ledger.actors import Actor
from ledger.bootstrap import bootstrap
from ledger.db import normalise_url
from ledger.errors import DomainError
from ledger.migrate import upgrade
from ledger.models import (
    Cycle,
    Evidence,
    Item,
    ItemEvent,
    NumberSequence,
    Observation,
    Standard,
    Unit,
    User,
)
from ledger.org import hash_password
from ledger.search import terms
from ledger.settings import Settings
from ledger.standards import current_catalog

ZONE = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BIG_TABLES = ("items", "item_events", "evidence")

# --- the shape of the data ----------------------------------------------------

#: final states and their share of all items, oldest-to-newest tilt (sums to 0)
STATES = ("closed", "verified", "submitted", "rectifying", "assigned", "found")
MIX = (0.30, 0.10, 0.15, 0.25, 0.10, 0.10)
TILT = (-0.50, -0.10, 0.00, 0.20, 0.20, 0.20)
#: share of active (assigned / rectifying, not submitted) items that are overdue
OVERDUE_SHARE = 0.08
DISMISSED_SHARE = 0.05  # of closed items: dismissed (撤销) instead of rectified
REJECTED_SHARE = 0.20  # of submitted-or-later items: rejected once before
SOURCES = (("observation", 0.80), ("inspection", 0.10), ("patrol", 0.05),
           ("self_check", 0.05))

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
            "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
GIVEN = ("建国", "秀英", "志强", "丽娟", "海燕", "国庆", "春梅", "德华", "建华", "玉兰", "文斌",
         "晓东", "红霞", "永刚", "桂芳", "明亮", "淑珍", "卫东", "爱民", "振华", "小红", "俊杰",
         "光辉", "金凤", "立新", "雪梅", "保国", "长青", "凤英", "兴旺")
PLACES = ("东山", "西河", "南岭", "北川", "青石", "柳林", "白云", "红旗", "清水", "长安", "太平",
          "永安", "新华", "黄土", "石门", "杨柳", "梨园", "桃源", "凤凰", "龙泉", "金沙", "银杏",
          "双河", "三里", "五星", "马桥", "高家", "李庄", "王屯", "张湾", "前进", "胜利", "和平",
          "团结", "丰收", "幸福", "光明", "望山", "临江", "古城")
PROBLEMS = (
    "三会一课记录不完整，会议记录缺少参会人员签到",
    "党员活动室标识不规范，制度上墙内容陈旧",
    "村务公开栏未按季度更新，财务公开滞后",
    "发展党员程序不规范，培养考察材料缺失",
    "组织生活会未按时召开，批评与自我批评流于形式",
    "主题党日活动开展不经常，活动内容单一",
    "党员档案管理混乱，部分党员组织关系未转接",
    "四议两公开工作法落实不到位，重大事项未经党员大会审议",
    "党费收缴不及时，收缴台账登记不全",
    "村级活动场所功能不全，日常开放不正常",
    "软弱涣散问题整改不彻底，班子分工不明确",
    "流动党员管理不到位，联系方式底册未更新",
    "集体经济发展思路不清，项目推进缓慢",
    "便民服务站值班制度未落实，服务台账缺失",
    "党员积分管理未开展，先锋作用发挥不明显",
    "村规民约未修订，红白理事会作用发挥不够",
)
DETAILS = ("现场查看发现", "查阅资料发现", "群众反映", "座谈中了解到", "抽查三个月台账发现",
           "与上次观摩相比仍未改进", "暗访时发现", "评议中多名党员提出")
MEASURES = ("立即补齐会议记录并建立签到制度，支部书记负责，每月检查一次",
            "重新制作制度牌并上墙，更新公开栏内容，按季度公开",
            "组织专题学习，对照标准逐项整改，形成整改台账",
            "完善档案资料，落实专人管理，乡镇党委督促检查",
            "召开支委会研究整改方案，明确责任人和时限")
NOTES = ("已完成部分整改，正在补充资料", "已召开支委会部署整改", "公开栏已更新，照片见附件",
         "资料已整理归档", "整改进度过半，预计按期完成", "已上报乡镇党委审核")
#: words for the text-search cases (each occurs in some share of descriptions)
SEARCH_WORDS = ("三会一课", "公开栏", "发展党员", "党费", "活动场所", "台账", "流动党员", "积分")


def build_shape(villages: int) -> dict:
    """Counties, townships and villages at SPEC §13 proportions (100 : 1,500 : 25,000)."""
    v = max(1, villages)
    c = max(1, round(v / 250))
    t = max(c, round(v * 1500 / 25000))
    return {"counties": c, "townships": t, "villages": v}


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, q: int) -> dt.date:
    return dt.date(year, 3 * (q - 1) + 1, 1)


def shift_quarter(year: int, q: int, n: int) -> tuple[int, int]:
    k = year * 4 + (q - 1) + n
    return k // 4, k % 4 + 1


def local_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


class Org:
    """Ids, codes and names of units and users, computed (not queried) for speed."""

    def __init__(self, villages: int) -> None:
        shape = build_shape(villages)
        self.nc, self.nt, self.nv = shape["counties"], shape["townships"], shape["villages"]
        self.city = 1
        self.county_ids = [2 + i for i in range(self.nc)]
        self.township_ids = [2 + self.nc + i for i in range(self.nt)]
        self.village_ids = [2 + self.nc + self.nt + i for i in range(self.nv)]
        self.county_of_t = [i * self.nc // self.nt for i in range(self.nt)]
        self.township_of_v = [i * self.nt // self.nv for i in range(self.nv)]
        # users: city staff, supervisor, admin, then one per county / township / village
        self.city_staff_user, self.supervisor_user, self.admin_user = 1, 2, 3
        self.county_user = [4 + i for i in range(self.nc)]
        self.township_user = [4 + self.nc + i for i in range(self.nt)]
        self.secretary_user = [4 + self.nc + self.nt + i for i in range(self.nv)]
        # official-looking 12-digit codes: 13 | county (4) | township (3) | village (3)
        self.county_code = [f"13{1 + i // 100:02d}{i % 100:02d}000000" for i in range(self.nc)]
        local_t: dict[int, int] = defaultdict(int)
        self.township_code = []
        for i in range(self.nt):
            c = self.county_of_t[i]
            local_t[c] += 1
            self.township_code.append(f"{self.county_code[c][:6]}{local_t[c]:03d}000")
        local_v: dict[int, int] = defaultdict(int)
        self.village_code = []
        for i in range(self.nv):
            t = self.township_of_v[i]
            local_v[t] += 1
            self.village_code.append(f"{self.township_code[t][:9]}{local_v[t]:03d}")

    @staticmethod
    def person(i: int) -> str:
        return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]

    @staticmethod
    def place(i: int, suffix: str) -> str:
        n = len(PLACES)
        return PLACES[i % n] + (PLACES[(i // n) % n] if i >= n else "") + suffix

    def unit_rows(self) -> list[dict]:
        rows = [dict(id=1, code="130000000000", name="示范省(市)", level="city", parent_id=None,
                     active=True, city_id=1, county_id=None, township_id=None, village_id=None)]
        for i, uid in enumerate(self.county_ids):
            rows.append(dict(id=uid, code=self.county_code[i], name=self.place(i, "县"),
                             level="county", parent_id=1, active=True, city_id=1, county_id=uid,
                             township_id=None, village_id=None))
        for i, uid in enumerate(self.township_ids):
            cid = self.county_ids[self.county_of_t[i]]
            rows.append(dict(id=uid, code=self.township_code[i], name=self.place(i, "镇"),
                             level="township", parent_id=cid, active=True, city_id=1,
                             county_id=cid, township_id=uid, village_id=None))
        for i, uid in enumerate(self.village_ids):
            t = self.township_of_v[i]
            tid = self.township_ids[t]
            cid = self.county_ids[self.county_of_t[t]]
            rows.append(dict(id=uid, code=self.village_code[i], name=self.place(i, "村"),
                             level="village", parent_id=tid, active=True, city_id=1,
                             county_id=cid, township_id=tid, village_id=uid))
        return rows

    def user_rows(self, pw_hash: str, now: dt.datetime) -> list[dict]:
        def row(uid, username, role, unit_id, post):
            return dict(id=uid, username=username, display_name=self.person(uid), role=role,
                        unit_id=unit_id, password_hash=pw_hash, active=True, session_version=1,
                        email=None, phone=None, post=post, created_at=now)

        rows = [row(1, "city", "city_staff", 1, "组织科科长"),
                row(2, "supervisor", "supervisor", 1, "督查组组长"),
                row(3, "admin", "admin", 1, "管理员")]
        rows += [row(u, f"county{i}", "county_staff", self.county_ids[i], "组织部干部")
                 for i, u in enumerate(self.county_user)]
        rows += [row(u, f"town{i}", "township_staff", self.township_ids[i], "组织委员")
                 for i, u in enumerate(self.township_user)]
        rows += [row(u, f"sec{i}", "village_secretary", self.village_ids[i], "村党组织书记")
                 for i, u in enumerate(self.secretary_user)]
        return rows


# --- column formats per database ------------------------------------------------

EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)


class SqliteFormat:
    """Values as SQLAlchemy stores them on SQLite (DateTime: 'YYYY-MM-DD HH:MM:SS.ffffff')."""

    @staticmethod
    def ts(us: int) -> str:
        # odd microseconds: isoformat() then always prints the fraction, as SQLAlchemy does
        return (EPOCH_NAIVE + dt.timedelta(microseconds=us | 1)).isoformat(" ")

    @staticmethod
    def day(d: dt.date | None):
        return None if d is None else d.isoformat()

    boolean = staticmethod(int)


class PgFormat:
    """Python values, adapted by psycopg's COPY."""

    @staticmethod
    def ts(us: int) -> dt.datetime:
        return EPOCH_UTC + dt.timedelta(microseconds=us | 1)

    @staticmethod
    def day(d):
        return d

    boolean = staticmethod(bool)


ITEM_COLS = ("id", "number", "source", "cycle_id", "observation_id", "standard_id",
             "category_number", "unit_id", "responsible_user_id", "responsible_person",
             "description", "measures", "category", "severity", "deadline",
             "deadline_provisional", "state", "submitted", "submitted_by_id", "rejection_count",
             "verifier_id", "verified_at", "closed_at", "resolution", "extension_count",
             "pending_extension", "supervision", "created_by_id", "created_at", "updated_at",
             "version", "city_id", "county_id", "township_id", "village_id", "search_terms")
EVENT_COLS = ("id", "item_id", "seq", "event", "from_status", "to_status", "actor_id",
              "actor_role", "at", "note", "changes")
EVIDENCE_COLS = ("id", "item_id", "event_id", "sha256", "size", "mime", "kind",
                 "original_name", "uploaded_by_id", "uploaded_at")


def _us(d: dt.datetime) -> int:
    return (d - EPOCH_UTC) // dt.timedelta(microseconds=1)


class Generator:
    """Streams items, their history and evidence, in id order, in chunks."""

    def __init__(self, org: Org, n_items: int, standards: list[tuple[int, int, str]],
                 periods: list[tuple[int, int]], cycle_ids: dict[str, int],
                 now: dt.datetime, today: dt.date, fmt, seed: int) -> None:
        self.org, self.n, self.standards, self.periods = org, n_items, standards, periods
        self.cycle_ids, self.fmt, self.rng = cycle_ids, fmt, random.Random(seed)
        self.now_us, self.today = _us(now), today
        self.item_id = self.event_id = self.evidence_id = 0
        self.events_total = self.evidence_total = 0
        self.state_counts: dict[str, int] = defaultdict(int)
        self.overdue = 0
        self.sequences: list[tuple[str, int]] = []

    def chunks(self, chunk: int):
        items, events, evidence = [], [], []
        nq = len(self.periods)
        for qi, (year, q) in enumerate(self.periods):
            n_p = self.n * (qi + 1) // nq - self.n * qi // nq
            u = (qi + 0.5) / nq
            probs = [m + (u - 0.5) * t for m, t in zip(MIX, TILT, strict=True)]
            cum, acc = [], 0.0
            for p in probs:
                acc += p
                cum.append(acc)
            start = _us(local_midnight_utc(quarter_start(year, q)))
            ny, nq_ = shift_quarter(year, q, 1)
            end = min(_us(local_midnight_utc(quarter_start(ny, nq_))), self.now_us)
            period = f"{year}Q{q}"
            villages = sorted(self.rng.randrange(self.org.nv) for _ in range(n_p))
            serial, prev = 0, -1
            for v in villages:
                if v != prev:
                    if prev >= 0:
                        self.sequences.append((f"{period}-{self.org.village_code[prev]}", serial))
                    serial, prev = 0, v
                serial += 1
                self._item(period, qi, v, serial, cum, start, end, items, events, evidence)
                if len(items) >= chunk:
                    yield items, events, evidence
                    items, events, evidence = [], [], []
            if prev >= 0:
                self.sequences.append((f"{period}-{self.org.village_code[prev]}", serial))
        if items:
            yield items, events, evidence

    def _item(self, period, qi, v, serial, cum, start, end, items, events, evidence) -> None:
        rng, org, fmt = self.rng, self.org, self.fmt
        self.item_id += 1
        iid = self.item_id
        r = rng.random()
        state = STATES[-1]
        for s, c in zip(STATES, cum, strict=True):
            if r < c:
                state = s
                break
        t = org.township_of_v[v]
        c = org.county_of_t[t]
        vid, tid, cid = org.village_ids[v], org.township_ids[t], org.county_ids[c]
        town_u, county_u, sec_u = org.township_user[t], org.county_user[c], org.secretary_user[v]
        sec_name = org.person(sec_u)
        number = f"{period}-{org.village_code[v]}-{serial:03d}"
        r = rng.random()
        source = "observation"
        acc = 0.0
        for name, share in SOURCES:
            acc += share
            if r < acc:
                source = name
                break
        std_id, std_cat, std_title = rng.choice(self.standards)
        if source != "observation" and rng.random() < 0.5:
            std_id = std_cat = None
            std_title = None
        cycle_id = self.cycle_ids[period] if source == "observation" else None
        obs_id = qi * org.nv + v + 1 if source == "observation" else None
        problem = rng.choice(PROBLEMS)
        description = (f"{std_title}：" if std_title else "") + \
            f"{rng.choice(DETAILS)}{problem}。"
        created = start + int(rng.random() * max(1, end - start) * 0.9)
        dismissed = state == "closed" and rng.random() < DISMISSED_SHARE
        rejected = state in ("submitted", "verified", "closed") and not dismissed \
            and rng.random() < REJECTED_SHARE
        category = measures = deadline = None
        # the history, as the services would have written it
        ev: list[tuple] = [("record", None, "found", town_u, "township_staff", None,
                            {"number": number, "unit_id": vid, "standard_id": std_id})]
        if dismissed:
            ev.append(("dismiss", "found", "closed", county_u, "county_staff",
                       "[duplicate] 重复问题", "CLOSED"))
        elif state != "found":
            category = rng.choice(services.CATEGORIES)
            ev.append(("assign", "found", "assigned", town_u, "township_staff", None, "ASSIGN"))
            if state != "assigned":
                measures = rng.choice(MEASURES)
                ev.append(("accept", "assigned", "rectifying", sec_u, "village_secretary",
                           measures, {"measures": measures}))
                for _ in range(rng.randint(0, 2)):
                    ev.append(("report_progress", "rectifying", "rectifying", sec_u,
                               "village_secretary", rng.choice(NOTES), None))
                if state in ("submitted", "verified", "closed"):
                    if rejected:
                        ev.append(("submit", "rectifying", "submitted", sec_u,
                                   "village_secretary", "已整改完毕，申请销号",
                                   {"submitted_by_id": sec_u}))
                        ev.append(("reject", "submitted", "rectifying", town_u, "township_staff",
                                   "佐证材料不充分，请补充整改前后对比照片",
                                   {"rejection_count": 1, "submitted_by_id": None}))
                        ev.append(("report_progress", "rectifying", "rectifying", sec_u,
                                   "village_secretary", "已补充佐证材料", None))
                    ev.append(("submit", "rectifying", "submitted", sec_u, "village_secretary",
                               "已整改完毕，申请销号", {"submitted_by_id": sec_u}))
                    if state in ("verified", "closed"):
                        ev.append(("verify", "submitted", "verified", town_u, "township_staff",
                                   "实地查看: 已整改到位", "VERIFY"))
                    if state == "closed":
                        ev.append(("close", "verified", "closed", county_u, "county_staff", None,
                                   "CLOSED"))
        n = len(ev)
        step = max(1, min((self.now_us - created) // (n + 1), 10 * 86_400_000_000))
        times = [created + k * step + rng.randrange(step // 2 + 1) for k in range(n)]
        verified_at = closed_at = None
        submitted_by = verifier = None
        if len(ev) > 1 and not dismissed:
            assign_day = (EPOCH_UTC + dt.timedelta(microseconds=times[1])).astimezone(ZONE).date()
            if state in ("assigned", "rectifying"):
                if rng.random() < OVERDUE_SHARE:
                    deadline = self.today - dt.timedelta(days=rng.randint(1, 120))
                    self.overdue += 1
                else:
                    deadline = self.today + dt.timedelta(days=rng.randint(0, 90))
            elif state == "submitted":
                deadline = self.today + dt.timedelta(days=rng.randint(-30, 60))
            else:
                deadline = assign_day + dt.timedelta(days=rng.randint(15, 90))
        self.state_counts["dismissed" if dismissed else state] += 1
        first_event = self.event_id + 1
        for k, (name, frm, to, actor, role, note, changes) in enumerate(ev):
            self.event_id += 1
            at = times[k]
            if changes == "ASSIGN":
                changes = {"category": category, "responsible_user_id": sec_u,
                           "responsible_person": sec_name,
                           "deadline": deadline.isoformat() if deadline else None,
                           "deadline_provisional": False}
            elif changes == "VERIFY":
                verifier = actor
                verified_at = at
                changes = {"verifier_id": actor,
                           "verified_at": (EPOCH_UTC + dt.timedelta(microseconds=at)).isoformat()}
            elif changes == "CLOSED":
                closed_at = at
                changes = {"closed_at": (EPOCH_UTC + dt.timedelta(microseconds=at)).isoformat(),
                           "resolution": "dismissed" if dismissed else "rectified"}
            events.append((self.event_id, iid, k + 1, name, frm, to, actor, role, fmt.ts(at),
                           note, json.dumps(changes)))
            if name == "submit":
                submitted_by = sec_u
                for _ in range(2 if rng.random() < 0.3 else 1):
                    self._evidence(iid, self.event_id, sec_u, at, evidence)
            elif name == "report_progress" and rng.random() < 0.15:
                self._evidence(iid, self.event_id, sec_u, at, evidence)
            elif name == "reject":
                submitted_by = None
        self.events_total += n
        assert self.event_id - first_event + 1 == n
        is_submitted = state == "submitted"
        db_state = "rectifying" if state == "submitted" else state
        assigned = state != "found" and not dismissed
        items.append((
            iid, number, source, cycle_id, obs_id, std_id, std_cat, vid,
            sec_u if assigned else None, sec_name if assigned else None,
            description, measures, category,
            rng.choice(("minor", "normal", "normal", "normal", "serious")),
            fmt.day(deadline), fmt.boolean(False), db_state, fmt.boolean(is_submitted),
            submitted_by if state in ("submitted", "verified", "closed") else None,
            1 if rejected else 0, verifier,
            fmt.ts(verified_at) if verified_at is not None else None,
            fmt.ts(closed_at) if closed_at is not None else None,
            ("dismissed" if dismissed else "rectified") if state == "closed" else None,
            0, None, None, town_u, fmt.ts(created), fmt.ts(times[-1]), n,
            1, cid, tid, vid,
            terms(number, description, sec_name if assigned else None, measures),
        ))

    def _evidence(self, item_id, event_id, user, at, out) -> None:
        self.evidence_id += 1
        self.evidence_total += 1
        rng = self.rng
        out.append((self.evidence_id, item_id, event_id, f"{rng.getrandbits(256):064x}",
                    rng.randint(80_000, 3_000_000), "image/jpeg", "image",
                    f"IMG_{rng.randint(1000, 9999)}.jpg", user, self.fmt.ts(at)))


# --- building -------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _settings(url: str, evidence_dir: Path) -> Settings:
    return Settings(database_url=url, evidence_dir=evidence_dir)


def _capture_ddl(conn, dialect: str) -> dict:
    """Secondary indexes and constraints of the big tables, as the database defines them."""
    if dialect == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('items', 'item_events', 'evidence') ORDER BY name").all()
        return {"indexes": [(n, s) for n, s in rows], "constraints": []}
    cons = conn.exec_driver_sql(
        "SELECT c.conname, c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid IN ('items'::regclass, "
        "'item_events'::regclass, 'evidence'::regclass) AND c.contype IN ('f', 'u') "
        "ORDER BY c.conname").all()
    idx = conn.exec_driver_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('items', 'item_events', 'evidence') AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u')) "
        "ORDER BY indexname").all()
    return {"indexes": [tuple(r) for r in idx], "constraints": [tuple(r) for r in cons]}


def _drop_ddl(conn, dialect: str, ddl: dict) -> None:
    for name, table, _kind, _ in sorted(ddl["constraints"], key=lambda c: c[2] != "f"):
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in ddl["indexes"]:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')


def _restore_ddl(conn, dialect: str, ddl: dict) -> None:
    for name, table, kind, definition in ddl["constraints"]:
        if kind == "u":
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    # PostgreSQL deparses partial-index predicates into a form that, re-parsed, is not the
    # same tree (and might no longer match the queries' predicate): re-create the indexes
    # the model declares from the model, as the migration did; the caller compares the result.
    declared = {ix.name: ix for table in (Item.__table__, ItemEvent.__table__,
                                          Evidence.__table__) for ix in table.indexes}
    for name, sql in ddl["indexes"]:
        if dialect == "postgresql" and name in declared:
            declared[name].create(conn)
        else:
            conn.exec_driver_sql(sql)
    for name, table, kind, definition in ddl["constraints"]:
        if kind == "f":
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def recent_quarters(today: dt.date, n: int = 12) -> list[tuple[int, int]]:
    y, q = quarter_of(today)
    return [shift_quarter(y, q, k) for k in range(-(n - 1), 1)]


def build_database(db: str, url: str, villages: int, n_items: int, chunk: int,
                   seed: int, workdir: str) -> dict:
    """Migrate and fill one database; returns timings and counts (runs in a child process)."""
    t_all = time.perf_counter()
    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    dialect = app.engine.dialect.name
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    upgrade(app)
    timings["migrate"] = time.perf_counter() - t0
    now = dt.datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    org = Org(villages)
    with app.uow() as uow:
        catalog = current_catalog(uow.session)
        standards = [tuple(r) for r in uow.session.execute(
            select(Standard.id, Standard.category_number, Standard.title)
            .where(Standard.catalog_version_id == catalog.id).order_by(Standard.id))]
    quarters = recent_quarters(today)
    halves = sorted({(y, 1 if q <= 2 else 2) for y, q in quarters})
    fmt = SqliteFormat if dialect == "sqlite" else PgFormat

    # organisation, users, cycles, observations: Core executemany
    t0 = time.perf_counter()
    pw_hash = hash_password("bench-password-1")
    with app.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        conn.execute(insert(Unit), org.unit_rows())
        conn.execute(insert(User), org.user_rows(pw_hash, now))
        cycle_rows, cycle_ids = [], {}
        for k, (y, q) in enumerate(quarters):
            period = f"{y}Q{q}"
            cycle_ids[period] = k + 1
            cycle_rows.append(dict(id=k + 1, kind="village_quarterly", period=period,
                                   catalog_version_id=catalog.id, theme=None,
                                   opened_at=local_midnight_utc(quarter_start(y, q))))
        for k, (y, h) in enumerate(halves):
            cycle_rows.append(dict(id=len(quarters) + k + 1, kind="township_half_yearly",
                                   period=f"{y}H{h}", catalog_version_id=catalog.id, theme=None,
                                   opened_at=local_midnight_utc(dt.date(y, 1 if h == 1 else 7, 1))))
        conn.execute(insert(Cycle), cycle_rows)
    obs_id = 0
    obs_rows = []

    def flush_obs(force=False):
        nonlocal obs_rows
        if obs_rows and (force or len(obs_rows) >= chunk):
            with app.engine.begin() as conn:
                conn.execute(insert(Observation), obs_rows)
            obs_rows = []

    for k in range(len(quarters)):
        status = "planned" if k == len(quarters) - 1 else "done"
        for v in range(org.nv):
            obs_id += 1
            obs_rows.append(dict(id=obs_id, cycle_id=k + 1, unit_id=org.village_ids[v],
                                 observing_unit_id=org.township_ids[org.township_of_v[v]],
                                 status=status))
            flush_obs()
    for k, _ in enumerate(halves):
        for t in range(org.nt):
            obs_id += 1
            obs_rows.append(dict(id=obs_id, cycle_id=len(quarters) + k + 1,
                                 unit_id=org.township_ids[t],
                                 observing_unit_id=org.county_ids[org.county_of_t[t]],
                                 status="done"))
            flush_obs()
    flush_obs(force=True)
    timings["organisation, users, cycles, observations"] = time.perf_counter() - t0

    # the ledger: drop secondary indexes/constraints, load, re-create them
    with app.engine.begin() as conn:
        ddl = _capture_ddl(conn, dialect)
        _drop_ddl(conn, dialect, ddl)
    gen = Generator(org, n_items, standards, quarters, cycle_ids, now, today, fmt, seed)
    t0 = time.perf_counter()
    n_done = 0
    last_log = time.perf_counter()
    if dialect == "sqlite":
        sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
               for t, c in (("items", ITEM_COLS), ("item_events", EVENT_COLS),
                            ("evidence", EVIDENCE_COLS))}
        with app.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            # the search index is rebuilt once after the load, not row by row
            fts_trigger = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'items_fts_insert'").scalar()
            conn.exec_driver_sql("DROP TRIGGER items_fts_insert")
            conn.commit()
            for items, events, evidence in gen.chunks(chunk):
                conn.exec_driver_sql(sql["items"], items)
                conn.exec_driver_sql(sql["item_events"], events)
                if evidence:
                    conn.exec_driver_sql(sql["evidence"], evidence)
                conn.commit()
                n_done += len(items)
                if time.perf_counter() - last_log > 30:
                    last_log = time.perf_counter()
                    log(f"  {db}: {n_done:,} items loaded ({n_done / (last_log - t0):,.0f}/s)")
            t_fts = time.perf_counter()
            conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
            conn.exec_driver_sql(fts_trigger)
            conn.commit()
            timings["search index (FTS5 rebuild)"] = time.perf_counter() - t_fts
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    else:
        raw = app.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
            raw.commit()
            copies = {t: f"COPY {t} ({', '.join(c)}) FROM STDIN"
                      for t, c in (("items", ITEM_COLS), ("item_events", EVENT_COLS),
                                   ("evidence", EVIDENCE_COLS))}
            for items, events, evidence in gen.chunks(chunk):
                with raw.cursor() as cur:
                    for table, rows in (("items", items), ("item_events", events),
                                        ("evidence", evidence)):
                        if rows:
                            with cur.copy(copies[table]) as cp:
                                for row in rows:
                                    cp.write_row(row)
                raw.commit()
                n_done += len(items)
                if time.perf_counter() - last_log > 30:
                    last_log = time.perf_counter()
                    log(f"  {db}: {n_done:,} items loaded ({n_done / (last_log - t0):,.0f}/s)")
        finally:
            raw.close()
    timings["items + history + evidence rows"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq_rows = [{"prefix": p, "last": n} for p, n in gen.sequences]
    for i in range(0, len(seq_rows), chunk * 5):
        with app.engine.begin() as conn:
            conn.execute(insert(NumberSequence), seq_rows[i:i + chunk * 5])
    timings["number sequences"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with app.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        else:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        _restore_ddl(conn, dialect, ddl)
        if _capture_ddl(conn, dialect) != ddl:
            raise RuntimeError("re-created indexes differ from the migrated schema")
        if dialect == "postgresql":
            for table in ("units", "users", "cycles", "observations", *BIG_TABLES):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
    timings["indexes and constraints"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if dialect == "sqlite":
        with app.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        auto = app.engine.execution_options(isolation_level="AUTOCOMMIT")
        with auto.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    timings["ANALYZE" if dialect == "sqlite" else "VACUUM ANALYZE"] = time.perf_counter() - t0
    app.dispose()
    total = time.perf_counter() - t_all
    size = None
    if dialect == "sqlite":
        size = Path(url.split("///", 1)[1]).stat().st_size
    else:
        eng = create_engine(normalise_url(url))
        with eng.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        eng.dispose()
    return {
        "seconds": total, "steps": timings,
        "units": 1 + org.nc + org.nt + org.nv, "counties": org.nc, "townships": org.nt,
        "villages": org.nv, "users": 3 + org.nc + org.nt + org.nv,
        "observations": obs_id, "items": gen.item_id, "events": gen.events_total,
        "evidence": gen.evidence_total, "overdue": gen.overdue,
        "states": dict(gen.state_counts), "db_bytes": size,
        "items_per_s": gen.item_id / timings["items + history + evidence rows"],
        "rows_per_s": (gen.item_id + gen.events_total + gen.evidence_total)
        / timings["items + history + evidence rows"],
        "build_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# --- measuring -----------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(samples: list[float], cpu: list[float] | None = None) -> dict:
    out = {"n": len(samples), "p50_ms": pct(samples, 50) * 1000,
           "p95_ms": pct(samples, 95) * 1000, "max_ms": max(samples) * 1000,
           "mean_ms": statistics.fmean(samples) * 1000}
    if cpu:
        # this process's CPU time per call: the client side, unaffected by other load
        out["cpu_p50_ms"] = pct(cpu, 50) * 1000
        out["cpu_p95_ms"] = pct(cpu, 95) * 1000
    return out


class Measurer:
    def __init__(self, db: str, url: str, args: argparse.Namespace, workdir: str) -> None:
        self.db, self.args = db, args
        self.url, self.workdir = url, workdir  # for the export's own process
        self.app = bootstrap(_settings(url, Path(workdir) / "evidence"))
        self.rng = random.Random(args.seed + 1)
        self.profile_dir = Path(args.profile) if args.profile else None
        if self.profile_dir:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
        with self.app.uow() as uow:
            s = uow.session
            self.today = uow.today()
            rows = s.execute(select(User.id, User.role, User.unit_id, Unit.level, User.username)
                             .join(Unit, Unit.id == User.unit_id)).all()
            self.by_role: dict[str, dict[int, Actor]] = defaultdict(dict)
            for uid, role, unit_id, level, username in rows:
                self.by_role[role][unit_id] = Actor(uid, role, unit_id, level, username)
            self.city = next(iter(self.by_role["city_staff"].values()))
            self.counties = sorted(self.by_role["county_staff"].values(), key=lambda a: a.id)
            self.townships = sorted(self.by_role["township_staff"].values(), key=lambda a: a.id)
            self.secretaries = sorted(self.by_role["village_secretary"].values(),
                                      key=lambda a: a.id)
            self.counts = {
                "items": s.scalar(text("SELECT count(*) FROM items")),
                "item_events": s.scalar(text("SELECT count(*) FROM item_events")),
                "evidence": s.scalar(text("SELECT count(*) FROM evidence")),
                "villages": len(self.secretaries), "townships": len(self.townships),
                "counties": len(self.counties),
            }
            self.max_item = s.scalar(text("SELECT max(id) FROM items"))
        self.plans: list[str] = []

    # helpers ---------------------------------------------------------------

    def _profile(self, name: str, fn, reps: int) -> None:
        """With --profile: run ``fn`` ``reps`` more times under cProfile and save the stats."""
        if not self.profile_dir:
            return
        prof = cProfile.Profile()
        prof.enable()
        for i in range(reps):
            fn(i)
        prof.disable()
        slug = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")
        path = self.profile_dir / f"{self.db}_{slug}"
        prof.dump_stats(str(path) + ".pstats")
        out = io.StringIO()
        st = pstats.Stats(prof, stream=out)
        st.sort_stats("cumulative").print_stats(35)
        st.sort_stats("tottime").print_stats(25)
        Path(str(path) + ".txt").write_text(out.getvalue())

    def _explain(self, name: str, fn) -> None:
        """With --profile: the plan of every SELECT that ``fn`` sends."""
        if not self.profile_dir:
            return
        captured: list[tuple[str, object]] = []

        def grab(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                captured.append((statement, parameters))

        event.listen(self.app.engine, "before_cursor_execute", grab)
        try:
            fn(0)
        finally:
            event.remove(self.app.engine, "before_cursor_execute", grab)
        out = [f"### {self.db}: {name}"]
        raw = self.app.engine.raw_connection()
        try:
            cur = raw.cursor()
            for statement, params in captured:
                out.append(statement.strip())
                out.append(f"-- params: {params!r}")
                prefix = ("EXPLAIN QUERY PLAN " if self.db == "sqlite"
                          else "EXPLAIN (ANALYZE, BUFFERS) ")
                cur.execute(prefix + statement, params)
                out.extend("    " + " ".join(str(c) for c in row) for row in cur.fetchall())
            cur.close()
            raw.rollback()
        finally:
            raw.close()
        self.plans.append("\n".join(out))

    def latency(self, name: str, fn, runs: int, warmup: int = 3, budget_s: float = 60.0,
                profile_reps: int = 10) -> dict:
        for i in range(warmup):
            fn(-1 - i)
        samples, cpu = [], []
        t_start = time.perf_counter()
        for i in range(runs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(i)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if time.perf_counter() - t_start > budget_s and len(samples) >= 10:
                break
        res = summary(samples, cpu)
        log(f"  {self.db}: {name}: p50 {res['p50_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms "
            f"(n={res['n']}; client CPU p50 {res['cpu_p50_ms']:.1f} ms)")
        self._explain(name, fn)
        if res["p50_ms"] > 500:
            profile_reps = min(profile_reps, 3)
        self._profile(name, fn, profile_reps)
        return res

    # the figures -------------------------------------------------------------

    def list_cases(self) -> list[tuple[str, str, object]]:
        """(key, label, make(rng) -> (actor, filter, sort, with_counts))."""
        F = queries.ItemFilter
        statuses = ("rectifying", "submitted", "closed", "assigned", "found", "verified")

        def village_code_fragment(rng):
            # what people type to find an item by number: the village part of the code
            v = rng.randrange(len(self.secretaries))
            with self.app.uow() as uow:
                return uow.session.scalar(select(Unit.code).where(
                    Unit.id == self.secretaries[v].unit_id))

        codes = [village_code_fragment(self.rng) for _ in range(20)]
        return [
            ("list_city", "list: city-wide, no filter (newest)",
             lambda rng: (self.city, F(), "newest", False)),
            ("list_county_status", "list: county + status filter",
             lambda rng: (rng.choice(self.counties), F(status=rng.choice(statuses)), "newest",
                          False)),
            ("list_township_text", "list: township + text search",
             lambda rng: (rng.choice(self.townships), F(text=rng.choice(SEARCH_WORDS)), "newest",
                          False)),
            ("list_village", "list: village (secretary)",
             lambda rng: (rng.choice(self.secretaries), F(), "newest", False)),
            ("list_county_overdue", "list: county, overdue=True",
             lambda rng: (rng.choice(self.counties), F(overdue=True), "newest", False)),
            ("list_county_deadline", "list: county, sort by deadline",
             lambda rng: (rng.choice(self.counties), F(), "deadline", False)),
            ("list_city_deadline", "list: city-wide, sort by deadline",
             lambda rng: (self.city, F(), "deadline", False)),
            ("list_city_status", "list: city-wide + status filter",
             lambda rng: (self.city, F(status=rng.choice(statuses)), "newest", False)),
            ("list_city_overdue", "list: city-wide, overdue=True",
             lambda rng: (self.city, F(overdue=True), "newest", False)),
            ("list_city_text", "list: city-wide text search (number / word)",
             lambda rng: (self.city, F(text=rng.choice(codes + list(SEARCH_WORDS))),
                          "newest", False)),
            ("list_county_counts", "list: county + per-status counts (with_counts)",
             lambda rng: (rng.choice(self.counties), F(), "newest", True)),
            ("list_city_counts", "list: city-wide + per-status counts (with_counts)",
             lambda rng: (self.city, F(), "newest", True)),
        ]

    def lists(self) -> dict:
        out = {}
        for key, label, make in self.list_cases():
            rng = random.Random(f"{self.args.seed}-{key}")

            def run(i, make=make, rng=rng):
                actor, flt, sort, counts = make(rng)
                with self.app.uow() as uow:
                    page = queries.list_items(uow.session, actor, flt, today=self.today,
                                              sort=sort, per_page=50, with_counts=counts)
                    assert len(page.rows) <= 50

            res = self.latency(label, run, self.args.runs)
            res["label"] = label
            out[key] = res
        return out

    def overdue(self) -> dict:
        out = {}
        for key, label, pick in (
            ("overdue_city", "overdue board: city", lambda rng: self.city),
            ("overdue_county", "overdue board: county", lambda rng: rng.choice(self.counties)),
        ):
            rng = random.Random(f"{self.args.seed}-{key}")

            def run(i, pick=pick, rng=rng):
                actor = pick(rng)
                with self.app.uow() as uow:
                    queries.overdue_items(uow.session, actor, today=self.today, per_page=50)

            res = self.latency(label, run, self.args.runs)
            res["label"] = label
            out[key] = res
        return out

    def item_pages(self) -> dict:
        rng = random.Random(f"{self.args.seed}-pages")
        ids = [rng.randint(1, self.max_item) for _ in range(self.args.item_pages + 40)]
        id_list = ",".join(map(str, set(ids)))
        with self.app.uow() as uow:
            county_of = dict(uow.session.execute(
                text(f"SELECT id, county_id FROM items WHERE id IN ({id_list})")).all())
        county_actor = {a.unit_id: a for a in self.counties}
        sizes = []

        def run(i):
            item_id = ids[i % len(ids)]
            actor = county_actor[county_of[item_id]]
            with self.app.uow() as uow:
                s = uow.session
                item = queries.get_item(s, actor, item_id)
                hist = queries.item_history(s, actor, item_id)
                ev = queries.item_evidence(s, actor, item_id)
                sizes.append((len(hist), len(ev)))
                _ = item.number, item.status, [h.changes for h in hist]

        res = self.latency("item page (get_item + item_history + item_evidence)", run,
                           self.args.item_pages, profile_reps=100)
        res["mean_history"] = statistics.fmean(h for h, _ in sizes)
        res["mean_evidence"] = statistics.fmean(e for _, e in sizes)
        return res

    def transitions(self) -> dict:
        n = self.args.transitions
        half = n // 2
        warm = 20
        prof_n = 200 if self.profile_dir else 0
        with self.app.uow() as uow:
            rows = uow.session.execute(text(
                "SELECT id, village_id FROM items WHERE state = 'assigned' "
                "ORDER BY random() LIMIT :n"), {"n": half + warm + prof_n}).all()
        if len(rows) < half + warm + prof_n:
            raise RuntimeError(f"only {len(rows)} assigned items: build more items")
        sec = self.by_role["village_secretary"]
        warm_rows, rows, prof_rows = rows[:warm], rows[warm:warm + half], rows[warm + half:]
        for item_id, village_id in warm_rows:  # warm caches (compiled SQL, pool) first
            with self.app.uow() as uow:
                services.accept(uow, item_id, sec[village_id], measures="预热")
        failures = 0
        lat = {"accept": [], "report_progress": []}
        c0 = time.process_time()
        t0 = time.perf_counter()
        for item_id, village_id in rows:
            t1 = time.perf_counter()
            with self.app.uow() as uow:
                try:
                    services.accept(uow, item_id, sec[village_id],
                                    measures="召开支委会研究整改方案，明确责任人和时限")
                except DomainError:
                    failures += 1
            lat["accept"].append(time.perf_counter() - t1)
        for item_id, village_id in rows:
            t1 = time.perf_counter()
            with self.app.uow() as uow:
                try:
                    services.report_progress(uow, item_id, sec[village_id],
                                             note="整改进度过半，预计按期完成")
                except DomainError:
                    failures += 1
            lat["report_progress"].append(time.perf_counter() - t1)
        total = time.perf_counter() - t0
        cpu = time.process_time() - c0
        count = 2 * len(rows)
        res = {"transitions": count, "seconds": total, "per_s": count / total,
               "failures": failures, "client_cpu_ms_each": cpu / count * 1000,
               "per_client_cpu_s": count / cpu if cpu else None,
               "accept": summary(lat["accept"]), "report_progress": summary(lat["report_progress"])}
        log(f"  {self.db}: transitions: {count} in {total:.2f} s = {res['per_s']:,.0f}/s "
            f"(accept p50 {res['accept']['p50_ms']:.2f} ms, report_progress p50 "
            f"{res['report_progress']['p50_ms']:.2f} ms, client CPU "
            f"{res['client_cpu_ms_each']:.2f} ms each, failures {failures})")
        if prof_rows:
            def run(i):
                item_id, village_id = prof_rows[i]
                with self.app.uow() as uow:
                    services.accept(uow, item_id, sec[village_id], measures="剖析")

            self._profile("transition accept", run, len(prof_rows))
        return res

    def concurrent_transitions(self) -> dict:
        """``accept`` from several threads at once, as several web workers would fire them."""
        threads, n = self.args.threads, self.args.transitions
        with self.app.uow() as uow:
            rows = uow.session.execute(text(
                "SELECT id, village_id FROM items WHERE state = 'assigned' "
                "ORDER BY random() LIMIT :n"), {"n": n}).all()
        sec = self.by_role["village_secretary"]
        errors: dict[str, int] = defaultdict(int)
        done = [0]

        def worker(part):
            for item_id, village_id in part:
                try:
                    with self.app.uow() as uow:
                        services.accept(uow, item_id, sec[village_id],
                                        measures="召开支委会研究整改方案")
                    done[0] += 1
                except Exception as exc:  # noqa: BLE001 - counted and reported
                    errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"] += 1

        parts = [rows[i::threads] for i in range(threads)]
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(threads) as ex:
            list(ex.map(worker, parts))
        total = time.perf_counter() - t0
        res = {"threads": threads, "attempted": len(rows), "ok": done[0], "seconds": total,
               "per_s": done[0] / total if total else 0, "errors": dict(errors)}
        log(f"  {self.db}: {threads} concurrent workers: {done[0]}/{len(rows)} accepts in "
            f"{total:.2f} s = {res['per_s']:,.0f}/s; errors: {dict(errors) or 'none'}")
        return res

    def bulk_assign(self) -> dict:
        n = self.args.bulk
        with self.app.uow() as uow:
            s = uow.session
            level, unit_id, found = "township", None, 0
            row = s.execute(text(
                "SELECT township_id, count(*) FROM items WHERE state = 'found' "
                "GROUP BY township_id ORDER BY count(*) DESC LIMIT 1")).first()
            if row and row[1] >= n:
                unit_id, found = row
            else:
                level = "county"
                unit_id, found = s.execute(text(
                    "SELECT county_id, count(*) FROM items WHERE state = 'found' "
                    "GROUP BY county_id ORDER BY count(*) DESC LIMIT 1")).first()
            rows = s.execute(text(
                f"SELECT id, village_id FROM items WHERE state = 'found' AND {level}_id = :u "
                "ORDER BY id LIMIT :n"), {"u": unit_id, "n": n}).all()
        actor = self.by_role[f"{level}_staff"][unit_id]
        sec = self.by_role["village_secretary"]
        groups: dict[int, list[int]] = defaultdict(list)
        for item_id, village_id in rows:
            groups[village_id].append(item_id)
        # one bulk_assign per village: the responsible person must belong to the item's unit
        t0 = time.perf_counter()
        results = []
        for village_id, ids in groups.items():
            results += services.bulk_assign(self.app.uow, ids, actor,
                                            responsible_user_id=sec[village_id].id,
                                            category="deadline", deadline="10w")
        total = time.perf_counter() - t0
        ok = sum(r.ok for r in results)
        errors = sorted({str(r.error) for r in results if not r.ok})[:3]
        res = {"actor": f"{level}_staff", "items": len(results), "ok": ok, "seconds": total,
               "per_s": len(results) / total if total else 0, "calls": len(groups),
               "errors": errors}
        log(f"  {self.db}: bulk assign: {ok}/{len(results)} items by {level} staff in "
            f"{len(groups)} bulk_assign calls, {total:.2f} s = {res['per_s']:,.0f} items/s")
        if self.profile_dir:
            with self.app.uow() as uow:
                more = uow.session.execute(text(
                    f"SELECT id, village_id FROM items WHERE state = 'found' AND {level}_id = :u "
                    "ORDER BY id LIMIT 200"), {"u": unit_id}).all()

            def run(i):
                item_id, village_id = more[i]
                services.bulk_assign(self.app.uow, [item_id], actor,
                                     responsible_user_id=sec[village_id].id,
                                     category="deadline", deadline="10w")

            self._profile("bulk assign", run, len(more))
        return res

    def open_cycle(self) -> dict:
        with self.app.uow() as uow:
            have = set(uow.session.scalars(select(Cycle.period).where(
                Cycle.kind == "village_quarterly")))
        y, q = shift_quarter(*quarter_of(self.today), 1)
        while f"{y}Q{q}" in have:
            y, q = shift_quarter(y, q, 1)
        period = f"{y}Q{q}"
        with self.app.uow() as uow:
            t0 = time.perf_counter()
            first = cycles.open_cycle(uow, "village_quarterly", period)
            t_first = time.perf_counter() - t0
        with self.app.uow() as uow:
            in_db = uow.session.scalar(select(func.count(Observation.id)).where(
                Observation.cycle_id == first.cycle_id))
        with self.app.uow() as uow:
            t0 = time.perf_counter()
            again = cycles.open_cycle(uow, "village_quarterly", period)
            t_again = time.perf_counter() - t0
        with self.app.uow() as uow:
            in_db_again = uow.session.scalar(select(func.count(Observation.id)).where(
                Observation.cycle_id == first.cycle_id))
        res = {"period": period, "seconds": t_first, "observations": in_db,
               "reported": [first.created, first.observations_created],
               "rerun_seconds": t_again, "rerun_new": in_db_again - in_db,
               "rerun_reported": [again.created, again.observations_created]}
        log(f"  {self.db}: open_cycle {period}: {t_first:.2f} s, {in_db:,} observations in the "
            f"database (open_cycle reported created={first.created}, "
            f"observations_created={first.observations_created}); re-run {t_again:.3f} s, "
            f"{in_db_again - in_db} new")
        if in_db != first.observations_created:
            log(f"  {self.db}: WARNING: open_cycle's OpenedCycle disagrees with the database")
        return res

    def export(self) -> dict:
        """The .xlsx export (SPEC §14): time and peak RSS, in a fresh spawned process."""
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            res = ex.submit(export_case, self.url, self.workdir, self.args.export_rows).result()
        log(f"  {self.db}: .xlsx export: {res['rows']:,} rows in {res['seconds']:.2f} s "
            f"({res['rows_per_s']:,.0f} rows/s, client CPU {res['cpu_seconds']:.2f} s), "
            f"{res['bytes'] / 2**20:.1f} MiB; peak RSS {res['peak_rss_mb']:.0f} MB "
            f"({res['rss_before_mb']:.0f} MB before the export)")
        return res

    def sweep(self) -> dict:
        """The daily reminder sweep (SPEC §14): time and peak RSS, in a fresh spawned process."""
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            res = ex.submit(sweep_case, self.url, self.workdir).result()
        log(f"  {self.db}: reminder sweep: {res['notifications']:,} notifications "
            f"({res['by_offset']}) in {res['seconds']:.2f} s (client CPU "
            f"{res['cpu_seconds']:.2f} s); same day again {res['rerun_seconds']:.2f} s, "
            f"{res['rerun_notifications']} new; peak RSS {res['peak_rss_mb']:.0f} MB "
            f"({res['rss_before_mb']:.0f} MB before the sweep)")
        return res

    def run(self) -> dict:
        log(f"{self.db}: measuring ({self.counts['items']:,} items, "
            f"{self.counts['item_events']:,} history rows, {self.counts['villages']:,} villages)")
        res = {"counts": self.counts, "today": self.today.isoformat(),
               "loadavg_start": os.getloadavg()}
        if self.args.sweep_only:  # e.g. on a kept database: only the reminder sweep
            res["sweep"] = self.sweep()
            res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.app.dispose()
            return res
        res["lists"] = self.lists()
        res["overdue"] = self.overdue()
        res["item_page"] = self.item_pages()
        res["transitions"] = self.transitions()
        if self.args.threads > 1:
            res["concurrent"] = self.concurrent_transitions()
        res["bulk_assign"] = self.bulk_assign()
        res["open_cycle"] = self.open_cycle()
        res["export"] = self.export()
        res["sweep"] = self.sweep()
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        res["loadavg_end"] = os.getloadavg()
        log(f"{self.db}: load average at start {res['loadavg_start'][0]:.1f}, "
            f"at end {res['loadavg_end'][0]:.1f} (on {os.cpu_count()} CPUs)")
        if self.profile_dir and self.plans:
            (self.profile_dir / f"{self.db}_plans.txt").write_text("\n\n".join(self.plans))
        self.app.dispose()
        return res


def own_peak_rss_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` (kept per address space, so a fresh one
    after exec), else ``ru_maxrss``, which on Linux also carries the peak of the
    process that spawned this one."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_case(url: str, workdir: str, n_rows: int) -> dict:
    """The .xlsx export of the city's newest ``n_rows`` items, in a fresh interpreter.

    Runs in a spawned (not forked) process, so its peak RSS is the export's own
    plus the interpreter with the ledger imported (``rss_before_mb``), never the
    measuring process's memory (see ``own_peak_rss_mb``).  As the web view does:
    one unit of work, the city staff's scope, ``ledger.export.export_ledger`` into a
    temporary file.
    """
    from ledger.export import export_ledger

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    with app.uow() as uow:
        uid, unit_id, username = uow.session.execute(
            select(User.id, User.unit_id, User.username)
            .where(User.role == "city_staff").order_by(User.id).limit(1)).one()
        actor = Actor(uid, "city_staff", unit_id, "city", username)
    path = Path(tempfile.mkdtemp(prefix="sanhu_export_", dir=workdir)) / "ledger.xlsx"
    rss_before = own_peak_rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    with app.uow() as uow:
        result = export_ledger(uow.session, actor, queries.ItemFilter(), path,
                               today=uow.today(), zone=app.settings.zone, sort="newest",
                               warning_days=app.settings.warning_days, limit=n_rows)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"rows": result.rows, "seconds": seconds, "cpu_seconds": cpu,
           "rows_per_s": result.rows / seconds if seconds else 0,
           "bytes": path.stat().st_size, "rss_before_mb": rss_before,
           "peak_rss_mb": own_peak_rss_mb()}
    shutil.rmtree(path.parent, ignore_errors=True)
    app.dispose()
    return out


def sweep_case(url: str, workdir: str) -> dict:
    """``ledger.reminders.reminder_sweep`` for today, in a fresh interpreter, as the job runs it.

    One unit of work; the first sweep of the day (one INSERT … SELECT per offset
    and one for the overdue points, then the deliveries), then the same day
    again (the unique keys make it create nothing).  Peak RSS as in ``export_case``.
    """
    from ledger.reminders import reminder_sweep

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    with app.uow() as uow:
        today = uow.today()
    rss_before = own_peak_rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    with app.uow() as uow:
        first = reminder_sweep(uow, today)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    with app.uow() as uow:
        again = reminder_sweep(uow, today)
    out = {"today": today.isoformat(), "seconds": seconds, "cpu_seconds": cpu,
           "notifications": first.total, "by_offset": first.notifications,
           "deliveries": first.deliveries, "rerun_seconds": time.perf_counter() - t1,
           "rerun_notifications": again.total, "rss_before_mb": rss_before,
           "peak_rss_mb": own_peak_rss_mb()}
    app.dispose()
    return out


def measure_database(db: str, url: str, args: argparse.Namespace, workdir: str) -> dict:
    return Measurer(db, url, args, workdir).run()


# --- orchestration ----------------------------------------------------------------


def in_child(fn, *args):
    """Run ``fn`` in a fresh process, so that its peak memory is its own."""
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(fn, *args).result()


def _admin_engine(url: str):
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _with_database(url: str, name: str) -> str:
    base, _, _ = normalise_url(url).rpartition("/")
    return f"{base}/{name}"


def run_database(db: str, args: argparse.Namespace) -> dict:
    workdir = tempfile.mkdtemp(prefix="sanhu_bench_")
    out: dict = {"db": db}
    name = None
    build = True
    if db == "sqlite":
        if args.sqlite_path:
            path, build = Path(args.sqlite_path).resolve(), False
        else:
            path = Path(workdir) / "bench.sqlite"
        url = f"sqlite:///{path}"
        out["location"] = str(path)
    else:
        if args.pg_db:
            name, build = args.pg_db, False
        else:
            name = f"sanhu_bench_{uuid.uuid4().hex[:10]}"
            admin = _admin_engine(args.pg_url)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()  # no open connection may be inherited by the child processes
        url = _with_database(args.pg_url, name)
        out["location"] = name
    try:
        if build:
            log(f"{db}: building {args.villages:,} villages, {args.items:,} items in "
                f"{out['location']}")
            out["build"] = in_child(build_database, db, url, args.villages, args.items,
                                    args.chunk, args.seed, workdir)
            b = out["build"]
            log(f"{db}: built in {b['seconds']:.1f} s: {b['items']:,} items, {b['events']:,} "
                f"history rows, {b['evidence']:,} evidence rows, "
                f"{b['db_bytes'] / 2**30:.2f} GiB; steps: "
                + ", ".join(f"{k} {v:.1f} s" for k, v in b["steps"].items()))
        out.update(in_child(measure_database, db, url, args, workdir))
    finally:
        keep = args.keep or not build
        if db == "sqlite":
            if keep:
                log(f"{db}: kept {out['location']}")
            if not (build and keep):  # the built file lives in workdir; a reused one does not
                shutil.rmtree(workdir, ignore_errors=True)
        else:
            if keep:
                log(f"{db}: kept database {name}")
            else:
                admin = _admin_engine(args.pg_url)
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
                log(f"{db}: dropped database {name}")
            shutil.rmtree(workdir, ignore_errors=True)
    return out


# --- the report -------------------------------------------------------------------


def report_rows(results: dict[str, dict]) -> list[dict]:
    """One row per figure: operation, target, and per database (value text, pass)."""
    rows: list[dict] = []

    def add(op, target, getter):
        row = {"operation": op, "target": target, "values": {}}
        for db, res in results.items():
            try:
                row["values"][db] = getter(res)
            except (KeyError, TypeError):
                row["values"][db] = ("—", None)
        rows.append(row)

    def p95(limit_ms):
        def cell(stat):
            ok = stat["p95_ms"] <= limit_ms
            return (f"p50 {stat['p50_ms']:.1f} / p95 {stat['p95_ms']:.1f} ms", ok)
        return cell

    first = next(iter(results.values()))
    for key, stat in first.get("lists", {}).items():
        add(stat["label"], "p95 ≤ 150 ms", lambda r, k=key: p95(150)(r["lists"][k]))
    for key, stat in first.get("overdue", {}).items():
        add(stat["label"], "p95 ≤ 150 ms", lambda r, k=key: p95(150)(r["overdue"][k]))
    add("item page with history", "p95 ≤ 50 ms", lambda r: p95(50)(r["item_page"]))
    add("one transition through the service layer", "≥ 2,000 /s",
        lambda r: (f"{r['transitions']['per_s']:,.0f} /s", r["transitions"]["per_s"] >= 2000))
    add("transitions, several workers at once", "≥ 2,000 /s",
        lambda r: (f"{r['concurrent']['per_s']:,.0f} /s with {r['concurrent']['threads']} threads"
                   + (f", {sum(r['concurrent']['errors'].values())} errors"
                      if r["concurrent"]["errors"] else ""),
                   r["concurrent"]["per_s"] >= 2000 and not r["concurrent"]["errors"]))
    add("bulk assign of 1,000 found items", "— (info)",
        lambda r: (f"{r['bulk_assign']['seconds']:.2f} s = "
                   f"{r['bulk_assign']['per_s']:,.0f} items/s"
                   f" ({r['bulk_assign']['ok']} ok)", None))
    add("open a quarterly cycle for all villages", "≤ 5 s",
        lambda r: (f"{r['open_cycle']['seconds']:.2f} s "
                   f"({r['open_cycle']['observations']:,} obs.)",
                   r["open_cycle"]["seconds"] <= 5))
    add("re-run of the same cycle", "≤ 1 s",
        lambda r: (f"{r['open_cycle']['rerun_seconds']:.3f} s",
                   r["open_cycle"]["rerun_seconds"] <= 1))
    add("daily reminder sweep over all items", "≤ 10 s",
        lambda r: (f"{r['sweep']['seconds']:.2f} s ({r['sweep']['notifications']:,} "
                   f"notifications; again {r['sweep']['rerun_seconds']:.2f} s), peak RSS "
                   f"{r['sweep']['peak_rss_mb']:.0f} MB", r["sweep"]["seconds"] <= 10))
    add(".xlsx export of 100,000 items", "≤ 10 s, ≤ 150 MB",
        lambda r: (f"{r['export']['seconds']:.2f} s, peak RSS {r['export']['peak_rss_mb']:.0f} MB"
                   f" ({r['export']['rows']:,} rows)",
                   r["export"]["seconds"] <= 10 and r["export"]["peak_rss_mb"] <= 150))
    add("peak RSS of the measuring process", "— (info)",
        lambda r: (f"{r['peak_rss_mb']:.0f} MB", None))
    add("build (setup, not a target)", "— (info)",
        lambda r: (f"{r['build']['seconds']:.0f} s, {r['build']['rows_per_s']:,.0f} rows/s, "
                   f"peak RSS {r['build']['build_peak_rss_mb']:.0f} MB", None))
    return rows


def markdown(rows: list[dict], dbs: list[str]) -> str:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    head = "| operation | target | " + " | ".join(names.get(d, d) for d in dbs) + " |"
    lines = [head, "|" + "---|" * (2 + len(dbs))]
    for row in rows:
        cells = []
        for d in dbs:
            value, ok = row["values"].get(d, ("—", None))
            mark = "" if ok is None else (" **PASS**" if ok else " **MISS**")
            cells.append(value + mark)
        lines.append(f"| {row['operation']} | {row['target']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def code_version() -> dict:
    """The commit measured, and whether ledger/ had uncommitted changes (read-only git calls)."""
    import subprocess

    def git(*a):
        try:
            return subprocess.run(["git", *a], capture_output=True, text=True, timeout=10,
                                  cwd=Path(__file__).resolve().parent.parent).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "ledger_dirty": git("status", "--porcelain", "--", "ledger").splitlines()}


def machine() -> dict:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem_mb": mem, "python": sys.version.split()[0],
            "platform": platform.platform()}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.benchmark",
                                description=__doc__.split("\n")[0])
    p.add_argument("--db", action="append", choices=("sqlite", "postgres"),
                   help="database to measure (repeatable; default: both)")
    p.add_argument("--villages", type=int, default=2500,
                   help="villages (counties = villages/250, townships = villages/16.7)")
    p.add_argument("--items", type=int, default=200_000, help="ledger items")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL,
                   help="a database on the PostgreSQL server; a fresh sanhu_bench_* is created")
    p.add_argument("--keep", action="store_true", help="keep the built databases")
    p.add_argument("--sqlite-path", help="measure this already built SQLite file (no build)")
    p.add_argument("--pg-db", help="measure this already built PostgreSQL database (no build)")
    p.add_argument("--json", help="write the results as JSON to this path")
    p.add_argument("--profile", metavar="DIR",
                   help="also write cProfile stats and query plans of every case to DIR")
    p.add_argument("--runs", type=int, default=50, help="runs per list / overdue case")
    p.add_argument("--item-pages", type=int, default=200, help="item pages to read")
    p.add_argument("--transitions", type=int, default=2000, help="transitions to fire")
    p.add_argument("--threads", type=int, default=4,
                   help="workers for the concurrent-transitions figure (1: skip it)")
    p.add_argument("--bulk", type=int, default=1000, help="items in the bulk assign")
    p.add_argument("--export-rows", type=int, default=100_000,
                   help="rows of the .xlsx export figure (the city's newest items)")
    p.add_argument("--sweep-only", action="store_true",
                   help="measure only the daily reminder sweep (after the build, if any)")
    p.add_argument("--chunk", type=int, default=20_000, help="items per load transaction")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    dbs = list(dict.fromkeys(args.db or ["sqlite", "postgres"]))
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    version = code_version()
    log(f"code: commit {version['commit']}"
        + (f", uncommitted changes in {len(version['ledger_dirty'])} ledger/ file(s)"
           if version["ledger_dirty"] else ""))
    for db in dbs:
        results[db] = run_database(db, args)
        one = report_rows({db: results[db]})
        print(markdown(one, [db]), flush=True)
    rows = report_rows(results)
    info = machine()
    shape = build_shape(args.villages)
    print()
    print(f"Scale: {shape['counties']:,} counties, {shape['townships']:,} townships, "
          f"{shape['villages']:,} villages, {args.items:,} items; machine: {info['cpus']} CPUs "
          f"({info['cpu']}), {info['mem_mb']} MB RAM, Python {info['python']}; code "
          f"{version['commit']}"
          f"{' (+ uncommitted ledger/ changes)' if version['ledger_dirty'] else ''}"
          f"; total {time.perf_counter() - t0:.0f} s")
    print()
    print(markdown(rows, dbs), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": {k: v for k, v in vars(args).items()}, "shape": shape, "machine": info,
             "code": version,
             "results": results, "table": rows,
             "markdown": markdown(rows, dbs)}, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
