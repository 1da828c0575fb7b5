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
  // Story arcs: a label that would cover another one (two beats the same day, or close days)
  // moves to the next free slot: below the line, above it, then one row further out each way.
  var LABEL_ROW = 26;
  function layoutArcs() {
    document.querySelectorAll(".arc-track").forEach(function (track) {
      var labels = Array.prototype.slice.call(track.querySelectorAll(".arc-label"));
      var placed = labels.map(function (label) {
        var box = label.getBoundingClientRect();
        return { label: label, left: box.left, right: box.right };
      });
      placed.sort(function (a, b) { return a.left - b.left; });
      var slots = [];
      var deepest = 0;
      placed.forEach(function (item) {
        var slot = 0;
        while ((slots[slot] || []).some(function (other) {
          return item.left < other.right + 4 && other.left < item.right + 4;
        })) { slot += 1; }
        (slots[slot] = slots[slot] || []).push(item);
        var level = Math.floor(slot / 2);
        deepest = Math.max(deepest, level);
        var point = item.label.parentElement;
        point.classList.toggle("label-above", slot % 2 === 1);
        item.label.style.setProperty("--level", String(level));
      });
      track.style.setProperty("--lift", String(deepest * LABEL_ROW) + "px");
    });
  }
  apply();
  applyView();
  layoutArcs();
})();
