/* Notice archive: small progressive enhancements. Loaded from 'self' only (the CSP forbids
   inline script); every feature works without it, this only makes phones and forms nicer. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // 筛选 button (phones): opens the filter panel and the facet lists, which CSS hides there.
  function filterToggle() {
    var buttons = document.querySelectorAll("[data-toggle-filters]");
    Array.prototype.forEach.call(buttons, function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function (ev) {
        ev.preventDefault();
        var open = !document.body.classList.contains("filters-open");
        document.body.classList.toggle("filters-open", open);
        Array.prototype.forEach.call(buttons, function (b) { b.setAttribute("aria-expanded", String(open)); });
        if (open) {
          var first = document.querySelector("#filter-panel input, #filter-panel select");
          if (first && first.offsetParent !== null) first.focus();
        }
      });
    });
  }

  // The year chart is summarised in one line on phones; this button shows the chart itself.
  function chartToggle() {
    var btn = document.querySelector("[data-toggle-chart]");
    if (!btn) return;
    var fig = document.getElementById(btn.getAttribute("aria-controls"));
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var open = fig.classList.toggle("open");
      btn.setAttribute("aria-expanded", String(open));
      btn.textContent = open ? "收起图表" : "查看图表";
    });
  }

  ready(function () {
    filterToggle();
    chartToggle();
  });
})();
