"""Two people acting on one item at once, on SQLite and on PostgreSQL.

SPEC §7: "one wins, the other is told plainly that the item changed".  Each
test opens real units of work on a real database; the threaded tests use real
threads with their own connections.  The PostgreSQL variants skip without
``SANHU_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from ledger.core.errors import Conflict, InvalidTransition
from ledger.core.models import Evidence, Item, ItemEvent
from ledger.items import services as svc
from ledger.items.queries import get_item

PDF = b"%PDF-1.4\n%%EOF\n"
ROUNDS = 20


def record(app, world, who="town_T11", unit="V111") -> int:
    with app.uow() as uow:
        return svc.record_finding(uow, world[who], unit_id=world.units[unit].id,
                                  description="三会一课记录不全").id


def drive(app, world, item_id: int, upto: str) -> None:
    """Move a found item of V111 along the happy path until it is ``upto``."""
    steps = [
        ("assigned", svc.assign, "town_T11",
         lambda today: dict(responsible_user_id=world["sec_V111"].id, category="deadline",
                            deadline=today + dt.timedelta(days=30))),
        ("rectifying", svc.accept, "sec_V111", lambda today: dict(measures="补齐记录")),
        ("submitted", svc.submit, "sec_V111",
         lambda today: dict(note="已补齐", uploads=[svc.Upload(PDF, "a.pdf")])),
    ]
    for status, fn, who, kwargs in steps:
        with app.uow() as uow:
            result = fn(uow, item_id, world[who], **kwargs(uow.today()))
        assert result.status == status
        if status == upto:
            return
    raise AssertionError(upto)


def state_of(app, item_id: int) -> tuple[Item, list[ItemEvent]]:
    with app.uow() as uow:
        item = uow.session.get(Item, item_id)
        history = list(uow.session.scalars(
            select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.seq)))
    return item, history


def test_a_stale_second_session_gets_conflict_and_the_first_result_stands(any_sanhu,
                                                                          any_world):
    app, world = any_sanhu, any_world
    item_id = record(app, world)
    drive(app, world, item_id, "submitted")
    _, history_before = state_of(app, item_id)
    version_before = len(history_before)

    with app.uow() as uow_a, app.uow() as uow_b:
        # both people open the item page
        seen_a = get_item(uow_a.session, world["town_T11"], item_id)
        seen_b = get_item(uow_b.session, world["county_K1"], item_id)
        assert seen_a.status == seen_b.status == "submitted"
        assert seen_a.version == seen_b.version == version_before
        # A verifies and commits
        result = svc.verify(uow_a, item_id, world["town_T11"], method="实地查看", note="合格")
        assert result.status == "verified" and result.version == version_before + 1
        # B, on the page it already has open (version seen_b.version), rejects
        with pytest.raises(Conflict) as info:
            svc.reject(uow_b, item_id, world["county_K1"], reason="记录仍不全",
                       expected_version=seen_b.version)
        assert info.value.code == "conflict"
        # B may retry after reloading: it now sees A's result and is refused plainly
        with pytest.raises(InvalidTransition):
            svc.reject(uow_b, item_id, world["county_K1"], reason="记录仍不全",
                       expected_version=version_before + 1)

    item, history = state_of(app, item_id)
    assert item.status == "verified" and item.rejection_count == 0
    assert item.verifier_id == world["town_T11"].id
    assert item.version == version_before + 1 == len(history)
    events = Counter(h.event for h in history)
    assert events["verify"] == 1 and events["reject"] == 0
    assert [h.seq for h in history] == list(range(1, item.version + 1))


def test_acting_on_an_old_version_of_the_form_is_a_conflict_and_changes_nothing(any_sanhu,
                                                                               any_world):
    app, world = any_sanhu, any_world
    item_id = record(app, world)
    drive(app, world, item_id, "rectifying")
    seen, _ = state_of(app, item_id)
    form_version = seen.version
    # meanwhile, from the phone, a progress note
    with app.uow() as uow:
        svc.report_progress(uow, item_id, world["sec_V111"], note="已开会",
                            expected_version=form_version)
    before, history_before = state_of(app, item_id)
    assert before.version == form_version + 1
    # then, from the office computer, the form loaded earlier is submitted
    with app.uow() as uow, pytest.raises(Conflict) as info:
        svc.submit(uow, item_id, world["sec_V111"], note="已补齐",
                   uploads=[svc.Upload(PDF, "a.pdf")], expected_version=form_version)
    assert info.value.details.get("current_version") == form_version + 1
    after, history_after = state_of(app, item_id)
    assert (after.version, after.status, after.submitted) == (before.version, "rectifying", False)
    assert len(history_after) == len(history_before)
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Evidence)
                                  .where(Evidence.item_id == item_id)) == 0
    # with the current version the same submission goes through
    with app.uow() as uow:
        result = svc.submit(uow, item_id, world["sec_V111"], note="已补齐",
                            uploads=[svc.Upload(PDF, "a.pdf")], expected_version=after.version)
    assert result.status == "submitted" and result.version == after.version + 1


def _race(app, world, item_id: int) -> dict[str, object]:
    """Two threads, each with its own unit of work, load the item, then act at once."""
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, object] = {}
    today = app.uow().today()
    # each form carries the version its page showed, as the web pages will
    calls = {
        "accept": lambda uow, seen: svc.accept(uow, item_id, world["sec_V111"],
                                               measures="马上改", expected_version=seen),
        "request_extension": lambda uow, seen: svc.request_extension(
            uow, item_id, world["sec_V111"], deadline=today + dt.timedelta(days=60),
            reason="需要时间", expected_version=seen),
    }

    def worker(name: str) -> None:
        try:
            with app.uow() as uow:
                # the page is open at the version it was loaded with
                seen = get_item(uow.session, world["sec_V111"], item_id).version
                barrier.wait()
                outcomes[name] = calls[name](uow, seen)
        except BaseException as exc:  # every outcome is inspected below
            outcomes[name] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_racing_threads_on_one_item_never_both_win(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    winners, losses = Counter(), Counter()
    for _ in range(ROUNDS):
        item_id = record(app, world)
        drive(app, world, item_id, "assigned")
        outcomes = _race(app, world, item_id)
        ok = {n: r for n, r in outcomes.items() if isinstance(r, svc.ItemResult)}
        lost = {n: r for n, r in outcomes.items() if not isinstance(r, svc.ItemResult)}
        assert len(ok) == 1, outcomes
        assert all(isinstance(r, Conflict | InvalidTransition) for r in lost.values()), outcomes
        (winner, result), = ok.items()
        winners[winner] += 1
        losses.update(type(r).__name__ for r in lost.values())
        item, history = state_of(app, item_id)
        assert item.version == result.version == len(history) == 3
        assert [h.seq for h in history] == [1, 2, 3]
        assert history[-1].event == winner
        if winner == "accept":
            assert item.status == "rectifying" and item.pending_extension is None
        else:
            assert item.status == "assigned" and item.pending_extension is not None
    assert sum(winners.values()) == ROUNDS
    # both had loaded the item before either acted: the loser learns of it at write time
    assert losses["Conflict"] >= 1, losses


def test_item_numbers_stay_unique_when_two_people_record_findings_at_once(any_sanhu,
                                                                        any_world):
    app, world = any_sanhu, any_world
    per_thread = 20
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, list] = {"town_T11": [], "county_K1": []}

    def worker(who: str) -> None:
        barrier.wait()
        for i in range(per_thread):
            try:
                with app.uow() as uow:
                    results[who].append(svc.record_finding(
                        uow, world[who], unit_id=world.units["V111"].id,
                        description=f"{who} 发现的问题 {i}"))
            except BaseException as exc:  # every outcome is inspected below
                results[who].append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    everything = results["town_T11"] + results["county_K1"]
    errors = [r for r in everything if not isinstance(r, svc.ItemResult)]
    assert errors == []
    with app.uow() as uow:
        numbers = list(uow.session.scalars(
            select(Item.number).where(Item.unit_id == world.units["V111"].id)))
        year = uow.today().year
    assert len(numbers) == len(set(numbers)) == 2 * per_thread
    assert sorted(numbers) == [f"{year}-V111-{n:03d}" for n in range(1, 2 * per_thread + 1)]
    assert sorted(r.number for r in everything) == sorted(numbers)


class _InterleavingUpload(io.BytesIO):
    """An upload whose first read lets another user commit a change to the same item.

    Services read uploads after loading the item and before writing it, so this
    puts a real concurrent commit exactly between the read and the write.
    """

    def __init__(self, data: bytes, meanwhile) -> None:
        super().__init__(data)
        self.meanwhile = meanwhile

    def read(self, *args):
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        return super().read(*args)


def test_a_change_committed_between_read_and_write_is_a_conflict(any_sanhu, any_world):
    app, world = any_sanhu, any_world
    item_id = record(app, world)
    drive(app, world, item_id, "rectifying")

    def other_device() -> None:
        with app.uow() as uow:
            svc.report_progress(uow, item_id, world["sec_V111"], note="另一台手机上报的进展")

    upload = svc.Upload(_InterleavingUpload(PDF, other_device), "a.pdf")
    with app.uow() as uow, pytest.raises(Conflict):
        svc.submit(uow, item_id, world["sec_V111"], note="已整改", uploads=[upload])
    item, history = state_of(app, item_id)
    assert item.status == "rectifying" and not item.submitted
    assert [h.event for h in history][-1] == "report_progress"
    assert item.version == len(history)
