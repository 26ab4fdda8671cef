import { StyleSheet, Text, View } from 'react-native';

import { avatarColor, avatarInitial } from '../services/socket/avatarColor';

interface AvatarProps {
  username: string;
  size?: number;
  testID?: string;
  /** An account's chosen colour; the username's protocol colour otherwise. */
  color?: string;
}

/** The initial letter in a circle of the username's protocol colour. */
export function Avatar({ username, size = 36, testID, color: chosen }: AvatarProps) {
  const color = chosen || avatarColor(username);
  return (
    <View
      testID={testID}
      accessibilityLabel={username}
      style={[
        styles.circle,
        { width: size, height: size, borderRadius: size / 2, backgroundColor: color },
      ]}
    >
      <Text style={[styles.initial, { fontSize: size * 0.45 }]}>{avatarInitial(username)}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  circle: { alignItems: 'center', justifyContent: 'center' },
  initial: { color: '#FFFFFF', fontWeight: '700' },
});
