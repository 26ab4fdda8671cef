import { StyleSheet, Text, View } from 'react-native';

import { strings } from '../i18n';
import type { ConnectionState } from '../services/socket/ChatService';
import type { ThemeColors } from '../theme';

interface ConnectionBadgeProps {
  state: ConnectionState;
  colors: ThemeColors;
}

/** A coloured dot and the connection state in words. */
export function ConnectionBadge({ state, colors }: ConnectionBadgeProps) {
  const dot =
    state === 'online' ? colors.online : state === 'offline' || state === 'left' ? colors.offline : colors.warning;
  return (
    <View style={styles.row}>
      <View style={[styles.dot, { backgroundColor: dot }]} />
      <Text testID="chat-connection-state" style={[styles.text, { color: colors.headerMuted }]}>
        {strings().chat.connection[state]}
      </Text>
    </View>
  );
}

const styles = StyleSheet.create({
  row: { flexDirection: 'row', alignItems: 'center', gap: 6 },
  dot: { width: 8, height: 8, borderRadius: 4 },
  text: { fontSize: 12 },
});
