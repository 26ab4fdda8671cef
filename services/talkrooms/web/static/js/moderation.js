/**
 * Moderation on the chat page (docs/moderation.md), over the client core's ModerationClient:
 * each room's roles (owner and moderator badges in the online list), and for the staff of the
 * room shown (moderator, owner, administrator) "Remove" in the message menu, Kick / Mute / Ban
 * per person, naming moderators (owner, administrator), and the Moderation panel (sanctions in
 * force with Lift, the audit log; an administrator hands the room over there). Everyone may
 * report another's message ("Report" in its menu). Roles follow the `roles` event live. The
 * person sanctioned is told what happened. The server checks every action; this only hides
 * what would be refused. Text goes in as textContent. The review queue (review-queue.js) and
 * the room settings (room-settings.js) hook into `onRoleChange` and `panelParts`.
 */

import { ModerationClient, canNameModerators, isPrivateRoom, isStaff, roleIn } from '../vendor/talkrooms-client/talkrooms-client.js';
import { apiErrorText } from './account.js';
import { formatDateTime, t } from './i18n.js';
import { el, sanctionText, shortReason, untilText } from './render.js';

const RANK = { admin: 3, owner: 2, moderator: 1 };
/** Mute and ban lengths offered, in minutes (null: until lifted). */
const MUTE_MINUTES = [10, 60, 1440];
const BAN_MINUTES = [60, 1440, 10080, null];
const AUDIT_PAGE = 20;

function durationLabel(minutes) {
  if (minutes === null) return t('duration_forever');
  if (minutes % 10080 === 0) return t('duration_weeks', { count: minutes / 10080 });
  if (minutes % 1440 === 0) return t('duration_days', { count: minutes / 1440 });
  if (minutes % 60 === 0) return t('duration_hours', { count: minutes / 60 });
  return t('duration_minutes', { count: minutes });
}

function button(className, text, data = {}) {
  const node = el('button', className, text);
  node.type = 'button';
  Object.assign(node.dataset, data);
  return node;
}

export class ModerationUI {
  /**
   * `session`: the page's ChatSession; `view`: its ChatView; `actions`: its MessageActions;
   * `accounts`: the AccountClient when signed in (null: a guest, who only sees the badges).
   */
  constructor(doc, { session, view, actions, accounts }) {
    const $ = (id) => doc.getElementById(id);
    this.session = session;
    this.view = view;
    this.client = new ModerationClient({ baseUrl: '', tokens: accounts });
    this.signedIn = Boolean(accounts);
    /** room -> RoomRoles */
    this.roles = new Map();
    /** The person whose tools are unfolded in the online list (kept across re-renders). */
    this.openTools = null;
    this.dialog = $('moderation-dialog');
    this.dialogTitle = $('moderation-dialog-title');
    this.durationField = $('moderation-duration-field');
    this.duration = $('moderation-duration');
    this.reason = $('moderation-reason');
    this.dialogError = $('moderation-dialog-error');
    this.confirm = $('moderation-confirm');
    this.reasonLabel = $('moderation-reason-label');
    this.reasonLabelText = this.reasonLabel.textContent;
    this.handOverSection = $('moderation-handover');
    this.handOverInput = $('moderation-handover-name');
    this.panelButton = $('moderation-button');
    this.panel = $('moderation-panel');
    this.sanctionList = $('moderation-sanctions');
    this.sanctionsEmpty = $('moderation-sanctions-empty');
    this.auditList = $('moderation-audit');
    this.auditMore = $('moderation-audit-more');
    this.panelError = $('moderation-panel-error');
    /** What the open dialog does: async ({minutes, reason}) => void. */
    this.pending = null;
    this.auditBefore = null;
    /** Called after our role in the room shown may have changed (render). */
    this.onRoleChange = new Set();
    /** More sections of the panel: each `{reload(): Promise}` is reloaded with it. */
    this.panelParts = [];

    view.roleOf = (name) => roleIn(this.roles.get(session.room), name);
    view.userTools = (user, isMe) => this._userTools(user, isMe);
    actions.canRemove = () => isStaff(this.role);
    actions.onRemove = (id) => this._askRemove(id);
    // Anyone in a room, guests too, may report; a private conversation has no moderators.
    actions.canReport = () => !isPrivateRoom(session.room);
    actions.onReport = (id) => this._askReport(id);
    $('moderation-handover-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this._askHandOver();
    });

