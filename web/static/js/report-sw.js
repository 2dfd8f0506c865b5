/* Service worker of the field-report form (served at /report/sw.js, scope /report).
 *
 * Keeps the form usable with no network: the page and its own assets are cached at install;
 * the page is fetched network-first (fresh when possible, cached copy when offline or slow);
 * static files cache-first (they are versioned with ?v=); Leaflet and the township outlines are
 * cached the first time the map is opened. Report POSTs are never touched here: the page's
 * outbox owns them, so a report's fate never depends on this worker.
 */
"use strict";

var VERSION = "__VERSION__";
var CACHE = "fp-report-" + VERSION;
var RUNTIME = "fp-report-runtime";
var ASSETS = __ASSETS__;
var PAGE = "/report";
var DATA = ["/api/places"];
var PAGE_TIMEOUT_MS = 6000;

function isPage(res) {
  // Only a real page of ours: not a redirect to /login, not an error page.
  return (
    res &&
    res.ok &&
    res.type === "basic" &&
    !res.redirected &&
    (res.headers.get("content-type") || "").indexOf("text/html") !== -1
  );
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        var page = fetch(PAGE, { credentials: "same-origin" })
          .then(function (res) {
            if (isPage(res)) return cache.put(PAGE, res);
          })
          .catch(function () {});
        // Assets carry their version in the URL, so whatever copy the browser already holds from
        // loading the page is the right one: no second download over a poor link.
        var assets = ASSETS.map(function (url) {
          return new Request(url, { cache: "force-cache" });
        });
        return Promise.all([cache.addAll(assets.concat(DATA)), page]);
      })
      .then(function () {
        return self.skipWaiting();
      }),
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        return Promise.all(
          keys
            .filter(function (k) {
              return k.indexOf("fp-report-") === 0 && k !== CACHE && k !== RUNTIME;
            })
            .map(function (k) {
              return caches.delete(k);
            }),
        );
      })
      .then(function () {
        return self.clients.claim();
      }),
  );
});

function cachedPage(request) {
  return caches.match(request).then(function (hit) {
    return hit || caches.match(PAGE, { ignoreSearch: true });
  });
}

function pageNetworkFirst(request) {
  var network = fetch(request).then(function (res) {
    if (isPage(res)) {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) {
        c.put(request.url, copy.clone());
        return c.put(PAGE, copy);
      });
    }
    return res;
  });
  // On a poor link, show the cached form after a few seconds instead of a blank screen;
  // the network answer still refreshes the cache when it arrives.
  var timeout = new Promise(function (resolve) {
    setTimeout(function () {
      cachedPage(request).then(resolve);
    }, PAGE_TIMEOUT_MS);
  });
  return Promise.race([
    network.catch(function () {
      return cachedPage(request);
    }),
    timeout,
  ]).then(function (res) {
    if (res) return res;
    return network.catch(function () {
      return new Response(
        "<!doctype html><meta charset=utf-8><title>floodpost</title>" + "<p>离线 / Offline</p>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } },
      );
    });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) return hit;
    return fetch(request).then(function (res) {
      if (res.ok && res.type === "basic") {
        var copy = res.clone();
        caches.open(RUNTIME).then(function (c) {
          c.put(request, copy);
        });
      }
      return res;
    });
  });
}

function staleWhileRevalidate(request) {
  var network = fetch(request).then(function (res) {
    if (res.ok && res.type === "basic") {
      var copy = res.clone();
      caches.open(RUNTIME).then(function (c) {
        c.put(request, copy);
      });
    }
    return res;
  });
  return caches.match(request).then(function (hit) {
    if (hit) {
      network.catch(function () {});
      return hit;
    }
    return network;
  });
}

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(pageNetworkFirst(req));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirst(req));
  } else if (url.pathname === "/api/places" || url.pathname === "/api/layers/townships") {
    event.respondWith(staleWhileRevalidate(req));
  }
});
