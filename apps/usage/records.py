"""The one writer of usage records (a tenant-schema table), for every caller.

The gateway writes through `write_usage` (async, one round trip with its settlement), the
ingest API and billing's reservation sweeper through `write_usage_sync` (the ORM's
connection, inside the caller's transaction). Both take a `UsageRow` and both name the
columns from the model itself, so a new field cannot be forgotten by one of them.

A record, once written, is never overwritten: the first writer of a request id wins.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from psycopg import sql
from psycopg.types.json import Jsonb

from apps.billing.budget import SETTLE_SQL
from apps.usage.models import UsageRecord

ZERO = Decimal(0)


@dataclass(slots=True)
class UsageRow:
    """One usage record's values; field names are the model's column names."""

    request_id: str
    created_at: datetime
    endpoint: str
    model: str
    status: str
    api_key_id: int | None = None
    api_key_prefix: str = ""
    member_id: int | None = None
    user_id: int | None = None
    provider: str = ""
    upstream_model: str = ""
    attempts: int = 1
    attempt_log: list[dict[str, Any]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    usage_reported: bool = True
    cost: Decimal = ZERO
    error_type: str = ""
    http_status: int | None = None
    latency_ms: int = 0
    ttft_ms: int | None = None
    streamed: bool = False


# Every column but the primary key, in the model's order: the one column list.
_FIELDS = tuple(f for f in UsageRecord._meta.concrete_fields if not f.primary_key)
COLUMNS: tuple[str, ...] = tuple(f.column for f in _FIELDS)

if {f.name for f in dataclasses.fields(UsageRow)} != set(COLUMNS):  # pragma: no cover
    # Checked at import, so a model change without a matching UsageRow fails at startup.
    raise ImproperlyConfigured(
        "UsageRow's fields differ from UsageRecord's columns: "
        f"{sorted({f.name for f in dataclasses.fields(UsageRow)} ^ set(COLUMNS))}"
    )

_TABLE = UsageRecord._meta.db_table
_VALUES = operator.attrgetter(*COLUMNS)
_JSON_AT = COLUMNS.index("attempt_log")
# The first writer of a request id wins; a later one (a retry, a late request whose
# reservation the sweeper already closed) writes nothing and learns so from the row count.
# The model's own names; the schema goes in as an Identifier.
_INSERT = (
    "INSERT INTO {}."  # noqa: S608
    + _TABLE
    + " ("
    + ", ".join(COLUMNS)
    + ") VALUES ("
    + ", ".join(["%s"] * len(COLUMNS))
    + ") ON CONFLICT (request_id) DO NOTHING"
)


def row_params(row: UsageRow) -> tuple[Any, ...]:
    """The row's values in `COLUMNS` order, adapted for psycopg (hot path: no ORM)."""
    values = _VALUES(row)
    return (*values[:_JSON_AT], Jsonb(values[_JSON_AT]), *values[_JSON_AT + 1 :])


class RecordScripts:
    """The gateway's record script per tenant schema, with or without the settlement,
    composed once.

    `BEGIN; INSERT …; SELECT billing_settle(…); COMMIT` travels as ONE simple query
    (client-side binding): the record and the settlement commit together or not at all, in
    one round trip."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, bool], sql.Composed] = {}

    def get(self, schema: str, settle: bool) -> sql.Composed:
        statement = self._by_key.get((schema, settle))
        if statement is None:
            tail = "; " + SETTLE_SQL if settle else ""
            body = "BEGIN; " + _INSERT + tail + "; COMMIT"
            statement = sql.SQL(body).format(sql.Identifier(schema))
            if len(self._by_key) > 10_000:
                self._by_key.clear()
            self._by_key[(schema, settle)] = statement
        return statement


RECORD_SCRIPTS = RecordScripts()


@dataclass(frozen=True, slots=True)
class Written:
    recorded: bool  # False: a record with that request id existed; nothing was overwritten
    settlement: str | None  # billing_settle's status (see SETTLE_SQL); None: not settled


async def write_usage(
    conn: psycopg.AsyncConnection, schema: str, row: UsageRow, *, settle: int | None = None
) -> Written:
    """Write the record and, given a reservation id, settle it to `row.cost`: one
    transaction, one round trip. The settlement charges exactly what the record says.

    Raises what the database raises; nothing is written then (one transaction), so the
    caller may retry: a second attempt neither records nor charges twice."""
    params = row_params(row)
    if settle is not None:
        params = (*params, settle, row.cost)
    cur = psycopg.AsyncClientCursor(conn)
    await cur.execute(RECORD_SCRIPTS.get(schema, settle is not None), params)
    cur.nextset()  # BEGIN's result, then the INSERT's
    recorded = cur.rowcount == 1
    settlement = None
    if settle is not None:
        cur.nextset()
        status = await cur.fetchone()
        settlement = status[0] if status is not None else None
    return Written(recorded, settlement)


def write_usage_sync(schema_name: str, row: UsageRow) -> bool:
    """Write one record into `schema_name` on the ORM's connection (the caller's
    transaction). True if written; False if a record with that request id exists."""
    values = [f.get_db_prep_save(getattr(row, f.column), connection) for f in _FIELDS]
    statement = sql.SQL(_INSERT + " RETURNING 1").format(sql.Identifier(schema_name))
    with connection.cursor() as cur:
        cur.execute(statement.as_string(None), values)
        return cur.fetchone() is not None
