// Only what hx-* attributes cannot say: report failed requests where the user looks.
// Every text shown here is translated by the server: templates/base.html puts it on <body> as a data-msg-*
// attribute ({status} and {seconds} are filled in here).
function portalText(name, values) {
  var text = document.body.getAttribute("data-msg-" + name) || "";
  Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(String(values[key])); });
  return text;
}
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("flashes");
  if (!box) return;
  var status = event.detail.xhr.status;
  var text = status === 403 ? portalText("forbidden")
    : status === 404 ? portalText("not-found")
    : status === 400 ? portalText("bad-request")
    : portalText("failed", { status: status });
  var alert = document.createElement("div");
  alert.className = "alert alert-danger";
  alert.setAttribute("role", "alert");
  alert.textContent = text;
  box.replaceChildren(alert);
});
document.addEventListener("htmx:sendError", function () {
  var box = document.getElementById("flashes");
  if (!box) return;
  var alert = document.createElement("div");
  alert.className = "alert alert-warning";
  alert.setAttribute("role", "alert");
  alert.textContent = portalText("offline");
  box.replaceChildren(alert);
});

// Autosave (self-assessment scores, registered targets): a form.autosave-form posts with hx-swap="none" and the
// server answers with out-of-band pieces only, so nothing the user is typing is ever replaced. This shows the
// state of each form in its row's .save-status, retries failed saves and warns before leaving unsaved work.
(function () {
  var RETRY_MS = [2000, 5000, 10000, 20000, 30000];
  function statusOf(form) {
    var row = form.closest(".autosave-row");
    return row ? row.querySelector(".save-status") : null;
  }
  function show(form, text, kind) {
    var box = statusOf(form);
    if (!box) return;
    box.textContent = text;
    box.className = "save-status small " + (kind || "text-muted");
  }
  function isAutosaveForm(elt) {
    return elt && elt.classList && elt.classList.contains("autosave-form");
  }
  function invalidField(form) {
    // the server's status names the refused field (data-field); else the form's main value
    var box = statusOf(form);
    var name = box && box.dataset.field;
    return (name && form.elements[name]) || form.querySelector("[data-autosave-value]");
  }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (isAutosaveForm(form)) {
      form.dataset.dirty = "1";
      show(form, portalText("unsaved"));
    }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (isAutosaveForm(event.detail.elt)) show(event.detail.elt, portalText("saving"));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!isAutosaveForm(form)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300) {
      delete form.dataset.dirty;
      form.dataset.retries = "0";
      form.querySelectorAll(".is-invalid").forEach(function (field) { field.classList.remove("is-invalid"); });
    } else if (status === 422 || status === 409) {
      var field = status === 422 ? invalidField(form) : null;
      if (field) field.classList.add("is-invalid");
    } else {
      var tries = parseInt(form.dataset.retries || "0", 10);
      var wait = RETRY_MS[Math.min(tries, RETRY_MS.length - 1)];
      form.dataset.retries = String(tries + 1);
      show(form, portalText("retrying", { seconds: wait / 1000 }), "text-danger");
      window.setTimeout(function () { if (form.dataset.dirty) htmx.trigger(form, "retry"); }, wait);
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector(".autosave-form[data-dirty]")) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();

// A [data-print] button prints the page (the results' print page): inline handlers are refused by the CSP.
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) window.print();
});

// Live pages (the council's dashboard, the progress pages): an element that polls carries the ETag of what it
// shows in data-etag. Sending it back as If-None-Match lets the server answer 304 (no swap: see htmx-config)
// when nothing changed.
function isLivePoll(detail) {
  var elt = detail.elt;
  var config = detail.requestConfig || detail; // htmx:configRequest's detail is the request's config itself
  return !!(elt && elt.dataset && elt.dataset.etag) && config.verb === "get" && config.path === elt.getAttribute("hx-get");
}
document.addEventListener("htmx:configRequest", function (event) {
  if (isLivePoll(event.detail)) event.detail.headers["If-None-Match"] = '"' + event.detail.elt.dataset.etag + '"';
});
// A live region never replaces what the user is doing in it: a refresh waits (the next poll or event brings
// it) while a field in the region has the focus or differs from what the page was given, a <details> in it is
// open (a form per row: return, extend) or a field shows an error.
(function () {
  var FIELDS = "input, textarea, select, button, summary";
  function changed(field) {
    if (field.type === "hidden" || field.disabled || field.readOnly) return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    if (field.tagName === "BUTTON") return false;
    return field.value !== field.defaultValue;
  }
  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && active.matches(FIELDS)) return true;
    if (region.querySelector("details[open], .is-invalid")) return true;
    return Array.prototype.some.call(region.querySelectorAll("input, textarea, select"), changed);
  }
  function holdBack(event) {
    if (isLivePoll(event.detail) && busy(event.detail.elt)) event.preventDefault();
  }
  document.addEventListener("htmx:beforeRequest", holdBack);
  document.addEventListener("htmx:beforeSwap", function (event) {
    // the user may have started typing while the answer was on its way
    if (isLivePoll(event.detail) && busy(event.detail.elt)) event.detail.shouldSwap = false;
  });
})();
