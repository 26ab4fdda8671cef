import { StyleSheet, Text, View } from 'react-native';

import { typingText } from '../i18n';
import { spacing, type ThemeColors } from '../theme';

interface TypingIndicatorProps {
  names: string[];
  colors: ThemeColors;
}

/** "X is typing…" under the list; keeps its height so the list does not jump. */
export function TypingIndicator({ names, colors }: TypingIndicatorProps) {
  return (
    <View style={styles.bar}>
      {names.length > 0 ? (
        <Text testID="chat-typing" numberOfLines={1} style={[styles.text, { color: colors.textMuted }]}>
          {typingText(names)}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  bar: { height: 20, justifyContent: 'center', paddingHorizontal: spacing.lg },
  text: { fontSize: 12, fontStyle: 'italic' },
});
