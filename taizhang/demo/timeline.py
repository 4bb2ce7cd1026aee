"""What every demo story can do: pick plausible moments and act on its case through the actions layer.

A story is a generator replayed by the builder (build.py); each `yield` says when it next acts, and
the platform's clock is pinned to that moment before the story resumes.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from taizhang.cases.actions import TransitionRequest, do_transition
from taizhang.cases.approvals import do_decide
from taizhang.cases.models import Case
from taizhang.clock.clock import get_clock
from taizhang.clock.now import now as clock_now
from taizhang.org.models import User

from .photos import upload_photos

OPENS, CLOSES = time(8, 30), time(17, 30)


class Timeline:
    """Time and acting helpers for a story with `rng` (random.Random) and `case` (Case | None)."""

    rng: random.Random
    case: Case | None

    # -- time ------------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return clock_now()

    def snap(self, moment: datetime, workday: bool = False) -> datetime:
        """The moment moved into office hours (08:30–17:30), on a working day when `workday` is set."""
        local = timezone.localtime(moment)
        calendar = get_clock().calendar
        for _ in range(60):
            day: date = local.date()
            if workday and not calendar.is_workday(day):
                local = self._morning(day + timedelta(days=1))
            elif local.time() < OPENS:
                local = self._morning(day)
            elif local.time() > CLOSES:
                local = self._morning(day + timedelta(days=1))
            else:
                break
        return local

    def _morning(self, day: date) -> datetime:
        start = datetime.combine(day, OPENS, tzinfo=timezone.get_current_timezone())
        return start + timedelta(minutes=self.rng.randint(0, 90))

    def office(self, lo: float, hi: float, workday: bool = False) -> datetime:
        """Between `lo` and `hi` hours from now, in office hours."""
        return self.snap(self.now + timedelta(hours=self.rng.uniform(lo, hi)), workday)

    def soon(self, lo: float, hi: float) -> datetime:
        """Between `lo` and `hi` hours from now, day or night (duty officers, the 12345 centre's shifts)."""
        return self.now + timedelta(hours=self.rng.uniform(lo, hi))

    def days(self, lo: float, hi: float) -> datetime:
        return self.office(lo * 24, hi * 24, workday=True)

    # -- acting ----------------------------------------------------------------------------------------

    def act(
        self,
        user: User,
        code: str,
        opinion: str = "",
        fields: dict | None = None,
        params: dict | None = None,
        photos: int = 0,
    ) -> None:
        ids = upload_photos(user, self.rng, "after", self.now, photos) if photos else []
        req = TransitionRequest(
            code=code, opinion=opinion, fields=fields or {}, params=params or {}, attachments=ids
        )
        self.case = do_transition(user, self.case.pk, req)

    def decide(self, user: User, approve: bool, opinion: str) -> None:
        self.case = do_decide(user, self.case.pk, approve, opinion)
