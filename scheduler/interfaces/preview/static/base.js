"use strict";
// "see more": reveal the part of a post the feed hides behind its fold.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest(".see-more") : null;
  if (!button) { return; }
  var text = button.parentElement;
  var hidden = text.querySelector(".hidden-part");
  if (hidden) { hidden.hidden = false; }
  text.classList.add("expanded");
});
