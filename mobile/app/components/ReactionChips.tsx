import { Pressable, StyleSheet, Text, View } from 'react-native';

import { format, plural, strings } from '../i18n';
import type { Reaction } from '../services/socket/protocol';
import { radius, spacing, type ThemeColors } from '../theme';
import { Sheet } from './Sheet';

interface ReactionChipsProps {
  messageId: string;
  reactions: Reaction[];
  /** Our own message: the chips line up on the right, under the bubble. */
  own: boolean;
  colors: ThemeColors;
  onToggle: (emoji: string) => void;
  onShowUsers: (reaction: Reaction) => void;
}

/** One chip per emoji under a message: emoji and count, ours highlighted; tap toggles ours. */
export function ReactionChips({ messageId, reactions, own, colors, onToggle, onShowUsers }: ReactionChipsProps) {
  const t = strings().message;
  return (
    <View testID={`reactions-${messageId}`} style={[styles.row, own && styles.rowOwn]}>
      {reactions.map((reaction) => {
        const label = plural(t.reaction, reaction.count, { emoji: reaction.emoji });
        return (
          <Pressable
            key={reaction.emoji}
            testID={`reaction-${messageId}-${reaction.emoji}`}
            accessibilityRole="button"
            accessibilityLabel={reaction.me ? `${label}, ${t.reactionMine}` : label}
            accessibilityHint={t.reactionHint}
            aria-selected={reaction.me}
            onPress={() => onToggle(reaction.emoji)}
            onLongPress={() => onShowUsers(reaction)}
            style={[
              styles.chip,
              { backgroundColor: colors.surface, borderColor: colors.border },
              reaction.me && { backgroundColor: colors.accent, borderColor: colors.accent },
            ]}
          >
            <Text style={[styles.text, { color: reaction.me ? colors.accentText : colors.text }]}>
              {reaction.emoji} {reaction.count}
            </Text>
          </Pressable>
        );
      })}
    </View>
  );
}

interface ReactionUsersProps {
  reaction: Reaction;
  colors: ThemeColors;
  onClose: () => void;
}

/** Who reacted with one emoji (a long press on its chip). */
export function ReactionUsers({ reaction, colors, onClose }: ReactionUsersProps) {
  const t = strings().message;
  const title = format(t.reactedWith, { emoji: reaction.emoji });
  return (
    <Sheet testID="reaction-users" label={title} colors={colors} onClose={onClose}>
      <Text style={[styles.title, { color: colors.textMuted }]}>{title}</Text>
      {reaction.users.map((name) => (
        <Text key={name} testID={`reaction-user-${name}`} style={[styles.name, { color: colors.text }]}>
          {name}
        </Text>
      ))}
      <Pressable testID="reaction-users-close" accessibilityRole="button" onPress={onClose} style={styles.close}>
        <Text style={[styles.closeText, { color: colors.textMuted }]}>{t.close}</Text>
      </Pressable>
    </Sheet>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.xs, marginTop: spacing.xs },
  rowOwn: { justifyContent: 'flex-end' },
  chip: {
    borderWidth: 1,
    borderRadius: radius.round,
    paddingHorizontal: spacing.sm,
    paddingVertical: 2,
  },
  text: { fontSize: 13, fontWeight: '600' },
  title: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginBottom: spacing.xs },
  name: { fontSize: 16, paddingVertical: spacing.xs },
  close: { paddingVertical: spacing.md },
  closeText: { fontSize: 16, fontWeight: '600' },
});
