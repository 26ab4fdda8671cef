/**
 * DOM builders for the chat page. User text only ever reaches the page through
 * textContent and attributes set by property: never innerHTML.
 */

import { avatarColor, avatarInitial } from './colors.js';
import { formatDate, formatDateTime, formatTime, t } from './i18n.js';
import { linkParts } from './linkify.js';
import { mentionParts } from '../vendor/talkrooms-client/talkrooms-client.js';

const IMG_BASE = new URL('../img/', import.meta.url);
const NOTICE_ICONS = { welcome: 'wave.svg', join: 'join.svg', leave: 'leave.svg', error: 'alert.svg', empty: 'chat.svg', moderation: 'alert.svg', sanctioned: 'alert.svg' };
/** A moderator's reason in a notice is cut here: notices stay one line or two. */
const REASON_SHOWN = 140;

/** createElement with an optional class list and text. */
export function el(tag, className = '', text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null) node.textContent = text;
  return node;
}

export function icon(name, className = 'icon') {
  const img = el('img', className);
  img.src = new URL(name, IMG_BASE).href;
  img.alt = '';
  img.width = 20;
  img.height = 20;
  return img;
}

/** Text with http(s) URLs as inert links (new tab, no opener, no referrer), into `parent`. */
function appendLinked(parent, text) {
  for (const part of linkParts(text)) {
    if (!part.href) {
      parent.append(document.createTextNode(part.text));
      continue;
    }
    const link = el('a', 'message-link', part.text);
    link.href = part.href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer nofollow';
    link.title = t('open_link_hint');
    parent.append(link);
  }
}

/**
 * Message text with links, and the `@name`s the server listed in `mentions` highlighted
 * (`mine` marks those that name us). Everything stays text nodes.
 */
export function messageText(text, mentions = [], isMe = () => false) {
  const paragraph = el('p', 'message-text');
  for (const part of mentionParts(text, mentions)) {
    if (part.mention === undefined) appendLinked(paragraph, part.text);
    else paragraph.append(el('span', `mention${isMe(part.mention) ? ' mention-me' : ''}`, part.text));
  }
  return paragraph;
}

/**
 * The coloured circle with the name's initial: an account's chosen colour, else the hash
 * of docs/protocol.md.
 */
export function avatar(username, color = null) {
  const circle = el('span', 'avatar', avatarInitial(username));
  circle.setAttribute('aria-hidden', 'true');
  paintAvatar(circle, username, color);
  return circle;
}

/** Set an avatar circle's initial and colour (an account's colour, else the hash). */
export function paintAvatar(circle, username, color = null) {
  circle.textContent = avatarInitial(username);
  // CSSOM, not a style attribute: allowed by the CSP (style-src 'self').
  circle.style.setProperty('--avatar-color', isColor(color) ? color : avatarColor(username));
}

function isColor(value) {
  return typeof value === 'string' && /^#[0-9A-Fa-f]{6}$/.test(value);
}

/** A person's name as a button that opens their profile card. */
export function nameButton(username, className, text = username) {
  const node = el('button', `${className} name-button`, text);
  node.type = 'button';
  node.dataset.profile = username;
  node.title = t('show_profile', { name: username });
  return node;
}

function statusLabel(item) {
  if (item.status === 'pending') return t('status_pending');
  if (item.status === 'failed') return t('status_failed');
  if (item.status === 'sent') return t('status_sent');
  if (item.status === 'held') return t('status_held');
  return '';
}

function button(className, text, action, data = {}) {
  const node = el('button', className, text);
  node.type = 'button';
  node.dataset.action = action;
  Object.assign(node.dataset, data);
  return node;
}

/** The quote of a reply: who and the start of the original, or that it was deleted. */
function quoteElement(item) {
  const quote = item.quote;
  const node = button('quote', null, 'goto-quote', { target: item.reply_to });
  node.title = t('reply_goto');
  if (!quote) {
    node.append(el('span', 'quote-text', t('reply_loading')));
    return node;
  }
  if (quote.username) node.append(el('span', 'quote-author', quote.username));
  if (quote.deleted) {
    node.classList.add('is-deleted');
    node.append(el('span', 'quote-text', t('reply_deleted')));
  } else {
    // A message that only shared files has no text to quote.
    node.append(el('span', 'quote-text', quote.excerpt || t('reply_files')));
  }
  return node;
}

