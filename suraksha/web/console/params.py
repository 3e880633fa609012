"""Request parameters the console's routes share. Every integer id a route takes (in the path, the
query string or a form) is one of these types, so an id no store can hold is refused with a 422 page
before it reaches the database (where SQLite raises OverflowError and PostgreSQL an out-of-range
error: a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query

ID_MAX = 2**63 - 1
"""The largest id either store holds (a signed 64-bit integer column)."""

PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
QueryId = Annotated[int, Query(ge=1, le=ID_MAX)]
OptionalQueryId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
FormId = Annotated[int, Form(ge=1, le=ID_MAX)]
OptionalFormId = Annotated[int | None, Form(ge=1, le=ID_MAX)]
