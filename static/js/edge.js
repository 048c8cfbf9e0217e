/*! edge.js — the edge's widget script: tracking, pop-ups, the Personal Shopping Inbox, embed mode.
 *
 * Plain ES2020, no framework. Everything runs inside guard(): an error in here is swallowed
 * (logged with data-edge-config {"debug":true}) and never breaks the shop's page; when the edge
 * cannot be reached, requests fail quietly and the page keeps its default content.
 *
 * Two ways in:
 *  - behind the proxy: the edge injects <script src="/_edge/static/edge.<hash>.js" defer
 *    data-edge-config='{...}'> before </body>;
 *  - embed mode: <script src="https://edge-host/_edge/edge.js" data-edge="https://edge-host">
 *    on a page not behind the proxy; [data-edge-slot] elements are filled from the slots API.
 *
 * See docs/widget-script.md for the markup contract and the public API (window.edge).
 */
(function (w, d) {
  'use strict';
  if (!w || !d || (w.edge && w.edge.version)) return;

  var CSS = '__EDGE_CSS__';
  var FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),' +
    'textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';
  var script = d.currentScript || d.querySelector('script[data-edge-config],script[data-edge]');
  var cfg = {};
  try {
    cfg = JSON.parse((script && script.getAttribute('data-edge-config')) || '{}') || {};
  } catch (e) { cfg = {}; }
  var base = String((script && script.getAttribute('data-edge')) || cfg.base || '').replace(/\/+$/, '');
  var embed = !!(script && script.hasAttribute('data-edge')) || !!cfg.embed;
  var API = base + (cfg.api || '/_edge/api');
  var started = Date.now();
  var queue = [];
  var timer = 0;
  var dead = false;
  var failures = 0;
  var sentDuration = false;
  var seen = {};
  var clicked = {};
  var liked = {};
  var openDialog = null;
  var pendingPopups = [];
  var exitCallbacks = [];
  var io = null;
  var signals = null;
  var signalsText = '';

  function log(e) { if (cfg.debug && w.console) w.console.warn('[edge]', e); }
  function guard(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { log(e); }
    };
  }
  function attr(el, name) { var v = el && el.getAttribute(name); return v == null ? '' : String(v); }
  function num(v) { var n = parseFloat(v); return isFinite(n) ? n : undefined; }
  function all(sel, root) { return Array.prototype.slice.call((root || d).querySelectorAll(sel)); }
  function lang() {
    return String(cfg.lang || d.documentElement.lang || 'en').slice(0, 2).toLowerCase();
  }

  // --- talking to the edge ----------------------------------------------------------------
  // In embed mode the first call (slots) gives a new visitor the cookie; every other call
  // waits for it, or parallel first calls would each be taken for a different new visitor.
  var gate = Promise.resolve();

  function request(method, path, body, keepalive, first) {
    if (!first) return gate.then(function () { return request(method, path, body, keepalive, true); });
    if (dead || !w.fetch) return Promise.resolve(null);
    var opts = { method: method, credentials: base ? 'include' : 'same-origin', headers: {} };
    if (keepalive) opts.keepalive = true;
    // Cross-site the edge cannot read the edge_fp cookie, so the signals travel in a header.
    if (base && signalsText) opts.headers['x-edge-client'] = signalsText;
    if (body != null) {
      opts.body = JSON.stringify(body);
      opts.headers['content-type'] = 'application/json';
    }
    return w.fetch(API + path, opts).then(function (r) {
      failures = 0;
      if (!r.ok) throw new Error('edge ' + method + ' ' + path + ': ' + r.status);
      return r.status === 204 ? null : r.json();
    }).catch(function (e) {
      // Network failures in a row mean the edge is unreachable: stop trying on this page.
      if (e && e.name === 'TypeError' && ++failures >= 3) dead = true;
      log(e);
      return null;
    });
  }

  function clean(ev) {
    var out = {};
    for (var k in ev) if (ev[k] !== undefined && ev[k] !== '' && ev[k] !== null) out[k] = ev[k];
    return out;
  }

  function send(ev) {
    if (!ev || !ev.type || dead) return;
    queue.push(clean(ev));
    if (queue.length >= 20) flush(false);
    else if (!timer) timer = setTimeout(guard(function () { flush(false); }), cfg.flush_ms || 1000);
  }

  // leaving: the page is going away, so use sendBeacon (same origin) or a keepalive fetch.
  function flush(leaving) {
    clearTimeout(timer);
    timer = 0;
    while ((queue.length || signals) && !dead) {
      var batch = queue.splice(0, 50);
      if (signals) { batch.unshift(signals); signals = null; }
      var payload = { events: batch };
      if (leaving && !base && w.navigator.sendBeacon) {
        try {
          var blob = new Blob([JSON.stringify(payload)], { type: 'application/json' });
          if (w.navigator.sendBeacon(API + '/events', blob)) continue;
        } catch (e) { log(e); }
      }
      request('POST', '/events', payload, true);
    }
  }

  function placementEvent(type, el, sku) {
    return { type: type, placement: attr(el, 'data-edge-placement'),
      variant: attr(el, 'data-edge-variant') || undefined, sku: sku || undefined };
  }

  // --- client signals for the fingerprint fallback -----------------------------------------
  function clientSignals() {
    if (!cfg.fingerprint) return;
    var s = w.screen || {};
    var tz = '';
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { tz = ''; }
    var params = {
      screen: (s.width || 0) + 'x' + (s.height || 0) + 'x' + (w.devicePixelRatio || 1),
      timezone: tz,
      platform: String(w.navigator.platform || ''),
      languages: (w.navigator.languages || []).slice(0, 5).join(','),
    };
    var value = [params.screen, params.timezone, params.platform, params.languages].join('|');
    signalsText = value.replace(/[^\x20-\x7e]/g, '').slice(0, 240);
    // The edge folds this cookie into its fingerprint on the next request (first-party only).
    if (!base) {
      d.cookie = 'edge_fp=' + encodeURIComponent(value).slice(0, 240) +
        '; Max-Age=31536000; Path=/; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    }
    // The signals ride with the first batch (the profile notes them as a custom event).
    signals = { type: 'custom', name: 'client_signals', params: params };
    if (!timer) timer = setTimeout(guard(function () { flush(false); }), cfg.flush_ms || 1000);
  }

  function dropSignals() {
    signals = null;
    signalsText = '';
    d.cookie = 'edge_fp=; Max-Age=0; Path=/';
  }

  // --- what the page says: product views, cart, purchases ----------------------------------
  function findProduct(node, depth) {
    if (!node || depth > 5 || typeof node !== 'object') return '';
    if (Array.isArray(node)) {
      for (var i = 0; i < node.length; i++) {
        var found = findProduct(node[i], depth + 1);
        if (found) return found;
      }
      return '';
    }
    var t = node['@type'];
    if (t === 'Product' || (Array.isArray(t) && t.indexOf('Product') >= 0)) {
      return String(node.sku || node.productID || node.mpn || '');
    }
    return findProduct(node['@graph'], depth + 1);
  }

  function pageProduct() {
    var el = d.querySelector('[data-edge-product]');
    if (el && attr(el, 'data-edge-product')) return attr(el, 'data-edge-product');
    var blocks = all('script[type="application/ld+json"]');
    for (var i = 0; i < blocks.length; i++) {
      try {
        var sku = findProduct(JSON.parse(blocks[i].textContent || 'null'), 0);
        if (sku) return sku;
      } catch (e) { log(e); }
    }
    return '';
  }

  function trackPage() {
    // Behind the proxy (and in embed mode, via the slots API) the edge records the page view.
    if (cfg.page_view) {
      send({ type: 'page_view', url: location.href.slice(0, 2048), title: d.title.slice(0, 512),
        referrer: d.referrer.slice(0, 2048) });
    }
    var sku = pageProduct();
    if (sku && cfg.product_view !== false) send({ type: 'product_view', sku: sku });
    var order = d.querySelector('[data-edge-purchase]');
    if (order) trackPurchase(order);
  }

  function trackPurchase(el) {
    var id = attr(el, 'data-edge-purchase');
    var key = 'edge_order_' + id;
    try { if (w.localStorage.getItem(key)) return; w.localStorage.setItem(key, '1'); } catch (e) { log(e); }
    var items = all('[data-edge-purchase-item]', el).map(function (row) {
      return { sku: attr(row, 'data-edge-purchase-item'), qty: num(attr(row, 'data-edge-qty')) || 1,
        price: num(attr(row, 'data-edge-price')) || 0 };
    });
    send({ type: 'purchase', order_id: id, items: items,
      value: num(attr(el, 'data-edge-purchase-value')) || 0,
      currency: attr(el, 'data-edge-purchase-currency') || cfg.currency || 'PLN' });
  }

  function cartEvent(el) {
    var sku = attr(el, 'data-edge-add-to-cart');
    var form = el.form || el.closest('form');
    var qtyInput = form && form.querySelector('[name=qty],[name=quantity]');
    var priced = el.closest('[data-edge-price]');
    return { type: 'add_to_cart', sku: sku, qty: Math.max(1, Math.round(num(qtyInput && qtyInput.value) || 1)),
      price: num(attr(el, 'data-edge-price') || attr(priced, 'data-edge-price')) };
  }

  function fromDataLayer(o) {
    if (!o || typeof o !== 'object' || typeof o.event !== 'string') return;
    var ecommerce = o.ecommerce || {};
    var items = ecommerce.items || o.items || [];
    var type = o.event;
    items = items.map(function (it) {
      return { sku: String(it.item_id || it.id || it.sku || ''), qty: Math.max(1, Math.round(num(it.quantity) || 1)),
        price: num(it.price) };
    }).filter(function (it) { return it.sku; });
    if (type === 'add_to_cart' || type === 'remove_from_cart') {
      items.forEach(function (it) {
        send(type === 'add_to_cart' ? { type: type, sku: it.sku, qty: it.qty, price: it.price }
          : { type: type, sku: it.sku });
      });
    } else if (type === 'purchase' && ecommerce.transaction_id) {
      send({ type: 'purchase', order_id: String(ecommerce.transaction_id), value: num(ecommerce.value) || 0,
        currency: ecommerce.currency || cfg.currency || 'PLN',
        items: items.map(function (it) { return { sku: it.sku, qty: it.qty, price: it.price || 0 }; }) });
    }
  }

  function hookDataLayer() {
    var dl = w.dataLayer = w.dataLayer || [];
    if (dl.__edge) return;
    dl.forEach(guard(fromDataLayer));
    var push = dl.push;
    dl.push = function () {
      var result = push.apply(dl, arguments);
      for (var i = 0; i < arguments.length; i++) guard(fromDataLayer)(arguments[i]);
      return result;
    };
    dl.__edge = true;
  }

  // --- impressions and clicks ------------------------------------------------------------------
  function key(el) { return attr(el, 'data-edge-placement') + '|' + attr(el, 'data-edge-variant'); }

  function impression(el) {
    var k = key(el);
    if (seen[k] || !attr(el, 'data-edge-placement')) return;
    seen[k] = true;
    send(placementEvent('impression', el));
  }

  function onIntersect(entries) {
    entries.forEach(function (entry) {
      var root = entry.rootBounds;
      // ≥ 50 % of the element, or half the viewport for elements taller than two viewports.
      var visible = entry.intersectionRatio >= 0.5 ||
        (root && entry.intersectionRect.height >= root.height * 0.5);
      if (entry.isIntersecting && visible) {
        impression(entry.target);
        io.unobserve(entry.target);
      }
    });
  }

  function observePlacements(root) {
    if (!io && w.IntersectionObserver) {
      io = new IntersectionObserver(guard(onIntersect), { threshold: [0, 0.25, 0.5, 0.75, 1] });
    }
    all('[data-edge-placement]', root).forEach(function (el) {
      // Pop-ups count their impression when shown; nested placements count on their own.
      if (el.__edgeSeen || el.closest('[data-edge-popup]') || el.closest('[data-edge-inbox]')) return;
      el.__edgeSeen = true;
      if (io) io.observe(el);
    });
  }

  function onClick(e) {
    var t = e.target;
    if (!t || !t.closest) return;
    var closer = t.closest('[data-edge-close]');
    if (closer && openDialog && closer.closest('[data-edge-popup]') === openDialog.el.closest('[data-edge-popup]')) {
      openDialog.close();
      return;
    }
    var like = t.closest('[data-edge-like]');
    if (like) { e.preventDefault(); toggleLike(like); }
    var cart = t.closest('[data-edge-add-to-cart]');
    if (cart) send(cartEvent(cart));
    var remove = t.closest('[data-edge-remove-from-cart]');
    if (remove) send({ type: 'remove_from_cart', sku: attr(remove, 'data-edge-remove-from-cart') });
    var placement = t.closest('[data-edge-placement]');
    var action = t.closest('a,button,[data-edge-sku],[data-edge-link]');
    if (placement && action && placement.contains(action) && !action.closest('[data-edge-close],form') &&
        !placement.hasAttribute('data-edge-inbox')) {
      var k = key(placement);
      var skuEl = action.closest('[data-edge-sku]');
      if (!clicked[k]) {
        clicked[k] = true;
        impression(placement);
        send(placementEvent('click', placement, skuEl && attr(skuEl, 'data-edge-sku')));
      }
    }
  }

  // --- dialogs: focus moves in, is trapped, Esc closes, focus returns -----------------------
  function trapKeys(e) {
    if (!openDialog) return;
    if (e.key === 'Escape' || e.key === 'Esc') { e.preventDefault(); openDialog.close(); return; }
    if (e.key !== 'Tab') return;
    var items = all(FOCUSABLE, openDialog.el).filter(function (el) {
      return el.offsetWidth || el.offsetHeight || el.getClientRects().length;
    });
    if (!items.length) { e.preventDefault(); openDialog.el.focus(); return; }
    var first = items[0];
    var last = items[items.length - 1];
    var active = d.activeElement;
    if (e.shiftKey && (active === first || !openDialog.el.contains(active))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && (active === last || !openDialog.el.contains(active))) { e.preventDefault(); first.focus(); }
  }

  function openModal(el, onClose) {
    var dialog = { el: el, back: d.activeElement, close: null };
    dialog.close = guard(function () {
      if (openDialog !== dialog) return;
      openDialog = null;
      onClose();
      if (dialog.back && dialog.back.focus && d.contains(dialog.back)) dialog.back.focus();
      var next = pendingPopups.shift();
      if (next) showPopup(next);
    });
    openDialog = dialog;
    var first = el.querySelector('[autofocus]') || el.querySelector(FOCUSABLE);
    (first || el).focus();
    return dialog;
  }

  // --- pop-ups ------------------------------------------------------------------------------
  function showPopup(p) {
    if (p.__edgeShown) return;
    if (openDialog) { if (pendingPopups.indexOf(p) < 0) pendingPopups.push(p); return; }
    p.__edgeShown = true;
    injectCss();
    p.hidden = false;
    p.classList.add('edge-open');
    impression(p);
    var box = p.querySelector('[role=dialog]') || p;
    openModal(box, function () {
      p.hidden = true;
      p.classList.remove('edge-open');
      send(placementEvent('close', p));
      flush(false);
    });
  }

  function onScrollDepth(percent, fn) {
    var check = guard(function () {
      var h = d.documentElement.scrollHeight - w.innerHeight;
      var depth = h <= 0 ? 100 : (w.scrollY / h) * 100;
      if (depth >= percent) { w.removeEventListener('scroll', check); fn(); }
    });
    w.addEventListener('scroll', check, { passive: true });
    check();
  }

  function fireExit() {
    if (Date.now() - started < (cfg.exit_delay_ms == null ? 1000 : cfg.exit_delay_ms)) return;
    var callbacks = exitCallbacks;
    exitCallbacks = [];
    callbacks.forEach(function (fn) { guard(fn)(); });
  }

  // Exit intent: on desktop the pointer leaves through the top of the window (towards the tabs
  // and the address bar). Touch devices have no pointer, so a fast scroll back up after reading
  // down the page counts instead (the usual "going back to the menu / leaving" gesture).
  function armExitIntent() {
    d.addEventListener('mouseout', guard(function (e) {
      if (!e.relatedTarget && e.clientY <= 0) fireExit();
    }));
    var lastY = w.scrollY;
    var lastT = Date.now();
    var maxY = lastY;
    w.addEventListener('scroll', guard(function () {
      var y = w.scrollY;
      var now = Date.now();
      maxY = Math.max(maxY, y);
      var speed = (lastY - y) / Math.max(1, now - lastT);
      if (speed > 2 && maxY > w.innerHeight && y < maxY - w.innerHeight / 2) fireExit();
      lastY = y;
      lastT = now;
    }), { passive: true });
  }

  function armPopup(p) {
    if (p.__edgeArmed) return;
    p.__edgeArmed = true;
    var trigger = attr(p, 'data-edge-trigger') || 'immediate';
    var value = num(attr(p, 'data-edge-trigger-value'));
    var show = guard(function () { showPopup(p); });
    if (trigger === 'delay') setTimeout(show, Math.max(0, value || 0) * 1000);
    else if (trigger === 'scroll') onScrollDepth(value || 50, show);
    else if (trigger === 'exit_intent') exitCallbacks.push(show);
    // page_views (like immediate) opens at once: the edge offers it only from the N-th page
    // view of the visit, which it knows and the browser does not.
    else show();
  }

  function onSubmit(e) {
    var form = e.target;
    if (!form || !form.closest) return;
    var popup = form.closest('[data-edge-popup]');
    if (!popup || !form.hasAttribute('data-edge-popup-form')) return;
    e.preventDefault();
    var kind = attr(form, 'data-edge-form-kind');
    var name = attr(form, 'data-edge-form-name');
    if (kind === 'preference') {
      var checked = form.querySelector('input[type=radio]:checked,select');
      if (!checked || !checked.value) return;
      send({ type: 'preference', name: name, value: checked.value });
    } else if (kind === 'signup') {
      var fields = {};
      all('input[data-edge-field]', form).forEach(function (input) { fields[input.name] = input.value.slice(0, 254); });
      send({ type: 'form_submit', form: name, fields: fields });
    }
    // A consent checkbox (the whole form, or part of a sign-up): unchecked is a refusal.
    all('input[data-edge-consent]', form).forEach(function (box) {
      send({ type: 'consent', name: attr(box, 'data-edge-consent'), granted: !!box.checked });
    });
    flush(false);
    form.hidden = true;
    var thanks = popup.querySelector('[data-edge-thanks]');
    if (thanks) { thanks.hidden = false; thanks.focus(); }
  }

  // --- the Personal Shopping Inbox ------------------------------------------------------------
  function inboxRoot() { return d.querySelector('[data-edge-inbox]'); }

  function renderInbox(data) {
    if (!data || typeof data !== 'object') return;
    var root = inboxRoot();
    if (!root && data.shell) {
      injectCss();
      d.body.insertAdjacentHTML('beforeend', data.shell);
      root = inboxRoot();
    }
    liked = {};
    (data.wishlist || []).forEach(function (item) { liked[item.sku || item] = true; });
    all('[data-edge-like]').forEach(function (b) {
      var on = !!liked[attr(b, 'data-edge-like')];
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.classList.toggle('edge-liked', on);
    });
    if (!root) return;
    var badge = root.querySelector('[data-edge-inbox-badge]');
    if (badge) {
      badge.textContent = data.unread ? String(data.unread) : '';
      badge.hidden = !data.unread;
    }
    var body = root.querySelector('[data-edge-inbox-body]');
    if (body && typeof data.html === 'string') {
      var hadFocus = body.contains(d.activeElement);
      body.innerHTML = data.html;
      observePlacements(body);
      if (hadFocus) { var panel = root.querySelector('[data-edge-inbox-drawer]'); if (panel) panel.focus(); }
    }
  }

  // The edge renders the shell (with the unread count) into proxied pages, so the drawer's
  // content is only fetched when it opens, or at once when the page has like buttons to set.
  var inboxLoaded = false;
  function loadInbox(force) {
    if (cfg.inbox === false) return;
    var shell = inboxRoot() ? 0 : 1;
    if (!force && !shell && !d.querySelector('[data-edge-like]')) return;
    inboxLoaded = true;
    request('GET', '/inbox?lang=' + encodeURIComponent(lang()) + '&shell=' + shell).then(guard(renderInbox));
  }

  function inboxCall(method, path, body) {
    return request(method, path + (path.indexOf('?') < 0 ? '?' : '&') + 'lang=' + encodeURIComponent(lang()), body)
      .then(guard(renderInbox));
  }

  function toggleLike(button) {
    var sku = attr(button, 'data-edge-like');
    if (!sku) return;
    var on = !liked[sku];
    liked[sku] = on;
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.classList.toggle('edge-liked', on);
    if (on) inboxCall('POST', '/inbox/wishlist', { sku: sku });
    else inboxCall('DELETE', '/inbox/wishlist/' + encodeURIComponent(sku));
  }

  function openInbox() {
    var root = inboxRoot();
    var panel = root && root.querySelector('[data-edge-inbox-drawer]');
    if (!panel || !panel.hidden) return;
    if (openDialog) openDialog.close();
    if (!inboxLoaded) loadInbox(true);
    var button = root.querySelector('[data-edge-inbox-open]');
    panel.hidden = false;
    root.classList.add('edge-open');
    if (button) button.setAttribute('aria-expanded', 'true');
    openModal(panel, function () {
      panel.hidden = true;
      root.classList.remove('edge-open');
      if (button) button.setAttribute('aria-expanded', 'false');
    });
  }

  function onInboxClick(e) {
    var t = e.target;
    var root = inboxRoot();
    if (!t || !t.closest || !root || !root.contains(t)) return;
    if (t.closest('[data-edge-inbox-open]')) { openInbox(); return; }
    if (t.closest('[data-edge-inbox-close]')) { if (openDialog) openDialog.close(); return; }
    var remove = t.closest('[data-edge-wishlist-remove]');
    if (remove) {
      var sku = attr(remove, 'data-edge-wishlist-remove');
      liked[sku] = false;
      inboxCall('DELETE', '/inbox/wishlist/' + encodeURIComponent(sku));
      return;
    }
    var read = t.closest('[data-edge-offer-read]');
    if (read) { inboxCall('POST', '/inbox/offers/' + encodeURIComponent(attr(read, 'data-edge-offer-read')) + '/read'); return; }
    var del = t.closest('[data-edge-offer-delete]');
    if (del) { inboxCall('DELETE', '/inbox/offers/' + encodeURIComponent(attr(del, 'data-edge-offer-delete'))); return; }
    var link = t.closest('[data-edge-offer-link]');
    if (link) request('POST', '/inbox/offers/' + encodeURIComponent(attr(link, 'data-edge-offer-link')) + '/read', null, true);
  }

  // --- embed mode: fill [data-edge-slot] from the slots API ------------------------------------
  function fillSlots() {
    var els = all('[data-edge-slot]');
    var names = [];
    els.forEach(function (el) {
      var n = attr(el, 'data-edge-slot');
      if (n && names.indexOf(n) < 0) names.push(n);
    });
    // Called even without slots: the edge records the page view and may add pop-ups.
    var path = '/slots?url=' + encodeURIComponent(location.href) + '&slots=' + encodeURIComponent(names.join(',')) +
      '&title=' + encodeURIComponent(d.title.slice(0, 300));
    all('meta[name^="edge:"]').slice(0, 32).forEach(function (m) {
      path += '&' + encodeURIComponent('f.' + attr(m, 'name').slice(5)) + '=' + encodeURIComponent(attr(m, 'content').slice(0, 512));
    });
    return request('GET', path, null, false, true).then(guard(function (data) {
      if (!data) return;
      var slots = data.slots || {};
      els.forEach(function (el) {
        var html = slots[attr(el, 'data-edge-slot')];
        if (typeof html === 'string') { el.innerHTML = html; el.setAttribute('data-edge-filled', ''); }
      });
      if (data.body_end) {
        var end = d.createElement('div');
        end.setAttribute('data-edge-body-end', '');
        end.innerHTML = data.body_end;
        d.body.appendChild(end);
      }
      scan(d);
    }));
  }

  // --- wiring ---------------------------------------------------------------------------------
  var cssDone = false;
  function injectCss() {
    if (cssDone || CSS.indexOf('__EDGE') === 0) return;
    cssDone = true;
    var style = d.createElement('style');
    style.setAttribute('data-edge-js-css', '');
    style.textContent = CSS;
    d.head.appendChild(style);
  }

  function scan(root) {
    if (inboxRoot() || root.querySelector('[data-edge-popup]')) injectCss();
    observePlacements(root);
    all('[data-edge-popup]', root).forEach(armPopup);
  }

  function leave() {
    if (!sentDuration && cfg.duration) {
      sentDuration = true;
      send({ type: 'page_view', url: location.href.slice(0, 2048), duration_ms: Math.min(Date.now() - started, 86400000) });
    }
    flush(true);
  }

  function track(name, params) {
    params = params || {};
    if (typeof name !== 'string' || !name) return;
    var known = ['page_view', 'product_view', 'add_to_cart', 'remove_from_cart', 'purchase', 'like', 'unlike',
      'form_submit', 'consent', 'preference', 'impression', 'click', 'close'];
    if (known.indexOf(name) >= 0) {
      var ev = { type: name };
      for (var k in params) if (k !== 'type') ev[k] = params[k];
      send(ev);
    } else {
      send({ type: 'custom', name: name, params: params });
    }
  }

  function consent(name, granted) {
    send({ type: 'consent', name: name, granted: !!granted });
    if (!granted && (name === 'fingerprint' || name === 'tracking')) dropSignals();
    flush(false);
  }

  var api = {
    version: '1',
    track: guard(track),
    consent: guard(consent),
    preference: guard(function (name, value) { send({ type: 'preference', name: name, value: value }); }),
    flush: guard(function () { flush(false); }),
    openInbox: guard(openInbox),
    refreshInbox: guard(function () { loadInbox(true); }),
    like: guard(function (sku) { liked[sku] = true; inboxCall('POST', '/inbox/wishlist', { sku: String(sku) }); }),
    unlike: guard(function (sku) { liked[sku] = false; inboxCall('DELETE', '/inbox/wishlist/' + encodeURIComponent(sku)); }),
    exitIntent: guard(fireExit),
  };

  var start = guard(function () {
    var early = Array.isArray(w.edge) ? w.edge : [];
    w.edge = api;
    d.addEventListener('click', guard(onClick), true);
    d.addEventListener('click', guard(onInboxClick));
    d.addEventListener('submit', guard(onSubmit), true);
    d.addEventListener('keydown', guard(trapKeys), true);
    w.addEventListener('pagehide', guard(leave));
    d.addEventListener('visibilitychange', guard(function () { if (d.visibilityState === 'hidden') leave(); }));
    armExitIntent();
    hookDataLayer();
    clientSignals();
    trackPage();
    scan(d);
    if (embed) gate = fillSlots().then(null, log);
    loadInbox(false);
    // Calls queued before the script loaded: window.edge = window.edge || []; edge.push(['track', ...])
    early.forEach(guard(function (call) { if (call && api[call[0]]) api[call[0]].apply(null, call.slice(1)); }));
  });

  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
  else start();
})(typeof window !== 'undefined' ? window : null, typeof document !== 'undefined' ? document : null);
