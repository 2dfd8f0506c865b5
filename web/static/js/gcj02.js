/* WGS-84 → GCJ-02, the same forward transform as floodpost.geo.gcj02 (Python), for live layers
   drawn over GCJ-02 basemaps (Amap, Tencent). Data from the API is always WGS-84; only what is
   drawn is shifted. Outside China's rectangle nothing is shifted, like the published transform.
   Publishes floodpost.gcj02. */
(function () {
  "use strict";
  var floodpost = (window.floodpost = window.floodpost || {});
  var A = 6378245.0;
  var EE = 0.006693421622965943; // 0.00669342162296594323, as the nearest double

  function inChina(lon, lat) {
    return lon >= 73.66 && lon <= 135.05 && lat >= 3.86 && lat <= 53.55;
  }

  function offset(lon, lat) {
    var x = lon - 105.0,
      y = lat - 35.0;
    var xpi = x * Math.PI,
      ypi = y * Math.PI;
    var common = ((20.0 * Math.sin(6.0 * xpi) + 20.0 * Math.sin(2.0 * xpi)) * 2.0) / 3.0;
    var sqrtAbsX = Math.sqrt(Math.abs(x));
    var dlat =
      -100.0 +
      2.0 * x +
      3.0 * y +
      0.2 * y * y +
      0.1 * x * y +
      0.2 * sqrtAbsX +
      common +
      ((20.0 * Math.sin(ypi) + 40.0 * Math.sin(ypi / 3.0)) * 2.0) / 3.0 +
      ((160.0 * Math.sin(ypi / 12.0) + 320.0 * Math.sin(ypi / 30.0)) * 2.0) / 3.0;
    var dlon =
      300.0 +
      x +
      2.0 * y +
      0.1 * x * x +
      0.1 * x * y +
      0.1 * sqrtAbsX +
      common +
      ((20.0 * Math.sin(xpi) + 40.0 * Math.sin(xpi / 3.0)) * 2.0) / 3.0 +
      ((150.0 * Math.sin(xpi / 12.0) + 300.0 * Math.sin(xpi / 30.0)) * 2.0) / 3.0;
    var radLat = (lat / 180.0) * Math.PI;
    var magic = 1 - EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * Math.PI);
    dlon = (dlon * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * Math.PI);
    return [dlon, dlat];
  }

  /** [lon, lat] in GCJ-02 for a WGS-84 point. */
  function wgs84ToGcj02(lon, lat) {
    if (!inChina(lon, lat)) return [lon, lat];
    var d = offset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  /** A Leaflet-style [lat, lon] for drawing a WGS-84 point on a basemap in `datum`. */
  function displayLatLng(lon, lat, datum) {
    if (datum === "gcj02") {
      var g = wgs84ToGcj02(lon, lat);
      return [g[1], g[0]];
    }
    return [lat, lon];
  }

  floodpost.gcj02 = { inChina: inChina, wgs84ToGcj02: wgs84ToGcj02, displayLatLng: displayLatLng };
})();
