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
}

/**
 * What a long press on a message offers: a row of common emoji, reply, and for our own
 * messages edit and delete (delete asks once more). Each choice closes the menu.
 */
export function MessageMenu({ item, colors, onReact, onReply, onEdit, onDelete, onClose, onRemove }: MessageMenuProps) {
  const t = strings().message;
  const tm = strings().moderation;
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [reason, setReason] = useState('');
  const { own } = item;

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
            <MenuItem testID="message-menu-delete" label={t.delete} color={colors.error} onPress={() => setConfirming(true)} />
          ) : null}
          {onRemove ? (
            <MenuItem testID="message-menu-remove" label={tm.remove} color={colors.error} onPress={() => setRemoving(true)} />
          ) : null}
          <MenuItem testID="message-menu-close" label={t.cancel} color={colors.textMuted} onPress={onClose} />
        </>
      )}
    </Sheet>
  );
}

function MenuItem({ testID, label, color, onPress }: { testID: string; label: string; color: string; onPress: () => void }) {
  return (
    <Pressable testID={testID} accessibilityRole="menuitem" accessibilityLabel={label} onPress={onPress} style={styles.item}>
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
  reason: { borderWidth: 1, borderRadius: radius.md, paddingHorizontal: spacing.md, paddingVertical: spacing.sm, fontSize: 15 },
});
