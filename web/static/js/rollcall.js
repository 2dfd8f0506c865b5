/* floodpost /report for field members: the evacuation orders of their zones with a 收到
 * (acknowledge) button, and the roll-call of their households, most vulnerable first.
 *
 * Both kinds of action go through the report outbox (report-outbox.js: IndexedDB, retried until
 * the server confirms), so they work offline and reach the server exactly once: the server treats
 * a repeated 收到 or an identical repeated mark as the same action. The last lists fetched are
 * kept in localStorage so the page still shows them with no network.
 * Every piece of server text goes in with textContent. Plain ES2017 (old Android WebViews).
 */
(function () {
  "use strict";

  var FP = (window.floodpost = window.floodpost || {});
  var body = document.body;
  var USER = body.getAttribute("data-user") || "";
  var LANG = body.getAttribute("data-lang") || "zh_CN";
  var TEXTS = JSON.parse(document.getElementById("report-texts").textContent);
  var NEEDS = ["bedridden", "disabled", "pregnant", "elderly", "child"];
  var MARKS = ["evacuated", "safe", "unreachable", "missing"];
  var CACHE = "fp-rollcall-v1:" + USER + ":";

  function t(key, fmt) {
    var s = TEXTS[key] || key;
    if (fmt)
      Object.keys(fmt).forEach(function (k) {
        s = s.split("{" + k + "}").join(String(fmt[k]));
      });
    return s;
  }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function $(id) {
    return document.getElementById(id);
  }
  function remember(key, value) {
    try {
      localStorage.setItem(CACHE + key, JSON.stringify(value));
    } catch (e) {
      /* full */
    }
  }
  function recall(key) {
    try {
      return JSON.parse(localStorage.getItem(CACHE + key) || "null");
    } catch (e) {
      return null;
    }
  }
  /* GET JSON; on any failure the copy kept from the last success, flagged `offline`. */
  function getJSON(url, key) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        remember(key, data);
        return { data: data, offline: false };
      })
      .catch(function () {
        var kept = recall(key);
        return kept ? { data: kept, offline: true } : null;
      });
  }
  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    try {
      return d.toLocaleString(LANG === "en" ? "en-GB" : "zh-CN", {
        timeZone: "Asia/Shanghai",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hour12: false,
      });
    } catch (e) {
      return d.toISOString();
    }
  }

  // Actions waiting in the outbox, so the page shows them as done before the server confirms.
  var pending = {};
  function loadPending() {
    return window.floodpost.outbox.all().then(
      function (recs) {
        pending = {};
        recs.forEach(function (r) {
          if (!r.url) return;
          if (r.url.indexOf("/ack") !== -1) pending["ack:" + r.expect_id] = r.state;
          else pending["rc:" + r.expect_id] = r.payload.status;
        });
      },
      function () {},
    );
  }

  // -- orders ------------------------------------------------------------------------------------
  function ackedByMe(order) {
    return order.villages.some(function (v) {
      return (v.acknowledged_by || []).some(function (a) {
        return a.user === USER;
      });
    });
  }

  function ack(order, button) {
    button.disabled = true;
    button.textContent = t("report.orders.acked_pending");
    window.floodpost.outbox.save(
      {},
      { label: t("report.orders.ack_label", { level: t("report.orders.level." + order.level) }) },
      {
        id: "ack:" + order.id,
        url: "/api/orders/" + encodeURIComponent(order.id) + "/ack",
        expect_id: order.id,
      },
    );
  }

  function orderItem(order) {
    var li = el("li", "fp-order level-" + order.level);
    li.setAttribute("data-order", order.id);
    var head = el("div", "head");
    head.appendChild(el("strong", "level", t("report.orders.level." + order.level)));
    head.appendChild(el("time", null, fmtTime(order.issued_at)));
    li.appendChild(head);
    li.appendChild(el("p", "msg", order.message));
    li.appendChild(
      el(
        "p",
        "villages",
        order.villages
          .map(function (v) {
            return v.name;
          })
          .join("、"),
      ),
    );
    li.appendChild(
      el(
        "p",
        "progress",
        t("report.orders.progress", {
          evacuated: order.evacuated,
          population: order.population,
          accounted: order.accounted,
          households: order.households,
        }),
      ),
    );
    if (order.status === "open") {
      var button = el("button", "btn primary ack");
      button.type = "button";
      if (ackedByMe(order)) {
        button.textContent = t("report.orders.acked");
        button.disabled = true;
      } else if (pending["ack:" + order.id]) {
        button.textContent = t("report.orders.acked_pending");
        button.disabled = true;
      } else {
        button.textContent = t("report.orders.ack");
        button.addEventListener("click", function () {
          ack(order, button);
        });
      }
      li.appendChild(button);
    } else {
      li.appendChild(el("p", "muted", t("report.orders.status." + order.status)));
    }
    return li;
  }

  function renderOrders(got) {
    var list = $("fp-orders");
    while (list.firstChild) list.removeChild(list.firstChild);
    var orders = got ? got.data.orders : [];
    orders.forEach(function (o) {
      list.appendChild(orderItem(o));
    });
    $("fp-orders-empty").hidden = orders.length > 0;
    $("fp-orders-offline").hidden = !(got && got.offline);
  }

  // -- roll-call ---------------------------------------------------------------------------------
  function mark(h, status, row) {
    window.floodpost.outbox.save(
      { status: status },
      { label: (h.head || h.id) + " · " + t("report.rollcall.status." + status) },
      {
        id: "rc:" + h.id + ":" + window.floodpost.outbox.uuid4(),
        url: "/api/rollcall/" + encodeURIComponent(h.id),
        expect_id: h.id,
      },
    );
    pending["rc:" + h.id] = status;
    row.setAttribute("data-status", status);
    row.querySelector(".status").textContent =
      t("report.rollcall.status." + status) + " · " + t("report.rollcall.pending");
  }

  function householdRow(h) {
    var li = el("li", "fp-household");
    var status = pending["rc:" + h.id] || h.status;
    li.setAttribute("data-household", h.id);
    li.setAttribute("data-status", status);
    var head = el("div", "head");
    head.appendChild(el("strong", null, h.head || ""));
    head.appendChild(el("span", "people", t("report.rollcall.people", { n: h.people })));
    if (h.phone) {
      var call = el("a", "tel", h.phone);
      call.href = "tel:" + String(h.phone).replace(/[^+0-9]/g, "");
      head.appendChild(call);
    }
    li.appendChild(head);
    var needs = (h.needs || []).filter(function (n) {
      return NEEDS.indexOf(n) !== -1;
    });
    if (needs.length) {
      li.appendChild(
        el(
          "p",
          "needs",
          needs
            .map(function (n) {
              return t("report.rollcall.need." + n);
            })
            .join(" · "),
        ),
      );
    }
    li.appendChild(
      el(
        "p",
        "status",
        t("report.rollcall.status." + status) +
          (pending["rc:" + h.id] ? " · " + t("report.rollcall.pending") : ""),
      ),
    );
    var buttons = el("div", "marks");
    MARKS.forEach(function (m) {
      var b = el("button", "btn small mark-" + m, t("report.rollcall.status." + m));
      b.type = "button";
      b.setAttribute("data-mark", m);
      b.addEventListener("click", function () {
        mark(h, m, li);
      });
      buttons.appendChild(b);
    });
    li.appendChild(buttons);
    return li;
  }

  var openCodes = {};
  function openVillage(code, box) {
    openCodes[code] = true;
    getJSON("/api/rollcall?village=" + encodeURIComponent(code), "village:" + code).then(
      function (got) {
        while (box.firstChild) box.removeChild(box.firstChild);
        if (!got) {
          box.appendChild(el("p", "muted", t("report.rollcall.unavailable")));
          return;
        }
        var r = got.data;
        box.appendChild(
          el(
            "p",
            "counts",
            t("report.rollcall.counts", {
              people: r.people,
              accounted: r.accounted,
              unaccounted: r.unaccounted,
            }),
          ),
        );
        var ol = el("ol", "fp-households");
        (r.households || []).forEach(function (h) {
          ol.appendChild(householdRow(h));
        });
        box.appendChild(ol);
      },
    );
  }

  function renderVillages(got) {
    var list = $("fp-rollcall");
    while (list.firstChild) list.removeChild(list.firstChild);
    var villages = got ? got.data.villages : [];
    villages.forEach(function (v) {
      var li = el("li", "fp-village");
      li.setAttribute("data-village", v.village);
      var button = el(
        "button",
        "btn village-btn",
        v.name +
          " · " +
          t("report.rollcall.counts", {
            people: v.people,
            accounted: v.accounted,
            unaccounted: v.unaccounted,
          }),
      );
      button.type = "button";
      var box = el("div", "village-roll");
      button.addEventListener("click", function () {
        openVillage(v.village, box);
      });
      li.appendChild(button);
      li.appendChild(box);
      list.appendChild(li);
      if (openCodes[v.village]) openVillage(v.village, box);
    });
    $("fp-rollcall-empty").hidden = villages.length > 0;
  }

  function refresh() {
    return loadPending().then(function () {
      return Promise.all([
        getJSON("/api/orders", "orders").then(renderOrders),
        getJSON("/api/rollcall", "villages").then(renderVillages),
      ]);
    });
  }

  FP.rollcall = { refresh: refresh };
  function start() {
    if (!$("fp-orders") || !window.floodpost.outbox) return;
    refresh();
    window.addEventListener("online", refresh);
    // A confirmed 收到 or mark: show the server's view.
    var sentBefore = 0;
    window.floodpost.outbox.onChange(function () {
      window.floodpost.outbox.all().then(
        function (recs) {
          var sent = recs.filter(function (r) {
            return r.url && r.state === "sent";
          }).length;
          if (sent !== sentBefore) {
            sentBefore = sent;
            refresh();
          }
        },
        function () {},
      );
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
