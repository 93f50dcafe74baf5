"""The daily mix of ``bench.load`` and how its answers are counted (no server)."""

import importlib.util
from pathlib import Path

# bench/ is not an installed package; its load_mix module imports nothing of the project
_spec = importlib.util.spec_from_file_location(
    "bench_load_mix", Path(__file__).parents[2] / "bench" / "load_mix.py")
load_mix = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load_mix)
CYCLE, LIST_FILTERS, TODO = load_mix.CYCLE, load_mix.LIST_FILTERS, load_mix.TODO
outcome, summarise = load_mix.outcome, load_mix.summarise
after_sign_ins = load_mix.after_sign_ins


def test_one_request_in_ten_of_the_cycle_is_an_event():
    kinds = [step.split(":")[0] for step in CYCLE]
    assert len(kinds) == 10 and kinds.count("event") == 1
    assert kinds[-1] == "event" and CYCLE[-2] == "item:todo"  # fired from the page just read
    assert {"home", "list", "item"} <= set(kinds)


def test_every_role_has_an_event_and_every_list_filter_is_a_query_string():
    assert all(events for events in TODO.values())
    assert all(isinstance(k, str) and isinstance(v, str)
               for f in LIST_FILTERS for k, v in f.items())


def test_a_conflict_on_an_event_is_expected_and_every_other_failure_is_an_error():
    assert outcome("event", 409) == "conflict"
    assert outcome("event", 302) == "ok" and outcome("home", 200) == "ok"
    assert outcome("item", 409) == "error"  # only an event may meet a concurrent change
    for status in (0, 400, 401, 403, 404, 500, 502, 503):
        assert outcome("event", status) == "error"
        assert outcome("list", status) == "error"


def test_the_overall_row_is_the_daily_mix_without_the_sign_in():
    samples = [["login", 900.0, 302, "ok"], ["home", 10.0, 200, "ok"],
               ["event", 30.0, 409, "conflict"], ["list", 20.0, 500, "error"]]
    rows = {r["kind"]: r for r in summarise(samples, seconds=2)}
    assert list(rows) == ["login", "home", "list", "event", "overall"]
    overall = rows["overall"]
    assert overall["n"] == 3 and overall["max_ms"] == 30.0 and overall["per_s"] == 1.5
    assert (overall["ok"], overall["conflict"], overall["error"]) == (1, 1, 1)
    assert rows["event"]["statuses"] == {"409": 1}


def test_the_steady_state_starts_when_the_last_sign_in_has_ended():
    samples = [["login", 500.0, 302, "ok", 3.0], ["home", 100.0, 200, "ok", 2.5],
               ["home", 100.0, 200, "ok", 3.05], ["item", 100.0, 200, "ok", 3.2]]
    assert after_sign_ins(samples) == [samples[3]]
