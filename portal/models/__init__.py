"""All models, imported here so Alembic and the app see every table."""
from portal.models.audit import AuditEntry
from portal.models.org import Cluster, CouncilMember, Unit, UnitChange
from portal.models.users import LoginFailure, User
from portal.models.years import EmulationYear, Membership, Term, TermPosition

__all__ = [
    "AuditEntry",
    "Cluster",
    "CouncilMember",
    "EmulationYear",
    "LoginFailure",
    "Membership",
    "Term",
    "TermPosition",
    "Unit",
    "UnitChange",
    "User",
]
