/* The unit picker: a text box above a list of units (a <select>, or a list of check boxes)
   that narrows it as one types, the way the search does — any case, with or without
   diacritics, "d" for "đ", composed or not. Without JavaScript the list is there as it
   was; this only adds the box.

   Each option (or list item) carries `data-search`, its name folded by the server
   (tracker.rules.vietnamese.fold); only what is typed is folded here, by `fold`, the
   JavaScript twin of that function (tests/e2e/test_search_browser.py proves they agree).
   A chosen unit always stays visible. */
(function () {
  "use strict";

  function fold(text) {
    return text.replace(/[đĐðÐ]/g, "d").normalize("NFD").replace(/\p{M}/gu, "")
      .toLowerCase().split(/\s+/).filter(Boolean).join(" ");
  }

  function entries(list) {
    if (list.tagName === "SELECT") {
      return Array.prototype.filter.call(list.options, function (o) { return o.value; })
        .map(function (o) { return { el: o, chosen: function () { return o.selected; } }; });
    }
    return Array.prototype.map.call(list.querySelectorAll("[data-search]"), function (li) {
      var box = li.querySelector("input[type=checkbox]");
      return { el: li, chosen: function () { return box !== null && box.checked; } };
    });
  }

  function enhance(list) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "unit-filter";
    box.setAttribute("aria-label", list.getAttribute("data-unit-picker") || "");
    box.placeholder = list.getAttribute("data-unit-picker") || "";
    box.setAttribute("autocomplete", "off");
    if (list.id) { box.setAttribute("aria-controls", list.id); }
    var count = document.createElement("span");
    count.className = "unit-filter-count muted";
    count.setAttribute("aria-live", "polite");
    var template = list.getAttribute("data-picker-count") || "%(n)s";
    var items = entries(list);

    function filter() {
      var wanted = fold(box.value);
      var shown = 0;
      items.forEach(function (item) {
        var match = !wanted || item.chosen() ||
          (item.el.getAttribute("data-search") || "").indexOf(wanted) !== -1;
        item.el.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = wanted ? template.replace("%(n)s", String(shown)) : "";
    }

    box.addEventListener("input", filter);
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // typing is not submitting
    });
    list.parentNode.insertBefore(box, list);
    list.parentNode.insertBefore(count, list);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-unit-picker]"), enhance);
  }

  window.trackerFold = fold;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
