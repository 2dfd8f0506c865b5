/* floodpost review page while the server's roll-ups warm up (issue 14 §5): the page shows the
   progress rendered by the server; this reloads it after the Retry-After the server gave
   (data-retry-after on #rv-warming), until the statistics are ready. */
(function () {
  "use strict";

  var box = document.getElementById("rv-warming");
  if (!box) return;
  var wait = Math.max(1, Number(box.dataset.retryAfter) || 2) * 1000;
  setTimeout(function () {
    window.location.reload();
  }, wait);
})();
