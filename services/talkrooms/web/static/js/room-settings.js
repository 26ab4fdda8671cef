/**
 * A room's settings on the chat page (docs/moderation.md, "Room settings"): the topic under
 * the room's name and the pinned messages above the list, for everyone; what the settings
 * mean for this person next to the composer (posting closed: the composer is shut and says
 * why; slow mode: the delay); and for the room's staff the Room settings dialog (topic, who
 * may post, slow mode, invite-only with its link, the automatic moderation rules and the
 * room's own words) and Pin / Unpin in the message menu.
 *
 * The client core keeps each room's settings from its join and the `room_settings` event;
 * answers of the API (a pin, a save) are used at once too, without waiting for the event.
 * The server checks every change. Text goes in as textContent or form values.
 */

import {
  AUTOMOD_RULES,
  inviteLink,
  isPrivateRoom,
  isStaff,
  mayPost,
} from '../vendor/talkrooms-client/talkrooms-client.js';
import { apiErrorText } from './account.js';
import { t } from './i18n.js';
import { el } from './render.js';

/** Slow mode delays offered, in seconds (a room set to another value gets it added). */
const SLOW_MODES = [0, 5, 10, 30, 60, 300, 900, 3600];
/** A pin's line: the start of the message. */
const PIN_EXCERPT = 80;

function slowModeLabel(seconds) {
  if (seconds === 0) return t('slow_mode_off');
  if (seconds % 60 === 0) return t('slow_mode_minutes', { count: seconds / 60 });
  return t('slow_mode_seconds', { count: seconds });
}

function excerpt(text) {
  const chars = [...text];
  return chars.length <= PIN_EXCERPT ? text : `${chars.slice(0, PIN_EXCERPT - 1).join('')}…`;
}

