"""A demo city for trying Sanhu: 2 counties × 3 townships × 6 villages.

Users for every role share one printed demo password.  Two quarters of village
observations are played through the real services with a backfill clock: last
quarter's mostly confirmed (three left unconfirmed, to become late), this
quarter's partly confirmed, partly in progress, partly still planned, with
听查看谈 notes, failed lines, participants' scores, a few highlights and some
standards failed again.  The ledger items are the findings those
confirmations created, plus a few hand-recorded ones (督查暗访, 巡察, 自查);
``PLAN`` plays them on through every state and sub-step (overdue,
rejected-once, extended ...), each with a true history.

Everything is deterministic from the seed except "now": the story is laid out
backwards from the day the demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ledger.calendar.periods import period_for
from ledger.catalog.standards import current_catalog
from ledger.core.actors import Actor
from ledger.core.models import (
    Item,
    Observation,
    ObservationParticipant,
    RankingRow,
    Role,
    Standard,
    Unit,
    User,
)
from ledger.dashboard import summary as dashboard_summary
from ledger.instance.bootstrap import Sanhu
from ledger.items import services as svc
from ledger.observations import record
from ledger.observations import services as obs_svc
from ledger.observations.coverage import mark_late
from ledger.observations.cycles import open_cycle, period_bounds
from ledger.observations.planning import (
    DEFAULT_THEMES,
    assign_liaison,
    save_batch,
    save_group,
    save_plan,
    schedule,
)
from ledger.org.directory import add_unit, hash_password
from ledger.results import funds, rankings, reports
from ledger.survey import services as survey_svc

DEMO_PASSWORD = "sanhu-demo-2026"
COUNTIES = ["东山县", "西河县"]
TOWNSHIPS = ["城关镇", "青石乡", "柳林镇"]
VILLAGES = ["东村", "西村", "南村", "北村", "前进村", "新华社区"]
VQ, HY = "village_quarterly", "township_half_yearly"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    unit: str


def photo(shade: int = 0, width: int = 240, height: int = 160) -> bytes:
    """A placeholder photo: a real PNG, a light wall over a red board; ``shade`` varies it."""
    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body)))

    wall, board = bytes((236, 232 - shade % 24, 220)), bytes((178, 34 + shade % 40, 34))
    rows = b"".join(b"\0" + (wall if y < height * 0.55 else board) * width
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def is_empty(sanhu: Sanhu) -> bool:
    with sanhu.uow() as uow:
        return not uow.session.scalar(select(func.count(User.id)))


def load_demo(sanhu: Sanhu, seed: int = 2026) -> list[DemoLogin]:
    """Create the demo organisation, users, cycles, observations and items; returns the logins."""
    rnd = random.Random(seed)
    logins, cast = _organisation(sanhu)
    prev, cur = _open_cycles(sanhu)
    with sanhu.uow() as uow:
        observations = {(c, u): o for o, c, u in uow.session.execute(
            select(Observation.id, Observation.cycle_id, Observation.unit_id))}
        basic = uow.session.execute(select(Standard.number, Standard.id, Standard.category_number)
                                    .where(Standard.set == "basic", Standard.catalog_version_id
                                           == current_catalog(uow.session).id)).all()
    standards = {n: i for n, i, _ in basic}
    categories = {n: c for n, _, c in basic}
    visits = _plan_visits(rnd, cast, prev, cur, observations, categories)
    findings = [f for v in visits for f in _play_visit(sanhu, rnd, cast, v, standards)]
    repeated = {(v.village.id, n) for v in visits for n in v.repeats}
    _play_items(sanhu, rnd, cast, findings, repeated, prev.limit)
    _plans_and_liaisons(sanhu, cast, cur)
    _publish_rankings(sanhu, cast, prev)
    _reports(sanhu, cast, prev)
    _surveys(sanhu, cast, rnd)
    with sanhu.uow() as uow:
        mark_late(uow, uow.today())  # last quarter's unfinished visits (the daily job does this)
    with sanhu.uow() as uow:
        dashboard_summary.refresh(uow)  # the dashboards at once (the job recounts every 10 min)
    return logins


def _surveys(sanhu: Sanhu, cast: Cast, rnd: random.Random) -> None:
    """This year's 调查表 of the first township of each county: filled and submitted by the
    secretaries; the township accepts most, returns one with a note; the rest elsewhere
    stay unopened."""
    for county_id in cast.county_staff:
        first = min(v.township_id for v in cast.villages if v.county_id == county_id)
        town = cast.township_staff[first]
        for n, village in enumerate(v for v in cast.villages if v.township_id == first):
            sec = cast.secretaries[village.id]
            members = rnd.randint(25, 60)
            values = {
                "households": str(rnd.randint(180, 520)),
                "population": str(rnd.randint(700, 2000)), "poor_village": "否",
                "weak_lax": "否", "org_form": "党支部", "members_total": str(members),
                "members_probationary": str(rnd.randint(0, 3)),
                "members_women": str(members // 5), "members_under_35": str(members // 7),
                "members_over_60": str(members // 3), "secretary_name": sec.username,
                "secretary_sex": "男", "secretary_age": str(rnd.randint(35, 58)),
                "secretary_education": "大专", "secretary_one_shoulder": "是",
                "committee_members": [{"name": f"{village.name}支委{k}", "post": post,
                                       "sex": "女" if k == 2 else "男", "age": "45"}
                                      for k, post in enumerate(("书记", "组织委员",
                                                                "宣传委员"), start=1)],
                "first_secretary": "否", "reserve_cadres": str(rnd.randint(1, 5)),
                "site_area": f"{rnd.randint(120, 400)}.0", "congresses": "4",
                "committee_meetings": "12", "group_meetings": str(rnd.randint(8, 16)),
                "party_lectures": "4", "collective_income": f"{rnd.uniform(2, 30):.1f}",
                "filled_by": sec.username, "secretary_since": "2021-03-15",
            }
            with sanhu.uow() as uow:
                values["filled_on"] = uow.today().isoformat()
                survey = survey_svc.open_survey(uow, sec, uow.today().year)
            if n == 5:
                continue  # one still a draft
            with sanhu.uow() as uow:
                survey_svc.submit(uow, survey.id, sec, values=values)
            with sanhu.uow() as uow:
                if n == 4:
                    survey_svc.return_survey(uow, survey.id, town,
                                             note="集体经济收入请附村级财务报表数据")
                elif n < 3:
                    survey_svc.accept(uow, survey.id, town)


def _publish_rankings(sanhu: Sanhu, cast: Cast, prev: Quarter) -> None:
    """Last quarter's rankings: computed by each township's staff, the late visits
    excused, approved by its 党委书记 and published, so units have a class."""
    for town_id, staff in cast.township_staff.items():
        with sanhu.uow() as uow:
            ranking = rankings.compute(uow, prev.cycle_id, staff)
        with sanhu.uow() as uow:
            missing = uow.session.scalars(select(RankingRow.unit_id).where(
                RankingRow.ranking_id == ranking.id, RankingRow.rank.is_(None))).all()
        for unit_id in missing:
            with sanhu.uow() as uow:
                rankings.excuse(uow, ranking.id, unit_id, staff,
                                reason="观摩未按期完成，已列入本季度重点观摩")
        with sanhu.uow() as uow:
            rankings.approve(uow, ranking.id, cast.township_leaders[town_id])
        with sanhu.uow() as uow:
            rankings.publish(uow, ranking.id, staff)
        if town_id == min(cast.township_staff):
            _funds(sanhu, ranking.id, staff, cast.township_leaders[town_id])


def _funds(sanhu: Sanhu, ranking_id: int, staff: Actor, leader: Actor) -> None:
    """以奖代补 of the first township's published ranking: an amount per class, saved by
    its staff and approved by its 党委书记."""
    with sanhu.uow() as uow:
        funds.save_rule(uow, ranking_id, staff, {"kind": "class", "demonstration": "20000",
                                                 "middle": "8000", "lagging": "0"})
    with sanhu.uow() as uow:
        funds.approve(uow, ranking_id, leader)


def _reports(sanhu: Sanhu, cast: Cast, prev: Quarter) -> None:
    """Last quarter's reports (报送) to each county: its first township's received, the
    second's submitted and waiting, the third's returned with a note; the others not
    sent, so they show on the county's board once the due date has passed."""
    towns_of: dict[int, list[int]] = {}
    for v in cast.villages:
        if v.township_id not in towns_of.setdefault(v.county_id, []):
            towns_of[v.county_id].append(v.township_id)
    for county_id, towns in towns_of.items():
        county = cast.county_staff[county_id]
        for n, town_id in enumerate(sorted(towns)[:3]):
            staff = cast.township_staff[town_id]
            with sanhu.uow() as uow:
                report = reports.open_report(uow, staff, prev.period)
            with sanhu.uow() as uow:
                reports.submit(uow, report.id, staff, cover_note=(
                    f"{prev.period} 季度观摩评议已完成，排名已公示；发现问题均已交办，"
                    "逾期问题已逐一督促。"))
            with sanhu.uow() as uow:
                if n == 0:
                    reports.receive(uow, report.id, county)
                elif n == 2:
                    reports.send_back(uow, report.id, county,
                                      note="请补充逾期问题的原因及下一步措施")


