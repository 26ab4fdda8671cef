/**
 * The chat page's notifications (docs/notifications.md): what the page shows by itself (the
 * unread total on the favicon, a toast for a mention in another room), the focus it reports
 * so the server does not notify a room being looked at, and, signed in, this device's Web
 * Push subscription (the service worker /sw.js shows the pushes) and each room's level and
 * mute. All text goes in as textContent.
 */

import { NotificationsClient, isPrivateRoom } from '../vendor/talkrooms-client/talkrooms-client.js';
import { formatDateTime, t } from './i18n.js';
import { read, write } from './storage.js';

/** This browser's registered push device (its id at the server), kept across visits. */
export const PUSH_DEVICE_KEY = 'talkrooms.push_device';
/** "Until I unmute": the longest mute the server takes (366 days). */
const MUTE_FOREVER_MINUTES = 366 * 24 * 60;
const TOAST_MS = 8000;
/** A mention older than this when it arrives (history caught up) gets no toast. */
const TOAST_MAX_AGE_MS = 120_000;

/** The VAPID key (base64url) as pushManager.subscribe wants it. */
function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/** The favicon with a red dot carrying the unread count (a canvas drawn over the logo). */
export class FaviconBadge {
  constructor(doc) {
    this.doc = doc;
    this.link = doc.querySelector('link[rel="icon"]');
    this.originalHref = this.link?.getAttribute('href') ?? null;
    this.originalType = this.link?.getAttribute('type') ?? null;
    this.count = 0;
    this.objectUrl = null;
    this.logo = null;
    this.drawn = 0;
  }

  /** Show `count` (0: the plain logo again). */
  set(count) {
    const value = Math.max(0, Number(count) || 0);
    if (value === this.count || !this.link) return;
    this.count = value;
    this.link.dataset.count = String(value);
    if (value === 0) {
      this.swap(null);
      return;
    }
    const generation = ++this.drawn;
    void this.draw(value).then(
      (blob) => generation === this.drawn && blob && this.swap(blob),
      () => {},
    );
  }

  async draw(count) {
    const size = 64;
    const canvas = this.doc.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext('2d');
    if (!context) return null;
    try {
      context.drawImage(await this.loadLogo(), 0, 0, size, size);
    } catch {
      // No logo (not loaded, or the canvas refused it): the dot alone still says it.
    }
    const radius = 22;
    context.fillStyle = '#E74C3C';
    context.beginPath();
    context.arc(size - radius, radius, radius, 0, Math.PI * 2);
    context.fill();
    context.fillStyle = '#FFFFFF';
    context.font = `bold ${count > 9 ? 24 : 32}px sans-serif`;
    context.textAlign = 'center';
    context.textBaseline = 'middle';
    context.fillText(count > 99 ? '99+' : String(count), size - radius, radius + 2);
    return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  }

  loadLogo() {
    if (!this.logo) {
      this.logo = new Promise((resolve, reject) => {
        const image = new Image();
        image.onload = () => resolve(image);
        image.onerror = reject;
        image.src = this.originalHref;
      });
    }
    return this.logo;
  }

  swap(blob) {
    // The browser fetches a new favicon when it gets to it: the old URL stays valid a while.
    const old = this.objectUrl;
    if (old) setTimeout(() => URL.revokeObjectURL(old), 10_000);
    // A blob: URL (the CSP's img-src allows blob:, not data:).
    this.objectUrl = blob ? URL.createObjectURL(blob) : null;
    if (this.objectUrl) {
      this.link.setAttribute('href', this.objectUrl);
      this.link.setAttribute('type', 'image/png');
    } else {
      this.link.setAttribute('href', this.originalHref);
      if (this.originalType) this.link.setAttribute('type', this.originalType);
    }
  }
}

