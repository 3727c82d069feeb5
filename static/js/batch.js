// Batch upload (works/batch.html): choose or drop many files or a folder, adjust each
// title in a table, upload with one progress bar; then follow every file's processing.
(function () {
  "use strict";

  function titleFrom(name) {
    var stem = name.replace(/\.[^.]*$/, "") || name;
    return stem.replace(/[_-]/g, " ").split(/\s+/).filter(Boolean).join(" ") || name;
  }

  // The same units and number format as the pages' file sizes (1 MB = 1024 kB).
  function sizeText(form, bytes) {
    var lang = document.documentElement.lang || undefined;
    if (bytes >= 1048576) {
      return form.getAttribute("data-mb").replace("{n}", (bytes / 1048576).toLocaleString(
        lang, { maximumFractionDigits: 1 }));
    }
    return form.getAttribute("data-kb").replace("{n}", Math.max(1, Math.round(bytes / 1024))
      .toLocaleString(lang));
  }

  function readEntry(entry, out) {
    // A dropped folder: walk it (hidden files skipped) and collect its files.
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (file) { if (file.name.charAt(0) !== ".") out.push(file); resolve(); },
                   function () { resolve(); });
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var pending = [];
        (function next() {
          reader.readEntries(function (entries) {
            if (!entries.length) { Promise.all(pending).then(resolve); return; }
            entries.forEach(function (e) { pending.push(readEntry(e, out)); });
            next();
          }, function () { Promise.all(pending).then(resolve); });
        })();
      } else { resolve(); }
    });
  }

  function setUpForm(form) {
    var chosen = [];
    var table = form.querySelector(".batch-files");
    var body = table.querySelector("tbody");
    var count = form.querySelector(".batch-count");
    var input = form.querySelector("#files");
    var folder = form.querySelector("#folder");
    var zone = form.querySelector("#drop-zone");

    function render() {
      var titles = {};
      body.querySelectorAll("tr").forEach(function (row) {
        titles[row.getAttribute("data-key")] = row.querySelector("input").value;
      });
      body.innerHTML = "";
      chosen.forEach(function (file, i) {
        var key = file.name + "|" + file.size + "|" + i;
        var row = document.createElement("tr");
        row.setAttribute("data-key", key);
        var name = document.createElement("td");
        name.textContent = file.webkitRelativePath || file.name;
        var size = document.createElement("td");
        size.textContent = sizeText(form, file.size);
        var cell = document.createElement("td");
        var title = document.createElement("input");
        title.name = "titles";
        title.maxLength = 300;
        title.setAttribute("aria-label", file.name);
        title.value = titles[key] !== undefined ? titles[key] : titleFrom(file.name);
        cell.appendChild(title);
        var actions = document.createElement("td");
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link-button";
        remove.textContent = form.getAttribute("data-remove");
        remove.addEventListener("click", function () { chosen.splice(i, 1); render(); });
        actions.appendChild(remove);
        [name, size, cell, actions].forEach(function (td) { row.appendChild(td); });
        body.appendChild(row);
      });
      table.hidden = chosen.length === 0;
      count.textContent = chosen.length ?
        count.getAttribute("data-chosen").replace("{n}", String(chosen.length)) : "";
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        if (file.name.charAt(0) !== ".") chosen.push(file);
      });
      render();
    }

    input.addEventListener("change", function () { add(input.files); });
    folder.addEventListener("change", function () {
      // A folder's files in name order, so their numbers follow it (as a dropped folder's).
      var files = Array.prototype.slice.call(folder.files);
      files.sort(function (a, b) {
        return (a.webkitRelativePath || a.name).localeCompare(b.webkitRelativePath || b.name);
      });
      add(files);
    });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("dragging");
      // Read everything now: the drop's data is gone once this handler returns.
      var plain = Array.prototype.slice.call(e.dataTransfer.files);
      var items = e.dataTransfer.items;
      var entries = items && items.length && items[0].webkitGetAsEntry ?
        Array.prototype.map.call(items, function (item) { return item.webkitGetAsEntry(); }) : [];
      if (!entries.some(Boolean)) { add(plain); return; }
      var out = [];
      Promise.all(entries.map(function (entry) {
        return entry ? readEntry(entry, out) : Promise.resolve();
      })).then(function () {
        out.sort(function (a, b) { return a.name.localeCompare(b.name); });
        add(out);
      });
    });

    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".upload-progress-text");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var max = parseInt(form.getAttribute("data-max-bytes"), 10);
      var total = chosen.reduce(function (sum, f) { return sum + f.size; }, 0);
      var error = null;
      if (chosen.length > parseInt(form.getAttribute("data-max-files"), 10)) error = "data-too-many";
      else if (chosen.some(function (f) { return f.size > max; })) error = "data-too-large";
      else if (total > parseInt(form.getAttribute("data-max-total"), 10)) error = "data-too-much";
      if (error) { showError(form, form.getAttribute(error)); return; }
      var data = new FormData(form);
      data.delete("files");
      chosen.forEach(function (file) { data.append("files", file, file.name); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        text.textContent = percent + "% (" + (e.loaded / 1048576).toFixed(1) + " / " +
          (e.total / 1048576).toFixed(1) + " MB)";
      });
      xhr.addEventListener("load", function () { replaceMain(xhr.responseText, chosen); });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        form.querySelector('[type="submit"]').disabled = false;
        showError(form, form.getAttribute("data-failed"));
      });
      box.hidden = false;
      form.querySelector('[type="submit"]').disabled = true;
      xhr.send(data);
    });
    return { keep: function (files) { add(files); } };
  }

  // The batch form's page loads register.js first: one way to show an upload error.
  function showError(form, message) { window.TamgaShowError(form, message); }

  function replaceMain(html, chosen) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) { document.open(); document.write(html); document.close(); return; }
    document.querySelector("main").replaceWith(main);
    document.title = doc.title;
    window.scrollTo(0, 0);
    var handle = init();
    if (handle && chosen.length) handle.keep(chosen);  // a refused form keeps its files
    if (window.TamgaRegisterInit) window.TamgaRegisterInit();
  }

  function followResults(section) {
    var labels = JSON.parse((section.querySelector("#batch-labels") || {}).textContent || "{}");
    section.querySelectorAll("tr[data-status-url]").forEach(function (row) {
      var url = row.getAttribute("data-status-url");
      var label = row.querySelector("[data-status]");
      var bar = row.querySelector("progress");
      function poll() {
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (bar) bar.value = data.progress;
            if (data.status === "processing") { window.setTimeout(poll, 1000); return; }
            label.className = "status status-" + data.status;
            label.textContent = labels[data.status] || data.status;
            if (bar) bar.remove();
            row.removeAttribute("data-status-url");
          })
          .catch(function () { window.setTimeout(poll, 3000); });
      }
      window.setTimeout(poll, 500);
    });
  }

  function init() {
    var results = document.getElementById("batch-results");
    if (results) followResults(results);
    var form = document.getElementById("batch-form");
    return form ? setUpForm(form) : null;
  }

  init();
})();
