/* The command-post page: wires the folium map to the page and says when it is ready.

   folium's script (inline, just before this file) has created the Leaflet map and the static
   layers as globals; their names are in the JSON config. This file publishes them as
   floodpost.commandPost = {config, map, layers, counts, displayLatLng, plainText, waitFor} for
   the live features, and sets document.body.dataset.ready = "1" once the static layers are drawn
   and every promise handed to floodpost.commandPost.waitFor() (live layers load their data that
   way) has settled. */
(function () {
  "use strict";

  var floodpost = (window.floodpost = window.floodpost || {});
  var configEl = document.getElementById("floodpost-config");
  var cfg = configEl ? JSON.parse(configEl.textContent) : {};
  var pending = [];
  var map = cfg.map ? window[cfg.map] : null;
  var layers = {};
  Object.keys(cfg.layers || {}).forEach(function (id) {
    var layer = window[cfg.layers[id]];
    if (layer) layers[id] = layer;
  });

  function featureCount(layer) {
    var n = 0;
    if (layer && typeof layer.eachLayer === "function")
      layer.eachLayer(function () {
        n += 1;
      });
    return n;
  }

  /** Text of a property of the embedded layers: those are HTML-escaped on the server (so folium
      can show them), and a <textarea> decodes entities without ever creating elements. */
  function plainText(escaped) {
    var box = document.createElement("textarea");
    box.innerHTML = escaped == null ? "" : String(escaped);
    return box.value;
  }

  /** Township names as permanent labels, one per feature (they go with the layer's toggle). */
  function labelTownships(group) {
    if (!group) return;
    group.eachLayer(function (layer) {
      var label = document.createElement("span");
      label.textContent = plainText(layer.feature.properties.name);
      layer.bindTooltip(label, {
        permanent: true,
        direction: "center",
        className: "fp-township-label",
        interactive: false,
      });
    });
  }

  function displayLatLng(lon, lat) {
    return floodpost.gcj02.displayLatLng(lon, lat, cfg.datum || "wgs84");
  }

  function showProblem(text) {
    var box = document.createElement("div");
    box.className = "cp-problem";
    box.setAttribute("role", "alert");
    box.textContent = text; // never innerHTML
    document.body.appendChild(box);
  }

  var api = {
    config: cfg,
    map: map,
    layers: layers,
    counts: {},
    displayLatLng: displayLatLng,
    plainText: plainText,
    text: function (key) {
      return (cfg.texts && cfg.texts[key]) || key;
    },
    /** Live features register their first load here; readiness waits for it. */
    waitFor: function (promise) {
      pending.push(Promise.resolve(promise));
    },
  };
  floodpost.commandPost = api;

  if (!map) {
    showProblem(api.text("map.js.load_failed"));
    return;
  }

  Object.keys(layers).forEach(function (id) {
    api.counts[id] = featureCount(layers[id]);
  });
  labelTownships(layers.townships);
  if (cfg.background) map.getContainer().style.background = cfg.background;

  // Wait for every synchronous script (later feature scripts register with waitFor), then for
  // the map to have its view, then for the registered loads.
  function whenDomParsed(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  whenDomParsed(function () {
    map.whenReady(function () {
      Promise.allSettled(pending).then(function () {
        document.body.dataset.ready = "1";
        document.dispatchEvent(new CustomEvent("floodpost:ready", { detail: api }));
      });
    });
  });
})();
