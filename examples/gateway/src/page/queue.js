// The buyer's waiting-room page: join (or resume with the token this browser keeps), follow
// the place in line over SSE, fall back to polling when the stream drops, ask for admission
// when the turn comes, and go on to the next page with the reservation token.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const query = new URLSearchParams(location.search);
  const storageKey = "tacos-queue:" + eventId;
  const el = (id) => document.getElementById(id);
  const POLL_MS = 2000;
  const STREAM_RETRY_MS = 10000;
  const HEARTBEAT_MS = 5000;
  const MAX_RETRY_MS = 10000;

  let place = load();
  let stream = null;
  let timer = null;
  let retryMs = 1000;
  let streamTriedAt = 0;
  let admitting = false;
  let done = false;
  let lastAnnounced = 0;

  function load() {
    try {
      return JSON.parse(localStorage.getItem(storageKey)) || {};
    } catch (_) {
      return {};
    }
  }

  function save() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(place));
    } catch (_) {
      // Private browsing without storage: the place lasts as long as this page.
    }
  }

  // Another tab joined again or got in: follow what it stored.
  addEventListener("storage", (event) => {
    if (event.key !== storageKey || done) return;
    const theirs = load();
    if (theirs.token && theirs.token !== place.token) {
      place = theirs;
      follow();
    }
  });

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function api(method, path, body) {
    const init = { method, cache: "no-store", headers: { Accept: "application/json" } };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (_) {
      throw Object.assign(new Error("network"), { transient: true });
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) return data;
    const status = response.status;
    throw Object.assign(new Error(data.message || response.statusText), {
      status,
      transient: status === 429 || status >= 500,
      retryAfter: Number(response.headers.get("Retry-After")) || 0,
    });
  }

  function setState(name, text, note) {
    const state = el("state");
    state.dataset.state = name;
    state.textContent = text;
    if (note !== undefined) el("note").textContent = note;
    el("rejoin").hidden = name !== "expired";
  }

  function duration(seconds) {
    if (seconds < 60) return "less than a minute";
    const minutes = Math.round(seconds / 60);
    return minutes === 1 ? "about 1 minute" : "about " + minutes + " minutes";
  }

  function show(position, etaSeconds) {
    if (!(position > 0)) return;
    place.first = Math.max(place.first || 0, position);
    save();
    el("position").textContent = position.toLocaleString();
    el("ahead").textContent = (position - 1).toLocaleString();
    el("eta").textContent = duration(etaSeconds || 0);
    const progress = el("progress");
    progress.max = place.first;
    progress.value = place.first - position + 1;
    progress.textContent = Math.round((100 * progress.value) / progress.max) + "%";
    // Screen readers hear the place when it changes, at most every 5 seconds.
    if (Date.now() - lastAnnounced > 5000 && el("announce").dataset.position !== String(position)) {
      lastAnnounced = Date.now();
      el("announce").dataset.position = String(position);
      el("announce").textContent = "You are number " + position + " in line.";
    }
  }

  function reconnecting(error) {
    setState(
      "reconnecting",
      "Reconnecting…",
      "We lost contact with the waiting room for a moment. Your place is kept; this page retries by itself."
    );
    const wait = Math.max(retryMs, (error && error.retryAfter) * 1000 || 0);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    return wait;
  }

  function expired(message) {
    stop();
    place = { session: place.session, user: place.user };
    save();
    setState("expired", "Your place has expired", message || "Your place in line was released because this page was closed or idle for too long.");
  }

  function stop() {
    if (stream) stream.close();
    stream = null;
    clearTimeout(timer);
  }

  function later(fn, ms) {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  }

  async function join() {
    stop();
    setState("joining", "Joining the line…");
    try {
      const joined = await api("POST", "/api/v1/queue/join", {
        event_id: eventId,
        user_id: place.user || "",
        session_id: place.session,
      });
      retryMs = 1000;
      place.token = joined.waiting_token;
      place.first = 0;
      save();
      show(joined.position_hint, joined.eta_seconds);
      follow();
    } catch (error) {
      if (!error.transient) return setState("error", "We could not add you to the line", error.message);
      later(join, reconnecting(error));
    }
  }

  // Applies a position report, from the stream or a poll.
  function report(status, position, etaSeconds, ready) {
    if (status === "QUEUE_STATUS_EXPIRED" || status === "QUEUE_STATUS_LEFT" || status === "QUEUE_STATUS_ERROR") {
      return expired();
    }
    retryMs = 1000;
    show(position, etaSeconds);
    if (ready) {
      setState("ready", "It is your turn!", "Taking you to the sale…");
      admit();
    } else {
      setState("waiting", "You are in line", "Keep this page open. It updates by itself, and your place is kept if you reload it or open it in another tab.");
    }
  }

  function follow() {
    stop();
    if (!("EventSource" in window) || Date.now() - streamTriedAt < STREAM_RETRY_MS) return poll();
    streamTriedAt = Date.now();
    const url =
      "/api/v1/queue/updates?" +
      new URLSearchParams({ waiting_token: place.token, event_id: eventId, session_id: place.session });
    const source = new EventSource(url);
    stream = source;
    source.onmessage = (message) => {
      const update = JSON.parse(message.data).queue_update;
      if (!update) return;
      const status = update.event_type === "QUEUE_EVENT_TYPE_TOKEN_EXPIRED" ? "QUEUE_STATUS_EXPIRED" : "";
      report(status, update.position, update.eta_seconds, update.admission_ready);
    };
    // A dropped connection or an error event from the server: poll instead.
    source.onerror = () => {
      if (stream !== source) return;
      source.close();
      stream = null;
      poll();
    };
    // The status check doubles as a heartbeat and notices an outage the stream hides.
    later(poll, HEARTBEAT_MS);
  }

  async function poll() {
    if (done) return;
    try {
      const status = await api("GET", "/api/v1/queue/status?" + new URLSearchParams({ waiting_token: place.token }));
      report(status.status, status.position, status.eta_seconds, status.admission_ready);
      if (done || admitting || el("state").dataset.state === "expired") return;
      if (stream) later(poll, HEARTBEAT_MS);
      else if (Date.now() - streamTriedAt >= STREAM_RETRY_MS) follow();
      else later(poll, POLL_MS);
    } catch (error) {
      if (error.status === 404 || error.status === 400) return expired();
      if (stream) stream.close();
      stream = null;
      later(poll, reconnecting(error));
    }
  }

  async function admit() {
    if (admitting || done) return;
    admitting = true;
    stop();
    try {
      const granted = await api("POST", "/api/v1/queue/enter", {
        waiting_token: place.token,
        event_id: eventId,
        user_id: place.user || "",
      });
      if (granted.admission === "ADMISSION_STATUS_GRANTED") {
        done = true;
        place = { session: place.session, user: place.user };
        save();
        return location.assign(nextUrl(granted.reservation_token));
      }
      if (granted.admission === "ADMISSION_STATUS_EXPIRED" || granted.admission === "ADMISSION_STATUS_INVALID") {
        return expired();
      }
      later(poll, POLL_MS);
    } catch (error) {
      if (!error.transient) return expired(error.message);
      later(poll, reconnecting(error));
    } finally {
      admitting = false;
    }
  }

  function nextUrl(reservationToken) {
    const next = new URL(config.next_url.split("{event_id}").join(encodeURIComponent(eventId)), location.href);
    next.searchParams.set("event_id", eventId);
    next.searchParams.set("reservation_token", reservationToken);
    return next.href;
  }

  el("event").textContent = eventId;
  el("rejoin").addEventListener("click", join);
  if (!eventId) return setState("error", "No event", "The address names no event.");
  if (query.get("user_id")) place.user = query.get("user_id");
  if (!place.session) place.session = randomId();
  save();
  if (place.token) follow();
  else join();
})();
