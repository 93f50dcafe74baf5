"""Planning a cycle (细化观摩方案) on SQLite and PostgreSQL: the plan and its files,
groups, batches, the schedule, liaisons (分包联系), themes and the cycle's settings,
with every refusal (role, scope, bad input, a stale plan)."""

from __future__ import annotations

import datetime as dt

import pytest
from observation_helpers import start_and_fill
from samples import make_png
from sqlalchemy import select

from ledger.core.errors import (
    Conflict,
    EvidenceRejected,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Cycle, Observation
from ledger.observations import planning
from ledger.observations import services as obs_svc
from ledger.observations.access import MAX_TEXT
from ledger.observations.cycles import open_cycle

TEXTS = dict(goals="全覆盖观摩", methods="听查看谈评", steps="分两批", rectification="建立台账",
             guidance="现场指导", use_of_results="纳入考核")


def open_(app, kind: str = "village_quarterly", period: str = "2026Q4") -> int:
    with app.uow() as uow:
        return open_cycle(uow, kind, period).cycle_id


def obs_id(app, world, cycle_id: int, unit: str) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle_id, Observation.unit_id == world.units[unit].id))


@pytest.fixture
def cycle(any_sanhu, any_world) -> int:
    """The village cycle 2026Q4: township T11 observes V111 and V112."""
    return open_(any_sanhu)


def plan(app, cycle_id, actor, **kw):
    with app.uow() as uow:
        return planning.plan_of(uow, cycle_id, actor, **kw)


def call(app, service, *args, **kw):
    with app.uow() as uow:
        return service(uow, *args, **kw)


# --- the plan --------------------------------------------------------------------------