    $('moderation-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this._run();
    });
    $('moderation-cancel').addEventListener('click', () => this.dialog.close());
    this.panelButton.addEventListener('click', () => void this.openPanel());
    $('moderation-panel-close').addEventListener('click', () => this.panel.close());
    for (const dialog of [this.dialog, this.panel]) {
      dialog.addEventListener('click', (event) => {
        if (event.target === dialog) dialog.close();
      });
    }
    this.sanctionList.addEventListener('click', (event) => {
      const lift = event.target.closest('[data-lift]');
      if (lift) void this._lift(lift);
    });
    this.auditMore.addEventListener('click', () => void this._loadAudit(false));
    view.users.addEventListener('click', (event) => {
      const target = event.target.closest('[data-mod-action]');
      if (target) this._onUserAction(target.dataset.modAction, target.dataset.username);
    });

    const core = session.core;
    core.on('roomJoined', ({ room }) => void this.refresh(room));
    core.on('activeRoom', () => this.render());
    core.on('moderation', (notice) => this._onNotice(notice));
    core.on('sanctioned', (notice) => this._onSanctioned(notice));
    core.on('roles', (roles) => this._onRoles(roles));
  }

  /** Our role in the room shown. */
  get role() {
    return this.roles.get(this.session.room)?.you ?? null;
  }

  /** Ask the server for `room`'s roles again (at join, after a change). */
  async refresh(room = this.session.room) {
    if (isPrivateRoom(room)) return;
    try {
      this.roles.set(room, await this.client.roles(room));
    } catch {
      return; // the badges wait for the next join
    }
    if (room === this.session.room) this.render();
  }

  /** Show what the role of the room shown allows. */
  render() {
    const staff = isStaff(this.role);
    this.panelButton.hidden = !staff;
    if (!staff && this.panel.open) this.panel.close();
    this.handOverSection.hidden = this.role !== 'admin';
    this.view.refreshUsers();
    for (const listener of this.onRoleChange) listener(this.role);
  }

  /**
   * The room's owner or moderators changed (the `roles` event): badges and our own tools
   * follow without a reload. An administrator is never listed, so a known `admin` stays.
   */
  _onRoles(roles) {
    const known = this.roles.get(roles.room);
    this.roles.set(roles.room, known?.you === 'admin' ? { ...roles, you: 'admin' } : roles);
    if (roles.room === this.session.room) this.render();
  }

  // ---- The online list -------------------------------------------------------------------

  /** Kick / Mute / Ban (and naming moderators) for someone we outrank; null otherwise. */
  _userTools(user, isMe) {
    const mine = this.role;
    if (isMe || !isStaff(mine)) return null;
    const roles = this.roles.get(this.session.room);
    const theirs = roleIn(roles, user.username);
    if ((RANK[theirs] ?? 0) >= RANK[mine]) return null;
    const details = el('details', 'user-tools');
    details.open = this.openTools === user.username;
    details.addEventListener('toggle', () => {
      if (details.open) this.openTools = user.username;
      else if (this.openTools === user.username) this.openTools = null;
    });
    const summary = el('summary', 'user-tools-toggle', t('moderate'));
    summary.title = t('moderate_named', { name: user.username });
    details.append(summary);
    const row = el('div', 'user-tools-row');
    const data = (action) => ({ modAction: action, username: user.username });
    row.append(
      button('button-small', t('kick'), data('kick')),
      button('button-small', t('mute'), data('mute')),
      button('button-small danger', t('ban'), data('ban')),
    );
    if (canNameModerators(mine) && roles?.owner && user.account) {
      if (theirs === 'moderator') row.append(button('button-small button-quiet', t('moderator_remove'), data('unname')));
      else row.append(button('button-small button-quiet', t('moderator_add'), data('name')));
    }
    details.append(row);
    return details;
  }

  _onUserAction(action, username) {
    const room = this.session.room;
    if (action === 'name' || action === 'unname') {
      void this._act(async () => {
        if (action === 'name') await this.client.addModerator(room, username);
        else await this.client.removeModerator(room, username);
        await this.refresh(room);
      });
      return;
    }
    const minutes = action === 'mute' ? MUTE_MINUTES : action === 'ban' ? BAN_MINUTES : null;
    this._ask({
      title: t(`${action}_title`, { name: username }),
      confirm: t(action),
      minutes,
      run: async ({ minutes: chosen, reason }) => {
        const request = { action, username, reason };
        if (chosen !== null && chosen !== undefined) request.minutes = chosen;
        await this.client.sanction(room, request);
      },
    });
  }

  /** An action without a dialog: its refusal shows in the error bar. */
  async _act(task) {
    try {
      await task();
    } catch (error) {
      this.view.showError(apiErrorText(error));
    }
  }

  // ---- The dialog (reason, duration) ------------------------------------------------------

  _askRemove(id) {
    const room = this.session.room;
    this._ask({
      title: t('remove_message_title'),
      confirm: t('remove_message'),
      minutes: null,
      run: async ({ reason }) => {
        await this.client.removeMessage(room, id, reason);
      },
    });
  }

  /** Report another's message to the room's moderators; a notice confirms it. */
  _askReport(id) {
    const room = this.session.room;
    this._ask({
      title: t('report_title'),
      confirm: t('report'),
      minutes: null,
      label: t('report_reason_label'),
      run: async ({ reason }) => {
        const result = await this.session.core.report(id, { room, reason });
        if (!result.ok) throw new Error(result.error);
        this.view.showNotice(t('report_sent'));
      },
    });
  }

  /** Administrators: give the room to an account (the old owner keeps nothing). */
  _askHandOver() {
    const room = this.session.room;
    const username = this.handOverInput.value.trim();
    if (!username) return;
    this._ask({
      title: t('handover_title', { name: username, room: this.view.roomLabel(room) }),
      confirm: t('handover'),
      minutes: null,
      run: async ({ reason }) => {
        await this.client.handOver(room, username, reason);
        this.handOverInput.value = '';
        await this.refresh(room);
      },
    });
  }

  /**
   * Open the dialog: `minutes` the durations offered (null: none), `run` what confirming
   * does, `label` the reason field's words (default: a reason shown to everyone).
   */
  _ask({ title, confirm, minutes, run, label = null }) {
    this.reasonLabel.textContent = label ?? this.reasonLabelText;
    this.dialogTitle.textContent = title;
    this.confirm.textContent = confirm;
    this.reason.value = '';
    this.dialogError.hidden = true;
    this.dialogError.textContent = '';
    this.durationField.hidden = !minutes;
    this.duration.replaceChildren(
      ...(minutes ?? []).map((value) => {
        const option = el('option', '', durationLabel(value));
        option.value = value === null ? '' : String(value);
        return option;
      }),
    );
    this.pending = run;
    this.confirm.disabled = false;
    this.dialog.showModal();
    this.reason.focus();
  }

  async _run() {
    const run = this.pending;
    if (!run) return;
    const minutes = this.durationField.hidden || this.duration.value === '' ? null : Number(this.duration.value);
    this.confirm.disabled = true;
    try {
      await run({ minutes, reason: this.reason.value });
      this.pending = null;
      this.dialog.close();
      if (this.panel.open) void this.reloadPanel();
    } catch (error) {
      this.dialogError.textContent = apiErrorText(error);
      this.dialogError.hidden = false;
    } finally {
      this.confirm.disabled = false;
    }
  }

  // ---- The panel: sanctions in force, audit log ------------------------------------------

  async openPanel() {
    if (!this.panel.open) this.panel.showModal();
    await this.reloadPanel();
  }

  /** Read every section of the open panel again (the review queue asks it after a decision). */
  async reloadPanel() {
    this.panelError.hidden = true;
    await Promise.all([this._loadSanctions(), this._loadAudit(true), ...this.panelParts.map((part) => part.reload())]);
  }

  /** Show a refusal at the top of the panel (the review queue uses it too). */
  showPanelError(error) {
    this.panelError.textContent = apiErrorText(error);
    this.panelError.hidden = false;
  }

  async _loadSanctions() {
    const room = this.session.room;
    let list;
    try {
      list = await this.client.sanctions(room);
    } catch (error) {
      this.showPanelError(error);
      return;
    }
    if (room !== this.session.room) return;
    this.sanctionList.replaceChildren(...list.map((entry) => this._sanctionElement(entry)));
    this.sanctionsEmpty.hidden = list.length > 0;
  }

  _sanctionElement(entry) {
    const li = el('li', 'sanction');
    li.dataset.username = entry.username;
    li.dataset.action = entry.action;
    const key = entry.until ? `sanction_${entry.action}_until` : `sanction_${entry.action}_forever`;
    const text = t(key, { name: entry.username, time: entry.until ? untilText(entry.until) : '' });
    const line = el('span', 'sanction-text', entry.guest ? `${text} ${t('sanction_guest')}` : text);
    li.append(line);
    const reason = shortReason(entry.reason);
    if (reason) li.append(el('span', 'sanction-reason', reason));
    const lift = button('button-small', entry.action === 'ban' ? t('unban') : t('unmute'), { lift: String(entry.id) });
    lift.title = t('lift_named', { name: entry.username });
    li.append(lift);
    return li;
  }

  async _lift(target) {
    target.disabled = true;
    try {
      await this.client.lift(this.session.room, Number(target.dataset.lift));
      await this.reloadPanel();
    } catch (error) {
      target.disabled = false;
      this.showPanelError(error);
    }
  }

  /** The first page of the audit log (`fresh`), or the next older one. */
  async _loadAudit(fresh) {
    const room = this.session.room;
    const before = fresh ? undefined : this.auditBefore ?? undefined;
    let entries;
    try {
      entries = await this.client.audit(room, { limit: AUDIT_PAGE, before });
    } catch (error) {
      this.showPanelError(error);
      return;
    }
    if (room !== this.session.room) return;
    const items = entries.map((entry) => {
      const li = el('li', 'audit-entry');
      li.dataset.action = entry.action;
      const time = el('time', 'audit-time', formatDateTime(entry.at));
      time.dateTime = entry.at;
      const key = `audit_${entry.action}`;
      const words = t(key, { actor: entry.actor, target: entry.target });
      const text = words === key ? t('audit_other', { actor: entry.actor, action: entry.action, target: entry.target }) : words;
      li.append(time, el('span', 'audit-text', text));
      const reason = shortReason(entry.reason);
      if (reason) li.append(el('span', 'audit-reason', reason));
      return li;
    });
    if (fresh) this.auditList.replaceChildren(...items);
    else this.auditList.append(...items);
    if (entries.length) this.auditBefore = entries[entries.length - 1].id;
    this.auditMore.hidden = entries.length < AUDIT_PAGE;
  }

  // ---- Events ----------------------------------------------------------------------------

  /** A moderator acted in a room: the panel follows; our own mute is said where it is seen. */
  _onNotice(notice) {
    if (notice.room === this.session.room && this.panel.open) void this.reloadPanel();
    if (notice.action === 'mute' && this.view.isMe(notice.username)) {
      this.view.showError(sanctionText('sanctioned', notice, this.view.isMe, this.view.roomLabel));
    }
  }

  /** We were kicked or banned: say so, with the way back for a kick. */
  _onSanctioned(notice) {
    if (notice.action !== 'kick' && notice.action !== 'ban') return;
    const text = sanctionText('sanctioned', notice, this.view.isMe, this.view.roomLabel);
    this.view.showError(text, { link: notice.action === 'kick', linkText: t('join_again') });
    if (notice.action === 'kick') this.view.errorLink.href = `/?room=${encodeURIComponent(notice.room)}`;
    this.view.errorBox.dataset.sanction = notice.action;
    if (this.session.rooms.length === 0) {
      this.view.setComposerEnabled(false);
      this.view.setUsers([], 0);
    }
    this.roles.delete(notice.room);
    this.render();
  }
}
