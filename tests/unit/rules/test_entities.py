"""Entity extraction: every kind, valid and checksum-invalid, on public test vectors; no false friends."""

from __future__ import annotations

import pytest

from suraksha.rules import ChecksumStatus, Entity, EntityKind, EntityTag, TextField, extract_entities


def entities(text: str, region: str = "IN") -> list[Entity]:
    found, capped = extract_entities(text, TextField.BIO, phone_region=region)
    assert not capped
    for entity in found:
        assert text[entity.start : entity.end] == entity.text
        assert entity.field is TextField.BIO
    return found


def of_kind(text: str, kind: EntityKind, region: str = "IN") -> list[Entity]:
    return [e for e in entities(text, region) if e.kind is kind]


def one(text: str, kind: EntityKind, region: str = "IN") -> Entity:
    found = of_kind(text, kind, region)
    assert len(found) == 1, found
    return found[0]


# --- wallets: EIP-55, BIP-173, BIP-350 and the genesis block's address ---------------------------------


@pytest.mark.parametrize(
    "address",
    [  # the four examples of EIP-55
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_ethereum_eip55_examples_verify(address: str) -> None:
    entity = one(f"send to {address} today", EntityKind.ETHEREUM_ADDRESS)
    assert entity.checksum is ChecksumStatus.VERIFIED
    assert entity.value == address.lower()
    assert entity.text == address


@pytest.mark.parametrize(
    "address", ["0x52908400098527886E0F7030069857D2E4169EE7", "0xde709f2102306220921060314715629080e2fb77"]
)
def test_ethereum_single_case_is_valid_but_unchecksummed(address: str) -> None:
    assert one(address, EntityKind.ETHEREUM_ADDRESS).checksum is ChecksumStatus.UNCHECKSUMMED


def test_ethereum_wrong_case_fails_its_checksum() -> None:
    entity = one("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", EntityKind.ETHEREUM_ADDRESS)
    assert entity.checksum is ChecksumStatus.FAILED
    assert entity.value == "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"  # still joins the right account


@pytest.mark.parametrize(
    ("address", "tag"),
    [
        ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", EntityTag.P2PKH),  # the genesis block's coinbase
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", EntityTag.P2SH),
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", EntityTag.SEGWIT),  # BIP-173
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", EntityTag.SEGWIT),  # BIP-173
        ("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", EntityTag.TAPROOT),
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", EntityTag.TAPROOT),  # BIP-350
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", EntityTag.TAPROOT),  # BIP-350, witness version 2
    ],
)
def test_bitcoin_valid_addresses_verify(address: str, tag: EntityTag) -> None:
    entity = one(f"btc: {address}.", EntityKind.BITCOIN_ADDRESS)
    assert entity.checksum is ChecksumStatus.VERIFIED
    assert entity.tags == (tag,)
    assert entity.value == (address.lower() if address.lower().startswith("bc1") else address)


@pytest.mark.parametrize(
    "address",
    [
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # genesis address, last character changed
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # BIP-173: invalid checksum
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # BIP-350: bech32 for v1
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # BIP-350: bech32 for v16
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # BIP-350: bech32m for v0
    ],
)
def test_bitcoin_checksum_failures_are_reported_as_failed(address: str) -> None:
    assert one(address, EntityKind.BITCOIN_ADDRESS).checksum is ChecksumStatus.FAILED


def test_tron_base58check() -> None:
    good = one("usdt TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", EntityKind.TRON_ADDRESS)
    assert good.checksum is ChecksumStatus.VERIFIED
    bad = one("usdt TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", EntityKind.TRON_ADDRESS)
    assert bad.checksum is ChecksumStatus.FAILED


def test_wallet_inside_a_longer_token_is_not_an_address() -> None:
    assert of_kind("x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", EntityKind.BITCOIN_ADDRESS) == []
    assert of_kind("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", EntityKind.ETHEREUM_ADDRESS) == []


# --- UPI and e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "obfuscated"),
    [
        ("pay ravi.k@okaxis now", "ravi.k@okaxis", False),
        ("RAVI@OKHDFCBANK", "ravi@okhdfcbank", False),
        ("shop-99@ybl", "shop-99@ybl", False),
        ("ravi [at] oksbi", "ravi@oksbi", True),
        ("ravi(at)paytm", "ravi@paytm", True),
        ("ravi at okicici", "ravi@okicici", True),
        ("ravi @ ibl", "ravi@ibl", True),
        ("ravi\u200b@ok\u0430xis", "ravi@okaxis", True),  # zero-width space and a Cyrillic a
        ("upi: shop@newbank", "shop@newbank", False),  # unknown handle, with a UPI word near it
    ],
)
def test_upi_ids(text: str, value: str, obfuscated: bool) -> None:
    entity = one(text, EntityKind.UPI_ID)
    assert entity.value == value
    assert (EntityTag.OBFUSCATED in entity.tags) is obfuscated


@pytest.mark.parametrize("text", ["hi@everyone", "ravi at home", "mail ravi@okaxis.com", "me at oksbi.in"])
def test_not_upi_ids(text: str) -> None:
    assert of_kind(text, EntityKind.UPI_ID) == []


@pytest.mark.parametrize(
    ("text", "value", "obfuscated"),
    [
        ("mail Ravi.K@Example.COM.", "ravi.k@example.com", False),
        ("x@paytm.com", "x@paytm.com", False),
        ("me [at] example [dot] com", "me@example.com", True),
        ("me at example dot co dot in", "me@example.co.in", True),
        ("me (at) example.org", "me@example.org", True),
    ],
)
def test_emails(text: str, value: str, obfuscated: bool) -> None:
    entity = one(text, EntityKind.EMAIL)
    assert entity.value == value
    assert (EntityTag.OBFUSCATED in entity.tags) is obfuscated


@pytest.mark.parametrize("text", ["meet at example.com", "a@b.notatld", "ravi@okaxis", "user@localhost"])
def test_not_emails(text: str) -> None:
    assert of_kind(text, EntityKind.EMAIL) == []


# --- phones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "obfuscated"),
    [
        ("call 9876543210", False),
        ("call +91 98765 43210", False),
        ("whatsapp 98765-43210", False),
        ("9 8 7 6 5 4 3 2 1 0", True),
        ("\u096f\u096e\u096d\u096c\u096b\u096a\u0969\u0968\u0967\u0966", False),  # Devanagari digits
        ("98765\u200b43210", True),
        ("98765 432l0", True),  # a letter standing for a digit
        ("987654321O", True),
    ],
)
def test_indian_mobile_numbers(text: str, obfuscated: bool) -> None:
    entity = one(text, EntityKind.PHONE)
    assert entity.value == "+919876543210"
    assert (EntityTag.OBFUSCATED in entity.tags) is obfuscated


