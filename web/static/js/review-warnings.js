/* /review, early warning (issue 9): warnings raised per hour, stacked by level, drawn from the
   figures the page embeds (the same as GET /api/stats/warnings). Labels come from the page's
   i18n block; nothing here is user text. */
(function () {
  "use strict";

  var dataEl = document.getElementById("review-warnings-data");
  var canvas = document.getElementById("chart-warnings");
  if (!dataEl || !canvas || !window.Chart) return;
  var data = JSON.parse(dataEl.textContent);
  var textsEl = document.getElementById("review-i18n");
  var texts = textsEl ? JSON.parse(textsEl.textContent) : {};
  var LEVELS = [
    ["prepare", "#f9a825"],
    ["evacuate", "#d50000"],
    ["above_flood_limit", "#fbc02d"],
    ["above_design", "#ef6c00"],
    ["above_check", "#c62828"],
    ["overtopping", "#4a148c"],
  ];
  var rows = data.by_hour || [];
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: rows.map(function (r) {
        return r.hour.slice(5).replace("T", " ") + ":00";
      }),
      datasets: LEVELS.map(function (lv) {
        return {
          label: texts["review.js.warn." + lv[0]] || lv[0],
          backgroundColor: lv[1],
          data: rows.map(function (r) {
            return r[lv[0]] || 0;
          }),
        };
      }),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
  canvas.dataset.bars = String(rows.length);
})();
