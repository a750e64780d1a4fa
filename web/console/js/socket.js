// The agent WebSocket (protocol v1): hello on every connect, automatic
// reconnect with exponential backoff and jitter, ping watchdog.
//
// States: 'connecting' (first attempt), 'online' (welcome received),
// 'reconnecting' (lost; a retry is scheduled or in progress), 'closed'
// (stopped, or the token was refused).

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const CONNECT_WITHIN_MS = 10_000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

export class AgentSocket extends EventTarget {
  // hello(): the hello frame to send (computed per connect, for `resume`).
  constructor(url, hello) {
    super();
    this.url = url;
    this.hello = hello;
    this.ws = null;
    this.state = 'closed';
    this.attempt = 0;
    this.welcomed = false;
    this.everOnline = false;
    this.retryAt = 0;
    this.timers = {};
    this.onOnline = () => { if (this.state === 'reconnecting') this.retryNow(); };
  }

  get ready() { return !!this.ws && this.ws.readyState === WebSocket.OPEN && this.welcomed; }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    for (const t of Object.values(this.timers)) clearTimeout(t);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) ws.close(1000, 'bye');
    this.setState('closed');
  }

  // Sends a frame if the session is up; false otherwise (caller queues).
  send(frame) {
    if (!this.ready) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  retryNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timers.retry);
    this.connect();
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...detail } }));
  }

  connect() {
    this.setState(this.everOnline ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.timers.connect = setTimeout(() => this.drop(ws), CONNECT_WITHIN_MS);

    ws.addEventListener('open', () => {
      ws.send(JSON.stringify(this.hello()));
    });
    ws.addEventListener('message', (e) => {
      if (ws !== this.ws) return;
      clearTimeout(this.timers.pong);
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      if (!frame || typeof frame.type !== 'string') return;
      if (frame.type === 'welcome') {
        clearTimeout(this.timers.connect);
        this.welcomed = true;
        this.everOnline = true;
        this.attempt = 0;
        this.setState('online');
        this.schedulePing();
      }
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    });
    ws.addEventListener('close', (e) => {
      if (ws !== this.ws) return; // already dropped by the watchdog
      const wasWelcomed = this.welcomed;
      this.ws = null;
      this.welcomed = false;
      clearTimeout(this.timers.connect);
      clearTimeout(this.timers.ping);
      clearTimeout(this.timers.pong);
      if (this.stopped) return;
      // 1008 before welcome: the token was refused (expired, logged out).
      if (e.code === 1008 && !wasWelcomed) {
        this.stopped = true;
        this.setState('closed');
        this.dispatchEvent(new CustomEvent('unauthorized', { detail: { reason: e.reason } }));
        return;
      }
      this.scheduleReconnect();
    });
  }

  // Gives up on a socket that stopped answering, without waiting for a
  // closing handshake that may never come.
  drop(ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.welcomed = false;
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    try { ws.close(4000, 'timeout'); } catch { /* already closing */ }
    if (!this.stopped) this.scheduleReconnect();
  }

  scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState('reconnecting', { retryAt: this.retryAt });
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  schedulePing() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      const ws = this.ws;
      if (!this.send({ type: 'ping' })) return;
      this.timers.pong = setTimeout(() => this.drop(ws), PONG_WITHIN_MS);
      this.schedulePing();
    }, PING_EVERY_MS);
  }
}
