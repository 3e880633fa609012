"""The engine: fields in, hits and entities per field out, deterministic, bounded, with pack versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from suraksha.errors import ConfigError, InvalidInput
from suraksha.rules import (
    EntityKind,
    RuleCategory,
    RuleEngine,
    RuleResult,
    Severity,
    TextField,
    TextTooLong,
)
from suraksha.rules.evaluate import MAX_HITS_PER_RULE
from suraksha.settings import Settings

WritePack = Callable[..., Path]

COMBINED = """
name: combos
version: "2.3.0"
rules:
  - id: cash
    description: says cash
    kind: keyword
    patterns: ["cash"]
    category: payment_request
    severity: low
    should_match: ["cash only"]
  - id: sell-for-cash-same-field
    description: sell and cash in one field
    kind: keyword
    patterns: ["sell"]
    category: sale_solicitation
    severity: high
    requires:
      scope: field
      all_of: [{rule: cash}]
    should_match: ["sell for cash"]
    should_not_match: ["sell"]
  - id: sell-with-phone-anywhere
    description: sell, and a phone number in any field
    kind: keyword
    patterns: ["sell"]
    category: sale_solicitation
    severity: medium
    requires:
      any_of: [{entity: phone}, {entity: upi_id}]
      none_of: [{rule: cash}]
    should_match: ["sell, call +91 98765 43210"]
    should_not_match: ["sell for cash, call +91 98765 43210", "sell"]
