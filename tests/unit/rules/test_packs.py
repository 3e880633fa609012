"""Rule packs: the shipped pack loads and passes its examples; broken packs are refused, named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from suraksha.rules import RuleEngine, RuleKind, RulePackError, TextView, load_pack, parse_pack
from suraksha.rules.packs import MAX_PACK_BYTES, default_pack_path

WritePack = Callable[..., Path]

RULE = """
  - id: {id}
    description: test rule
    kind: {kind}
    patterns: {patterns}
    category: sale_solicitation
    severity: low
    should_match: {should_match}
    should_not_match: {should_not_match}
"""


def pack(*rules: str, name: str = "test", version: str = '"1.0.0"') -> str:
    return f"name: {name}\nversion: {version}\nrules:\n" + "".join(rules)


def rule(
    rule_id: str = "r1",
    kind: str = "keyword",
    patterns: str = '["sell"]',
    should_match: str = '["I sell things"]',
    should_not_match: str = '["I buy things"]',
    extra: str = "",
) -> str:
    text = RULE.format(
        id=rule_id, kind=kind, patterns=patterns, should_match=should_match, should_not_match=should_not_match
    )
    return text + extra


def test_default_pack_loads_and_its_examples_pass() -> None:
    loaded = load_pack(default_pack_path())
    assert loaded.name == "default"
    assert loaded.version
    assert len(loaded.sha256) == 64
    assert {r.spec.kind for r in loaded.rules} == {RuleKind.KEYWORD, RuleKind.REGEX}
    assert all(r.spec.should_match for r in loaded.rules)


def test_default_pack_examples_are_evaluated_as_written(engine: RuleEngine) -> None:
    """The loader's self-test, repeated through the public engine: every example does what it says."""
    for compiled in load_pack(default_pack_path()).rules:
        field = compiled.spec.fields[0]
        for example in compiled.spec.should_match:
            fired = {h.rule_id for h in engine.evaluate({field: example}).hits}
            assert compiled.spec.id in fired, (compiled.spec.id, example)
        for example in compiled.spec.should_not_match:
            fired = {h.rule_id for h in engine.evaluate({field: example}).hits}
            assert compiled.spec.id not in fired, (compiled.spec.id, example)


def test_a_valid_pack_loads(write_pack: WritePack) -> None:
    loaded = load_pack(write_pack(pack(rule())))
    assert (loaded.name, loaded.version) == ("test", "1.0.0")
    assert loaded.rules[0].matcher.view is TextView.SKELETON


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: test\nrules: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        (pack(rule(), version="1.0"), r"version: Input should be a valid string"),
        (
            pack(rule(extra="    shuold_match: [x]\n")),
            r"rule 'r1' \(rules\[0\]\): shuold_match: Extra inputs",
        ),
        (pack(rule(kind="fuzzy")), r"rule 'r1' \(rules\[0\]\): kind: Input should be 'keyword' or 'regex'"),
        (pack(rule(rule_id="Bad Id")), r"rule 'Bad Id' \(rules\[0\]\): id: String should match pattern"),
        (pack(rule(should_match="[]")), "at least one should_match example"),
        (pack(rule(patterns="[]")), "patterns: List should have at least 1 item"),
        (pack(rule(), rule()), "rule id 'r1' is used twice"),
        (pack(rule(kind="regex", patterns="['(unclosed']")), r"rule 'r1': regex .* is not valid RE2 syntax"),
        (pack(rule(kind="regex", patterns=r"['(a)\1']")), "not valid RE2 syntax"),  # back-reference
        (pack(rule(kind="regex", patterns="['(?<=a)b']")), "not valid RE2 syntax"),  # look-behind
        (pack(rule(kind="regex", patterns="['x*']")), "matches the empty string"),
        (pack(rule(patterns='["!!!"]')), "no letters or digits left"),
        (
            pack(rule(should_match='["I buy things"]', should_not_match="[]")),
            r"rule 'r1' contradicts its own example: 'I buy things' should match but did not",
        ),
        (
            pack(rule(should_not_match='["we sell too"]')),
            r"'we sell too' should not match but did",
        ),
        (
            pack(rule(extra="    requires:\n      all_of: [{rule: nowhere}]\n")),
            "rule 'r1' requires rule 'nowhere', which this pack does not have",
        ),
        (
            pack(
                rule("a", extra="    requires:\n      all_of: [{rule: b}]\n"),
                rule("b", extra="    requires:\n      all_of: [{rule: a}]\n"),
            ),
            "rules require each other in a circle",
        ),
        (
            pack(rule(extra="    requires:\n      all_of: [{rule: r1, entity: phone}]\n")),
            "exactly one of 'rule' or 'entity'",
        ),
        (pack(rule(extra="    requires:\n      scope: item\n")), "at least one of all_of, any_of, none_of"),
        (
            pack(rule(extra="    requires:\n      any_of: [{entity: upi_id}]\n")),
            r"should match but did not \(check its 'requires'",
        ),
        (pack(rule(extra="    view: original\n")), "apply to regex rules"),
        ("name: test\nversion: '1'\nrules: &r [*r]\n", "aliases"),
    ],
)
def test_broken_pack_is_refused_with_a_clear_error(write_pack: WritePack, text: str, message: str) -> None:
    path = write_pack(text)
    with pytest.raises(RulePackError, match=message) as caught:
        load_pack(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match=r"nope\.yaml cannot be read"):
        load_pack(tmp_path / "nope.yaml")


def test_non_utf8_pack_is_refused() -> None:
    with pytest.raises(RulePackError, match="not UTF-8"):
        parse_pack(b"name: \xff\n", source="latin1.yaml")


def test_oversized_pack_is_refused_before_parsing() -> None:
    with pytest.raises(RulePackError, match="limit"):
        parse_pack(b"#" * (MAX_PACK_BYTES + 1), source="huge.yaml")


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(RulePackError, match="aliases"):
        parse_pack("\n".join(lines).encode(), source="laughs.yaml")


def test_regex_rule_reads_the_chosen_view(write_pack: WritePack) -> None:
    text = pack(
        rule(
            kind="regex",
            patterns=r"['\bpaid\b']",
            should_match='["P\u0430ID now"]',  # Cyrillic a: normalised view, case-insensitive
            should_not_match='["prepaid"]',
        )
    )
    assert load_pack(write_pack(text)).rules[0].matcher.view is TextView.NORMALISED
    original = pack(
        rule(
            kind="regex",
            patterns=r"['\bpaid\b']",
            should_match='["paid"]',
            should_not_match='["P\u0430ID"]',
            extra="    view: original\n    case_sensitive: true\n",
        )
    )
    assert load_pack(write_pack(original, "o.yaml")).rules[0].matcher.view is TextView.ORIGINAL


def test_requires_orders_rules_by_dependency(write_pack: WritePack) -> None:
    text = pack(
        rule("combined", patterns='["sell"]', should_match='["sell for cash"]', should_not_match='["sell"]',
             extra="    requires:\n      all_of: [{rule: cash}]\n      scope: field\n"),
        rule("cash", patterns='["cash"]', should_match='["cash"]', should_not_match='["card"]'),
    )  # fmt: skip
    loaded = load_pack(write_pack(text))
    assert [r.spec.id for r in loaded.rules] == ["cash", "combined"]


def test_duplicate_pack_names_are_refused(write_pack: WritePack) -> None:
    first = write_pack(pack(rule()), "a.yaml")
    second = write_pack(pack(rule()), "b.yaml")
    with pytest.raises(RulePackError, match="loaded twice: test"):
        RuleEngine.from_packs([first, second], include_default=False)
