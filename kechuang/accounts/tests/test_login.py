"""Logging in: the throttled service, the login page, CSRF and the redirect after it."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.db.models import F
from django.test import Client, RequestFactory

from kechuang.accounts import services
from kechuang.accounts.errors import InvalidCredentials, LoginThrottled
from kechuang.accounts.models import FailedLogin
from kechuang.audit.models import LogEntry

CAST_PASSWORD = "Test-Passw0rd!"  # conftest.PASSWORD
WRONG = "Wrong-Passw0rd!"
LOGIN_URL = "/accounts/login/"


def request_from(ip: str = "10.1.1.1"):
    return RequestFactory().post(LOGIN_URL, REMOTE_ADDR=ip)


def fail(username: str, times: int, ip: str = "10.1.1.1") -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            services.log_in(request_from(ip), username, WRONG)


def age_failures(seconds: int) -> None:
    FailedLogin.objects.update(time=F("time") - datetime.timedelta(seconds=seconds))


def test_the_limits_are_those_the_documentation_promises(settings):
    assert settings.LOGIN_MAX_FAILURES == 5
    assert settings.LOGIN_LOCKOUT_SECONDS == 300
    assert services.IP_FAILURE_FACTOR == 4


# ---------------------------------------------------------------- the service


def test_successful_login_is_audited(cast):
    clerk = cast.user("jingchuan", "clerk")
    count = LogEntry.objects.count()
    user = services.log_in(request_from("10.9.9.9"), "jingchuan_clerk", CAST_PASSWORD)
    assert user == clerk
    [entry] = LogEntry.objects.order_by("id")[count:]
    assert entry.action == "accounts.user.login"
    assert entry.actor == clerk
    assert entry.org_unit == cast.unit("jingchuan")
    assert entry.data == {"ip": "10.9.9.9"}


def test_a_failure_is_recorded_by_lower_case_username_and_address(cast):
    count = LogEntry.objects.count()
    with pytest.raises(InvalidCredentials):
        services.log_in(request_from("10.2.2.2"), "Jingchuan_Clerk", CAST_PASSWORD)
    [failure] = FailedLogin.objects.all()
    assert (failure.username, failure.ip_address) == ("jingchuan_clerk", "10.2.2.2")
    assert LogEntry.objects.count() == count


def test_after_max_failures_even_the_right_password_is_refused(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES)
    count = LogEntry.objects.count()
    with pytest.raises(LoginThrottled) as caught:
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    assert "登录失败次数过多" in str(caught.value.message)
    assert "5 分钟" in str(caught.value.message)
    assert 0 < caught.value.fields["retry_after"] <= settings.LOGIN_LOCKOUT_SECONDS
    assert LogEntry.objects.filter(action="accounts.user.login").count() == 0
    assert LogEntry.objects.count() == count


def test_one_failure_fewer_than_the_limit_still_lets_the_user_in(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES - 1)
    assert services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD).username == (
        "jingchuan_clerk"
    )
    # Success forgets the user's failures.
    assert not FailedLogin.objects.filter(username="jingchuan_clerk").exists()


def test_changing_the_case_of_the_username_does_not_dodge_the_limit(cast, settings):
    for i in range(settings.LOGIN_MAX_FAILURES):
        name = "JINGCHUAN_CLERK" if i % 2 else "Jingchuan_clerk"
        with pytest.raises(InvalidCredentials):
            services.log_in(request_from(), name, WRONG)
    with pytest.raises(LoginThrottled):
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    with pytest.raises(LoginThrottled):
        services.log_in(request_from(), "Jingchuan_Clerk", WRONG)


def test_login_works_again_after_the_lockout_and_clears_failures(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES)
    age_failures(settings.LOGIN_LOCKOUT_SECONDS - 5)
    with pytest.raises(LoginThrottled) as caught:
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    assert caught.value.fields["retry_after"] <= 5
    age_failures(6)
    user = services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    assert user.username == "jingchuan_clerk"
    assert FailedLogin.objects.filter(username="jingchuan_clerk").count() == 0


def test_lockout_length_follows_the_setting(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES)
    settings.LOGIN_LOCKOUT_SECONDS = 3600
    with pytest.raises(LoginThrottled) as caught:
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    assert caught.value.fields["retry_after"] > 3000
    assert "60 分钟" in str(caught.value.message)
    settings.LOGIN_LOCKOUT_SECONDS = 0
    assert services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD).is_authenticated


def test_a_failure_after_the_lockout_locks_again(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES)
    age_failures(settings.LOGIN_LOCKOUT_SECONDS + 1)
    fail("jingchuan_clerk", 1)
    with pytest.raises(LoginThrottled):
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)


def test_failures_older_than_the_window_do_not_count(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES - 1)
    age_failures(settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
    fail("jingchuan_clerk", 1)
    assert services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD).is_authenticated


def test_failures_are_counted_per_username(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES)
    with pytest.raises(LoginThrottled):
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    # Same address, another user: not throttled.
    assert services.log_in(request_from(), "chongxin_clerk", CAST_PASSWORD).username == (
        "chongxin_clerk"
    )
    with pytest.raises(LoginThrottled):
        services.log_in(request_from("10.7.7.7"), "jingchuan_clerk", CAST_PASSWORD)


def test_an_address_failing_across_many_usernames_is_throttled_at_four_times_the_limit(
    cast, settings
):
    limit = settings.LOGIN_MAX_FAILURES * services.IP_FAILURE_FACTOR
    for i in range(limit - 1):
        fail(f"guess{i}", 1, ip="10.6.6.6")
    # One short of the address limit: still allowed.
    assert services.log_in(request_from("10.6.6.6"), "jingchuan_clerk", CAST_PASSWORD)
    fail("guess-last", 1, ip="10.6.6.6")
    with pytest.raises(LoginThrottled):
        services.log_in(request_from("10.6.6.6"), "chongxin_clerk", CAST_PASSWORD)
    # The same user from another address is fine: no username has failed five times.
    assert services.log_in(request_from("10.6.6.7"), "chongxin_clerk", CAST_PASSWORD)


def test_inactive_user_with_the_right_password_fails_and_counts(cast):
    clerk = cast.user("jingchuan", "clerk")
    clerk.is_active = False
    clerk.save()
    with pytest.raises(InvalidCredentials):
        services.log_in(request_from(), "jingchuan_clerk", CAST_PASSWORD)
    assert FailedLogin.objects.filter(username="jingchuan_clerk").count() == 1


def test_token_endpoint_shares_the_throttle(cast, settings):
    fail("jingchuan_clerk", settings.LOGIN_MAX_FAILURES, ip="127.0.0.1")
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "jingchuan_clerk", "password": CAST_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "login_throttled"


# ---------------------------------------------------------------- the page


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_login_page_is_chinese_by_default(db):
    response = Client().get(LOGIN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    assert "用户名" in html
    assert "密码" in html


def test_pages_need_a_login(db):
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/audit/"


def test_successful_login_redirects_home_and_is_audited(cast):
    client = Client()
    response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": CAST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(cast.user("jingchuan", "clerk").pk)
    entry = LogEntry.objects.get(action="accounts.user.login")
    assert entry.actor == cast.user("jingchuan", "clerk")
    assert entry.data == {"ip": "127.0.0.1"}
    # The entry carries the id of the request that wrote it.
    assert entry.request_id == uuid.UUID(response["X-Request-Id"])
    assert client.get("/").status_code == 200


def test_wrong_password_shows_the_form_again(cast):
    client = Client()
    response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": WRONG})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert logged_in_user_id(client) is None
    assert FailedLogin.objects.filter(username="jingchuan_clerk", ip_address="127.0.0.1").exists()


def test_login_page_refuses_after_too_many_failures(cast, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": WRONG})
        assert response.status_code == 200
    response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": CAST_PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert logged_in_user_id(client) is None
    assert not LogEntry.objects.filter(action="accounts.user.login").exists()
    # Another user at the same desk is not locked out.
    response = client.post(LOGIN_URL, {"username": "chongxin_clerk", "password": CAST_PASSWORD})
    assert response.status_code == 302


def test_login_page_works_again_after_the_lockout(cast, settings):
    client = Client()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": WRONG})
    age_failures(settings.LOGIN_LOCKOUT_SECONDS + 1)
    response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": CAST_PASSWORD})
    assert response.status_code == 302
    assert not FailedLogin.objects.filter(username="jingchuan_clerk").exists()


def test_csrf_is_enforced_on_the_login_form(cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(LOGIN_URL, {"username": "jingchuan_clerk", "password": CAST_PASSWORD})
    assert response.status_code == 403
    assert logged_in_user_id(client) is None
    assert not FailedLogin.objects.exists()
    assert not LogEntry.objects.filter(action="accounts.user.login").exists()

    page = client.get(LOGIN_URL)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    response = client.post(
        LOGIN_URL,
        {
            "username": "jingchuan_clerk",
            "password": CAST_PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(cast.user("jingchuan", "clerk").pk)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/audit/", "/audit/"),
        ("/regions/?q=%E6%B3%BE", "/regions/?q=%E6%B3%BE"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/steal", "/"),
        ("http://testserver.evil.example.com/", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_is_followed_only_within_the_site(cast, next_url, expected):
    response = Client().post(
        LOGIN_URL,
        {"username": "jingchuan_clerk", "password": CAST_PASSWORD, "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == expected


def test_an_external_next_is_not_carried_into_the_login_form(db):
    html = Client().get(LOGIN_URL, {"next": "https://evil.example.com/"}).content.decode()
    assert '<input type="hidden" name="next" value="">' in html
    html = Client().get(LOGIN_URL, {"next": "/audit/"}).content.decode()
    assert '<input type="hidden" name="next" value="/audit/">' in html


def test_behind_our_proxy_the_client_address_is_the_one_the_proxy_saw(settings):
    request = RequestFactory().post(
        "/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert services.client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert services.client_ip(request) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert services.client_ip(request) == "203.0.113.9"


def test_failures_older_than_the_window_are_dropped(cast, settings):
    stale = FailedLogin.objects.create(username="someone", ip_address="192.0.2.1")
    FailedLogin.objects.filter(pk=stale.pk).update(
        time=F("time") - datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + 60)
    )
    with pytest.raises(InvalidCredentials):
        services.log_in(None, "nobody_at_all", "wrong")
    assert not FailedLogin.objects.filter(pk=stale.pk).exists()
    assert FailedLogin.objects.filter(username="nobody_at_all").count() == 1