/** The reaction chips: emoji and count, who reacted on hover, ours highlighted; a click toggles. */
function reactionsElement(item) {
  const row = el('div', 'reactions');
  for (const reaction of item.reactions) {
    const chip = button(`reaction${reaction.me ? ' mine' : ''}`, null, 'react', { emoji: reaction.emoji, id: item.id });
    chip.setAttribute('aria-pressed', String(reaction.me));
    chip.title = reaction.users.join(', ');
    chip.append(el('span', 'reaction-emoji', reaction.emoji), el('span', 'reaction-count', String(reaction.count)));
    row.append(chip);
  }
  return row;
}

/**
 * One chat message (stored or pending) as an <li>. `options.tools` adds the message menu
 * button (protocol 2, stored messages); `options.isMe(name)` tells our own name;
 * `options.files` (a FilesView) renders the files it shares.
 */
export function messageElement(item, own, options = {}) {
  const isMe = options.isMe ?? (() => false);
  const deleted = item.deleted === true;
  let className = `message${own ? ' own' : ''}${item.status ? ` is-${item.status}` : ''}`;
  if (deleted) className += ' is-deleted';
  if (item.mentionsMe) className += ' mentions-me';
  const li = el('li', className);
  li.dataset.key = item.key;
  if (item.id) li.dataset.id = item.id;
  if (item.client_id) li.dataset.clientId = item.client_id;
  li.append(avatar(item.username, options.colorOf?.(item.username)));

  const bubble = el('div', 'bubble');
  const meta = el('p', 'meta');
  meta.append(nameButton(item.username, 'author'));
  if (item.timestamp) {
    const time = el('time', 'timestamp', formatTime(item.timestamp));
    time.dateTime = item.timestamp;
    time.title = formatDateTime(item.timestamp);
    meta.append(time);
  }
  if (item.edited_at && !deleted) {
    const edited = el('span', 'edited', t('edited'));
    edited.title = formatDateTime(item.edited_at);
    meta.append(edited);
  }
  const status = statusLabel(item);
  if (status) {
    const badge = el('span', 'status', status);
    badge.dataset.status = item.status;
    meta.append(badge);
  }
  bubble.append(meta);
  if (item.reply_to) bubble.append(quoteElement(item));
  if (deleted) bubble.append(el('p', 'message-text message-deleted', t(item.removed ? 'message_removed' : 'message_deleted')));
  else if (item.message || !item.files?.length) bubble.append(messageText(item.message, item.mentions, isMe));
  if (!deleted && item.files?.length && options.files) bubble.append(options.files.element(item));
  if (item.reactions?.length) bubble.append(reactionsElement(item));

  if (item.status === 'failed') {
    const actions = el('p', 'message-actions');
    if (item.error) actions.append(el('span', 'message-error', item.error));
    if (item.retryable) {
      const retry = el('button', 'button-small', t('retry'));
      retry.type = 'button';
      retry.dataset.action = 'retry';
      retry.dataset.clientId = item.client_id;
      actions.append(retry);
    }
    const discard = el('button', 'button-small button-quiet', t('discard'));
    discard.type = 'button';
    discard.dataset.action = 'discard';
    discard.dataset.clientId = item.client_id;
    actions.append(discard);
    bubble.append(actions);
  }
  if (item.status === 'held') {
    // Held for review (docs/moderation.md): only its author sees it, with the rule's words.
    const note = el('p', 'message-actions message-held');
    if (item.error) note.append(el('span', 'message-note', item.error));
    const hide = el('button', 'button-small button-quiet', t('discard'));
    hide.type = 'button';
    hide.dataset.action = 'discard';
    hide.dataset.clientId = item.client_id;
    note.append(hide);
    bubble.append(note);
  }
  li.append(bubble);
  if (options.tools && item.kind === 'message' && !deleted) {
    const tools = button('message-menu-button', '⋯', 'menu', { id: item.id });
    tools.setAttribute('aria-haspopup', 'menu');
    tools.setAttribute('aria-label', t('message_actions'));
    tools.title = t('message_actions');
    li.append(tools);
  }
  return li;
}

