// Live hint for deadlines given as "5w" / "10d": asks the server which date that is.
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
        if (!value) { hint.textContent = ""; return; }
        fetch(input.dataset.deadlinePreview + "?deadline=" + encodeURIComponent(value),
              {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (data) { hint.textContent = data.ok ? "→ " + data.text : data.message; })
          .catch(function () { hint.textContent = ""; });
      }, 250);
    });
  });
})();
