"use strict";
// storyline serve: ask the server for its content version; reload the page when it changes.
function storylineWatch(version) {
  var note = null;
  function poll() {
    fetch("/version", { cache: "no-store" })
      .then(function (response) { return response.text(); })
      .then(function (current) {
        if (note) { note.remove(); note = null; }
        if (current.trim() !== version) { window.location.reload(); return; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        if (!note) {
          note = document.createElement("div");
          note.className = "reload-note";
          note.textContent = "storyline serve is not answering";
          document.body.appendChild(note);
        }
        window.setTimeout(poll, 3000);
      });
  }
  window.setTimeout(poll, 1000);
}
