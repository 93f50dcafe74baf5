/* Filtered lists (the ledger, the overdue board): choosing a unit or a sort
   order applies it at once, empty filters stay out of the address, and the
   header checkbox selects every row of the page.  The pages work without it. */
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (filters) {
    filters.addEventListener("submit", function () {
      Array.prototype.forEach.call(filters.elements, function (el) {
        if (el.name && el.value === "") { el.disabled = true; }
      });
    });
    // coming back to the page (browser history) finds the fields usable again
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
}());
