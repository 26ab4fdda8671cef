import { FlatList, StyleSheet, Text, View } from 'react-native';

import { strings } from '../i18n';
import type { RoomUser } from '../services/socket/protocol';
import { spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';

interface UsersPanelProps {
  users: RoomUser[];
  me: string;
  colors: ThemeColors;
}

/** Who is in the room now, as the server last told us. */
export function UsersPanel({ users, me, colors }: UsersPanelProps) {
  const t = strings().chat;
  return (
    <View
      testID="chat-users-panel"
      style={[styles.panel, { backgroundColor: colors.surface, borderColor: colors.border }]}
    >
      <Text style={[styles.title, { color: colors.textMuted }]}>{t.users}</Text>
      <FlatList
        data={users}
        keyExtractor={(u) => u.username}
        style={styles.list}
        renderItem={({ item }) => (
          <View testID={`chat-user-${item.username}`} style={styles.user}>
            <Avatar username={item.username} size={28} />
            <Text style={[styles.name, { color: colors.text }]}>
              {item.username}
              {item.username === me ? ` (${t.you})` : ''}
            </Text>
          </View>
        )}
      />
    </View>
  );
}

const styles = StyleSheet.create({
  panel: {
    borderBottomWidth: StyleSheet.hairlineWidth,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.sm,
    maxHeight: 220,
  },
  title: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginBottom: spacing.xs },
  list: { flexGrow: 0 },
  user: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, paddingVertical: spacing.xs },
  name: { fontSize: 15 },
});
