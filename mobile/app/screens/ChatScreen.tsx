import { useCallback, useRef, useState } from 'react';
import {
  FlatList,
  KeyboardAvoidingView,
  Platform,
  Pressable,
  StyleSheet,
  Text,
  TextInput,
  View,
  type ListRenderItem,
  type NativeScrollEvent,
  type NativeSyntheticEvent,
} from 'react-native';
import { useSafeAreaInsets } from 'react-native-safe-area-context';
import { StatusBar } from 'expo-status-bar';

import { ChatItemView } from '../components/ChatItemView';
import { ConnectionBadge } from '../components/ConnectionBadge';
import { TypingIndicator } from '../components/TypingIndicator';
import { UsersPanel } from '../components/UsersPanel';
import { getLanguage, plural, strings } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import type { ChatError, ChatItem } from '../services/socket/ChatService';
import { useChatService } from '../services/socket/ChatServiceContext';
import { strip } from '../services/socket/validation';
import { radius, spacing, useAppTheme } from '../theme';

/** How close to the bottom (px) still counts as "reading the newest messages". */
const STICK_TO_BOTTOM_PX = 80;

/** The server's own words in English (they are authoritative); a translation otherwise. */
export function errorText(error: ChatError): string {
  if (getLanguage() === 'en' && error.message) return error.message;
  const t = strings().errors;
  switch (error.code) {
    case 'name_taken':
    case 'rate_limited':
    case 'unavailable':
    case 'not_in_room':
      return t[error.code];
    default:
      return error.message;
  }
}

