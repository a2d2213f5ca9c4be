/* Tracker's service worker (docs/offline.md), served at /sw.js so that it controls the
   whole site.

   - Static files: from the cache at once, refreshed from the network behind it.
   - /today and the task pages: from the network; each answer is kept, and with no
     connection the kept copy is shown, marked data-page-state="kept" (js/offline.js then
     says "Dữ liệu lúc …, đang ngoại tuyến").
   - An update form sent with no connection is kept as a draft in IndexedDB (with its
     idempotency key) and the member sent back to the kept page; js/offline.js sends it
     when the connection returns.
   - Each kept page is tied to its user (the page's <meta name="tracker-user">) and to its
     age (<meta name="tracker-offline-max-age">, seconds): it is shown only to the user whose
     page the phone last loaded, and only while young enough. A page of another user
     loading empties the kept pages, drops the other users' drafts and this browser's push
     subscription (it was the other user's).
   - Logging out, the login pages (/login, /login/sso…, /login/code) and any visit sent to
     the login page empty the kept pages; logging out also ends this browser's push
     subscription: another user of the phone never sees them.
   - Web Push: the notification shown, a tap opens its page. */
"use strict";

const CACHE_VERSION = "v1";
const STATIC_CACHE = "tracker-static-" + CACHE_VERSION;
const PAGES_CACHE = "tracker-pages";
const STATIC_FILES = [
  "/static/css/app.css", "/static/js/menu.js", "/static/js/unit-picker.js",
  "/static/js/countdown.js", "/static/js/offline.js", "/static/icons/tracker.svg",
  "/static/icons/tracker-192.png",
];
const KEPT_PAGE = /^\/(today|tasks\/\d+)$/;
const UPDATE_FORM = /^\/(?:today\/tasks\/(\d+)\/update|tasks\/(\d+)\/updates)$/;
const LOGIN_PAGE = /^\/login(\/|$)/;
const DB_NAME = "tracker-offline";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(STATIC_FILES))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names
    .filter((name) => name.startsWith("tracker-static-") && name !== STATIC_CACHE)
    .map((name) => caches.delete(name)))).then(() => self.clients.claim()));
});

// --- IndexedDB: the drafts, and whose pages are shown --------------------------------------

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("drafts", { keyPath: "key" });
      request.result.createObjectStore("meta", { keyPath: "name" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function inStore(store, mode, act) {
  return openDb().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = act(tx.objectStore(store));
    tx.oncomplete = () => { db.close(); resolve(request && request.result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  }));
}

function forgetPages() {
  return Promise.all([
    caches.delete(PAGES_CACHE),
    inStore("meta", "readwrite", (store) => store.delete("user")),
  ]);
}

function endPush() {
  return self.registration.pushManager.getSubscription()
    .then((subscription) => subscription && subscription.unsubscribe());
}

function knownUser() {
  return inStore("meta", "readonly", (store) => store.get("user"))
    .then((known) => (known ? known.id : null));
}

// The phone now shows `id`'s pages: what another user left here goes. "user" is whose
// pages are kept (none after a logout); "owner", whose page the browser loaded last.
async function recordUser(id) {
  const known = await knownUser();
  const owner = await inStore("meta", "readonly", (store) => store.get("owner"))
    .then((found) => (found ? found.id : null));
  if (known === id && owner === id) return;
  if (known !== id) await caches.delete(PAGES_CACHE);  // every kept page was another's
  await inStore("drafts", "readwrite", (store) => {
    store.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      if (cursor.value.user !== id) cursor.delete();
      cursor.continue();
    };
  });
  await inStore("meta", "readwrite", (store) => {
    store.put({ name: "owner", id });
    return store.put({ name: "user", id });
  });
  // This browser's push subscription was the previous user's (docs/push.md).
  if (owner !== null && owner !== id) await endPush().catch(() => null);
}

// The user and the longest keeping a page states in its <meta> tags.
function pageTag(html) {
  const user = /<meta name="tracker-user" content="(\d+)">/.exec(html);
  const age = /<meta name="tracker-offline-max-age" content="(\d+)">/.exec(html);
  return user && age ? { user: Number(user[1]), maxAge: Number(age[1]) } : null;
}

// Keep `response` (a kept page's) under `address`, stamped with its user and its age.
async function keepPage(address, response) {
  const html = await response.text();
  const tag = pageTag(html);
  if (!tag) return;
  await recordUser(tag.user);
  const headers = new Headers(response.headers);
  headers.delete("Content-Encoding");
  headers.delete("Content-Length");
  headers.set("X-Tracker-User", String(tag.user));
  headers.set("X-Tracker-Kept-At", String(Date.now()));
  headers.set("X-Tracker-Max-Age", String(tag.maxAge));
  const cache = await caches.open(PAGES_CACHE);
  await cache.put(address, new Response(html, { status: 200, headers }));
}