def test_phone_region_is_configurable() -> None:
    assert one("call (650) 253-0000", EntityKind.PHONE, region="US").value == "+16502530000"
    assert one("call +1 650 253 0000", EntityKind.PHONE).value == "+16502530000"


@pytest.mark.parametrize(
    "text",
    [
        "paid 1500 in 2024 for 3 items",
        "Rs. 12,00,000 or best offer",
        "born 1998, class of 2016",
        "order #4521, 2 x 350 = 700",
        "between 2019-2023 I moved 3 times",
        "version 1.2.3 and ISBN 978 3 16",
    ],
)
def test_ordinary_numbers_are_not_phones(text: str) -> None:
    assert of_kind(text, EntityKind.PHONE) == []


# --- links and messengers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "tags"),
    [
        ("see bit.ly/Abc123", "https://bit.ly/Abc123", (EntityTag.SHORTENER,)),
        ("(https://tinyurl.com/xyz).", "https://tinyurl.com/xyz", (EntityTag.SHORTENER,)),
        ("my links: linktr.ee/someone", "https://linktr.ee/someone", (EntityTag.LINK_AGGREGATOR,)),
        ("www.Example.in", "https://example.in", ()),
        ("HTTP://user:secret@Example.COM:80/", "https://example.com", ()),
        ("https://example.com:8443/a?b=1#frag", "https://example.com:8443/a?b=1", ()),
        ("example.org/path_(x)", "https://example.org/path_(x)", ()),
        ("shop.online", "https://shop.online", ()),
        ("tg:t.me/some_name", "https://t.me/some_name", ()),
    ],
)
def test_urls(text: str, value: str, tags: tuple[EntityTag, ...]) -> None:
    entity = one(text, EntityKind.URL)
    assert entity.value == value
    assert entity.tags == tags


