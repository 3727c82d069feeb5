// Registration form: author rows, fields shown when relevant, upload with a progress bar.
(function () {
  "use strict";

  function renumber(container) {
    container.querySelectorAll("[data-author-row]").forEach(function (row, index) {
      row.querySelectorAll("input, select, label").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/authors-\d+-/, "authors-" + index + "-"));
        });
      });
    });
  }

  function setUpAuthors(form) {
    var container = form.querySelector("#authors");
    var add = form.querySelector("#add-author");
    if (!container || !add) return;
    add.addEventListener("click", function () {
      var rows = container.querySelectorAll("[data-author-row]");
      var clone = rows[rows.length - 1].cloneNode(true);
      clone.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      clone.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      container.appendChild(clone);
      renumber(container);
      clone.querySelector("input").focus();
    });
    container.addEventListener("click", function (event) {
      if (!event.target.matches("[data-remove-author]")) return;
      var rows = container.querySelectorAll("[data-author-row]");
      if (rows.length > 1) {
        event.target.closest("[data-author-row]").remove();
        renumber(container);
      }
    });
  }

  // The role list follows the kind of work: only fitting roles, the kind's default first.
  function setUpRoles(form) {
    var container = form.querySelector("#authors");
    var kind = form.querySelector('[name="work_type"]');
    if (!container || !kind || !container.getAttribute("data-roles")) return;
    var roles = JSON.parse(container.getAttribute("data-roles"));
    function update() {
      var fitting = roles[kind.value] || [];
      var values = fitting.map(function (r) { return r[0]; });
      container.querySelectorAll('select[name$="-role"]').forEach(function (select) {
        var keep = values.indexOf(select.value) !== -1 ? select.value : values[0];
        select.innerHTML = "";
        fitting.forEach(function (r) {
          var option = document.createElement("option");
          option.value = r[0];
          option.textContent = r[1];
          select.appendChild(option);
        });
        select.value = keep;
      });
    }
    kind.addEventListener("change", update);
    update();
  }

  function currentValue(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox") return input.checked ? "y" : "";
      if (input.type === "radio") { if (input.checked) return input.value; continue; }
      return input.value;
    }
    return "";
  }

  function setUpConditionals(form) {
    var blocks = form.querySelectorAll("[data-show-when]");
    function update() {
      blocks.forEach(function (block) {
        var rule = block.getAttribute("data-show-when").split("=");
        var wanted = rule[1].split(",");
        block.hidden = wanted.indexOf(currentValue(form, rule[0])) === -1;
      });
    }
    form.addEventListener("change", update);
    update();
  }

  function showError(form, message) {
    var box = form.querySelector(".upload-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "flash flash-error upload-error";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = message;
    box.scrollIntoView({ block: "center" });
  }

  function tooLarge(form) {
    var max = parseInt(form.getAttribute("data-max-bytes") || "0", 10);
    if (!max) return false;
    var inputs = form.querySelectorAll('input[type="file"]');
    for (var i = 0; i < inputs.length; i++) {
      for (var j = 0; j < inputs[i].files.length; j++) {
        if (inputs[i].files[j].size > max) return true;
      }
    }
    return false;
  }

  function replacePage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (main) {
      // Keep the chosen files: the answer asks to confirm or correct, not to upload again.
      document.querySelectorAll('#registration-form input[type="file"]').forEach(function (old) {
        var fresh = main.querySelector('input[type="file"][name="' + old.name + '"]');
        if (fresh && old.files.length) fresh.replaceWith(old);
      });
      document.querySelector("main").replaceWith(main);
      document.title = doc.title;
      init();
      window.scrollTo(0, 0);
    }
  }

  function setUpUpload(form) {
    var box = form.querySelector(".upload-progress");
    if (!box || !window.XMLHttpRequest || !window.FormData) return;
    var bar = box.querySelector("progress");
    var text = box.querySelector(".upload-progress-text");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (tooLarge(form)) { showError(form, form.getAttribute("data-too-large")); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        text.textContent = percent + "% (" + (e.loaded / 1048576).toFixed(1) + " / " +
          (e.total / 1048576).toFixed(1) + " MB)";
      });
      xhr.addEventListener("load", function () {
        var finalUrl = xhr.responseURL || "";
        if (xhr.status === 200 && finalUrl.split("#")[0] !== window.location.href.split("#")[0]) {
          window.location.assign(finalUrl);
        } else if (xhr.status === 413 && xhr.responseText.indexOf("registration-form") === -1) {
          box.hidden = true;
          showError(form, form.getAttribute("data-too-large"));
        } else {
          replacePage(xhr.responseText);
        }
      });
      xhr.addEventListener("error", function () {
        box.hidden = true;
        showError(form, form.getAttribute("data-failed"));
      });
      box.hidden = false;
      form.querySelector('[type="submit"]').disabled = true;
      xhr.send(new FormData(form));
    });
  }

  // AI-declaration pre-check: as soon as a file is chosen, the server reads what it says
  // about AI (Content Credentials, IPTC/XMP, audio tags) without storing it; a declaration
  // that contradicts it is flagged before submitting. The check at submit still decides.
  function setUpAiPrecheck(form) {
    var url = form.getAttribute("data-precheck-url");
    var input = form.querySelector('input[type="file"][name="file"]');
    var box = form.querySelector("#ai-mismatch");
    if (!url || !input || !box || !window.fetch || !window.FormData) return;
    var max = parseInt(form.getAttribute("data-precheck-max") || "0", 10);
    var found = form.querySelector("#file-provenance");

    function show() {
      var answer = input.tamgaPrecheck;  // kept on the input, which survives a page swap
      if (!answer) return;
      if (found) { found.textContent = answer.summary; found.hidden = false; }
      var message = answer.mismatch[currentValue(form, "ai_use")] || null;
      var own = box.querySelector(".ai-mismatch-precheck");
      box.querySelectorAll(".ai-mismatch-server").forEach(function (p) { p.hidden = true; });
      own.textContent = message || "";
      own.hidden = !message;
      box.hidden = !message;
    }

    function check() {
      input.tamgaPrecheck = null;
      if (found) found.hidden = true;
      var file = input.files && input.files[0];
      if (!file || (max && file.size > max)) return;
      var data = new FormData();
      data.append("csrf_token", (form.querySelector('[name="csrf_token"]') || {}).value || "");
      data.append("file", file);
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "Accept": "application/json" } })
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("json") !== -1;
          return response.ok && json ? response.json() : null;
        })
        .then(function (answer) {
          if (!answer || input.files[0] !== file) return;  // failed, or another file chosen
          input.tamgaPrecheck = answer;
          input.tamgaPrecheckShow();
        })
        .catch(function () { /* the check at submit still runs */ });
    }

    // After a refused submit the page is swapped but this input is kept: it calls the
    // functions bound to the current page.
    input.tamgaPrecheckRun = check;
    input.tamgaPrecheckShow = show;
    if (!input.tamgaPrecheckBound) {
      input.addEventListener("change", function () { input.tamgaPrecheckRun(); });
      input.tamgaPrecheckBound = true;
    }
    form.querySelectorAll('[name="ai_use"]').forEach(function (radio) {
      radio.addEventListener("change", show);
    });
    show();
  }

  function init() {
    // The batch form (works/batch.html) shares the metadata fields; batch.js uploads it.
    var batch = document.getElementById("batch-form");
    if (batch) {
      setUpAuthors(batch);
      setUpRoles(batch);
      setUpConditionals(batch);
    }
    var form = document.getElementById("registration-form");
    if (!form) return;
    setUpAuthors(form);
    setUpRoles(form);
    setUpConditionals(form);
    setUpUpload(form);
    setUpAiPrecheck(form);
  }

  window.TamgaRegisterInit = init;  // batch.js calls it after swapping in a refused form
  window.TamgaShowError = showError;  // and this one for the batch upload's errors
  init();
})();
