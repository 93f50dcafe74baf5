"""The record page and the item history of a 约谈 over two villages, as each reader sees them."""

from __future__ import annotations

from sqlalchemy import select
from test_board import make_overdue, number, post_act

from ledger.core.models import SupervisionRecord

#: everything of the act that names village V121 (村121) or was said there
SECRET = ("赵书记", "村121", "V121", "乡12会议室", "纪要内容", "逾期且多次退回", "表态一周内")


def test_a_village_secretary_sees_neither_the_other_village_nor_the_minutes(sanhu, world,
                                                                             signed_in):
    a, b = make_overdue(sanhu, world, "V111"), make_overdue(sanhu, world, "V121", "town_T12")
    supervisor = signed_in("sup_K1")
    response = post_act(supervisor, "interview", [a, b], {
        "held_at": "2026-11-20T09:30", "place": "乡12会议室", "interviewer": "李组长",
        "interviewee": "赵书记", "interviewee_post": "村121党支部书记",
        "reason": "村121整改逾期且多次退回", "minutes": "纪要内容:村121表态",
        "outcome": "村121表态一周内完成", "follow_up_deadline": "2026-12-31"})
    assert response.status_code == 200
    with sanhu.uow() as uow:
        record_id = uow.session.scalar(select(SupervisionRecord.id))

    # the supervisor who recorded it reads all of it, on the record and in the history
    html = supervisor.get(f"/board/records/{record_id}").get_data(as_text=True)
    assert all(word in html for word in SECRET if word != "V121")
    assert number(sanhu, b) in html
    assert "赵书记" in supervisor.get(f"/items/{a}").get_data(as_text=True)

    secretary = signed_in("sec_V111")
    record = secretary.get(f"/board/records/{record_id}")
    html = record.get_data(as_text=True)
    assert record.status_code == 200
    assert "约谈" in html and "2026年11月20日 09:30" in html and "2026年12月31日" in html
    assert number(sanhu, a) in html and 'id="record-partial"' in html
    assert [word for word in SECRET if word in html] == []
    page = secretary.get(f"/items/{a}").get_data(as_text=True)
    assert f"/board/records/{record_id}" in page and 'history-withheld' in page
    assert [word for word in SECRET if word in page] == []
