// Small behaviours shared by every page. Page-specific scripts live next to their templates' blocks.
(function () {
  "use strict";
  // After an htmx swap, move focus to the first error so keyboard and screen-reader users hear it.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var err = ev.detail.target.querySelector('[role="alert"]');
    if (err) { err.setAttribute("tabindex", "-1"); err.focus(); }
  });
  // A failed request (network or server) must not vanish silently.
  document.addEventListener("htmx:sendError", function (ev) {
    alert(document.documentElement.lang === "en" ? "Network error: nothing was sent. Please retry."
                                                    : "网络异常，未能提交，请稍后重试。");
  });

  // Signing out on a shared phone: the report drafts (text, location, photos) kept by report.js go too.
  // The server's Clear-Site-Data header does the same where the browser honours it; this also warns first.
  var DRAFT_DB = "taizhang", DRAFT_STORE = "drafts", DRAFT_PREFIX = "taizhang-report-draft-";
  function countDrafts() {
    var local = 0;
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        if (window.localStorage.key(i).indexOf(DRAFT_PREFIX) === 0) { local++; }
      }
    } catch (e) { /* storage disabled */ }
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(local); return; }
      var req = indexedDB.open(DRAFT_DB);
      req.onupgradeneeded = function () { req.transaction.abort(); }; // no database yet: nothing kept
      req.onerror = function () { resolve(local); };
      req.onsuccess = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(DRAFT_STORE)) { db.close(); resolve(local); return; }
        var count = db.transaction(DRAFT_STORE, "readonly").objectStore(DRAFT_STORE).count();
        count.onsuccess = function () { db.close(); resolve(local + count.result); };
        count.onerror = function () { db.close(); resolve(local); };
      };
    });
  }
  function forgetDrafts() {
    try {
      var keys = [];
      for (var i = 0; i < window.localStorage.length; i++) { keys.push(window.localStorage.key(i)); }
      keys.forEach(function (k) { if (k.indexOf(DRAFT_PREFIX) === 0) { window.localStorage.removeItem(k); } });
    } catch (e) { /* storage disabled */ }
    return new Promise(function (resolve) {
      if (!window.indexedDB) { resolve(); return; }
      var req = indexedDB.deleteDatabase(DRAFT_DB);
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    });
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-logout")) { return; }
    ev.preventDefault();
    var en = document.documentElement.lang === "en";
    var unanswered = new Promise(function (r) { setTimeout(function () { r(0); }, 1000); });
    Promise.race([countDrafts(), unanswered]).then(function (n) {
      if (n && !window.confirm(en ? "This phone keeps " + n + " unsent report draft(s). Signing out deletes them. Sign out?"
                                  : "本机有 " + n + " 份未提交的上报草稿，退出后将被删除。确定退出吗？")) { return; }
      // Never keep a person from signing out: a storage that does not answer is given a second.
      unanswered = new Promise(function (r) { setTimeout(r, 1000); });
      Promise.race([forgetDrafts(), unanswered]).then(function () {
        form.submit();
      });
    });
  });
})();
