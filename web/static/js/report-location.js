/* Where a report happened, three ways: GPS (with its accuracy), a tap on a small map, or the
 * township → village lists. The map (Leaflet, ~160 KB) is only fetched when the user opens it.
 */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});

  var COUNTY_CENTER = [26.58, 110.15]; // lat, lon of Suining county
  var place = {
    lon: null,
    lat: null,
    accuracy_m: null,
    method: null,
    village_code: "",
    township_code: "",
  };
  var places = null;
  var opts = null;
  var map = null;
  var marker = null;

  function $(id) {
    return document.getElementById(id);
  }
  function fixed(x) {
    return Number(x).toFixed(5);
  }

  function nameOf(item) {
    return opts.lang === "en" && item.name_en ? item.name_en : item.name;
  }

  function township(code) {
    if (!places) return null;
    for (var i = 0; i < places.townships.length; i++) {
      if (places.townships[i].code === code) return places.townships[i];
    }
    return null;
  }

  function village(code) {
    var t = township(code.slice(0, 9));
    if (!t) return null;
    for (var i = 0; i < t.villages.length; i++)
      if (t.villages[i].code === code) return t.villages[i];
    return null;
  }

  function describe() {
    var parts = [];
    if (place.lon !== null) {
      if (place.method === "gps") {
        parts.push(
          opts.t("report.place.gps_ok", {
            lon: fixed(place.lon),
            lat: fixed(place.lat),
            acc: Math.round(place.accuracy_m || 0),
          }),
        );
      } else {
        parts.push(opts.t("report.place.map_ok", { lon: fixed(place.lon), lat: fixed(place.lat) }));
      }
    }
    if (place.village_code) {
      var v = village(place.village_code);
      var t = township(place.township_code);
      parts.push((t ? nameOf(t) + " · " : "") + (v ? nameOf(v) : place.village_code));
    }
    return parts.join(" / ");
  }

  function changed(message) {
    var el = $("place-status");
    var has = place.lon !== null || !!place.village_code;
    el.textContent = message || (has ? describe() : opts.t("report.place.none"));
    el.setAttribute("data-set", has ? "1" : "0");
    $("place-clear").hidden = !has;
    if (opts.onChange) opts.onChange(place);
  }

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function fillVillages() {
    var sel = $("village");
    while (sel.options.length > 1) sel.remove(1);
    var t = township($("township").value);
    sel.disabled = !t;
    if (t)
      t.villages.forEach(function (v) {
        sel.appendChild(option(v.code, nameOf(v)));
      });
  }

  function fillTownships() {
    var sel = $("township");
    places.townships.forEach(function (t) {
      sel.appendChild(option(t.code, nameOf(t)));
    });
  }

  function loadPlaces() {
    return fetch("/api/places", { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        places = data;
        fillTownships();
        return data;
      })
      .catch(function () {
        changed(opts.t("report.place.lists_failed"));
        return null;
      });
  }

  function useGps() {
    if (!navigator.geolocation) {
      changed(opts.t("report.place.gps_unavailable"));
      return;
    }
    changed(opts.t("report.place.gps_waiting"));
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        place.lon = pos.coords.longitude;
        place.lat = pos.coords.latitude;
        place.accuracy_m = Math.round(pos.coords.accuracy * 10) / 10;
        place.method = "gps";
        dropVillage();
        if (map) showMarker();
        changed();
      },
      function (err) {
        changed(opts.t("report.place.gps_failed", { reason: err.message || String(err.code) }));
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  }

  function loadLeaflet() {
    if (window.L) return Promise.resolve(window.L);
    return new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = opts.leafletCss;
      document.head.appendChild(css);
      var js = document.createElement("script");
      js.src = opts.leafletJs;
      js.onload = function () {
        resolve(window.L);
      };
      js.onerror = reject;
      document.head.appendChild(js);
    });
  }

  function showMarker() {
    var ll = [place.lat, place.lon];
    if (marker) marker.setLatLng(ll);
    else
      marker = window.L.circleMarker(ll, {
        radius: 10,
        weight: 3,
        color: "#b00020",
        fillOpacity: 0.6,
      }).addTo(map);
  }

  function openMap() {
    var box = $("tap-map");
    if (!box.hidden && map) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    if (box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
    if (map) {
      map.invalidateSize();
      return;
    }
    box.textContent = opts.t("report.place.map_loading");
    loadLeaflet()
      .then(function (L) {
        box.textContent = "";
        map = L.map(box, {
          zoomControl: true,
          zoomSnap: 0.25,
          attributionControl: !!opts.tileUrl,
        }).setView(COUNTY_CENTER, 9);
        if (opts.tileUrl) {
          L.tileLayer(opts.tileUrl, { attribution: opts.tileAttribution, maxZoom: 18 }).addTo(map);
        }
        // Township outlines are the base when there are no tiles (offline laptop, no internet).
        fetch("/api/layers/townships", { credentials: "same-origin" })
          .then(function (r) {
            return r.ok ? r.json() : null;
          })
          .then(function (gj) {
            if (!gj) return;
            var layer = L.geoJSON(gj, {
              interactive: false,
              style: { color: "#1a1a1a", weight: 1.5, fillOpacity: 0.04 },
            }).addTo(map);
            if (place.lon === null) map.fitBounds(layer.getBounds(), { padding: [4, 4] });
          })
          .catch(function () {});
        if (place.lon !== null) {
          showMarker();
          map.setView([place.lat, place.lon], 13);
        }
        map.on("click", function (e) {
          place.lon = Math.round(e.latlng.lng * 1e6) / 1e6;
          place.lat = Math.round(e.latlng.lat * 1e6) / 1e6;
          place.accuracy_m = null;
          place.method = "map";
          dropVillage();
          showMarker();
          changed();
        });
      })
      .catch(function () {
        box.textContent = opts.t("report.place.map_failed");
      });
  }

  /* A new point is newer news than a village picked earlier: the server routes the point to its
   * own village, whereas a stale village choice would win over it and misroute the report. */
  function dropVillage() {
    if (!place.village_code && !place.township_code) return;
    place.village_code = place.township_code = "";
    $("township").value = "";
    fillVillages();
  }

  function clear() {
    place.lon = place.lat = place.accuracy_m = place.method = null;
    place.village_code = place.township_code = "";
    $("township").value = "";
    fillVillages();
    if (marker) {
      marker.remove();
      marker = null;
    }
    changed();
  }

  function init(options) {
    opts = options;
    $("gps-btn").addEventListener("click", useGps);
    $("map-btn").addEventListener("click", openMap);
    $("place-clear").addEventListener("click", clear);
    $("township").addEventListener("change", function () {
      place.township_code = this.value;
      place.village_code = "";
      fillVillages();
      changed();
    });
    $("village").addEventListener("change", function () {
      place.village_code = this.value;
      changed();
    });
    if (!navigator.geolocation) $("gps-btn").disabled = true;
    return loadPlaces();
  }

  floodpost.location = {
    init: init,
    place: function () {
      return place;
    },
    places: function () {
      return places;
    },
    township: township,
    village: village,
    describe: describe,
    nameOf: function (item) {
      return nameOf(item);
    },
  };
})();
