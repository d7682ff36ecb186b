// Follows a bulk certificate issue: polls its progress and reloads the page when done.
(function () {
  "use strict";
  var box = document.getElementById("batch");
  if (!box || (box.dataset.status !== "queued" && box.dataset.status !== "running")) { return; }
  function tick() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        document.getElementById("batch-done").textContent = data.done;
        document.getElementById("batch-total").textContent = data.total;
        var bar = document.getElementById("batch-bar");
        bar.max = data.total || 1; bar.value = data.done;
        if (data.status === "done" || data.status === "failed") { window.location.reload(); return true; }
      })
      .then(function (finished) { if (!finished) { window.setTimeout(tick, 1000); } })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 500);
})();