@pytest.mark.parametrize(
    "text",
    ["hello.world is nice", "tired.so what", "file.txt", "v1.2.3", "e.g. this", "i.e. that", "Mr.Smith"],
)
def test_prose_is_not_a_link(text: str) -> None:
    assert of_kind(text, EntityKind.URL) == []


@pytest.mark.parametrize(
    ("text", "value", "invite"),
    [
        ("t.me/Some_Name", "t.me/some_name", False),
        ("https://telegram.me/s/SomeChannel", "t.me/somechannel", False),
        ("https://t.me/+AbCdEf123", "t.me/+AbCdEf123", True),
        ("t.me/joinchat/AbCdEf123", "t.me/+AbCdEf123", True),
        ("telegram: @Some_Name", "t.me/some_name", False),
        ("@some_name on tg", "t.me/some_name", False),
    ],
)
def test_telegram(text: str, value: str, invite: bool) -> None:
    entity = one(text, EntityKind.TELEGRAM)
    assert entity.value == value
    assert (EntityTag.INVITE_LINK in entity.tags) is invite


@pytest.mark.parametrize("text", ["follow @some_name", "mail a@some_name.com", "t.me/share"])
def test_not_telegram(text: str) -> None:
    assert of_kind(text, EntityKind.TELEGRAM) == []


@pytest.mark.parametrize(
    ("text", "value", "invite"),
    [
        ("wa.me/919876543210", "+919876543210", False),
        ("https://api.whatsapp.com/send?phone=919876543210", "+919876543210", False),
        ("wa.me/message/ABCDEF123", "wa.me/message/ABCDEF123", False),
        ("chat.whatsapp.com/AbC123xyz", "chat.whatsapp.com/AbC123xyz", True),
    ],
)
def test_whatsapp(text: str, value: str, invite: bool) -> None:
    entity = one(text, EntityKind.WHATSAPP)
    assert entity.value == value
    assert (EntityTag.INVITE_LINK in entity.tags) is invite


@pytest.mark.parametrize(
    ("text", "value", "invite"),
    [
        ("signal.me/#p/+14155550100", "+14155550100", False),
        ("https://signal.me/#eu/AbCdEf", "signal.me/#eu/AbCdEf", False),
        ("signal.group/#CjQKIAbc", "signal.group/#CjQKIAbc", True),
    ],
)
def test_signal(text: str, value: str, invite: bool) -> None:
    entity = one(text, EntityKind.SIGNAL)
    assert entity.value == value
    assert (EntityTag.INVITE_LINK in entity.tags) is invite
    assert "#" in one(text, EntityKind.URL).value  # Signal links keep their fragment: it is the payload


# --- the whole extraction ---------------------------------------------------------------------------


def test_entities_are_sorted_and_deduplicated() -> None:
    text = "ravi@okaxis 9876543210 ravi@okaxis t.me/some_name"
    found = entities(text)
    assert found == sorted(found, key=lambda e: (e.start, e.end, e.kind, e.value))
    assert [e.kind for e in found].count(EntityKind.UPI_ID) == 2  # two places, both kept
    assert len({(e.kind, e.value, e.start, e.end) for e in found}) == len(found)


def test_entity_limit_reports_capped() -> None:
    text = " ".join(f"user{i}@okaxis" for i in range(20))
    found, capped = extract_entities(text, limit=5)
    assert len(found) == 5
    assert capped


def test_clean_text_has_no_entities() -> None:
    assert entities("Went to the market today, bought 2 kg of rice for 120 rupees. Lovely weather!") == []
