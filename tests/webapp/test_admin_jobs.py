"""Admin pages for the scheduled jobs, the notification settings and the deliveries.

"Run now" runs the real job; the test messages reach a real SMTP server and a
real HTTP receiver on this machine (``tests/receivers.py``).
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from announce_helpers import forget_announcements
from receivers import HttpReceiver, SmtpReceiver, free_port
from sqlalchemy import func, select, update
from web_fixtures import csrf_token, sign_in

from ledger.core.models import Cycle, JobRun, Notification, Role, Unit, User
from ledger.items import services
from ledger.notify import reminders
from ledger.notify.delivery import deliver_now
from ledger.org.directory import add_user
from schedules.scheduler import job_specs
from web import create_app

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SH)  # a Wednesday
PASSWORD = "pw-for-tests-1"


def text(response) -> str:
    return response.get_data(as_text=True)


def overdue_item(sanhu, world, village: str = "V111") -> int:
    """An item of ``village``, three working days overdue on T0."""
    town = world[f"town_T{village[1:3]}"]
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=SH), tick=False):
        with sanhu.uow() as uow:
            item = services.record_finding(uow, town, unit_id=world.units[village].id,
                                           description="党员活动室制度未上墙")
        with sanhu.uow() as uow:
            services.assign(uow, item.id, town, responsible_user_id=world[f"sec_{village}"].id,
                            category="deadline", deadline=dt.date(2026, 11, 20))
    forget_announcements(sanhu)
    return item.id


def notifications_of(sanhu, username: str) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count(Notification.id)).join(
            User, User.id == Notification.user_id).where(User.username == username))


def county_admin(sanhu) -> None:
    """An administrator of county K1 (the world has only the city's)."""
    with sanhu.uow() as uow:
        unit = uow.session.scalar(select(Unit).where(Unit.code == "K1"))
        add_user(uow.session, username="admin_K1", display_name="admin_K1", role=Role.ADMIN,
                 unit=unit, password=PASSWORD)
        uow.commit()


@pytest.fixture
def county_admin_client(app, sanhu, world):
    county_admin(sanhu)
    client = app.test_client()
    assert sign_in(client, "admin_K1").status_code == 302
    return client


def post_settings(client, **values):
    """Send the settings form as the page would: every field, ``values`` over the stored."""
    html = text(client.get("/admin/notifications"))
    data = {"csrf_token": csrf_token(client, "/admin/notifications")}
    for name in ("reminder_offsets", "overdue_every", "board_threshold_days", "smtp_host",
                 "smtp_port", "smtp_user", "smtp_from", "webhook_url"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
        data[name] = htmllib.unescape(match.group(1)) if match else ""
    for name in ("smtp_tls", "webhook_kind"):
        block = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
        data[name] = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" '
                               r'selected', block).group(1) or "none"
    for name in ("email_enabled", "webhook_enabled", "webhook_allow_internal"):
        if re.search(rf'<input checked[^>]*name="{name}"|name="{name}"[^>]*checked', html):
            data[name] = "y"
    data.update({k: v for k, v in values.items() if v is not None})
    for k in [k for k, v in values.items() if v is None]:
        data.pop(k, None)
    return client.post("/admin/notifications", data=data)


def stored(sanhu) -> reminders.NotifySettings:
    with sanhu.uow() as uow:
        return reminders.notify_settings(uow)


# --- the jobs page ----------------------------------------------------------------------


def test_the_jobs_page_lists_every_job_with_its_trigger_and_next_run(sanhu, world, signed_in):
    with time_machine.travel(T0, tick=False):
        html = text(signed_in("admin").get("/admin/jobs"))
    for spec in job_specs(sanhu.settings):
        assert f'id="job-{spec.id}"' in html
    row = html[html.index('id="job-reminder_sweep"'):html.index('id="job-overdue_digest"')]
    assert "整改时限提醒（每日）" in row and "每天 07:30" in row and "2026年11月26日 07:30" in row
    assert "从未执行" in row and "立即执行" in row
    row = html[html.index('id="job-open_village_quarterly"'):]
    assert "一月、四月、七月和十月" in row and "2027年1月1日 00:05" in row


def test_the_jobs_page_speaks_english(world, signed_in):
    client = signed_in("admin")
    client.set_cookie("sanhu_lang", "en")
    html = text(client.get("/admin/jobs"))
    assert "Daily deadline reminders" in html and "Daily at 07:30" in html
    assert "On day 1 of January, April, July, and October, at 00:05" in html
    assert "Every minute" in html and "Run now" in html


def test_run_now_runs_the_reminder_sweep_once_and_shows_the_outcome(sanhu, world, signed_in):
    overdue_item(sanhu, world)
    with time_machine.travel(T0, tick=False):
        client = signed_in("admin")
        token = csrf_token(client, "/admin/jobs")
        response = client.post("/admin/jobs/reminder_sweep/run", data={"csrf_token": token},
                               follow_redirects=True)
        html = text(response)
        assert "“整改时限提醒（每日）”已执行成功" in html
        row = html[html.index('id="job-reminder_sweep"'):html.index('id="job-overdue_digest"')]
        assert "outcome-ok" in row and "2026-11-25" in row and "提醒：" in row
        assert "SweepResult" not in row  # the result in words, not its repr
        assert notifications_of(sanhu, "sec_V111") == 1
        client.post("/admin/jobs/reminder_sweep/run", data={"csrf_token": token})
    assert notifications_of(sanhu, "sec_V111") == 1  # idempotent: the same reminder once
    with sanhu.uow() as uow:
        run = uow.session.scalar(select(JobRun).where(JobRun.job_id == "reminder_sweep"))
    assert (run.run_key, run.outcome, run.attempts) == ("2026-11-25", "ok", 2)


def test_run_now_opens_the_quarterly_cycle(sanhu, world, signed_in):
    with time_machine.travel(T0, tick=False):
        client = signed_in("admin")
        client.post("/admin/jobs/open_village_quarterly/run",
                    data={"csrf_token": csrf_token(client, "/admin/jobs")})
    with sanhu.uow() as uow:
        periods = uow.session.scalars(select(Cycle.period).where(
            Cycle.kind == "village_quarterly")).all()
    assert periods == ["2026Q4"]


def test_a_failing_job_shows_its_error_not_a_500(sanhu, world, signed_in, monkeypatch):
    def broken(uow, today=None, **_):
        raise RuntimeError("the calendar table is locked")

    monkeypatch.setattr(reminders, "reminder_sweep", broken)
    client = signed_in("admin")
    response = client.post("/admin/jobs/reminder_sweep/run",
                           data={"csrf_token": csrf_token(client, "/admin/jobs")},
                           follow_redirects=True)
    assert response.status_code == 200
    html = text(response)
    assert "执行失败" in html and "RuntimeError: the calendar table is locked" in html
    row = html[html.index('id="job-reminder_sweep"'):html.index('id="job-overdue_digest"')]
    assert "outcome-failed" in row and "the calendar table is locked" in row


def test_run_now_needs_the_csrf_token_and_a_known_job(world, signed_in):
    client = signed_in("admin")
    assert client.post("/admin/jobs/reminder_sweep/run").status_code == 400
    token = csrf_token(client, "/admin/jobs")
    assert client.post("/admin/jobs/no_such_job/run", data={"csrf_token": token}
                       ).status_code == 404


@pytest.mark.parametrize("name", ["sec_V111", "town_T11", "county_K1", "city", "sup_city"])
def test_only_admins_see_these_pages(world, signed_in, name):
    client = signed_in(name)
    for path in ("/admin/jobs", "/admin/notifications", "/admin/deliveries"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/account")
    assert client.post("/admin/jobs/reminder_sweep/run",
                       data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/notifications/test", data={"csrf_token": token,
                                                           "channel": "inbox"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/jobs")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_county_admin_sees_jobs_and_settings_read_only(sanhu, county_admin_client):
    client = county_admin_client
    html = text(client.get("/admin/jobs"))
    assert 'id="job-reminder_sweep"' in html and "立即执行" not in html and "只能查看" in html
    token = csrf_token(client, "/admin/jobs")
    assert client.post("/admin/jobs/reminder_sweep/run",
                       data={"csrf_token": token}).status_code == 403
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count(JobRun.id))) == 0
    html = text(client.get("/admin/notifications"))
    assert "保存设置" not in html and "发送测试消息" not in html
    assert re.search(r'<input[^>]*disabled[^>]*name="reminder_offsets"', html)
    assert client.post("/admin/notifications", data={"csrf_token": token,
                                                     "reminder_offsets": "9"}).status_code == 403
    assert client.post("/admin/notifications/test", data={"csrf_token": token,
                                                          "channel": "inbox"}).status_code == 403
    assert stored(sanhu).reminder_offsets == (5, 1, 0)


def test_a_county_admin_does_not_see_the_webhook_key(sanhu, county_admin_client):
    with sanhu.uow() as uow:
        reminders.set_notify_settings(uow, webhook_url="https://qyapi.weixin.qq.com/cgi-bin/"
                                                       "webhook/send?key=SECRET-KEY-123")
    html = text(county_admin_client.get("/admin/notifications"))
    assert "SECRET-KEY-123" not in html and "qyapi.weixin.qq.com" in html


# --- the notification settings ----------------------------------------------------------


def test_the_settings_are_saved(sanhu, world, signed_in):
    client = signed_in("admin")
    html = text(client.get("/admin/notifications"))
    assert 'value="5,1,0"' in html and "尚未保存密码" in html
    response = post_settings(client, reminder_offsets="7, 2,0", overdue_every="2",
                             board_threshold_days="15", smtp_host="smtp.county.example",
                             smtp_port="587", smtp_tls="starttls", smtp_user="robot",
                             smtp_from="sanhu@county.example", email_enabled="y",
                             webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x",
                             webhook_kind="dingtalk", webhook_enabled="y")
    assert response.status_code == 302
    assert "通知设置已保存" in text(client.get(response.headers["Location"]))
    s = stored(sanhu)
    assert (s.reminder_offsets, s.overdue_every, s.board_threshold_days) == ((7, 2, 0), 2, 15)
    assert (s.smtp_host, s.smtp_port, s.smtp_tls, s.smtp_user, s.smtp_from, s.email_enabled) == (
        "smtp.county.example", 587, "starttls", "robot", "sanhu@county.example", True)
    assert (s.webhook_kind, s.webhook_enabled) == ("dingtalk", True)
    # switching a channel off is an unchecked box
    post_settings(client, email_enabled=None)
    assert not stored(sanhu).email_enabled and stored(sanhu).webhook_enabled


def test_bad_settings_are_refused_beside_their_fields_and_the_values_kept(sanhu, world,
                                                                         signed_in):
    client = signed_in("admin")
    response = post_settings(client, reminder_offsets="5,x", smtp_port="99999",
                             overdue_every="0", webhook_enabled="y", webhook_url="")
    assert response.status_code == 200
    html = text(response)
    assert "未保存" in html
    assert "请输入 0 到 60 之间的工作日数" in html
    assert "请输入 1 到 65535 之间的端口号" in html
    assert "请输入 1 到 365 之间的整数" in html
    assert 'value="5,x"' in html and 'value="99999"' in html
    assert stored(sanhu).reminder_offsets == (5, 1, 0) and stored(sanhu).smtp_port == 25
    # the webhook's URL is checked once the numbers are right
    html = text(post_settings(client, webhook_enabled="y", webhook_url=""))
    assert "启用 Webhook 需要填写地址" in html
    html = text(post_settings(client, webhook_url="ftp://robot.example/"))
    assert "请输入以 http:// 或 https:// 开头的地址" in html
    assert 'value="ftp://robot.example/"' in html
    html = text(post_settings(client, email_enabled="y", smtp_host=""))
    assert "发送邮件需要填写 SMTP 服务器" in html
    s = stored(sanhu)
    assert (s.reminder_offsets, s.webhook_enabled, s.email_enabled) == ((5, 1, 0), False, False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/robot", "http://169.254.169.254/latest/",
                                 "http://[::1]/robot", "http://localhost/robot"])
