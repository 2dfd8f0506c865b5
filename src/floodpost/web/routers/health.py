"""`GET /healthz`: "ok", or "degraded" with the reason while a store fault lasts (issue 13)."""

from fastapi import APIRouter

from floodpost.web.deps import StoreDep

router = APIRouter()


@router.get("/healthz")
def healthz(store: StoreDep) -> dict[str, str]:
    fault_state = getattr(store, "faults", None)
    reason = fault_state.reason() if fault_state is not None else None
    if reason:
        return {"status": "degraded", "reason": reason}
    return {"status": "ok"}
