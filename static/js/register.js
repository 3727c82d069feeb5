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

  function init() {
    var form = document.getElementById("registration-form");
    if (!form) return;
    setUpAuthors(form);
    setUpConditionals(form);
    setUpUpload(form);
  }

  init();
})();
