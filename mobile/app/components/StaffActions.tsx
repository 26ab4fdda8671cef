import { useState } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { format, plural, strings } from '../i18n';
import { moderationErrorText } from '../services/moderation/words';
import { canNameModerators, type ModerationClient, type Role, type SanctionAction } from '../services/moderation/api';
import { radius, spacing, type ThemeColors } from '../theme';

/** A duration choice: minutes, or null for "until lifted" (bans only). */
interface Duration {
  minutes: number | null;
  label: string;
}

function durations(action: SanctionAction): Duration[] {
  const t = strings().moderation;
  const minutes = (n: number) => ({ minutes: n, label: plural(t.minutes, n) });
  const hours = (n: number) => ({ minutes: n * 60, label: plural(t.hours, n) });
  const days = (n: number) => ({ minutes: n * 1440, label: plural(t.days, n) });
  if (action === 'mute') return [minutes(10), hours(1), days(1)];
  if (action === 'ban') return [hours(1), days(1), days(7), { minutes: null, label: t.permanent }];
  return [];
}

/** Whether `me` may sanction someone of rank `target` (nobody touches an equal or a better). */
export function maySanction(me: Role, target: Role): boolean {
  if (target === 'owner' || target === 'admin') return me === 'admin';
  if (target === 'moderator') return me === 'owner' || me === 'admin';
  return me === 'moderator' || me === 'owner' || me === 'admin';
}

interface StaffActionsProps {
  room: string;
  username: string;
  /** Our role in the room (staff only mount this). */
  role: Role;
  /** Their role in the room (owner, moderator or none). */
  targetRole: Role;
  /** An account (guests cannot be named moderators). */
  isAccount: boolean;
  client: ModerationClient;
  colors: ThemeColors;
  /** Something was done: the words to show, and whether the roles changed. */
  onDone: (notice: string, rolesChanged: boolean) => void;
}

/**
 * A moderator's actions on a person of the room, in the profile sheet: kick, mute (how long)
 * and ban (how long, or until lifted) with an optional reason; the owner and administrators
 * also name or un-name moderators. The server's refusal is shown in its words.
 */