def _plans_and_liaisons(sanhu: Sanhu, cast: Cast, cur: Quarter) -> None:
    """Each county's staff is liaison to its first township; each township has this
    quarter's plan, a group and a batch for the villages it has not visited yet."""
    for county_id, county in cast.county_staff.items():
        first = min(v.township_id for v in cast.villages if v.county_id == county_id)
        with sanhu.uow() as uow:
            assign_liaison(uow, county, user_id=county.id, township_id=first)
    _, last = period_bounds(VQ, cur.period)
    with sanhu.uow() as uow:
        day = max(uow.today(), last - dt.timedelta(days=10))
        rows = uow.session.execute(select(Observation.id, Observation.observing_unit_id).where(
            Observation.cycle_id == cur.cycle_id, Observation.status == "planned")).all()
    waiting: dict[int, list[int]] = {}
    for oid, town_id in rows:
        waiting.setdefault(town_id, []).append(oid)
    for town_id, staff in cast.township_staff.items():
        with sanhu.uow() as uow:
            save_plan(uow, cur.cycle_id, staff, goals="本季度对所辖各村观摩全覆盖、无遗漏",
                      methods="听取汇报、查阅资料、实地查看、个别谈话、现场评议",
                      steps="分两批进行：第一批为示范创建村，第二批为其余各村",
                      rectification="问题清单当场反馈，录入台账，限期整改销号",
                      guidance="乡镇党委书记带队，分包县领导全程指导",
                      use_of_results="观摩结果作为年度考核和评先评优的重要依据")
        if town_id not in waiting or not day <= last:
            continue
        with sanhu.uow() as uow:
            group = save_group(uow, cur.cycle_id, staff, name="第一组", member_ids=[staff.id],
                               outside="县委组织部 联系人\n乡镇纪委 委员")
        with sanhu.uow() as uow:
            batch = save_batch(uow, cur.cycle_id, staff, name="第二批", day=day)
        with sanhu.uow() as uow:
            schedule(uow, cur.cycle_id, staff, waiting[town_id], group_id=group, batch_id=batch)


def demo_user_actor(sanhu: Sanhu, username: str) -> Actor:
    with sanhu.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        return Actor.of(user, uow.session.get(Unit, user.unit_id))


# --- the organisation ---------------------------------------------------------------


@dataclass(frozen=True)
class Village:
    id: int
    name: str
    township: str
    county: str
    township_id: int
    county_id: int


@dataclass
class Cast:
    """The demo's units and people: actors by the id of their unit."""

    villages: list[Village] = field(default_factory=list)
    secretaries: dict[int, Actor] = field(default_factory=dict)
    township_staff: dict[int, Actor] = field(default_factory=dict)
    #: each township's 党委书记, who approves its rankings (not their author)
    township_leaders: dict[int, Actor] = field(default_factory=dict)
    county_staff: dict[int, Actor] = field(default_factory=dict)
    supervisor: Actor | None = None


