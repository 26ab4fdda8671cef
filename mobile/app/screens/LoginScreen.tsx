import { useCallback, useEffect, useRef, useState } from 'react';
import {
  ActivityIndicator,
  KeyboardAvoidingView,
  Platform,
  Pressable,
  ScrollView,
  StyleSheet,
  Text,
  TextInput,
  View,
} from 'react-native';
import { useSafeAreaInsets } from 'react-native-safe-area-context';
import { StatusBar } from 'expo-status-bar';

import { Config } from '../config';
import { loadServerUrl, loadUsername, saveServerUrl, saveUsername } from '../config/storage';
import { plural, strings } from '../i18n';
import type { LoginScreenProps } from '../navigation/types';
import { fetchActiveRooms } from '../services/api/rooms';
import type { ActiveRoom } from '../services/socket/protocol';
import {
  strip,
  validateRoom,
  validateServerUrl,
  validateUsername,
} from '../services/socket/validation';
import { radius, spacing, useAppTheme } from '../theme';

type RoomsState =
  | { status: 'idle' | 'loading' | 'failed'; rooms: ActiveRoom[] }
  | { status: 'loaded'; rooms: ActiveRoom[] };

type FieldError = { field: 'username' | 'room' | 'serverUrl'; message: string } | null;

/** Username, room (suggested or active ones) and the server address; validates like the server. */
export function LoginScreen({ navigation }: LoginScreenProps) {
  const { colors } = useAppTheme();
  const insets = useSafeAreaInsets();
  const t = strings();

  const [username, setUsername] = useState('');
  const [room, setRoom] = useState('');
  const [serverUrl, setServerUrl] = useState(Config.defaultServerUrl);
  const [error, setError] = useState<FieldError>(null);
  const [rooms, setRooms] = useState<RoomsState>({ status: 'idle', rooms: [] });
  const requestSeq = useRef(0);

  const loadRooms = useCallback(async (url: string) => {
    const checked = validateServerUrl(url);
    if (!checked.ok) return;
    const seq = ++requestSeq.current;
    setRooms((r) => ({ status: 'loading', rooms: r.rooms }));
    try {
      const list = await fetchActiveRooms(checked.value, { timeoutMs: Config.roomsFetchTimeoutMs });
      if (seq === requestSeq.current) setRooms({ status: 'loaded', rooms: list });
    } catch {
      if (seq === requestSeq.current) setRooms({ status: 'failed', rooms: [] });
    }
  }, []);

  // Restore what this device used last time, then list the server's active rooms.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const [storedUrl, storedName] = await Promise.all([loadServerUrl(), loadUsername()]);
      if (cancelled) return;
      setServerUrl(storedUrl);
      setUsername((current) => current || storedName);
      void loadRooms(storedUrl);
    })();
    return () => {
      cancelled = true;
    };
  }, [loadRooms]);

  const submit = () => {
    const name = validateUsername(username);
    if (!name.ok) return setError({ field: 'username', message: t.errors.username });
    const roomId = validateRoom(room);
    if (!roomId.ok) return setError({ field: 'room', message: t.errors.room });
    const server = validateServerUrl(serverUrl);
    if (!server.ok) return setError({ field: 'serverUrl', message: t.errors.serverUrl });
    setError(null);
    void saveServerUrl(server.value).catch(() => undefined);
    void saveUsername(name.value).catch(() => undefined);
    navigation.navigate('Chat', {
      username: name.value,
      room: roomId.value,
      serverUrl: server.value,
    });
  };

  const chosenRoom = strip(room).toLowerCase();

  const pickRoom = (name: string) => {
    setRoom(name);
    if (error?.field === 'room') setError(null);
  };

  const inputStyle = [
    styles.input,
    { backgroundColor: colors.inputBackground, color: colors.text, borderColor: colors.border },
  ];
  const errorBorder = { borderColor: colors.error };

  return (
    <View style={[styles.screen, { backgroundColor: colors.background }]}>
      <StatusBar style="light" />
      <View style={[styles.header, { backgroundColor: colors.header, paddingTop: insets.top + spacing.lg }]}>
        <Text style={[styles.title, { color: colors.headerText }]}>{t.appName}</Text>
        <Text style={[styles.tagline, { color: colors.headerMuted }]}>{t.login.tagline}</Text>
      </View>
      <KeyboardAvoidingView
        style={styles.flex}
        behavior={Platform.OS === 'ios' ? 'padding' : undefined}
      >
        <ScrollView
          contentContainerStyle={[styles.form, { paddingBottom: insets.bottom + spacing.xl }]}
          keyboardShouldPersistTaps="handled"
        >
          <Text style={[styles.label, { color: colors.text }]}>{t.login.username}</Text>
          <TextInput
            testID="login-username"
            value={username}
            onChangeText={setUsername}
            placeholder={t.login.usernamePlaceholder}
            placeholderTextColor={colors.textMuted}
            autoCapitalize="none"
            autoCorrect={false}
            // maxLength counts UTF-16 units: 32 letters outside the BMP are 64 of them,
            // and blanks around the name are trimmed, so leave room; the rule decides.
            maxLength={128}
            returnKeyType="next"
            style={[inputStyle, error?.field === 'username' && errorBorder]}
          />

          <Text style={[styles.label, { color: colors.text }]}>{t.login.room}</Text>
          <TextInput
            testID="login-room"
            value={room}
            onChangeText={setRoom}
            placeholder={t.login.roomPlaceholder}
            placeholderTextColor={colors.textMuted}
            autoCapitalize="none"
            autoCorrect={false}
            maxLength={64}
            returnKeyType="go"
            onSubmitEditing={submit}
            style={[inputStyle, error?.field === 'room' && errorBorder]}
          />

          <Text style={[styles.section, { color: colors.textMuted }]}>{t.login.suggested}</Text>
          <View style={styles.chips}>
            {Config.suggestedRooms.map((name) => (
              <Pressable
                key={name}
                testID={`suggested-room-${name}`}
                accessibilityRole="button"
                onPress={() => pickRoom(name)}
                style={[
                  styles.chip,
                  { borderColor: colors.accent },
                  chosenRoom === name && { backgroundColor: colors.accent },
                ]}
              >
                <Text style={[styles.chipText, { color: chosenRoom === name ? colors.accentText : colors.text }]}>
                  #{name}
                </Text>
              </Pressable>
            ))}
          </View>

          <View style={styles.sectionRow}>
            <Text style={[styles.section, { color: colors.textMuted }]}>{t.login.active}</Text>
            <Pressable
              testID="login-refresh-rooms"
              accessibilityRole="button"
              onPress={() => void loadRooms(serverUrl)}
              hitSlop={8}
            >
              <Text style={[styles.link, { color: colors.accent }]}>{t.login.refresh}</Text>
            </Pressable>
          </View>
          <View testID="login-active-rooms">
            {rooms.status === 'loading' && rooms.rooms.length === 0 ? (
              <View style={styles.row}>
                <ActivityIndicator size="small" color={colors.accent} />
                <Text style={[styles.hint, { color: colors.textMuted }]}> {t.login.activeLoading}</Text>
              </View>
            ) : null}
            {rooms.status === 'failed' ? (
              <Text style={[styles.hint, { color: colors.textMuted }]}>{t.login.activeFailed}</Text>
            ) : null}
            {rooms.status === 'loaded' && rooms.rooms.length === 0 ? (
              <Text style={[styles.hint, { color: colors.textMuted }]}>{t.login.activeNone}</Text>
            ) : null}
            {rooms.rooms.map((r) => (
              <Pressable
                key={r.room}
                testID={`active-room-${r.room}`}
                accessibilityRole="button"
                onPress={() => pickRoom(r.room)}
                style={[styles.activeRoom, { backgroundColor: colors.surface, borderColor: colors.border }]}
              >
                <Text style={[styles.activeName, { color: colors.text }]}>#{r.room}</Text>
                <Text style={[styles.activeUsers, { color: colors.textMuted }]}>
                  {plural(t.login.users, r.users)}
                </Text>
              </Pressable>
            ))}
          </View>

          <Text style={[styles.label, { color: colors.text }]}>{t.login.serverUrl}</Text>
          <TextInput
            testID="login-server-url"
            value={serverUrl}
            onChangeText={setServerUrl}
            onEndEditing={() => void loadRooms(serverUrl)}
            placeholder={Config.defaultServerUrl}
            placeholderTextColor={colors.textMuted}
            autoCapitalize="none"
            autoCorrect={false}
            keyboardType="url"
            style={[inputStyle, error?.field === 'serverUrl' && errorBorder]}
          />

          {error ? (
            <Text
              testID="login-error"
              accessibilityRole="alert"
              style={[styles.error, { color: colors.error, backgroundColor: colors.errorBackground }]}
            >
              {error.message}
            </Text>
          ) : null}

          <Pressable
            testID="login-submit"
            accessibilityRole="button"
            onPress={submit}
            style={({ pressed }) => [
              styles.submit,
              { backgroundColor: colors.accent, opacity: pressed ? 0.8 : 1 },
            ]}
          >
            <Text style={[styles.submitText, { color: colors.accentText }]}>{t.login.submit}</Text>
          </Pressable>
        </ScrollView>
      </KeyboardAvoidingView>
    </View>
  );
}

