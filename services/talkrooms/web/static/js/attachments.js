/**
 * The composer's attachments (issue 19): files picked with the attach button, dropped on
 * the chat or pasted (a screenshot) are uploaded at once for the room shown, each with a
 * progress bar and Cancel; ready ones show their thumbnail (from the local file), name and
 * size with a remove button, and go with the next message. Each room keeps its own list.
 * Refusals show the server's words. User text only through textContent.
 */

import { FILES_PER_MESSAGE, isAbortError, uploadFile } from '../vendor/talkrooms-client/talkrooms-client.js';
import { apiErrorText } from './account.js';
import { sizeText, typeLabel } from './files-view.js';
import { t } from './i18n.js';
import { el } from './render.js';

let counter = 0;

export class Attachments {
  /**
   * `room()`: the room shown; `token()`: the access token (signed in) or null;
   * `guest(room)`: `{username, clientKey}` the guest joined `room` with (null when signed in);
   * `files`: the FilesView (a sent message's images show from the local file while pending);
   * `onChange()`: the list changed (the Send button's state).
   */
  constructor(doc, { room, token, guest, files, onChange = () => {} }) {
    this.doc = doc;
    this.room = room;
    this.token = token;
    this.guest = guest;
    this.files = files;
    this.onChange = onChange;
    /** room -> items, in the order they were added. */
    this.byRoom = new Map();
    this.list = doc.getElementById('attachments');
    this.notice = doc.getElementById('attachments-error');
    this.list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-attachment]');
      if (button) this.remove(button.dataset.attachment);
    });
  }

  _items(room = this.room()) {
    let items = this.byRoom.get(room);
    if (!items) {
      items = [];
      this.byRoom.set(room, items);
    }
    return items;
  }

  /** Upload these files (a FileList or an array of File/Blob) for the room shown. */
  add(fileList) {
    const room = this.room();
    const items = this._items(room);
    let refused = 0;
    for (const file of Array.from(fileList ?? [])) {
      if (!file) continue;
      if (items.filter((item) => item.state !== 'error').length >= FILES_PER_MESSAGE) {
        refused += 1;
        continue;
      }
      counter += 1;
      const name = file.name || (file.type === 'image/png' ? 'pasted.png' : 'file');
      const item = {
        key: `a${counter}`,
        room,
        file,
        name,
        size: file.size,
        state: 'uploading',
        sent: 0,
        total: 0,
        entry: null,
        error: '',
        controller: new AbortController(),
        preview: /^image\//.test(file.type) ? URL.createObjectURL(file) : null,
      };
      items.push(item);
      void this._upload(item);
    }
    this.showNotice(refused ? t('file_too_many', { max: FILES_PER_MESSAGE }) : '');
    this.render();
  }

  async _upload(item) {
    try {
      const token = await this.token();
      const options = {
        baseUrl: '',
        room: item.room,
        file: item.file,
        name: item.name,
        signal: item.controller.signal,
        onProgress: (sent, total) => {
          // The request's bytes (the form around the file too), not the file's.
          item.sent = sent;
          item.total = total;
          this._progress(item);
        },
      };
      if (token) options.token = token;
      else options.guest = this.guest(item.room) ?? undefined;
      item.entry = await uploadFile(options);
      item.state = 'ready';
      if (item.preview) this.files.setPreview(item.entry.id, item.preview);
    } catch (error) {
      if (isAbortError(error)) return; // cancelled: already gone from the list
      item.state = 'error';
      item.error = apiErrorText(error);
    }
    if (this._items(item.room).includes(item)) this.render();
  }

  /** Cancel an upload, or take a file off the list. */
  remove(key) {
    for (const [room, items] of this.byRoom) {
      const index = items.findIndex((item) => item.key === key);
      if (index < 0) continue;
      const [item] = items.splice(index, 1);
      if (item.state === 'uploading') item.controller.abort();
      if (item.preview) URL.revokeObjectURL(item.preview);
      if (room === this.room()) {
        this.render();
        this.doc.getElementById('message-input')?.focus();
      }
      return;
    }
  }

  /** The uploaded entries of the room shown, to send. */
  ready(room = this.room()) {
    return this._items(room)
      .filter((item) => item.state === 'ready')
      .map((item) => item.entry);
  }

  /** An upload of the room shown is still going. */
  busy(room = this.room()) {
    return this._items(room).some((item) => item.state === 'uploading');
  }

  /** The message went with the ready files: they leave the list (their previews stay). */
  sent(room = this.room()) {
    const items = this._items(room);
    this.byRoom.set(
      room,
      items.filter((item) => item.state !== 'ready'),
    );
    this.showNotice('');
    this.render();
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  /** Show the list of the room shown (after a room switch too). */
  render() {
    const items = this._items();
    this.list.replaceChildren(...items.map((item) => this._element(item)));
    this.list.hidden = items.length === 0;
    this.onChange();
  }

  _element(item) {
    const li = el('li', `attachment is-${item.state}`);
    li.dataset.key = item.key;
    li.dataset.state = item.state;
    if (item.preview) {
      const img = el('img', 'attachment-preview');
      img.src = item.preview;
      img.alt = '';
      img.width = 48;
      img.height = 48;
      li.append(img);
    } else {
      const badge = el('span', 'attachment-preview attachment-icon', typeLabel({ name: item.name, type: item.file.type }));
      badge.setAttribute('aria-hidden', 'true');
      li.append(badge);
    }
    const text = el('div', 'attachment-text');
    text.append(el('span', 'attachment-name', item.name), el('span', 'attachment-size', sizeText(item.size)));
    if (item.state === 'uploading') {
      const bar = el('progress', 'attachment-progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', t('file_uploading', { name: item.name }));
      text.append(bar);
    } else if (item.state === 'error') {
      const error = el('span', 'attachment-error', item.error);
      error.setAttribute('role', 'alert');
      text.append(error);
    }
    li.append(text);
    const uploading = item.state === 'uploading';
    const button = el('button', `button-ghost ${uploading ? 'attachment-cancel' : 'attachment-remove'}`, uploading ? t('file_cancel') : '×');
    button.type = 'button';
    button.dataset.attachment = item.key;
    const label = uploading ? t('file_cancel_named', { name: item.name }) : t('file_remove_named', { name: item.name });
    button.setAttribute('aria-label', label);
    button.title = label;
    li.append(button);
    if (uploading) this._progress(item, li);
    return li;
  }

  _progress(item, li = this.list.querySelector(`li[data-key="${item.key}"]`)) {
    const bar = li?.querySelector('progress');
    if (!bar) return;
    const percent = item.total > 0 ? Math.min(100, Math.round((item.sent / item.total) * 100)) : 0;
    bar.value = percent;
    bar.textContent = `${percent} %`;
  }
}
