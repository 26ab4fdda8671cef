import { useState } from 'react';
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { Config } from '../config';
import { format, strings } from '../i18n';
import type { MessageItem } from '../services/socket/ChatService';
import { radius, spacing, type ThemeColors } from '../theme';
import { Sheet } from './Sheet';

interface MessageMenuProps {
  item: MessageItem;
  colors: ThemeColors;
  onReact: (emoji: string) => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
  onClose: () => void;
  /** Staff (moderator, owner, administrator): "Remove" any message, with an optional reason. */
  onRemove?: (reason: string) => void;
  /**
   * Anyone in the room, on someone else's message: "Report" (a reason, then a confirmation).
   * Resolves to the refusal's words, or null once the report is taken.
   */
  onReport?: (reason: string) => Promise<string | null>;
  /** Staff: pin or unpin the message (`pinned`: it is pinned now). */
  onPin?: () => void;
  pinned?: boolean;
}

/** The reasons offered for a report; the key (and the details) are what moderators read. */
export const REPORT_REASONS = ['spam', 'harassment', 'offensive', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

/** The reason sent with a report: its key, and the details after a colon. */
export function reportReason(reason: ReportReason, details: string): string {
  const extra = details.trim();
  return extra ? `${reason}: ${extra}` : reason;
}

type Stage =
  | { kind: 'menu' }
  | { kind: 'delete' }
  | { kind: 'remove' }
  | { kind: 'report' }
  | { kind: 'reportConfirm' }
  | { kind: 'reportSending' }
  | { kind: 'reportDone'; error: string | null };

/**
 * What a long press on a message offers: a row of common emoji, reply, and for our own
 * messages edit and delete (delete asks once more). Each choice closes the menu.
 */
export function MessageMenu({ item, colors, onReact, onReply, onEdit, onDelete, onClose, onRemove, onReport, onPin, pinned }: MessageMenuProps) {
  const t = strings().message;
  const tm = strings().moderation;
  const tr = strings().report;
  const tp = strings().pins;
  const [stage, setStage] = useState<Stage>({ kind: 'menu' });
  const [reason, setReason] = useState('');
  const [why, setWhy] = useState<ReportReason | null>(null);
  const [details, setDetails] = useState('');
  const { own } = item;
  const removing = stage.kind === 'remove';
  const confirming = stage.kind === 'delete';

  const sendReport = async () => {
    if (!onReport || !why) return;
    setStage({ kind: 'reportSending' });
    const error = await onReport(reportReason(why, details));
    setStage({ kind: 'reportDone', error });
  };

  if (onReport && !own && (stage.kind === 'report' || stage.kind === 'reportConfirm' || stage.kind === 'reportSending' || stage.kind === 'reportDone')) {
    return (
      <Sheet testID="message-menu" label={tr.title} colors={colors} onClose={onClose}>
        <Text accessibilityRole="header" style={[styles.question, styles.bold, { color: colors.text }]}>
          {tr.title}
        </Text>
        {stage.kind === 'report' ? (
          <>
            <Text style={{ color: colors.textMuted }}>{tr.why}</Text>
            <View style={styles.chips} accessibilityRole="radiogroup">
              {REPORT_REASONS.map((key) => (
                <Pressable
                  key={key}
                  testID={`report-reason-${key}`}
                  accessibilityRole="radio"
                  accessibilityLabel={tr.reasons[key]}
                  accessibilityState={{ selected: why === key }}
                  onPress={() => setWhy(key)}
                  style={[styles.chip, { borderColor: colors.accent }, why === key && { backgroundColor: colors.accent }]}
                >
                  <Text style={[styles.chipText, { color: why === key ? colors.accentText : colors.text }]}>{tr.reasons[key]}</Text>
                </Pressable>
              ))}
            </View>
            <TextInput
              testID="report-details"
              value={details}
              onChangeText={setDetails}
              placeholder={tr.details}
              placeholderTextColor={colors.textMuted}
              accessibilityLabel={tr.detailsLabel}
              maxLength={400}
              style={[styles.reason, { color: colors.text, borderColor: colors.border, backgroundColor: colors.background }]}
            />
            <Pressable
              testID="report-next"
              accessibilityRole="button"
              accessibilityLabel={tr.send}
              accessibilityState={{ disabled: why === null }}
              disabled={why === null}
              onPress={() => setStage({ kind: 'reportConfirm' })}
              style={[styles.item, { opacity: why === null ? 0.5 : 1 }]}
            >
              <Text style={[styles.itemText, { color: colors.error }]}>{tr.send}</Text>
            </Pressable>
          </>
        ) : null}
        {stage.kind === 'reportConfirm' || stage.kind === 'reportSending' ? (
          <>
            <Text style={[styles.question, { color: colors.text }]}>{format(tr.confirm, { name: item.message.username })}</Text>
            <MenuItem testID="report-confirm" label={tr.report} color={colors.error} onPress={() => void sendReport()} disabled={stage.kind === 'reportSending'} />
          </>
        ) : null}
        {stage.kind === 'reportDone' ? (
          stage.error ? (
            <Text testID="report-error" accessibilityRole="alert" style={[styles.question, { color: colors.error }]}>
              {stage.error}
            </Text>
          ) : (
            <Text testID="report-done" accessibilityRole="alert" style={[styles.question, { color: colors.text }]}>
              {tr.done}
            </Text>
          )
        ) : null}
        <MenuItem testID="message-menu-close" label={stage.kind === 'reportDone' ? tr.close : t.cancel} color={colors.textMuted} onPress={onClose} />
      </Sheet>
    );
  }

  return (
    <Sheet testID="message-menu" label={t.actions} colors={colors} onClose={onClose}>
      {removing && onRemove ? (
        <>
          <Text style={[styles.question, { color: colors.text }]}>{tm.removeConfirm}</Text>
          <TextInput
            testID="message-menu-remove-reason"
            value={reason}
            onChangeText={setReason}
            placeholder={tm.reason}
            placeholderTextColor={colors.textMuted}
            accessibilityLabel={tm.reasonLabel}
            maxLength={500}
            style={[styles.reason, { color: colors.text, borderColor: colors.border, backgroundColor: colors.background }]}
          />
          <MenuItem testID="message-menu-remove-confirm" label={tm.remove} color={colors.error} onPress={() => onRemove(reason.trim())} />
          <MenuItem testID="message-menu-close" label={t.cancel} color={colors.textMuted} onPress={onClose} />
        </>
      ) : confirming ? (
        <>
          <Text style={[styles.question, { color: colors.text }]}>{t.deleteConfirm}</Text>
          <MenuItem testID="message-menu-delete-confirm" label={t.delete} color={colors.error} onPress={onDelete} />
          <MenuItem testID="message-menu-close" label={t.cancel} color={colors.textMuted} onPress={onClose} />
        </>
      ) : (
        <>
          <View style={styles.emojiRow} accessibilityRole="toolbar">
            {Config.quickEmoji.map((emoji) => {
              const mine = item.message.reactions?.some((r) => r.emoji === emoji && r.me) ?? false;
              return (
                <Pressable
                  key={emoji}
                  testID={`message-menu-react-${emoji}`}
                  accessibilityRole="button"
                  accessibilityLabel={format(t.react, { emoji })}
                  aria-selected={mine}
                  onPress={() => onReact(emoji)}
                  hitSlop={4}
                  style={[styles.emoji, mine && { backgroundColor: colors.accent }]}
                >
                  <Text style={styles.emojiText}>{emoji}</Text>
                </Pressable>
              );
            })}
          </View>
          <MenuItem testID="message-menu-reply" label={t.reply} color={colors.text} onPress={onReply} />
          {own ? <MenuItem testID="message-menu-edit" label={t.edit} color={colors.text} onPress={onEdit} /> : null}
          {own ? (
            <MenuItem testID="message-menu-delete" label={t.delete} color={colors.error} onPress={() => setStage({ kind: 'delete' })} />
          ) : null}
          {onPin ? (
            <MenuItem
              testID={pinned ? 'message-menu-unpin' : 'message-menu-pin'}
              label={pinned ? tp.unpin : tp.pin}
              color={colors.text}
              onPress={onPin}
            />
          ) : null}
          {onReport && !own ? (
            <MenuItem testID="message-menu-report" label={tr.report} color={colors.error} onPress={() => setStage({ kind: 'report' })} />
          ) : null}
          {onRemove ? (
            <MenuItem testID="message-menu-remove" label={tm.remove} color={colors.error} onPress={() => setStage({ kind: 'remove' })} />
          ) : null}
          <MenuItem testID="message-menu-close" label={t.cancel} color={colors.textMuted} onPress={onClose} />
        </>
      )}
    </Sheet>
  );
}

function MenuItem({ testID, label, color, onPress, disabled = false }: { testID: string; label: string; color: string; onPress: () => void; disabled?: boolean }) {
  return (
    <Pressable
      testID={testID}
      accessibilityRole="menuitem"
      accessibilityLabel={label}
      accessibilityState={{ disabled }}
      disabled={disabled}
      onPress={onPress}
      style={[styles.item, disabled && styles.disabled]}
    >
      <Text style={[styles.itemText, { color }]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  emojiRow: { flexDirection: 'row', flexWrap: 'wrap', justifyContent: 'space-between', paddingBottom: spacing.sm },
  emoji: { padding: spacing.xs, borderRadius: radius.md },
  emojiText: { fontSize: 26 },
  item: { paddingVertical: spacing.md },
  itemText: { fontSize: 16, fontWeight: '600' },
  question: { fontSize: 16, paddingVertical: spacing.sm },
  bold: { fontWeight: '700' },
  chips: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm, paddingVertical: spacing.sm },
  chip: { borderWidth: 1, borderRadius: radius.round, paddingHorizontal: spacing.md, paddingVertical: spacing.xs },
  chipText: { fontSize: 14, fontWeight: '600' },
  disabled: { opacity: 0.5 },
  reason: { borderWidth: 1, borderRadius: radius.md, paddingHorizontal: spacing.md, paddingVertical: spacing.sm, fontSize: 15 },
});