// The kept copy of `address` if it is the current user's and young enough; else none.
async function keptPage(address) {
  const kept = await caches.match(address, { cacheName: PAGES_CACHE });
  if (!kept) return null;
  const user = Number(kept.headers.get("X-Tracker-User"));
  const age = Date.now() - Number(kept.headers.get("X-Tracker-Kept-At"));
  const maxAge = 1000 * Number(kept.headers.get("X-Tracker-Max-Age"));
  if (user && user === await knownUser() && age >= 0 && age < maxAge) return kept;
  const cache = await caches.open(PAGES_CACHE);
  await cache.delete(address);
  return null;
}

// A page of a logged-in user loaded (js/offline.js): record whose, keep it if asked.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "page" || !Number.isInteger(data.user)) return;
  const done = recordUser(data.user).then(() => {
    if (!data.keep) return null;
    const address = new URL(data.keep, self.location.origin);
    if (address.origin !== self.location.origin || !KEPT_PAGE.test(address.pathname)) return null;
    return caches.match(address.href, { cacheName: PAGES_CACHE }).then((hit) => hit || fetch(
      address.href, { credentials: "same-origin" }).then((response) => {
      if (response.ok && !response.redirected) return keepPage(address.href, response);
      return null;
    }));
  }).catch(() => null).then(() => event.ports[0] && event.ports[0].postMessage("done"));
  event.waitUntil(done);
});

// --- fetch ----------------------------------------------------------------------------------

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (url.pathname === "/logout") {
      // Emptied before the logout reaches the server; the logout goes on whatever happens.
      event.respondWith(Promise.all([forgetPages(), endPush()]).catch(() => null)
        .then(() => fetch(request)));
    } else if (request.mode === "navigate" && UPDATE_FORM.test(url.pathname)) {
      event.respondWith(sendOrKeep(request, url));
    }
    return;
  }
  if (request.method !== "GET") return;
  if (LOGIN_PAGE.test(url.pathname)) {
    event.waitUntil(forgetPages());
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request, event));
  } else if (request.mode === "navigate" && KEPT_PAGE.test(url.pathname)) {
    event.respondWith(networkThenKept(request));
  }
});

// Served from the cache at once, refreshed behind it for the next time.
async function staticFile(request, event) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request);
  const fresh = fetch(request).then((response) => {
    if (response.ok) return cache.put(request, response.clone()).then(() => response);
    return response;
  });
  if (!hit) return fresh;
  event.waitUntil(fresh.catch(() => null));
  return hit;
}

async function networkThenKept(request) {
  try {
    const response = await fetch(request);
    const landed = new URL(response.url || request.url);
    if (response.ok && !response.redirected && KEPT_PAGE.test(landed.pathname)) {
      await keepPage(request.url, response.clone());
    } else if (LOGIN_PAGE.test(landed.pathname)) {
      await forgetPages();  // the session ended: its pages go with it
    }
    return response;
  } catch (offline) {
    const kept = await keptPage(request.url);
    if (!kept) throw offline;
    const html = (await kept.text())
      .replace('data-page-state="live"', 'data-page-state="kept"');
    return new Response(html, { status: 200, headers: kept.headers });
  }
}

async function sendOrKeep(request, url) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (offline) {
    const fields = [];
    for (const [name, value] of (await copy.formData()).entries()) fields.push([name, value]);
    const key = fields.find(([name]) => name.endsWith("idempotency_key"));
    const user = await inStore("meta", "readonly", (store) => store.get("user"));
    if (!key || !user) throw offline;
    const match = UPDATE_FORM.exec(url.pathname);
    const task = Number(match[1] || match[2]);
    await inStore("drafts", "readwrite", (store) => store.put({
      key: key[1], user: user.id, task, action: url.pathname + url.search, fields,
      kept_at: Date.now(), state: "pending",
    }));
    const back = match[1] ? "/today" + url.search + "#task-" + task : "/tasks/" + task;
    return Response.redirect(new URL(back, self.location.origin).href, 303);
  }
}

// --- Web Push ---------------------------------------------------------------------------------

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (err) { data = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "Tracker", {
    body: data.body || "", tag: data.tag, icon: "/static/icons/tracker-192.png",
    data: { url: data.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data.url || "/", self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((windows) => {
    const open = windows.find((w) => w.url === target);
    return open ? open.focus() : self.clients.openWindow(target);
  }));
});
