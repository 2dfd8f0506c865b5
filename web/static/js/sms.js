/* SMS staff must answer by hand on the command-post map (issue #11): incoming texts nobody could
   act on — unreadable, from an unregistered number, refused — newest first.

   Data: GET /api/sms?unread=true (staff, commanders) at first and again, shortly after, whenever
   live.js re-dispatches an `event: sms` from the stream as the document event "floodpost:sms".
   Numbers and texts are the senders' own: everything goes in with textContent.
   Publishes window.floodpost.sms = {reload}. */
(function () {
  "use strict";

  var ns = (window.floodpost = window.floodpost || {});
  var FP = ns.commandPost;
  var panel = document.getElementById("cp-sms");
  if (!panel || !ns.http) return;
  var list = document.getElementById("fp-sms-list");
  var count = document.getElementById("fp-sms-count");
  var empty = document.getElementById("fp-sms-empty");
  var lang = FP && FP.config && FP.config.lang === "en" ? "en" : "zh-CN";
  var LIMIT = 50;
  var timer = null;

  function T(key) {
    return FP ? FP.text("map.js.sms." + key) : key;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
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

  function render(messages) {
    list.replaceChildren();
    messages.forEach(function (m) {
      var li = el("li", "fp-sms-item fp-sms-" + m.status);
      var head = el("div", "fp-sms-head");
      head.appendChild(el("span", "fp-sms-number", m.number));
      head.appendChild(el("span", "fp-sms-status", T("status." + m.status)));
      head.appendChild(el("time", "fp-sms-time", fmtTime(m.sent_ts || m.at_ts)));
      li.appendChild(head);
      li.appendChild(el("p", "fp-sms-text", m.text));
      list.appendChild(li);
    });
    count.textContent = String(messages.length);
    empty.hidden = messages.length > 0;
  }

  function reload() {
    return ns.http.getJSON("/api/sms?unread=true&limit=" + LIMIT).then(
      function (body) {
        render(body.messages || []);
      },
      function () {
        count.textContent = "!";
        count.title = T("load_failed");
      },
    );
  }

  document.addEventListener("floodpost:sms", function () {
    // A burst of messages (gammu hands over a backlog) reloads once.
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 500);
  });

  ns.sms = { reload: reload };
  var first = reload();
  if (FP && FP.waitFor) FP.waitFor(first);
})();
