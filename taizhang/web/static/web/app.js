// Small behaviours shared by every page. Page-specific scripts live next to their templates' blocks.
(function () {
  "use strict";
  // After an htmx swap, move focus to the first error so keyboard and screen-reader users hear it.
  document.addEventListener("htmx:afterSwap", function (ev) {
    var err = ev.detail.target.querySelector('[role="alert"]');
    if (err) { err.setAttribute("tabindex", "-1"); err.focus(); }
  });
  // A select marked data-autosubmit sends its form when changed (the language switch): no inline handlers,
  // the Content-Security-Policy refuses them.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });
  // A failed request (network or server) must not vanish silently.
  document.addEventListener("htmx:sendError", function (ev) {
    alert(document.documentElement.lang === "en" ? "Network error: nothing was sent. Please retry."
                                                    : "网络异常，未能提交，请稍后重试。");
  });

  // The report drafts (text, location, photos) live in one IndexedDB store, or in localStorage under the
  // draft key report/views.py gives, when IndexedDB is unavailable. report.js keeps them; sign-out forgets them.
  var drafts = window.TaizhangDrafts = {
    DB: "taizhang",
    STORE: "drafts",
    PREFIX: "taizhang-report-draft-",
    // The database, its store created if `create`; without `create` a database not made yet is null.
    open: function (create) {
      return new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no indexedDB")); return; }
        var req = create ? indexedDB.open(drafts.DB, 1) : indexedDB.open(drafts.DB);
        req.onupgradeneeded = function () {
          if (create) { req.result.createObjectStore(drafts.STORE); } else { req.transaction.abort(); }
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { if (create) { reject(req.error); } else { resolve(null); } };
      });
    }
  };

  // Signing out on a shared phone: the drafts go too. The server's Clear-Site-Data header does the same
  // where the browser honours it; this also warns first.
  var DRAFT_DB = drafts.DB, DRAFT_STORE = drafts.STORE, DRAFT_PREFIX = drafts.PREFIX;
  function countDrafts() {
    var local = 0;
    try {
      for (var i = 0; i < window.localStorage.length; i++) {
        if (window.localStorage.key(i).indexOf(DRAFT_PREFIX) === 0) { local++; }
      }
    } catch (e) { /* storage disabled */ }
    return drafts.open(false).then(function (db) {
      if (!db) { return local; }
      if (!db.objectStoreNames.contains(DRAFT_STORE)) { db.close(); return local; }
      return new Promise(function (resolve) {
        var count = db.transaction(DRAFT_STORE, "readonly").objectStore(DRAFT_STORE).count();
        count.onsuccess = function () { db.close(); resolve(local + count.result); };
        count.onerror = function () { db.close(); resolve(local); };
      });
    }, function () { return local; });
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