/** The room: header with presence and connection, the messages, who types, and the composer. */
export function ChatScreen({ navigation, route }: ChatScreenProps) {
  const { username, room, serverUrl } = route.params;
  const { colors } = useAppTheme();
  const insets = useSafeAreaInsets();
  const t = strings().chat;

  const { service, state } = useChatService({ serverUrl, username, room });
  const [text, setText] = useState('');
  const [inputError, setInputError] = useState<string | null>(null);
  const [showUsers, setShowUsers] = useState(false);
  const listRef = useRef<FlatList<ChatItem>>(null);
  const atBottom = useRef(true);

  const items = state?.items ?? [];
  const connection = state?.connection ?? 'connecting';
  const userCount = state?.userCount ?? 0;

  const onChangeText = (value: string) => {
    setText(value);
    if (inputError) setInputError(null);
    service?.setComposerText(value);
  };

  const send = () => {
    if (!service) return;
    const result = service.send(text);
    if (!result.ok) {
      setInputError(strings().errors.message);
      return;
    }
    setText('');
    atBottom.current = true;
  };

  const leave = () => {
    service?.leave();
    if (navigation.canGoBack()) navigation.goBack();
    else navigation.replace('Login');
  };

  const onScroll = useCallback((e: NativeSyntheticEvent<NativeScrollEvent>) => {
    const { contentOffset, contentSize, layoutMeasurement } = e.nativeEvent;
    atBottom.current =
      contentOffset.y + layoutMeasurement.height >= contentSize.height - STICK_TO_BOTTOM_PX;
  }, []);

  const renderItem: ListRenderItem<ChatItem> = useCallback(
    ({ item }) => <ChatItemView item={item} colors={colors} />,
    [colors],
  );

  // Blank as the server sees it (Python's strip set): nothing to send.
  const canSend = strip(text).length > 0 && !!service && connection !== 'left' && connection !== 'offline';

  return (
    <View style={[styles.screen, { backgroundColor: colors.background }]}>
      <StatusBar style="light" />
      <View style={[styles.header, { backgroundColor: colors.header, paddingTop: insets.top + spacing.sm }]}>
        <Pressable
          testID="chat-leave"
          accessibilityRole="button"
          onPress={leave}
          hitSlop={8}
          style={styles.leave}
        >
          <Text style={[styles.leaveText, { color: colors.accent }]}>‹ {t.leave}</Text>
        </Pressable>
        <View style={styles.headerCenter}>
          <Text testID="chat-header-room" numberOfLines={1} style={[styles.room, { color: colors.headerText }]}>
            #{room}
          </Text>
          <ConnectionBadge state={connection} colors={colors} />
        </View>
        <Pressable
          testID="chat-users-toggle"
          accessibilityRole="button"
          accessibilityState={{ expanded: showUsers }}
          onPress={() => setShowUsers((v) => !v)}
          hitSlop={8}
          style={[styles.count, { borderColor: colors.accent }, showUsers && { backgroundColor: colors.accent }]}
        >
          <Text
            testID="chat-user-count"
            style={[styles.countText, { color: showUsers ? colors.accentText : colors.headerText }]}
          >
            {plural(t.online, userCount)}
          </Text>
        </Pressable>
      </View>

      {showUsers ? <UsersPanel users={state?.users ?? []} me={state?.username ?? username} colors={colors} /> : null}

      {state?.error ? (
        <Pressable
          testID="chat-error"
          accessibilityRole="alert"
          onPress={() => service?.dismissError()}
          style={[styles.banner, { backgroundColor: colors.errorBackground }]}
        >
          <Text style={[styles.bannerText, { color: colors.error }]}>{errorText(state.error)}</Text>
        </Pressable>
      ) : null}

      <KeyboardAvoidingView
        style={styles.flex}
        behavior={Platform.OS === 'ios' ? 'padding' : Platform.OS === 'android' ? 'height' : undefined}
      >
        <FlatList
          ref={listRef}
          testID="chat-message-list"
          style={styles.flex}
          contentContainerStyle={styles.listContent}
          data={items}
          keyExtractor={(item) => item.key}
          renderItem={renderItem}
          onScroll={onScroll}
          scrollEventThrottle={100}
          onContentSizeChange={() => {
            if (atBottom.current) listRef.current?.scrollToEnd({ animated: false });
          }}
          initialNumToRender={30}
          windowSize={11}
          keyboardShouldPersistTaps="handled"
          ListEmptyComponent={
            <Text style={[styles.empty, { color: colors.textMuted }]}>{t.empty}</Text>
          }
        />
        <TypingIndicator names={state?.typing ?? []} colors={colors} />
        {inputError ? (
          <Text testID="chat-input-error" style={[styles.inputError, { color: colors.error }]}>
            {inputError}
          </Text>
        ) : null}
        <View
          style={[
            styles.composer,
            {
              backgroundColor: colors.surface,
              borderTopColor: colors.border,
              paddingBottom: insets.bottom + spacing.sm,
            },
          ]}
        >
          <TextInput
            testID="chat-input"
            value={text}
            onChangeText={onChangeText}
            placeholder={t.inputPlaceholder}
            placeholderTextColor={colors.textMuted}
            onSubmitEditing={send}
            submitBehavior="submit"
            returnKeyType="send"
            style={[
              styles.input,
              { backgroundColor: colors.background, color: colors.text, borderColor: colors.border },
            ]}
          />
          <Pressable
            testID="chat-send"
            accessibilityRole="button"
            accessibilityLabel={t.send}
            accessibilityState={{ disabled: !canSend }}
            disabled={!canSend}
            onPress={send}
            style={[styles.send, { backgroundColor: colors.accent, opacity: canSend ? 1 : 0.5 }]}
          >
            <Text style={[styles.sendText, { color: colors.accentText }]}>{t.send}</Text>
          </Pressable>
        </View>
      </KeyboardAvoidingView>
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1 },
  flex: { flex: 1 },
  header: {
    flexDirection: 'row',
    alignItems: 'center',
    paddingHorizontal: spacing.md,
    paddingBottom: spacing.md,
    gap: spacing.sm,
  },
  leave: { paddingVertical: spacing.xs, paddingRight: spacing.sm },
  leaveText: { fontSize: 16, fontWeight: '600' },
  headerCenter: { flex: 1, alignItems: 'center' },
  room: { fontSize: 18, fontWeight: '700' },
  count: {
    borderWidth: 1,
    borderRadius: radius.round,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.xs,
  },
  countText: { fontSize: 13, fontWeight: '600' },
  banner: { paddingHorizontal: spacing.lg, paddingVertical: spacing.sm },
  bannerText: { fontSize: 14 },
  listContent: { paddingVertical: spacing.sm, flexGrow: 1 },
  empty: { textAlign: 'center', marginTop: spacing.xxl, fontSize: 14 },
  inputError: { paddingHorizontal: spacing.lg, fontSize: 12 },
  composer: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.sm,
    paddingHorizontal: spacing.md,
    paddingTop: spacing.sm,
    borderTopWidth: StyleSheet.hairlineWidth,
  },
  input: {
    flex: 1,
    borderWidth: 1,
    borderRadius: radius.round,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.sm,
    fontSize: 16,
    minHeight: 42,
  },
  send: { borderRadius: radius.round, paddingHorizontal: spacing.lg, paddingVertical: spacing.md },
  sendText: { fontSize: 15, fontWeight: '700' },
});
