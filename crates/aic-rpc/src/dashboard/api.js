// The public API, and its event stream shared by every page.

/** An API error: HTTP status, machine-readable code, message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "http-" + status;
  }
}

/** GET /api/v1{path} as JSON. */
export async function get(path) {
  let r;
  try {
    r = await fetch("/api/v1" + path, { headers: { Accept: "application/json" } });
  } catch (e) {
    throw new ApiError(0, "unreachable", "the node did not answer: " + e.message);
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body?.code, body?.message);
  return body;
}

/**
 * GET /api/v1/events: one EventSource for the whole app. Pages subscribe with `on(type, fn)`
 * and get an unsubscribe function back. After a reconnection (a new `hello`) or a `lagged`
 * event, `resync` handlers run: a page reloads what it shows.
 */
export class Events {
  constructor(indicator) {
    this.handlers = new Map();
    this.indicator = indicator;
    this.hellos = 0;
    this.connect();
  }

  connect() {
    this.source = new EventSource("/api/v1/events");
    this.state("connecting");
    this.source.onopen = () => this.state("live");
    this.source.onerror = () => this.state(this.source.readyState === 2 ? "down" : "connecting");
    for (const type of ["hello", "tip", "tx", "mining", "providers", "lagged"]) {
      this.source.addEventListener(type, (e) => {
        let data;
        try { data = JSON.parse(e.data); } catch { return; }
        this.state("live");
        if (type === "hello") {
          this.hello = data;
          if (this.hellos++ > 0) this.emit("resync", data);
        }
        if (type === "lagged") this.emit("resync", data);
        this.emit(type, data);
      });
    }
  }

  state(s) {
    if (!this.indicator) return;
    this.indicator.dataset.state = s;
    this.indicator.querySelector("span").textContent = s === "live" ? "live" : s;
  }

  emit(type, data) {
    for (const fn of this.handlers.get(type) || []) {
      try { fn(data); } catch (e) { console.error(e); }
    }
  }

  /** Calls `fn(data)` on each `type` event; returns the function that stops it. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }
}

/**
 * Runs `fn` at most once per `ms` however often it is asked to (for reloads driven by
 * events); `.cancel()` drops a pending run.
 */
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  const run = () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
  };
  run.cancel = () => { clearTimeout(timer); timer = null; };
  return run;
}
