/* Notice archive: small progressive enhancements. Loaded from 'self' only (the CSP forbids
   inline script); every feature works without it, this only makes phones and forms nicer. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  // The reader's 字号 choice, applied before the page is drawn (no jump when it loads).
  var SIZES = ["l", "m", "s"];
  try {
    var savedSize = window.localStorage.getItem("doc-font-size");
    if (SIZES.indexOf(savedSize) >= 0) root.classList.add("doc-size-" + savedSize);
  } catch (e) { /* storage blocked: default size */ }

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

  // Submit without empty fields, so the URL carries only what was chosen (the server also
  // tidies URLs, this saves the redirect).
  function tidyForms() {
    Array.prototype.forEach.call(document.querySelectorAll("form[method=get]"), function (form) {
      form.addEventListener("submit", function () {
        Array.prototype.forEach.call(form.elements, function (el) {
          if (el.name && !el.disabled && (el.type !== "radio" && el.type !== "checkbox" || el.checked) && el.value.trim() === "") {
            el.disabled = true;
          }
        });
      });
    });
    // 文种 applies as soon as it is chosen
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), function (sel) {
      sel.addEventListener("change", function () {
        if (sel.form.requestSubmit) sel.form.requestSubmit(); else sel.form.submit();
      });
    });
    // 自定义 focuses the start date box
    Array.prototype.forEach.call(document.querySelectorAll(".custom-dates"), function (a) {
      a.addEventListener("click", function (ev) {
        var box = document.getElementById("from");
        if (box) { ev.preventDefault(); box.focus(); }
      });
    });
  }

  // 地区 box: regions from the division table as one types (a datalist the browser shows).
  function regionSuggest() {
    var box = document.querySelector("input[data-suggest]");
    if (!box || !window.fetch) return;
    var list = document.getElementById(box.getAttribute("list"));
    var timer = null, last = "";
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var typed = box.value.trim();
        if (!typed || typed === last) return;
        last = typed;
        fetch(box.getAttribute("data-suggest") + "?q=" + encodeURIComponent(typed), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {suggestions: []}; })
          .then(function (data) {
            if (box.value.trim() !== typed) return;
            while (list.firstChild) list.removeChild(list.firstChild);
            data.suggestions.forEach(function (s) {
              var opt = document.createElement("option");
              opt.value = s.value;
              opt.label = s.path + "（" + s.count + " 条）";
              list.appendChild(opt);
            });
          })
          .catch(function () {});
      }, 120);
    });
  }

  // 复制链接 / 复制地址: any button with data-copy; the result is said in the nearest status line.
  function copyButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (btn) {
      var status = document.getElementById(btn.getAttribute("data-status"));
      btn.hidden = false;
      function say(msg) {
        if (!status) return;
        status.textContent = "";
        setTimeout(function () { status.textContent = msg; }, 30);
      }
      btn.addEventListener("click", function () {
        var url = btn.getAttribute("data-copy");
        function fallback() {
          var box = document.createElement("textarea");
          box.value = url;
          box.setAttribute("readonly", "");
          box.className = "visually-hidden";
          document.body.appendChild(box);
          box.select();
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          document.body.removeChild(box);
          say(ok ? "已复制" + (btn.getAttribute("data-what") || "链接") : "无法自动复制，请手动复制：" + url);
        }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(url).then(function () { say("已复制" + (btn.getAttribute("data-what") || "链接")); }, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  // Document page tools: 【打印】, 【字号 大 中 小】 (remembered), the highlight switch.
  function docTools() {
    var bar = document.getElementById("doc-tools");
    if (!bar) return;
    var doc = document.getElementById("doc");
    var print = bar.querySelector("[data-print]");
    print.addEventListener("click", function () { window.print(); });

    var sizes = bar.querySelectorAll("[data-font-size]");
    function setSize(size) {
      SIZES.forEach(function (s) { root.classList.toggle("doc-size-" + s, s === size); });
      Array.prototype.forEach.call(sizes, function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-font-size") === size));
      });
    }
    var current = SIZES.filter(function (s) { return root.classList.contains("doc-size-" + s); })[0];
    if (current) setSize(current);
    Array.prototype.forEach.call(sizes, function (b) {
      b.addEventListener("click", function () {
        var size = b.getAttribute("data-font-size");
        setSize(size);
        try { window.localStorage.setItem("doc-font-size", size); } catch (e) { /* private mode */ }
      });
    });

    var marks = bar.querySelector("[data-toggle-marks]");
    if (marks) {
      marks.addEventListener("click", function () {
        var on = marks.getAttribute("aria-pressed") !== "true";
        marks.setAttribute("aria-pressed", String(on));
        doc.classList.toggle("no-marks", !on);
      });
    }
  }

  ready(function () {
    filterToggle();
    chartToggle();
    tidyForms();
    regionSuggest();
    docTools();
    copyButtons();
  });
})();