const styles = StyleSheet.create({
  screen: { flex: 1 },
  flex: { flex: 1 },
  header: { paddingHorizontal: spacing.xl, paddingBottom: spacing.xl },
  title: { fontSize: 28, fontWeight: '800' },
  tagline: { fontSize: 14, marginTop: spacing.xs },
  form: { padding: spacing.xl, gap: spacing.sm, maxWidth: 560, width: '100%', alignSelf: 'center' },
  label: { fontSize: 14, fontWeight: '600', marginTop: spacing.sm },
  input: {
    borderWidth: 1,
    borderRadius: radius.md,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.md,
    fontSize: 16,
  },
  section: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginTop: spacing.md },
  sectionRow: { flexDirection: 'row', justifyContent: 'space-between', alignItems: 'flex-end' },
  chips: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  chip: {
    borderWidth: 1.5,
    borderRadius: radius.round,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.sm,
  },
  chipText: { fontSize: 14, fontWeight: '600' },
  link: { fontSize: 13, fontWeight: '600' },
  row: { flexDirection: 'row', alignItems: 'center' },
  hint: { fontSize: 13 },
  activeRoom: {
    flexDirection: 'row',
    justifyContent: 'space-between',
    borderWidth: StyleSheet.hairlineWidth,
    borderRadius: radius.md,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.md,
    marginTop: spacing.xs,
  },
  activeName: { fontSize: 15, fontWeight: '600' },
  activeUsers: { fontSize: 13 },
  error: { marginTop: spacing.md, padding: spacing.md, borderRadius: radius.sm, fontSize: 14 },
  submit: {
    marginTop: spacing.lg,
    borderRadius: radius.md,
    paddingVertical: spacing.lg,
    alignItems: 'center',
  },
  submitText: { fontSize: 17, fontWeight: '700' },
});
