/* Live command post, part 1: DOM builders for popups, tooltips and the feed, and the
   help-request lifecycle actions. Every piece of report text (note, contact, team, names) goes
   into the page with textContent or as a DOM node — never innerHTML — so a hostile report stays
   text. Loaded after map.js and before live.js; publishes floodpost.liveUI. */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});
  var FP = floodpost.commandPost;
  if (!FP) return;

  function T(key, n) {
    var text = FP.text("map.js.live." + key);
    return n === undefined ? text : text.replace("{n}", String(n));
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var lang = (FP.config && FP.config.lang) === "en" ? "en" : "zh-CN";

  function fmtNumber(n) {
    return n === null || n === undefined ? "–" : Number(n).toLocaleString(lang);
  }

  function fmtTime(ts) {
    if (!ts) return "–";
    return new Date(ts * 1000).toLocaleString(lang, {
      timeZone: "Asia/Shanghai",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
    });
  }

  function fmtMinutes(min) {
    if (min === null || min === undefined) return "–";
    if (min >= 2880) return T("days", Math.round(min / 144) / 10);
    return min >= 120 ? T("hours", Math.round(min / 6) / 10) : T("min", Math.round(min));
  }

  /** Names of places from the static layers (escaped there for folium; decoded as text). */
  var names = { villages: {}, townships: {} };
  function indexNames() {
    [
      ["villages", "code"],
      ["townships", "code"],
    ].forEach(function (pair) {
      var layer = FP.layers[pair[0]];
      if (!layer || !layer.eachLayer) return;
      layer.eachLayer(function (l) {
        var p = l.feature && l.feature.properties;
        if (p) names[pair[0]][FP.plainText(p[pair[1]])] = FP.plainText(p.name);
      });
    });
  }
  indexNames();

  function placeName(r) {
    return names.villages[r.village_code] || names.townships[r.township_code] || "";
  }

  function row(table, label, value) {
    if (value === null || value === undefined || value === "") return;
    var tr = el("tr");
    tr.appendChild(el("th", null, label));
    var td = el("td");
    if (value instanceof Node) td.appendChild(value);
    else td.textContent = String(value);
    tr.appendChild(td);
    table.appendChild(tr);
  }

  function kindLabel(r) {
    var label = T("kind." + r.kind);
    if (r.kind === "incident" && r.subtype) label += " · " + T("subtype." + r.subtype);
    return label;
  }

  // -- actions (the CSRF header is floodpost.http's business) -----------------------------------
  function post(url, body) {
    return floodpost.http.postJSON(url, body);
  }

  function button(text, cls, onClick) {
    var b = el("button", "fp-act " + (cls || ""), text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  /** Lifecycle controls for one open request; `done(report)` gets the updated report. */
  function actions(r, done) {
    var box = el("div", "fp-actions");
    var msg = el("p", "fp-act-msg");
    var base = "/api/reports/" + encodeURIComponent(r.id);
    function run(path, body) {
      msg.textContent = "";
      box.querySelectorAll("button").forEach(function (b) {
        b.disabled = true;
      });
      post(base + path, body).then(done, function (err) {
        msg.textContent = T("action.failed") + err.message;
        box.querySelectorAll("button").forEach(function (b) {
          b.disabled = false;
        });
      });
    }
    var assignRow = el("div", "fp-act-row");
    var team = el("input", "fp-act-team");
    team.type = "text";
    team.maxLength = 120;
    team.placeholder = T("action.assign_placeholder");
    assignRow.appendChild(team);
    assignRow.appendChild(
      button(T("action.assign"), "fp-act-assign", function () {
        run("/assign", { assignee: team.value.trim() || null });
      }),
    );
    box.appendChild(assignRow);
    if (r.state === "assigned") {
      box.appendChild(
        button(T("action.en_route"), "fp-act-enroute", function () {
          run("/en-route", {});
        }),
      );
    }
    var rescueRow = el("div", "fp-act-row");
    var n = el("input", "fp-act-n");
    n.type = "number";
    n.min = "1";
    n.max = "5000";
    n.value = String(Math.max(1, r.people || 1));
    rescueRow.appendChild(n);
    rescueRow.appendChild(
      button(T("action.rescued"), "fp-act-rescued", function () {
        run("/resolve", { resolution: "rescued", rescued: parseInt(n.value, 10) || 0 });
      }),
    );
    box.appendChild(rescueRow);
    box.appendChild(
      button(T("action.not_needed"), "fp-act-notneeded", function () {
        run("/resolve", { resolution: "not_needed" });
      }),
    );
    var dupRow = el("div", "fp-act-row");
    var dup = el("input", "fp-act-dup");
    dup.type = "text";
    dup.maxLength = 40;
    dup.value = r.likely_duplicate_of || "";
    dupRow.appendChild(dup);
    dupRow.appendChild(
      button(T("action.duplicate"), "fp-act-duplicate", function () {
        run("/resolve", { resolution: "duplicate", duplicate_of: dup.value.trim() });
      }),
    );
    box.appendChild(dupRow);
    box.appendChild(msg);
    return box;
  }

  // -- popups ----------------------------------------------------------------------------------
  function requestPopup(r, opts) {
    var box = el("div", "fp-popup fp-popup-request");
    var head = el(
      "h3",
      "fp-urgency-" + (r.urgency || "normal"),
      T("kind.help_request") +
        " · " +
        T("urgency." + (r.urgency || "normal")) +
        " · " +
        T("state." + (r.state || "new")),
    );
    box.appendChild(head);
    (r.escalated || []).forEach(function (why) {
      box.appendChild(el("p", "fp-escalated", T("escalated." + why)));
    });
    if (r.likely_duplicate_of) {
      box.appendChild(el("p", "fp-dup", T("duplicate") + r.likely_duplicate_of));
    }
    var table = el("table", "fp-popup-table");
    row(table, T("field.people"), r.people);
    row(table, T("field.note"), r.note);
    row(table, T("field.contact"), r.contact);
    row(table, T("field.received"), placeName(r) + " " + fmtTime(r.received_ts));
    row(table, T("field.age"), fmtMinutes(r.age_min));
    row(table, T("field.responsible"), r.responsible);
    row(table, T("field.assignee"), r.assignee);
    row(table, T("field.reporter"), r.reporter);
    box.appendChild(table);
    if (opts && opts.canAct && r.state !== "resolved") box.appendChild(actions(r, opts.done));
    return box;
  }

  function textTip(lines) {
    var box = el("div", "fp-tip");
    lines.forEach(function (line) {
      if (line) box.appendChild(el("div", null, line));
    });
    return box;
  }

  // -- the feed --------------------------------------------------------------------------------
  function feedItem(r) {
    var li = el("li", "fp-feed-item fp-kind-" + r.kind);
    li.dataset.id = r.id;
    li.dataset.kind = r.kind;
    li.tabIndex = 0;
    var top = el("div", "fp-feed-top");
    top.appendChild(el("time", null, fmtTime(r.received_ts)));
    top.appendChild(el("span", "fp-feed-kind", kindLabel(r)));
    if (r.people) top.appendChild(el("span", "fp-feed-people", T("people", r.people)));
    if (r.kind === "help_request") {
      top.appendChild(
        el(
          "span",
          "fp-feed-state fp-state-" + (r.state || "new"),
          T("state." + (r.state || "new")),
        ),
      );
    }
    if (r.status === "retracted") top.appendChild(el("span", "fp-feed-retracted", T("retracted")));
    if (r.escalated && r.escalated.length) top.appendChild(el("span", "fp-escalated", "!"));
    li.appendChild(top);
    var place = placeName(r);
    if (place) li.appendChild(el("div", "fp-feed-place", place));
    var text = r.note || r.team || "";
    if (text)
      li.appendChild(
        el("div", "fp-feed-note", text.length > 140 ? text.slice(0, 140) + "…" : text),
      );
    return li;
  }

  floodpost.liveUI = {
    T: T,
    el: el,
    fmtNumber: fmtNumber,
    fmtTime: fmtTime,
    fmtMinutes: fmtMinutes,
    names: names,
    placeName: placeName,
    requestPopup: requestPopup,
    textTip: textTip,
    feedItem: feedItem,
    post: post,
    row: row,
  };
})();
