"""Accounts and items are found the way people name them: platform id, handle, URL or our #id."""

from __future__ import annotations

import pytest

from suraksha.content.lookup import UrlPatterns, find_account, find_item
from suraksha.content.models import Account, Item
from suraksha.db import Database
from suraksha.errors import Conflict, InvalidInput, NotFound

PATTERNS = UrlPatterns(item="https://example.org/p/{item_id}", profile="https://example.org/u/{handle}")


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.session() as session:
        seller = Account(platform_account_id="acct-77", handle="@Seller_77")
        other = Account(platform_account_id="acct-78", handle="quiet")
        reused = [Account(platform_account_id=f"acct-9{n}", handle="same") for n in range(2)]
        session.add_all([seller, other, *reused])
        session.flush()
        session.add(
            Item(platform_item_id="post-1", payload_digest="0" * 64, kind="post", account_id=seller.id)
        )
    return db


def test_accounts_by_every_form_people_use(seeded: Database) -> None:
    with seeded.session() as session:
        seller = find_account(session, "acct-77")
        assert find_account(session, "@seller_77").id == seller.id  # handles ignore case and the @
        assert find_account(session, "Seller_77").id == seller.id
        assert find_account(session, f"#{seller.id}").id == seller.id
        assert find_account(session, "https://example.org/u/Seller_77", PATTERNS).id == seller.id
        assert find_account(session, "https://example.org/u/Seller_77/?tab=posts", PATTERNS).id == seller.id
        assert find_account(session, "@quiet").platform_account_id == "acct-78"


def test_items_by_platform_id_url_and_own_id(seeded: Database) -> None:
    with seeded.session() as session:
        item = find_item(session, "post-1")
        assert find_item(session, "https://example.org/p/post-1", PATTERNS).id == item.id
        assert find_item(session, f"#{item.id}").id == item.id


@pytest.mark.parametrize(
    ("ref", "error", "message"),
    [
        ("@nobody", NotFound, "no account"),
        ("same", Conflict, "several accounts"),
        ("https://elsewhere.example/u/x", NotFound, "not a profile URL"),
        ("#999999", NotFound, "no account #999999"),
        ("", InvalidInput, "platform account id"),
        ("x" * 3000, InvalidInput, "characters"),
    ],
)
def test_an_account_that_is_not_there_or_not_one_is_a_clear_error(
    seeded: Database, ref: str, error: type[Exception], message: str
) -> None:
    with seeded.session() as session, pytest.raises(error, match=message):
        find_account(session, ref, PATTERNS)


def test_an_item_url_without_a_pattern_says_which_setting(seeded: Database) -> None:
    with seeded.session() as session, pytest.raises(NotFound, match="platform_item_url is unset"):
        find_item(session, "https://example.org/p/post-1")