def test_a_township_writes_its_plan_and_sees_its_targets_without_group_or_date(
        any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    saved = call(any_sanhu, planning.save_plan, cycle, town, **TEXTS, expected_version=0)
    assert saved.version == 1
    view = plan(any_sanhu, cycle, town)
    assert view.editable and view.unit.code == "T11"
    assert {f: getattr(view.plan, f) for f in planning.PLAN_FIELDS} == TEXTS
    assert [(t.unit_code, t.status) for t in view.targets] == [("V111", "planned"),
                                                               ("V112", "planned")]
    assert (view.without_group, view.without_date) == (2, 2)
    assert {t.theme for t in view.targets} == {planning.FIRST_THEME}
    assert (view.period_first, view.period_last) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    again = call(any_sanhu, planning.save_plan, cycle, town, **{**TEXTS, "goals": "  新目标 "},
                 expected_version=1)
    assert again.version == 2
    assert plan(any_sanhu, cycle, town).plan.goals == "新目标"


def test_a_stale_plan_is_refused_with_what_it_says_now(any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    call(any_sanhu, planning.save_plan, cycle, town, **TEXTS)
    call(any_sanhu, planning.save_plan, cycle, town, **{**TEXTS, "goals": "第二稿"},
         expected_version=1)
    with pytest.raises(Conflict) as stale:
        call(any_sanhu, planning.save_plan, cycle, town, **{**TEXTS, "goals": "旧稿覆盖"},
             expected_version=1)
    assert stale.value.details["current"]["goals"] == "第二稿"
    assert stale.value.details["current"]["version"] == 2
    with pytest.raises(Conflict):  # the form was loaded before the plan existed
        call(any_sanhu, planning.save_plan, cycle, town, **TEXTS, expected_version=0)
    assert plan(any_sanhu, cycle, town).plan.goals == "第二稿"


def test_an_over_long_plan_text_is_refused_and_nothing_is_saved(any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    with pytest.raises(ValidationError) as err:
        call(any_sanhu, planning.save_plan, cycle, town,
             **{**TEXTS, "guidance": "长" * (MAX_TEXT + 1)})
    assert err.value.fields == {"guidance": "too long"}
    assert plan(any_sanhu, cycle, town).plan is None


@pytest.mark.parametrize("who", ["county_K1", "city", "sup_city", "admin", "sec_V111"])
def test_only_the_observing_units_staff_write_a_village_cycles_plan(any_sanhu, any_world,
                                                                    cycle, who):
    with pytest.raises(PermissionDenied):
        call(any_sanhu, planning.save_plan, cycle, any_world[who], **TEXTS)


def test_in_a_township_cycle_the_county_plans_and_townships_do_not(any_sanhu, any_world):
    cycle = open_(any_sanhu, "township_half_yearly", "2026H2")
    with pytest.raises(PermissionDenied):
        call(any_sanhu, planning.save_plan, cycle, any_world["town_T11"], **TEXTS)
    call(any_sanhu, planning.save_plan, cycle, any_world["county_K1"], **TEXTS)
    view = plan(any_sanhu, cycle, any_world["county_K1"])
    assert [t.unit_code for t in view.targets] == ["T11", "T12"]
    with pytest.raises(NotFound):
        call(any_sanhu, planning.save_plan, cycle + 999, any_world["county_K1"], **TEXTS)


def test_the_county_reads_a_townships_plan_but_outsiders_do_not(any_sanhu, any_world, cycle):
    call(any_sanhu, planning.save_plan, cycle, any_world["town_T11"], **TEXTS)
    t11 = any_world.units["T11"].id
    view = plan(any_sanhu, cycle, any_world["county_K1"], observing_unit_id=t11)
    assert not view.editable and view.plan.goals == TEXTS["goals"]
    assert plan(any_sanhu, cycle, any_world["sup_city"], observing_unit_id=t11).plan is not None
    for who in ("county_K2", "town_T12", "sup_K2"):
        with pytest.raises(NotFound):
            plan(any_sanhu, cycle, any_world[who], observing_unit_id=t11)
    with pytest.raises(NotFound):  # a village observes nothing
        plan(any_sanhu, cycle, any_world["county_K1"],
             observing_unit_id=any_world.units["V111"].id)
    with pytest.raises(PermissionDenied):
        plan(any_sanhu, cycle, any_world["sec_V111"], observing_unit_id=t11)
    with pytest.raises(PermissionDenied):
        plan(any_sanhu, cycle, any_world["county_K1"])


def test_plan_files_are_stored_and_read_in_the_subtree_or_above(any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    file_id = call(any_sanhu, planning.attach_plan_file, cycle, town, data=make_png(),
                   filename="方案.png")
    view = plan(any_sanhu, cycle, town)
    assert [f.id for f in view.files] == [file_id] and view.plan.version == 1
    for who in ("town_T11", "county_K1", "city", "sec_V111"):
        assert call(any_sanhu, planning.plan_file_for_download, file_id,
                    any_world[who]).original_name == "方案.png"
    for who in ("town_T12", "county_K2", "sec_V121"):
        with pytest.raises(NotFound):
            call(any_sanhu, planning.plan_file_for_download, file_id, any_world[who])
    with pytest.raises(NotFound):
        call(any_sanhu, planning.plan_file_for_download, "x", town)
    with pytest.raises(EvidenceRejected):
        call(any_sanhu, planning.attach_plan_file, cycle, town, data=b"#!/bin/sh\nrm -rf /\n",
             filename="run.sh")
    with pytest.raises(PermissionDenied):
        call(any_sanhu, planning.attach_plan_file, cycle, any_world["county_K1"],
             data=make_png(1), filename="x.png")
    assert len(plan(any_sanhu, cycle, town).files) == 1


# --- groups, batches and the schedule ---------------------------------------------------


def test_a_group_takes_the_units_users_its_liaison_and_outside_names(any_sanhu, any_world,
                                                                     cycle):
    town, county = any_world["town_T11"], any_world["county_K1"]
    call(any_sanhu, planning.assign_liaison, county, user_id=county.id,
         township_id=any_world.units["T11"].id)
    assert {uid for uid, _ in plan(any_sanhu, cycle, town).member_choices} == {town.id,
                                                                                county.id}
    gid = call(any_sanhu, planning.save_group, cycle, town, name="第一组",
               member_ids=[town.id, county.id], outside="张三\n\n 李四 ")
    group = plan(any_sanhu, cycle, town).groups[0]
    assert (group.id, group.name, group.outside) == (gid, "第一组", ["张三", "李四"])
    assert {uid for uid, _ in group.members} == {town.id, county.id}
    assert call(any_sanhu, planning.save_group, cycle, town, name="第一组(改)",
                member_ids=[str(town.id)], outside=[], group_id=gid) == gid
    group = plan(any_sanhu, cycle, town).groups[0]
    assert (group.name, [uid for uid, _ in group.members], group.outside) == (
        "第一组(改)", [town.id], [])


@pytest.mark.parametrize("stranger", ["county_K2", "sec_V111", "town_T12", "county_K1"])
def test_a_group_refuses_members_who_are_not_of_the_unit_nor_its_liaison(
        any_sanhu, any_world, cycle, stranger):
    with pytest.raises(ValidationError) as err:
        call(any_sanhu, planning.save_group, cycle, any_world["town_T11"], name="组",
             member_ids=[any_world[stranger].id], outside="")
    assert err.value.fields == {"member_ids": "unknown member"}
    assert plan(any_sanhu, cycle, any_world["town_T11"]).groups == []


def test_group_names_are_required_and_unique_and_others_groups_are_not_found(
        any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    call(any_sanhu, planning.save_group, cycle, town, name="一组", member_ids=[town.id],
         outside="")
    for kw, field in ((dict(name="一组"), "name"), (dict(name=" "), "name"),
                      (dict(name="二组", member_ids=["x"]), "member_ids"),
                      (dict(name="二组", member_ids=[]), "member_ids")):
        with pytest.raises(ValidationError) as err:
            call(any_sanhu, planning.save_group, cycle, town,
                 **{"member_ids": [town.id], "outside": "", **kw})
        assert field in err.value.fields
    other = any_world["town_T12"]
    theirs = call(any_sanhu, planning.save_group, cycle, other, name="一组",
                  member_ids=[other.id], outside="")
    with pytest.raises(NotFound):
        call(any_sanhu, planning.save_group, cycle, town, name="抢", member_ids=[town.id],
             outside="", group_id=theirs)
    with pytest.raises(NotFound):
        call(any_sanhu, planning.delete_group, cycle, town, theirs)


def test_a_batch_day_must_fall_inside_the_cycles_period(any_sanhu, any_world, cycle):
    town = any_world["town_T11"]
    for day, why in (("2026-09-30", "outside the period"), (dt.date(2027, 1, 1),
                                                            "outside the period"),
                     ("2026-13-01", "invalid date"), ("", "invalid date")):
        with pytest.raises(ValidationError) as err:
            call(any_sanhu, planning.save_batch, cycle, town, name="第一批", day=day)
        assert err.value.fields == {"day": why}
    first = call(any_sanhu, planning.save_batch, cycle, town, name="第一批", day="2026-10-01")
    last = call(any_sanhu, planning.save_batch, cycle, town, name="第二批",
                day=dt.date(2026, 12, 31))
    call(any_sanhu, planning.save_batch, cycle, town, name="第一批", day="2026-10-15",
         batch_id=first)
    batches = plan(any_sanhu, cycle, town).batches
    assert [(b.id, b.day) for b in batches] == [(first, dt.date(2026, 10, 15)),
                                                (last, dt.date(2026, 12, 31))]
    with pytest.raises(PermissionDenied):
        call(any_sanhu, planning.save_batch, cycle, any_world["county_K1"], name="x",
             day="2026-10-01")


def test_scheduling_gives_the_units_own_targets_a_group_and_a_date(any_sanhu, any_world,
                                                                   cycle):
    town = any_world["town_T11"]
    gid = call(any_sanhu, planning.save_group, cycle, town, name="一组", member_ids=[town.id],
               outside="")
    bid = call(any_sanhu, planning.save_batch, cycle, town, name="一批", day="2026-11-10")
    v111, v112 = obs_id(any_sanhu, any_world, cycle, "V111"), obs_id(any_sanhu, any_world,
                                                                       cycle, "V112")
    assert call(any_sanhu, planning.schedule, cycle, town, [v111, v112], group_id=gid) == 2
    assert call(any_sanhu, planning.schedule, cycle, town, [v111], batch_id=bid) == 1
    view = plan(any_sanhu, cycle, town)
    assert (view.without_group, view.without_date) == (0, 1)
    assert [(t.group_name, t.day) for t in view.targets] == [("一组", dt.date(2026, 11, 10)),
                                                             ("一组", None)]
    assert (view.groups[0].targets, view.batches[0].targets) == (2, 1)
    with any_sanhu.uow() as uow:  # scheduling is not a lifecycle event
        assert uow.session.get(Observation, v111).version == 1
    v121 = obs_id(any_sanhu, any_world, cycle, "V121")
    with pytest.raises(NotFound):
        call(any_sanhu, planning.schedule, cycle, town, [v111, v121], batch_id=bid)
    with pytest.raises(ValidationError):
        call(any_sanhu, planning.schedule, cycle, town, [v112])
    with pytest.raises(ValidationError):
        call(any_sanhu, planning.schedule, cycle, town, [], group_id=gid)
    start_and_fill(any_sanhu, v112, town)
    with any_sanhu.uow() as uow:
        obs_svc.submit(uow, v112, town)
    with pytest.raises(ValidationError) as err:
        call(any_sanhu, planning.schedule, cycle, town, [v111, v112], batch_id=bid)
    assert err.value.fields == {"observation_ids": "already submitted or confirmed"}
    assert plan(any_sanhu, cycle, town).without_date == 1


def test_a_group_or_batch_a_started_observation_uses_cannot_be_deleted(any_sanhu, any_world,
                                                                       cycle):
    town = any_world["town_T11"]
    gid = call(any_sanhu, planning.save_group, cycle, town, name="一组", member_ids=[town.id],
               outside="")
    bid = call(any_sanhu, planning.save_batch, cycle, town, name="一批", day="2026-11-10")
    v111, v112 = obs_id(any_sanhu, any_world, cycle, "V111"), obs_id(any_sanhu, any_world,
                                                                       cycle, "V112")
    call(any_sanhu, planning.schedule, cycle, town, [v111, v112], group_id=gid)
    call(any_sanhu, planning.schedule, cycle, town, [v112], batch_id=bid)
    with any_sanhu.uow() as uow:
        obs_svc.start(uow, v111, town)
    with pytest.raises(ValidationError) as err:
        call(any_sanhu, planning.delete_group, cycle, town, gid)
    assert err.value.fields == {"group_id": "in use"}
    assert [t.group_id for t in plan(any_sanhu, cycle, town).targets] == [gid, gid]
    call(any_sanhu, planning.delete_batch, cycle, town, bid)
    view = plan(any_sanhu, cycle, town)
    assert view.batches == [] and view.without_date == 2


# --- liaisons -------------------------------------------------------------------------------


def test_county_staff_assign_liaisons_to_their_townships_only(any_sanhu, any_world):
    county, t11 = any_world["county_K1"], any_world.units["T11"].id
    assert call(any_sanhu, planning.assign_liaison, county, user_id=county.id, township_id=t11)
    assert not call(any_sanhu, planning.assign_liaison, county, user_id=county.id,
                    township_id=t11)
    rows = call(any_sanhu, planning.liaisons_of, county)
    assert [(r.user_id, r.township_code) for r in rows] == [(county.id, "T11")]
    assert call(any_sanhu, planning.liaisons_of, any_world["county_K2"]) == []
    assert len(call(any_sanhu, planning.liaisons_of, any_world["city"])) == 1
    with pytest.raises(NotFound):
        call(any_sanhu, planning.assign_liaison, county, user_id=county.id,
             township_id=any_world.units["T21"].id)
    with pytest.raises(NotFound):
        call(any_sanhu, planning.assign_liaison, county, user_id=county.id,
             township_id=any_world.units["V111"].id)
    for who in ("county_K2", "sup_K1", "town_T11"):
        with pytest.raises(ValidationError) as err:
            call(any_sanhu, planning.assign_liaison, any_world["admin"],
                 user_id=any_world[who].id, township_id=t11)
        assert "user_id" in err.value.fields
    for who in ("town_T11", "city", "sup_K1"):
        with pytest.raises(PermissionDenied):
            call(any_sanhu, planning.assign_liaison, any_world[who], user_id=county.id,
                 township_id=t11)
    call(any_sanhu, planning.remove_liaison, any_world["admin"], user_id=county.id,
         township_id=t11)
    with pytest.raises(NotFound):
        call(any_sanhu, planning.remove_liaison, county, user_id=county.id, township_id=t11)
    assert call(any_sanhu, planning.liaisons_of, county) == []


# --- themes and the cycle's settings ----------------------------------------------------


def test_the_admin_keeps_the_theme_list(any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        assert planning.themes(uow.session)[:3] == ["三会一课", "组织生活会", "主题党日"]
    saved = call(any_sanhu, planning.save_themes, any_world["admin"],
                 " 三会一课\n\n主题党日\n三会一课\n乡村振兴 ")
    assert saved == ["三会一课", "主题党日", "乡村振兴"]
    with any_sanhu.uow() as uow:
        assert planning.themes(uow.session) == saved
    with pytest.raises(PermissionDenied):
        call(any_sanhu, planning.save_themes, any_world["city"], ["x"])
    with pytest.raises(ValidationError):
        call(any_sanhu, planning.save_themes, any_world["admin"], ["  "])
    with pytest.raises(ValidationError):
        call(any_sanhu, planning.save_themes, any_world["admin"], ["长" * 201])


def test_a_units_first_observation_has_the_first_theme_and_later_ones_the_cycles(
        any_sanhu, any_world, cycle):
    later = open_(any_sanhu, "village_quarterly", "2027Q1")
    call(any_sanhu, planning.save_cycle_settings, later, any_world["city"], theme="主题党日",
         checklist_weight=70, findings_include_partial=False, finding_deadline_workdays=None)
    with any_sanhu.uow() as uow:
        first = uow.session.get(Observation, obs_id(any_sanhu, any_world, cycle, "V111"))
        second = uow.session.get(Observation, obs_id(any_sanhu, any_world, later, "V111"))
        assert planning.theme_for(uow, first) == planning.FIRST_THEME
        assert planning.theme_for(uow, second) == "主题党日"
        second.theme = "三会一课"
        assert planning.theme_for(uow, second) == "三会一课"
    themes = {t.unit_code: t.theme for t in plan(any_sanhu, later, any_world["town_T11"]).targets}
    assert themes == {"V111": "主题党日", "V112": "主题党日"}


def test_the_city_sets_a_cycles_theme_weight_and_finding_rules(any_sanhu, any_world, cycle):
    cyc = call(any_sanhu, planning.save_cycle_settings, cycle, any_world["admin"],
               theme=" 组织生活会 ", checklist_weight="60", findings_include_partial="on",
               finding_deadline_workdays="15")
    with any_sanhu.uow() as uow:
        stored = uow.session.get(Cycle, cyc.id)
        assert (stored.theme, stored.checklist_weight, stored.findings_include_partial,
                stored.finding_deadline_workdays) == ("组织生活会", 60, True, 15)
    bad = dict(theme="x", checklist_weight=70, findings_include_partial=False,
               finding_deadline_workdays=None)
    for change, field in ((dict(checklist_weight=101), "checklist_weight"),
                          (dict(checklist_weight=-1), "checklist_weight"),
                          (dict(checklist_weight="七十"), "checklist_weight"),
                          (dict(checklist_weight=70.5), "checklist_weight"),
                          (dict(finding_deadline_workdays=0), "finding_deadline_workdays"),
                          (dict(finding_deadline_workdays=251), "finding_deadline_workdays"),
                          (dict(theme="长" * 201), "theme")):
        with pytest.raises(ValidationError) as err:
            call(any_sanhu, planning.save_cycle_settings, cycle, any_world["city"],
                 **{**bad, **change})
        assert set(err.value.fields) == {field}
    for who in ("county_K1", "sup_city", "town_T11"):
        with pytest.raises(PermissionDenied):
            call(any_sanhu, planning.save_cycle_settings, cycle, any_world[who], **bad)
    with pytest.raises(NotFound):
        call(any_sanhu, planning.save_cycle_settings, "nope", any_world["city"], **bad)
    call(any_sanhu, planning.save_cycle_settings, cycle, any_world["city"], **bad)
    with any_sanhu.uow() as uow:
        stored = uow.session.get(Cycle, cycle)
        assert (stored.theme, stored.checklist_weight, stored.findings_include_partial,
                stored.finding_deadline_workdays) == ("x", 70, False, None)
