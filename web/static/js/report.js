/* The field-report form: kind-specific fields, saving into the outbox, and the outbox list.
 * All user text is put on the page with textContent, never innerHTML.
 */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});

  var TEXTS = JSON.parse(document.getElementById("report-texts").textContent);
  var body = document.body;
  var LANG = body.getAttribute("data-lang") || "zh_CN";
  var RESERVOIR_SUBTYPES = ["seepage", "piping", "overtopping", "dam_damage"];
  var SHOWN_SENT = 30; // older sent reports are kept in the phone but not listed
  var lastSaved = null;

  function $(id) {
    return document.getElementById(id);
  }

  function t(key, fmt) {
    var s = Object.prototype.hasOwnProperty.call(TEXTS, key) ? TEXTS[key] : key;
    if (fmt) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(fmt, name) ? String(fmt[name]) : m;
      });
    }
    return s;
  }

  function kind() {
    var c = document.querySelector("input[name=kind]:checked");
    return c ? c.value : "";
  }

  function radio(name) {
    var c = document.querySelector("input[name=" + name + "]:checked");
    return c ? c.value : "";
  }

  /* Show only the fields of the chosen kind (and subtype). */
  function refreshKind() {
    var k = kind();
    var st = $("subtype").value;
    var blocks = document.querySelectorAll("[data-kinds]");
    for (var i = 0; i < blocks.length; i++) {
      var el = blocks[i];
      var show = el.getAttribute("data-kinds").split(" ").indexOf(k) !== -1;
      var sts = el.getAttribute("data-subtypes");
      if (show && sts) show = sts.split(" ").indexOf(st) !== -1;
      el.hidden = !show;
    }
    var label = "report.people." + k;
    if (k === "incident" && (st === "death" || st === "missing")) label = "report.people." + st;
    $("people-label").textContent = t(label);
  }

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  /* Shelters and reservoirs of the chosen township, or all of them grouped by township. */
  function refreshChoosers() {
    var places = floodpost.location.places();
    if (!places) return;
    var code = floodpost.location.place().township_code;
    [
      ["shelter", "shelters"],
      ["reservoir", "reservoirs"],
    ].forEach(function (pair) {
      var sel = $(pair[0]);
      var keep = sel.value;
      while (sel.firstChild) sel.removeChild(sel.firstChild);
      sel.appendChild(option("", t("report.place.choose")));
      places.townships.forEach(function (tw) {
        if (code && tw.code !== code) return;
        var items = tw[pair[1]];
        if (!items.length) return;
        var group = document.createElement("optgroup");
        group.label = floodpost.location.nameOf(tw);
        items.forEach(function (it) {
          var label = it.name;
          if (pair[0] === "shelter" && it.capacity)
            label += " (" + t("report.shelter.capacity", { n: it.capacity }) + ")";
          group.appendChild(option(it.id, label));
        });
        sel.appendChild(group);
      });
      sel.value = keep;
      if (sel.value !== keep) sel.value = "";
    });
  }

  function isoLocal(d) {
    function p(n) {
      return (n < 10 ? "0" : "") + n;
    }
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return (
      d.getFullYear() +
      "-" +
      p(d.getMonth() + 1) +
      "-" +
      p(d.getDate()) +
      "T" +
      p(d.getHours()) +
      ":" +
      p(d.getMinutes()) +
      ":" +
      p(d.getSeconds()) +
      sign +
      p(Math.floor(off / 60)) +
      ":" +
      p(off % 60)
    );
  }

  function buildPayload() {
    var k = kind();
    var place = floodpost.location.place();
    var occurred = $("occurred").value ? new Date($("occurred").value) : new Date();
    if (isNaN(occurred.getTime())) occurred = new Date();
    var people = parseInt($("people").value, 10);
    var p = {
      id: floodpost.outbox.uuid4(),
      kind: k,
      occurred_at: isoLocal(occurred),
      people: isFinite(people) && people > 0 ? Math.min(people, 5000) : 0,
      note: $("note").value.trim(),
    };
    if (place.lon !== null) {
      p.lon = place.lon;
      p.lat = place.lat;
      if (place.accuracy_m !== null) p.accuracy_m = place.accuracy_m;
    }
    if (place.village_code) p.village_code = place.village_code;
    if (k === "evacuation" && $("shelter").value) p.shelter_id = $("shelter").value;
    if (k === "rescue" && $("team").value.trim()) p.team = $("team").value.trim();
    if (k === "incident") {
      p.subtype = $("subtype").value || "other";
      if (RESERVOIR_SUBTYPES.indexOf(p.subtype) !== -1) {
        if ($("reservoir").value) p.reservoir_id = $("reservoir").value;
        if (radio("reservoir_status")) p.reservoir_status = radio("reservoir_status");
      }
    }
    if (k === "help_request") {
      p.urgency = radio("urgency") || "normal";
      if ($("contact").value.trim()) p.contact = $("contact").value.trim();
    }
    return p;
  }

  function showError(key) {
    var el = $("form-error");
    el.textContent = key ? t(key) : "";
    el.hidden = !key;
  }

  function resetDetails() {
    $("people").value = "0";
    ["note", "team", "contact", "occurred"].forEach(function (id) {
      $(id).value = "";
    });
    $("subtype").value = "other";
    $("reservoir").value = "";
    $("shelter").value = "";
    var rs = document.querySelectorAll("input[name=reservoir_status]");
    for (var i = 0; i < rs.length; i++) rs[i].checked = false;
    refreshKind();
  }

  function onSubmit(ev) {
    ev.preventDefault();
    if (!kind()) {
      showError("report.error.kind");
      return;
    }
    var place = floodpost.location.place();
    if (place.lon === null && !place.village_code) {
      showError("report.error.place");
      return;
    }
    showError(null);
    var payload = buildPayload();
    var kindLabel = t("report.kind." + payload.kind);
    if (payload.kind === "incident") kindLabel += " · " + t("report.subtype." + payload.subtype);
    // Who saved it: on a phone shared by several cadres the list says whose report is whose.
    var meta = {
      kind_label: kindLabel,
      place_label: floodpost.location.describe(),
      user: body.getAttribute("data-user"),
    };
    floodpost.outbox.save(payload, meta).then(
      function (rec) {
        lastSaved = rec.id;
        resetDetails();
        render();
      },
      function () {
        showError("report.error.storage");
      },
    );
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso || "";
    try {
      return d.toLocaleString(LANG === "en" ? "en-GB" : "zh-CN", {
        timeZone: "Asia/Shanghai",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        hour12: false,
      });
    } catch (e) {
      return d.toISOString();
    }
  }

  function detailOf(rec) {
    if (rec.state === "sent") {
      return t("report.sent.detail", {
        time: fmtTime(rec.received_at),
        owner: rec.responsible || t("report.sent.no_owner"),
      });
    }
    if (rec.state === "refused") return t("report.refused.detail", { reason: rec.reason || "" });
    var why = {
      auth: "report.queued.auth",
      forbidden: "report.queued.forbidden",
      server: "report.queued.server",
      not_confirmed: "report.queued.not_confirmed",
      network: "report.queued.network",
    }[rec.why];
    return why ? t(why) : t("report.queued.detail", { n: rec.attempts || 0 });
  }

  function item(rec) {
    var li = document.createElement("li");
    li.className = "item state-" + rec.state;
    li.setAttribute("data-id", rec.id);
    li.setAttribute("data-state", rec.state);
    var head = document.createElement("div");
    head.className = "head";
    var badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = t("report.state." + rec.state);
    var what = document.createElement("strong");
    var meta = rec.meta || {};
    what.textContent =
      (meta.kind_label || rec.payload.kind) +
      " · " +
      t("report.people.count", { n: rec.payload.people });
    var when = document.createElement("time");
    when.textContent = fmtTime(rec.payload.occurred_at);
    head.appendChild(badge);
    head.appendChild(what);
    head.appendChild(when);
    li.appendChild(head);
    var whereText = meta.place_label || "";
    if (meta.user && meta.user !== body.getAttribute("data-user")) {
      whereText += (whereText ? " · " : "") + meta.user;
    }
    if (whereText) {
      var where = document.createElement("div");
      where.className = "where";
      where.textContent = whereText;
      li.appendChild(where);
    }
    var detail = document.createElement("div");
    detail.className = "detail";
    detail.textContent = detailOf(rec);
    li.appendChild(detail);
    if (rec.state === "queued") {
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn small";
      retry.textContent = t("report.retry_now");
      retry.addEventListener("click", function () {
        floodpost.outbox.flush(true);
      });
      li.appendChild(retry);
    }
    return li;
  }

  var rendering = false;
  var renderAgain = false;
  function render() {
    if (rendering) {
      renderAgain = true;
      return;
    }
    rendering = true;
    floodpost.outbox
      .all()
      .then(function (recs) {
        recs.reverse(); // newest first
        var list = $("outbox-list");
        var frag = document.createDocumentFragment();
        var sent = 0;
        var pending = 0;
        recs.forEach(function (rec) {
          if (rec.state === "queued") pending++;
          if (rec.state === "sent" && ++sent > SHOWN_SENT) return;
          frag.appendChild(item(rec));
        });
        while (list.firstChild) list.removeChild(list.firstChild);
        list.appendChild(frag);
        $("outbox-empty").hidden = recs.length > 0;
        $("pending").textContent = pending ? t("report.outbox.pending", { n: pending }) : "";
        body.setAttribute("data-pending", String(pending));
        var st = floodpost.outbox.status;
        $("auth-banner").hidden = !(pending && (st.auth || st.forbidden));
        var info = $("form-info");
        var last = null;
        recs.forEach(function (r) {
          if (r.id === lastSaved) last = r;
        });
        if (last) {
          info.hidden = false;
          info.className = "info state-" + last.state;
          info.textContent = t("report.state." + last.state) + " · " + detailOf(last);
        }
      })
      .catch(function () {})
      .then(function () {
        rendering = false;
        if (renderAgain) {
          renderAgain = false;
          render();
        }
      });
  }

  function refreshNet() {
    var on = navigator.onLine !== false;
    var net = $("net");
    net.textContent = on ? t("report.net.online") : t("report.net.offline_short");
    net.setAttribute("data-online", on ? "1" : "0");
    $("offline-banner").hidden = on;
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker
      .register("/report/sw.js", { scope: "/report" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function () {
        body.setAttribute("data-offline-ready", "1");
        $("net").title = t("report.offline_ready");
      })
      .catch(function () {
        /* no worker (http on a LAN address): the outbox still works */
      });
  }

  function init() {
    var radios = document.querySelectorAll("input[name=kind]");
    for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", refreshKind);
    $("subtype").addEventListener("change", refreshKind);
    var steps = document.querySelectorAll("[data-step]");
    for (var j = 0; j < steps.length; j++) {
      steps[j].addEventListener("click", function () {
        var v = parseInt($("people").value, 10) || 0;
        v = Math.max(0, Math.min(5000, v + parseInt(this.getAttribute("data-step"), 10)));
        $("people").value = String(v);
      });
    }
    $("report-form").addEventListener("submit", onSubmit);
    window.addEventListener("online", refreshNet);
    window.addEventListener("offline", refreshNet);
    refreshNet();
    refreshKind();
    floodpost.outbox.onChange(render);
    var loc = floodpost.location.init({
      t: t,
      lang: LANG,
      leafletJs: body.getAttribute("data-leaflet-js"),
      leafletCss: body.getAttribute("data-leaflet-css"),
      tileUrl: body.getAttribute("data-tile-url"),
      tileAttribution: body.getAttribute("data-tile-attribution"),
      onChange: refreshChoosers,
    });
    loc.then(refreshChoosers);
    render();
    floodpost.outbox.start();
    registerWorker();
    loc.then(function () {
      body.setAttribute("data-ready", "1");
    });
  }

  init();
})();
