/* The overdue board: a unit or sort order applies at once, empty filters stay out
   of the address, the header checkbox ticks every row; the notice's print button.
   The pages work without this script. */
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (filters) {
    filters.addEventListener("submit", function () {
      Array.prototype.forEach.call(filters.elements, function (el) {
        if (el.name && el.value === "") { el.disabled = true; }
      });
    });
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(filters.elements, function (el) { el.disabled = false; });
    });
  }
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.requestSubmit(); }
    });
  });
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());
