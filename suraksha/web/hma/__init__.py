"""Routes compatible with Hasher-Matcher-Actioner (HMA): ``/h`` hashing, ``/m`` matching, ``/c``
curation, so HMA clients work against Suraksha unchanged. docs/api.md lists where we differ."""
