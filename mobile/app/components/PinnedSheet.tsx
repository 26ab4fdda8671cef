import { Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import { format, strings } from '../i18n';
import type { ChatItem, MessageItem } from '../services/socket/ChatService';
import { spacing, type ThemeColors } from '../theme';
import { formatTime } from './formatTime';
import { Sheet } from './Sheet';

interface PinnedSheetProps {
  /** Pinned message ids, newest first (the room's settings). */
  pins: string[];
  /** The room's list as shown: a pinned message already loaded is quoted from it. */
  items: ChatItem[];
  colors: ThemeColors;
  /** A tap on one: close and show it in the list (loading older history when needed). */
  onShow: (id: string) => void;
  /** Staff: unpin. */
  onUnpin?: (id: string) => void;
  onClose: () => void;
}

/**
 * The room's pinned messages, newest first. One not loaded yet says so; a tap shows any of
 * them in the timeline (the reply's "show the original" path).
 */
export function PinnedSheet({ pins, items, colors, onShow, onUnpin, onClose }: PinnedSheetProps) {
  const t = strings().pins;
  const byId = new Map<string, MessageItem>();
  for (const item of items) if (item.kind === 'message') byId.set(item.message.id, item);
  return (
    <Sheet testID="pinned-sheet" label={t.title} colors={colors} onClose={onClose}>
      <Text accessibilityRole="header" style={[styles.heading, { color: colors.text }]}>
        📌 {t.title}
      </Text>
      <ScrollView style={styles.scroll}>
        {pins.map((id) => {
          const item = byId.get(id);
          const text = item
            ? item.message.deleted
              ? `${item.message.username}: ${t.deleted}`
              : `${item.message.username}: ${item.message.message}`
            : format(t.notLoaded, { id: String(Number(id)) });
          return (
            <View key={id} style={[styles.row, { borderColor: colors.border }]}>
              <Pressable
                testID={`pinned-${id}`}
                accessibilityRole="button"
                accessibilityHint={t.show}
                onPress={() => onShow(id)}
                style={styles.flex}
              >
                <Text numberOfLines={3} style={{ color: colors.text }}>
                  {text}
                </Text>
                {item ? <Text style={[styles.small, { color: colors.textMuted }]}>{formatTime(item.message.timestamp)}</Text> : null}
              </Pressable>
              {onUnpin ? (
                <Pressable testID={`pinned-unpin-${id}`} accessibilityRole="button" accessibilityLabel={t.unpin} onPress={() => onUnpin(id)} hitSlop={6}>
                  <Text style={[styles.action, { color: colors.accent }]}>{t.unpin}</Text>
                </Pressable>
              ) : null}
            </View>
          );
        })}
      </ScrollView>
      <Pressable testID="pinned-close" accessibilityRole="button" accessibilityLabel={t.close} onPress={onClose} style={styles.close}>
        <Text style={[styles.action, { color: colors.textMuted }]}>{t.close}</Text>
      </Pressable>
    </Sheet>
  );
}

const styles = StyleSheet.create({
  heading: { fontSize: 17, fontWeight: '700' },
  scroll: { maxHeight: 420 },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, paddingVertical: spacing.sm, borderBottomWidth: StyleSheet.hairlineWidth },
  flex: { flex: 1 },
  small: { fontSize: 12 },
  action: { fontSize: 15, fontWeight: '700' },
  close: { paddingVertical: spacing.md },
});
