/* floodpost review page: charts (Chart.js), evacuation-flow map (Leaflet) and the time slider.
   Tables are rendered on the server; this script only adds what needs a browser. Text from the
   data (names) is only ever set with textContent or as DOM nodes, never as HTML. */
(function () {
  "use strict";

  var getJSON = window.floodpost.http.getJSON;
  // The statistics answer 503 warming_up while the server rebuilds its roll-ups (issue 14 §5):
  // ask again after the Retry-After it gives rather than show an error.
  var getStats = window.floodpost.http.getWhenWarm;

  var data = JSON.parse(document.getElementById("review-data").textContent);
  var texts = JSON.parse(document.getElementById("review-i18n").textContent);
  function t(key) {
    return texts["review.js." + key] || key;
  }
  var fmt = new Intl.NumberFormat(data.lang || "zh-CN");
  var charts = [];
  var pending = 3; // by-day chart, township chart, map

  function done() {
    pending -= 1;
    if (pending === 0) document.body.dataset.ready = "1";
  }

  function fail(err) {
    var p = document.createElement("p");
    p.className = "rv-error";
    var what = err.url ? err.url + ": " + err.status : err.message;
    p.textContent = t("load_error") + " (" + what + ")";
    document.querySelector(".rv-charts").appendChild(p);
  }

  function node(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }

  // -- charts ------------------------------------------------------------------------------
  Chart.defaults.animation = false; // print and screenshots must show the final picture
  Chart.defaults.maintainAspectRatio = false;

  getStats("/api/stats/by-day")
    .then(function (res) {
      var labels = res.rows.map(function (r) {
        return r.date.slice(5);
      });
      charts.push(
        new Chart(document.getElementById("chart-by-day"), {
          type: "bar",
          data: {
            labels: labels,
            datasets: [
              {
                label: t("evacuated"),
                data: res.rows.map(function (r) {
                  return r.evacuated;
                }),
                backgroundColor: "#1f5fbf",
                yAxisID: "y",
              },
              {
                label: t("rescued"),
                data: res.rows.map(function (r) {
                  return r.rescued;
                }),
                backgroundColor: "#d9822b",
                yAxisID: "y1",
              },
            ],
          },
          options: {
            scales: {
              y: { position: "left", title: { display: true, text: t("evacuated") } },
              y1: {
                position: "right",
                grid: { drawOnChartArea: false },
                title: { display: true, text: t("rescued") },
              },
            },
          },
        }),
      );
      done();
    })
    .catch(function (e) {
      fail(e);
      done();
    });

  (function townshipChart() {
    var rows = data.by_township.filter(function (r) {
      return !r.unassigned || r.evacuated;
    });
    charts.push(
      new Chart(document.getElementById("chart-by-township"), {
        type: "bar",
        data: {
          labels: rows.map(function (r) {
            return r.name || "—";
          }),
          datasets: [
            {
              label: t("evacuated"),
              data: rows.map(function (r) {
                return r.evacuated;
              }),
              backgroundColor: "#1f5fbf",
            },
          ],
        },
        options: {
          indexAxis: "y",
          plugins: { legend: { display: false } },
          scales: { y: { ticks: { autoSkip: false, font: { size: 10 } } } },
        },
      }),
    );
    done();
  })();

  // Charts keep their screen size when printing unless told to resize.
  // Chart.js's advice for printing: give the charts the printed size (half an A4 text width,
  // 70 mm high, in CSS pixels) before printing and their own size back afterwards.
  // The map likewise: Leaflet measures its box when told, and at "beforeprint" the page still
  // has its screen layout, so the printed size (180 x 125 mm) is set by hand.
  var PRINT_CHART_PX = [336, 264];
  var PRINT_MAP_PX = [680, 472];
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (c) {
      c.resize(PRINT_CHART_PX[0], PRINT_CHART_PX[1]);
    });
    var box = document.getElementById("review-map");
    box.style.width = PRINT_MAP_PX[0] + "px";
    box.style.height = PRINT_MAP_PX[1] + "px";
    fitMap();
  });
  window.addEventListener("afterprint", function () {
    charts.forEach(function (c) {
      c.resize();
    });
    var box = document.getElementById("review-map");
    box.style.width = "";
    box.style.height = "";
    fitMap();
  });
  var printBtn = document.getElementById("print-btn");
  if (printBtn)
    printBtn.addEventListener("click", function () {
      window.print();
    });

  // -- map ---------------------------------------------------------------------------------
  var map = L.map("review-map", { preferCanvas: true, zoomSnap: 0.25 });
  if (data.tile_url) {
    L.tileLayer(data.tile_url, { attribution: data.tile_attribution, maxZoom: 17 }).addTo(map);
  }
  var situationLayer = L.layerGroup().addTo(map);
  var countyBounds = null;
  function fitMap() {
    map.invalidateSize();
    if (countyBounds) map.fitBounds(countyBounds, { padding: [8, 8] });
  }
  var STATUS_COLOUR = { normal: "#2e7d32", seepage: "#f2a900", danger: "#c62828", failed: "#000" };

  Promise.all([
    getJSON("/api/layers/county"),
    getJSON("/api/layers/townships"),
    getStats("/api/stats/flows"),
  ])
    .then(function (res) {
      var county = L.geoJSON(res[0], { style: { color: "#14284b", weight: 2, fill: false } });
      county.addTo(map);
      L.geoJSON(res[1], {
        style: { color: "#7a869a", weight: 1, dashArray: "3", fillOpacity: 0.03 },
      }).addTo(map);
      countyBounds = county.getBounds();
      fitMap();
      var max = res[2].flows.reduce(function (m, f) {
        return Math.max(m, f.people);
      }, 1);
      res[2].flows.forEach(function (f) {
        var line = L.polyline(
          [
            [f.from[1], f.from[0]],
            [f.to[1], f.to[0]],
          ],
          {
            color: "#1f5fbf",
            opacity: 0.6,
            weight: 1 + (6 * f.people) / max,
          },
        ).addTo(map);
        line.bindTooltip(
          node(f.village + " → " + f.shelter + ": " + fmt.format(f.people) + " " + t("people")),
        );
      });
      done();
      setupSlider();
    })
    .catch(function (e) {
      fail(e);
      done();
    });

  // -- time slider: the situation at any moment -------------------------------------------------
  function hoursBetween(first, last) {
    var out = [];
    var start = Date.parse(first + ":00:00+08:00");
    var end = Date.parse(last + ":00:00+08:00");
    for (var ms = start; ms <= end; ms += 3600 * 1000) {
      var local = new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 13);
      out.push(local);
    }
    return out;
  }

  var hours = [];
  var seq = 0;
  var slider = document.getElementById("time-slider");
  var timer = null;

  function setupSlider() {
    if (!data.first_hour) return;
    hours = hoursBetween(data.first_hour, data.last_hour);
    slider.max = String(hours.length - 1);
    slider.value = String(hours.length - 1);
    slider.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(showSituation, 120);
    });
    showSituation();
  }

  function showSituation() {
    var hour = hours[Number(slider.value)];
    var moment = hour + ":59:59+08:00";
    document.getElementById("slider-time").textContent = hour.replace("T", " ") + ":59";
    var mine = ++seq;
    getStats("/api/stats/at?t=" + encodeURIComponent(moment))
      .then(function (s) {
        if (mine !== seq) return; // a later move of the slider already asked again
        document.getElementById("sit-evacuated").textContent = fmt.format(s.totals.evacuated);
        document.getElementById("sit-rescued").textContent = fmt.format(s.totals.rescued);
        document.getElementById("sit-open-help").textContent = fmt.format(s.open_help_requests);
        document.getElementById("sit-danger").textContent = fmt.format(s.reservoirs_in_danger);
        drawSituation(s);
        document.body.dataset.situationHour = s.hour;
      })
      .catch(fail);
  }

  function drawSituation(s) {
    situationLayer.clearLayers();
    s.villages.forEach(function (v) {
      if (v.lat == null) return;
      L.circleMarker([v.lat, v.lon], {
        radius: 2 + Math.sqrt(v.evacuated) / 4,
        color: "#d9822b",
        weight: 1,
        fillOpacity: 0.45,
      })
        .bindTooltip(node(v.name + ": " + fmt.format(v.evacuated) + " " + t("people")))
        .addTo(situationLayer);
    });
    s.shelters.forEach(function (sh) {
      if (sh.lat == null || !sh.occupancy) return;
      var full = sh.capacity ? sh.occupancy / sh.capacity : 0;
      L.rectangle(
        [
          [sh.lat - 0.006, sh.lon - 0.007],
          [sh.lat + 0.006, sh.lon + 0.007],
        ],
        {
          color: full > 0.9 ? "#c62828" : "#14284b",
          weight: 1,
          fillOpacity: 0.25 + 0.6 * full,
        },
      )
        .bindTooltip(
          node(
            t("shelter") +
              " " +
              sh.name +
              ": " +
              fmt.format(sh.occupancy) +
              " / " +
              fmt.format(sh.capacity),
          ),
        )
        .addTo(situationLayer);
    });
    s.reservoirs.forEach(function (r) {
      if (r.lat == null) return;
      L.circleMarker([r.lat, r.lon], {
        radius: r.status === "normal" ? 3 : 7,
        color: STATUS_COLOUR[r.status] || "#555",
        weight: 2,
        fillOpacity: 0.9,
      })
        .bindTooltip(node(t("reservoir") + " " + r.name + ": " + t("status." + r.status)))
        .addTo(situationLayer);
    });
  }
})();
