"""Trigger arithmetic of the scheduled jobs: quarter starts, 1 January / 1 July, the zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from ledger.core.settings import Settings
from schedules.scheduler import job_specs

SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def triggers(**env):
    return {spec.id: spec.trigger for spec in job_specs(Settings(), env=env)}


def fire_times(trigger, start: dt.datetime, n: int) -> list[dt.datetime]:
    out, previous, now = [], None, start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(previous, now)
        out.append(nxt)
        previous, now = nxt, nxt + dt.timedelta(seconds=1)
    return out


def test_the_quarterly_cycle_opens_at_five_past_midnight_on_each_quarters_first_day():
    times = fire_times(triggers()["open_village_quarterly"], dt.datetime(2026, 11, 28, tzinfo=SH),
                       5)
    assert times == [dt.datetime(y, m, 1, 0, 5, tzinfo=SH)
                     for y, m in ((2027, 1), (2027, 4), (2027, 7), (2027, 10), (2028, 1))]


def test_the_half_yearly_cycle_opens_on_1_january_and_1_july():
    times = fire_times(triggers()["open_township_half_yearly"],
                       dt.datetime(2026, 7, 1, 0, 10, 1, tzinfo=SH), 3)
    assert [(t.year, t.month, t.day) for t in times] == [(2027, 1, 1), (2027, 7, 1),
                                                         (2028, 1, 1)]


def test_fire_times_are_shanghai_wall_clock_whatever_the_callers_zone():
    quarterly = triggers()["open_village_quarterly"]
    # 2026-12-31 16:05 UTC is 2027-01-01 00:05 in Shanghai
    nxt = quarterly.get_next_fire_time(None, dt.datetime(2026, 12, 31, 15, 0, tzinfo=UTC))
    assert nxt.astimezone(UTC) == dt.datetime(2026, 12, 31, 16, 5, tzinfo=UTC)
    assert str(nxt.tzinfo) == "Asia/Shanghai"
    # one minute after the Shanghai fire time, the next is three months later
    later = quarterly.get_next_fire_time(None, dt.datetime(2026, 12, 31, 16, 6, tzinfo=UTC))
    assert later == dt.datetime(2027, 4, 1, 0, 5, tzinfo=SH)


@pytest.mark.parametrize(("job", "clock", "expected"), [
    ("reminder_sweep", "2026-11-28 07:29", "2026-11-28 07:30"),
    ("reminder_sweep", "2026-11-28 07:31", "2026-11-29 07:30"),
    ("overdue_digest", "2026-12-31 23:00", "2027-01-01 08:00"),
    ("report_reminders", "2026-06-30 08:59", "2026-06-30 09:00"),
    ("results_reminders", "2026-06-30 09:01", "2026-06-30 09:05"),
    ("deliver", "2026-11-28 10:00:30", "2026-11-28 10:01"),
])
def test_daily_and_minute_jobs(job, clock, expected):
    now = dt.datetime.fromisoformat(clock).replace(tzinfo=SH)
    nxt = triggers()[job].get_next_fire_time(None, now)
    assert nxt == dt.datetime.fromisoformat(expected).replace(tzinfo=SH)


def test_trigger_reprs_are_stable_across_starts_and_name_the_zone():
    with time_machine.travel(dt.datetime(2026, 1, 5, tzinfo=SH), tick=False):
        first = {k: repr(v) for k, v in triggers().items()}
    with time_machine.travel(dt.datetime(2027, 3, 9, 13, 17, tzinfo=SH), tick=False):
        second = {k: repr(v) for k, v in triggers().items()}
    assert first == second
    assert all("Asia/Shanghai" in r for r in first.values())


def test_the_test_heartbeat_exists_only_when_asked_for():
    assert "heartbeat" not in triggers()
    beat = triggers(SANHU_SCHEDULER_TEST_JOB="2")["heartbeat"]
    start = dt.datetime(2026, 11, 28, 10, 0, 1, tzinfo=SH)
    assert fire_times(beat, start, 2) == [start + dt.timedelta(seconds=1),
                                          start + dt.timedelta(seconds=3)]


def test_the_grace_window_and_zone_come_from_the_settings():
    settings = Settings.from_env({"SANHU_SCHEDULER_GRACE_SECONDS": "600",
                                  "SANHU_TIMEZONE": "Asia/Urumqi"})
    assert settings.scheduler_grace_seconds == 600
    spec = job_specs(settings, env={})[0]
    assert str(spec.trigger.timezone) == "Asia/Urumqi"
