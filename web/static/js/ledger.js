/* The ledger list: choosing a unit or a sort order applies it at once, and the
   header checkbox selects every row of the page.  The page works without it. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) { select.form.submit(); }
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
