/* Turning Web Push on or off for this browser (docs/push.md): the subscription is made
   with the server's VAPID key and sent to /push/subscriptions; the service worker
   (js/sw.js) shows what arrives. */
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=push-controls]");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  var state = box.querySelector("[data-testid=push-state]");

  function key(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function send(url, body) {
    return fetch(url, { method: "POST", body: JSON.stringify(body),
                        headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); });
  }
  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
  }
  function show() {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) { state.textContent = sub ? box.dataset.on : box.dataset.off; });
  }
  function on() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { state.textContent = box.dataset.denied; return; }
      return Promise.all([registration(), fetch(box.dataset.keyUrl).then(function (r) { return r.json(); })])
        .then(function (both) {
          var options = { userVisibleOnly: true, applicationServerKey: key(both[1].public_key) };
          var subscribe = function () {
            return both[0].pushManager.subscribe(options).then(function (sub) {
              return send(box.dataset.subscribeUrl, sub.toJSON()).then(function () { return sub; });
            });
          };
          // 409: this browser's subscription is still another account's (its session
          // ended without a logout): drop it and subscribe afresh, to a new endpoint.
          return subscribe().catch(function (err) {
            if (err.message !== "409") throw err;
            return both[0].pushManager.getSubscription()
              .then(function (old) { return old && old.unsubscribe(); }).then(subscribe);
          });
        })
        .then(show);
    });
  }
  function off() {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) return;
        return send(box.dataset.unsubscribeUrl, { endpoint: sub.endpoint })
          .then(function () { return sub.unsubscribe(); });
      }).then(show);
  }
  box.querySelector("[data-push=on]").addEventListener("click", function () { on().catch(show); });
  box.querySelector("[data-push=off]").addEventListener("click", function () { off().catch(show); });
  box.hidden = false;
  show();
})();