export class RoomSettingsUI {
  /** `moderation`: the page's ModerationUI (its client and our role); `signedIn`: an account. */
  constructor(doc, { session, view, actions, moderation, signedIn }) {
    const $ = (id) => doc.getElementById(id);
    this.session = session;
    this.view = view;
    this.actions = actions;
    this.moderation = moderation;
    this.signedIn = signedIn;
    /** room -> the newest settings known (event or API answer). */
    this.latest = new Map();
    /** Rooms whose server refused our message as posting_closed ("members" rooms). */
    this.refused = new Set();
    /** The settings the open dialog was filled from. */
    this.loaded = null;
    this.topic = $('room-topic');
    this.notice = $('room-notice');
    this.button = $('room-settings-button');
    this.pins = $('pins');
    this.pinsToggle = $('pins-toggle');
    this.pinsList = $('pins-list');
    this.dialog = $('room-settings-dialog');
    this.form = $('room-settings-form');
    this.error = $('room-settings-error');
    this.status = $('room-settings-status');
    this.save = $('room-settings-save');
    this.field = {
      topic: $('settings-topic'),
      post: $('settings-post'),
      slowMode: $('settings-slow-mode'),
      inviteOnly: $('settings-invite-only'),
      invite: $('settings-invite'),
      inviteLink: $('settings-invite-link'),
      words: $('settings-words'),
    };
    this.rules = new Map(AUTOMOD_RULES.map((rule) => [rule, $(`settings-automod-${rule}`)]));

    actions.pinAction = (message) => this._pinAction(message);
    actions.onPin = (id, pin) => void this._pin(id, pin);
    this.button.addEventListener('click', () => void this.open());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this._save();
    });
    $('room-settings-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    $('settings-invite-copy').addEventListener('click', () => void this._copyInvite());
    $('settings-invite-renew').addEventListener('click', () => void this._renewInvite());
    this.pinsToggle.addEventListener('click', () => {
      const open = this.pinsList.hidden;
      this.pinsList.hidden = !open;
      this.pinsToggle.setAttribute('aria-expanded', String(open));
    });
    this.pinsList.addEventListener('click', (event) => {
      const unpin = event.target.closest('[data-unpin]');
      if (unpin) {
        void this._pin(unpin.dataset.unpin, false);
        return;
      }
      const go = event.target.closest('[data-goto]');
      if (go) void actions.goTo(go.dataset.goto);
    });

    const core = session.core;
    core.on('settings', (settings, room) => {
      this.latest.set(room, settings);
      if (room === session.room) this.render();
    });
    core.on('activeRoom', () => this.render());
    core.on('timeline', (_changes, { room }) => {
      // A pinned message may have come in with older history, or been edited.
      if (room === session.room && this.settings?.pins.length) this._renderPins();
    });
    core.on('error', (error) => {
      if (error.source !== 'send' || error.code !== 'posting_closed') return;
      this.refused.add(error.room ?? session.room);
      this.render();
    });
    moderation.onRoleChange.add(() => this.render());
  }

  /** The settings of the room shown (null: the defaults). */
  get settings() {
    const room = this.session.room;
    return this.latest.has(room) ? this.latest.get(room) : this.session.core.settings(room);
  }

  get staff() {
    return isStaff(this.moderation.role);
  }

  /** Show the room shown's topic, pins and what its rules mean for this person. */
  render() {
    const settings = this.settings;
    const room = this.session.room;
    const topic = settings?.topic ?? '';
    this.topic.textContent = topic;
    this.topic.title = topic;
    this.topic.hidden = !topic;
    this.button.hidden = !this.staff || isPrivateRoom(room);
    if (this.button.hidden && this.dialog.open) this.dialog.close();
    this._renderPins();
    this._renderComposer(settings, room);
  }

  _renderComposer(settings, room) {
    const who = { staff: this.staff, account: this.signedIn, member: this.refused.has(room) ? false : undefined };
    const closed = !mayPost(settings, who);
    this.view.setComposerLock('posting', closed);
    let text = '';
    if (closed) text = settings?.post === 'members' ? t('posting_closed_members') : t('posting_closed_registered');
    else if (settings?.slowMode && !who.staff) text = t('slow_mode_notice', { delay: slowModeLabel(settings.slowMode) });
    this.notice.textContent = text;
    this.notice.hidden = !text;
    this.notice.dataset.state = closed ? 'closed' : text ? 'slow' : '';
  }

  // ---- Pins -------------------------------------------------------------------------------

  _pinAction(message) {
    if (!this.staff || isPrivateRoom(this.session.room) || !message.id) return null;
    return this.settings?.pins.includes(message.id) ? 'unpin' : 'pin';
  }

  async _pin(id, pin) {
    const room = this.session.room;
    try {
      const settings = pin ? await this.moderation.client.pin(room, id) : await this.moderation.client.unpin(room, id);
      this.latest.set(room, settings);
      if (room === this.session.room) this.render();
    } catch (error) {
      this.view.showError(apiErrorText(error));
    }
  }

  _renderPins() {
    const pins = this.settings?.pins ?? [];
    this.pins.hidden = pins.length === 0;
    this.pinsToggle.textContent = t('pins_count', { count: pins.length });
    const timeline = this.session.activeTimeline;
    const items = pins.map((id) => {
      const li = el('li', 'pin');
      li.dataset.id = id;
      const message = timeline.message(id);
      const go = el('button', 'pin-goto');
      go.type = 'button';
      go.dataset.goto = id;
      go.title = t('pin_goto');
      if (message && !message.deleted) {
        go.append(el('span', 'pin-author', message.username), el('span', 'pin-text', excerpt(message.message || t('reply_files'))));
      } else {
        go.append(el('span', 'pin-text', message?.deleted ? t('reply_deleted') : t('pin_not_loaded')));
      }
      li.append(go);
      if (this.staff) {
        const unpin = el('button', 'button-ghost pin-unpin', '×');
        unpin.type = 'button';
        unpin.dataset.unpin = id;
        unpin.setAttribute('aria-label', t('unpin'));
        unpin.title = t('unpin');
        li.append(unpin);
      }
      return li;
    });
    this.pinsList.replaceChildren(...items);
  }

  // ---- The dialog (staff) ---------------------------------------------------------------

  /** Open the dialog with the settings as the server has them (the words and code are staff-only). */
  async open() {
    const room = this.session.room;
    this._showError('');
    this.status.textContent = '';
    let settings;
    try {
      settings = await this.moderation.client.settings(room);
    } catch (error) {
      this.view.showError(apiErrorText(error));
      return;
    }
    this._fill(settings);
    if (!this.dialog.open) this.dialog.showModal();
    this.field.topic.focus();
  }

  _fill(settings) {
    this.loaded = settings;
    this.field.topic.value = settings.topic;
    this.field.post.value = settings.post;
    const delays = SLOW_MODES.includes(settings.slowMode) ? SLOW_MODES : [...SLOW_MODES, settings.slowMode].sort((a, b) => a - b);
    this.field.slowMode.replaceChildren(
      ...delays.map((seconds) => {
        const option = el('option', '', slowModeLabel(seconds));
        option.value = String(seconds);
        return option;
      }),
    );
    this.field.slowMode.value = String(settings.slowMode);
    this.field.inviteOnly.checked = settings.inviteOnly;
    this._showInvite(settings.inviteOnly ? settings.inviteCode : undefined);
    const rules = settings.automod?.rules;
    for (const [rule, select] of this.rules) select.value = rules?.[rule] ?? select.value;
    this.field.words.value = (settings.automod?.words ?? []).join('\n');
  }

  _showInvite(code) {
    this.field.invite.hidden = !code;
    this.field.inviteLink.value = code ? inviteLink(globalThis.location.origin, this.session.room, code) : '';
  }

  /** Only what changed goes to the server (each change is one line of the audit log). */
  _patch() {
    const before = this.loaded;
    const patch = {};
    const topic = this.field.topic.value.trim();
    if (topic !== before.topic) patch.topic = topic;
    if (this.field.post.value !== before.post) patch.post = this.field.post.value;
    const slow = Number(this.field.slowMode.value);
    if (slow !== before.slowMode) patch.slowMode = slow;
    if (this.field.inviteOnly.checked !== before.inviteOnly) patch.inviteOnly = this.field.inviteOnly.checked;
    const rules = {};
    for (const [rule, select] of this.rules) if (select.value !== before.automod?.rules[rule]) rules[rule] = select.value;
    const words = this.field.words.value.split(/[\n,]/).map((w) => w.trim()).filter(Boolean);
    const automod = {};
    if (Object.keys(rules).length) automod.rules = rules;
    if (words.join('\n') !== (before.automod?.words ?? []).join('\n')) automod.words = words;
    if (Object.keys(automod).length) patch.automod = automod;
    return patch;
  }

  async _save() {
    if (!this.loaded) return;
    const room = this.session.room;
    const patch = this._patch();
    this._showError('');
    if (!Object.keys(patch).length) {
      this.status.textContent = t('settings_unchanged');
      return;
    }
    this.save.disabled = true;
    try {
      this.latest.set(room, await this.moderation.client.updateSettings(room, patch));
      // Read again: the invite code (made when invite-only is turned on) and the words are staff-only.
      this._fill(await this.moderation.client.settings(room));
      this.status.textContent = t('settings_saved');
      if (room === this.session.room) this.render();
    } catch (error) {
      this._showError(apiErrorText(error));
    } finally {
      this.save.disabled = false;
    }
  }

  async _copyInvite() {
    const link = this.field.inviteLink.value;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // No clipboard (an insecure origin): the link is selected for the person to copy.
      this.field.inviteLink.select();
    }
    this.status.textContent = t('invite_copied');
  }

  async _renewInvite() {
    const room = this.session.room;
    try {
      const code = await this.moderation.client.renewInvite(room);
      this._showInvite(code);
      if (this.loaded) this.loaded = { ...this.loaded, inviteCode: code };
      this.status.textContent = t('invite_renewed');
    } catch (error) {
      this._showError(apiErrorText(error));
    }
  }

  _showError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }
}
