import { useEffect, useState } from 'react';
import { ActivityIndicator, Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import type { AuditEntry, ModerationClient, SanctionEntry } from '../services/moderation/api';
import { moderationErrorText, untilText } from '../services/moderation/words';
import { spacing, type ThemeColors } from '../theme';
import { formatTime } from './formatTime';
import { Sheet } from './Sheet';

interface ModerationSheetProps {
  room: string;
  /** How the header names the room. */
  title: string;
  client: ModerationClient;
  colors: ThemeColors;
  onClose: () => void;
}

type Loaded = { status: 'loading' } | { status: 'failed'; error: string } | { status: 'loaded'; sanctions: SanctionEntry[]; audit: AuditEntry[] };

/** One audit row in words: "alice banned bob". */
export function auditText(entry: AuditEntry): string {
  const actions = strings().moderation.actions as Record<string, string>;
  const words = actions[entry.action] ?? entry.action;
  return `${entry.actor} ${format(words, { target: entry.target })}`;
}

/**
 * Staff only: the room's mutes and bans in force, each with Lift, and the audit log (the
 * newest 50 actions). Read when opened and again after a lift.
 */
export function ModerationSheet({ room, title, client, colors, onClose }: ModerationSheetProps) {
  const t = strings().moderation;
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  /** Bumped after a lift: both lists are read again. */
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    Promise.all([client.sanctions(room), client.audit(room, { limit: 50 })]).then(
      ([sanctions, audit]) => {
        if (!cancelled) setLoaded({ status: 'loaded', sanctions, audit });
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
      {loaded.status === 'loaded' ? (
        <ScrollView style={styles.scroll}>
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
        </ScrollView>
      ) : null}
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
  close: { paddingVertical: spacing.md },
});
