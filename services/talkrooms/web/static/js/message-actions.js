/**
 * What a person does to a message (protocol 2): the small menu of each message (react,
 * reply, edit and delete their own; report others'; pin for the room's staff), the emoji picker, the inline editor, the reaction
 * chips (a click toggles), the quote bar above the input while replying, and a click on a
 * reply's quote, which scrolls to the original (loading older history when needed).
 * Every text goes to the page through textContent.
 */

import { t } from './i18n.js';
import { el } from './render.js';

/** The emoji the picker offers. */
export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];

export class MessageActions {
  /** `session`: the page's ChatSession; `view`: its ChatView; `input`: the composer. */
  constructor(doc, session, view, input) {
    this.doc = doc;
    this.session = session;
    this.view = view;
    this.input = input;
    this.replyTo = null;
    this.menuFor = null; // id of the message whose menu is open
    this.shownError = null; // the text of the last refusal shown here
    /** Moderation (set by moderation.js): whether this person may remove `message`, and how. */
    this.canRemove = () => false;
    this.onRemove = () => {};
    /** Reporting (set by moderation.js: anyone may report another's message). */
    this.canReport = () => false;
    this.onReport = () => {};
    /** Pins (set by room-settings.js): 'pin' | 'unpin' | null for this person and message. */
    this.pinAction = () => null;
    this.onPin = () => {};
    this.replyBar = doc.getElementById('reply-bar');
    this.replyAuthor = doc.getElementById('reply-bar-author');
    this.replyText = doc.getElementById('reply-bar-text');
    this.menu = this._buildMenu();
    doc.querySelector('.messages-pane').append(this.menu);

    view.list.addEventListener('click', (event) => this._onListClick(event));
    doc.getElementById('reply-cancel').addEventListener('click', () => {
      this.cancelReply();
      this.input.focus();
    });
    doc.addEventListener('click', (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target) && !event.target.closest('[data-action="menu"]')) this.closeMenu();
    });
    doc.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      if (!this.menu.hidden) this.closeMenu(true);
      else if (this.replyTo && doc.activeElement === this.input) this.cancelReply();
    });
    view.list.addEventListener('scroll', () => this.closeMenu());
  }

  // ---- The menu ------------------------------------------------------------------------

  _buildMenu() {
    const menu = el('div', 'message-menu');
    menu.id = 'message-menu';
    menu.setAttribute('role', 'menu');
    menu.hidden = true;
    const row = el('div', 'emoji-row');
    row.setAttribute('role', 'group');
    row.setAttribute('aria-label', t('react'));
    for (const emoji of QUICK_EMOJI) {
      const item = this._menuItem(emoji, 'react', 'emoji-choice');
      item.dataset.emoji = emoji;
      item.title = t('react_with', { emoji });
      row.append(item);
    }
    menu.append(
      row,
      this._menuItem(t('reply'), 'reply'),
      this._menuItem(t('edit'), 'edit'),
      this._menuItem(t('delete'), 'delete', 'danger'),
      this._menuItem(t('pin'), 'pin'),
      this._menuItem(t('unpin'), 'unpin'),
      this._menuItem(t('report'), 'report'),
      this._menuItem(t('remove_message'), 'remove', 'danger'),
    );
    menu.addEventListener('click', (event) => {
      const item = event.target.closest('button[data-menu]');
      if (item) this._onMenu(item);
    });
    return menu;
  }

  _menuItem(text, action, className = '') {
    const item = el('button', `menu-item ${className}`.trim(), text);
    item.type = 'button';
    item.setAttribute('role', 'menuitem');
    item.dataset.menu = action;
    return item;
  }

  openMenu(id, anchor) {
    const message = this.session.activeTimeline.message(id);
    if (!message || message.deleted) return;
    this.menuFor = id;
    const own = message.username === this.session.username;
    this.menu.querySelector('[data-menu="edit"]').hidden = !own;
    const remove = this.menu.querySelector('[data-menu="delete"]');
    remove.hidden = !own;
    remove.textContent = t('delete');
    delete remove.dataset.confirm;
    // A moderator removes other people's messages (their own: Delete).
    this.menu.querySelector('[data-menu="remove"]').hidden = own || !this.canRemove(message);
    this.menu.querySelector('[data-menu="report"]').hidden = own || !this.canReport(message);
    const pin = this.pinAction(message);
    this.menu.querySelector('[data-menu="pin"]').hidden = pin !== 'pin';
    this.menu.querySelector('[data-menu="unpin"]').hidden = pin !== 'unpin';
    this.menu.hidden = false;
    // Next to the button, inside the pane, flipped up near the bottom.
    const pane = this.menu.parentElement.getBoundingClientRect();
    const at = anchor.getBoundingClientRect();
    const menu = this.menu.getBoundingClientRect();
    const top = at.bottom + menu.height > pane.bottom ? at.top - menu.height - 4 : at.bottom + 4;
    const left = Math.min(Math.max(at.right - menu.width, pane.left + 4), pane.right - menu.width - 4);
    this.menu.style.setProperty('--menu-top', `${Math.max(top - pane.top, 4)}px`);
    this.menu.style.setProperty('--menu-left', `${left - pane.left}px`);
    anchor.setAttribute('aria-expanded', 'true');
    this.menu.querySelector('.menu-item')?.focus();
  }

  closeMenu(refocus = false) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    const button = this.menuFor && this.view.messageNode(this.menuFor)?.querySelector('[data-action="menu"]');
    button?.setAttribute('aria-expanded', 'false');
    if (refocus) button?.focus();
    this.menuFor = null;
  }

  async _onMenu(item) {
    const id = this.menuFor;
    if (!id) return;
    const action = item.dataset.menu;
    if (action === 'delete' && !item.dataset.confirm) {
      // A deletion cannot be undone: the first click asks.
      item.dataset.confirm = 'true';
      item.textContent = t('delete_confirm');
      return;
    }
    this.closeMenu();
    if (action === 'react') await this._report(this.session.react(id, item.dataset.emoji));
    else if (action === 'reply') this.startReply(id);
    else if (action === 'edit') this.startEdit(id);
    else if (action === 'delete') await this._report(this.session.deleteMessage(id));
    else if (action === 'remove') this.onRemove(id);
    else if (action === 'report') this.onReport(id);
    else if (action === 'pin' || action === 'unpin') this.onPin(id, action === 'pin');
  }

  // ---- Clicks in the list ------------------------------------------------------------------

  async _onListClick(event) {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { action } = button.dataset;
    if (action === 'retry') this.session.retry(button.dataset.clientId);
    else if (action === 'discard') this.session.discard(button.dataset.clientId);
    else if (action === 'menu') {
      if (this.menuFor === button.dataset.id) this.closeMenu();
      else this.openMenu(button.dataset.id, button);
    } else if (action === 'react') await this._report(this.session.react(button.dataset.id, button.dataset.emoji));
    else if (action === 'goto-quote') await this.goTo(button.dataset.target);
    else if (action === 'edit-save') await this._saveEdit();
    else if (action === 'edit-cancel') this.stopEdit();
  }

  /** Scroll to message `id`, loading older history back to it when it is not on the page. */
  async goTo(id) {
    if (!id || this.view.reveal(id)) return;
    const found = await this.session.loadHistoryTo(id);
    if (!found || !this.view.reveal(id)) this._showError(t('reply_not_found'));
  }

  /** Show a refusal; the next action that succeeds takes it away (not other errors). */
  async _report(pending) {
    const result = await pending;
    if (!result.ok) this._showError(result.error);
    else if (this.shownError !== null && this.view.errorText.textContent === this.shownError) {
      this.view.clearError();
      this.shownError = null;
    }
    return result;
  }

  _showError(text) {
    this.shownError = text;
    this.view.showError(text);
  }

  // ---- Replying ------------------------------------------------------------------------

  startReply(id) {
    const quote = this.session.quote(id);
    if (!quote) return;
    this.replyTo = id;
    this.replyAuthor.textContent = t('replying_to', { name: quote.username });
    this.replyText.textContent = quote.excerpt;
    this.replyBar.hidden = false;
    this.input.focus();
  }

  cancelReply() {
    this.replyTo = null;
    this.replyBar.hidden = true;
    this.replyAuthor.textContent = '';
    this.replyText.textContent = '';
  }

  // ---- Editing -------------------------------------------------------------------------

  startEdit(id) {
    const message = this.session.activeTimeline.message(id);
    if (!message) return;
    this.stopEdit();
    const editor = el('div', 'message-editor');
    const field = el('textarea', 'edit-input');
    field.value = message.message;
    field.rows = 2;
    field.setAttribute('aria-label', t('edit_label'));
    field.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this._saveEdit();
      } else if (event.key === 'Escape') {
        event.stopPropagation();
        this.stopEdit();
      }
    });
    const buttons = el('p', 'message-actions');
    for (const [action, text, className] of [
      ['edit-save', t('save'), 'button-small'],
      ['edit-cancel', t('cancel'), 'button-small button-quiet'],
    ]) {
      const button = el('button', className, text);
      button.type = 'button';
      button.dataset.action = action;
      buttons.append(button);
    }
    editor.append(field, buttons);
    this.view.setEditing(id, editor);
    this.view.messageNode(id)?.querySelector('.message-text')?.replaceWith(editor);
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }

  stopEdit() {
    const editing = this.view.editing;
    if (!editing) return;
    this.view.setEditing(null);
    // Render the message again from the timeline (its text as it is now).
    const message = this.session.activeTimeline.message(editing.id);
    if (message) this.view.apply([{ op: 'upsert', item: message }]);
  }

  async _saveEdit() {
    const editing = this.view.editing;
    if (!editing) return;
    const field = editing.node.querySelector('textarea');
    const message = this.session.activeTimeline.message(editing.id);
    if (message && field.value.trim() === message.message) {
      this.stopEdit();
      return;
    }
    const result = await this._report(this.session.edit(editing.id, field.value));
    if (result.ok) this.stopEdit();
  }

  /** The room changed: a reply or an edit in progress belonged to the other room. */
  reset() {
    this.closeMenu();
    this.cancelReply();
    this.view.setEditing(null);
  }
}
