/**
 * "Edit profile": display name, bio and colour (one of the protocol's AVATAR_COLORS) of the
 * signed-in account, saved with PATCH /api/v1/profile; the server's refusal text shows as is.
 */

import { apiErrorText } from './account.js';
import { t } from './i18n.js';
import { AVATAR_COLORS } from './colors.js';
import { el } from './render.js';

export class ProfileEditor {
  /** `options`: {accounts, onSaved(profile)}. */
  constructor(doc, options) {
    const $ = (id) => doc.getElementById(id);
    this.options = options;
    this.dialog = $('profile-editor');
    this.form = $('profile-editor-form');
    this.displayName = $('profile-display-name');
    this.bio = $('profile-bio');
    this.colors = $('profile-colors');
    this.error = $('profile-editor-error');
    this.save = $('profile-save');
    for (const [index, color] of AVATAR_COLORS.entries()) {
      const label = el('label', 'color-choice');
      const radio = el('input');
      radio.type = 'radio';
      radio.name = 'color';
      radio.value = color;
      radio.id = `profile-color-${index}`;
      const swatch = el('span', 'color-swatch');
      swatch.style.setProperty('--swatch', color);
      label.title = color;
      label.append(radio, swatch, el('span', 'visually-hidden', t('color_choice', { color })));
      this.colors.append(label);
    }
    $('profile-cancel').addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this._save();
    });
  }

  /** Open with the account's profile as it is now (fetched). */
  async open() {
    this._error('');
    this.save.disabled = true;
    if (!this.dialog.open) this.dialog.showModal();
    try {
      const profile = await this.options.accounts.profile();
      this.displayName.value = profile.displayName;
      this.bio.value = profile.bio;
      for (const radio of this.colors.querySelectorAll('input')) radio.checked = radio.value.toUpperCase() === profile.color.toUpperCase();
      this.save.disabled = false;
      this.displayName.focus();
    } catch (error) {
      this._error(apiErrorText(error));
    }
  }

  _error(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  async _save() {
    this.save.disabled = true;
    this._error('');
    const color = this.colors.querySelector('input:checked')?.value;
    try {
      // Emptied fields go back to their defaults (the username, no bio).
      const profile = await this.options.accounts.updateProfile({
        displayName: this.displayName.value.trim() === '' ? null : this.displayName.value,
        bio: this.bio.value.trim() === '' ? null : this.bio.value,
        ...(color ? { color } : {}),
      });
      this.dialog.close();
      this.options.onSaved(profile);
    } catch (error) {
      this._error(apiErrorText(error));
    } finally {
      this.save.disabled = false;
    }
  }
}
