/* Live command post, part 2: the live layers, totals and feed, kept current by the event stream.

   First load: GET /api/live/state (aggregates per village, shelter, reservoir and zone, plus the
   open help requests) and /api/live/feed — small whatever the size of the log. Then
   GET /api/events (SSE) delivers each new or changed report: help requests, the feed and the
   totals change at once; the aggregates are re-read (?parts=agg, cached server-side per change
   sequence) at most every few seconds. Individual markers are canvas-rendered circle markers;
   villages are coloured by restyling the page's own village layer, so no geometry is sent twice.
   Readiness: the first load is registered with floodpost.commandPost.waitFor, so map.js sets
   body[data-ready] only once these layers are drawn. Publishes floodpost.live. */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});
  var FP = floodpost.commandPost;
  var UI = floodpost.liveUI;
  if (!FP || !FP.map || !UI) return;
  var T = UI.T;
  var el = UI.el;
  var map = FP.map;

  var AGG_REFRESH_MS = 3000;
  var TICK_MS = 20000;
  var FEED_MAX = 100;
  var URGENCY_COLOUR = { critical: "#b00020", urgent: "#ef6c00", normal: "#f9a825" };
  var RESERVOIR_COLOUR = { seepage: "#ef6c00", danger: "#d50000", failed: "#000000" };

  map.createPane("fpLive");
  map.getPane("fpLive").style.zIndex = 640;
  var renderer = L.canvas({ pane: "fpLive", padding: 0.3 });

  var live = {
    state: null,
    seq: 0,
    skew: 0,
    me: null,
    requests: {},
    markers: {},
    source: null,
    filter: { kind: "", township: "" },
  };
  floodpost.live = live;
  live.reconnect = function () {
    connect();
  };

  var groups = {
    silent: L.layerGroup(),
    rescues: L.layerGroup(),
    shelters: L.layerGroup(),
    reservoirs: L.layerGroup(),
    requests: L.layerGroup(),
  };
  Object.keys(groups).forEach(function (k) {
    groups[k].addTo(map);
  });
  var overlays = {};
  overlays[T("layer.silent")] = groups.silent;
  overlays[T("layer.rescues")] = groups.rescues;
  overlays[T("layer.shelters")] = groups.shelters;
  overlays[T("layer.reservoirs")] = groups.reservoirs;
  overlays[T("layer.requests")] = groups.requests;
  L.control.layers(null, overlays, { collapsed: true, position: "topleft" }).addTo(map);

  function ll(lon, lat) {
    return FP.displayLatLng(lon, lat);
  }
  function serverNow() {
    return Date.now() / 1000 + live.skew;
  }
  function canAct() {
    return !!live.me && (live.me.role === "staff" || live.me.role === "commander");
  }

  var getJSON = floodpost.http.getJSON;

  // -- link state ------------------------------------------------------------------------------
  var linkEl = document.getElementById("fp-link");
  function setLink(state) {
    if (!linkEl) return;
    linkEl.dataset.state = state;
    linkEl.textContent =
      linkEl.dataset[state === "up" ? "up" : state === "signin" ? "signin" : "down"] || "";
    document.body.dataset.live = state;
  }

  // -- store health (issue 13): /healthz says "degraded" with the reason while a fault lasts ------
  var degradedEl = document.getElementById("fp-degraded");
  function checkHealth() {
    if (!degradedEl) return;
    getJSON("/healthz").then(
      function (h) {
        var bad = h && h.status === "degraded";
        degradedEl.hidden = !bad;
        degradedEl.textContent = bad
          ? degradedEl.dataset.text + (degradedEl.dataset[h.reason] || h.reason)
          : "";
        document.body.dataset.health = bad ? "degraded" : "ok";
      },
      function () {
        /* the link state already shows the server is unreachable */
      },
    );
  }
  checkHealth();
  setInterval(checkHealth, 10000);

  // -- villages: restyle the page's own layer by evacuation progress ---------------------------
  function progressColour(p) {
    if (p === null || p === undefined) return "#f1f1f1";
    var stops = [
      [0, [215, 48, 39]],
      [0.5, [254, 224, 139]],
      [1, [26, 152, 80]],
    ];
    var i = p < 0.5 ? 0 : 1;
    var a = stops[i],
      b = stops[i + 1];
    var t = (p - a[0]) / (b[0] - a[0]);
    var c = a[1].map(function (v, k) {
      return Math.round(v + (b[1][k] - v) * t);
    });
    return "rgb(" + c.join(",") + ")";
  }

  function drawVillages(villages) {
    var byCode = {};
    villages.forEach(function (v) {
      byCode[v.code] = v;
    });
    live.villages = byCode;
    var layer = FP.layers.villages;
    if (layer && layer.eachLayer) {
      layer.eachLayer(function (l) {
        var v = byCode[FP.plainText(l.feature.properties.code)];
        if (!v || !l.setStyle) return;
        l.setStyle({
          fillColor: progressColour(v.progress),
          fillOpacity: v.progress === null ? 0.25 : 0.6,
          color: v.downstream_of_danger ? "#d50000" : "#6f7d92",
          weight: v.downstream_of_danger ? 3 : 0.8,
        });
      });
    }
    groups.rescues.clearLayers();
    villages.forEach(function (v) {
      if (!v.rescued || v.lon === null) return;
      L.circleMarker(ll(v.lon, v.lat), {
        renderer: renderer,
        radius: 4 + Math.sqrt(v.rescued) / 2,
        color: "#0d47a1",
        weight: 1,
        fillColor: "#42a5f5",
        fillOpacity: 0.7,
      })
        .bindTooltip(
          UI.textTip([
            UI.names.villages[v.code],
            T("field.rescued") + ": " + UI.fmtNumber(v.rescued),
            T("field.evacuated") +
              ": " +
              UI.fmtNumber(v.evacuated) +
              " / " +
              T("field.at_risk") +
              ": " +
              UI.fmtNumber(v.at_risk),
          ]),
        )
        .addTo(groups.rescues);
    });
  }

  function drawShelters(shelters) {
    groups.shelters.clearLayers();
    shelters.forEach(function (s) {
      if (s.lon === null) return;
      var r = s.ratio || 0;
      var colour = r >= 1 ? "#7f0000" : r >= 0.9 ? "#d50000" : r >= 0.5 ? "#ef6c00" : "#2e7d32";
      L.circleMarker(ll(s.lon, s.lat), {
        renderer: renderer,
        radius: 5 + Math.sqrt(s.capacity || 0) / 5,
        color: "#ffffff",
        weight: 2,
        fillColor: colour,
        fillOpacity: 0.85,
      })
        .bindTooltip(
          UI.textTip([
            s.name,
            T("field.occupancy") +
              ": " +
              UI.fmtNumber(s.occupancy) +
              " / " +
              UI.fmtNumber(s.capacity),
          ]),
        )
        .addTo(groups.shelters);
    });
  }

  function drawReservoirs(reservoirs) {
    groups.reservoirs.clearLayers();
    reservoirs.forEach(function (r) {
      if (r.status === "normal" || r.lon === null) return;
      var marker = L.circleMarker(ll(r.lon, r.lat), {
        renderer: renderer,
        radius: r.status === "seepage" ? 11 : 15,
        color: RESERVOIR_COLOUR[r.status],
        weight: r.status === "seepage" ? 3 : 5,
        fill: false,
      });
      marker.bindPopup(function () {
        var box = el("div", "fp-popup");
        box.appendChild(
          el("h3", "fp-res-" + r.status, r.name + " · " + T("reservoir." + r.status)),
        );
        var table = el("table", "fp-popup-table");
        UI.row(table, T("field.received"), UI.fmtTime(r.since_ts));
        UI.row(
          table,
          T("field.downstream_left"),
          T("people", UI.fmtNumber(r.not_evacuated)) + " (" + r.downstream.length + ")",
        );
        box.appendChild(table);
        return box;
      });
      marker.addTo(groups.reservoirs);
    });
  }

  function drawSilent(zones) {
    groups.silent.clearLayers();
    var byId = {};
    zones.forEach(function (z) {
      byId[z.id] = z;
    });
    var layer = FP.layers.zones;
    if (!layer || !layer.eachLayer) return;
    layer.eachLayer(function (l) {
      var z = l.feature && byId[FP.plainText(l.feature.properties.id)];
      if (!z || !z.silent) return;
      var since =
        z.hours_since === null
          ? T("field.never")
          : T("field.silent_since") + " " + UI.fmtMinutes(z.hours_since * 60);
      L.geoJSON(l.toGeoJSON(), {
        style: {
          color: "#455a64",
          weight: 2,
          dashArray: "6 4",
          fillColor: "#455a64",
          fillOpacity: 0.28,
        },
        interactive: true,
      })
        .bindTooltip(UI.textTip([T("field.owner") + ": " + (z.owner || ""), since]), {
          sticky: true,
        })
        .addTo(groups.silent);
    });
  }

  // -- help requests ---------------------------------------------------------------------------
  function escalation(r) {
    var rules = live.state.rules;
    var now = serverNow();
    var reasons = [];
    if (r.state === "new" && now - r.received_ts > rules.escalate_unassigned_min * 60)
      reasons.push("unassigned");
    if (now - (r.state_ts || r.received_ts) > rules.escalate_stale_min * 60) reasons.push("stale");
    return reasons;
  }

  function requestStyle(r) {
    var age = r.age_min || 0;
    var escalated = r.escalated && r.escalated.length;
    return {
      renderer: renderer,
      radius: 7 + Math.min(r.people || 0, 30) / 3,
      fillColor: URGENCY_COLOUR[r.urgency] || URGENCY_COLOUR.normal,
      fillOpacity: r.state === "new" ? 0.95 : 0.6,
      color: escalated
        ? "#ff1744"
        : r.likely_duplicate_of
          ? "#7b1fa2"
          : age >= 60
            ? "#212121"
            : age >= 15
              ? "#ffd54f"
              : "#ffffff",
      weight: escalated ? 5 : 2,
      dashArray: r.likely_duplicate_of ? "4 3" : null,
    };
  }

  function upsertRequest(r) {
    if (r.kind && r.kind !== "help_request") return;
    var open = r.status !== "retracted" && r.state !== "resolved";
    var marker = live.markers[r.id];
    if (!open) {
      delete live.requests[r.id];
      if (marker) {
        groups.requests.removeLayer(marker);
        delete live.markers[r.id];
      }
      return;
    }
    var prev = live.requests[r.id] || {};
    var item = Object.assign({}, prev, r);
    item.age_min = Math.round((serverNow() - item.received_ts) / 6) / 10;
    item.escalated = escalation(item);
    live.requests[r.id] = item;
    if (item.lon === null || item.lon === undefined) return;
    if (!marker) {
      marker = L.circleMarker(ll(item.lon, item.lat), requestStyle(item));
      marker.bindPopup(
        function () {
          var current = live.requests[item.id] || item;
          return UI.requestPopup(current, {
            canAct: canAct(),
            done: function (updated) {
              handleReport(updated);
              marker.closePopup();
            },
          });
        },
        { maxWidth: 360, minWidth: 260 },
      );
      live.markers[r.id] = marker;
      marker.addTo(groups.requests);
    } else {
      marker.setLatLng(ll(item.lon, item.lat));
      marker.setStyle(requestStyle(item));
    }
  }

  function markDuplicates() {
    // The server flags likely duplicates at load; between loads, new requests near an open one
    // are flagged here by the same rule (radius and window from the server's settings).
    var rules = live.state.rules;
    var list = Object.keys(live.requests)
      .map(function (id) {
        return live.requests[id];
      })
      .sort(function (a, b) {
        return a.received_ts - b.received_ts;
      });
    list.forEach(function (r, i) {
      if (r.likely_duplicate_of || r.lon === null || r.lon === undefined) return;
      for (var j = 0; j < i; j++) {
        var o = list[j];
        if (
          o.lon === null ||
          o.lon === undefined ||
          Math.abs(o.occurred_ts - r.occurred_ts) > rules.duplicate_window_min * 60
        )
          continue;
        var dy = (o.lat - r.lat) * 111320;
        var dx = (o.lon - r.lon) * 111320 * Math.cos((r.lat * Math.PI) / 180);
        if (Math.sqrt(dx * dx + dy * dy) <= rules.duplicate_radius_m) {
          r.likely_duplicate_of = o.likely_duplicate_of || o.id;
          break;
        }
      }
    });
  }

  function tick() {
    if (!live.state) return;
    Object.keys(live.requests).forEach(function (id) {
      upsertRequest(live.requests[id]);
    });
    var totals = live.state.totals;
    totals.open_help_requests = Object.keys(live.requests).length;
    totals.escalated_help_requests = Object.keys(live.requests).filter(function (id) {
      return live.requests[id].escalated.length;
    }).length;
    totals.people_awaiting_help = Object.keys(live.requests).reduce(function (s, id) {
      return s + (live.requests[id].people || 0);
    }, 0);
    drawTotals();
  }

  // -- totals ----------------------------------------------------------------------------------
  function drawTotals() {
    var s = live.state;
    document.querySelectorAll("[data-total]").forEach(function (node) {
      var key = node.dataset.total;
      var v = s.totals[key];
      node.textContent = key === "latest_report_ts" ? UI.fmtTime(v) : UI.fmtNumber(v);
      if (node.parentNode && node.parentNode.classList.contains("fp-zero")) {
        node.parentNode.classList.toggle("fp-nonzero", !!v);
      }
    });
    document.querySelectorAll("[data-guarantee]").forEach(function (node) {
      var status = s.totals.guarantees[node.dataset.guarantee];
      node.dataset.status = status;
      node.querySelector("b").textContent = T("guarantee." + status);
    });
    document.querySelectorAll("[data-service]").forEach(function (node) {
      var key = node.dataset.service;
      node.textContent =
        key === "median_resolution_min"
          ? UI.fmtMinutes(s.service[key])
          : UI.fmtNumber(s.service[key]);
    });
  }

  function drawAggregates(s) {
    drawVillages(s.villages);
    drawShelters(s.shelters);
    drawReservoirs(s.reservoirs);
    drawSilent(s.zones);
  }

  // -- feed ------------------------------------------------------------------------------------
  var feedEl = document.getElementById("fp-feed");
  function feedMatches(r) {
    return (
      (!live.filter.kind || r.kind === live.filter.kind) &&
      (!live.filter.township || r.township_code === live.filter.township)
    );
  }

  function addToFeed(r, atTop) {
    if (!feedEl || !feedMatches(r)) return;
    var old = feedEl.querySelector('li[data-id="' + CSS.escape(r.id) + '"]');
    if (old) old.remove();
    var item = UI.feedItem(r);
    item.addEventListener("click", function () {
      flyTo(r);
    });
    item.addEventListener("keydown", function (e) {
      if (e.key === "Enter") flyTo(r);
    });
    if (atTop) feedEl.insertBefore(item, feedEl.firstChild);
    else feedEl.appendChild(item);
    while (feedEl.children.length > FEED_MAX) feedEl.removeChild(feedEl.lastChild);
  }

  function loadFeed() {
    var q =
      "?limit=" +
      FEED_MAX +
      (live.filter.kind ? "&kind=" + encodeURIComponent(live.filter.kind) : "") +
      (live.filter.township ? "&township=" + encodeURIComponent(live.filter.township) : "");
    return getJSON("/api/live/feed" + q).then(function (data) {
      if (!feedEl) return;
      feedEl.textContent = "";
      data.reports.forEach(function (r) {
        addToFeed(r, false);
      });
    });
  }

  function flyTo(r) {
    if (r.lon === null || r.lon === undefined) return;
    map.flyTo(ll(r.lon, r.lat), Math.max(map.getZoom(), 14), { duration: 0.8 });
    var marker = live.markers[r.id];
    if (marker)
      map.once("moveend", function () {
        marker.openPopup();
      });
  }

  function setupFilters() {
    var kind = document.getElementById("fp-feed-kind");
    var town = document.getElementById("fp-feed-township");
    if (town) {
      Object.keys(UI.names.townships)
        .sort()
        .forEach(function (code) {
          var opt = el("option", null, UI.names.townships[code]);
          opt.value = code;
          town.appendChild(opt);
        });
    }
    [kind, town].forEach(function (sel) {
      if (!sel) return;
      sel.addEventListener("change", function () {
        live.filter.kind = kind ? kind.value : "";
        live.filter.township = town ? town.value : "";
        loadFeed();
      });
    });
  }

  // -- deltas from the stream ------------------------------------------------------------------
  var refreshTimer = null;
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      getJSON("/api/live/state?parts=agg").then(
        function (s) {
          live.skew = s.now - Date.now() / 1000;
          var keep = live.state.totals;
          live.state = Object.assign(live.state, s, { requests: null });
          // Open-request counts follow the stream; the rest comes from the server.
          s.totals.open_help_requests = keep.open_help_requests;
          drawAggregates(s);
          tick();
        },
        function () {
          /* the next event retries */
        },
      );
    }, AGG_REFRESH_MS);
  }

  function applyCreate(r) {
    // A new report adds to the running totals at once; the exact aggregates follow shortly.
    var t = live.state.totals;
    var p = r.people || 0;
    if (r.kind === "evacuation") t.evacuated += p;
    else if (r.kind === "rescue") t.rescued += p;
    else if (r.kind === "incident" && r.subtype === "death") t.deaths += p;
    else if (r.kind === "incident" && r.subtype === "missing") t.missing += p;
    if (r.kind === "help_request") live.state.service.received += 1;
  }

  function handleReport(r) {
    if (!live.state) return;
    if (r.version === 1 && r.status === "active") applyCreate(r);
    if (r.kind === "help_request") {
      upsertRequest(r);
      markDuplicates();
      upsertRequest(live.requests[r.id] || r);
    }
    var t = live.state.totals;
    if (!t.latest_report_ts || r.received_ts > t.latest_report_ts)
      t.latest_report_ts = r.received_ts;
    addToFeed(r, true);
    tick();
    scheduleRefresh();
  }

  function connect() {
    if (live.source) live.source.close();
    var source = new EventSource("/api/events?after=" + live.seq);
    live.source = source;
    var wasDown = false;
    source.onopen = function () {
      setLink("up");
      if (wasDown) scheduleRefresh();
      wasDown = false;
    };
    source.onerror = function () {
      wasDown = true;
      setLink("down");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server refused): try again from the last event seen.
        setTimeout(function () {
          if (live.source === source) connect();
        }, 5000);
      }
    };
    source.addEventListener("report", function (e) {
      live.seq = Math.max(live.seq, parseInt(e.lastEventId, 10) || 0);
      handleReport(JSON.parse(e.data));
    });
    source.addEventListener("reset", function () {
      load().then(
        function () {},
        function () {},
      );
    });
    // Early warning (warnings.js) listens on the document, not on this stream.
    source.addEventListener("warning", function (e) {
      live.seq = Math.max(live.seq, parseInt(e.lastEventId, 10) || 0);
      document.dispatchEvent(new CustomEvent("floodpost:warning", { detail: JSON.parse(e.data) }));
    });
    // Orders and roll-call marks (orders.js, issue #10) and SMS kept (sms.js, issue #11): handed
    // on as document events.
    ["order", "household", "sms"].forEach(function (name) {
      source.addEventListener(name, function (e) {
        var data;
        try {
          data = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        document.dispatchEvent(new CustomEvent("floodpost:" + name, { detail: data }));
      });
    });
  }

  // -- first load ------------------------------------------------------------------------------
  // While the server's roll-ups warm up (start-up with a big log, issue 14 §5), /api/live/state
  // answers 503 warming_up with the progress and retry_after_s: show "warming up … 45%" and ask
  // again after that many seconds (http.getWhenWarm), so the first load resolves once the live
  // layer is there.
  var warmingEl = document.getElementById("fp-warming");
  function showWarming(progress) {
    if (!warmingEl) return;
    warmingEl.hidden = !progress;
    warmingEl.textContent = progress
      ? warmingEl.dataset.text + " " + Math.floor((Number(progress.fraction) || 0) * 100) + "%"
      : "";
    document.body.dataset.warming = progress ? "1" : "";
  }
  function load() {
    return floodpost.http.getWhenWarm("/api/live/state", showWarming).then(function (s) {
      live.state = s;
      live.seq = s.seq;
      live.skew = s.now - Date.now() / 1000;
      drawAggregates(s);
      groups.requests.clearLayers();
      live.requests = {};
      live.markers = {};
      s.requests.forEach(upsertRequest);
      drawTotals();
      return loadFeed();
    });
  }

  setupFilters();
  var panel = document.getElementById("cp-live");
  if (panel && panel.dataset.user) live.me = { name: panel.dataset.user, role: panel.dataset.role };
  var signedOut = panel && !panel.dataset.user;
  var first = (
    signedOut ? Promise.reject(Object.assign(new Error("401"), { status: 401 })) : load()
  ).then(
    function () {
      connect();
      setInterval(tick, TICK_MS);
    },
    function (err) {
      if (err && err.status === 401) {
        setLink("signin");
        var signin = document.getElementById("fp-signin");
        if (signin) signin.hidden = false;
      } else {
        setLink("down");
      }
    },
  );
  FP.waitFor(first);
})();
