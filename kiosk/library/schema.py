"""What a library item and a loan may hold, checked on every backup and at start-up."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from msgspec import Meta

from ..core.schema import Claim, Day, Iso, Record, ShortId, Text


class Item(Record):
    name: Text(60)
    category: Literal["tools", "kitchen", "garden", "kids", "other"]
    condition: Literal["good", "worn", "needs-repair"]
    created: Iso
    updated: Iso
    notes: Text(300) = ""
    kept: Text(60) = ""
    retired: Optional[Iso] = None


class Loan(Record):
    id: ShortId
    item: Annotated[int, Meta(ge=1)]
    lent: Iso
    due: Day
    claim: Optional[Claim] = None
    returned: Optional[Iso] = None