def test_an_internal_webhook_address_is_refused_beside_its_field_unless_allowed(
        sanhu, world, signed_in, url):
    client = signed_in("admin")
    response = post_settings(client, webhook_enabled="y", webhook_url=url)
    assert response.status_code == 200
    html = text(response)
    assert "未保存" in html
    field = html.split('name="webhook_url"')[1].split("</div>")[1]
    assert "该地址指向本机或内部网络地址" in field and "允许内部地址" in field
    assert stored(sanhu).webhook_url == ""
    assert "允许发送到内部地址" in html  # the checkbox that allows them
    assert post_settings(client, webhook_enabled="y", webhook_url=url,
                         webhook_allow_internal="y").status_code == 302
    s = stored(sanhu)
    assert (s.webhook_url, s.webhook_allow_internal) == (url, True)
    # switching the permission off again with the address still there is refused
    assert post_settings(client, webhook_allow_internal=None).status_code == 200
    assert stored(sanhu).webhook_allow_internal


def test_the_smtp_password_is_write_only(sanhu, world, signed_in):
    client = signed_in("admin")
    post_settings(client, smtp_host="smtp.example", smtp_user="robot",
                  smtp_password="s3cret-pw-42")
    assert stored(sanhu).smtp_password == "s3cret-pw-42"
    html = text(client.get("/admin/notifications"))
    assert "s3cret-pw-42" not in html and "********" not in html and "已保存密码" in html
    # a blank field keeps it; a refused form does not echo a newly typed one
    post_settings(client, smtp_port="26")
    assert stored(sanhu).smtp_password == "s3cret-pw-42"
    html = text(post_settings(client, smtp_port="0", smtp_password="typed-new-pw"))
    assert "typed-new-pw" not in html and "s3cret-pw-42" not in html
    assert stored(sanhu).smtp_password == "s3cret-pw-42"
    # the checkbox removes it
    post_settings(client, clear_smtp_password="y")
    assert stored(sanhu).smtp_password == ""
    assert "尚未保存密码" in text(client.get("/admin/notifications"))


