/* The time left to the cutoff, ticking. The server writes the starting value, so the page
   is complete without JavaScript; this only keeps it live. The server's clock is the
   reference: the offset between it and this device's clock is taken once at load, so a
   phone whose clock is wrong still counts down to the real cutoff. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(seconds, dayLabel) {
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    var text = pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) +
      ":" + pad(rest % 60);
    return days > 0 ? days + " " + dayLabel + " " + text : text;
  }

  function start(el) {
    var target = Date.parse(el.getAttribute("data-countdown-to"));
    var serverNow = Date.parse(el.getAttribute("data-server-now"));
    if (isNaN(target) || isNaN(serverNow)) { return; }
    var offset = serverNow - Date.now();
    var box = el.closest(".countdown");
    function tick() {
      var left = Math.max(0, Math.floor((target - (Date.now() + offset)) / 1000));
      if (left === 0) {
        el.textContent = el.getAttribute("data-passed") || "00:00:00";
        if (box) { box.classList.add("urgent"); }
        return false;
      }
      el.textContent = format(left, el.getAttribute("data-day-label") || "d");
      if (box) {
        box.classList.toggle("urgent", left < 3600);
        box.classList.toggle("soon", left >= 3600 && left < 7200);
      }
      return true;
    }
    if (tick()) {
      var timer = setInterval(function () { if (!tick()) { clearInterval(timer); } }, 1000);
    }
  }

  function init() {
    var clocks = document.querySelectorAll("[data-countdown-to]");
    for (var i = 0; i < clocks.length; i++) { start(clocks[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
