"""An evacuation order as an OASIS CAP 1.2 alert, and the Atom index feed of those alerts.

    areas = cap_areas(catalogue)                       # once per app: simplified village outlines
    xml = order_to_cap(order, areas, CapSender.of(catalogue))
    feed = alerts_atom(orders, base_url="https://cp.example/", sender=...)

Pitfalls the CAP 1.2 schema does not catch and this module takes care of: `sent` carries an offset
(+08:00, Beijing time, as Chinese alerting does; never `Z`), polygons are *closed* rings of
*lat,lon* pairs (the opposite of GeoJSON), at most a few hundred points per area, and a Cancel
refers to the alert it cancels by `sender,identifier,sent`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - we only write XML here, never parse input
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry.base import BaseGeometry

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
ATOM_MEDIA_TYPE = "application/atom+xml"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_AREA_POINTS = 300
# The geocode valueName of a 12-digit village code (NBS 统计用区划代码, as the geodata carries it).
GEOCODE_NAME = "CN.NBS.code12"
EVENT = {"zh-CN": "山洪灾害转移", "en-US": "Flash flood evacuation"}
# 立即转移 → Evacuate / Immediate; 准备转移 → Prepare / Expected (STANDARDS.md §5.4).
LEVEL_CAP = {
    "evacuate": {"responseType": "Evacuate", "urgency": "Immediate", "severity": "Severe"},
    "prepare": {"responseType": "Prepare", "urgency": "Expected", "severity": "Moderate"},
}
HEADLINE = {
    ("evacuate", "zh-CN"): "{sender}发布山洪灾害立即转移令：{villages}",
    ("prepare", "zh-CN"): "{sender}发布山洪灾害准备转移令：{villages}",
    ("evacuate", "en-US"): "{sender}: evacuate now (flash flood): {villages}",
    ("prepare", "en-US"): "{sender}: prepare to evacuate (flash flood): {villages}",
}
CANCEL_HEADLINE = {
    "zh-CN": "{sender}解除山洪灾害转移令：{villages}",
    "en-US": "{sender}: flash-flood evacuation order lifted: {villages}",
}
INSTRUCTION = {
    ("evacuate", "zh-CN"): "立即按预定路线转移到安置点，先老幼病残后一般人员，先人员后财产；"
    "听从村组防汛责任人指挥，不要返回。",
    ("prepare", "zh-CN"): "做好转移准备：确认转移路线和安置点，老幼病残人员提前转移，"
    "留意广播和锣声，接到立即转移令后马上撤离。",
    ("evacuate", "en-US"): "Leave now for your shelter along the agreed route: the old, young, "
    "sick and disabled first, people before property. Follow the village flood officer; do not "
    "go back.",
    ("prepare", "en-US"): "Get ready to leave: check your route and shelter, move the old, "
    "young, sick and disabled early, listen for the broadcast and the gongs, and leave at once "
    "when the evacuation order comes.",
}
CANCEL_INSTRUCTION = {
    "zh-CN": "转移令已解除，请听从村组防汛责任人安排。",
    "en-US": "The order is lifted; follow the village flood officer's instructions.",
}


@dataclass(frozen=True, slots=True)
class CapArea:
    code: str
    name: str
    name_en: str
    polygons: tuple[str, ...]  # each "lat,lon lat,lon …", closed


@dataclass(frozen=True, slots=True)
class CapSender:
    sender: str  # CAP `sender`: no spaces, commas or '<&'
    name_zh: str
    name_en: str

    @classmethod
    def for_county(cls, code: str, name: str, name_en: str) -> CapSender:
        en = name_en.removesuffix(" County")
        return cls(f"floodpost-{code}", f"{name}防汛抗旱指挥部", f"{en} flood control headquarters")


def cap_time(ts: float) -> str:
    """An instant as CAP wants it: seconds, Beijing time, explicit offset (2017-06-24T08:00:00+08:00)."""
    return datetime.fromtimestamp(ts, LOCAL_TZ).isoformat(timespec="seconds")


def _rings(geom: BaseGeometry) -> list[shapely.LinearRing]:
    parts = getattr(geom, "geoms", [geom])
    return [p.exterior for p in parts if p.geom_type == "Polygon" and not p.is_empty]


def _ring_text(ring: shapely.LinearRing) -> str:
    pairs: list[str] = []
    for lon, lat in ring.coords:
        pair = f"{lat:.5f},{lon:.5f}"
        if not pairs or pairs[-1] != pair:
            pairs.append(pair)
    if pairs[0] != pairs[-1]:
        pairs.append(pairs[0])
    return " ".join(pairs)


def polygon_texts(geom: BaseGeometry, max_points: int = MAX_AREA_POINTS) -> tuple[str, ...]:
    """The outer rings of a (multi)polygon as CAP polygons: lat,lon, closed, simplified until
    all rings together have at most `max_points` points. A ring simplified away below a
    triangle is replaced by its bounding box, so a tiny part is never dropped silently."""
    rings = _rings(geom)
    tol = 0.0
    while True:
        simple = [shapely.simplify(r, tol) if tol else r for r in rings]
        if sum(len(r.coords) for r in simple) <= max_points or tol > 1.0:
            break
        tol = tol * 2 if tol else 1e-5
    out = []
    for original, ring in zip(rings, simple, strict=True):
        if len(ring.coords) < 4 or shapely.Polygon(ring).area == 0:
            ring = shapely.box(*original.bounds).exterior
        out.append(_ring_text(ring))
    return tuple(out)


def cap_areas(catalogue: Any, max_points: int = MAX_AREA_POINTS) -> dict[str, CapArea]:
    """Every village of the catalogue as a CAP area (built once; an order then only picks)."""
    gdf = catalogue.gdf("villages")
    out: dict[str, CapArea] = {}
    for code, geom in zip(gdf["code"], gdf.geometry.values, strict=True):
        v = catalogue.village(code) or {}
        name = str(v.get("name") or code)
        out[code] = CapArea(
            code, name, str(v.get("name_en") or name), polygon_texts(geom, max_points)
        )
    return out


def _root(tag: str, ns: str) -> ET.Element:
    # Plain tags under an xmlns attribute: ET.register_namespace is process-global (threads
    # would race) and default_namespace= refuses unqualified attributes such as rel/href.
    return ET.Element(tag, {"xmlns": ns})


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def alert_identifier(order: Mapping[str, Any], *, cancel: bool = False) -> str:
    return f"{order['id']}-cancel" if cancel else str(order["id"])


def _village_list(areas: list[CapArea], lang: str) -> str:
    names = [a.name if lang == "zh-CN" else a.name_en for a in areas]
    shown = names[:5]
    more = len(names) - len(shown)
    sep = "、" if lang == "zh-CN" else ", "
    text = sep.join(shown)
    if more:
        text += f"等{len(names)}个村" if lang == "zh-CN" else f" and {more} more villages"
    return text


def _info(
    alert: ET.Element,
    order: Mapping[str, Any],
    areas: list[CapArea],
    sender: CapSender,
    lang: str,
    cancel: bool,
) -> None:
    level = order["level"]
    cap = LEVEL_CAP[level]
    who = sender.name_zh if lang == "zh-CN" else sender.name_en
    villages = _village_list(areas, lang)
    info = _sub(alert, "info")
    _sub(info, "language", lang)
    _sub(info, "category", "Met")
    _sub(info, "event", EVENT[lang])
    _sub(info, "responseType", "AllClear" if cancel else cap["responseType"])
    _sub(info, "urgency", "Past" if cancel else cap["urgency"])
    _sub(info, "severity", "Minor" if cancel else cap["severity"])
    _sub(info, "certainty", "Observed" if cancel else "Likely")
    _sub(info, "senderName", who)
    template = CANCEL_HEADLINE[lang] if cancel else HEADLINE[(level, lang)]
    _sub(info, "headline", template.format(sender=who, villages=villages))
    _sub(info, "description", str(order.get("message") or ""))
    _sub(info, "instruction", CANCEL_INSTRUCTION[lang] if cancel else INSTRUCTION[(level, lang)])
    for a in areas:
        area = _sub(info, "area")
        _sub(area, "areaDesc", a.name if lang == "zh-CN" else a.name_en)
        for poly in a.polygons:
            _sub(area, "polygon", poly)
        geocode = _sub(area, "geocode")
        _sub(geocode, "valueName", GEOCODE_NAME)
        _sub(geocode, "value", a.code)


def order_to_cap(
    order: Mapping[str, Any], areas: Mapping[str, CapArea], sender: CapSender
) -> bytes:
    """The order as a CAP 1.2 alert (UTF-8 bytes). A cancelled order is a Cancel message with
    its own identifier, sent when it was cancelled, referencing the original Alert."""
    cancel = order.get("status") == "cancelled" and order.get("cancelled_ts") is not None
    issued = cap_time(float(order["issued_ts"]))
    alert = _root("alert", CAP_NS)
    _sub(alert, "identifier", alert_identifier(order, cancel=cancel))
    _sub(alert, "sender", sender.sender)
    _sub(alert, "sent", cap_time(float(order["cancelled_ts"])) if cancel else issued)
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Cancel" if cancel else "Alert")
    _sub(alert, "scope", "Public")
    if cancel:
        _sub(alert, "references", f"{sender.sender},{alert_identifier(order)},{issued}")
    chosen = [areas[c] for c in order["villages"] if c in areas]
    for lang in ("zh-CN", "en-US"):
        _info(alert, order, chosen, sender, lang, cancel)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)


def alerts_atom(
    orders: Iterable[Mapping[str, Any]],
    areas: Mapping[str, CapArea],
    sender: CapSender,
    *,
    base_url: str,
    now_ts: float,
) -> bytes:
    """The Atom index of CAP alerts (newest first), one entry per order linking its /cap."""
    base = base_url.rstrip("/")
    items = sorted(orders, key=lambda o: float(o["issued_ts"]), reverse=True)
    feed = _root("feed", ATOM_NS)
    _sub(feed, "id", f"{base}/api/alerts.atom")
    _sub(feed, "title", f"{sender.name_zh} CAP alerts")
    newest = max((_updated_ts(o) for o in items), default=now_ts)
    _sub(feed, "updated", cap_time(newest))
    author = _sub(feed, "author", None)
    _sub(author, "name", sender.name_zh)
    link = _sub(feed, "link", None)
    link.set("rel", "self")
    link.set("href", f"{base}/api/alerts.atom")
    for o in items:
        cancel = o.get("status") == "cancelled"
        chosen = [areas[c] for c in o["villages"] if c in areas]
        entry = _sub(feed, "entry", None)
        _sub(entry, "id", f"urn:uuid:{o['id']}")
        who = sender.name_zh
        title = (CANCEL_HEADLINE["zh-CN"] if cancel else HEADLINE[(o["level"], "zh-CN")]).format(
            sender=who, villages=_village_list(chosen, "zh-CN")
        )
        _sub(entry, "title", title)
        _sub(entry, "published", cap_time(float(o["issued_ts"])))
        _sub(entry, "updated", cap_time(_updated_ts(o)))
        _sub(entry, "summary", str(o.get("message") or ""))
        link = _sub(entry, "link", None)
        link.set("rel", "alternate")
        link.set("type", CAP_MEDIA_TYPE)
        link.set("href", f"{base}/api/orders/{o['id']}/cap")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _updated_ts(order: Mapping[str, Any]) -> float:
    return float(order.get("cancelled_ts") or order["issued_ts"])