def test_the_settings_page_speaks_english(world, signed_in):
    client = signed_in("admin")
    client.set_cookie("sanhu_lang", "en")
    html = text(client.get("/admin/notifications"))
    for words in ("Reminders before the deadline (working days)", "SMTP server",
                  "Send test e-mail", "WeCom group robot", "Save settings"):
        assert words in html
    html = text(post_settings(client, overdue_every="x"))
    assert "Enter a whole number from 1 to 365." in html


# --- test messages ------------------------------------------------------------------------


def send_test(client, channel: str, to: str = ""):
    return client.post("/admin/notifications/test", follow_redirects=True, data={
        "csrf_token": csrf_token(client, "/admin/notifications"), "channel": channel, "to": to})


def test_the_test_email_reaches_a_real_smtp_server(sanhu, world, signed_in):
    client = signed_in("admin")
    with SmtpReceiver() as smtp:
        post_settings(client, smtp_host="127.0.0.1", smtp_port=str(smtp.port),
                      smtp_from="sanhu@city.example")
        html = text(send_test(client, "email", "office@county.example"))
    assert "测试消息已发送（电子邮件）" in html
    assert smtp.envelopes == [("sanhu@city.example", ["office@county.example"])]
    assert "测试消息" in smtp.messages[0]["Subject"]


