// Live hint for deadlines ("5w", "10个工作日", "12月31日"): asks the server which date that
// is, or why it cannot be the deadline (past, more than two years ahead), shown as an error.
(function () {
  "use strict";
  function hintFor(input) {
    var el = input.parentElement;
    while (el && !el.querySelector(".deadline-hint")) { el = el.parentElement; }
    return el ? el.querySelector(".deadline-hint") : null;
  }
  var timer = null;
  document.querySelectorAll("input[data-deadline-preview]").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var hint = hintFor(input);
        var value = input.value.trim();
        if (!hint) { return; }
        if (!value) { hint.textContent = ""; hint.classList.remove("text-danger"); return; }
        fetch(input.dataset.deadlinePreview + "?deadline=" + encodeURIComponent(value),
              {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (data) {
            hint.textContent = data.ok ? "→ " + data.text : data.message;
            hint.classList.toggle("text-danger", !data.ok);
          })
          .catch(function () { hint.textContent = ""; hint.classList.remove("text-danger"); });
      }, 250);
    });
  });
})();
