"""`GET /healthz`: "ok", or "degraded" with the reason while a store fault lasts (issue 13); while
the roll-ups warm up (start-up, a reseed) also `warming` with their progress (issue 14 §5)."""

from typing import Any

from fastapi import APIRouter

from floodpost.web.deps import FollowerDep, StoreDep

router = APIRouter()


@router.get("/healthz")
def healthz(store: StoreDep, follower: FollowerDep) -> dict[str, Any]:
    fault_state = getattr(store, "faults", None)
    reason = fault_state.reason() if fault_state is not None else None
    body: dict[str, Any] = {"status": "ok"}
    if reason:
        body = {"status": "degraded", "reason": reason}
    progress = follower.progress()
    if progress.state == "warming":
        body["warming"] = progress.as_dict()
    return body