const NOTICE_TEXT = { welcome: 'welcome', join: 'user_joined', leave: 'user_left', empty: 'history_empty' };

/** "12:10" today, else "7 Dec 2026 12:10": when a sanction ends. */
export function untilText(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return date.toDateString() === new Date().toDateString() ? formatTime(iso) : `${formatDate(iso)} ${formatTime(iso)}`;
}

/** A moderator's reason, short. */
export function shortReason(reason) {
  const chars = [...(typeof reason === 'string' ? reason.trim() : '')];
  return chars.length <= REASON_SHOWN ? chars.join('') : `${chars.slice(0, REASON_SHOWN - 1).join('')}…`;
}

/**
 * The words of a `moderation` notice (to the room) or a `sanctioned` one (to us):
 * `{action, username, by, reason, until, room}`; `isMe(name)` words our own mute as "you".
 */
export function sanctionText(variant, params, isMe = () => false, roomLabel = (room) => `#${room}`) {
  const action = params.action;
  // The server names its automatic moderation "automod" (docs/moderation.md).
  const by = params.by === 'automod' ? t('by_automod') : params.by || t('a_moderator');
  const values = { name: params.username, by, room: roomLabel(params.room ?? ''), time: params.until ? untilText(params.until) : '' };
  let key;
  if (variant === 'sanctioned' || isMe(params.username)) {
    key = `you_${action}${params.until && (action === 'ban' || action === 'mute') ? '_until' : ''}`;
  } else {
    key = `mod_${action}${params.until && (action === 'ban' || action === 'mute') ? '_until' : ''}`;
  }
  const text = t(key, values);
  const reason = shortReason(params.reason);
  return reason ? t('with_reason', { text, reason }) : text;
}

/** A local notice (welcome, join, leave, empty room, error, moderation) as an <li>. */
export function noticeElement(item, options = {}) {
  const li = el('li', `notice notice-${item.variant}`);
  li.dataset.key = item.key;
  const moderation = item.variant === 'moderation' || item.variant === 'sanctioned';
  const text = moderation
    ? sanctionText(item.variant, item.params ?? {}, options.isMe, options.roomLabel)
    : item.params?.text ?? t(NOTICE_TEXT[item.variant] ?? item.variant, item.params ?? {});
  if (moderation) li.dataset.action = item.params?.action ?? '';
  li.append(icon(NOTICE_ICONS[item.variant] ?? 'chat.svg', 'notice-icon'), el('span', 'notice-text', text));
  return li;
}

/**
 * One person in the online list: an account shows its display name with the username
 * next to it, in its chosen colour; a click opens the profile card.
 */
export function userElement(user, isMe, extras = {}) {
  const li = el('li', `user${isMe ? ' me' : ''}${user.account ? ' is-account' : ''}`);
  li.dataset.username = user.username;
  const shown = user.account && user.display_name ? user.display_name : user.username;
  const button = el('button', 'user-button name-button');
  button.type = 'button';
  button.dataset.profile = user.username;
  button.title = t('show_profile', { name: user.username });
  button.append(avatar(shown, user.account ? user.color : null), el('span', 'user-name', shown));
  if (user.account && shown !== user.username) button.append(el('span', 'user-handle', `@${user.username}`));
  if (isMe) button.append(el('span', 'user-you', `(${t('you')})`));
  li.append(button);
  if (extras.role === 'owner' || extras.role === 'moderator') {
    const badge = el('span', `role-badge role-${extras.role}`, t(`role_${extras.role}`));
    li.dataset.role = extras.role;
    button.append(badge);
  }
  if (extras.tools) li.append(extras.tools);
  return li;
}
