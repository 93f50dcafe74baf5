"""The survey form's fields, declared as data.

Each ``Field`` has a stable key (the answers' JSON key), its Chinese label as
the form prints it, a type, a unit and the standards it serves: the numbers of
the 42 basic standards (``basic``) and the 23 demonstration standards
(``demonstration``) whose facts it records.  Fields with neither come from the
form itself (the seed names 《党支部基本状况及村级基本情况调查表》; a party
members' breakdown by sex and age, and who filled it in, are what such forms ask).

Types: ``int`` (a whole number ≥ 0), ``decimal`` (a number ≥ 0, two places),
``text``, ``bool`` (是/否), ``date`` (YYYY-MM-DD), ``choice`` (one of
``choices``) and ``people`` (a list of rows with the ``columns``).  ``clean``
turns what was typed into the stored value or names what is wrong, per field
(and per row and column of a list: ``committee_members.2.name``).

``SCHEMA_VERSION`` is stored with each survey's answers; change it when a key
changes meaning, so old answers can still be read for what they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SCHEMA_VERSION = 1

#: (key, Chinese title) of the form's sections, in the order printed
SECTIONS: tuple[tuple[str, str], ...] = (
    ("village", "村级基本情况"),
    ("organisation", "党组织设置"),
    ("members", "党员队伍"),
    ("secretary", "村党组织书记"),
    ("committee", "支部委员会"),
    ("cadres", "骨干队伍（第一书记、组长、后备干部）"),
    ("site", "阵地建设（村级组织活动场所）"),
    ("party_life", "党内组织生活（上年度）"),
    ("mechanisms", "工作运行机制"),
    ("development", "经济社会发展"),
    ("filler", "填报信息"),
)

EDUCATION = ("初中及以下", "高中、中专", "大专", "本科及以上")
SEX = ("男", "女")
ORG_FORMS = ("党支部", "党总支", "党委")
YES, NO = "是", "否"

MAX_COUNT = 1_000_000
MAX_AMOUNT = Decimal("1000000000")
MAX_TEXT = 200
MAX_LONG_TEXT = 2000
MAX_ROWS = 30
FIRST_DAY, LAST_DAY = dt.date(1949, 10, 1), dt.date(2100, 12, 31)


@dataclass(frozen=True)
class Column:
    """One column of a list of people."""

    key: str
    label: str
    type: str
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int | None = None


@dataclass(frozen=True)
class Field:
    """One question of the survey form."""

    key: str
    label: str
    type: str
    section: str
    unit: str = ""
    basic: tuple[int, ...] = ()
    demonstration: tuple[int, ...] = ()
    #: must be answered before the survey is submitted
    required: bool = False
    #: required when this yes/no field is answered 是
    required_if: str | None = None
    #: a count that may not exceed this other count (the members' total, say)
    at_most: str | None = None
    minimum: int = 0
    maximum: int | Decimal | None = None
    choices: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    max_length: int = MAX_TEXT
    #: what the standards ask for, shown beside the field
    hint: str = ""
    #: a figure of one year (last year's meetings, income): not carried into next year's form
    yearly: bool = False

    @property
    def source(self) -> str:
        """Where the field comes from, as the README and the form say it."""
        parts = []
        if self.basic:
            parts.append("基本标准第" + "、".join(map(str, self.basic)) + "条")
        if self.demonstration:
            parts.append("示范标准第" + "、".join(map(str, self.demonstration)) + "条")
        return "；".join(parts) or "调查表"


def F(key, label, type_, section, unit="", basic=(), demo=(), **kw) -> Field:
    return Field(key, label, type_, section, unit, tuple(basic), tuple(demo), **kw)


PERSON = (
    Column("name", "姓名", "text", required=True),
    Column("post", "职务", "text", required=True),
    Column("sex", "性别", "choice", choices=SEX),
    Column("age", "年龄", "int", minimum=18, maximum=100),
    Column("education", "文化程度", "choice", choices=EDUCATION),
    Column("cross_serving", "两委交叉任职", "bool"),
)

FIELDS: tuple[Field, ...] = (
    # 村级基本情况
    F("households", "总户数", "int", "village", "户", (32,), required=True,
      hint="村干部每年对所有农户至少走访1遍"),
    F("population", "户籍人口", "int", "village", "人", (24,), required=True),
    F("villager_groups", "村民小组数", "int", "village", "个", (9,)),
    F("poor_village", "是否建档立卡贫困村", "bool", "village", "", (9,), (3,), required=True),
    F("weak_lax", "是否软弱涣散村党组织", "bool", "village", "", (9, 34), (3,), required=True),
    F("rectification_plan", "整顿措施（一村一策）", "text", "village", "", (34,),
      required_if="weak_lax", max_length=MAX_LONG_TEXT),
    # 党组织设置
    F("org_form", "党组织类型", "choice", "organisation", "", (1,), required=True,
      choices=ORG_FORMS, hint="正式党员3人以上设党支部；超过50名可设党总支；100名以上可设党委"),
    F("party_groups", "党小组数", "int", "organisation", "个", (9, 18)),
    F("functional_orgs", "功能型党组织数", "int", "organisation", "个", (2,)),
    F("mobile_orgs", "流动党组织数（含网上党支部）", "int", "organisation", "个", (3,)),
    F("discipline_officer", "纪检委员（或负责纪检工作的人）", "text", "organisation", "", (5,)),
    F("supervision_committee", "是否设立村务监督委员会", "bool", "organisation", "", (6,), (8,)),
    F("cooperatives", "农民合作社等经济组织数", "int", "organisation", "个", (2, 6)),
    # 党员队伍
    F("members_total", "党员总数", "int", "members", "名", (1,), required=True),
    F("members_probationary", "其中：预备党员", "int", "members", "名", (1, 11), required=True,
      at_most="members_total"),
    F("members_women", "其中：女党员", "int", "members", "名", required=True,
      at_most="members_total"),
    F("members_under_35", "其中：35岁以下", "int", "members", "名", required=True,
      at_most="members_total"),
    F("members_over_60", "其中：60岁以上", "int", "members", "名", required=True,
      at_most="members_total"),
    F("members_high_school", "其中：高中及以上学历", "int", "members", "名", (11,),
      at_most="members_total"),
    F("members_mobile", "其中：流动党员", "int", "members", "名", (15,), (12,),
      at_most="members_total"),
    F("members_in_difficulty", "其中：困难党员", "int", "members", "名", (16,),
      at_most="members_total"),
    F("members_with_posts", "设岗定责的无职党员", "int", "members", "名", (37,),
      at_most="members_total"),
    F("activists", "入党积极分子", "int", "members", "名", (11,),
      hint="入党积极分子与发展对象之比一般不低于3:1"),
    F("development_targets", "发展对象", "int", "members", "名", (11,)),
    F("recruited_two_years", "近两年发展党员", "int", "members", "名", (11,), (10,),
      hint="每两年至少发展1名党员", yearly=True),
    # 村党组织书记
    F("secretary_name", "书记姓名", "text", "secretary", "", (9,), required=True),
    F("secretary_sex", "书记性别", "choice", "secretary", "", required=True, choices=SEX),
    F("secretary_age", "书记年龄", "int", "secretary", "岁", (), (8,), required=True, minimum=18,
      maximum=100),
    F("secretary_education", "书记文化程度", "choice", "secretary", "", (), (8,), required=True,
      choices=EDUCATION),
    F("secretary_since", "书记任现职时间", "date", "secretary", "", (8,)),
    F("secretary_one_shoulder", "书记是否“一肩挑”（兼任村委会主任）", "bool", "secretary", "", (7,),
      required=True),
    F("secretary_training_hours", "书记上年度参加教育培训", "decimal", "secretary", "学时", (10,),
      hint="累计不少于24学时", yearly=True),
    F("secretary_county_training", "书记上年度参加县级以上集中培训", "bool", "secretary", "", (10,),
      yearly=True),
    F("secretary_annual_report", "书记向党员大会年度述职", "bool", "secretary", "", (18,),
      yearly=True),
    # 支部委员会
    F("committee_members", "支部委员会成员", "people", "committee", "", (7, 9), (8,),
      required=True, columns=PERSON,
      hint="党支部一般3至5人，党总支、党委一般5至7人；配齐组织委员"),
    F("term_start", "本届班子任期开始", "date", "committee", "", (8,), hint="任期3年"),
    F("next_election", "下次换届时间", "date", "committee", "", (8,)),
    F("village_committee_size", "村民委员会成员数", "int", "committee", "名", (6, 7)),
    # 骨干队伍
    F("first_secretary", "是否选派第一书记", "bool", "cadres", "", (9,), required=True,
      hint="软弱涣散村、贫困村选派第一书记全覆盖"),
    F("first_secretary_name", "第一书记姓名", "text", "cadres", "", (9,),
      required_if="first_secretary"),
    F("first_secretary_unit", "第一书记派出单位", "text", "cadres", "", (9,),
      required_if="first_secretary"),
    F("organisation_member", "是否配齐组织委员", "bool", "cadres", "", (9,)),
    F("group_leaders", "村民组长", "int", "cadres", "名", (9,)),
    F("group_leaders_party", "其中：党员（党小组长兼任）", "int", "cadres", "名", (9,),
      at_most="group_leaders"),
    F("reserve_cadres", "后备干部", "int", "cadres", "名", (9,), (8,), required=True,
      hint="每村确定3-7名后备干部"),
    # 阵地建设
    F("site_area", "活动场所面积", "decimal", "site", "平方米", (24,), (13,), required=True,
      hint="不低于90平方米；示范村一般300平方米以上"),
    F("site_sign", "主标识为“XX村党群服务中心”", "bool", "site", "", (25,)),
    F("site_boards", "规范悬挂村党组织、村委会、村务监督委员会标牌", "bool", "site", "", (25,)),
    F("site_rules", "基本制度上墙", "bool", "site", "", (25,)),
    F("site_facilities", "功能室和办公设施", "text", "site", "", (26,),
      max_length=MAX_LONG_TEXT),
    F("site_public_boards", "党务、村务、财务公开栏", "bool", "site", "", (26,)),
    F("site_ownership", "场所产权清晰、设施设备登记清楚", "bool", "site", "", (28,)),
    F("site_amenities", "周边便民设施（广场、医务室、超市、幼儿园等）", "text", "site", "", (),
      (13,)),
    F("remote_education", "党员远程教育站点", "bool", "site", "", (12,)),
    # 党内组织生活(上年度)
    F("congresses", "支部党员大会", "int", "party_life", "次", (18,), required=True,
      hint="一般每季度1次", yearly=True),
    F("committee_meetings", "支部委员会", "int", "party_life", "次", (18,), required=True,
      hint="一般每月1次", yearly=True),
    F("group_meetings", "党小组会", "int", "party_life", "次", (18,), required=True,
      hint="一般每月1至2次", yearly=True),
    F("party_lectures", "党课", "int", "party_life", "次", (18,), required=True,
      hint="每季度1次", yearly=True),
    F("life_meetings", "组织生活会", "int", "party_life", "次", (20,), hint="每半年1次",
      yearly=True),
    F("party_days", "主题党日（党员活动日）", "int", "party_life", "次", (23,), (6,),
      hint="每月固定1天", yearly=True),
    F("democratic_review", "开展民主评议党员", "bool", "party_life", "", (19,), yearly=True),
    F("member_training_hours", "党员人均学习培训", "decimal", "party_life", "学时", (12,),
      hint="一般不少于24学时", yearly=True),
    F("fee_published", "公布党费收缴情况", "int", "party_life", "次", (13,),
      hint="每半年1次", yearly=True),
    F("relation_check", "开展组织关系集中排查", "bool", "party_life", "", (14,), yearly=True),
    F("mobile_checks", "流入、流出党员排查", "int", "party_life", "次", (15,),
      hint="每季度1次", yearly=True),
    F("commendation", "开展党内表彰", "bool", "party_life", "", (16,), yearly=True),
    # 工作运行机制
    F("four_two_matters", "按“四议两公开”决策的事项", "int", "mechanisms", "件", (30,), (17,),
      yearly=True),
    F("villager_rep_meetings", "村民代表会议", "int", "mechanisms", "次", (), (18,),
      hint="一年不少于2次", yearly=True),
    F("power_list", "推行权责清单管理", "bool", "mechanisms", "", (31,)),
    F("duty_system", "村干部挂牌值班、坐班", "bool", "mechanisms", "", (32,)),
    F("all_households_visited", "村干部走访全部农户", "bool", "mechanisms", "", (32,)),
    F("commitments", "双向承诺（承诺、践诺、评诺）", "bool", "mechanisms", "", (33,)),
    # 经济社会发展
    F("collective_income", "上年度村集体经济收入", "decimal", "development", "万元", (41,), (14,),
      required=True, hint="不低于2万元；示范村稳定在5万元以上", yearly=True),
    F("collective_sources", "集体经营性收入来源", "text", "development", "", (41,)),
    F("per_capita_income", "农民人均纯收入", "decimal", "development", "元", (40,), (19,),
      yearly=True),
    F("poverty_rate", "贫困发生率", "decimal", "development", "%", (40,),
      maximum=Decimal(100), hint="低于2%", yearly=True),
    F("leading_industries", "主导产业", "text", "development", "", (40,), (19,)),
    F("roads_hardened", "通村主干道、通户道路全部硬化", "bool", "development", "", (39,)),
    F("housing_water_safe", "无住房安全和饮水安全问题", "bool", "development", "", (39,)),
    F("village_rules", "制定村规民约", "bool", "development", "", (27, 42)),
    F("petitions", "越级上访、群体性上访", "int", "development", "起", (), (20,), yearly=True),
    # 填报信息
    F("filled_by", "填表人", "text", "filler", "", required=True),
    F("filler_phone", "联系电话", "text", "filler", "", max_length=32),
    F("filled_on", "填报日期", "date", "filler", "", required=True, yearly=True),
)

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}


def fields_of(section: str) -> list[Field]:
    return [f for f in FIELDS if f.section == section]


# --- cleaning what was typed -------------------------------------------------------


class FieldError(ValueError):
    """What is wrong with one value: a short code the pages translate."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: object, minimum: int, maximum: int | None) -> int:
    if isinstance(value, bool):
        raise FieldError("not a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise FieldError("not a whole number")
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise FieldError("not a whole number") from None
    if not isinstance(value, int):
        raise FieldError("not a whole number")
    if value < 0:
        raise FieldError("negative")
    if value < minimum or value > (maximum if maximum is not None else MAX_COUNT):
        raise FieldError("out of range")
    return value


def _decimal(value: object, maximum: Decimal | None) -> float:
    if isinstance(value, bool):
        raise FieldError("not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError("not a number") from None
    if not number.is_finite():
        raise FieldError("not a number")
    if number < 0:
        raise FieldError("negative")
    if number > (maximum if maximum is not None else MAX_AMOUNT):
        raise FieldError("out of range")
    if number != number.quantize(Decimal("0.01")):
        raise FieldError("too many decimals")
    return float(number)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on", YES):
        return True
    if text in ("0", "false", "no", "n", "off", NO):
        return False
    raise FieldError("not yes or no")


def _date(value: object) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise FieldError("invalid date") from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise FieldError("invalid date")
    return value.isoformat()


def _text(value: object, max_length: int) -> str:
    text = str(value).strip()
    if len(text) > max_length:
        raise FieldError("too long")
    return text


def clean_value(kind: str, value: object, *, choices: tuple[str, ...] = (), minimum: int = 0,
                maximum=None, max_length: int = MAX_TEXT):
    """The stored form of one typed value of type ``kind`` (None when blank)."""
    if blank(value):
        return None
    if kind == "int":
        return _whole(value, minimum, maximum)
    if kind == "decimal":
        return _decimal(value, maximum)
    if kind == "bool":
        return _bool(value)
    if kind == "date":
        return _date(value)
    if kind == "choice":
        text = str(value).strip()
        if text not in choices:
            raise FieldError("invalid choice")
        return text
    return _text(value, max_length)


def _people(field: Field, value: object, errors: dict[str, str]) -> list[dict] | None:
    if blank(value):
        return None
    if not isinstance(value, list | tuple):
        errors[field.key] = "not a list"
        return None
    if len(value) > MAX_ROWS * 2:
        errors[field.key] = "too many rows"
        return None
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            errors[f"{field.key}.{i}"] = "not a list"
            continue
        if all(blank(row.get(c.key)) for c in field.columns):
            continue  # an empty row of the form
        cleaned: dict[str, object] = {}
        for col in field.columns:
            where = f"{field.key}.{i}.{col.key}"
            try:
                cell = clean_value(col.type, row.get(col.key), choices=col.choices,
                                   minimum=col.minimum, maximum=col.maximum)
            except FieldError as exc:
                errors[where] = exc.code
                continue
            if cell is None and col.required:
                errors[where] = "required"
            elif cell is not None:
                cleaned[col.key] = cell
        rows.append(cleaned)
    if len(rows) > MAX_ROWS:
        errors[field.key] = "too many rows"
    return rows or None


def clean(raw: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """What was typed, field by field: (cleaned values, None for cleared; errors).

    Only keys present in ``raw`` are cleaned; an unknown key is an error.
    """
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key, value in raw.items():
        field = BY_KEY.get(key)
        if field is None:
            errors[key] = "unknown field"
            continue
        if field.type == "people":
            values[key] = _people(field, value, errors)
            continue
        try:
            values[key] = clean_value(field.type, value, choices=field.choices,
                                      minimum=field.minimum, maximum=field.maximum,
                                      max_length=field.max_length)
        except FieldError as exc:
            errors[key] = exc.code
    return values, errors


def inconsistent(answers: Mapping[str, object]) -> dict[str, str]:
    """Counts that exceed the count they are part of (``at_most``)."""
    errors = {}
    for field in FIELDS:
        if field.at_most is None:
            continue
        part, whole = answers.get(field.key), answers.get(field.at_most)
        if isinstance(part, int) and isinstance(whole, int) and part > whole:
            errors[field.key] = "more than the total"
    return errors


def missing(answers: Mapping[str, object]) -> dict[str, str]:
    """The fields still to answer before the survey may be submitted."""
    return {f.key: "required" for f in FIELDS
            if blank_answer(answers.get(f.key))
            and (f.required or (f.required_if and answers.get(f.required_if) is True))}


def blank_answer(value: object) -> bool:
    return blank(value) or (isinstance(value, list) and not value)


# --- showing answers ------------------------------------------------------------------


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def display_cell(kind: str, value: object) -> str:
    """One value as the form prints it: 是/否, numbers without trailing zeros, "" if blank."""
    if value is None:
        return ""
    if kind == "bool":
        return YES if value else NO
    if kind in ("int", "decimal"):
        return _number(value)
    return str(value)


def person_text(field: Field, row: Mapping[str, object]) -> str:
    """One person of a list: ``张三（书记/男/45岁/大专/两委交叉任职）``."""
    details = []
    for col in field.columns[1:]:
        value = row.get(col.key)
        if value is None or value == "":
            continue
        if col.type == "bool":
            if value:
                details.append(col.label)
        elif col.key == "age":
            details.append(f"{value}岁")
        else:
            details.append(display_cell(col.type, value))
    name = str(row.get(field.columns[0].key, ""))
    return f"{name}（{'/'.join(details)}）" if details else name


def display(field: Field, value: object) -> str:
    """A whole answer as text (a list of people: one person after another)."""
    if field.type == "people":
        return "；".join(person_text(field, row) for row in value or [])
    return display_cell(field.type, value)