def _organisation(sanhu: Sanhu) -> tuple[list[DemoLogin], Cast]:
    logins: list[DemoLogin] = []
    cast = Cast()
    # one hash for everybody: argon2 takes about half a second per hash, on purpose
    password_hash = hash_password(DEMO_PASSWORD)
    with sanhu.uow() as uow:
        s = uow.session

        def user(username: str, name: str, role: Role, unit: Unit, post: str) -> Actor:
            u = User(username=username, display_name=name, role=role.value, unit_id=unit.id,
                     password_hash=password_hash, post=post, email=f"{username}@example.org")
            s.add(u)
            s.flush()
            logins.append(DemoLogin(username, role.value, unit.name))
            return Actor.of(u, unit)

        city = add_unit(s, code="139900000000", name="示范市", level="city")
        user("admin", "系统管理员", Role.ADMIN, city, "管理员")
        user("city", "市委组织部 王科长", Role.CITY_STAFF, city, "组织科科长")
        cast.supervisor = user("supervisor", "市督查组 李组长", Role.SUPERVISOR, city, "督查组组长")
        for ci, cname in enumerate(COUNTIES, start=1):
            county = add_unit(s, code=f"1399{ci:02d}000000", name=cname, level="county",
                              parent=city)
            cast.county_staff[county.id] = user(f"county{ci}", f"{cname}委组织部 张干事",
                                                Role.COUNTY_STAFF, county, "组织部干事")
            for ti, tname in enumerate(TOWNSHIPS, start=1):
                town = add_unit(s, code=f"1399{ci:02d}{ti:03d}000", name=tname,
                                level="township", parent=county)
                cast.township_staff[town.id] = user(f"town{ci}{ti}", f"{tname}党委 组织委员",
                                                    Role.TOWNSHIP_STAFF, town, "组织委员")
                cast.township_leaders[town.id] = user(f"lead{ci}{ti}", f"{tname}党委书记",
                                                      Role.TOWNSHIP_STAFF, town, "党委书记")
                for vi, vname in enumerate(VILLAGES, start=1):
                    village = add_unit(s, code=f"1399{ci:02d}{ti:03d}{vi:03d}", name=vname,
                                       level="village", parent=town)
                    cast.secretaries[village.id] = user(
                        f"sec{ci}{ti}{vi}", f"{vname}党支部书记", Role.VILLAGE_SECRETARY,
                        village, "党支部书记")
                    cast.villages.append(Village(village.id, vname, tname, cname, town.id,
                                                 county.id))
        uow.commit()
    return logins, cast


# --- time ---------------------------------------------------------------------------


def _same(t: dt.datetime) -> dt.datetime:
    return t


@dataclass
class Clock:
    """A backfill clock for one story (a visit, an item), moved on by its steps.

    ``fit`` maps the planned time to the time written (see ``_open_cycles``).
    """

    now: dt.datetime
    fit: Callable[[dt.datetime], dt.datetime] = _same

    def __call__(self) -> dt.datetime:
        return self.fit(self.now)

    def move(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)

    def at_least(self, moment: dt.datetime) -> None:
        self.now = max(self.now, moment)


def _step(sanhu: Sanhu, clock: Clock, fn: Callable, *args, **kwargs):
    """Call a service in its own unit of work, at the clock's time."""
    with sanhu.uow(clock=clock) as uow:
        return fn(uow, *args, **kwargs)


@dataclass
class Quarter:
    """A village cycle of the demo and when its visits happen."""

    period: str
    cycle_id: int
    #: 12 days: batch b of the township with index t visits on ``days[b * 6 + t]``
    days: list[dt.date]
    local: Callable[[dt.date, int, int], dt.datetime]
    #: planned times stay before this; ``fit`` moves them to before now
    limit: dt.datetime
    fit: Callable[[dt.datetime], dt.datetime] = _same
    first: bool = False


def _quarter_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), 3 * int(period[-1]) - 2, 1)


def _spread(calendar, lo: dt.date, hi: dt.date, n: int = 12) -> list[dt.date]:
    """``n`` days spread over the working days from ``lo`` to ``hi`` (any days if none)."""
    days = [lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)] or [lo]
    work = [d for d in days if calendar.is_workday(d)] or days
    return [work[round(i * (len(work) - 1) / (n - 1))] for i in range(n)]


def _open_cycles(sanhu: Sanhu) -> tuple[Quarter, Quarter]:
    """Open last quarter's and this quarter's village cycles and this half-year's
    township cycle, each as of its first morning, and lay out the visit days.

    Early in a quarter there are not enough days behind us for this quarter's
    story: it is then planned over its first two weeks and squeezed (``fit``,
    linear, so histories keep their order) into the time there is.
    """
    zone = sanhu.settings.zone

    def local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), zone).astimezone(dt.UTC)

    with sanhu.uow() as uow:
        limit = uow.now() - dt.timedelta(minutes=5)
        today, calendar = uow.today(), uow.calendar
        cur_period = period_for(VQ, today)
        c_start = _quarter_start(cur_period)
        prev_period = period_for(VQ, c_start - dt.timedelta(days=1))
        p_start = _quarter_start(prev_period)
        prev_days = _spread(calendar, p_start + dt.timedelta(days=20),
                            c_start - dt.timedelta(days=5))
        hi = max(today - dt.timedelta(days=1), c_start + dt.timedelta(days=12))
        cur_days = _spread(calendar, c_start + dt.timedelta(days=3), hi)
    t0 = min(local(c_start, 0), limit - dt.timedelta(minutes=1))
    planned_end = max(limit, local(hi, 23))

    def fit(t: dt.datetime) -> dt.datetime:
        return t if t <= t0 else t0 + (t - t0) * ((limit - t0) / (planned_end - t0))

    with sanhu.uow(clock=lambda: local(p_start, 8, 30)) as uow:
        prev = open_cycle(uow, VQ, prev_period, theme=FIRST_THEME)
    with sanhu.uow(clock=lambda: fit(local(c_start, 8, 30))) as uow:
        cur = open_cycle(uow, VQ, cur_period, theme=THEMES[0])
    half = period_for(HY, today)
    h_start = dt.date(int(half[:4]), 1 if half.endswith("1") else 7, 1)
    with sanhu.uow(clock=lambda: min(local(h_start, 8, 30), limit)) as uow:
        open_cycle(uow, HY, half, theme=FIRST_THEME)
    return (Quarter(prev_period, prev.cycle_id, prev_days, local, limit, first=True),
            Quarter(cur_period, cur.cycle_id, cur_days, local, planned_end, fit))


# --- what the visits find -------------------------------------------------------------

