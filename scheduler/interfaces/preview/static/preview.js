"use strict";
// Filters of the preview page: networks, markets, only posts with findings. No server.
(function () {
  function checked(kind) {
    var values = {};
    document.querySelectorAll('input[type=checkbox][data-filter="' + kind + '"]').forEach(function (box) {
      values[box.value] = box.checked;
    });
    return values;
  }
  function apply() {
    var networks = checked("network");
    var markets = checked("market");
    var onlyFindings = document.getElementById("only-findings");
    var wantFindings = onlyFindings !== null && onlyFindings.checked;
    var shown = 0;
    document.querySelectorAll("article.card").forEach(function (card) {
      var visible = networks[card.dataset.network] !== false &&
        markets[card.dataset.market] !== false &&
        (!wantFindings || card.dataset.findings !== "0");
      card.hidden = !visible;
      if (visible) { shown += 1; }
    });
    document.querySelectorAll("section.market, section.beat").forEach(function (section) {
      section.hidden = section.querySelector("article.card:not([hidden])") === null;
    });
    var counter = document.getElementById("shown-count");
    if (counter) { counter.textContent = String(shown); }
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox][data-filter], #only-findings")) { apply(); }
  });
  apply();
})();
