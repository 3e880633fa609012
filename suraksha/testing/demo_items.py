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
