/**
 * The profile card (a click on a name in the online list or on a message's author): an
 * account's display name, username, bio and colour from GET /api/v1/profiles/<name>; a
 * guest's name only. "Message" opens a private conversation, "Block"/"Unblock" for
 * accounts; on one's own card "Edit profile" and "Log out". Text goes in as textContent.
 */

import { apiErrorText } from './account.js';
import { formatDate, t } from './i18n.js';
import { paintAvatar } from './render.js';

export class ProfileCard {
  /**
   * `options`: {accounts, me() -> account|null, isBlocked(name), userOf(name) -> room user|null,
   * onMessage(name) -> Promise, onBlockChange(name, blocked), onProfile(profile), onEdit(), onLogout()}.
   */
  constructor(doc, options) {
    const $ = (id) => doc.getElementById(id);
    this.options = options;
    this.dialog = $('profile-card');
    this.avatar = $('profile-card-avatar');
    this.name = $('profile-card-name');
    this.username = $('profile-card-username');
    this.bio = $('profile-card-bio');
    this.since = $('profile-card-since');
    this.notice = $('profile-card-notice');
    this.messageButton = $('profile-message');
    this.blockButton = $('profile-block');
    this.editButton = $('profile-edit');
    this.logoutButton = $('profile-logout');
    /** The username shown, and whether it is an account (null while unknown). */
    this.shown = null;
    this.isAccount = null;
    this.request = 0;

    $('profile-close').addEventListener('click', () => this.close());
    this.dialog.addEventListener('click', (event) => {
      // A click on the backdrop (outside the card's box) closes it.
      if (event.target === this.dialog) this.close();
    });
    this.messageButton.addEventListener('click', () => void this._message());
    this.blockButton.addEventListener('click', () => void this._toggleBlock());
    this.editButton.addEventListener('click', () => {
      this.close();
      options.onEdit();
    });
    this.logoutButton.addEventListener('click', () => options.onLogout());
  }

  get isOpen() {
    return this.dialog.open;
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Show `username`'s card: what the online list knows at once, then the profile. */
  async open(username) {
    const { options } = this;
    const request = ++this.request;
    const me = options.me();
    const mine = Boolean(me && me.username === username);
    const known = options.userOf(username);
    this.shown = username;
    // A guest in the online list has no profile to fetch.
    this.isAccount = known ? Boolean(known.account) : mine ? true : null;
    this._fill({ username, displayName: known?.display_name || username, color: known?.account ? known.color : null, bio: '', createdAt: '' });
    this._notice('');
    this._buttons();
    if (!this.dialog.open) this.dialog.showModal();
    if (this.messageButton.hidden) this.dialog.querySelector('#profile-close').focus();
    else this.messageButton.focus();
    if (this.isAccount === false) return;
    try {
      const profile = await options.accounts.publicProfile(username);
      if (request !== this.request) return;
      this.isAccount = true;
      this._fill(profile);
      options.onProfile(profile);
    } catch (error) {
      if (request !== this.request) return;
      if (error?.status === 404) this.isAccount = false;
      else this._notice(apiErrorText(error));
    }
    this._buttons();
  }

  _fill(profile) {
    this.name.textContent = profile.displayName || profile.username;
    this.username.textContent = `@${profile.username}`;
    // A guest's card shows the name once; an account's also shows its @username.
    this.username.hidden = this.isAccount !== true && (profile.displayName || profile.username) === profile.username;
    this.bio.textContent = profile.bio || '';
    this.bio.hidden = !profile.bio;
    this.since.textContent = profile.createdAt ? t('member_since', { date: formatDate(profile.createdAt) }) : this.isAccount === false ? t('guest') : '';
    paintAvatar(this.avatar, profile.displayName || profile.username, profile.color);
  }

  _buttons() {
    const me = this.options.me();
    const mine = Boolean(me && this.shown === me.username);
    // Private messages are between accounts: a guest's card offers none.
    this.messageButton.hidden = mine || this.isAccount === false;
    this.blockButton.hidden = mine || !me || this.isAccount !== true;
    this.blockButton.textContent = this.options.isBlocked(this.shown) ? t('unblock') : t('block');
    this.editButton.hidden = !mine;
    this.logoutButton.hidden = !mine;
    if (this.isAccount === false) this.since.textContent = t('guest');
  }

  _notice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  async _message() {
    if (!this.options.me()) {
      this._notice(t('private_messages_need_account_full'));
      return;
    }
    this.messageButton.disabled = true;
    try {
      await this.options.onMessage(this.shown);
      this.close();
    } catch (error) {
      this._notice(apiErrorText(error));
    } finally {
      this.messageButton.disabled = false;
    }
  }

  async _toggleBlock() {
    const name = this.shown;
    const blocked = this.options.isBlocked(name);
    this.blockButton.disabled = true;
    try {
      if (blocked) await this.options.accounts.unblock(name);
      else await this.options.accounts.block(name);
      this.options.onBlockChange(name, !blocked);
      this._notice(blocked ? t('unblocked_notice', { name }) : t('blocked_notice', { name }));
    } catch (error) {
      this._notice(apiErrorText(error));
    } finally {
      this.blockButton.disabled = false;
      this._buttons();
    }
  }
}
