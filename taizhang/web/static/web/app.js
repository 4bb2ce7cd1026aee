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
})();
