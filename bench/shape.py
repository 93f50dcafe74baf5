"""The shape of the data: the province's proportions, the mix of states, the
Chinese texts items are made of, quarter helpers, and ``Org`` (the ids, codes and
names of the province's units and users, computed rather than queried)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from bench.common import UTC, ZONE

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



def recent_quarters(today: dt.date, n: int = 12) -> list[tuple[int, int]]:
    y, q = quarter_of(today)
    return [shift_quarter(y, q, k) for k in range(-(n - 1), 1)]


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
