/* floodpost field-report outbox: every report is kept in IndexedDB under its UUID until the
 * server confirms it, and is sent (again) by itself until then.
 *
 * States: "queued" (kept, retried), "sent" (server echoed our id in a 200/201 JSON reply),
 * "refused" (the server itself answered 4xx with its JSON error: the same report would be
 * refused again, so retrying is pointless; the reason is kept and shown).
 * Anything else (no network, timeouts, 5xx, 401, 403, 408, 429, a captive portal's 200 HTML,
 * a 4xx page that is not ours) keeps the report queued. Nothing is ever dropped.
 * Plain ES2017, no modules: cheap Android phones run old WebViews.
 */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});

  var DB_NAME = "floodpost-report";
  var STORE = "outbox";
  var API = "/api/reports";
  var TIMEOUT_MS = 20000;
  var BASE_DELAY_MS = 5000;
  var MAX_DELAY_MS = 5 * 60 * 1000;
  var WATCHDOG_MS = 15000;

  function uuid4() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === "function") {
      try {
        return c.randomUUID();
      } catch (e) {
        /* insecure context: fall through */
      }
    }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) {
      c.getRandomValues(b);
    } else {
      for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    }
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    var h = [];
    for (var j = 0; j < 16; j++) h.push((b[j] + 0x100).toString(16).slice(1));
    return (
      h.slice(0, 4).join("") +
      "-" +
      h.slice(4, 6).join("") +
      "-" +
      h.slice(6, 8).join("") +
      "-" +
      h.slice(8, 10).join("") +
      "-" +
      h.slice(10, 16).join("")
    );
  }

  var dbPromise = null;
  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error("no IndexedDB"));
        return;
      }
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "id" });
      };
      req.onsuccess = function () {
        resolve(req.result);
      };
      req.onerror = function () {
        reject(req.error);
      };
    });
    return dbPromise;
  }

  function withStore(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result;
        t.oncomplete = function () {
          resolve(result);
        };
        t.onerror = function () {
          reject(t.error);
        };
        t.onabort = function () {
          reject(t.error);
        };
        var req = fn(t.objectStore(STORE));
        if (req)
          req.onsuccess = function () {
            result = req.result;
          };
      });
    });
  }

  function putRecord(rec) {
    return withStore("readwrite", function (s) {
      return s.put(rec);
    });
  }
  function allRecords() {
    return withStore("readonly", function (s) {
      return s.getAll();
    }).then(function (rows) {
      return (rows || []).sort(function (a, b) {
        return a.saved_at - b.saved_at;
      });
    });
  }

  var listeners = [];
  var status = { auth: false, forbidden: false, flushing: false };
  var timer = null;
  var flushing = false;
  var again = false;
  var againForce = false;

  function emit() {
    for (var i = 0; i < listeners.length; i++) {
      try {
        listeners[i]();
      } catch (e) {
        /* a broken listener must not stop sending */
      }
    }
  }

  // Exponential back-off with "equal jitter": half fixed, half random, so phones that lost the
  // network together do not all retry in the same second.
  function backoffMs(attempts) {
    var cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * Math.pow(2, Math.max(0, attempts - 1)));
    return cap / 2 + Math.random() * (cap / 2);
  }

  function retryAfterMs(resp) {
    var v = resp.headers.get("retry-after");
    var s = v ? parseInt(v, 10) : NaN;
    return isFinite(s) && s > 0 ? s * 1000 : 0;
  }

  function reasonOf(status, body) {
    var text = body && (body.detail || body.error) ? String(body.detail || body.error) : "";
    if (body && body.field && text.indexOf(body.field) === -1) text += " (" + body.field + ")";
    if (body && body.code) text += " [" + body.code + "]";
    return ("HTTP " + status + (text ? ": " + text : "")).slice(0, 500);
  }

  /* One attempt. Resolves to {state, why, body?, delay?, stop?}; never rejects. */
  function attempt(rec) {
    var ctl = typeof AbortController === "function" ? new AbortController() : null;
    var killer = setTimeout(function () {
      if (ctl) ctl.abort();
    }, TIMEOUT_MS);
    var init = {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: floodpost.http.jsonHeaders(),
      body: JSON.stringify(rec.payload),
    };
    if (ctl) init.signal = ctl.signal;
    return fetch(API, init)
      .then(
        function (resp) {
          var ct = (resp.headers.get("content-type") || "").toLowerCase();
          var isJson = ct.indexOf("application/json") !== -1 || ct.indexOf("+json") !== -1;
          var bodyP = isJson
            ? resp.json().catch(function () {
                return null;
              })
            : Promise.resolve(null);
          return bodyP.then(function (body) {
            return classify(rec, resp, body);
          });
        },
        function () {
          return { state: "queued", why: "network", stop: true };
        },
      )
      .then(
        function (out) {
          clearTimeout(killer);
          return out;
        },
        function () {
          clearTimeout(killer);
          return { state: "queued", why: "network", stop: true };
        },
      );
  }

  function classify(rec, resp, body) {
    var s = resp.status;
    var ours = body && typeof body === "object" && !Array.isArray(body);
    if ((s === 200 || s === 201) && ours && body.id === rec.id) {
      return { state: "sent", body: body };
    }
    if (s === 401) return { state: "queued", why: "auth", stop: true };
    if (s === 403) return { state: "queued", why: "forbidden", stop: true };
    if (s === 408 || s === 425 || s === 429) {
      return { state: "queued", why: "server", delay: retryAfterMs(resp), stop: true };
    }
    // A 4xx in our own JSON error shape is the server's considered answer about this report
    // (409 id_conflict, 413 too large, 422 invalid): the same bytes would be refused again.
    if (s >= 400 && s < 500 && ours && (body.error || body.detail)) {
      return { state: "refused", why: "refused", reason: reasonOf(s, body) };
    }
    if (s >= 500) return { state: "queued", why: "server", delay: retryAfterMs(resp), stop: true };
    // 2xx/3xx without our id, or a 4xx page that is not ours: a captive portal or a proxy.
    return { state: "queued", why: "not_confirmed", stop: true };
  }

  function apply(rec, out, now) {
    rec.attempts = (rec.attempts || 0) + 1;
    rec.last_try_at = now;
    rec.why = out.why || null;
    if (out.state === "sent") {
      rec.state = "sent";
      rec.sent_at = now;
      rec.received_at = out.body.received_at || null;
      rec.responsible = out.body.responsible || null;
      rec.township_code = out.body.township_code || null;
      rec.village_code = out.body.village_code || null;
      rec.next_at = 0;
    } else if (out.state === "refused") {
      rec.state = "refused";
      rec.reason = out.reason;
      rec.next_at = 0;
    } else {
      rec.state = "queued";
      rec.next_at = now + Math.max(backoffMs(rec.attempts), out.delay || 0);
    }
  }

  function flush(force) {
    if (flushing) {
      again = true;
      if (force) againForce = true;
      return Promise.resolve();
    }
    flushing = true;
    status.flushing = true;
    var forceNow = !!force;
    function round() {
      again = false;
      if (againForce) {
        forceNow = true;
        againForce = false;
      }
      return allRecords()
        .then(function (recs) {
          var now = Date.now();
          var due = recs.filter(function (r) {
            return r.state === "queued" && (forceNow || !r.next_at || r.next_at <= now);
          });
          forceNow = false;
          var i = 0;
          function next() {
            if (i >= due.length) return Promise.resolve();
            var rec = due[i++];
            return attempt(rec).then(function (out) {
              var t = Date.now();
              apply(rec, out, t);
              if (out.why === "auth") status.auth = true;
              else if (out.why === "forbidden") status.forbidden = true;
              else if (out.state === "sent") {
                status.auth = false;
                status.forbidden = false;
              }
              return putRecord(rec).then(function () {
                emit();
                if (!out.stop) return next();
                // The link (or the session) is the problem, not this report: defer the rest
                // together instead of hammering a dead network once per report.
                var rest = due.slice(i).map(function (r) {
                  r.next_at = Math.max(r.next_at || 0, rec.next_at);
                  if (out.why === "auth" || out.why === "forbidden") r.why = out.why;
                  return putRecord(r);
                });
                return Promise.all(rest).then(emit);
              });
            });
          }
          return next();
        })
        .then(function () {
          return again ? round() : null;
        });
    }
    return round()
      .catch(function () {
        /* storage failure: the watchdog tries again */
      })
      .then(function () {
        flushing = false;
        status.flushing = false;
        schedule();
      });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = null;
    allRecords()
      .then(function (recs) {
        var earliest = Infinity;
        recs.forEach(function (r) {
          if (r.state === "queued") earliest = Math.min(earliest, r.next_at || 0);
        });
        if (earliest === Infinity) return;
        timer = setTimeout(
          function () {
            flush(false);
          },
          Math.max(0, earliest - Date.now()),
        );
      })
      .catch(function () {});
  }

  function save(payload, meta) {
    var rec = {
      id: payload.id,
      payload: payload,
      meta: meta || {},
      state: "queued",
      saved_at: Date.now(),
      attempts: 0,
      next_at: 0,
    };
    return putRecord(rec).then(function () {
      emit();
      flush(false);
      return rec;
    });
  }

  var started = false;
  function start() {
    if (started) return;
    started = true;
    if (navigator.storage && navigator.storage.persist) {
      // Ask the browser not to evict the outbox under storage pressure.
      navigator.storage.persist().catch(function () {});
    }
    window.addEventListener("online", function () {
      flush(true);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") flush(false);
    });
    // Timers are throttled in background tabs and navigator.onLine can be wrong: a slow
    // watchdog sends whatever is due even if no event ever fires.
    setInterval(function () {
      flush(false);
    }, WATCHDOG_MS);
    flush(true);
  }

  floodpost.outbox = {
    uuid4: uuid4,
    save: save,
    all: allRecords,
    flush: flush,
    start: start,
    status: status,
    onChange: function (fn) {
      listeners.push(fn);
    },
    _classify: classify,
  };
})();
