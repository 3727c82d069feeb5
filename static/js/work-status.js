// While a work is being processed, follow its job and reload when the status changes.
(function () {
  "use strict";
  var section = document.getElementById("work");
  if (!section || section.getAttribute("data-status") !== "processing") return;
  var url = section.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var stage = document.getElementById("job-stage");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.status !== "processing") { window.location.reload(); return; }
        if (bar) bar.value = data.progress;
        if (stage) stage.textContent = data.progress + "%";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 700);
})();
