"""Accountability: every figure a regulator or a commission asks for, for any period, from the decision,
action and report records themselves, and the answers composed from them (the commission's five
questions; replies to notices)."""
