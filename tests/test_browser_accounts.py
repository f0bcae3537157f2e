"""The account pages in headless Chromium, in English and Korean, at a phone's width and a
desktop's: sign-up and the mailed link, password reset, the account page with its sessions,
the password and email pages, RP-initiated logout's confirmation, and withdrawal. Each page
must fit its width (no sideways scrolling) and speak the language asked for.

The mail arrives at the real SMTP server on loopback; the database is touched only before and
after the browser runs (Playwright's event loop would make Django refuse ORM calls between).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import UnlinkNotice, User
from tests.conftest import PASSWORD as MADE_USERS_PASSWORD
from tests.conftest import RegisteredClient
from tests.mailserver import Mailbox
from tests.test_browser import chromium

PASSWORD = "a fresh and long passphrase"
NEW_PASSWORD = "another long passphrase"
BACK = "https://app.example.com/signed-out"

WORDS = {
    "en": {
        "signup": "Create an account", "sent": "Check your mail",
        "verified": "Email address confirmed",
        "email": "Email", "password1": "Password", "password2": "Password confirmation",
        "create": "Create account", "login": "Username or email", "password": "Password",
        "sign_in": "Sign in", "account": "Your account", "sessions": "Where you are signed in",
        "change_password": "Change password", "old": "Old password",
        "new1": "New password", "new2": "New password confirmation",
        "change_email": "Change email address", "logout_q": "Sign out?", "sign_out": "Sign out",
        "signed_out": "You are signed out", "reset": "Reset your password", "send": "Send the link",
        "choose": "Choose a new password", "changed": "Password changed",
        "delete": "Delete your account", "understand": "I understand",
        "delete_button": "Delete my account", "deleted": "Your account is deleted",
    },
    "ko": {
        "signup": "계정 만들기", "sent": "메일을 확인하세요", "verified": "이메일 주소 확인 완료",
        "email": "이메일", "password1": "비밀번호", "password2": "비밀번호 확인",
        "create": "계정 만들기", "login": "아이디 또는 이메일", "password": "비밀번호",
        "sign_in": "로그인", "account": "내 계정", "sessions": "로그인된 곳",
        "change_password": "비밀번호 변경", "old": "기존 비밀번호",
        "new1": "새 비밀번호", "new2": "새 비밀번호 (확인)",
        "change_email": "이메일 주소 변경", "logout_q": "로그아웃할까요?", "sign_out": "로그아웃",
        "signed_out": "로그아웃되었습니다", "reset": "비밀번호 재설정", "send": "링크 보내기",
        "choose": "새 비밀번호를 정해 주세요", "changed": "비밀번호 변경됨",
        "delete": "계정 삭제", "understand": "이해했습니다",
        "delete_button": "내 계정 삭제", "deleted": "계정이 삭제되었습니다",
    },
}  # fmt: skip


def fits(page: Page, heading: str, language: str) -> None:
    """The page is the one expected, in its language, and nothing sticks out sideways."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert page.locator("html").get_attribute("lang") == language
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px too wide"


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_account_pages_from_sign_up_to_withdrawal(
    live: str, mailbox: Mailbox, make_client: Callable[..., RegisteredClient],
    language: str, width: int,
) -> None:  # fmt: skip
    words = WORDS[language]
    app = make_client(name="Photo printer", post_logout_redirect_uris=[BACK])
    email = f"carol.{language}.{width}@example.com"

    with chromium() as browser:
        page = browser.new_page(locale=language, viewport={"width": width, "height": 900})
        page.goto(f"{live}/accounts/signup/")
        fits(page, words["signup"], language)
        page.get_by_label(words["email"], exact=True).fill(email)
        page.get_by_label(words["password1"], exact=True).fill(PASSWORD)
        page.get_by_label(words["password2"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["create"]).click()
        fits(page, words["sent"], language)

        page.goto(mailbox.link(email))
        fits(page, words["verified"], language)

        page.goto(f"{live}/accounts/login/")
        page.get_by_label(words["login"]).fill(email)
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["sign_in"], exact=True).click()
        fits(page, words["account"], language)
        expect(page.get_by_role("heading", name=words["sessions"])).to_be_visible()
        expect(page.locator("li[data-sid]")).to_have_count(1)

        page.goto(f"{live}/accounts/password/")
        fits(page, words["change_password"], language)
        page.get_by_label(words["old"]).fill(PASSWORD)
        page.get_by_label(words["new1"], exact=True).fill(NEW_PASSWORD)
        page.get_by_label(words["new2"], exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name=words["change_password"]).click()
        fits(page, words["account"], language)

        page.goto(f"{live}/accounts/email/")
        fits(page, words["change_email"], language)

        page.goto(f"{live}/accounts/delete/")
        fits(page, words["delete"], language)

        page.goto(f"{live}/oauth/logout?client_id={app.client_id}&post_logout_redirect_uri=")
        fits(page, words["logout_q"], language)
        buttons = page.locator("form.decision button")
        boxes = [buttons.nth(i).bounding_box() for i in range(2)]
        assert boxes[0] and boxes[1] and abs(boxes[0]["y"] - boxes[1]["y"]) < 2  # side by side
        page.get_by_role("button", name=words["sign_out"], exact=True).click()
        fits(page, words["signed_out"], language)

        page.goto(f"{live}/accounts/password/reset/")
        fits(page, words["reset"], language)
        page.get_by_label(words["email"]).fill(email)
        page.get_by_role("button", name=words["send"]).click()
        fits(page, words["sent"], language)
        page.goto(mailbox.link(email))
        fits(page, words["choose"], language)
        page.get_by_label(words["new1"], exact=True).fill(PASSWORD)
        page.get_by_label(words["new2"], exact=True).fill(PASSWORD)
        page.get_by_role("button").filter(has_text=words["change_password"]).click()
        fits(page, words["changed"], language)

        page.goto(f"{live}/accounts/login/?next=/accounts/delete/")
        page.get_by_label(words["login"]).fill(email)
        page.get_by_label(words["password"], exact=True).fill(PASSWORD)
        page.get_by_role("button", name=words["sign_in"], exact=True).click()
        fits(page, words["delete"], language)
        page.get_by_label(words["understand"]).check()
        page.get_by_role("button", name=words["delete_button"]).click()
        fits(page, words["deleted"], language)

    assert not User.objects.filter(email=email).exists()


