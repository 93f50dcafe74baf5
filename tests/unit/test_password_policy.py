"""The password policy: one check, refusing what guessing tries first."""

from __future__ import annotations

import pytest

from ledger.org.passwords import MIN_LENGTH, common_passwords, password_problem


@pytest.mark.parametrize("password, code", [
    ("", "required"),
    ("x" * 201, "too long"),
    ("short-1", "too short"),
    ("1234567890", "too simple"),
    ("0987654321", "too simple"),
    ("abcdefghijk", "too simple"),
    ("aaaaaaaaaa", "too simple"),
    ("1212121212", "too simple"),
    ("abcabcabcab", "too simple"),
    ("qwertyuiop", "too simple"),
    ("1qaz2wsx3edc", "too simple"),
    ("woaini1314", "too common"),
    ("WoAiNi1314", "too common"),
    ("qwerty123", "too short"),
    ("qwerty12345", "too simple"),  # a keyboard run with digits added
    ("1qaz2wsx!!", "too simple"),
    ("qq12345678", "too common"),
    ("admin@2026!", "too common"),
    ("password2026!", "too common"),
    ("woaini520520", "too common"),
    ("zhongguo2026", "too common"),
    ("ChangeMe-2026", "too common"),
])
def test_obvious_passwords_are_refused_with_a_reason(password, code):
    assert password_problem(password) == code


@pytest.mark.parametrize("username, password", [
    ("zhangsan", "zhangsan-2026"), ("zhangsan", "my-ZHANGSAN-pass"), ("sec_V111", "x-sec_v111-y"),
])
def test_the_username_must_not_be_inside_the_password(username, password):
    assert password_problem(password, username) == "contains username"


@pytest.mark.parametrize("password", [
    "sanhu-demo-2026",  # the demo city's password
    "pw-for-tests-1",  # the tests' password
    "a-brand-new-secret", "Rotated-by-admin-77", "村里的新密码2026", "long-enough-1",
])
def test_reasonable_passwords_pass(password):
    assert password_problem(password, "zhangsan") is None


def test_the_common_list_is_small_lower_case_and_has_the_chinese_favourites():
    common = common_passwords()
    assert 150 <= len(common) <= 400
    assert all(p == p.lower() for p in common)
    assert {"woaini1314", "qwerty123", "1qaz2wsx", "5201314", "123456"} <= common
    assert MIN_LENGTH == 10
