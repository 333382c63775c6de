// The operator view: the event's waiting-room figures, refreshed every two seconds with the
// operator's bearer token (kept for this tab only).
(() => {
  "use strict";
  const eventId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const el = (id) => document.getElementById(id);
  const REFRESH_MS = 2000;
  let timer = null;

  function duration(seconds) {
    if (!isFinite(seconds)) return "no admissions yet";
    if (seconds < 60) return Math.round(seconds) + " s";
    return Math.round(seconds / 60) + " min";
  }

  function signIn(message) {
    clearTimeout(timer);
    el("figures").hidden = true;
    el("signin").hidden = false;
    if (message) el("signin-note").textContent = message;
    el("token").focus();
  }

  async function refresh() {
    const token = sessionStorage.getItem("tacos-operator-token");
    if (!token) return signIn();
    try {
      const response = await fetch("/api/v1/events/" + encodeURIComponent(eventId) + "/queue/stats", {
        cache: "no-store",
        headers: { Accept: "application/json", Authorization: "Bearer " + token },
      });
      if (response.status === 401 || response.status === 403) {
        sessionStorage.removeItem("tacos-operator-token");
        return signIn(response.status === 401 ? "That token was not accepted." : "That token lacks the operator role.");
      }
      if (!response.ok) throw new Error(response.statusText);
      const stats = ((await response.json()).events || [])[0] || {};
      const waiting = stats.total_waiting || 0;
      const rate = stats.admission_rate_per_minute || 0;
      el("signin").hidden = true;
      el("figures").hidden = false;
      el("state").textContent = "Live";
      el("waiting").textContent = waiting.toLocaleString();
      el("admitted").textContent = (stats.total_admitted || 0).toLocaleString();
      el("rate").textContent = rate.toLocaleString() + " per minute";
      el("average").textContent = duration(stats.average_wait_time_seconds || 0);
      el("last").textContent = waiting === 0 ? "nobody waiting" : duration(rate > 0 ? (waiting / rate) * 60 : Infinity);
      el("updated").textContent = "Updated " + new Date().toLocaleTimeString() + ".";
    } catch (_) {
      el("state").textContent = "Reconnecting…";
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  el("event").textContent = eventId;
  el("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("tacos-operator-token", el("token").value.trim());
    refresh();
  });
  refresh();
})();