def test_the_pages_are_ready_for_korean_line_breaking(live: str, settings: Any) -> None:
    """Hangul breaks between words, not inside them (word-break: keep-all), on the new pages."""
    with chromium() as browser:
        page = browser.new_page(locale="ko", viewport={"width": 390, "height": 900})
        page.goto(f"{live}/accounts/signup/")
        assert page.evaluate("getComputedStyle(document.body).wordBreak") == "keep-all"


UNLINKED = {
    "en": ("Kakao told us", "only way to sign in", "I have read this"),
    "ko": ("카카오에서 카카오 계정과", "유일한 로그인 방법", "확인했습니다"),
}


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_account_page_tells_of_a_providers_unlink_until_it_is_read(
    live: str, make_user: Callable[..., User], language: str, width: int
) -> None:
    """After Kakao unlinked the account's only way in, the account page says what happened and
    how to get back in, in the person's language, fitting a phone's width."""
    user = make_user("dana")
    UnlinkNotice.objects.create(provider="kakao", uid="1", user=user, no_way_in=True)
    words, told, way_in, read = WORDS[language], *UNLINKED[language]

    with chromium() as browser:
        page = browser.new_page(locale=language, viewport={"width": width, "height": 900})
        page.goto(f"{live}/accounts/login/")
        page.get_by_label(words["login"]).fill("dana")
        page.get_by_label(words["password"], exact=True).fill(MADE_USERS_PASSWORD)
        page.get_by_role("button", name=words["sign_in"], exact=True).click()
        fits(page, words["account"], language)
        notice = page.locator("section.unlinked")
        expect(notice).to_contain_text(told)
        expect(notice).to_contain_text(way_in)
        assert notice.evaluate("n => getComputedStyle(n).wordBreak") == "keep-all"
        page.get_by_role("button", name=read).click()
        fits(page, words["account"], language)
        expect(page.locator("section.unlinked")).to_have_count(0)

    assert UnlinkNotice.objects.get().dismissed_at is not None
