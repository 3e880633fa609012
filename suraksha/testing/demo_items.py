"""Synthetic accounts and posts for the demo and the service benchmark: ordinary users, and a small
"racket" of accounts that post banked (benign stand-in) pictures with payment handles and contact
links in their text and bios. All names, handles, numbers and links are invented for the demo."""

from __future__ import annotations

import base64

from suraksha.intake.schemas import ItemIn
from suraksha.testing.synthetic import encode, synthetic_image

RACKET = (
    ("demo-r1", "@quickdeals_01", "Paid content. DM for price. UPI demo.seller1@okaxis"),
    ("demo-r2", "@quickdeals_02", "Join t.me/demo_channel_x for more. Pay via UPI"),
    ("demo-r3", "@quickdeals_03", "Contact wa.me/919800000001 for the full set"),
    ("demo-r4", "@quickdeals_04", "Backup account of @quickdeals_01. UPI demo.seller1@okaxis"),
)
ORDINARY = (
    ("demo-u1", "@holiday_snaps", "Travel and food"),
    ("demo-u2", "@garden_club", "Plants, mostly"),
    ("demo-u3", "@city_cycling", "Sunday rides"),
)


def _jpeg(seed: int, size: tuple[int, int] = (640, 480), quality: int = 85) -> str:
    image = synthetic_image(seed).resize(size)
    return base64.b64encode(encode(image, "JPEG", quality=quality)).decode()


def demo_items(known_seeds: tuple[int, ...], unrelated_seeds: tuple[int, ...]) -> list[ItemIn]:
    """Racket accounts repost banked pictures (resized, re-encoded) with sale text; ordinary accounts
    post unrelated pictures; one ordinary post is reported by a user."""
    items: list[dict[str, object]] = []
    for i, (account_id, handle, bio) in enumerate(RACKET):
        seed = known_seeds[i % len(known_seeds)]
        items.append(
            {
                "platform_item_id": f"{account_id}-post1",
                "kind": "post",
                "account": {"platform_id": account_id, "handle": handle, "bio": bio},
                "text": "New set today, DM for price. Pay via UPI demo.seller1@okaxis",
                "media": [{"data": _jpeg(seed, (480, 360), 70), "content_type": "image/jpeg"}],
                "upload_ip": f"203.0.113.{10 + i}",
                "upload_port": 40000 + i,
                "device_id": "demo-device-7",
            }
        )
        items.append(
            {
                "platform_item_id": f"{account_id}-post2",
                "kind": "post",
                "account": {"platform_id": account_id, "handle": handle, "bio": bio},
                "text": "Link in bio, join my telegram t.me/demo_channel_x",
            }
        )
    for i, (account_id, handle, bio) in enumerate(ORDINARY):
        items.append(
            {
                "platform_item_id": f"{account_id}-post1",
                "kind": "post",
                "account": {"platform_id": account_id, "handle": handle, "bio": bio},
                "text": "Lovely day out",
                "media": [
                    {"data": _jpeg(unrelated_seeds[i % len(unrelated_seeds)]), "content_type": "image/jpeg"}
                ],
            }
        )
    items.append(
        {
            "platform_item_id": "demo-u1-post2",
            "kind": "comment",
            "account": {"platform_id": "demo-u1", "handle": "@holiday_snaps", "bio": "Travel and food"},
            "text": "Is this spam?",
            "reporter": {"kind": "user", "id": "demo-reporter-1", "reason": "spam"},
        }
    )
    return [ItemIn.model_validate(item) for item in items]


RACKET_TILLS = ("demo.seller1@okaxis", "demo.seller2@okaxis", "demo.seller3@ybl")
"""The racket's payment handles: the four accounts above use the first; the rest spread over all three."""
VIRAL_LINK = "https://example.org/viral-cat-video"


def demo_population(racket: int = 96, ordinary: int = 3000) -> list[ItemIn]:
    """Text posts that hide the racket in a crowd (for the account graph): ``racket`` more accounts of
    it, young, each carrying one or two of its payment handles and its Telegram channel, several on one
    device; and ``ordinary`` accounts that share what ordinary people share: a viral link (a hub), a
    few carrier-grade NAT addresses (hubs), and families of three on one phone, some with one family
    UPI id. Deterministic: the same call gives the same posts."""
    items: list[dict[str, object]] = []
    for n in range(racket):
        account_id = f"demo-r{n + 5}"
        tills = [RACKET_TILLS[n % 3]] + ([RACKET_TILLS[(n + 1) % 3]] if n % 4 == 0 else [])
        items.append(
            {
                "platform_item_id": f"{account_id}-post1",
                "kind": "post",
                "account": {
                    "platform_id": account_id,
                    "handle": f"@fresh_sets_{n + 5:03d}",
                    "bio": "Join t.me/demo_channel_x for the full set",
                    "created_at": "2026-11-20T00:00:00Z",
                },
                "text": "New set today, DM for price. UPI " + " or ".join(tills),
                "upload_ip": f"198.51.100.{n % 50}",
                "device_id": f"demo-racket-phone-{n % 6}",
                "posted_at": "2026-11-28T10:00:00Z",
            }
        )
    for n in range(ordinary):
        account_id = f"demo-o{n}"
        family = n // 3 if n < ordinary // 5 else None
        bio = "Weekend hikes and street food"
        text = ("Lovely day out", "Sunday rides", "Look at this garden", "Cooking again")[n % 4]
        if family is not None:
            bio = f"Family account, call +91 97{family:08d}"
            if family % 4 == 0:
                text += f". Send my share to family{family}@oksbi"
        if n % 5 < 2:
            text += f" {VIRAL_LINK}"
        items.append(
            {
                "platform_item_id": f"{account_id}-post1",
                "kind": "post",
                "account": {
                    "platform_id": account_id,
                    "handle": f"@person_{n:05d}",
                    "bio": bio,
                    "created_at": "2019-05-01T00:00:00Z",
                },
                "text": text,
                "upload_ip": f"100.64.{n % 8}.1",
                "posted_at": "2026-11-28T10:00:00Z",
            }
        )
    return [ItemIn.model_validate(item) for item in items]
