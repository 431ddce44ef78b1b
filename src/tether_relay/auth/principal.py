from __future__ import annotations

from dataclasses import dataclass

SUPERADMIN = "SUPERADMIN"
ADMIN = "ADMIN"
DEPARTMENT_HEAD = "DEPARTMENT_HEAD"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller, as its token states it. All call data is scoped to `organization_id`, for every role."""

    user_id: str
    organization_id: str
    role: str | None