FIRST_THEME = "阵地建设、氛围营造、制度上墙"
THEMES = DEFAULT_THEMES[:5]
#: 听, 查, 看, 谈 by theme ({v}: the village)
NOTES = {
    FIRST_THEME: (
        "听取{v}党支部书记汇报党群服务中心建设使用、氛围营造和制度上墙情况,支部委员逐一补充。",
        "查阅党群服务中心管理制度、值班记录、设施设备登记台账和近一年“三会一课”记录本。",
        "实地查看党群服务中心、党员活动室和便民服务大厅,查看标识标牌、公开栏和制度上墙情况。",
        "与党员群众代表谈话5人次,了解活动场所开放使用、便民服务和党务村务公开情况。"),
    "三会一课": (
        "听取{v}党支部书记汇报今年以来“三会一课”开展情况和下一步打算。",
        "查阅三会一课记录本、支委会会议记录、党课讲稿及签到表,核对召开次数和参会人数。",
        "实地查看党员活动室,查看会议记录本存放、学习资料配备和制度上墙情况。",
        "与党员群众代表谈话6人次,了解党员参加组织生活和支部书记讲党课情况。"),
    "组织生活会": (
        "听取{v}党支部书记汇报组织生活会和民主评议党员开展情况。",
        "查阅组织生活会会议记录、谈心谈话记录、对照检查材料和整改清单。",
        "实地查看党员活动室和党务公开栏,查看整改事项公开情况。",
        "与党员群众代表谈话5人次,了解批评与自我批评开展和问题整改落实情况。"),
    "主题党日": (
        "听取{v}党支部书记汇报每月主题党日活动安排及开展情况。",
        "查阅主题党日活动方案、活动记录、签到表和影像资料。",
        "实地查看党员活动室、党员志愿服务岗和主题党日活动照片展板。",
        "与党员群众代表谈话6人次,了解主题党日活动内容是否贴近实际、群众是否认可。"),
    "党员作用发挥": (
        "听取{v}党支部书记汇报党员设岗定责、承诺践诺和联系服务群众情况。",
        "查阅党员设岗定责台账、承诺践诺记录、党员积分管理台账和联户走访记录。",
        "实地查看党员示范岗、党员责任区和党员带头领办的产业项目。",
        "与党员群众代表谈话8人次,了解无职党员履岗情况和群众对党员作用发挥的评价。"),
    "“四议两公开”工作法": (
        "听取{v}党支部书记汇报今年以来运用“四议两公开”工作法决策村级重大事项情况。",
        "查阅村级重大事项决策记录、党员大会和村民代表会议记录、决议及实施结果公开材料。",
        "实地查看村务公开栏和党务公开栏,查看决议和实施结果公开情况。",
        "与党员群众代表谈话6人次,了解群众对村级重大事项决策程序和公开情况的知晓度。"),
}
#: the standards (basic set, by number) a visit may find short: 不符合 and 基本符合 notes
SHORTFALLS = {
    2: ("村内2家农民合作社未依托村党组织建立功能型党组织,党员作用发挥无载体。",
        "已在1家合作社建立功能型党小组,但活动开展不经常,记录不全。"),
    3: ("外出务工党员较集中,未建立流动党组织或网上党支部,流动党员长期游离于组织之外。",
        "已建立流动党员微信群,但未定期组织学习,管理停留在联络层面。"),
    9: ("村未配齐组织委员,村民组长队伍老化,后备力量不足。",
        "已配备组织委员,但村级后备力量培养台账未建立。"),
    10: ("村党组织书记今年未参加县级集中培训,学习培训学时不足。",
         "班子成员学习培训记录不全,学时统计不准确。"),
    12: ("党员学习培训学时不足,年老体弱党员未送学上门,培训记录缺失。",
         "集中学习已开展,但学习记录内容简单,个别党员学时不足24学时。"),
    13: ("党费收缴不及时,3名党员未按月交纳党费,上半年收缴情况未公布。",
         "党费按时收缴,但收缴情况公布不及时。"),
    15: ("流动党员排查未按季度开展,底数不清,“双向共管”措施未落实。",
         "流动党员台账已建立,但信息更新不及时。"),
    16: ("未建立困难党员台账,今年未开展关怀帮扶活动。", "困难党员台账已建立,但帮扶记录不全。"),
    17: ("党员信息库未及时更新维护,2名党员信息与实际不符,远程教育站点长期未使用。",
         "党员信息库个别信息未及时更新。"),
    18: ("支委会未按月召开,党员大会本年度仅召开1次,党课记录缺失,会议记录简单雷同。",
         "“三会一课”基本按时召开,但部分会议记录内容简单,党课讲稿未存档。"),
    19: ("上年度民主评议党员未按程序开展,无评议记录和结果运用。",
         "民主评议已开展,但个人自评和组织考察材料不全。"),
    20: ("上半年未召开组织生活会,无对照检查材料,谈心谈话记录缺失。",
         "组织生活会已召开,但批评意见辣味不足,整改清单未公开。"),
    23: ("“党员活动日”未固定开展,近三个月无活动记录。",
         "党员活动日基本按月开展,但活动内容单一,记录不规范。"),
    25: ("党群服务中心标识不统一,村务监督委员会标牌未悬挂。",
         "主标识已统一,但个别标牌破损未及时更换。"),
    26: ("党务、村务、财务公开栏长期未更新,信息发布栏目设置不规范。",
         "公开栏设置规范,但财务公开内容更新滞后1个季度。"),
    27: ("活动场所党建宣传氛围不浓,村规民约、文化法制宣传内容缺失。",
         "宣传氛围基本营造,但部分展板内容陈旧。"),
    28: ("活动场所设施设备未登记造册,管理维护制度未上墙。", "设施设备已登记,但维护记录不全。"),
    29: ("便民服务大厅工作日无人值班,代办服务未开展,群众办事不便。",
         "代办服务已开展,但代办记录不全,办理时限未公示。"),
    30: ("村级重大事项未执行“四议两公开”程序,集体资产发包未经党员大会审议。",
         "“四议两公开”已执行,但决议公开和实施结果公开材料不全。"),
    31: ("村级权责清单未公开,党务村务财务管理制度不健全。", "权责清单已制定,但未在公开栏公示。"),
    32: ("村干部挂牌值班和包组联户制度未落实,今年走访农户不足半数。",
         "村干部坐班制度已落实,但联户走访记录不全。"),
    33: ("党员年初承诺内容空泛,年中践诺、年底评诺未开展。", "承诺践诺已开展,但评诺结果未公开。"),
    37: ("无职党员“设岗定责”未落实,岗位职责不清,党员身份意识不强。",
         "已设岗定责,但岗位设置与村里实际结合不紧,履岗记录不全。"),
    38: ("工作载体单一,缺少结合本村实际的特色做法。", "有工作载体,但推进不经常,成效不明显。"),
    41: ("村集体经济无稳定经营性收入,年收益不足2万元,发展思路不清。",
         "集体经济有一定收入,但项目单一,增收不稳定。"),
    42: ("村内人居环境整治不到位,部分巷道垃圾堆放,红白理事会作用发挥不明显。",
         "人居环境总体整洁,但个别村民组卫生死角清理不及时。"),
}
#: the standards each theme looks at first
THEME_STANDARDS = {FIRST_THEME: (25, 26, 27, 28, 29), "三会一课": (18, 23, 12),
                   "组织生活会": (19, 20, 16), "主题党日": (23, 12, 37),
                   "党员作用发挥": (37, 33, 32), "“四议两公开”工作法": (30, 31, 26)}
