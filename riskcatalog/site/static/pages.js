/* What the catalogue's pages do in the browser, loaded in <head> on every page (extra_js_urls).

   Large-text mode (长者模式), remembered on this device (riskcatalog.site.textsize).
   The class on <html> is right before the page is drawn: from localStorage where
   this device saved a choice, else from the cookie the server already read. The cookie is kept equal
   to it, so the server draws the next page the same way, with JavaScript or without. The switch is a
   form (_text_size.html) that works without this script; with it, the page changes in place. */
(function () {
  "use strict";
  var KEY = "riskcatalog-text", LARGE = "large-text", root = document.documentElement;

  function saved() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }  // storage may be off
  }
  function remember(size) {
    try { window.localStorage.setItem(KEY, size); } catch (e) { /* the cookie still remembers */ }
    document.cookie = KEY + "=" + size + "; path=/; max-age=31536000; samesite=lax";
  }
  function cookie() {
    var found = document.cookie.match(new RegExp("(?:^|;\\s*)" + KEY + "=([^;]*)"));
    return found ? found[1] : null;
  }

  var size = saved();
  if (size === "large" || size === "normal") {
    root.classList.toggle(LARGE, size === "large");
    if (cookie() !== size) remember(size);
  } else {
    remember(root.classList.contains(LARGE) ? "large" : "normal");
  }

  // The switch: a toggle button whose form also works without this script.
  function show(form, large) {
    form.querySelector("button").setAttribute("aria-pressed", large ? "true" : "false");
    form.querySelector("input[name=size]").value = large ? "normal" : "large";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.text-size");
    if (form) {
      show(form, root.classList.contains(LARGE));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var large = !root.classList.contains(LARGE);
        root.classList.toggle(LARGE, large);
        remember(large ? "large" : "normal");
        show(form, large);
      });
    }
  });
  // A label for Datasette's SQL editor: CodeMirror, started by the page's onload, types into a
  // textarea of its own, unlabelled; this runs once it has.
  window.addEventListener("load", function () {
    window.setTimeout(function () {
      document.querySelectorAll(".CodeMirror textarea:not([aria-label])").forEach(function (area) {
        area.setAttribute("aria-label", "SQL 查询 SQL query");
      });
    }, 0);
  });
})();
