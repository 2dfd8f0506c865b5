"""Rolling rain totals per station and window, updated incrementally.

A rain reading is (end time `ts`, amount, interval in hours): the rain of (ts - interval, ts].
The total of a window of W hours ending at T is the sum of the readings with T - W < ts <= T
whose interval is at most W (a 24-hour total says nothing about any one hour).

`RainSeries` keeps one station's readings of the last `retain_h` hours in time order with a
running (prefix) sum per window, in integer micro-millimetres so sums are exact whatever the
order of arrival. Adding a reading costs O(readings in the retained span) at worst (a back-filled
reading) and O(log n) in the usual case (the newest reading): never the station's whole history.
A back-filled reading changes the windows that end at it and at the readings up to 24 h after
it: `add` returns the peak total per window over those ends, so a back-filled storm still raises
the warning it should have raised.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from floodpost.hydro.rules import to_mm, to_units
from floodpost.hydro.thresholds import MAX_WINDOW_H, WINDOWS_H

HOUR = 3600.0


@dataclass(frozen=True)
class Peak:
    """The highest total of one window over the windows a reading changed, and where it ends."""

    window_h: int
    total_mm: float
    end_ts: float


@dataclass
class RainSeries:
    retain_h: float = 72.0
    times: list[float] = field(default_factory=list)
    units: list[int] = field(default_factory=list)
    intervals: list[float] = field(default_factory=list)
    # prefix[w][i] = sum of the first i readings that count for window w (absolute, never reset)
    prefix: dict[int, list[int]] = field(default_factory=lambda: {w: [0] for w in WINDOWS_H})

    @property
    def latest_ts(self) -> float | None:
        return self.times[-1] if self.times else None

    def get(self, ts: float) -> tuple[float, float] | None:
        """(mm, interval_h) stored at `ts`, if any."""
        i = bisect.bisect_left(self.times, ts)
        if i < len(self.times) and self.times[i] == ts:
            return to_mm(self.units[i]), self.intervals[i]
        return None

    def add(self, ts: float, mm: float, interval_h: float, *, peaks: bool = True) -> list[Peak]:
        """Insert one reading (the caller has ruled out duplicates); returns the peak per window
        over the windows it changed (none when `peaks` is false: loading a series)."""
        i = bisect.bisect_left(self.times, ts)
        if i < len(self.times) and self.times[i] == ts:
            raise ValueError(f"a reading at {ts} is already stored")
        amount = to_units(mm)
        self.times.insert(i, ts)
        self.units.insert(i, amount)
        self.intervals.insert(i, interval_h)
        for w, pre in self.prefix.items():
            add = amount if interval_h <= w else 0
            if i == len(pre) - 1:  # the newest reading: O(1)
                pre.append(pre[-1] + add)
            else:  # back-filled: shift the running sums after it (bounded by retain_h)
                pre.insert(i + 1, pre[i] + add)
                if add:
                    for j in range(i + 2, len(pre)):
                        pre[j] += add
        self._trim()
        return self._peaks(ts) if peaks else []

    def total(self, end_ts: float, window_h: int) -> float:
        """Total of the window of `window_h` hours ending at `end_ts`, in mm."""
        pre = self.prefix[window_h]
        hi = bisect.bisect_right(self.times, end_ts)
        lo = bisect.bisect_right(self.times, end_ts - window_h * HOUR)
        return to_mm(pre[hi] - pre[lo])

    def totals(self, end_ts: float) -> dict[int, float]:
        return {w: self.total(end_ts, w) for w in WINDOWS_H}

    def _peaks(self, ts: float) -> list[Peak]:
        # Windows that contain ts end at ts or at a later reading less than 24 h after it.
        i = bisect.bisect_left(self.times, ts)
        j = bisect.bisect_left(self.times, ts + MAX_WINDOW_H * HOUR)
        ends = self.times[i:j]
        peaks = []
        for w in WINDOWS_H:
            best_total, best_end = -1.0, ts
            for end in ends:
                if end >= ts + w * HOUR:
                    break
                t = self.total(end, w)
                if t > best_total:
                    best_total, best_end = t, end
            peaks.append(Peak(w, max(best_total, 0.0), best_end))
        return peaks

    def _trim(self) -> None:
        # Keep the retained span; trimming in chunks keeps the amortised cost O(1).
        if not self.times:
            return
        cutoff = self.times[-1] - self.retain_h * HOUR
        k = bisect.bisect_left(self.times, cutoff)
        if k > 64 or (k and k * 4 > len(self.times)):
            del self.times[:k], self.units[:k], self.intervals[:k]
            for pre in self.prefix.values():
                del pre[:k]


class RollingRain:
    """Rain series of every station (in memory: tests, the replay, a single process)."""

    def __init__(self, retain_h: float = 72.0) -> None:
        self.retain_h = retain_h
        self.series: dict[str, RainSeries] = {}

    def add(self, station: str, ts: float, mm: float, interval_h: float) -> list[Peak]:
        s = self.series.get(station)
        if s is None:
            s = self.series[station] = RainSeries(self.retain_h)
        return s.add(ts, mm, interval_h)

    def totals(self, station: str, end_ts: float) -> dict[int, float] | None:
        """Window totals ending at `end_ts`, or None when the station never reported."""
        s = self.series.get(station)
        return None if s is None or not s.times else s.totals(end_ts)

    def latest_ts(self, station: str) -> float | None:
        s = self.series.get(station)
        return None if s is None else s.latest_ts
