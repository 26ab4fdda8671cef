import { useMemo } from 'react';
import { FlatList, Pressable, StyleSheet, Text, View } from 'react-native';

import { format, getLanguage, strings } from '../i18n';
import type { RoomRoles } from '../services/moderation/api';
import { roleBadge } from '../services/moderation/words';
import { sameName } from '../services/socket/names';
import type { RoomUser } from '../services/socket/protocol';
import { spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';

interface UsersPanelProps {
  users: RoomUser[];
  me: string;
  colors: ThemeColors;
  /** A tap on a person: their profile. */
  onShowProfile?: (user: RoomUser) => void;
  /** The room's owner and moderators: a badge beside their names. */
  roles?: RoomRoles | null;
}

/**
 * The server sorts by case-folded code points ("Élodie" after "Zoë"); people expect the
 * order of their language, as the web UI shows it. Server order when Intl is missing.
 */
export function sortUsers(users: RoomUser[], language: string): RoomUser[] {
  if (typeof Intl === 'undefined' || typeof Intl.Collator !== 'function') return users;
  const collator = new Intl.Collator(language, { sensitivity: 'base' });
  return [...users].sort((a, b) => collator.compare(a.username, b.username));
}

/** Who is in the room now, as the server last told us; "me" in whatever spelling. */
export function UsersPanel({ users, me, colors, onShowProfile, roles }: UsersPanelProps) {
  const t = strings().chat;
  const language = getLanguage();
  const sorted = useMemo(() => sortUsers(users, language), [users, language]);
  return (
    <View
      testID="chat-users-panel"
      style={[styles.panel, { backgroundColor: colors.surface, borderColor: colors.border }]}
    >
      <Text style={[styles.title, { color: colors.textMuted }]}>{t.users}</Text>
      <FlatList
        data={sorted}
        keyExtractor={(u) => u.username}
        style={styles.list}
        renderItem={({ item }) => {
          // An account's display name comes with its username: the name is what the server vouches for.
          const shown = item.display_name && item.display_name !== item.username
            ? `${item.display_name} (@${item.username})`
            : item.username;
          const badge = roleBadge(roles, item.username);
          return (
            <Pressable
              testID={`chat-user-${item.username}`}
              accessibilityRole="button"
              accessibilityHint={t.profileHint}
              accessibilityLabel={badge ? format(strings().moderation.roleLabel, { name: shown, role: badge }) : undefined}
              onPress={onShowProfile ? () => onShowProfile(item) : undefined}
              disabled={!onShowProfile}
              style={styles.user}
            >
              <Avatar username={item.username} color={item.account ? item.color : undefined} size={28} />
              <Text style={[styles.name, { color: colors.text }]}>
                {shown}
                {sameName(item.username, me) ? ` (${t.you})` : ''}
              </Text>
              {badge ? (
                <Text testID={`chat-user-role-${item.username}`} style={[styles.badge, { color: colors.accentText, backgroundColor: colors.accent }]}>
                  {badge}
                </Text>
              ) : null}
            </Pressable>
          );
        }}
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
  badge: { fontSize: 11, fontWeight: '700', paddingHorizontal: 6, paddingVertical: 1, borderRadius: 8, overflow: 'hidden' },
});
