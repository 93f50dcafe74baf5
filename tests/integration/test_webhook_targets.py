"""The webhook never posts to this machine, the cloud's metadata service or the database.

A webhook URL is the one address an administrator types that the server then
requests itself.  Loopback, link-local (169.254.169.254: cloud metadata),
unspecified and multicast addresses are refused when the URL is saved and again
when a message is sent (the name is resolved then: DNS can change), unless the
setting ``webhook_allow_internal`` (``SANHU_WEBHOOK_ALLOW_INTERNAL``) allows them.
The database's port is refused always.  Redirects are never followed.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from receivers import HttpReceiver, free_port
from sqlalchemy import select

from ledger.core.db import dialect_insert
from ledger.core.errors import ValidationError
from ledger.core.models import AppSetting, Delivery, Notification
from ledger.core.settings import Settings
from ledger.instance.bootstrap import bootstrap
from ledger.notify import reminders
from ledger.notify.delivery import deliver_now, send_test_message
from ledger.notify.webhook_target import database_port, target_problem

INTERNAL = ["http://127.0.0.1:8080/robot", "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8080/robot", "http://localhost/robot", "https://LOCALHOST./x",
            "http://0.0.0.0/", "http://[::]/", "http://2130706433/", "http://0x7f.1/",
            "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://224.0.0.1/",
            "http://127.1.2.3:9/"]


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused(url):
    assert target_problem(url, allow_internal=False) == "internal target"
    assert target_problem(url, allow_internal=True) is None


@pytest.mark.parametrize("url", ["http://10.1.2.3/robot", "http://192.168.1.20:8080/",
                                 "https://93.184.216.34/cgi-bin/webhook/send?key=k",
                                 "https://qyapi.invalid/cgi-bin/webhook/send?key=k"])
def test_intranet_and_public_addresses_and_unresolvable_names_pass_when_saved(url):
    assert target_problem(url, allow_internal=False) is None


def test_the_database_port_is_refused_even_when_internal_targets_are_allowed():
    for allow in (False, True):
        assert target_problem("http://10.0.0.5:5432/", allow_internal=allow,
                              database_port=5432) == "database port"
    assert target_problem("http://10.0.0.5:8080/", allow_internal=False,
                          database_port=5432) is None
    assert target_problem("http://10.0.0.5/", allow_internal=False, database_port=80) \
        == "database port"  # the scheme's default port counts


def test_the_database_port_comes_from_the_database_url():
    assert database_port("postgresql://postgres@127.0.0.1:5433/test") == 5433
    assert database_port("postgresql+psycopg://db.internal/sanhu") == 5432
    assert database_port("sqlite:////srv/sanhu/sanhu.sqlite") is None


def test_the_setting_reads_from_the_environment():
    assert not Settings.from_env({}).webhook_allow_internal
    assert Settings.from_env({"SANHU_WEBHOOK_ALLOW_INTERNAL": "1"}).webhook_allow_internal


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/robot", "http://169.254.169.254/",
                                 "http://[::1]/", "http://localhost:8080/"])
def test_saving_an_internal_url_is_refused_and_nothing_is_stored(sanhu, url):
    with sanhu.uow() as uow, pytest.raises(ValidationError) as exc:
        reminders.set_notify_settings(uow, webhook_url=url, webhook_enabled=True)
    assert exc.value.fields == {"webhook_url": "internal target"}
    with sanhu.uow() as uow:
        assert reminders.notify_settings(uow).webhook_url == ""
        reminders.set_notify_settings(uow, webhook_url=url, webhook_allow_internal=True)
    with sanhu.uow() as uow:
        assert reminders.notify_settings(uow).webhook_url == url
        with pytest.raises(ValidationError):  # not switched off while the URL is internal
            reminders.set_notify_settings(uow, webhook_allow_internal=False)


def test_the_environment_can_allow_internal_targets(tmp_path, sqlite_template):
    path = tmp_path / "s.sqlite"
    shutil.copy(sqlite_template, path)
    app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=tmp_path / "ev",
                             webhook_allow_internal=True))
    with app.uow() as uow:
        assert reminders.notify_settings(uow).webhook_allow_internal
        reminders.set_notify_settings(uow, webhook_url="http://127.0.0.1:9/")
    app.dispose()


def test_on_postgresql_the_database_port_is_refused(any_sanhu):
    port = database_port(any_sanhu.settings.database_url)
    url = f"http://127.0.0.1:{port or free_port()}/robot"
    with any_sanhu.uow() as uow:
        if port is None:  # SQLite: no database port
            reminders.set_notify_settings(uow, webhook_url=url, webhook_allow_internal=True)
            return
        with pytest.raises(ValidationError) as exc:
            reminders.set_notify_settings(uow, webhook_url=url, webhook_allow_internal=True)
    assert exc.value.fields == {"webhook_url": "database port"}


def store_unchecked(sanhu, **values) -> None:
    """Write settings as an older version (or a changed DNS answer) would have left them."""
    with sanhu.uow() as uow:
        for key, value in values.items():
            ins = dialect_insert(uow.session, AppSetting.__table__).values(
                key=key, value=value, updated_at=uow.now())
            uow.session.execute(ins.on_conflict_do_update(
                index_elements=["key"], set_={"value": ins.excluded.value}))
        uow.commit()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_at_send_time_an_internal_target_is_refused_and_nothing_is_posted(sanhu, world, host):
    with HttpReceiver() as hook:
        url = hook.url.replace("127.0.0.1", host)
        store_unchecked(sanhu, webhook_url=url, webhook_enabled=True)
        with sanhu.uow() as uow:
            outcome = send_test_message(uow, "webhook")
            reminders.insert_notification(uow, user_id=world["sec_V111"].id, kind="notice",
                                          title="通知", body="…")
        now = dt.datetime.now(dt.UTC)
        with sanhu.uow() as uow:
            note_id = uow.session.scalar(select(Notification.id))
            uow.session.add(Delivery(notification_id=note_id, channel="webhook", status="queued",
                                     attempts=0, created_at=now, next_attempt_at=now))
            uow.commit()
        result = deliver_now(sanhu.uow, now)
        assert hook.attempts == 0
    assert not outcome.ok and "internal" in outcome.error
    assert result.failed == 1 and "internal" in result.errors[0]


def test_at_send_time_the_allowed_internal_target_is_reached(sanhu, world):
    with HttpReceiver() as hook:
        store_unchecked(sanhu, webhook_url=hook.url, webhook_allow_internal=True)
        with sanhu.uow() as uow:
            assert send_test_message(uow, "webhook").ok
    assert hook.attempts == 1


def test_a_redirect_is_never_followed(sanhu, world):
    with HttpReceiver() as inner, HttpReceiver(redirect_to=inner.url) as outer:
        store_unchecked(sanhu, webhook_url=outer.url, webhook_allow_internal=True)
        with sanhu.uow() as uow:
            outcome = send_test_message(uow, "webhook")
    assert outer.attempts == 1 and inner.attempts == 0
    assert not outcome.ok and "302" in outcome.error