REPEAT_NOTE = "上次观摩指出的问题整改不彻底:"
#: 亮点 and 经验总结, by theme
HIGHLIGHTS = (
    (FIRST_THEME,
     "党群服务中心实行村干部轮流坐班和代办服务,群众办事“最多跑一次”,服务台账规范完整。",
     "以便民服务为抓手,把党群服务中心建成群众愿意来、常来的“连心家园”。"),
    (FIRST_THEME,
     "党群服务中心标识统一、制度上墙规范,党员活动室、便民服务大厅、农家书屋一室多用。",
     "阵地建起来更要用起来:每周固定开放日,让党员群众常来常往,阵地人气旺了,凝聚力也强了。"),
    ("党员作用发挥",
     "推行党员积分制管理,将参加组织生活、志愿服务、联系群众等量化积分,每季度公示排名。",
     "党员积分制管理把“软要求”变成“硬指标”,积分结果与评先评优挂钩,有效激发了无职党员干事热情。"),
    ("党员作用发挥",
     "建立“党员中心户”联系群众制度,每名党员中心户联系10至15户群众,今年收集解决群众诉求40余件。",
     "以党员中心户为纽带,把支部的触角延伸到每个村民小组,做到小事不出组、大事不出村。"),
    ("党员作用发挥",
     "依托村党支部领办蔬菜种植专业合作社,带动120户群众户均增收3000元,村集体年增收8万元。",
     "“支部+合作社+农户”模式实现了党建与产业深度融合,是壮大村级集体经济的有效路径。"),
    ("三会一课",
     "“三会一课”推行“一会一主题、一课一案例”,支部书记每季度结合村里产业发展讲党课。",
     "把党课讲在田间地头、讲到群众心坎上,组织生活有了“烟火气”,党员参与积极性明显提高。"),
    ("三会一课",
     "建立流动党员“微党支部”,外出党员每月通过视频参加一次“三会一课”。",
     "用信息化手段破解流动党员管理难题,实现“离乡不离党、流动不流失”。"),
    ("“四议两公开”工作法",
     "运用“四议两公开”工作法决策村集体土地流转事项,全程公开、群众参与,做到零上访。",
     "重大事项决策坚持程序不走样、公开不打折,既保障了群众的知情权参与权,又提升了村党组织公信力。"),
    ("主题党日",
     "每月主题党日固定开展“党员志愿服务+”活动,组织党员参与环境整治、关爱留守老人。",
     "主题党日与志愿服务结合,让党员亮身份、作表率,组织生活由“室内”走向“室外”。"),
    ("组织生活会",
     "组织生活会前支部书记与每名党员谈心谈话全覆盖,会上逐一点评,整改清单张榜公布。",
     "把批评和自我批评落到实处,问题查摆见人见事,整改公开接受群众监督。"),
)
COMMENTS = ((0.75, "基础工作扎实,特色亮点突出,可作为示范推广。"),
            (0.45, "各项工作基本规范,个别环节有待加强。"),
            (0.0, "基础工作薄弱,问题较多,需加大整改力度。"))
LIAISONS = {"东山县": "刘建华", "西河县": "赵丽萍"}
DISCIPLINE = ("陈志强", "孙海燕", "周明", "吴桂芳", "郑伟", "马晓东")


@dataclass
class Visit:
    """One demo observation as it should end up."""

    obs_id: int
    village: Village
    quarter: Quarter
    fate: str  # planned, in_progress, submitted or confirmed
    quality: float  # 0 (weak) … 1 (exemplary): drives failures and scores
    day: dt.date
    when: dt.datetime
    theme: str
    mode: str = "focused"
    categories: list[int] | None = None  # of a selective visit
    counted: list[int] = field(default_factory=list)  # the standards (numbers) it counts
    demonstration: bool = False
    fails: list[int] = field(default_factory=list)
    repeats: set[int] = field(default_factory=set)
    partials: list[int] = field(default_factory=list)
    highlight: tuple[str, str] | None = None
    highlight_photo: bool = False
    line_photo: bool = False


@dataclass(frozen=True, eq=False)
class Finding:
    """A ledger item created by a confirmation."""

    item_id: int
    village: Village
    number: int  # of the standard
    at: dt.datetime  # planned time of the confirmation
    quarter: Quarter


def _shortfalls(rnd: random.Random, visit: Visit, count: int, avoid=()) -> list[int]:
    """``count`` standards this visit finds short, the theme's first, among those counted."""
    pool = [n for n in SHORTFALLS if n not in avoid and n in visit.counted]
    preferred = [n for n in THEME_STANDARDS[visit.theme] if n in pool]
    chosen: list[int] = []
    while len(chosen) < min(count, len(pool)):
        source = preferred if preferred and rnd.random() < 0.5 else pool
        n = rnd.choice(source)
        if n not in chosen:
            chosen.append(n)
    return chosen


