import { useEffect, useState } from 'react';
import { ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { format, plural, strings } from '../i18n';
import type { AuditEntry, ModerationClient, QueueAction, QueueItem, RoomTools, SanctionEntry } from '../services/moderation/api';
import { moderationErrorText, untilText } from '../services/moderation/words';
import { spacing, type ThemeColors } from '../theme';
import { formatTime } from './formatTime';
import { Sheet } from './Sheet';

interface ModerationSheetProps {
  room: string;
  /** How the header names the room. */
  title: string;
  client: Pick<ModerationClient, 'sanctions' | 'audit' | 'lift'>;
  colors: ThemeColors;
  onClose: () => void;
  /** The review queue's requests; absent: no queue section. */
  tools?: Pick<RoomTools, 'queue' | 'decide'> | null;
  /** The live count of open items (the `review` event): the queue is read again when it moves. */
  reviewOpen?: number;
  /** "Room settings": the settings sheet instead. */
  onOpenSettings?: () => void;
}

/** Entries of the audit log per page. */
export const AUDIT_PAGE = 50;

type Loaded = { status: 'loading' } | { status: 'failed'; error: string } | { status: 'loaded'; sanctions: SanctionEntry[]; audit: AuditEntry[]; more: boolean };
type Queue = { status: 'loading' } | { status: 'failed'; error: string } | { status: 'loaded'; items: QueueItem[] };

/** The decisions that fit an item: Dismiss/Remove for a report, Approve/Reject for a held message. */
export function decisionsOf(item: QueueItem): QueueAction[] {
  return item.kind === 'held' ? ['approve', 'reject'] : ['dismiss', 'remove'];
}

/** One audit row in words: "alice banned bob". */
export function auditText(entry: AuditEntry): string {
  const actions = strings().moderation.actions as Record<string, string>;
  const words = actions[entry.action] ?? entry.action;
  return `${entry.actor} ${format(words, { target: entry.target })}`;
}

/**
 * Staff only: the review queue (reported and held messages, each with its decisions), the
 * room's mutes and bans in force, each with Lift, and the audit log (50 actions a page, "Load
 * more" for older ones). Read when opened, after an action here, and the queue again when the
 * live count moves (another moderator decided, or someone reported).
 */
export function ModerationSheet({ room, title, client, colors, onClose, tools, reviewOpen = 0, onOpenSettings }: ModerationSheetProps) {
  const t = strings().moderation;
  const tq = strings().review;
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [queue, setQueue] = useState<Queue>({ status: 'loading' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [deciding, setDeciding] = useState<number | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  /** Bumped after a lift or a decision: the lists are read again. */
  const [version, setVersion] = useState(0);

  useEffect(() => {
    if (!tools) return undefined;
    let cancelled = false;
    tools.queue(room).then(
      (items) => {
        if (!cancelled) setQueue({ status: 'loaded', items });
      },
      (failure: unknown) => {
        if (!cancelled) setQueue({ status: 'failed', error: moderationErrorText(failure) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [tools, room, version, reviewOpen]);

  useEffect(() => {
    let cancelled = false;
    Promise.all([client.sanctions(room), client.audit(room, { limit: AUDIT_PAGE })]).then(
      ([sanctions, audit]) => {
        if (!cancelled) setLoaded({ status: 'loaded', sanctions, audit, more: audit.length >= AUDIT_PAGE });
      },
      (failure: unknown) => {
        if (!cancelled) setLoaded({ status: 'failed', error: moderationErrorText(failure) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [client, room, version]);

  const lift = async (entry: SanctionEntry) => {
    setBusy(entry.id);
    setError(null);
    try {
      await client.lift(room, entry.id);
      setVersion((v) => v + 1);
    } catch (failure) {
      setError(moderationErrorText(failure));
    } finally {
      setBusy(null);
    }
  };

  const loadMore = async () => {
    if (loaded.status !== 'loaded' || loaded.audit.length === 0) return;
    setLoadingMore(true);
    setError(null);
    try {
      const before = loaded.audit[loaded.audit.length - 1].id;
      const older = await client.audit(room, { limit: AUDIT_PAGE, before });
      setLoaded((now) => {
        if (now.status !== 'loaded') return now;
        const known = new Set(now.audit.map((e) => e.id));
        return { ...now, audit: [...now.audit, ...older.filter((e) => !known.has(e.id))], more: older.length >= AUDIT_PAGE };
      });
    } catch (failure) {
      setError(moderationErrorText(failure));
    } finally {
      setLoadingMore(false);
    }
  };

  const decide = async (item: QueueItem, action: QueueAction) => {
    if (!tools) return;
    setDeciding(item.id);
    setError(null);
    try {
      await tools.decide(room, item.id, action);
    } catch (failure) {
      // Another moderator was quicker (404): the item is gone all the same.
      const status = (failure as { status?: unknown } | null)?.status;
      setError(status === 404 ? tq.gone : moderationErrorText(failure));
    } finally {
      setDeciding(null);
      setVersion((v) => v + 1);
    }
  };

  const decisionWords: Record<QueueAction, string> = { dismiss: tq.dismiss, remove: tq.remove, approve: tq.approve, reject: tq.reject };

  return (
    <Sheet testID="moderation-sheet" label={format(t.title, { room: title })} colors={colors} onClose={onClose}>
      <Text accessibilityRole="header" style={[styles.heading, { color: colors.text }]}>
        {format(t.title, { room: title })}
      </Text>
      {loaded.status === 'loading' ? (
        <View style={styles.row}>
          <ActivityIndicator size="small" color={colors.accent} />
          <Text style={{ color: colors.textMuted }}> {t.loading}</Text>
        </View>
      ) : null}
      {loaded.status === 'failed' ? (
        <Text testID="moderation-error" accessibilityRole="alert" style={{ color: colors.error }}>
          {loaded.error}
        </Text>
      ) : null}
      {error ? (
        <Text testID="moderation-error" accessibilityRole="alert" style={{ color: colors.error }}>
          {error}
        </Text>
      ) : null}
      {onOpenSettings ? (
        <Pressable testID="moderation-settings" accessibilityRole="button" accessibilityLabel={t.openSettings} onPress={onOpenSettings} hitSlop={6}>
          <Text style={[styles.lift, { color: colors.accent }]}>⚙ {t.openSettings}</Text>
        </Pressable>
      ) : null}
      <ScrollView style={styles.scroll}>
        {tools ? (
          <View testID="review-queue">
            <Text accessibilityRole="header" style={[styles.section, { color: colors.textMuted }]}>
              {tq.title}
              {queue.status === 'loaded' && queue.items.length > 0 ? ` (${queue.items.length})` : ''}
            </Text>
            {queue.status === 'failed' ? (
              <Text testID="review-error" accessibilityRole="alert" style={{ color: colors.error }}>
                {queue.error}
              </Text>
            ) : null}
            {queue.status === 'loaded' && queue.items.length === 0 ? (
              <Text testID="review-empty" style={{ color: colors.textMuted }}>
                {tq.none}
              </Text>
            ) : null}
            {queue.status === 'loaded'
              ? queue.items.map((item) => (
                  <View key={item.id} testID={`review-${item.id}`} style={[styles.item, { borderColor: colors.border }]}>
                    <Text style={{ color: colors.text }}>
                      <Text style={styles.bold}>{item.message.username}</Text>: {item.message.message}
                    </Text>
                    <Text style={[styles.small, { color: colors.textMuted }]}>
                      {item.kind === 'held'
                        ? format(tq.held, { rule: item.rule ? (strings().roomSettings.rules as Record<string, string>)[item.rule] ?? item.rule : '?' })
                        : plural(tq.reported, item.reports.length || 1)}
                      {' · '}
                      {formatTime(item.message.timestamp || item.at)}
                    </Text>
                    {item.reports.map((r, i) => (
                      <Text key={`${r.by}-${i}`} testID={`review-${item.id}-report-${i}`} style={[styles.small, { color: colors.textMuted }]}>
                        {format(tq.reportBy, { name: r.by, reason: r.reason || tq.noReason })}
                      </Text>
                    ))}
                    <View style={styles.row}>
                      {decisionsOf(item).map((action) => (
                        <Pressable
                          key={action}
                          testID={`review-${action}-${item.id}`}
                          accessibilityRole="button"
                          accessibilityLabel={format(tq.actionLabel, { action: decisionWords[action], name: item.message.username })}
                          accessibilityState={{ disabled: deciding !== null }}
                          disabled={deciding !== null}
                          onPress={() => void decide(item, action)}
                          hitSlop={6}
                        >
                          <Text style={[styles.lift, { color: action === 'remove' || action === 'reject' ? colors.error : colors.accent }]}>
                            {decisionWords[action]}
                          </Text>
                        </Pressable>
                      ))}
                    </View>
                  </View>
                ))
              : null}
          </View>
        ) : null}
        {loaded.status === 'loaded' ? (
          <>
            <Text accessibilityRole="header" style={[styles.section, { color: colors.textMuted }]}>
              {t.sanctions}
            </Text>
            {loaded.sanctions.length === 0 ? (
              <Text testID="moderation-no-sanctions" style={{ color: colors.textMuted }}>
                {t.noSanctions}
              </Text>
            ) : null}
            {loaded.sanctions.map((entry) => {
              const kind = entry.action === 'ban' ? t.sanctionBan : t.sanctionMute;
              const who = entry.guest ? `${entry.username} (${t.guest})` : entry.username;
              return (
                <View key={entry.id} testID={`sanction-${entry.id}`} style={styles.row}>
                  <View style={styles.flex}>
                    <Text style={{ color: colors.text }}>
                      {who}: {kind}, {untilText(entry.until)}
                    </Text>
                    {entry.reason ? <Text style={[styles.small, { color: colors.textMuted }]}>{format(t.because, { reason: entry.reason })}</Text> : null}
                  </View>
                  <Pressable
                    testID={`sanction-lift-${entry.id}`}
                    accessibilityRole="button"
                    accessibilityLabel={format(t.liftLabel, { action: kind, name: entry.username })}
                    accessibilityState={{ disabled: busy !== null }}
                    disabled={busy !== null}
                    onPress={() => void lift(entry)}
                    hitSlop={6}
                  >
                    <Text style={[styles.lift, { color: colors.accent }]}>{t.lift}</Text>
                  </Pressable>
                </View>
              );
            })}
            <Text accessibilityRole="header" style={[styles.section, { color: colors.textMuted }]}>
              {t.audit}
            </Text>
            {loaded.audit.length === 0 ? <Text style={{ color: colors.textMuted }}>{t.noAudit}</Text> : null}
            {loaded.audit.map((entry) => (
              <View key={entry.id} testID={`audit-${entry.id}`} accessible style={styles.audit}>
                <Text style={{ color: colors.text }}>{auditText(entry)}</Text>
                <Text style={[styles.small, { color: colors.textMuted }]}>
                  {formatTime(entry.at)}
                  {entry.reason ? ` · ${entry.reason}` : ''}
                </Text>
              </View>
            ))}
            {loaded.more ? (
              <Pressable
                testID="audit-more"
                accessibilityRole="button"
                accessibilityLabel={t.loadMore}
                accessibilityState={{ disabled: loadingMore }}
                disabled={loadingMore}
                onPress={() => void loadMore()}
                style={styles.close}
              >
                <Text style={[styles.lift, { color: colors.accent }]}>{loadingMore ? t.loading : t.loadMore}</Text>
              </Pressable>
            ) : null}
          </>
        ) : null}
      </ScrollView>
      <Pressable testID="moderation-close" accessibilityRole="button" accessibilityLabel={t.close} onPress={onClose} style={styles.close}>
        <Text style={[styles.lift, { color: colors.textMuted }]}>{t.close}</Text>
      </Pressable>
    </Sheet>
  );
}

const styles = StyleSheet.create({
  heading: { fontSize: 17, fontWeight: '700' },
  section: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginTop: spacing.md, marginBottom: spacing.xs },
  scroll: { maxHeight: 420 },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, paddingVertical: spacing.xs },
  flex: { flex: 1 },
  small: { fontSize: 12 },
  lift: { fontSize: 15, fontWeight: '700' },
  audit: { paddingVertical: spacing.xs },
  item: { paddingVertical: spacing.xs, borderBottomWidth: StyleSheet.hairlineWidth, gap: 2 },
  bold: { fontWeight: '700' },
  close: { paddingVertical: spacing.md },
});
