/* floodpost's one HTTP helper and the root of the one global namespace, window.floodpost.

   Load this file first on every page (web/templates/_base.html does; the standalone /report page
   lists it itself). Every other floodpost script publishes what it shares under window.floodpost
   (floodpost.gcj02, .commandPost, .liveUI, .live, .location, .outbox, ...) and never as a global
   of its own:

     var floodpost = (window.floodpost = window.floodpost || {});
     floodpost.myFeature = { ... };

   API (same-origin requests with the session cookie; JSON in and out):

     floodpost.http.csrfToken()          -> the fp_csrf cookie's value ("" if none)
     floodpost.http.jsonHeaders(extra)   -> {Accept, Content-Type: application/json,
                                             X-CSRF-Token} merged with `extra`, for a fetch of
                                             your own (timeouts, status handling)
     floodpost.http.getJSON(url)         -> Promise of the parsed body
     floodpost.http.postJSON(url, body)  -> Promise of the parsed body (POST, CSRF header sent)
     floodpost.http.sendJSON(method, url, body) -> the same for PATCH, PUT, DELETE

     floodpost.http.getWhenWarm(url, onWarming) -> Promise of the parsed body; while the server's
                                             roll-ups warm up (503 warming_up, issue 14 §5) it
                                             calls onWarming(progress) and asks again after the
                                             answer's retry_after_s, then onWarming(null)

   A request that fails rejects with an Error whose `status` is the HTTP status (0: no answer),
   `body` the server's JSON error ({error, detail, field, ...}) or null, `url` the URL; its
   message is the server's `detail` when there is one, else "<url>: <status>".
   Every unsafe request authenticated by the cookie must carry X-CSRF-Token (floodpost.web.security):
   use postJSON/sendJSON or jsonHeaders(), never a copy of the cookie regex. */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)fp_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function jsonHeaders(extra) {
    var headers = {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-CSRF-Token": csrfToken(),
    };
    Object.keys(extra || {}).forEach(function (k) {
      headers[k] = extra[k];
    });
    return headers;
  }

  function failure(url, status, body) {
    var detail = body && typeof body === "object" && body.detail ? String(body.detail) : "";
    var error = new Error(detail || url + ": " + status);
    error.status = status;
    error.body = body && typeof body === "object" ? body : null;
    error.url = url;
    return error;
  }

  function answer(url, res) {
    return res
      .json()
      .catch(function () {
        return null;
      })
      .then(function (body) {
        if (!res.ok) throw failure(url, res.status, body);
        return body;
      });
  }

  function request(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: jsonHeaders() };
    if (method === "GET") delete init.headers["Content-Type"];
    else init.body = JSON.stringify(body || {});
    return fetch(url, init).then(
      function (res) {
        return answer(url, res);
      },
      function () {
        throw failure(url, 0, null);
      },
    );
  }

  function getWhenWarm(url, onWarming) {
    var told = onWarming || function () {};
    return request("GET", url).then(
      function (body) {
        told(null);
        return body;
      },
      function (err) {
        var body = err.body;
        if (err.status !== 503 || !body || body.error !== "warming_up") throw err;
        told(body.progress || {});
        var wait = Math.max(1, Number(body.retry_after_s) || 2) * 1000;
        return new Promise(function (resolve) {
          setTimeout(resolve, wait);
        }).then(function () {
          return getWhenWarm(url, onWarming);
        });
      },
    );
  }

  floodpost.http = {
    csrfToken: csrfToken,
    jsonHeaders: jsonHeaders,
    getJSON: function (url) {
      return request("GET", url);
    },
    getWhenWarm: getWhenWarm,
    postJSON: function (url, body) {
      return request("POST", url, body);
    },
    sendJSON: request,
  };
})();