def _plan_visits(rnd: random.Random, cast: Cast, prev: Quarter, cur: Quarter,
                 observations: dict[tuple[int, int], int],
                 categories: dict[int, int]) -> list[Visit]:
    """Who is visited when, and what each visit finds (deterministic from ``rnd``).

    ``categories`` gives the category of each basic standard, by number.
    """
    base = {v.id: rnd.uniform(0.05, 0.97) for v in cast.villages}
    first = cast.villages[0]  # 东山县城关镇东村 (sec111): left planned this quarter
    others = cast.villages[1:]
    unconfirmed = rnd.sample(others, 3)
    prev_fate = {v.id: "confirmed" for v in cast.villages}
    prev_fate.update({unconfirmed[0].id: "in_progress", unconfirmed[1].id: "in_progress",
                      unconfirmed[2].id: "submitted"})
    visits: list[Visit] = []
    for v, day, when in _visit_times(cast, prev):
        q = _clamp(base[v.id] + rnd.uniform(-0.06, 0.06))
        visit = Visit(observations[prev.cycle_id, v.id], v, prev, prev_fate[v.id], q, day,
                      when, FIRST_THEME, counted=sorted(categories))
        _findings_of(rnd, visit)
        visits.append(visit)
    done = sorted((x for x in visits if x.fate == "confirmed"), key=lambda x: x.quality)
    weakest = {x.village.id: x for x in [x for x in done if x.village != first and x.fails][:3]}
    planned = [first] + rnd.sample([v for v in others if v.id not in weakest], 5)
    rest = [v for v in others if v.id not in weakest and v not in planned]
    rnd.shuffle(rest)
    fate = {v.id: "confirmed" for v in cast.villages}
    fate.update({v.id: "planned" for v in planned})
    fate.update({v.id: "in_progress" for v in rest[:5]})
    fate.update({v.id: "submitted" for v in rest[5:7]})
    selective = {v.id for v in rest[7:12]} | {rest[0].id}
    current: list[Visit] = []
    for v, day, when in _visit_times(cast, cur):
        last = weakest.get(v.id)
        q = (_clamp(last.quality + rnd.uniform(0.0, 0.1)) if last
             else _clamp(base[v.id] + rnd.uniform(-0.1, 0.1)))
        theme = THEMES[0] if rnd.random() < 0.3 else rnd.choice(THEMES)
        visit = Visit(observations[cur.cycle_id, v.id], v, cur, fate[v.id], q, day, when,
                      theme, counted=sorted(categories))
        if last:
            visit.mode, visit.repeats = "pushing", {last.fails[0]}
        elif v.id in selective:
            visit.mode = "selective"
            visit.categories = sorted(rnd.sample(sorted(set(categories.values())), 3))
            visit.counted = [n for n in visit.counted if categories[n] in visit.categories]
        _findings_of(rnd, visit)
        current.append(visit)
    good = sorted((x for x in current if x.fate == "confirmed" and x.mode == "focused"),
                  key=lambda x: -x.quality)
    for x in good[:2]:
        x.demonstration = True
    _highlights(rnd, done[:-4:-1], good[:5])
    return visits + current


def _findings_of(rnd: random.Random, visit: Visit) -> None:
    """Failed and partly met lines by quality: the weakest fail four standards."""
    count = round((1 - visit.quality) ** 1.2 * 3.8)
    visit.fails = sorted(set(visit.repeats) | set(_shortfalls(
        rnd, visit, max(count - len(visit.repeats), 0), avoid=visit.repeats)))
    visit.partials = _shortfalls(rnd, visit, 1 if visit.quality > 0.5 else 2,
                                 avoid=visit.fails)
    visit.line_photo = bool(visit.fails) and rnd.random() < 0.2


def _highlights(rnd: random.Random, last: list[Visit], now: list[Visit]) -> None:
    """The best visits record a good practice, on their theme where there is one left."""
    unused = list(HIGHLIGHTS)
    rnd.shuffle(unused)
    for on_theme in (True, False):
        for visit in last + now:
            text = next((h for h in unused if h[0] == visit.theme or not on_theme), None)
            if visit.highlight is None and text is not None:
                unused.remove(text)
                visit.highlight = text[1:]
                visit.highlight_photo = visit in (last[0], now[0], now[1])


def _clamp(q: float) -> float:
    return min(max(q, 0.0), 1.0)


