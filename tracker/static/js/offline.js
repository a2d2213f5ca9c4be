/* The page's side of working offline (docs/offline.md; the worker is js/sw.js):
   registers the worker, says when a page is a kept copy ("Dữ liệu lúc …, đang ngoại
   tuyến"), shows the drafts kept on the phone ("chưa gửi — sẽ gửi khi có mạng") and sends
   them when the connection returns or a page loads — each with its idempotency key and a
   fresh CSRF token, so that it is recorded once, whenever it arrives. */
(function () {
  "use strict";
  var body = document.body;
  var user = body && Number(body.dataset.user);
  if (!user || !("serviceWorker" in navigator) || !window.indexedDB) return;
  var PAGES = "tracker-pages";
  var KEPT_PAGE = /^\/(today|tasks\/\d+)$/;
  var banner = document.querySelector("[data-testid=offline-banner]");
  var status = document.querySelector("[data-testid=drafts-status]");
  var sending = false;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("tracker-offline", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("drafts", { keyPath: "key" });
        request.result.createObjectStore("meta", { keyPath: "name" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function inStore(store, mode, act) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode);
        var request = act(tx.objectStore(store));
        tx.oncomplete = function () { db.close(); resolve(request && request.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function myDrafts() {
    return inStore("drafts", "readonly", function (s) { return s.getAll(); })
      .then(function (all) { return all.filter(function (d) { return d.user === user; }); });
  }

  function showBanner() {
    if (banner) banner.hidden = !(body.dataset.pageState === "kept" || !navigator.onLine);
  }

  function line(text, className) {
    var p = document.createElement(className === "li" ? "li" : "p");
    if (className !== "li") p.className = "flash " + className;
    p.textContent = text;
    return p;
  }

  function render(results) {
    return myDrafts().then(function (drafts) {
      document.querySelectorAll("[data-drafts-for]").forEach(function (list) {
        list.textContent = "";
        list.hidden = true;
      });
      status.textContent = "";
      (results || []).forEach(function (r) { status.appendChild(line(r.text, r.kind)); });
      drafts.forEach(function (d) {
        var list = document.querySelector("[data-drafts-for='" + d.task + "']") || status;
        var done = d.fields.find(function (f) { return /work_done$/.test(f[0]); });
        var item = line((done ? done[1] : "") + " — " + (d.state === "refused"
          ? status.dataset.refused + ": " + d.error : status.dataset.pending), "li");
        item.className = "draft draft-" + d.state;
        item.dataset.testid = "draft";
        if (d.state === "refused") {
          var discard = document.createElement("button");
          discard.type = "button";
          discard.className = "link";
          discard.textContent = status.dataset.discard;
          discard.addEventListener("click", function () {
            inStore("drafts", "readwrite", function (s) { return s.delete(d.key); })
              .then(function () { render(); });
          });
          item.appendChild(discard);
        }
        list.appendChild(item);
        list.hidden = false;
      });
      status.hidden = !status.childNodes.length;
    });
  }

  function freshToken() {
    return fetch("/offline/csrf-token", { cache: "no-store", redirect: "manual",
                                          headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("login");
        return response.json();
      }).then(function (data) { return data.csrf_token; });
  }

  function post(draft, token) {
    var form = new FormData();
    draft.fields.forEach(function (f) {
      if (/csrf_token$/.test(f[0])) form.append(f[0], token);
      else if (f[1] instanceof Blob) form.append(f[0], f[1], f[1].name || "");
      else form.append(f[0], f[1]);
    });
    return fetch(draft.action, { method: "POST", body: form, redirect: "manual",
                                 headers: { Accept: "application/json", "X-CSRFToken": token } })
      .then(function (response) {
        if (response.type === "opaqueredirect") throw new Error("login");
        return response.json().catch(function () { return {}; })
          .then(function (answer) { return { status: response.status, answer: answer }; });
      });
  }

  function sendOne(draft, token, results, retried) {
    return (token ? Promise.resolve(token) : freshToken()).then(function (token) {
      return post(draft, token).then(function (sent) {
        if (sent.status === 400 && sent.answer.code === "csrf" && !retried) {
          return sendOne(draft, null, results, true);  // a stale token: a fresh one, once
        }
        if (sent.status === 200) {
          (sent.answer.messages || []).forEach(function (text, i) {
            results.push({ text: (i ? "" : status.dataset.sent + ": ") + text,
                           kind: i ? "flash-error later-day" : "flash-success" });
          });
          return inStore("drafts", "readwrite", function (s) { return s.delete(draft.key); })
            .then(function () { return token; });
        }
        if (sent.status >= 400 && sent.status < 500 && sent.status !== 409 && sent.status !== 429) {
          draft.state = "refused";
          draft.error = sent.answer.message || String(sent.status);
          return inStore("drafts", "readwrite", function (s) { return s.put(draft); })
            .then(function () { return token; });
        }
        throw new Error("later");  // in flight elsewhere, or the server unavailable
      });
    });
  }

  function sendDrafts() {
    if (sending || !navigator.onLine) return Promise.resolve();
    sending = true;
    var results = [];
    var run = function () {
      return myDrafts().then(function (drafts) {
        var pending = drafts.filter(function (d) { return d.state === "pending"; });
        return pending.reduce(function (chain, draft) {
          return chain.then(function (token) { return sendOne(draft, token, results); });
        }, Promise.resolve(null));
      });
    };
    var locked = navigator.locks ? navigator.locks.request("tracker-drafts", run) : run();
    return locked.catch(function (err) {
      if (err.message === "login") results.push({ text: status.dataset.login, kind: "flash-error" });
      else setTimeout(sendDrafts, 15000);
    }).then(function () {
      sending = false;
      body.dataset.draftsSent = String(Number(body.dataset.draftsSent || 0) + 1);
      return render(results);
    });
  }

  function tellWorker() {
    // Whose page this is: the worker drops what another user left on the phone (kept
    // pages, drafts, push). A page loaded before the worker ran is kept by it from here.
    var keep = body.dataset.pageState === "live" && KEPT_PAGE.test(location.pathname)
      ? location.href.split("#")[0] : null;
    var told = navigator.serviceWorker.ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { resolve(); };
        registration.active.postMessage({ type: "page", user: user, keep: keep }, [channel.port2]);
      });
    });
    var late = new Promise(function (resolve) { setTimeout(resolve, 5000); });
    return Promise.race([told, late]).catch(function () { return null; });
  }

  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  tellWorker().then(sendDrafts);
  document.querySelectorAll("form[action='/logout']").forEach(function (form) {
    form.addEventListener("submit", function () {
      // The worker does the same when it sees the logout; this covers a page it does not control.
      caches.delete(PAGES);
      navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription();
      }).then(function (subscription) { return subscription && subscription.unsubscribe(); })
        .catch(function () { return null; });
    });
  });
  window.addEventListener("online", function () { showBanner(); sendDrafts(); });
  window.addEventListener("offline", showBanner);
  showBanner();
  render();
})();
