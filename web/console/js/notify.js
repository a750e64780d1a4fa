// Attention while nobody looks (the tab hidden, or the window not focused:
// behind another one, on a second monitor): a counter in the title and a short
// beep made with WebAudio (no audio files). Each notification is also
// dispatched as a `pasokh:notify` event on window (a seam for desktop
// notifications later).
import { num, t } from './i18n.js';

export class Notifier {
  constructor(doc = document) {
    this.doc = doc;
    this.unseen = 0;
    this.audio = null;
    this.muted = false;
    doc.title = t('p.title');
    doc.addEventListener('visibilitychange', () => { if (!this.unattended()) this.clear(); });
    doc.defaultView?.addEventListener('focus', () => this.clear());
    // Browsers only let audio start after a user gesture: prepare it then.
    const unlock = () => { this.ensureAudio(); };
    doc.addEventListener('pointerdown', unlock, { once: true, capture: true });
    doc.addEventListener('keydown', unlock, { once: true, capture: true });
  }

  ensureAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!this.audio) {
      try { this.audio = new Ctx(); } catch { return null; }
    }
    if (this.audio.state === 'suspended') this.audio.resume().catch(() => {});
    return this.audio;
  }

  beep() {
    if (this.muted) return;
    const ctx = this.ensureAudio();
    if (!ctx) return;
    const t = ctx.currentTime;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(880, t);
    osc.frequency.setValueAtTime(660, t + 0.09);
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.22);
  }

  unattended() { return this.doc.hidden || !this.doc.hasFocus(); }

  // reason: short text, e.g. "New conversation". `always`: beep even while
  // the agent is looking (a new assignment); the title counts only unattended.
  notify(reason, detail = {}) {
    if (!this.unattended()) {
      if (!detail.always) return false;
      this.beep();
      window.dispatchEvent(new CustomEvent('pasokh:notify', { detail: { reason, ...detail } }));
      return true;
    }
    this.unseen++;
    this.doc.title = `(${num(this.unseen)}) ${reason} · ${t('p.title')}`;
    this.beep();
    window.dispatchEvent(new CustomEvent('pasokh:notify', { detail: { reason, ...detail } }));
    return true;
  }

  clear() {
    this.unseen = 0;
    this.doc.title = t('p.title');
  }
}