def test_the_test_email_needs_an_address(world, signed_in):
    html = text(send_test(signed_in("admin"), "email", ""))
    assert "请输入接收测试邮件的地址" in html


def test_the_test_message_reaches_a_real_webhook(sanhu, world, signed_in):
    client = signed_in("admin")
    with HttpReceiver() as hook:
        post_settings(client, webhook_url=hook.url, webhook_allow_internal="y")
        html = text(send_test(client, "webhook"))
    assert "测试消息已发送（Webhook）" in html
    [body] = hook.bodies
    assert body["msgtype"] == "text" and "Sanhu test message" in body["text"]["content"]


def test_a_failing_receiver_shows_the_error(sanhu, world, signed_in):
    client = signed_in("admin")
    with HttpReceiver(fail_first=5) as hook:
        post_settings(client, webhook_url=hook.url, webhook_allow_internal="y")
        html = text(send_test(client, "webhook"))
    assert "测试消息发送失败（Webhook）" in html and "HTTP Error 500" in html
    post_settings(client, smtp_host="127.0.0.1", smtp_port=str(free_port()))
    html = text(send_test(client, "email", "office@county.example"))
    assert "测试消息发送失败（电子邮件）" in html and "ConnectionRefusedError" in html


def test_the_inbox_test_goes_to_the_admins_own_inbox(sanhu, world, signed_in):
    client = signed_in("admin")
    html = text(send_test(client, "inbox"))
    assert "测试消息已发送（站内消息）" in html
    assert notifications_of(sanhu, "admin") == 1
    assert "Sanhu test message" in text(client.get("/inbox/"))


