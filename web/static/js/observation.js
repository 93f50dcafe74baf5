// The observation record saves each piece as it changes (issue 10, point 3).
// Without this script every piece is an ordinary form with its own Save button.
(function () {
  "use strict";
  var strings = document.getElementById("obs-strings");
  if (!strings) { return; }
  var SAVING = strings.dataset.saving, SAVED = strings.dataset.saved,
      FAILED = strings.dataset.failed, NOW = strings.dataset.now;

  function state(form, text, bad) {
    var el = form.querySelector(".save-state");
    if (el) { el.textContent = text; el.classList.toggle("text-danger", !!bad); }
  }

  function recount() {
    var total = 0;
    document.querySelectorAll(".checklist-group").forEach(function (group) {
      var open = 0;
      group.querySelectorAll(".line-form").forEach(function (f) {
        if (!f.querySelector("input[name=result]:checked")) { open += 1; }
      });
      var badge = group.querySelector(".group-open");
      if (badge) { badge.textContent = badge.textContent.replace(/\d+/, open); }
      total += open;
    });
    var all = document.getElementById("open-count");
    if (all) { all.textContent = all.textContent.replace(/\d+/, total); }
  }

  function save(form) {
    // one request per form at a time: a change made meanwhile is sent after it, with the
    // version the first answer brought (else the line would conflict with itself)
    if (form.dataset.saving) { form.dataset.pending = "1"; return; }
    state(form, SAVING);
    form.dataset.saving = "1";
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch", "Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (body) { return {status: response.status, body: body}; });
      })
      .then(function (answer) {
        delete form.dataset.saving;
        var body = answer.body;
        form.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
        if (body.ok) {
          form.querySelector("input[name=version]").value = body.version;
          state(form, SAVED);
          form.dataset.saved = "1";
          recount();
          if (form.dataset.pending) { delete form.dataset.pending; save(form); }
          return;
        }
        var text = body.message || FAILED;
        Object.keys(body.fields || {}).forEach(function (name) {
          var field = form.querySelector("[name=" + name + "]");
          if (field) { field.classList.add("is-invalid"); }
          text += " " + body.fields[name];
        });
        if (body.current) {
          // a stale write: show what it says now, keep what was typed, save again to override
          form.querySelector("input[name=version]").value = body.current.version;
          var now = [body.current.result, body.current.note, body.current.body,
                     body.current.score, body.current.comment]
            .filter(function (v) { return v !== null && v !== undefined && v !== ""; }).join(" · ");
          text += " " + NOW + " " + now;
        }
        delete form.dataset.pending;
        state(form, text, true);
        form.dataset.refused = "1";
      })
      .catch(function () {
        delete form.dataset.saving;
        delete form.dataset.pending;
        state(form, FAILED, true);
      });
  }

  document.querySelectorAll("form.autosave").forEach(function (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); save(form); });
    form.addEventListener("change", function () { save(form); });
  });
})();
