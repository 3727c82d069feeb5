/* Renders the OpenAPI document of /api/v1 as a readable page, with no library. */
(function () {
  "use strict";

  var root = document.getElementById("apidocs");
  if (!root) { return; }
  var body = document.getElementById("apidocs-body");
  var L = JSON.parse(document.getElementById("apidocs-labels").textContent);
  var METHODS = ["get", "post", "put", "patch", "delete"];
  var spec = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /* Paragraphs with `code` spans: the only markdown the document uses. */
  function prose(text) {
    var wrap = el("div", { "class": "prose" });
    (text || "").split(/\n\s*\n/).forEach(function (para) {
      var p = el("p");
      para.split("`").forEach(function (part, i) {
        p.appendChild(i % 2 ? el("code", { text: part }) : document.createTextNode(part));
      });
      wrap.appendChild(p);
    });
    return wrap;
  }

  function refName(ref) { return ref.split("/").pop(); }

  function resolve(obj) {
    var seen = 0;
    while (obj && obj.$ref && seen < 10) {
      var target = spec;
      obj.$ref.replace(/^#\//, "").split("/").forEach(function (part) { target = target && target[part]; });
      obj = target;
      seen += 1;
    }
    return obj || {};
  }

  function schemaLink(ref) {
    var name = refName(ref);
    return el("a", { href: "#schema-" + name }, [el("code", { text: name })]);
  }

  /* A short description of a schema's type, linking named schemas. */
  function typeOf(schema) {
    if (!schema) { return el("span", { text: "" }); }
    if (schema.$ref) { return schemaLink(schema.$ref); }
    if (schema.oneOf) {
      var span = el("span", { text: L.one_of + ": " });
      schema.oneOf.forEach(function (option, i) {
        if (i) { span.appendChild(document.createTextNode(" | ")); }
        span.appendChild(typeOf(option));
      });
      return span;
    }
    if (schema.type === "array") {
      var arr = el("span", { text: "array of " });
      arr.appendChild(typeOf(schema.items));
      return arr;
    }
    var text = schema.type || "any";
    if (schema.format) { text += " (" + schema.format + ")"; }
    if (schema.nullable) { text += " | null"; }
    return el("code", { text: text });
  }

  function shown(value) { return typeof value === "string" ? value : JSON.stringify(value); }

  function constraints(schema) {
    var parts = [];
    if (schema.enum) { parts.push(L.enum + ": " + schema.enum.join(", ")); }
    if (schema["default"] !== undefined) { parts.push(L["default"] + ": " + JSON.stringify(schema["default"])); }
    if (schema.maxLength) { parts.push("≤ " + schema.maxLength + " chars"); }
    if (schema.pattern) { parts.push("pattern " + schema.pattern); }
    if (schema.example !== undefined) { parts.push(L.example + ": " + shown(schema.example)); }
    return parts.join(" · ");
  }

  function propertyTable(schema) {
    schema = schema.$ref ? resolve(schema) : schema;
    var required = schema.required || [];
    var rows = Object.keys(schema.properties || {}).map(function (name) {
      var prop = schema.properties[name];
      var shown = prop.$ref ? resolve(prop) : prop;
      var desc = [shown.description || prop.description || "", constraints(shown)]
        .filter(Boolean).join(" — ");
      return el("tr", {}, [
        el("td", {}, [el("code", { text: name }),
          required.indexOf(name) >= 0 ? el("span", { "class": "required", text: " *" }) : null]),
        el("td", {}, [typeOf(prop)]),
        el("td", { text: desc })
      ]);
    });
    if (!rows.length) { return el("p", {}, [typeOf(schema), " ", constraints(schema)]); }
    return el("table", {}, [
      el("thead", {}, [el("tr", {}, [el("th", { text: L.name }), el("th", { text: L.type }),
        el("th", { text: L.description + " (* " + L.required + ")" })])]),
      el("tbody", {}, rows)
    ]);
  }

  function exampleBlocks(media) {
    var blocks = [];
    if (media.example !== undefined) {
      blocks.push(el("pre", { text: JSON.stringify(media.example, null, 2) }));
    }
    Object.keys(media.examples || {}).forEach(function (key) {
      var ex = media.examples[key];
      blocks.push(el("p", {}, [el("strong", { text: L.example + ": " }), ex.summary || key]));
      blocks.push(el("pre", { text: JSON.stringify(ex.value, null, 2) }));
    });
    return blocks;
  }

  function parameters(op) {
    if (!op.parameters || !op.parameters.length) { return null; }
    var rows = op.parameters.map(function (p) {
      p = resolve(p);
      return el("tr", {}, [
        el("td", {}, [el("code", { text: p.name }),
          p.required ? el("span", { "class": "required", text: " *" }) : null]),
        el("td", { text: p["in"] }),
        el("td", {}, [typeOf(p.schema)]),
        el("td", { text: [p.description || "", p.example ? L.example + ": " + p.example : ""]
          .filter(Boolean).join(" — ") })
      ]);
    });
    return el("div", {}, [el("h4", { text: L.parameters }), el("table", {}, [
      el("thead", {}, [el("tr", {}, [el("th", { text: L.name }), el("th", { text: L["in"] }),
        el("th", { text: L.type }), el("th", { text: L.description })])]),
      el("tbody", {}, rows)])]);
  }

  function requestBody(op) {
    if (!op.requestBody) { return null; }
    var rb = resolve(op.requestBody);
    var box = el("div", {}, [el("h4", { text: L.request_body })]);
    Object.keys(rb.content || {}).forEach(function (type) {
      box.appendChild(el("p", {}, [el("code", { text: type })]));
      box.appendChild(propertyTable(rb.content[type].schema || {}));
      exampleBlocks(rb.content[type]).forEach(function (b) { box.appendChild(b); });
    });
    return box;
  }

  function responses(op) {
    var box = el("div", {}, [el("h4", { text: L.responses })]);
    var rows = [];
    var examples = [];
    Object.keys(op.responses || {}).forEach(function (status) {
      var resp = resolve(op.responses[status]);
      var schemas = el("td");
      Object.keys(resp.content || {}).forEach(function (type) {
        schemas.appendChild(typeOf(resp.content[type].schema));
        var blocks = exampleBlocks(resp.content[type]);
        if (blocks.length) {
          examples.push(el("h5", {}, [el("span", { "class": "status", text: status }), " ", type]));
          examples = examples.concat(blocks);
        }
      });
      rows.push(el("tr", {}, [el("td", { "class": "status", text: status }),
        el("td", { text: resp.description || "" }), schemas]));
    });
    box.appendChild(el("table", {}, [
      el("thead", {}, [el("tr", {}, [el("th", { text: L.status }), el("th", { text: L.description }),
        el("th", { text: L.schema })])]),
      el("tbody", {}, rows)]));
    if (examples.length) {
      box.appendChild(el("details", {}, [el("summary", { text: L.examples })].concat(examples)));
    }
    return box;
  }

  function authNote(op) {
    var security = op.security || spec.security || [];
    var needs = security.some(function (s) { return Object.keys(s).length > 0; });
    var optional = security.some(function (s) { return Object.keys(s).length === 0; });
    var text = !needs ? L.no_token : (optional ? L.token_optional : L.token_needed);
    return el("p", {}, [el("strong", { text: L.authentication + ": " }), text]);
  }

  function operation(path, method, op) {
    var server = (spec.servers && spec.servers[0] && spec.servers[0].url) || "";
    return el("article", { "class": "op", id: op.operationId || (method + path) }, [
      el("h3", {}, [el("span", { "class": "method method-" + method, text: method }),
        el("code", { text: server + path }), el("span", { text: op.summary || "" })]),
      op.description ? prose(op.description) : null,
      authNote(op), parameters(op), requestBody(op), responses(op)
    ]);
  }

  function schemas() {
    var box = el("section", {}, [el("h2", { id: "schemas", text: L.schemas })]);
    var all = (spec.components && spec.components.schemas) || {};
    Object.keys(all).forEach(function (name) {
      var schema = all[name];
      box.appendChild(el("h3", { "class": "schema-name", id: "schema-" + name }, [el("code", { text: name })]));
      if (schema.description) { box.appendChild(prose(schema.description)); }
      box.appendChild(propertyTable(schema));
    });
    return box;
  }

  function render() {
    body.textContent = "";
    body.appendChild(el("h2", { text: spec.info.title + " " + spec.info.version }));
    body.appendChild(prose(spec.info.description));
    if (spec.servers && spec.servers.length) {
      body.appendChild(el("p", {}, [el("strong", { text: L.server + ": " }),
        el("code", { text: window.location.origin + spec.servers[0].url })]));
    }
    body.appendChild(el("h2", { id: "endpoints", text: L.endpoints }));
    Object.keys(spec.paths).forEach(function (path) {
      METHODS.forEach(function (method) {
        if (spec.paths[path][method]) {
          body.appendChild(operation(path, method, spec.paths[path][method]));
        }
      });
    });
    body.appendChild(schemas());
  }

  fetch(root.getAttribute("data-spec-url"), { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    })
    .then(function (document_) { spec = document_; render(); })
    .catch(function () {
      body.textContent = "";
      body.appendChild(el("p", { "class": "error", text: L.failed }));
    });
}());
