"""The ledger's rows: column formats per database (SQLite text, PostgreSQL COPY
values), the column lists of the three big tables, and ``Generator``, which streams
items with their history and evidence in id order."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict

from bench.common import UTC, ZONE
from bench.shape import (
    DETAILS,
    DISMISSED_SHARE,
    MEASURES,
    MIX,
    NOTES,
    OVERDUE_SHARE,
    PROBLEMS,
    REJECTED_SHARE,
    SOURCES,
    STATES,
    TILT,
    Org,
    local_midnight_utc,
    quarter_start,
    shift_quarter,
)
from ledger.items import services
from ledger.items.search import terms

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
                    self._used: set[int] = set()  # one item per standard per observation
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
        if source == "observation":
            tries = 0
            while std_id in self._used and tries < 8:
                std_id, std_cat, std_title = rng.choice(self.standards)
                tries += 1
            if std_id in self._used:  # typed in by hand against the cycle only
                source = "inspection"
            self._used.add(std_id)
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
