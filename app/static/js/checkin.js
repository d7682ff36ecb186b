// Keeps the instructor's check-in screen current: the rotating code, its QR and the
// list of who has checked in. Served from our own server; no external script.
(function () {
  "use strict";
  var box = document.getElementById("checkin-live");
  if (!box) { return; }
  function refresh() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) { box.innerHTML = data.html; }
      })
      .catch(function () { /* keep the last state; try again next tick */ })
      .finally(function () { window.setTimeout(refresh, 3000); });
  }
  window.setTimeout(refresh, 3000);
})();
