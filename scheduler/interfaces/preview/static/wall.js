"use strict";
// The social wall: poll the feed, add the new posts on top, keep at most data-max-posts cards.
// Bounded by design: one timer, no listener per card. A photo is decoded into an ImageBitmap
// no wider than its card, handed to the card's canvas, and dropped with the card: an <img>
// would leave its decoded pixels in the browser's image cache long after the card is gone
// (an hour of photos grew the page by hundreds of MB). A video lets go of its source.
(function () {
  var body = document.body;
  var feed = body.dataset.feed;
  var pollMs = Number(body.dataset.pollMs) || 2000;
  var maxPosts = Number(body.dataset.maxPosts) || 30;
  var maxBackoffMs = Number(body.dataset.maxBackoffMs) || 30000;
  var grid = document.getElementById("wall");
  var note = document.getElementById("wall-status");
  var empty = document.getElementById("wall-empty");
  var cards = new Map(); // post id -> {el, key, counts}
  var cursor = "";
  var failures = 0;
  var state = { polls: 0, failures: 0, stale: false, added: 0, removed: 0 };
  window.storylineWall = state;

  var COUNT_NAMES = [
    ["views", "views"], ["reach", "reached"], ["impressions", "seen"], ["likes", "likes"],
    ["comments", "comments"], ["shares", "shares"], ["saves", "saves"], ["clicks", "clicks"]
  ];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function fillCounts(box, counts) {
    box.textContent = "";
    COUNT_NAMES.forEach(function (pair) {
      var value = counts[pair[0]];
      if (value === undefined || value === null) { return; }
      var item = el("span");
      item.appendChild(el("b", null, Number(value).toLocaleString()));
      item.appendChild(document.createTextNode(" " + pair[1]));
      box.appendChild(item);
    });
  }

  function card(p) {
    var root = el("article", "wall-post");
    root.dataset.postId = p.id;
    root.dataset.network = p.network;
    root.style.setProperty("--network", p.color);
    var meta = el("div", "wall-meta");
    meta.appendChild(el("span", "wall-badge", p.network_label));
    meta.appendChild(el("span", "wall-market", p.market));
    if (p.outbox) { meta.appendChild(el("span", "wall-outbox", "outbox")); }
    var time = el("span", "wall-time", p.local_day + " " + p.local_time);
    time.title = p.zone;
    meta.appendChild(time);
    root.appendChild(meta);
    var first = p.media.length ? p.media[0] : null;
    if (first) {
      var media;
      if (first.kind === "video") {
        media = el("video", "wall-media");
        media.muted = true; media.loop = true; media.autoplay = true; media.playsInline = true;
        media.preload = "auto";
        media.src = first.src;
      } else {
        media = el("canvas", "wall-media");
        media.setAttribute("role", "img");
        media.setAttribute("aria-label", first.alt || "");
        media.width = 0;
        media.height = 0;
      }
      root.appendChild(media);
    }
    if (p.title) { root.appendChild(el("h2", "wall-title", p.title)); }
    root.appendChild(el("p", "wall-text", p.text));
    var counts = el("div", "wall-counts");
    fillCounts(counts, p.counts || {});
    root.appendChild(counts);
    return root;
  }

  function fit(bitmap, canvas) {
    // At most as wide as the card shows it: a 4000-pixel photo costs a card's width, no more.
    // The card's width: an off-screen card's contents are not laid out (content-visibility).
    var card = canvas.parentElement || canvas;
    var wide = Math.max(1, Math.round(card.clientWidth * (window.devicePixelRatio || 1)));
    if (bitmap.width <= wide) { return Promise.resolve(bitmap); }
    return createImageBitmap(bitmap, { resizeWidth: wide, resizeQuality: "medium" })
      .then(function (small) { bitmap.close(); return small; });
  }

  function paint(canvas, src) {
    fetch(src)
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.blob();
      })
      .then(function (blob) { return createImageBitmap(blob); })
      .then(function (bitmap) { return fit(bitmap, canvas); })
      .then(function (bitmap) {
        if (!canvas.isConnected) { bitmap.close(); return; }
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        // The canvas shows the bitmap itself (no copy) and owns it from here.
        canvas.getContext("bitmaprenderer").transferFromImageBitmap(bitmap);
        canvas.dataset.painted = "1";
      })
      .catch(function () { canvas.remove(); });
  }

  function release(entry) {
    entry.el.querySelectorAll("canvas").forEach(function (c) {
      if (c.dataset.painted) { c.getContext("bitmaprenderer").transferFromImageBitmap(null); }
      c.width = 0;
      c.height = 0;
    });
    entry.el.querySelectorAll("video").forEach(function (v) {
      v.removeAttribute("src");
      v.load();
    });
    entry.el.remove();
  }

  function place(p) {
    var key = p.published_at + "\u0000" + p.id;
    var known = cards.get(p.id);
    var counts = JSON.stringify(p.counts || {});
    if (known) {
      if (known.counts !== counts) {
        fillCounts(known.el.querySelector(".wall-counts"), p.counts || {});
        known.counts = counts;
      }
      return;
    }
    var oldest = grid.lastElementChild;
    if (cards.size >= maxPosts && oldest && cards.get(oldest.dataset.postId).key > key) {
      return; // counted again, but older than every card shown: it would leave at once
    }
    var entry = { el: card(p), key: key, counts: counts };
    var before = null;
    for (var child = grid.firstElementChild; child; child = child.nextElementSibling) {
      if (cards.get(child.dataset.postId).key < key) { before = child; break; }
    }
    grid.insertBefore(entry.el, before);
    cards.set(p.id, entry);
    var canvas = entry.el.querySelector("canvas");
    if (canvas && p.media.length) { paint(canvas, p.media[0].src); }
    state.added += 1;
  }

  function apply(posts) {
    posts.forEach(place);
    while (cards.size > maxPosts) {
      var last = grid.lastElementChild;
      var id = last.dataset.postId;
      release(cards.get(id));
      cards.delete(id);
      state.removed += 1;
    }
    empty.hidden = cards.size > 0;
  }

  function show(problem) {
    state.stale = Boolean(problem);
    note.hidden = !problem;
    note.textContent = problem ? "Reconnecting… (" + problem + ")" : "";
  }

  function url() {
    if (!cursor) { return feed; }
    return feed + (feed.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(cursor);
  }

  function poll() {
    state.polls += 1;
    var abort = new AbortController();
    var timer = window.setTimeout(function () { abort.abort(); }, 10000);
    fetch(url(), { cache: "no-store", signal: abort.signal })
      .then(function (response) {
        return response.json().then(function (data) { return [response.ok, data]; });
      })
      .then(function (answer) {
        var data = answer[1];
        if (data && Array.isArray(data.posts)) { apply(data.posts); }
        if (!answer[0]) { throw new Error(data && data.error ? "database unavailable" : "server error"); }
        cursor = data.cursor || cursor;
        failures = 0;
        show("");
        return pollMs;
      })
      .catch(function (error) {
        failures += 1;
        state.failures += 1;
        show(error && error.message ? error.message : "no answer");
        return Math.min(pollMs * Math.pow(2, failures), maxBackoffMs);
      })
      .then(function (wait) {
        window.clearTimeout(timer);
        window.setTimeout(poll, wait);
      });
  }

  poll();
})();