export function StaffActions({ room, username, role, targetRole, isAccount, client, colors, onDone }: StaffActionsProps) {
  const t = strings().moderation;
  const [action, setAction] = useState<SanctionAction | null>(null);
  const [duration, setDuration] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [handingOver, setHandingOver] = useState(false);

  const choose = (next: SanctionAction) => {
    setAction(next);
    setError(null);
    const first = durations(next)[0];
    setDuration(first ? first.minutes : null);
  };

  const run = async (work: () => Promise<void>, notice: string, rolesChanged: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setAction(null);
      setReason('');
      setHandingOver(false);
      onDone(notice, rolesChanged);
    } catch (failure) {
      setError(moderationErrorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const confirm = () => {
    if (!action) return;
    const request = {
      action,
      username,
      ...(action !== 'kick' && duration !== null ? { minutes: duration } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    };
    void run(async () => void (await client.sanction(room, request)), format(t.done, { name: username }), false);
  };

  const isModerator = targetRole === 'moderator';
  const toggleModerator = () =>
    void run(
      () => (isModerator ? client.removeModerator(room, username) : client.addModerator(room, username)),
      format(isModerator ? t.moderatorRemoved : t.moderatorAdded, { name: username }),
      true,
    );

  const sanctionable = maySanction(role, targetRole);
  const confirmLabel = action ? format({ kick: t.confirmKick, mute: t.confirmMute, ban: t.confirmBan }[action], { name: username }) : '';

  return (
    <View testID="staff-actions" accessibilityLabel={t.staffActions} style={[styles.box, { borderColor: colors.border }]}>
      <Text style={[styles.title, { color: colors.textMuted }]}>{t.staffActions}</Text>
      {sanctionable ? (
        <View style={styles.row} accessibilityRole="radiogroup">
          {(['kick', 'mute', 'ban'] as const).map((name) => (
            <Chip
              key={name}
              testID={`staff-${name}`}
              label={t[name]}
              selected={action === name}
              colors={colors}
              onPress={() => choose(name)}
            />
          ))}
        </View>
      ) : null}
      {action && action !== 'kick' ? (
        <View style={styles.row} accessibilityRole="radiogroup" accessibilityLabel={t.duration}>
          {durations(action).map((d) => (
            <Chip
              key={d.label}
              testID={`staff-duration-${d.minutes ?? 'permanent'}`}
              label={d.label}
              selected={duration === d.minutes}
              colors={colors}
              onPress={() => setDuration(d.minutes)}
            />
          ))}
        </View>
      ) : null}
      {action ? (
        <>
          <TextInput
            testID="staff-reason"
            value={reason}
            onChangeText={setReason}
            placeholder={t.reason}
            placeholderTextColor={colors.textMuted}
            accessibilityLabel={t.reasonLabel}
            maxLength={500}
            style={[styles.input, { color: colors.text, borderColor: colors.border, backgroundColor: colors.background }]}
          />
          <Pressable
            testID="staff-confirm"
            accessibilityRole="button"
            accessibilityLabel={confirmLabel}
            accessibilityState={{ disabled: busy }}
            disabled={busy}
            onPress={confirm}
            style={styles.action}
          >
            <Text style={[styles.actionText, { color: colors.error }]}>{confirmLabel}</Text>
          </Pressable>
        </>
      ) : null}
      {canNameModerators(role) && isAccount && targetRole !== 'owner' ? (
        <Pressable
          testID="staff-moderator"
          accessibilityRole="button"
          accessibilityLabel={isModerator ? t.removeModerator : t.addModerator}
          accessibilityState={{ disabled: busy }}
          disabled={busy}
          onPress={toggleModerator}
          style={styles.action}
        >
          <Text style={[styles.actionText, { color: colors.accent }]}>{isModerator ? t.removeModerator : t.addModerator}</Text>
        </Pressable>
      ) : null}
      {role === 'admin' && isAccount && targetRole !== 'owner' ? (
        handingOver ? (
          <View style={styles.confirm}>
            <Text style={{ color: colors.text }}>{format(t.handOverConfirm, { room, name: username })}</Text>
            <View style={styles.row}>
              <Pressable
                testID="staff-hand-over-confirm"
                accessibilityRole="button"
                accessibilityLabel={t.handOverYes}
                accessibilityState={{ disabled: busy }}
                disabled={busy}
                onPress={() =>
                  void run(() => client.handOver(room, username), format(t.handOverDone, { name: username }), true)
                }
                style={styles.action}
              >
                <Text style={[styles.actionText, { color: colors.error }]}>{t.handOverYes}</Text>
              </Pressable>
              <Pressable
                testID="staff-hand-over-cancel"
                accessibilityRole="button"
                accessibilityLabel={strings().message.cancel}
                onPress={() => setHandingOver(false)}
                style={styles.action}
              >
                <Text style={[styles.actionText, { color: colors.textMuted }]}>{strings().message.cancel}</Text>
              </Pressable>
            </View>
          </View>
        ) : (
          <Pressable
            testID="staff-hand-over"
            accessibilityRole="button"
            accessibilityLabel={t.handOver}
            accessibilityState={{ disabled: busy }}
            disabled={busy}
            onPress={() => setHandingOver(true)}
            style={styles.action}
          >
            <Text style={[styles.actionText, { color: colors.accent }]}>{t.handOver}</Text>
          </Pressable>
        )
      ) : null}
      {error ? (
        <Text testID="staff-error" accessibilityRole="alert" style={[styles.error, { color: colors.error }]}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

function Chip({ testID, label, selected, colors, onPress }: { testID: string; label: string; selected: boolean; colors: ThemeColors; onPress: () => void }) {
  return (
    <Pressable
      testID={testID}
      accessibilityRole="radio"
      accessibilityLabel={label}
      accessibilityState={{ selected }}
      onPress={onPress}
      style={[styles.chip, { borderColor: colors.accent }, selected && { backgroundColor: colors.accent }]}
    >
      <Text style={[styles.chipText, { color: selected ? colors.accentText : colors.text }]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  box: { borderTopWidth: StyleSheet.hairlineWidth, paddingTop: spacing.sm, marginTop: spacing.sm, gap: spacing.sm },
  title: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase' },
  row: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  chip: { borderWidth: 1, borderRadius: radius.round, paddingHorizontal: spacing.md, paddingVertical: spacing.xs },
  chipText: { fontSize: 14, fontWeight: '600' },
  input: { borderWidth: 1, borderRadius: radius.md, paddingHorizontal: spacing.md, paddingVertical: spacing.sm, fontSize: 15 },
  action: { paddingVertical: spacing.sm },
  actionText: { fontSize: 16, fontWeight: '600' },
  error: { fontSize: 13 },
  confirm: { gap: spacing.xs },
});