# --- deliveries -----------------------------------------------------------------------------


def test_the_deliveries_page_shows_failures_with_their_error(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username == "sec_V111")
                            .values(email="sec111@village.example"))
        uow.commit()
        reminders.set_notify_settings(uow, email_enabled=True, smtp_host="127.0.0.1",
                                      smtp_port=free_port())
    overdue_item(sanhu, world)
    with time_machine.travel(T0, tick=False):
        with sanhu.uow() as uow:
            reminders.reminder_sweep(uow)
        result = deliver_now(sanhu.uow)
    assert result.failed == 1
    client = signed_in("admin")
    html = text(client.get("/admin/deliveries?status=failed"))
    assert html.count('class="delivery status-failed') == 1
    assert "ConnectionRefusedError" in html and "sec_V111" in html and "电子邮件" in html
    html = text(client.get("/admin/deliveries?channel=inbox"))
    assert html.count('class="delivery status-sent') == 3 and "status-failed" not in html
    assert "没有符合条件的发送记录" in text(client.get("/admin/deliveries?status=queued"))
    assert text(client.get("/admin/deliveries?status=nonsense")).count('class="delivery ') == 4


def test_a_county_admin_sees_the_deliveries_of_their_county_only(sanhu, world,
                                                               county_admin_client):
    overdue_item(sanhu, world, "V111")
    overdue_item(sanhu, world, "V211")
    with time_machine.travel(T0, tick=False), sanhu.uow() as uow:
        reminders.reminder_sweep(uow)
    html = text(county_admin_client.get("/admin/deliveries"))
    assert "sec_V111" in html and "town_T11" in html and "county_K1" in html
    assert "sec_V211" not in html and "county_K2" not in html


# --- both databases -------------------------------------------------------------------------


def test_the_inbox_and_the_admin_pages_work_the_same_on_both_databases(any_sanhu, any_world):
    app = create_app(sanhu=any_sanhu)
    overdue_item(any_sanhu, any_world)
    with time_machine.travel(T0, tick=False):
        admin = app.test_client()
        assert sign_in(admin, "admin").status_code == 302
        response = admin.post("/admin/jobs/reminder_sweep/run", follow_redirects=True,
                              data={"csrf_token": csrf_token(admin, "/admin/jobs")})
        assert "已执行成功" in text(response)
        sec = app.test_client()
        assert sign_in(sec, "sec_V111").status_code == 302
        html = text(sec.get("/inbox/"))
        assert "逾期提醒" in html and 'unread-badge">1<' in html
        with any_sanhu.uow() as uow:
            note_id = uow.session.scalar(select(Notification.id).join(
                User, User.id == Notification.user_id).where(User.username == "sec_V111"))
        assert sec.post(f"/inbox/{note_id}/open", data={
            "csrf_token": csrf_token(sec, "/inbox/")}).status_code == 302
        assert "unread-badge" not in text(sec.get("/inbox/"))
        assert post_settings(admin, reminder_offsets="3,0").status_code == 302
        html = text(admin.get("/admin/deliveries?channel=inbox"))
    assert html.count('class="delivery ') == 3 and "status-read" in html
    with any_sanhu.uow() as uow:
        assert reminders.notify_settings(uow).reminder_offsets == (3, 0)


def test_job_results_and_the_sign_in_prompt_read_in_chinese(app, client):
    from web.admin.jobs import detail_words

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert detail_words("DeliverResult(sent=3, failed=1, lost_race=0, deferred=2, "
                            "errors=[])") == ("已发送：3，失败：1，已由另一进程处理：0，"
                                              "留待下一轮：2")
        assert detail_words("{'units': 12, 'seconds': 0.41}") == "单位数：12，秒：0.41"
        assert detail_words("SweepResult(notifications={'5': 3, '-1': 2}, "
                            "deliveries={'email': 4})") == "提醒：5，待投递：4"
        assert detail_words("ok") == "ok" and detail_words(None) == ""
    page = client.get("/ledger/", follow_redirects=True).get_data(as_text=True)
    assert "请先登录再查看此页面。" in page and "Please log in" not in page
