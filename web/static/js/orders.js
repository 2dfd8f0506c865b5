/* Evacuation orders on the command post and the review page (issue #10).
 *
 * window.floodpost.orders.openDialog(villageCodes, warningIds) opens the order dialog with those
 * villages (and warnings) filled in — the early-warning panel calls it; on the map a commander
 * can also pick villages by clicking them. Open orders are listed with their progress and drawn
 * as outlines on the map; people not accounted for in villages of open `evacuate` orders count
 * against 不死一人 (the "nobody dies" guarantee shows them as at risk). On /review the same data
 * (GET /api/orders) gives time to acknowledgement and to completion per order.
 * live.js re-dispatches the stream's `order`/`household` events as document events
 * "floodpost:order"/"floodpost:household"; this file listens to those.
 * Every piece of server or user text is set with textContent.
 */
(function () {
  "use strict";

  var FP = (window.floodpost = window.floodpost || {});
  var MAP = window.floodpost.commandPost || null;
  var textsEl = document.getElementById("fp-orders-texts");
  var TEXTS = textsEl ? JSON.parse(textsEl.textContent) : {};
  var REFRESH_MS = 30000;

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
  function csrf() {
    return window.floodpost.http.csrfToken();
  }
  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map
      .call(b, function (x) {
        return (x + 0x100).toString(16).slice(1);
      })
      .join("");
    return (
      h.slice(0, 8) +
      "-" +
      h.slice(8, 12) +
      "-" +
      h.slice(12, 16) +
      "-" +
      h.slice(16, 20) +
      "-" +
      h.slice(20)
    );
  }
  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": csrf(),
      },
      body: body == null ? undefined : JSON.stringify(body),
    }).then(function (r) {
      return r
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!r.ok) {
            var e = new Error(data.detail || "HTTP " + r.status);
            e.status = r.status;
            throw e;
          }
          return data;
        });
    });
  }
  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "zh-CN", {
      timeZone: "Asia/Shanghai",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
    });
  }

  // -- villages of the map ---------------------------------------------------------------------
  var villages = {}; // code -> {name, layer}
  function plain(s) {
    return MAP && MAP.plainText ? MAP.plainText(s) : String(s == null ? "" : s);
  }
  if (MAP && MAP.layers && MAP.layers.villages) {
    MAP.layers.villages.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (p && p.code) villages[p.code] = { name: plain(p.name), layer: l };
    });
  }
  function nameOf(code) {
    return villages[code] ? villages[code].name : code;
  }

  // -- the dialog ------------------------------------------------------------------------------
  var dialog = null;
  var draft = null; // {id, villages: [], warnings: []}: the id survives a failed send (idempotent)

  function buildDialog() {
    var d = el("dialog", "fp-order-dialog");
    d.id = "fp-order-dialog";
    var form = el("form");
    form.method = "dialog";
    form.appendChild(el("h2", null, t("orders.dialog.title")));
    var levels = el("fieldset", "fp-order-levels");
    levels.appendChild(el("legend", null, t("orders.dialog.level")));
    ["evacuate", "prepare"].forEach(function (lv, i) {
      var lab = el("label", "lv-" + lv);
      var input = el("input");
      input.type = "radio";
      input.name = "level";
      input.value = lv;
      input.checked = i === 0;
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(" " + t("orders.level." + lv)));
      levels.appendChild(lab);
    });
    form.appendChild(levels);
    form.appendChild(el("h3", null, t("orders.dialog.villages")));
    var chips = el("ul", "fp-order-chips");
    chips.id = "fp-order-villages";
    form.appendChild(chips);
    var add = el("input", "fp-order-add");
    add.id = "fp-order-add";
    add.setAttribute("list", "fp-order-village-names");
    add.placeholder = t("orders.dialog.add_village");
    var names = el("datalist");
    names.id = "fp-order-village-names";
    Object.keys(villages).forEach(function (code) {
      var o = el("option");
      o.value = villages[code].name;
      o.setAttribute("data-code", code);
      names.appendChild(o);
    });
    add.addEventListener("change", function () {
      var wanted = add.value.trim();
      Object.keys(villages).forEach(function (code) {
        if (villages[code].name === wanted || code === wanted) addVillage(code);
      });
      add.value = "";
    });
    form.appendChild(add);
    form.appendChild(names);
    var warn = el("p", "fp-order-warnings");
    warn.id = "fp-order-warnings";
    form.appendChild(warn);
    var label = el("label", "fp-order-message", t("orders.dialog.message"));
    var msg = el("textarea");
    msg.id = "fp-order-message";
    msg.rows = 4;
    msg.maxLength = 2000;
    label.appendChild(msg);
    form.appendChild(label);
    var err = el("p", "fp-order-error");
    err.id = "fp-order-error";
    err.setAttribute("role", "alert");
    err.hidden = true;
    form.appendChild(err);
    var actions = el("div", "fp-order-buttons");
    var submit = el("button", "primary", t("orders.dialog.submit"));
    submit.type = "button";
    submit.id = "fp-order-submit";
    submit.addEventListener("click", issue);
    var close = el("button", null, t("orders.dialog.close"));
    close.type = "button";
    close.addEventListener("click", function () {
      d.close();
    });
    actions.appendChild(submit);
    actions.appendChild(close);
    form.appendChild(actions);
    d.appendChild(form);
    document.body.appendChild(d);
    return d;
  }

  function drawChips() {
    var ul = $("fp-order-villages");
    while (ul.firstChild) ul.removeChild(ul.firstChild);
    draft.villages.forEach(function (code) {
      var li = el("li", null, nameOf(code) + " ");
      li.setAttribute("data-code", code);
      var x = el("button", "fp-chip-x", "×");
      x.type = "button";
      x.setAttribute("aria-label", t("orders.dialog.remove"));
      x.addEventListener("click", function () {
        draft.villages = draft.villages.filter(function (c) {
          return c !== code;
        });
        drawChips();
      });
      li.appendChild(x);
      ul.appendChild(li);
    });
    var w = $("fp-order-warnings");
    w.textContent = draft.warnings.length
      ? t("orders.dialog.warnings") + ": " + draft.warnings.join(", ")
      : "";
  }
  function addVillage(code) {
    if (draft && draft.villages.indexOf(code) === -1) {
      draft.villages.push(code);
      drawChips();
    }
  }

  function openDialog(villageCodes, warningIds) {
    if (!dialog) dialog = buildDialog();
    draft = { id: uuid4(), villages: [], warnings: (warningIds || []).map(String) };
    (villageCodes || []).forEach(function (c) {
      if (draft.villages.indexOf(String(c)) === -1) draft.villages.push(String(c));
    });
    $("fp-order-message").value = t("orders.dialog.default_message");
    $("fp-order-error").hidden = true;
    drawChips();
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    return dialog;
  }

  function issue() {
    var err = $("fp-order-error");
    if (!draft.villages.length) {
      err.textContent = t("orders.dialog.no_villages");
      err.hidden = false;
      return;
    }
    var level = dialog.querySelector("input[name=level]:checked").value;
    var body = {
      id: draft.id,
      level: level,
      villages: draft.villages.slice(),
      message: $("fp-order-message").value,
      warning_ids: draft.warnings.slice(),
    };
    $("fp-order-submit").disabled = true;
    send("POST", "/api/orders", body)
      .then(
        function (order) {
          dialog.close();
          stopPicking();
          upsert(order);
        },
        function (e) {
          err.textContent = t("orders.dialog.failed", { reason: e.message });
          err.hidden = false;
          // 409: the content changed under the same id; a new id makes it a new order.
          if (e.status === 409) draft.id = uuid4();
        },
      )
      .then(function () {
        $("fp-order-submit").disabled = false;
      });
  }

  // -- picking villages on the map -----------------------------------------------------------------
  var picking = null; // array of codes while picking
  function pickStyle(code, on) {
    var v = villages[code];
    if (v && v.layer.setStyle)
      v.layer.setStyle(
        on
          ? { weight: 4, color: "#c0392b", dashArray: "" }
          : { weight: 1, color: "#666", dashArray: "" },
      );
  }
  function showPicking() {
    var p = $("fp-order-picking");
    if (!p) return;
    p.hidden = picking === null;
    if (picking) p.textContent = t("orders.panel.picking", { n: picking.length });
  }
  function stopPicking() {
    if (picking)
      picking.forEach(function (c) {
        pickStyle(c, false);
      });
    picking = null;
    showPicking();
  }
  /* Which village a map click fell in: by geometry, whatever layer (zones, live overlays) lies
     on top and took the click. */
  function rings(latlngs, out) {
    if (latlngs.length && latlngs[0] && typeof latlngs[0].lat === "number") out.push(latlngs);
    else
      latlngs.forEach(function (x) {
        rings(x, out);
      });
    return out;
  }
  function inside(ring, p) {
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i],
        b = ring[j];
      if (
        a.lat > p.lat !== b.lat > p.lat &&
        p.lng < ((b.lng - a.lng) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lng
      )
        hit = !hit;
    }
    return hit;
  }
  function villageAt(latlng) {
    var found = null;
    Object.keys(villages).some(function (code) {
      var l = villages[code].layer;
      if (!l.getBounds || !l.getBounds().contains(latlng)) return false;
      if (
        rings(l.getLatLngs(), []).some(function (r) {
          return inside(r, latlng);
        })
      )
        found = code;
      return !!found;
    });
    return found;
  }
  if (MAP && MAP.map) {
    MAP.map.on("click", function (e) {
      if (picking === null) return;
      var code = villageAt(e.latlng);
      if (!code) return;
      var i = picking.indexOf(code);
      if (i === -1) picking.push(code);
      else picking.splice(i, 1);
      pickStyle(code, i === -1);
      showPicking();
    });
  }

  // -- orders: list, map outlines, at-risk count -------------------------------------------------
  var orders = {};
  var outlines = MAP && MAP.map && window.L ? window.L.layerGroup().addTo(MAP.map) : null;

  function atRisk() {
    return Object.keys(orders).reduce(function (s, id) {
      var o = orders[id];
      return s + (o.status === "open" && o.level === "evacuate" ? o.at_risk || 0 : 0);
    }, 0);
  }

  function drawOutlines() {
    if (!outlines) return;
    outlines.clearLayers();
    Object.keys(orders).forEach(function (id) {
      var o = orders[id];
      if (o.status !== "open") return;
      o.villages.forEach(function (v) {
        var src = villages[v.code];
        if (!src || !src.layer.feature) return;
        var shape = window.L.geoJSON(src.layer.feature.geometry, {
          interactive: false,
          coordsToLatLng: function (c) {
            return MAP.displayLatLng
              ? window.L.latLng(MAP.displayLatLng(c[0], c[1]))
              : window.L.latLng(c[1], c[0]);
          },
          style: {
            fill: false,
            weight: 3,
            dashArray: v.done ? "" : "6 4",
            color: v.done ? "#2e7d32" : o.level === "evacuate" ? "#c0392b" : "#e67e22",
          },
        });
        outlines.addLayer(shape);
      });
    });
  }

  function orderItem(o) {
    var li = el("li", "fp-order-item level-" + o.level + " status-" + o.status);
    li.setAttribute("data-order", o.id);
    var head = el("div", "head");
    head.appendChild(el("strong", null, t("orders.level." + o.level)));
    head.appendChild(el("span", "st", t("orders.status." + o.status)));
    head.appendChild(el("time", null, fmtTime(o.issued_at)));
    li.appendChild(head);
    li.appendChild(el("p", "msg", o.message));
    li.appendChild(
      el(
        "p",
        "villages",
        o.villages
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
        t("orders.progress", {
          evacuated: o.evacuated,
          population: o.population,
          acknowledged: o.acknowledged,
          villages: o.villages.length,
          done: o.villages_done,
        }),
      ),
    );
    if (o.status === "open" && o.at_risk)
      li.appendChild(el("p", "risk", t("orders.at_risk", { n: o.at_risk })));
    var panel = $("cp-orders");
    if (o.status === "open" && panel && panel.dataset.role === "commander") {
      var cancel = el("button", "fp-order-cancel", t("orders.cancel"));
      cancel.type = "button";
      cancel.addEventListener("click", function () {
        if (!window.confirm(t("orders.cancel_confirm"))) return;
        send("POST", "/api/orders/" + encodeURIComponent(o.id) + "/cancel", {}).then(
          upsert,
          function () {},
        );
      });
      li.appendChild(cancel);
    }
    return li;
  }

  function drawList() {
    var list = $("fp-orders-list");
    if (!list) return;
    var all = Object.keys(orders)
      .map(function (id) {
        return orders[id];
      })
      .sort(function (a, b) {
        return b.issued_ts - a.issued_ts;
      });
    while (list.firstChild) list.removeChild(list.firstChild);
    all.forEach(function (o) {
      list.appendChild(orderItem(o));
    });
    $("fp-orders-empty").hidden = all.length > 0;
    var n = atRisk();
    var risk = $("fp-orders-risk");
    risk.hidden = !n;
    risk.textContent = t("orders.panel.at_risk", { n: n });
    guarantee();
    drawOutlines();
  }

  /* 不死一人: people unaccounted for in an evacuate village are at risk. live.js redraws the
     guarantee from its own state; this keeps the stricter reading on top of it. */
  function guarantee() {
    var node = document.querySelector('[data-guarantee="nobody_dies"]');
    if (!node) return;
    var n = atRisk();
    if (n && node.dataset.status === "kept") {
      node.dataset.status = "at_risk";
      node.dataset.orders = "1";
      var b = node.querySelector("b");
      if (b) b.textContent = t("orders.at_risk", { n: n });
    }
  }
  var gnode = document.querySelector('[data-guarantee="nobody_dies"]');
  if (gnode && window.MutationObserver) {
    new MutationObserver(function () {
      if (gnode.dataset.status === "kept") guarantee();
    }).observe(gnode, { attributes: true, attributeFilter: ["data-status"] });
  }

  function upsert(o) {
    orders[o.id] = o;
    drawList();
  }
  function load() {
    return fetch("/api/orders", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        return r.ok ? r.json() : { orders: [] };
      })
      .then(
        function (data) {
          orders = {};
          data.orders.forEach(function (o) {
            orders[o.id] = o;
          });
          drawList();
          drawReview(data.orders);
        },
        function () {},
      );
  }

  // -- /review: time to acknowledgement and to completion -------------------------------------------
  function minutes(seconds) {
    return seconds == null
      ? t("orders.review.never")
      : t("orders.review.minutes", { n: Math.round(seconds / 60) });
  }
  function drawReview(list) {
    var table = $("fp-review-orders");
    if (!table) return;
    var tbody = table.querySelector("tbody");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    list.forEach(function (o) {
      var tr = el("tr");
      tr.setAttribute("data-order", o.id);
      [
        fmtTime(o.issued_at),
        t("orders.level." + o.level),
        String(o.villages.length),
        minutes(o.first_ack_after_s),
        minutes(o.all_ack_after_s),
        minutes(o.completed_after_s),
        o.villages
          .filter(function (v) {
            return !v.done;
          })
          .map(function (v) {
            return v.name;
          })
          .join("、"),
      ].forEach(function (text) {
        tr.appendChild(el("td", null, text));
      });
      tbody.appendChild(tr);
    });
    var empty = $("fp-review-orders-empty");
    if (empty) empty.hidden = list.length > 0;
  }

  FP.orders = { openDialog: openDialog, reload: load, atRisk: atRisk };

  var pickBtn = $("fp-order-pick");
  if (pickBtn)
    pickBtn.addEventListener("click", function () {
      if (picking === null) {
        picking = [];
        showPicking();
      } else stopPicking();
    });
  var newBtn = $("fp-order-new");
  if (newBtn)
    newBtn.addEventListener("click", function () {
      openDialog(picking || [], []);
    });

  document.addEventListener("floodpost:order", function (e) {
    if (e.detail && e.detail.id) upsert(e.detail);
  });
  var pendingReload = null;
  document.addEventListener("floodpost:household", function () {
    if (pendingReload) return;
    pendingReload = setTimeout(function () {
      pendingReload = null;
      load();
    }, 1000);
  });
  var first = load();
  if (MAP && MAP.waitFor) MAP.waitFor(first);
  setInterval(load, REFRESH_MS);
})();
