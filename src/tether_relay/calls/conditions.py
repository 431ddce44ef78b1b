"""Conditions on calls that more than one repository writes: what the history and search narrow an
organisation's calls to, and the guard every content write carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement

from tether_relay.calls.models import Call


@dataclass(frozen=True, slots=True)
class CallFilter:
    """What the history and search narrow an organisation's calls to (None: any)."""

    contact_id: str | None = None
    user_id: str | None = None
    status: str | None = None
    since: datetime | None = None  # history time (start, else creation) at or after
    until: datetime | None = None  # before

    def conditions(self) -> list[ColumnElement[bool]]:
        out = [
            column == value
            for column, value in (
                (Call.contact_id, self.contact_id),
                (Call.user_id, self.user_id),
                (Call.status, self.status),
            )
            if value is not None
        ]
        if self.since is not None:
            out.append(Call.sort_time >= self.since)
        if self.until is not None:
            out.append(Call.sort_time < self.until)
        return out


def live(call_id: str) -> ColumnElement[bool]:
    """The guard every content write carries: the call exists and its recording is not deleted."""
    return (Call.id == call_id) & Call.recording_deleted_at.is_(None)
