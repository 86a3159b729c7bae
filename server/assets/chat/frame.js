/* Convergence website chat: the chat frame. Everything a visitor or an agent wrote is drawn
 * with textContent: no markup from anyone is ever run. Talks only to its own server and, by
 * postMessage, to the embedding page (the allowed website named by ?site=). */
(function () {
  "use strict";
  var chat = location.pathname.split("/").pop();
  var site = new URLSearchParams(location.search).get("site") || "";
  var api = "/chat/api/" + chat + "/";
  var embedded = window.parent !== window;
  var token = null, pendingIdentity = null, page = null, known = false, settings = null, source = null;
  var last = 0, shown = {}, pending = {}, unread = 0, visible = !embedded, typingTimer = 0, lastTyping = 0;
  function $(id) { return document.getElementById(id); }
  var log = $("log"), text = $("text"), form = $("form"), error = $("error");

  function toPage(m) { if (embedded) window.parent.postMessage(m, site); }
  function call(path, body) {
    body.site = site;
    if (token) body.token = token;
    return fetch(api + path, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(body), credentials: "omit"
    }).then(function (r) {
      if (r.status === 204) return {};
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error(j.error || "The chat could not be reached (" + r.status + "). Try again.");
          e.status = r.status;
          throw e;
        }
        return j;
      });
    }, function () {
      throw new Error("No connection to the chat. Check your connection and try again.");
    });
  }
  function say(words) { error.textContent = words || ""; }

  function time(ms) {
    try { return new Date(ms).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" }); }
    catch (e) { return ""; }
  }
  function bubble(from, who, body, meta) {
    var li = document.createElement("li");
    li.className = from;
    if (who) { var w = document.createElement("span"); w.className = "who"; w.textContent = who; li.appendChild(w); }
    li.appendChild(document.createTextNode(body));
    var m = document.createElement("span"); m.className = "meta"; m.textContent = meta; li.appendChild(m);
    return li;
  }
  function scroll() { var box = $("logbox"); box.scrollTop = box.scrollHeight; }
  function add(m) {
    if (!m || shown[m.id]) return;
    shown[m.id] = true;
    last = Math.max(last, m.id);
    var mine = m.from === "visitor";
    var li = bubble(m.from, mine ? "" : (m.author || (settings && settings.name) || "Agent"), m.text,
      time(m.at) + (m.via === "email" ? " · by email" : ""));
    var placeholder = mine && m.client_id && pending[m.client_id];
    if (placeholder) { log.replaceChild(li, placeholder.li); delete pending[m.client_id]; }
    else log.appendChild(li);
    if (!mine) {
      $("typing").textContent = "";
      if (visible && document.visibilityState === "visible") seen();
      else { unread++; toPage({ type: "unread", count: unread }); }
    }
    known = true;
    $("prechat").hidden = true;
    scroll();
  }
  var seenTimer = 0;
  function seen() {
    unread = 0;
    toPage({ type: "unread", count: 0 });
    clearTimeout(seenTimer);
    seenTimer = setTimeout(function () { call("seen", { upto: last }).catch(function () {}); }, 300);
  }

  function field(key, label, type, rule) {
    if (rule === "off") return;
    var id = "pc-" + key;
    var l = document.createElement("label"); l.htmlFor = id;
    l.textContent = label + (rule === "required" ? " (required)" : " (optional)");
    var i = document.createElement("input"); i.type = type; i.id = id; i.name = key;
    i.autocomplete = key === "phone" ? "tel" : key; i.required = rule === "required"; i.maxLength = 200;
    $("prechat").appendChild(l); $("prechat").appendChild(i);
  }
  function check(key, label) {
    var l = document.createElement("label"); l.className = "check";
    var i = document.createElement("input"); i.type = "checkbox"; i.name = key; i.id = "pc-" + key;
    l.appendChild(i); l.appendChild(document.createTextNode(label));
    $("prechat").appendChild(l);
  }
  function draw(s) {
    settings = s.settings;
    document.querySelector(".chat").style.setProperty("--c", settings.colour);
    $("title").textContent = settings.name;
    document.title = settings.name;
    $("status").textContent = s.online ? settings.greeting : (settings.offline_message || settings.greeting);
    $("status").hidden = !$("status").textContent;
    toPage({ type: "settings", colour: settings.colour });
    var pc = $("prechat");
    pc.textContent = "";
    field("name", "Your name", "text", settings.name_field);
    field("email", "Your email", "email", settings.email_field);
    field("phone", "Your phone", "tel", settings.phone_field);
    if (settings.ask_support_consent) check("consent_support", "You may answer me by email or text message.");
    if (settings.ask_marketing_consent) check("consent_marketing", "Send me news and offers.");
    pc.hidden = known || !pc.firstChild;
  }

  function start(init) {
    page = init.page || null;
    token = init.token || null;
    if (init.open) visible = true;
    call("session", { token: token, invite: init.invite || null }).then(function (s) {
      token = s.token;
      toPage({ type: "token", token: token });
      if (!embedded) { try { sessionStorage.setItem("convergence-chat", token); } catch (e) { /* off */ } }
      known = s.known;
      draw(s);
      s.messages.forEach(add);
      connect();
      if (init.identity || pendingIdentity) identify(init.identity || pendingIdentity);
      pendingIdentity = null;
    }, function (e) { say(e.message); });
  }
  // The site says who its signed-in user is. Joining another customer brings their thread.
  function identify(user) {
    if (!token) { pendingIdentity = user; return; }
    call("identify", { id: user.id || "", email: user.email || null, name: user.name || null, hash: user.hash || "" })
      .then(function (r) {
        if (!r.joined) return;
        return call("session", {}).then(function (s) {
          token = s.token; toPage({ type: "token", token: token });
          known = s.known; draw(s); s.messages.forEach(add); connect();
        });
      }, function (e) { console.warn("Convergence chat: " + e.message); });
  }
  // Fresh tokens while the page stays open (a token lives a day).
  setInterval(function () {
    if (!token) return;
    call("session", {}).then(function (s) { token = s.token; toPage({ type: "token", token: token }); }, function () {});
  }, 3600 * 1000);

  function connect() {
    if (source) source.close();
    var url = api + "stream?site=" + encodeURIComponent(site) + "&token=" + encodeURIComponent(token) + "&after=" + last;
    source = new EventSource(url);
    source.addEventListener("message", function (e) {
      try { add(JSON.parse(e.data)); } catch (x) { /* ignore a bad event */ }
    });
    source.addEventListener("seen", function () {
      Array.prototype.forEach.call(log.querySelectorAll("li.visitor:not(.failed):not(.seen) .meta"), function (m) {
        m.textContent += " · Seen";
        m.parentNode.classList.add("seen");
      });
    });
    source.addEventListener("typing", function (e) {
      var who = "";
      try { who = JSON.parse(e.data).name; } catch (x) { /* no name */ }
      $("typing").textContent = (who || "Someone") + " is writing…";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { $("typing").textContent = ""; }, 6000);
    });
    source.onerror = function () {
      if (source.readyState !== 2) return; // reconnecting by itself
      // Refused (an expired token): ask for a fresh one, then listen again.
      setTimeout(function () {
        call("session", { token: token }).then(function (s) {
          token = s.token; toPage({ type: "token", token: token }); s.messages.forEach(add); connect();
        }, function (e) { say(e.message); setTimeout(connect, 5000); });
      }, 2000);
    };
  }

  function cid() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return "w" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function value(name) { var i = form.elements[name]; return i ? (i.type === "checkbox" ? i.checked : i.value.trim()) : undefined; }
  function deliver(id, body, li) {
    call("messages", body).then(function () {
      if (pending[id]) pending[id].li.querySelector(".meta").textContent = "Sent";
    }, function (e) {
      if (e.status === 401) { start({ token: null, page: page, open: visible }); }
      li.className = "visitor failed";
      var meta = li.querySelector(".meta");
      meta.textContent = "Not sent: " + e.message;
      var retry = document.createElement("button");
      retry.type = "button"; retry.textContent = "Retry";
      retry.addEventListener("click", function () {
        li.className = "visitor"; meta.textContent = "Sending…"; deliver(id, body, li);
      });
      meta.appendChild(retry);
    });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    say("");
    if (!token) { say("The chat is still connecting; try again in a moment."); return; }
    var body = text.value.trim();
    if (!body) { say("Write a message first."); text.focus(); return; }
    if (!$("prechat").hidden) {
      var bad = Array.prototype.find.call($("prechat").querySelectorAll("input[required]"), function (i) { return !i.value.trim(); });
      if (bad) { say("Please fill in " + bad.labels[0].textContent.replace(" (required)", "").toLowerCase() + "."); bad.focus(); return; }
      var mail = $("pc-email");
      if (mail && mail.value.trim() && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail.value.trim())) { say("That email address does not look right."); mail.focus(); return; }
    }
    var id = cid();
    var msg = { client_id: id, text: body, page: page };
    if (!known) {
      ["name", "email", "phone", "consent_support", "consent_marketing"].forEach(function (k) {
        var v = value(k); if (v !== undefined && v !== "") msg[k] = v;
      });
    }
    var li = bubble("visitor", "", body, "Sending…");
    log.appendChild(li);
    pending[id] = { li: li };
    text.value = "";
    scroll();
    deliver(id, msg, li);
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  text.addEventListener("input", function () {
    var now = Date.now();
    if (token && known && now - lastTyping > 3000) { lastTyping = now; call("typing", {}).catch(function () {}); }
  });
  $("close").addEventListener("click", function () { toPage({ type: "close" }); });
  // Escape closes; Tab stays inside the open chat.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { toPage({ type: "close" }); return; }
    if (e.key !== "Tab") return;
    var f = Array.prototype.filter.call(document.querySelectorAll("button, textarea, input, select, [href]"), function (el) { return !el.disabled && el.offsetParent !== null; });
    if (!f.length) return;
    var first = f[0], lastEl = f[f.length - 1];
    if (e.shiftKey && document.activeElement === first) { e.preventDefault(); lastEl.focus(); }
    else if (!e.shiftKey && document.activeElement === lastEl) { e.preventDefault(); first.focus(); }
  });
  document.addEventListener("visibilitychange", function () { if (visible && document.visibilityState === "visible" && unread) seen(); });
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || e.origin !== site) return;
    var m = e.data || {};
    if (m.type === "init") start(m);
    else if (m.type === "identify" && m.identity) identify(m.identity);
    else if (m.type === "shown") { visible = !!m.open; if (visible) { text.focus(); if (unread) seen(); } }
  });
  if (embedded) toPage({ type: "ready" });
  else { var t = null; try { t = sessionStorage.getItem("convergence-chat"); } catch (e) { /* off */ } start({ token: t, page: null, open: true }); }
})();
