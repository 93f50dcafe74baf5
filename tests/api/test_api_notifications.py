"""The inbox over the API: the caller's own messages in cursor pages, marking them read,
and nobody else's."""

from __future__ import annotations

from supervision_helpers import make_overdue, number

from ledger.notify import reminders


def _notes(sanhu, user_id: int, n: int, title: str = "消息") -> None:
    with sanhu.uow() as uow:
        for k in range(n):
            reminders.insert_notification(uow, user_id=user_id, kind="test",
                                          title=f"{title} {k:02d}", body="正文")


def test_the_inbox_comes_newest_first_in_cursor_pages(sanhu, world, api_as):
    _notes(sanhu, world["sec_V111"].id, 5)
    api = api_as("sec_V111")
    first = api.get("/api/v1/notifications?limit=3")
    assert first.status_code == 200, first.get_data(as_text=True)
    assert [n["title"] for n in first.json["notifications"]] == ["消息 04", "消息 03", "消息 02"]
    assert first.json["unread"] == 5 and first.json["notifications"][0]["read_at"] is None
    second = api.get(f"/api/v1/notifications?limit=3&cursor={first.json['next_cursor']}")
    assert [n["title"] for n in second.json["notifications"]] == ["消息 01", "消息 00"]
    assert second.json["next_cursor"] is None


def test_marking_one_read_and_then_all(sanhu, world, api_as):
    _notes(sanhu, world["sec_V111"].id, 3)
    api = api_as("sec_V111")
    newest = api.get("/api/v1/notifications").json["notifications"][0]
    read = api.post(f"/api/v1/notifications/{newest['id']}/read")
    assert read.status_code == 200 and read.json["read_at"] is not None
    unread = api.get("/api/v1/notifications?unread=true").json
    assert unread["unread"] == 2 and newest["id"] not in [n["id"] for n in
                                                           unread["notifications"]]
    # marking it again changes nothing and is no error (no If-Match: not versioned)
    assert api.post(f"/api/v1/notifications/{newest['id']}/read").status_code == 200
    everything = api.post("/api/v1/notifications/read-all")
    assert everything.status_code == 200
    assert everything.json == {"marked": 2, "unread": 0}
    assert api.get("/api/v1/notifications?unread=true").json["notifications"] == []


def test_another_users_message_is_not_found_and_stays_unread(sanhu, world, api_as):
    _notes(sanhu, world["sec_V112"].id, 1, "别人的")
    theirs = api_as("sec_V112").get("/api/v1/notifications").json["notifications"][0]
    mine = api_as("sec_V111")
    assert mine.get("/api/v1/notifications").json["notifications"] == []
    for response in (mine.get(f"/api/v1/notifications/{theirs['id']}"),
                     mine.post(f"/api/v1/notifications/{theirs['id']}/read")):
        assert response.status_code == 404
        assert response.json["type"] == "/api/v1/problems/not-found"
    assert mine.post("/api/v1/notifications/read-all").json["marked"] == 0
    assert api_as("sec_V112").get("/api/v1/notifications").json["unread"] == 1


def test_an_urge_arrives_with_its_item(sanhu, world, api_as):
    item_id = make_overdue(sanhu, world, "V111")
    sup = api_as("sup_K1")
    tag = sup.etag(f"/api/v1/items/{item_id}")
    urged = sup.post(f"/api/v1/items/{item_id}/supervision/urge", json={"note": "请抓紧"},
                     headers={"If-Match": tag})
    assert urged.status_code == 201, urged.get_data(as_text=True)
    [note] = [n for n in api_as("sec_V111").get("/api/v1/notifications").json["notifications"]
              if n["kind"] == "urge"]
    assert note["item"] == {"id": item_id, "number": number(sanhu, item_id)}
    assert "请抓紧" in note["body"]


def test_the_inbox_refuses_bad_input_and_sessions_may_not_mark(client, world, api_as):
    api = api_as("sec_V111")
    bad = api.get("/api/v1/notifications?limit=0&cursor=abc")
    assert bad.status_code == 422 and {"limit", "cursor"} <= set(bad.json["errors"])
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read-all").status_code == 401
