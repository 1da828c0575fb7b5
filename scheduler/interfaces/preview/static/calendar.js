"use strict";
// Filters and the month/week switch of the calendar page: no server, no framework.
(function () {
  function checkedValues(kind) {
    var values = {};
    document.querySelectorAll('input[type=checkbox][data-filter="' + kind + '"]').forEach(function (box) {
      values[box.value] = box.checked;
    });
    return values;
  }
  function apply() {
    var networks = checkedValues("network");
    var markets = checkedValues("market");
    var states = checkedValues("status");
    var shown = 0;
    document.querySelectorAll(".entry[data-post-id]").forEach(function (entry) {
      var visible = networks[entry.dataset.network] !== false &&
        markets[entry.dataset.market] !== false &&
        states[entry.dataset.status] !== false;
      entry.classList.toggle("filtered-out", !visible);
      if (visible) { shown += 1; }
    });
    document.querySelectorAll(".market-cal").forEach(function (section) {
      section.classList.toggle("filtered-out", markets[section.dataset.market] === false);
    });
    document.querySelectorAll("tr.week").forEach(function (week) {
      var any = week.querySelector(".entry[data-post-id]:not(.filtered-out)") !== null;
      week.classList.toggle("has-posts", any);
      week.classList.toggle("no-posts", !any);
    });
    var counter = document.getElementById("shown-count");
    if (counter) { counter.textContent = String(shown); }
  }
  function applyView() {
    var choice = document.querySelector('input[name="view"]:checked');
    document.body.classList.toggle("view-week", choice !== null && choice.value === "week");
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches('input[type=checkbox][data-filter]')) { apply(); }
    if (target.matches('input[name="view"]')) { applyView(); }
  });
  apply();
  applyView();
})();
