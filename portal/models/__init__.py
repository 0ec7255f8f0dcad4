"""All models, imported here so Alembic and the app see every table."""

from portal.models.api_tokens import ApiToken
from portal.models.audit import AuditEntry, AuditSeal
from portal.models.criteria import CriteriaSet, Criterion
from portal.models.meetings import (
    Attendance,
    AwardType,
    MeetingGuest,
    Nomination,
    Quota,
    ReviewMeeting,
    ScoreAdjustment,
    Tally,
    TallyCount,
    TieDecision,
    VoteRules,
)
from portal.models.notices import NoticePreference, Notification
from portal.models.online_votes import Ballot, VoterMark, VoteWindow
from portal.models.org import Cluster, CouncilMember, Unit, UnitChange
from portal.models.pledges import Charter, Pledge, PledgeSignature, TargetRegistration
from portal.models.publication import CouncilDecision, CouncilYear, GovernmentFlagEntry, ResultSnapshot
from portal.models.results import BandRule, Ineligibility, NotApplicable, ResultSettings
from portal.models.scoring import Assessment, Evidence, ReviewAssignment, Score, ScoringRound
from portal.models.tallies import ScoreTally
from portal.models.users import LoginFailure, User, UserSession
from portal.models.years import EmulationYear, Membership, Term, TermPosition

__all__ = [
    "Ballot",
    "VoteWindow",
    "VoterMark",
    "CouncilDecision",
    "CouncilYear",
    "GovernmentFlagEntry",
    "ResultSnapshot",
    "Attendance",
    "AwardType",
    "MeetingGuest",
    "Nomination",
    "Quota",
    "ReviewMeeting",
    "ScoreAdjustment",
    "Tally",
    "TallyCount",
    "TieDecision",
    "VoteRules",
    "ApiToken",
    "Assessment",
    "AuditEntry",
    "AuditSeal",
    "BandRule",
    "Charter",
    "Cluster",
    "CriteriaSet",
    "Criterion",
    "CouncilMember",
    "EmulationYear",
    "Evidence",
    "Ineligibility",
    "LoginFailure",
    "Membership",
    "NoticePreference",
    "Notification",
    "NotApplicable",
    "Pledge",
    "Score",
    "ScoringRound",
    "ScoreTally",
    "PledgeSignature",
    "ResultSettings",
    "ReviewAssignment",
    "TargetRegistration",
    "Term",
    "TermPosition",
    "Unit",
    "UnitChange",
    "User",
    "UserSession",
]