export class NotificationsUI {
  /**
   * `session`: the page's ChatSession; `accounts`: the AccountClient when signed in (null:
   * a guest, who gets the badge and the toasts only); `label(room)`: how a room is named;
   * `open(room)`: show a room (a toast or a notification clicked).
   */
  constructor(doc, { session, accounts, label, open }) {
    this.doc = doc;
    this.session = session;
    this.accounts = accounts;
    this.label = label;
    this.open = open;
    this.badge = new FaviconBadge(doc);
    this.toasts = doc.getElementById('toasts');
    this.client = accounts ? new NotificationsClient({ baseUrl: '', tokens: accounts }) : null;
    /** Rooms whose first join is done: later mentions are news, not catch-up. */
    this.settled = new Set();
    this.watchFocus();
    this.watchMentions();
    if (this.client) this.setUpSignedIn();
  }

  /** The unread total changed (the title is the room list's; the favicon is drawn here). */
  setUnread(total) {
    this.badge.set(total);
  }

  // ---- Focus: the server skips notifying a room that is looked at ----------------------------

  watchFocus() {
    const update = () => this.updateFocus();
    this.doc.addEventListener('visibilitychange', update);
    window.addEventListener('focus', update);
    window.addEventListener('blur', update);
    this.session.core.on('activeRoom', update);
    update();
  }

  updateFocus() {
    const looking = this.doc.visibilityState === 'visible' && this.doc.hasFocus();
    this.session.core.setFocus(looking ? this.session.room : null);
  }

  // ---- Toasts ----------------------------------------------------------------------------

  watchMentions() {
    const core = this.session.core;
    core.on('roomJoined', ({ room }) => this.settled.add(room));
    core.on('message', (message) => {
      if (!message.mentionsMe || message.room === this.session.room || !this.settled.has(message.room)) return;
      if (message.status === 'sent') return;
      const at = Date.parse(message.timestamp);
      if (Number.isFinite(at) && Date.now() - at > TOAST_MAX_AGE_MS) return;
      this.toast(message);
    });
  }

  toast(message) {
    if (!this.toasts) return;
    const toast = this.doc.createElement('button');
    toast.type = 'button';
    toast.className = 'toast';
    toast.dataset.room = message.room;
    toast.textContent = t('notify_mention_toast', {
      name: message.username,
      room: this.label(message.room),
      text: message.message,
    });
    const remove = () => toast.remove();
    toast.addEventListener('click', () => {
      remove();
      this.open(message.room);
    });
    this.toasts.append(toast);
    setTimeout(remove, TOAST_MS);
  }

  // ---- Signed in: the device switch, the room menu, the service worker ---------------------

  setUpSignedIn() {
    const $ = (id) => this.doc.getElementById(id);
    this.button = $('notify-button');
    this.dialog = $('notify-dialog');
    this.switch = $('notify-switch');
    this.level = $('notify-level');
    this.mute = $('notify-mute');
    this.button.hidden = false;
    this.button.addEventListener('click', () => void this.openMenu());
    $('notify-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    this.switch.addEventListener('change', () => void (this.switch.checked ? this.enablePush() : this.disablePush()));
    this.level.addEventListener('change', () => void this.save({ level: this.level.value }));
    this.mute.addEventListener('change', () => {
      const value = this.mute.value === 'forever' ? MUTE_FOREVER_MINUTES : Number(this.mute.value);
      void this.save({ muteMinutes: value });
    });
    this.switch.checked = this.pushOn();
    if ('serviceWorker' in navigator) {
      // A notification clicked while this page is open: the worker asks it to show the room.
      navigator.serviceWorker.addEventListener('message', (event) => {
        const data = event.data;
        if (data && data.type === 'open-room' && typeof data.room === 'string' && data.room) this.open(data.room);
      });
      navigator.serviceWorker.startMessages();
      this.registration = navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => null);
    } else {
      this.registration = Promise.resolve(null);
    }
  }

  pushOn() {
    return read(PUSH_DEVICE_KEY) !== null && typeof Notification !== 'undefined' && Notification.permission === 'granted';
  }

  deviceStatus(text) {
    this.doc.getElementById('notify-device-status').textContent = text;
  }