"""


@pytest.fixture
def combos(write_pack: WritePack) -> RuleEngine:
    return RuleEngine.from_packs([write_pack(COMBINED)], include_default=False)


def test_evaluate_reports_hits_and_entities_per_field(engine: RuleEngine) -> None:
    result = engine.evaluate(
        {
            "handle": "dm_for_price_22",
            "text": "P@1d c\u200bontent! pay via upi ravi@okaxis",
            "bio": "link in bio: bit.ly/example",
        }
    )
    assert [f.field for f in result.fields] == [TextField.TEXT, TextField.BIO, TextField.HANDLE]
    text = result.fields[0]
    assert {h.rule_id for h in text.hits} >= {"paid-content", "pay-via-upi", "payment-handle-shared"}
    paid = next(h for h in text.hits if h.rule_id == "paid-content")
    assert paid.text == "P@1d c\u200bontent"
    assert (paid.pack, paid.pack_version) == ("default", result.packs[0].version)
    assert paid.category is RuleCategory.SALE_SOLICITATION
    handle_share = next(h for h in text.hits if h.rule_id == "payment-handle-shared")
    assert handle_share.evidence == ("entity:upi_id",)
    assert [e.kind for e in text.entities] == [EntityKind.UPI_ID]
    assert [e.value for e in result.fields[1].entities] == ["https://bit.ly/example"]
    assert {h.rule_id for h in result.fields[2].hits} >= {"dm-for-price"}
    assert result.max_severity is Severity.HIGH
    assert RuleCategory.PAYMENT_REQUEST in result.categories


def test_every_hit_highlights_its_original_text(engine: RuleEngine) -> None:
    fields = {
        "text": "Ｐａｉｄ ｃｏｎｔｅｎｔ — DM 4 price, join my te1egram t.me/example_chan",
        "bio": "ᴅᴍ ꜰᴏʀ ᴘʀɪᴄᴇ",
    }
    result = engine.evaluate(fields)
    assert result.hits
    for hit in result.hits:
        assert fields[hit.field][hit.start : hit.end] == hit.text
    for entity in result.entities:
        assert fields[entity.field][entity.start : entity.end] == entity.text


def test_clean_item_has_no_hits(engine: RuleEngine) -> None:
    result = engine.evaluate(
        {"text": "Lovely sunset at the beach today with family.", "bio": "Teacher, runner."}
    )
    assert result.hits == ()
    assert result.entities == ()
    assert result.max_severity is None
    assert result.packs == engine.packs


def test_requirements_scope_field_and_item(combos: RuleEngine) -> None:
    same = combos.evaluate({"text": "sell for cash"})
    assert {h.rule_id for h in same.hits} == {"cash", "sell-for-cash-same-field"}
    apart = combos.evaluate({"text": "sell", "bio": "cash"})
    assert {h.rule_id for h in apart.hits} == {"cash"}  # scope: field, and cash is in another field
    with_phone = combos.evaluate({"text": "I sell old books", "bio": "call 98765 43210"})
    hit = next(h for h in with_phone.hits if h.rule_id == "sell-with-phone-anywhere")
    assert hit.field is TextField.TEXT
    assert hit.evidence == ("entity:phone",)
    vetoed = combos.evaluate({"text": "I sell old books", "bio": "cash, call 98765 43210"})
    assert "sell-with-phone-anywhere" not in {h.rule_id for h in vetoed.hits}  # none_of: cash


def test_rules_apply_only_to_their_fields(engine: RuleEngine) -> None:
    # link-in-bio applies to posts only: a bio saying "link in bio" is not the signal
    assert "link-in-bio" not in {h.rule_id for h in engine.evaluate({"bio": "link in bio"}).hits}
    assert "link-in-bio" in {h.rule_id for h in engine.evaluate({"text": "link in bio"}).hits}


def test_results_are_deterministic(engine: RuleEngine) -> None:
    fields = {"bio": "sell sell sell, dm for price, ravi@okaxis", "text": "paid content 9876543210"}
    first = engine.evaluate(fields)
    reordered = engine.evaluate(dict(reversed(list(fields.items()))))
    assert first == reordered
    keys = [(h.field, h.start, h.end, h.pack, h.rule_id) for h in first.fields[0].hits]
    assert keys == sorted(keys)


def test_result_serialises_to_json(engine: RuleEngine) -> None:
    result = engine.evaluate({"text": "dm for price, pay ravi@okaxis"})
    data = json.loads(json.dumps(result.as_dict()))
    assert data["packs"][0]["name"] == "default"
    assert data["fields"][0]["hits"][0]["rule_id"]
    assert data["fields"][0]["entities"][0]["kind"] == "upi_id"


def test_unknown_field_and_non_text_are_refused(engine: RuleEngine) -> None:
    with pytest.raises(InvalidInput, match="unknown field 'caption'; the rules read: text, bio"):
        engine.evaluate({"caption": "x"})
    with pytest.raises(InvalidInput, match="field 'text' must be text, got int"):
        engine.evaluate({"text": 5})  # type: ignore[dict-item]


def test_too_long_field_is_refused_never_cut(write_pack: WritePack) -> None:
    small = RuleEngine.from_packs(max_text_chars=100)
    with pytest.raises(TextTooLong, match="field bio is 101 characters long; the rules read at most 100"):
        small.evaluate({"text": "ok", "bio": "x" * 101})


def test_hits_per_rule_are_capped_and_say_so(engine: RuleEngine) -> None:
    result = engine.evaluate({"text": "for sale " * (MAX_HITS_PER_RULE + 5)})
    field = result.fields[0]
    assert field.capped
    assert sum(1 for h in field.hits if h.rule_id == "for-sale") == MAX_HITS_PER_RULE


def test_packs_from_a_folder_load_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "b.yaml").write_text(COMBINED.replace("name: combos", "name: second"))
    (folder / "a.yml").write_text(COMBINED)
    (folder / "notes.txt").write_text("not a pack")
    loaded = RuleEngine.from_packs([folder])
    assert [p.name for p in loaded.packs] == ["default", "combos", "second"]


def test_from_settings(tmp_path: Path) -> None:
    pack = tmp_path / "combos.yaml"
    pack.write_text(COMBINED)
    settings = Settings.load(
        environ={
            "SURAKSHA_RULES_PACK_PATHS": str(pack),
            "SURAKSHA_RULES_DEFAULT_PACK": "false",
            "SURAKSHA_RULES_PHONE_REGION": "us",
            "SURAKSHA_RULES_MAX_TEXT_CHARS": "500",
        }
    )
    configured = RuleEngine.from_settings(settings)
    assert [p.name for p in configured.packs] == ["combos"]
    result = configured.evaluate({"text": "sell, call (650) 253-0000"})
    assert result.entities[0].value == "+16502530000"
    with pytest.raises(TextTooLong):
        configured.evaluate({"text": "x" * 501})


def test_bad_phone_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="phone region 'XX'"):
        RuleEngine.from_packs(phone_region="XX")
    with pytest.raises(ConfigError, match="rules_phone_region"):
        Settings.load(environ={"SURAKSHA_RULES_PHONE_REGION": "india"})


def test_result_helpers(engine: RuleEngine) -> None:
    result: RuleResult = engine.evaluate({"text": "dm for price", "bio": "dm for price"})
    assert result.fired_rules.count(("default", "dm-for-price")) == 1
    assert len([h for h in result.hits if h.rule_id == "dm-for-price"]) == 2
