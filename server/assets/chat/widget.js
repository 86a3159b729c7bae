/* Convergence website chat: the embed script.
 * <script src="https://inbox.example.com/chat/widget.js" data-chat="7" async></script>
 * Draws a launcher button and opens the chat in a frame served by Convergence (which only
 * the chat's allowed websites may embed). The visitor's token is kept in this site's
 * localStorage, so the conversation survives reloads and navigation.
 * API: Convergence.open(), Convergence.close(),
 *      Convergence.identify({id, email, name, hash}) (hash = hex HMAC-SHA256(secret, id)). */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || (window.Convergence && window.Convergence.loaded)) return;
  var base = new URL(me.src, location.href).origin;
  var chat = me.getAttribute("data-chat") || "";
  if (!/^[0-9]{1,18}$/.test(chat)) {
    console.error("Convergence chat: data-chat must be the chat's number, as in the embed code.");
    return;
  }
  var KEY = "convergence-chat-" + chat;
  var OPEN = KEY + "-open";
  function get(s, k) { try { return s.getItem(k); } catch (e) { return null; } }
  function set(s, k, v) { try { if (v == null) s.removeItem(k); else s.setItem(k, v); } catch (e) { /* storage off */ } }
  var local = window.localStorage, tab = window.sessionStorage;
  var params = new URLSearchParams(location.search);
  var invite = params.get("convergence_chat");
  var box, frame, button, ready = false, queue = [], identity = null, isOpen = false, colour = "#1f5fbf";

  function send(m) {
    if (ready && frame) frame.contentWindow.postMessage(m, base); else queue.push(m);
  }
  function phone() { return window.innerWidth <= 480; }
  function layout() {
    if (!box) return;
    var s = box.style;
    if (phone()) {
      s.left = s.top = s.right = s.bottom = "0"; s.width = s.height = "100%";
      s.maxWidth = s.maxHeight = "none"; s.borderRadius = "0";
    } else {
      s.left = s.top = "auto"; s.right = "16px"; s.bottom = "84px"; s.width = "370px"; s.height = "560px";
      s.maxWidth = "calc(100vw - 32px)"; s.maxHeight = "calc(100vh - 100px)"; s.borderRadius = "12px";
    }
    if (button) button.style.display = isOpen && phone() ? "none" : "block";
  }
  function build() {
    if (box) return;
    box = document.createElement("div");
    box.id = "convergence-chat-" + chat;
    box.style.cssText = "position:fixed;z-index:2147483000;display:none;overflow:hidden;background:#fff;box-shadow:0 6px 28px rgba(0,0,0,.28)";
    frame = document.createElement("iframe");
    frame.title = "Chat";
    frame.src = base + "/chat/frame/" + chat + "?site=" + encodeURIComponent(location.origin);
    frame.style.cssText = "border:0;width:100%;height:100%;display:block";
    box.appendChild(frame);
    document.body.appendChild(box);
    layout();
  }
  function open() {
    build();
    isOpen = true;
    box.style.display = "block";
    button.setAttribute("aria-expanded", "true");
    set(tab, OPEN, "1");
    layout();
    send({ type: "shown", open: true });
    frame.focus();
  }
  function close() {
    if (!box) return;
    isOpen = false;
    box.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    set(tab, OPEN, null);
    send({ type: "shown", open: false });
    layout();
    button.focus();
  }
  function label(unread) {
    button.textContent = unread > 0 ? "Chat (" + unread + " new)" : "Chat with us";
  }
  window.addEventListener("message", function (e) {
    if (e.origin !== base || !frame || e.source !== frame.contentWindow) return;
    var m = e.data || {};
    if (m.type === "ready") {
      ready = true;
      frame.contentWindow.postMessage({
        type: "init", token: get(local, KEY), page: location.href, identity: identity,
        invite: invite, open: isOpen
      }, base);
      invite = null;
      queue.splice(0).forEach(send);
    } else if (m.type === "token" && typeof m.token === "string" && m.token.length < 300) {
      set(local, KEY, m.token);
    } else if (m.type === "forget") {
      set(local, KEY, null);
    } else if (m.type === "close") {
      close();
    } else if (m.type === "settings" && /^#[0-9a-f]{6}$/.test(m.colour || "")) {
      colour = m.colour;
      button.style.background = colour;
    } else if (m.type === "unread") {
      label(m.count | 0);
    }
  });
  function start() {
    button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", "convergence-chat-" + chat);
    button.style.cssText = "position:fixed;z-index:2147483001;right:16px;bottom:16px;min-height:48px;padding:0 20px;border:0;border-radius:24px;color:#fff;font:600 16px/48px system-ui,sans-serif;cursor:pointer;box-shadow:0 3px 12px rgba(0,0,0,.3);background:" + colour;
    label(0);
    button.addEventListener("click", function () { if (isOpen) close(); else open(); });
    document.body.appendChild(button);
    window.addEventListener("resize", layout);
    // A visitor with a conversation gets the frame at once (hidden), so answers count as unread.
    if (get(tab, OPEN) || invite) open();
    else if (get(local, KEY)) build();
  }
  window.Convergence = {
    loaded: true,
    open: function () { if (button) open(); },
    close: close,
    identify: function (user) {
      identity = user && typeof user === "object" ? {
        id: String(user.id || ""), email: String(user.email || ""), name: String(user.name || ""),
        hash: String(user.hash || "")
      } : null;
      if (identity) { build(); send({ type: "identify", identity: identity }); }
    }
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