  /** Ask the browser, subscribe with the server's key and register the subscription. */
  async enablePush() {
    this.switch.disabled = true;
    try {
      const registration = await this.registration;
      if (!registration || !registration.pushManager || typeof Notification === 'undefined') {
        this.deviceStatus(t('notify_unsupported'));
        this.switch.checked = false;
        return;
      }
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        this.deviceStatus(t('notify_denied'));
        this.switch.checked = false;
        return;
      }
      const key = await this.client.key();
      const subscription = await this.subscribe(registration, key);
      const id = await this.client.addWebPushDevice(subscription.toJSON(), navigator.userAgent.slice(0, 100));
      write(PUSH_DEVICE_KEY, String(id));
      this.deviceStatus(t('notify_on'));
    } catch (error) {
      this.switch.checked = false;
      this.deviceStatus(t('notify_failed', { reason: error?.message || String(error) }));
    } finally {
      this.switch.disabled = false;
    }
  }

  async subscribe(registration, key) {
    const options = { userVisibleOnly: true, applicationServerKey: keyBytes(key) };
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      // Made with another key (the server's changed): it must go before a new one.
      const same = existing.options?.applicationServerKey;
      if (!same || new Uint8Array(same).join() === options.applicationServerKey.join()) return existing;
      await existing.unsubscribe();
    }
    return registration.pushManager.subscribe(options);
  }

  /** Stop this device's notifications: the browser's subscription and the server's record. */
  async disablePush() {
    this.switch.disabled = true;
    try {
      await this.forgetDevice();
      this.deviceStatus(t('notify_off'));
    } finally {
      this.switch.disabled = false;
    }
  }

  async forgetDevice() {
    const id = read(PUSH_DEVICE_KEY);
    write(PUSH_DEVICE_KEY, null);
    const registration = await this.registration;
    const subscription = await registration?.pushManager?.getSubscription().catch(() => null);
    await subscription?.unsubscribe().catch(() => false);
    if (id !== null && Number.isFinite(Number(id))) await this.client.removeDevice(Number(id)).catch(() => {});
  }

  /** Log-out: this browser no longer notifies the account (call while still signed in). */
  async logOut() {
    if (this.client) await this.forgetDevice();
  }

  async openMenu() {
    const room = this.session.room;
    this.menuRoom = room;
    this.doc.getElementById('notify-room-heading').textContent = t('notify_room_heading', { room: this.label(room) });
    this.showError('');
    this.doc.getElementById('notify-status').textContent = '';
    this.switch.checked = this.pushOn();
    this.showSetting({ room, level: isPrivateRoom(room) ? 'all' : 'mentions', mutedUntil: null });
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const settings = await this.client.settings();
      const mine = settings.find((s) => s.room === room);
      if (mine && this.menuRoom === room) this.showSetting(mine);
    } catch (error) {
      this.showError(error?.message || String(error));
    }
  }

  /** `chosen`: the mute just picked, kept in the select (else worked out from the time). */
  showSetting(setting, chosen = null) {
    this.level.value = setting.level;
    const until = this.doc.getElementById('notify-muted-until');
    until.hidden = !setting.mutedUntil;
    until.textContent = setting.mutedUntil ? t('notify_muted_until', { time: formatDateTime(setting.mutedUntil) }) : '';
    if (chosen !== null) this.mute.value = chosen;
    else if (!setting.mutedUntil) this.mute.value = '0';
    // Muted for a while: no choice shows, so that picking "Not muted" is a change that lifts it.
    else this.mute.value = Date.parse(setting.mutedUntil) - Date.now() > 30 * 24 * 3600 * 1000 ? 'forever' : '';
  }

  async save(change) {
    const room = this.menuRoom;
    if (!room) return;
    this.showError('');
    const status = this.doc.getElementById('notify-status');
    status.textContent = '';
    try {
      const chosen = change.muteMinutes !== undefined ? this.mute.value : null;
      const setting = await this.client.setRoom(room, change);
      if (this.menuRoom !== room) return;
      this.showSetting(setting, chosen);
      status.textContent = t('notify_saved');
    } catch (error) {
      this.showError(error?.message || String(error));
    }
  }

  showError(text) {
    const error = this.doc.getElementById('notify-error');
    error.hidden = !text;
    error.textContent = text;
  }
}
