import { Pressable, StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import { spacing, type ThemeColors } from '../theme';

/** What the composer is doing besides writing a new message. */
export type ComposerMode =
  | { kind: 'reply'; id: string; username: string; excerpt: string }
  /** `draft`: what the composer held before; it comes back when the edit ends. */
  | { kind: 'edit'; id: string; text: string; draft: string };

interface ComposerBarProps {
  mode: ComposerMode;
  colors: ThemeColors;
  onCancel: () => void;
}

/** The bar above the input: the quote of the message answered, or "editing your message". */
export function ComposerBar({ mode, colors, onCancel }: ComposerBarProps) {
  const t = strings().composer;
  const reply = mode.kind === 'reply';
  return (
    <View
      testID={reply ? 'chat-reply-bar' : 'chat-edit-bar'}
      style={[styles.bar, { backgroundColor: colors.surface, borderTopColor: colors.border, borderLeftColor: colors.accent }]}
    >
      <View style={styles.text}>
        <Text style={[styles.title, { color: colors.accent }]} numberOfLines={1}>
          {reply ? format(t.replyingTo, { name: mode.username }) : t.editing}
        </Text>
        <Text style={[styles.excerpt, { color: colors.textMuted }]} numberOfLines={1}>
          {reply ? mode.excerpt : mode.text}
        </Text>
      </View>
      <Pressable
        testID={reply ? 'chat-reply-cancel' : 'chat-edit-cancel'}
        accessibilityRole="button"
        accessibilityLabel={reply ? t.cancelReply : t.cancelEdit}
        onPress={onCancel}
        hitSlop={8}
        style={styles.cancel}
      >
        <Text style={[styles.cancelText, { color: colors.textMuted }]}>×</Text>
      </Pressable>
    </View>
  );
}

const styles = StyleSheet.create({
  bar: {
    flexDirection: 'row',
    alignItems: 'center',
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.xs,
    borderTopWidth: StyleSheet.hairlineWidth,
    borderLeftWidth: 3,
  },
  text: { flex: 1 },
  title: { fontSize: 12, fontWeight: '700' },
  excerpt: { fontSize: 13 },
  cancel: { paddingHorizontal: spacing.sm },
  cancelText: { fontSize: 20 },
});
