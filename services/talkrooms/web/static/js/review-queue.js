/**
 * The review queue in the Moderation panel (docs/moderation.md): reported messages with
 * their reports (Dismiss / Remove) and messages a rule held (Approve / Reject). The server
 * sends the room's staff `review {room, open}` on joining and whenever the queue changes:
 * the count shows on the Moderation button and an open panel reloads. Another moderator may
 * decide first: the server answers not_found, and the list is simply read again.
 */

import { formatDateTime, t } from './i18n.js';
import { el, shortReason } from './render.js';

/** The actions offered per kind of item, the destructive one last. */
const ACTIONS = { report: ['dismiss', 'remove'], held: ['approve', 'reject'] };

export class ReviewQueue {
  /** `moderation`: the page's ModerationUI (its client, role, panel and error line). */
  constructor(doc, { session, moderation }) {
    const $ = (id) => doc.getElementById(id);
    this.session = session;
    this.moderation = moderation;
    this.badge = $('moderation-badge');
    this.list = $('moderation-queue');
    this.empty = $('moderation-queue-empty');
    /** room -> open items, as the last `review` said. */
    this.counts = new Map();

    moderation.panelParts.push(this);
    moderation.onRoleChange.add(() => this.renderBadge());
    this.list.addEventListener('click', (event) => {
      const target = event.target.closest('[data-decide]');
      if (target) void this._decide(target);
    });
    session.core.on('review', ({ room, open }) => {
      this.counts.set(room, open);
      if (room !== session.room) return;
      this.renderBadge();
      if (moderation.panel.open) void this.reload();
    });
    session.core.on('activeRoom', () => this.renderBadge());
  }

  /** The count on the Moderation button (staff of the room shown only). */
  renderBadge() {
    const open = this.counts.get(this.session.room) ?? 0;
    const shown = open > 0 && !this.moderation.panelButton.hidden;
    this.badge.hidden = !shown;
    this.badge.textContent = shown ? String(open) : '';
    this.moderation.panelButton.title = shown ? t('review_waiting', { count: open }) : '';
  }

  /** Read the open items again (the panel opened, the queue changed, a decision was made). */
  async reload() {
    const room = this.session.room;
    let items;
    try {
      items = await this.moderation.client.queue(room);
    } catch (error) {
      this.moderation.showPanelError(error);
      return;
    }
    if (room !== this.session.room) return;
    this.list.replaceChildren(...items.map((item) => this._itemElement(item)));
    this.empty.hidden = items.length > 0;
    // The list is the truth now (a review event may have been missed while away).
    this.counts.set(room, items.length);
    this.renderBadge();
  }

  _itemElement(item) {
    const li = el('li', `queue-item queue-${item.kind}`);
    li.dataset.itemId = String(item.id);
    li.dataset.kind = item.kind;
    if (item.message.id) li.dataset.messageId = item.message.id;
    const head = el('p', 'queue-head');
    const time = el('time', 'audit-time', formatDateTime(item.at));
    time.dateTime = item.at;
    const why = item.kind === 'held' ? t('queue_held', { rule: t(`automod_rule_${item.rule}`) }) : t('queue_reported', { count: item.reports.length });
    head.append(time, el('span', 'queue-why', why));
    const quote = el('blockquote', 'queue-message');
    quote.append(el('span', 'queue-author', item.message.username), el('span', 'queue-text', item.message.message));
    li.append(head, quote);
    if (item.reports.length) {
      const reports = el('ul', 'queue-reports');
      for (const report of item.reports) {
        const reason = shortReason(report.reason);
        reports.append(el('li', 'queue-report', reason ? t('with_reason', { text: report.by, reason }) : report.by));
      }
      li.append(reports);
    }
    const row = el('div', 'queue-actions');
    for (const action of ACTIONS[item.kind]) {
      const button = el('button', `button-small${action === 'remove' || action === 'reject' ? ' danger' : ''}`, t(`queue_${action}`));
      button.type = 'button';
      button.dataset.decide = action;
      row.append(button);
    }
    li.append(row);
    return li;
  }

  async _decide(button) {
    const li = button.closest('[data-item-id]');
    const room = this.session.room;
    for (const other of li.querySelectorAll('button')) other.disabled = true;
    try {
      await this.moderation.client.decide(room, Number(li.dataset.itemId), button.dataset.decide);
    } catch (error) {
      // Decided by someone else meanwhile: nothing to say, the list is read again.
      if (error?.code !== 'not_found') this.moderation.showPanelError(error);
    }
    await this.moderation.reloadPanel();
  }
}
