"""Observations (SPEC §14): saving one checklist line, confirming a 65-line record
that creates its findings, and the coverage of a province cycle by unit.

Everything goes through the services the pages call, on planned observations of
the current quarter that the build left for it.
"""

from __future__ import annotations

import random
import time

from sqlalchemy import select, text

from bench.common import log
from bench.harness import Measurer, summary
from ledger.core.models import ObservationLine, ObservationParticipant
from ledger.observations import coverage, record
from ledger.observations import services as obs_svc

RESULTS = ("conform", "conform", "conform", "partial", "fail")


def _planned(m: Measurer, n: int) -> list[tuple[int, int]]:
    """``n`` planned village observations of the newest quarter: (id, observing unit)."""
    with m.app.uow() as uow:
        rows = uow.session.execute(text(
            "SELECT o.id, o.observing_unit_id FROM observations o JOIN cycles c ON c.id = "
            "o.cycle_id WHERE c.kind = 'village_quarterly' AND o.status = 'planned' "
            "AND c.period = (SELECT max(period) FROM cycles WHERE kind = 'village_quarterly') "
            "ORDER BY o.id LIMIT :n"), {"n": n}).all()
    if len(rows) < n:
        raise RuntimeError(f"only {len(rows)} planned observations: build more villages")
    return [tuple(r) for r in rows]


def _start(m: Measurer, oid: int, actor, demonstration: bool = False) -> dict[int, int]:
    with m.app.uow() as uow:
        obs_svc.start(uow, oid, actor)
    if demonstration:
        with m.app.uow() as uow:
            record.save_settings(uow, oid, actor, mode="focused", demonstration=True)
    with m.app.uow() as uow:
        return dict(uow.session.execute(select(ObservationLine.standard_id,
                                               ObservationLine.version)
                                        .where(ObservationLine.observation_id == oid)).all())


def save_lines(m: Measurer) -> dict:
    """p95 of saving one line (result, note, deduction) with its version check."""
    runs = m.args.line_saves
    rng = random.Random(f"{m.args.seed}-lines")
    town = m.by_role["township_staff"]
    targets = []
    for oid, observer in _planned(m, max(2, runs // 40 + 1)):
        lines = _start(m, oid, town[observer])
        targets += [(oid, observer, sid, version) for sid, version in lines.items()]
    rng.shuffle(targets)

    def run(i):
        oid, observer, sid, version = targets[i % len(targets)]
        result = rng.choice(RESULTS)
        with m.app.uow() as uow:
            record.save_line(uow, oid, sid, town[observer], result=result,
                             note="活动室制度上墙不全" if result != "conform" else None,
                             deduction=None, expected_version=None)

    return m.latency("save one checklist line", run, runs, profile_reps=100)


def confirm_65(m: Measurer) -> dict:
    """Confirming a 65-line record (42 basic + 23 demonstration) with five failed lines:
    the score is frozen and five ledger items are recorded in the same transaction."""
    runs = m.args.confirms
    town = m.by_role["township_staff"]
    samples, findings = [], []
    for oid, observer in _planned(m, runs + 1)[1:]:
        actor = town[observer]
        lines = _start(m, oid, actor, demonstration=True)
        for sid in list(lines)[:5]:
            with m.app.uow() as uow:
                record.save_line(uow, oid, sid, actor, result="fail", note="未达到标准要求")
        with m.app.uow() as uow:
            record.mark_rest(uow, oid, actor)
        with m.app.uow() as uow:
            pid = uow.session.scalar(select(ObservationParticipant.id).where(
                ObservationParticipant.observation_id == oid).limit(1))
        with m.app.uow() as uow:
            record.save_evaluation(uow, oid, pid, actor, score=85)
        with m.app.uow() as uow:
            obs_svc.submit(uow, oid, actor)
        t0 = time.perf_counter()
        with m.app.uow() as uow:
            result = obs_svc.confirm(uow, oid, actor)
        samples.append(time.perf_counter() - t0)
        findings.append(len(result.findings))
        assert len(lines) == 65, f"{len(lines)} lines"
    res = summary(samples)
    res["findings_each"] = sorted(set(findings))
    log(f"  {m.db}: confirm a 65-line observation with 5 findings: p50 {res['p50_ms']:.0f} ms,"
        f" max {res['max_ms']:.0f} ms (n={res['n']})")
    return res


def coverage_reads(m: Measurer) -> dict:
    """Coverage of the newest quarterly cycle (every village of the province) by observing
    unit, as the city sees it, and by county; and as one county sees its townships."""
    with m.app.uow() as uow:
        cycle_id = uow.session.execute(text(
            "SELECT id FROM cycles WHERE kind = 'village_quarterly' "
            "ORDER BY period DESC LIMIT 1")).scalar_one()
        n_obs = uow.session.execute(text(
            "SELECT count(*) FROM observations WHERE cycle_id = :c"), {"c": cycle_id}).scalar()
    counties = m.counties
    res = {"observations": n_obs}
    for key, actor_of, by in (("city", lambda i: m.city, "observing_unit"),
                              ("city_by_county", lambda i: m.city, "county"),
                              ("county", lambda i: counties[i % len(counties)],
                               "observing_unit")):
        def run(i, actor_of=actor_of, by=by):
            with m.app.uow() as uow:
                rows = coverage.coverage(uow.session, cycle_id, actor_of(i), m.today, by=by)
                assert rows
        res[key] = m.latency(f"coverage of a cycle ({n_obs:,} obs.), {key}", run,
                             m.args.coverage_runs, profile_reps=20)
    return res
