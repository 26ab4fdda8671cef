/**
 * Shared files in the message list (issue 19): image thumbnails that open a lightbox, and
 * cards (name, size, type, download) for other files. A public room's files are plain
 * same-origin URLs; a private conversation's (`dm:` rooms) need the member's Bearer token,
 * so they are fetched and shown as `blob:` URLs (the page's CSP allows `img-src blob:`).
 */

import { fetchFile, fileUrl, formatSize, isPrivateRoom } from '../vendor/talkrooms-client/talkrooms-client.js';
import { t } from './i18n.js';
import { el } from './render.js';

/** The thumbnail box (px): the server's `thumb` variant is at most 320 px on its long side. */
const THUMB_BOX = 320;

/** A size in the page's words ("1.5 KB", "1,5 Ko"). */
export function sizeText(bytes) {
  return formatSize(bytes, { units: [t('size_b'), t('size_kb'), t('size_mb'), t('size_gb')], decimal: t('size_decimal') });
}

/** The shown size of an image's thumbnail: fits THUMB_BOX, keeps the ratio (no layout jump). */
export function thumbSize(entry) {
  const width = Number(entry.width) || THUMB_BOX;
  const height = Number(entry.height) || Math.round(THUMB_BOX * 0.75);
  const scale = Math.min(1, THUMB_BOX / width, THUMB_BOX / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** A short type label for a card ("PDF", "TXT", "ZIP"), from the name or the MIME type. */
export function typeLabel(entry) {
  const dot = entry.name.lastIndexOf('.');
  if (dot > 0 && dot >= entry.name.length - 6) return entry.name.slice(dot + 1).toUpperCase();
  const sub = String(entry.type || '').split('/')[1] || '';
  return sub ? sub.split(/[.+-]/)[0].toUpperCase().slice(0, 6) : t('file_generic');
}

export class FilesView {
  /**
   * `token()`: the access token for private conversations (null for a guest);
   * `roomOf()`: the room shown (a pending message has no `room` of its own).
   */
  constructor(doc, { token = async () => null, roomOf = () => '' } = {}) {
    this.doc = doc;
    this.token = token;
    this.roomOf = roomOf;
    /** `${id}/${variant}` -> Promise of a blob: URL (private conversations). */
    this.blobs = new Map();
    /** `${id}/${variant}` -> its blob: URL once loaded, to set at once on a re-render. */
    this.loaded = new Map();
    /** File id -> its entry, for the lightbox and downloads of what the list shows. */
    this.entries = new Map();
    /** File id -> a local preview (blob: of the picked file) while its message is pending. */
    this.previews = new Map();
    const $ = (id) => doc.getElementById(id);
    this.lightbox = $('lightbox');
    this.lightboxImage = $('lightbox-image');
    this.lightboxName = $('lightbox-name');
    this.lightboxSize = $('lightbox-size');
    this.lightboxDownload = $('lightbox-download');
    this.lightboxError = $('lightbox-error');
    this.shown = null; // { entry, room }
    this._bindLightbox();
  }

  /** While a message is pending, its images show from the picked file. */
  setPreview(id, url) {
    this.previews.set(id, url);
  }

  /** The files of a message (stored or pending) as DOM: thumbnails, then cards. */
  element(item) {
    const room = item.room || this.roomOf();
    const pending = item.kind === 'pending';
    const box = el('div', 'message-files');
    for (const entry of item.files) {
      box.append(entry.kind === 'image' ? this._thumbnail(entry, room, pending) : this._card(entry, room, pending));
    }
    return box;
  }

  _thumbnail(entry, room, pending) {
    const button = el('button', 'file-thumb');
    button.type = 'button';
    button.dataset.action = 'open-image';
    button.dataset.fileId = entry.id;
    button.dataset.room = room;
    button.title = t('file_open_image', { name: entry.name });
    button.setAttribute('aria-label', t('file_open_image', { name: entry.name }));
    // The entry travels with the button: the lightbox needs its name, size and variants.
    this.entries.set(entry.id, entry);
    const img = el('img', 'file-thumb-image');
    const { width, height } = thumbSize(entry);
    img.width = width;
    img.height = height;
    img.alt = entry.name;
    img.decoding = 'async';
    img.loading = 'lazy';
    img.addEventListener('error', () => button.classList.add('is-broken'));
    if (pending) {
      const preview = this.previews.get(entry.id);
      if (preview) img.src = preview;
      else button.classList.add('is-loading');
    } else {
      this._setSource(img, entry, room, 'thumb', button);
    }
    button.append(img);
    return button;
  }

  _card(entry, room, pending) {
    const card = el('div', 'file-card');
    card.dataset.fileId = entry.id;
    const badge = el('span', 'file-card-type', typeLabel(entry));
    badge.setAttribute('aria-hidden', 'true');
    const text = el('span', 'file-card-text');
    text.append(el('span', 'file-card-name', entry.name), el('span', 'file-card-size', `${sizeText(entry.size)} · ${entry.type}`));
    card.append(badge, text);
    if (!pending) card.append(this.downloadLink(entry, room, 'file-card-download'));
    return card;
  }

  /** A download link: the plain URL in a public room; fetched with the token in a private one. */
  downloadLink(entry, room, className = '') {
    const link = el('a', className, t('file_download'));
    this.entries.set(entry.id, entry);
    link.setAttribute('aria-label', t('file_download_named', { name: entry.name }));
    if (isPrivateRoom(room)) {
      link.href = '#';
      link.dataset.action = 'download-file';
      link.dataset.fileId = entry.id;
      link.dataset.room = room;
    } else {
      link.href = fileUrl('', entry.id);
      link.download = entry.name;
    }
    return link;
  }

  /** An image's source: a URL, or a blob: URL fetched with the token in a private room. */
  _setSource(img, entry, room, variant, holder) {
    if (!isPrivateRoom(room)) {
      img.src = fileUrl('', entry.id, variant);
      return;
    }
    const key = `${entry.id}/${variant ?? ''}`;
    const ready = this.loaded.get(key);
    if (ready) {
      img.src = ready;
      return;
    }
    holder?.classList.add('is-loading');
    this._blob(entry.id, variant).then(
      (url) => {
        holder?.classList.remove('is-loading');
        img.src = url;
      },
      () => {
        holder?.classList.remove('is-loading');
        holder?.classList.add('is-broken');
      },
    );
  }

  _blob(id, variant) {
    const key = `${id}/${variant ?? ''}`;
    let promise = this.blobs.get(key);
    if (!promise) {
      promise = (async () => {
        const blob = await fetchFile({ baseUrl: '', id, variant, token: await this.token() });
        const url = URL.createObjectURL(blob);
        this.loaded.set(key, url);
        return url;
      })();
      // A failure is not kept: the next rendering tries again.
      promise.catch(() => this.blobs.delete(key));
      this.blobs.set(key, promise);
    }
    return promise;
  }

  /** Clicks in the message list: a thumbnail opens the lightbox; a private download fetches. */
  handleClick(event) {
    const target = event.target.closest('[data-action="open-image"], [data-action="download-file"]');
    if (!target) return false;
    event.preventDefault();
    const entry = this.entries.get(target.dataset.fileId);
    if (!entry) return true;
    if (target.dataset.action === 'open-image') this.open(entry, target.dataset.room || this.roomOf());
    else void this.download(entry, target.dataset.room || this.roomOf());
    return true;
  }

  /** Save a private conversation's file: fetched with the token, handed over as a blob: link. */
  async download(entry, room) {
    if (!isPrivateRoom(room)) {
      const link = this.downloadLink(entry, room);
      link.hidden = true;
      this.doc.body.append(link);
      link.click();
      link.remove();
      return;
    }
    try {
      const url = await this._blob(entry.id, undefined);
      const link = el('a');
      link.href = url;
      link.download = entry.name;
      link.hidden = true;
      this.doc.body.append(link);
      link.click();
      link.remove();
    } catch {
      this.onError?.(t('file_unavailable'));
    }
  }

  // ---- The lightbox ----------------------------------------------------------------------

  _bindLightbox() {
    const box = this.lightbox;
    if (!box) return;
    // A click anywhere but on the download link closes it (Escape: the dialog's own cancel).
    box.addEventListener('click', (event) => {
      if (event.target.closest('#lightbox-download')) return;
      this.close();
    });
    box.addEventListener('close', () => {
      this.lightboxImage.removeAttribute('src');
      this.shown = null;
    });
    this.lightboxDownload.addEventListener('click', (event) => {
      if (!this.shown || !isPrivateRoom(this.shown.room)) return;
      event.preventDefault();
      void this.download(this.shown.entry, this.shown.room);
    });
    this.lightboxImage.addEventListener('error', () => {
      if (this.shown) this.lightboxError.hidden = false;
    });
  }

  /** Show an image's display copy full size, with its name, size and a download link. */
  open(entry, room) {
    this.shown = { entry, room };
    this.lightboxName.textContent = entry.name;
    this.lightboxSize.textContent = sizeText(entry.size);
    this.lightboxError.hidden = true;
    this.lightboxImage.alt = entry.name;
    // `display` is the original itself when that is small enough (the server falls back).
    const variant = 'display';
    const size = entry.width && entry.height ? entry : null;
    if (size) {
      // At most 1600 px (the display copy), as wide as the screen lets it be (CSS).
      const scale = Math.min(1, 1600 / size.width, 1600 / size.height);
      this.lightboxImage.width = Math.round(size.width * scale);
      this.lightboxImage.height = Math.round(size.height * scale);
    }
    const download = this.downloadLink(entry, room);
    this.lightboxDownload.setAttribute('href', download.getAttribute('href'));
    if (download.download) this.lightboxDownload.download = download.download;
    else this.lightboxDownload.removeAttribute('download');
    this.lightboxImage.removeAttribute('src');
    this._setSource(this.lightboxImage, entry, room, variant, null);
    if (!this.lightbox.open) this.lightbox.showModal();
  }

  close() {
    if (this.lightbox?.open) this.lightbox.close();
  }
}