def _visit_times(cast: Cast, quarter: Quarter):
    """(village, day, start of the visit): each township visits three villages a day, twice."""
    townships = list(dict.fromkeys(v.township_id for v in cast.villages))
    slots = ((8, 30), (10, 40), (14, 30))
    for v in cast.villages:
        t = townships.index(v.township_id)
        i = [x for x in cast.villages if x.township_id == v.township_id].index(v)
        day = quarter.days[(i // 3) * 6 + t]
        yield v, day, quarter.local(day, *slots[i % 3])


# --- playing a visit ------------------------------------------------------------------


def _play_visit(sanhu: Sanhu, rnd: random.Random, cast: Cast, visit: Visit,
                standards: dict[int, int]) -> list[Finding]:
    """Record the visit through the observation services, as far as its fate goes.

    Returns the findings its confirmation put in the ledger.
    """
    if visit.fate == "planned":
        return []
    staff = cast.township_staff[visit.village.township_id]
    obs, quarter = visit.obs_id, visit.quarter
    clock = Clock(visit.when, quarter.fit)

    def step(fn: Callable, *args, **kwargs):
        clock.move(minutes=rnd.randint(3, 9))
        return _step(sanhu, clock, fn, *args, **kwargs)

    step(obs_svc.start, obs, staff)
    if not quarter.first:
        step(record.save_settings, obs, staff, mode=visit.mode,
             categories=[f"basic:{c}" for c in visit.categories or []],
             demonstration=visit.demonstration, theme=visit.theme)
    county = visit.village.county
    step(record.add_participant, obs, staff, name=LIAISONS[county],
         affiliation=f"{county}委组织部 联系人")
    if rnd.random() < 0.6:
        step(record.add_participant, obs, staff, name=rnd.choice(DISCIPLINE),
             affiliation=f"{visit.village.township}纪委 委员")
    unfinished = visit.fate == "in_progress"
    for name, text in zip(("listen", "check", "look", "talk"), NOTES[visit.theme], strict=True):
        if unfinished and name == "look":
            break
        step(record.save_section, obs, name, staff, body=text.format(v=visit.village.name))
    # the weaker the village, the more each failure costs: totals from about 60 to 98
    deduction = 4 + round(8 * (1 - visit.quality) ** 1.5)
    for n in visit.fails[:1] if unfinished else visit.fails:
        note = (REPEAT_NOTE if n in visit.repeats else "") + SHORTFALLS[n][0]
        step(record.save_line, obs, standards[n], staff, result="fail", note=note,
             deduction=max(deduction + rnd.choice((-1, 0, 0, 1)), 2))
    if unfinished:  # the first category or so answered, the rest still to be filled in
        for n in [n for n in visit.counted if n not in visit.fails][:rnd.randint(3, 6)]:
            step(record.save_line, obs, standards[n], staff, result="conform")
        return []
    if visit.line_photo:
        step(record.attach, obs, staff, data=photo(obs + 7), filename="现场照片.png",
             standard_id=standards[visit.fails[0]])
    for n in visit.partials:
        step(record.save_line, obs, standards[n], staff, result="partial",
             note=SHORTFALLS[n][1], deduction=1 if visit.quality > 0.5 else 2)
    step(record.mark_rest, obs, staff)
    if visit.highlight:
        step(record.save_section, obs, "highlights", staff, body=visit.highlight[0])
        step(record.save_section, obs, "experience", staff, body=visit.highlight[1])
        if visit.highlight_photo:
            step(record.attach, obs, staff, data=photo(obs), filename="亮点.png",
                 section="highlights")
    with sanhu.uow() as uow:
        participants = uow.session.scalars(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs)).all()
    comment = next(text for floor, text in COMMENTS if visit.quality >= floor)
    for pid in participants:
        score = round(2 * (58 + 40 * visit.quality + rnd.uniform(-3, 3))) / 2
        step(record.save_evaluation, obs, pid, staff, score=min(score, 100), comment=comment)
    step(obs_svc.submit, obs, staff)
    if visit.fate == "submitted":
        return []
    clock.at_least(quarter.local(visit.day, 17, 30))  # the group confirms at the day's end
    result = step(obs_svc.confirm, obs, staff)
    return [Finding(item, visit.village, n, clock.now, quarter)
            for item, n in zip(result.findings, visit.fails, strict=True)]


# --- the ledger items -----------------------------------------------------------------

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
#: hours between the steps of an item's story, before it is squeezed or stretched
GAPS = {"assign": 17, "request_extension": 50, "approve_extension": 20, "accept": 22,
        "report_progress": 48, "submit": 52, "reject": 22, "verify": 44, "close": 46,
        "dismiss": 70}
#: hand-recorded problems: source, who records, standard number, description
HAND = (
    ("inspection", "supervisor", 29,
     "市督查组暗访发现:{v}党群服务中心工作日上午无人值班,群众办事找不到人。"),
    ("patrol", "county", 31, "县委巡察反馈:{v}村级财务公开不及时,个别支出票据不规范。"),
    ("self_check", "town", 17, "{v}党支部自查发现:党员信息库未及时更新,2名党员信息有误。"),
    ("inspection", "supervisor", 27, "市督查组暗访发现:{v}党建宣传栏内容陈旧,部分展板破损。"),
    ("self_check", "town", 13, "{v}党支部自查发现:党费收缴记录不完整,个别月份未登记。"),
    ("patrol", "county", 30, "县委巡察反馈:{v}集体资产发包未执行“四议两公开”程序。"),
)
MEASURES = ("召开支委会研究整改方案,明确专人负责,限期完成。",
            "对照标准逐项梳理,建立整改台账,支部书记牵头抓落实。",
            "制定整改措施清单,倒排工期,每周向乡镇党委报告进度。")
PROGRESS = ("已完成整改方案,正在推进。", "已补齐相关记录,相关制度正在完善。",
            "已召开支委会专题研究,整改完成过半。")
DONE = ("已按要求整改到位,相关资料已归档。", "整改完毕,制度已上墙,记录已补齐。",
        "已整改到位,经支委会审核,请予验收。")
REJECTIONS = ("佐证材料不足,请补充整改后照片和会议记录", "整改不彻底,相关制度未上墙,请继续整改")
VERIFIED = (("实地查看", "现场查看,整改到位"), ("查阅资料", "查阅相关记录,资料完整规范"))


def _need(target: str, extra: dict) -> str:
    """Which findings suit a story: last quarter's for long or overdue ones, this
    quarter's for the early states, either for submitted ones."""
    if extra.get("overdue"):
        return "overdue"
    if target in ("closed", "verified", "dismissed") or extra.get("extension") == "approved":
        return "old"
    return "any" if target == "submitted" else "new"


def _path(target: str, extra: dict) -> list[str]:
    """The events that take a new item to ``target``."""
    if target in ("found", "dismissed"):
        return ["dismiss"] if target == "dismissed" else []
    path = ["assign"] + (["request_extension"] if extra.get("extension") == "pending" else [])
    if target == "assigned":
        return path
    path += ["accept", "report_progress"]
    if extra.get("extension") == "approved":
        path += ["request_extension", "approve_extension"]
    if extra.get("rejected"):
        path += ["submit", "reject"]
    stop = {"rectifying": 0, "submitted": 1, "verified": 2, "closed": 3}[target]
    return path + ["submit", "verify", "close"][:stop]


def _allot(findings: list[Finding], repeated: set[tuple[int, int]]
           ) -> list[tuple[Finding | None, str, dict]]:
    """Give each story of ``PLAN`` a finding (None: a hand-recorded item).

    Overdue stories take last quarter's earliest findings, in turns between the
    counties; findings left over are closed (last quarter) or being rectified,
    stories left over are hand-recorded.
    """
    old = sorted((f for f in findings if f.quarter.first), key=lambda f: f.at)
    new = sorted((f for f in findings if not f.quarter.first), key=lambda f: f.at)
    queues = [[f for f in old if f.village.county_id == c]
              for c in dict.fromkeys(f.village.county_id for f in old)]
    late: list[Finding] = []
    wanted = sum(_need(*p) == "overdue" for p in PLAN)
    while len(late) < wanted and any(queues):
        for q in queues:
            if q and len(late) < wanted:
                late.append(q.pop(0))
    old = [f for f in old if f not in late]
    # take the stories in turns between the kinds, so a shortage is spread over them
    kinds: dict[str, list[int]] = {}
    for i, story in enumerate(PLAN):
        kinds.setdefault(repr(story), []).append(i)
    turn = {i: n / len(same) for same in kinds.values() for n, i in enumerate(same)}
    stories: list[tuple[Finding | None, str, dict]] = []
    for target, extra in (PLAN[i] for i in sorted(turn, key=lambda i: (turn[i], i))):
        need = _need(target, extra)
        if need == "overdue":
            pool = late
        elif need == "old":
            # a dismissed finding would not count as failed before
            pool = [f for f in old if target != "dismissed"
                    or (f.village.id, f.number) not in repeated]
        elif need == "new":
            pool = new[::-1] if target == "found" else new  # the newest wait for assignment
        else:
            pool = old if len(old) > len(new) else new
        finding = pool[0] if pool else None
        for source in (late, old, new):
            if finding in source:
                source.remove(finding)
        stories.append((finding, target, extra))
    return (stories + [(f, "closed", {}) for f in old + late]
            + [(f, "rectifying", {}) for f in new])


@dataclass
class Story:
    """One item's way through the ledger and the people who take it there."""

    item_id: int
    path: list[str]
    overdue: bool
    sec: Actor
    town: Actor
    county: Actor
    today: dt.date  # the real today: open deadlines must reach past it
    rnd: random.Random
    stays_open: bool = False
    by_hand: bool = False


def _play_items(sanhu: Sanhu, rnd: random.Random, cast: Cast, findings: list[Finding],
                repeated: set[tuple[int, int]], limit: dt.datetime) -> None:
    """Play each ``PLAN`` story on a finding (or a hand-recorded item) through the services."""
    today = limit.astimezone(sanhu.settings.zone).date()
    hand = 0
    for finding, target, extra in _allot(findings, repeated):
        path = _path(target, extra)
        overdue = bool(extra.get("overdue"))
        if finding is not None:
            item_id, village = finding.item_id, finding.village
            start, end, fit = finding.at, finding.quarter.limit, finding.quarter.fit
        else:
            village = cast.villages[(7 * hand + 3) % len(cast.villages)]
            old = _need(target, extra) in ("overdue", "old")
            start = limit - dt.timedelta(days=rnd.randint(40, 60) if old else rnd.randint(8, 20))
            start = min(_office_hours(start - dt.timedelta(hours=3), sanhu.settings.zone), limit)
            end, fit = limit, _same
            item_id = _record_by_hand(sanhu, Clock(start), cast, village, HAND[hand % len(HAND)])
            hand += 1
        story = Story(item_id, path, overdue, cast.secretaries[village.id],
                      cast.township_staff[village.township_id],
                      cast.county_staff[village.county_id], today, rnd,
                      stays_open=target in ("assigned", "rectifying") and not overdue,
                      by_hand=finding is None)
        clock = Clock(start, fit)
        for event, gap in zip(path, _gaps(rnd, start, end, path, target), strict=True):
            clock.move(seconds=gap.total_seconds())
            clock.now = min(_office_hours(clock.now, sanhu.settings.zone), end)
            _step(sanhu, clock, _event, event, story)


def _office_hours(t: dt.datetime, zone) -> dt.datetime:
    """``t``, or the next morning if it falls in the night (local time)."""
    local = t.astimezone(zone)
    if local.hour >= 18:
        local += dt.timedelta(days=1)
    if local.hour >= 18 or local.hour < 8:
        local = local.replace(hour=8 + local.minute % 3)
    return local.astimezone(dt.UTC)


def _record_by_hand(sanhu: Sanhu, clock: Clock, cast: Cast, village: Village, hand) -> int:
    source, who, number, text = hand
    actor = {"supervisor": cast.supervisor, "county": cast.county_staff[village.county_id],
             "town": cast.township_staff[village.township_id]}[who]
    with sanhu.uow() as uow:
        standard_id = uow.session.scalar(select(Standard.id).where(
            Standard.set == "basic", Standard.number == number,
            Standard.catalog_version_id == current_catalog(uow.session).id))
    return _step(sanhu, clock, svc.record_finding, actor, unit_id=village.id,
                 standard_id=standard_id, source=source,
                 description=text.format(v=f"{village.township}{village.name}")).id


def _gaps(rnd: random.Random, start: dt.datetime, end: dt.datetime, path: list[str],
          target: str) -> list[dt.timedelta]:
    """The time before each step: squeezed to end by ``end``; a submitted or verified
    item is stretched so that its last step is recent (the assignment stays prompt)."""
    gaps = [dt.timedelta(hours=GAPS[e] + rnd.uniform(-3, 3)) for e in path]
    total = sum(gaps, dt.timedelta())
    if not gaps:
        return gaps
    finish = start + total
    if target in ("submitted", "verified"):
        finish = max(finish, end - dt.timedelta(days=rnd.uniform(0.5, 5)))
    finish = min(finish, end)
    if finish > start + total and len(gaps) > 1:
        rest = (finish - start - gaps[0]) / (total - gaps[0])
        return [gaps[0]] + [g * rest for g in gaps[1:]]
    return [g * ((finish - start) / total) for g in gaps]


def _event(uow, event: str, story: Story):
    """One step of an item's story through the ledger's services."""
    r, item_id, sec, town, county = story.rnd, story.item_id, story.sec, story.town, story.county
    if event == "assign":
        days = 10 if story.overdue else r.randint(25, 40)
        if story.stays_open:  # an open item that is not overdue: its deadline is still ahead
            ahead = uow.calendar.workdays_between(uow.today(), story.today)
            days = max(days, ahead + r.randint(8, 25))
        category = "immediate" if story.overdue else r.choice(("deadline", "deadline",
                                                                  "long_term"))
        return svc.assign(uow, item_id, town, responsible_user_id=sec.id, category=category,
                          deadline=f"{days}w")
    if event == "request_extension":
        deadline = uow.session.get(Item, item_id).deadline
        new = deadline + dt.timedelta(days=r.randint(21, 30))
        if "approve_extension" in story.path:
            new = max(new, story.today + dt.timedelta(days=r.randint(20, 45)))
        return svc.request_extension(uow, item_id, sec, deadline=new,
                                     reason=r.choice(("需等待上级资金下拨", "工程量大,需延期")))
    if event == "approve_extension":
        return svc.approve_extension(uow, item_id, county, note="同意延期")
    if event == "accept":
        return svc.accept(uow, item_id, sec, measures=r.choice(MEASURES))
    if event == "report_progress":
        return svc.report_progress(uow, item_id, sec, note=r.choice(PROGRESS),
                                   uploads=[svc.Upload(photo(item_id), "整改前.png")])
    if event == "submit":
        return svc.submit(uow, item_id, sec, note=r.choice(DONE),
                          uploads=[svc.Upload(photo(item_id + 11), "整改后照片.png")])
    if event == "reject":
        return svc.reject(uow, item_id, town, reason=r.choice(REJECTIONS))
    if event == "verify":
        method, note = r.choice(VERIFIED)
        return svc.verify(uow, item_id, town, method=method, note=note)
    if event == "close":
        return svc.close(uow, item_id, county, note="同意销号")
    if story.by_hand:
        return svc.dismiss(uow, item_id, county, reason="与观摩已登记问题重复", kind="duplicate")
    return svc.dismiss(uow, item_id, county, reason="经核实,该问题在观摩前已整改到位",
                       kind="not_a_problem")
