/* Early warning on the command-post map (issue 9): the active-warnings panel, villages and
   reservoirs coloured by warning level, a 24-hour chart per gauge with its thresholds drawn.

   Data: GET /api/warnings?active=1 and GET /api/stations at first, then every warning that
   live.js re-dispatches from the event stream as the document event "floodpost:warning".
   Every name, station and note goes into the page with textContent, never innerHTML.
   Publishes window.floodpost.warnings = {state, reload, showChart, LEVEL_COLOUR}; the
   "issue evacuation order" button calls window.floodpost.orders.openDialog(villageCodes,
   warningIds) when the orders feature provides it, and is disabled otherwise. */
(function () {
  "use strict";

  var FP = window.floodpost.commandPost;
  var panel = document.getElementById("cp-warnings");
  if (!FP || !FP.map || !panel) return;
  var map = FP.map;
  var ns = (window.floodpost = window.floodpost || {});

  var LEVEL_COLOUR = {
    prepare: "#f9a825",
    evacuate: "#d50000",
    above_flood_limit: "#fbc02d",
    above_design: "#ef6c00",
    above_check: "#c62828",
    overtopping: "#4a148c",
  };
  var lang = (FP.config && FP.config.lang) === "en" ? "en" : "zh-CN";
  var STATIONS_REFRESH_MS = 60000;
  var live = document.getElementById("cp-live");
  var role = live ? live.dataset.role : "";

  function T(key, params) {
    var text = FP.text("map.js.warn." + key);
    Object.keys(params || {}).forEach(function (k) {
      text = text.split("{" + k + "}").join(String(params[k]));
    });
    return text;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmtTime(iso) {
    if (!iso) return "–";
    return new Date(iso).toLocaleString(lang, {
      timeZone: "Asia/Shanghai",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
    });
  }
  function fmt(n) {
    return n === null || n === undefined ? "–" : Number(n).toLocaleString(lang);
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      },
    );
  }
  function csrf() {
    return window.floodpost.http.csrfToken();
  }

  var state = { warnings: {}, stations: {}, blind: [] };

  // -- map: warned villages and reservoirs in their level's colour ----------------------------
  map.createPane("fpWarn");
  map.getPane("fpWarn").style.zIndex = 630;
  map.getPane("fpWarn").style.pointerEvents = "none";
  var overlay = L.layerGroup().addTo(map);
  var shapes = {}; // village code / reservoir id → the static layer's Leaflet layer
  ["villages", "reservoirs"].forEach(function (id) {
    var layer = FP.layers[id];
    if (!layer || !layer.eachLayer) return;
    layer.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (p) shapes[id + ":" + FP.plainText(id === "villages" ? p.code : p.id)] = l;
    });
  });

  function drawMap() {
    overlay.clearLayers();
    var worst = {};
    Object.keys(state.warnings).forEach(function (id) {
      var w = state.warnings[id];
      if (!w.active) return;
      var key = (w.target === "village" ? "villages:" : "reservoirs:") + w.code;
      if (!worst[key] || w.severity > worst[key].severity) worst[key] = w;
    });
    Object.keys(worst).forEach(function (key) {
      var w = worst[key],
        l = shapes[key],
        colour = LEVEL_COLOUR[w.level] || "#999";
      if (!l) return;
      if (l.getLatLngs) {
        L.polygon(l.getLatLngs(), {
          pane: "fpWarn",
          interactive: false,
          color: colour,
          weight: 3,
          fillColor: colour,
          fillOpacity: 0.35,
        }).addTo(overlay);
      } else if (l.getLatLng) {
        L.circleMarker(l.getLatLng(), {
          pane: "fpWarn",
          interactive: false,
          radius: 16,
          color: colour,
          weight: 4,
          fillOpacity: 0,
        }).addTo(overlay);
      }
    });
  }

  // -- the panel ------------------------------------------------------------------------------
  var list = document.getElementById("fp-warn-list");
  var countEl = document.getElementById("fp-warn-count");
  var emptyEl = document.getElementById("fp-warn-empty");

  function sorted() {
    return Object.keys(state.warnings)
      .map(function (k) {
        return state.warnings[k];
      })
      .filter(function (w) {
        return w.active;
      })
      .sort(function (a, b) {
        return b.severity - a.severity || a.since_ts - b.since_ts || (a.id < b.id ? -1 : 1);
      });
  }

  function windowsTable(w) {
    var table = el("table", "fp-warn-windows");
    var head = el("tr");
    if (w.target === "village") {
      [T("window", { n: "" }).trim() || "h", T("observed"), T("prepare"), T("evacuate")].forEach(
        function (t) {
          head.appendChild(el("th", null, t));
        },
      );
      table.appendChild(head);
      (w.windows || []).forEach(function (x) {
        var tr = el("tr", x.observed >= x.prepare ? "fp-hit" : null);
        tr.appendChild(el("td", null, T("window", { n: x.window_h })));
        tr.appendChild(el("td", null, fmt(x.observed)));
        tr.appendChild(el("td", null, fmt(x.prepare)));
        tr.appendChild(el("td", null, fmt(x.evacuate)));
        table.appendChild(tr);
      });
    } else {
      [T("level_m"), T("observed"), T("threshold")].forEach(function (t) {
        head.appendChild(el("th", null, t));
      });
      table.appendChild(head);
      var tr = el("tr", "fp-hit");
      tr.appendChild(el("td", null, T("level." + w.level)));
      tr.appendChild(el("td", null, fmt(w.observed)));
      tr.appendChild(el("td", null, fmt(w.threshold)));
      table.appendChild(tr);
      var lv = w.levels || {};
      [
        ["flood_limit", lv.flood_limit_m],
        ["design", lv.design_flood_m],
        ["check", lv.check_flood_m],
        ["crest", lv.crest_m],
      ].forEach(function (pair) {
        if (pair[1] === null || pair[1] === undefined) return;
        var row = el("tr");
        row.appendChild(el("td", null, T(pair[0])));
        row.appendChild(el("td", null, ""));
        row.appendChild(el("td", null, fmt(pair[1])));
        table.appendChild(row);
      });
    }
    return table;
  }

  function orderButton(w) {
    var btn = el("button", "btn btn-sm btn-danger fp-warn-order", T("order"));
    btn.type = "button";
    var orders = ns.orders;
    if (orders && typeof orders.openDialog === "function") {
      btn.addEventListener("click", function () {
        orders.openDialog((w.villages || []).slice(), [w.id]);
      });
    } else {
      btn.disabled = true;
      btn.title = T("order_unavailable");
    }
    return btn;
  }

  function liftForm(w, item) {
    var form = el("form", "fp-warn-lift");
    var input = el("input");
    input.name = "reason";
    input.required = true;
    input.maxLength = 2000;
    input.placeholder = T("lift_reason");
    input.setAttribute("aria-label", T("lift_reason"));
    var ok = el(
      "button",
      "btn btn-sm btn-outline-secondary fp-warn-lift-confirm",
      T("lift_confirm"),
    );
    ok.type = "submit";
    form.appendChild(input);
    form.appendChild(ok);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var reason = input.value.trim();
      if (!reason) return;
      fetch("/api/warnings/" + encodeURIComponent(w.id) + "/lift", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify({ reason: reason }),
      })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(upsert, function () {
          item.appendChild(el("p", "fp-warn-error", T("lift_failed")));
        });
    });
    return form;
  }

  function item(w) {
    var li = el("li", "fp-warn-item fp-lv-" + w.level);
    li.dataset.id = w.id;
    li.dataset.level = w.level;
    li.style.borderLeftColor = LEVEL_COLOUR[w.level] || "#999";
    var h = el("h3");
    var badge = el("span", "fp-warn-level", T("level." + w.level));
    badge.style.color = LEVEL_COLOUR[w.level] || "#333";
    h.appendChild(badge);
    h.appendChild(el("span", "fp-warn-name", w.name));
    h.appendChild(el("small", null, T("target." + w.target)));
    li.appendChild(h);
    var station = state.stations[w.station];
    var stationText =
      (w.station_name || w.station) + (station && station.silent ? " · " + T("silent") : "");
    li.appendChild(
      el(
        "p",
        "fp-warn-meta",
        T("station") + ": " + stationText + " · " + T("since") + ": " + fmtTime(w.since),
      ),
    );
    li.appendChild(windowsTable(w));
    if (w.zone_owner) {
      li.appendChild(
        el(
          "p",
          "fp-warn-meta fp-warn-owner",
          T("owner") +
            ": " +
            w.zone_owner +
            (w.zone_contact ? " · " + w.zone_contact : "") +
            " · " +
            T("population") +
            ": " +
            fmt(w.population),
        ),
      );
    }
    var actions = el("div", "fp-warn-actions");
    actions.appendChild(orderButton(w));
    var chart = el("button", "btn btn-sm btn-outline-primary fp-warn-chart-btn", T("chart"));
    chart.type = "button";
    chart.addEventListener("click", function () {
      showChart(w.station, w);
    });
    actions.appendChild(chart);
    if (role === "commander") {
      var lift = el("button", "btn btn-sm btn-outline-secondary fp-warn-lift-btn", T("lift"));
      lift.type = "button";
      lift.addEventListener("click", function () {
        if (!li.querySelector(".fp-warn-lift")) li.appendChild(liftForm(w, li));
      });
      actions.appendChild(lift);
    }
    li.appendChild(actions);
    return li;
  }

  function drawPanel() {
    var active = sorted();
    list.textContent = "";
    active.forEach(function (w) {
      list.appendChild(item(w));
    });
    countEl.textContent = String(active.length);
    emptyEl.hidden = active.length > 0;
    var blindBox = document.getElementById("fp-blind");
    var blindList = document.getElementById("fp-blind-list");
    blindList.textContent = "";
    state.blind.forEach(function (b) {
      blindList.appendChild(
        el(
          "li",
          null,
          T("blind", { name: b.name, km: b.distance_km, n: b.window_h, mm: b.observed }),
        ),
      );
    });
    blindBox.hidden = state.blind.length === 0;
  }

  function upsert(w) {
    if (!w || !w.id) return;
    state.warnings[w.id] = w;
    drawPanel();
    drawMap();
  }

  // -- 24-hour chart of a gauge with its thresholds -------------------------------------------
  var chart = null;
  function showChart(stationId, w) {
    var st = state.stations[stationId] || {};
    var endIso = (w && w.observed_at) || st.last_reading_at || new Date().toISOString();
    var end = new Date(endIso).getTime() + 3600 * 1000;
    var since = new Date(end - 24 * 3600 * 1000).toISOString();
    var until = new Date(end).toISOString();
    var url =
      "/api/readings?station=" +
      encodeURIComponent(stationId) +
      "&since=" +
      encodeURIComponent(since) +
      "&until=" +
      encodeURIComponent(until);
    return getJSON(url).then(function (data) {
      var fig = document.getElementById("fp-warn-chart");
      fig.hidden = false;
      document.getElementById("fp-warn-chart-title").textContent =
        (st.name || stationId) + " · " + T("chart");
      if (chart) chart.destroy();
      if (!window.Chart) return;
      var rows = data.readings;
      var labels = rows.map(function (r) {
        return fmtTime(r.time);
      });
      var datasets = [];
      function flat(value, label, colour) {
        datasets.push({
          type: "line",
          label: label,
          data: rows.map(function () {
            return value;
          }),
          borderColor: colour,
          borderDash: [6, 4],
          pointRadius: 0,
          fill: false,
          yAxisID: "y2",
        });
      }
      if (st.kind === "PP" || (rows[0] && rows[0].kind === "rain")) {
        var sum = 0;
        datasets.push({
          type: "bar",
          label: T("rain_mm"),
          data: rows.map(function (r) {
            return r.rain_mm;
          }),
          backgroundColor: "#64b5f6",
          yAxisID: "y",
        });
        datasets.push({
          type: "line",
          label: T("cumulative_mm"),
          data: rows.map(function (r) {
            sum += r.rain_mm || 0;
            return Math.round(sum * 10) / 10;
          }),
          borderColor: "#0d47a1",
          pointRadius: 0,
          fill: false,
          yAxisID: "y2",
        });
        var w24 =
          w &&
          (w.windows || []).filter(function (x) {
            return x.window_h === 24;
          })[0];
        var own = ((st.thresholds || {}).warn_mm || {})["24h"];
        if (!w24 && own) w24 = { prepare: own[0], evacuate: own[1] };
        if (w24) {
          flat(w24.prepare, T("prepare") + " 24h", LEVEL_COLOUR.prepare);
          flat(w24.evacuate, T("evacuate") + " 24h", LEVEL_COLOUR.evacuate);
        }
      } else {
        datasets.push({
          type: "line",
          label: T("level_m"),
          data: rows.map(function (r) {
            return r.level_m;
          }),
          borderColor: "#0d47a1",
          pointRadius: 0,
          fill: false,
          yAxisID: "y2",
        });
        var lv = (w && w.levels) || (st.thresholds || {}).levels || {};
        flat(lv.flood_limit_m, T("flood_limit"), LEVEL_COLOUR.above_flood_limit);
        flat(lv.design_flood_m, T("design"), LEVEL_COLOUR.above_design);
        flat(lv.check_flood_m, T("check"), LEVEL_COLOUR.above_check);
        flat(lv.crest_m, T("crest"), LEVEL_COLOUR.overtopping);
      }
      chart = new window.Chart(document.getElementById("fp-warn-canvas"), {
        data: { labels: labels, datasets: datasets },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            y: { position: "left", beginAtZero: true, display: datasets[0].type === "bar" },
            y2: { position: "right", grid: { drawOnChartArea: false } },
          },
          plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
        },
      });
      fig.dataset.points = String(rows.length);
    });
  }

  // -- gauges on the map: reporting (blue) or silent (grey); a click draws the chart ----------
  var gauges = L.layerGroup().addTo(map);
  function drawGauges(layer) {
    gauges.clearLayers();
    (layer.features || []).forEach(function (f) {
      var p = f.properties,
        c = f.geometry && f.geometry.coordinates;
      if (!c) return;
      var st = state.stations[p.id] || {};
      var marker = L.circleMarker(FP.displayLatLng(c[0], c[1]), {
        radius: p.kind === "PP" ? 4 : 3,
        weight: 1,
        color: "#263238",
        fillColor: st.silent ? "#9e9e9e" : "#1e88e5",
        fillOpacity: 0.9,
      });
      var tip = el("span", null, p.name + (st.silent ? " · " + T("silent") : ""));
      marker.bindTooltip(tip);
      marker.on("click", function () {
        showChart(p.id, null);
      });
      marker.addTo(gauges);
    });
  }

  // -- load and follow ------------------------------------------------------------------------
  function reload() {
    return Promise.all([
      getJSON("/api/warnings?active=1"),
      getJSON("/api/stations"),
      getJSON("/api/layers/stations"),
    ]).then(function (got) {
      state.warnings = {};
      got[0].warnings.forEach(function (w) {
        state.warnings[w.id] = w;
      });
      state.stations = {};
      got[1].stations.forEach(function (s) {
        state.stations[s.id] = s;
      });
      state.blind = got[1].blind_villages || [];
      drawPanel();
      drawMap();
      drawGauges(got[2]);
      panel.dataset.loaded = "1";
    });
  }

  // Gauge status (silent or not, blind villages) changes with time, not only with events.
  function refreshStations() {
    return getJSON("/api/stations").then(
      function (data) {
        data.stations.forEach(function (s) {
          state.stations[s.id] = s;
        });
        state.blind = data.blind_villages || [];
        drawPanel();
      },
      function () {
        /* next time */
      },
    );
  }

  document.addEventListener("floodpost:warning", function (e) {
    upsert(e.detail);
  });
  var signedIn = live && live.dataset.user;
  if (signedIn) {
    FP.waitFor(
      reload().catch(function () {
        /* shown as empty; the stream fills it */
      }),
    );
    setInterval(refreshStations, STATIONS_REFRESH_MS);
  }
  ns.warnings = {
    state: state,
    reload: reload,
    showChart: showChart,
    gauges: gauges,
    LEVEL_COLOUR: LEVEL_COLOUR,
  };
})();
