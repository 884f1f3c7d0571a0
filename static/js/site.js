/* The site's shared behaviours (loaded with `defer` by templates/base.html on every page).
   Pages opt in with data attributes; every page also works without this file:
   - <button type="button" data-copy="#id">: copies the element's value or text, says "Copied".
   - <div class="tabs" data-tabs> with <button data-tab="x"> and <div data-panel="x">:
     one panel at a time (without script, all of them, each under its own title).
   - <input type="search" data-filter="#tableId">: hides the table's body rows that do not
     contain the query (the form's server-side ?q= works without script).
   No inline scripts anywhere: the pages will get a Content-Security-Policy. */
(function () {
  "use strict";

  var COPIED_FOR_MS = 2000;

  // ---- Copy buttons ----------------------------------------------------------------
  function textOf(element) {
    if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
      return element.value;
    }
    return element.textContent.replace(/^\n+|\s+$/g, "");
  }

  function copyWithSelection(text) {
    // Clipboard API needs a secure context (https or localhost); plain http needs this.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (error) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyWithSelection(text);
      });
    }
    return copyWithSelection(text);
  }

  function flash(button, label, ok) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    window.clearTimeout(Number(button.dataset.timer || 0));
    button.textContent = label;
    button.classList.toggle("copied", ok);
    button.dataset.timer = String(
      window.setTimeout(function () {
        button.textContent = button.dataset.label;
        button.classList.remove("copied");
      }, COPIED_FOR_MS)
    );
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    copy(textOf(target)).then(
      function () { flash(button, "Copied", true); },
      function () { flash(button, "Press Ctrl+C", false); selectText(target); }
    );
  });

  function selectText(element) {
    if (element.select) {
      element.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // ---- Tabs ------------------------------------------------------------------------
  var tabsSeen = 0;

  function setUpTabs(container) {
    var owned = function (el) { return el.closest("[data-tabs]") === container; };
    var tabs = Array.prototype.filter.call(container.querySelectorAll("[data-tab]"), owned);
    var panels = Array.prototype.filter.call(container.querySelectorAll("[data-panel]"), owned);
    if (!tabs.length || !panels.length) return;
    var list = tabs[0].parentElement;
    list.setAttribute("role", "tablist");
    tabsSeen += 1;

    function panelFor(name) {
      return panels.filter(function (p) { return p.getAttribute("data-panel") === name; })[0];
    }

    function select(tab, focus) {
      tabs.forEach(function (other) {
        var chosen = other === tab;
        other.setAttribute("aria-selected", chosen ? "true" : "false");
        other.tabIndex = chosen ? 0 : -1;
        var panel = panelFor(other.getAttribute("data-tab"));
        if (panel) panel.hidden = !chosen;
      });
      if (focus) tab.focus();
    }

    tabs.forEach(function (tab, i) {
      var name = tab.getAttribute("data-tab");
      var panel = panelFor(name);
      var base = "tabs" + tabsSeen + "-" + i;
      tab.setAttribute("role", "tab");
      tab.id = tab.id || base + "-tab";
      if (panel) {
        panel.id = panel.id || base + "-panel";
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.id);
        panel.tabIndex = 0;
        tab.setAttribute("aria-controls", panel.id);
      }
      tab.addEventListener("click", function () { select(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = tabs[(i + 1) % tabs.length];
        else if (event.key === "ArrowLeft") next = tabs[(i - 1 + tabs.length) % tabs.length];
        else if (event.key === "Home") next = tabs[0];
        else if (event.key === "End") next = tabs[tabs.length - 1];
        if (next) {
          event.preventDefault();
          select(next, true);
        }
      });
    });
    select(tabs[0], false);
    container.classList.add("tabs-ready");
  }

  // ---- Table filter ----------------------------------------------------------------
  function setUpFilter(input) {
    var table = document.querySelector(input.getAttribute("data-filter"));
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies.length ? table.tBodies[0].rows : []);
    var emptyNote = document.querySelector(
      '[data-filter-empty="' + input.getAttribute("data-filter") + '"]'
    );
    var status = document.querySelector(
      '[data-filter-status="' + input.getAttribute("data-filter") + '"]'
    );

    function apply() {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var match = !query || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !match;
        if (match) shown += 1;
      });
      if (emptyNote) emptyNote.hidden = shown !== 0;
      if (status) status.textContent = shown + " of " + rows.length + " shown";
    }

    input.addEventListener("input", apply);
    if (input.value) apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-tabs]"), setUpTabs);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), setUpFilter);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
