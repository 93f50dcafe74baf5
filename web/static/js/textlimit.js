// Text limits, never a silent cut.  Every text field with a limit shows a small
// "3,980 / 4,000" under it once 80% of the limit is typed, in red with how much is
// over once past it (the server then refuses the form and keeps the text).
//
// Fields rendered by the `field` macro carry `data-maxlength` (no `maxlength`, so
// the browser never cuts a paste); hand-written fields that still carry
// `maxlength` get the same counter, and a paste the browser would shorten says so.
//
// Characters are counted as the server counts them (code points, a line break one).
// The wording comes from the page (`data-text-over`, `data-text-cut` on <body>),
// translated by the server.
(function () {
  "use strict";
  var SHOW_FROM = 0.8;
  var body = document.body;
  var overText = body.getAttribute("data-text-over") || "%(n)s over the limit";
  var cutText = body.getAttribute("data-text-cut") ||
    "The pasted text was longer than the limit: %(n)s characters were left out.";
  var format = typeof Intl !== "undefined" && Intl.NumberFormat ?
    new Intl.NumberFormat(document.documentElement.lang || undefined) :
    { format: function (n) { return String(n); } };

  function length(text) {
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function limitOf(field) {
    var value = field.getAttribute("data-maxlength") || field.getAttribute("maxlength");
    var limit = parseInt(value, 10);
    return limit > 0 ? limit : 0;
  }

  function setUp(field) {
    var limit = limitOf(field);
    if (!limit || field.dataset.textLimitReady) { return; }
    field.dataset.textLimitReady = "1";
    var counter = document.createElement("div");
    counter.className = "form-text text-limit";
    counter.setAttribute("aria-live", "polite");
    counter.hidden = true;
    if (!field.id) { field.id = "text-limit-" + Math.random().toString(36).slice(2); }
    counter.id = field.id + "-count";
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
    var cutNote = "";

    function update() {
      var used = length(field.value);
      var over = used - limit;
      var show = used >= limit * SHOW_FROM || cutNote !== "";
      counter.hidden = !show;
      if (!show) { counter.textContent = ""; return; }
      var text = format.format(used) + " / " + format.format(limit);
      if (over > 0) { text += " · " + overText.replace("%(n)s", format.format(over)); }
      if (cutNote) { text += " · " + cutNote; }
      counter.textContent = text;
      counter.classList.toggle("text-danger", over > 0 || cutNote !== "");
      counter.classList.toggle("fw-semibold", over > 0 || cutNote !== "");
    }

    field.addEventListener("input", function () { cutNote = ""; update(); });
    if (field.hasAttribute("maxlength")) {
      // the browser shortens a paste to the limit: say how much was left out
      field.addEventListener("paste", function (event) {
        var data = event.clipboardData && event.clipboardData.getData("text");
        if (!data) { return; }
        var selected = field.value.slice(field.selectionStart || 0,
                                         field.selectionEnd || 0);
        var room = limit - (length(field.value) - length(selected));
        var lost = length(data) - Math.max(room, 0);
        setTimeout(function () {
          cutNote = lost > 0 ? cutText.replace("%(n)s", format.format(lost)) : "";
          update();
        }, 0);
      });
    }
    update();
  }

  document.querySelectorAll(
    "textarea[data-maxlength], input[data-maxlength]:not([type=password]), " +
    "textarea[maxlength], " +
    "input[maxlength]:not([type]), input[maxlength][type=text], " +
    "input[maxlength][type=search], input[maxlength][type=email], " +
    "input[maxlength][type=tel], input[maxlength][type=url]"
  ).forEach(setUp);
})();
