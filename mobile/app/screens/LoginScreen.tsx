import { useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
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
import { isPrivateRoom } from '@talkrooms/client';

import { Config } from '../config';
import { loadServerUrl, loadUsername, saveServerUrl, saveUsername } from '../config/storage';
import { format, plural, strings } from '../i18n';
import type { LoginScreenProps } from '../navigation/types';
import { AccountClientFactoryContext, skipRestore, useAccount } from '../services/accounts/AccountContext';
import { accountErrorText } from '../services/accounts/errors';
import { fetchActiveRooms } from '../services/api/rooms';
import {
  clearLaunchRoom,
  notificationLaunchRoom,
  subscribeLaunchRoom,
  unregisterPushDevice,
} from '../services/notifications/push';
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

/** The guest join (today's one step), or the account forms. */
type Mode = 'join' | 'login' | 'register';

/**
 * Username, room (suggested or active ones) and the server address; validates like the
 * server. "Log in" and "Create account" open the account forms; signed in, the join asks
 * only the room (the server uses the account's name) and offers "Log out".
 */
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
  // The server whose account is used: the remembered one, then each address the person
  // finished typing (not every keystroke: each address has its own stored account).
  const [accountServer, setAccountServer] = useState<string | null>(null);
  const accountClientFor = useContext(AccountClientFactoryContext);
  const { client: accounts, account: accountOfServer } = useAccount(accountServer);
  const [mode, setMode] = useState<Mode>('join');
  const [accountName, setAccountName] = useState('');
  const [password, setPassword] = useState('');
  const [email, setEmail] = useState('');
  const [accountError, setAccountError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The room of the notification whose tap started the app (null: none, or opened).
  const launchRoom = useSyncExternalStore(subscribeLaunchRoom, notificationLaunchRoom, notificationLaunchRoom);

  // An account belongs to its server: one being typed over shows the guest's name field.
  const typedServer = validateServerUrl(serverUrl);
  const account = typedServer.ok && typedServer.value === accountServer ? accountOfServer : null;

  const followServer = (url: string) => {
    const checked = validateServerUrl(url);
    if (checked.ok) setAccountServer(checked.value);
  };

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
      setAccountServer(storedUrl);
      setUsername((current) => current || storedName);
      void loadRooms(storedUrl);
    })();
    return () => {
      cancelled = true;
    };
  }, [loadRooms]);

  // Notifications reach accounts only: the tapped room waits for this server's account (the
  // stored session restored, or the person signing in here), then the chat opens there
  // rather than in the room of the form.
  useEffect(() => {
    if (!launchRoom || !account || !accountServer) return;
    clearLaunchRoom();
    // A conversation is joined by the chat's tap handling: the connection starts in a room.
    const typed = validateRoom(room);
    const first = isPrivateRoom(launchRoom) ? (typed.ok ? typed.value : Config.suggestedRooms[0]) : launchRoom;
    navigation.navigate('Chat', { username: account.username, room: first, serverUrl: accountServer, launchRoom });
  }, [launchRoom, account, accountServer, room, navigation]);

  const submit = () => {
    // Signed in: the server uses the account's name whatever the join says.
    const name = account ? { ok: true as const, value: account.username } : validateUsername(username);
    if (!name.ok) return setError({ field: 'username', message: t.errors.username });
    const roomId = validateRoom(room);
    if (!roomId.ok) return setError({ field: 'room', message: t.errors.room });
    const server = validateServerUrl(serverUrl);
    if (!server.ok) return setError({ field: 'serverUrl', message: t.errors.serverUrl });
    setError(null);
    void saveServerUrl(server.value).catch(() => undefined);
    if (!account) void saveUsername(name.value).catch(() => undefined);
    navigation.navigate('Chat', {
      username: name.value,
      room: roomId.value,
      serverUrl: server.value,
    });
  };

  const openAccountForm = (next: Mode) => {
    setMode(next);
    setAccountError(null);
    setError(null);
    setAccountName((current) => current || strip(username));
  };

  const submitAccount = async () => {
    const server = validateServerUrl(serverUrl);
    if (!server.ok) return setAccountError(t.errors.serverUrl);
    const name = strip(accountName);
    if (!name || !password) return setAccountError(t.account.missing);
    setAccountError(null);
    setBusy(true);
    try {
      const target = accountClientFor(server.value);
      // Signing in is what this client's start is now: no stored token to exchange after it.
      skipRestore(target);
      if (mode === 'register') await target.register(name, password, strip(email) || undefined);
      else await target.login(name, password);
      setAccountServer(server.value);
      void saveServerUrl(server.value).catch(() => undefined);
      setPassword('');
      setMode('join');
    } catch (e) {
      setAccountError(accountErrorText(e));
    } finally {
      setBusy(false);
    }
  };

  const logOut = () => {
    // This device stops receiving the account's notifications (while the token still works).
    const client = accounts;
    if (client && accountServer) void unregisterPushDevice(accountServer, client).then(() => client.logout().catch(() => undefined));
    else void accounts?.logout().catch(() => undefined);
    setMode('join');
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

  const waitingLine = launchRoom ? (
    <Text
      testID="login-launch-room"
      style={[styles.waiting, { color: colors.text, backgroundColor: colors.surface, borderColor: colors.accent }]}
    >
      {isPrivateRoom(launchRoom) ? t.login.waitingConversation : format(t.login.waiting, { room: launchRoom })}
    </Text>
  ) : null;

  const serverField = (
    <>
      <Text style={[styles.label, { color: colors.text }]}>{t.login.serverUrl}</Text>
      <TextInput
        testID="login-server-url"
        value={serverUrl}
        onChangeText={setServerUrl}
        onEndEditing={() => {
          void loadRooms(serverUrl);
          followServer(serverUrl);
        }}
        placeholder={Config.defaultServerUrl}
        placeholderTextColor={colors.textMuted}
        autoCapitalize="none"
        autoCorrect={false}
        keyboardType="url"
        style={[inputStyle, error?.field === 'serverUrl' && errorBorder]}
      />
    </>
  );

  if (mode !== 'join') {
    const registering = mode === 'register';
    return (
      <View style={[styles.screen, { backgroundColor: colors.background }]}>
        <StatusBar style="light" />
        <View style={[styles.header, { backgroundColor: colors.header, paddingTop: insets.top + spacing.lg }]}>
          <Text style={[styles.title, { color: colors.headerText }]}>{t.appName}</Text>
          <Text style={[styles.tagline, { color: colors.headerMuted }]}>
            {registering ? t.account.createAccount : t.account.logIn}
          </Text>
        </View>
        <KeyboardAvoidingView style={styles.flex} behavior={Platform.OS === 'ios' ? 'padding' : undefined}>
          <ScrollView
            contentContainerStyle={[styles.form, { paddingBottom: insets.bottom + spacing.xl }]}
            keyboardShouldPersistTaps="handled"
          >
            {waitingLine}
            <Text style={[styles.label, { color: colors.text }]}>{t.account.username}</Text>
            <TextInput
              testID="account-username"
              value={accountName}
              onChangeText={setAccountName}
              placeholder={t.login.usernamePlaceholder}
              placeholderTextColor={colors.textMuted}
              autoCapitalize="none"
              autoCorrect={false}
              autoComplete="username"
              textContentType="username"
              maxLength={128}
              style={inputStyle}
            />
            <Text style={[styles.label, { color: colors.text }]}>{t.account.password}</Text>
            <TextInput
              testID="account-password"
              value={password}
              onChangeText={setPassword}
              secureTextEntry
              autoCapitalize="none"
              autoCorrect={false}
              autoComplete={registering ? 'new-password' : 'current-password'}
              textContentType={registering ? 'newPassword' : 'password'}
              onSubmitEditing={registering ? undefined : () => void submitAccount()}
              style={inputStyle}
            />
            {registering ? (
              <>
                <Text style={[styles.label, { color: colors.text }]}>{t.account.email}</Text>
                <TextInput
                  testID="account-email"
                  value={email}
                  onChangeText={setEmail}
                  autoCapitalize="none"
                  autoCorrect={false}
                  autoComplete="email"
                  keyboardType="email-address"
                  textContentType="emailAddress"
                  onSubmitEditing={() => void submitAccount()}
                  style={inputStyle}
                />
              </>
            ) : null}
            {serverField}
            {accountError ? (
              <Text
                testID="account-error"
                accessibilityRole="alert"
                style={[styles.error, { color: colors.error, backgroundColor: colors.errorBackground }]}
              >
                {accountError}
              </Text>
            ) : null}
            <Pressable
              testID="account-submit"
              accessibilityRole="button"
              accessibilityState={{ disabled: busy, busy }}
              disabled={busy}
              onPress={() => void submitAccount()}
              style={({ pressed }) => [
                styles.submit,
                { backgroundColor: colors.accent, opacity: pressed || busy ? 0.7 : 1 },
              ]}
            >
              <Text style={[styles.submitText, { color: colors.accentText }]}>
                {busy ? t.account.working : registering ? t.account.submitCreate : t.account.submitLogIn}
              </Text>
            </Pressable>
            <Pressable
              testID={registering ? 'account-switch-login' : 'account-switch-register'}
              accessibilityRole="button"
              onPress={() => openAccountForm(registering ? 'login' : 'register')}
              style={styles.secondary}
            >
              <Text style={[styles.link, { color: colors.accent }]}>
                {registering ? t.account.logIn : t.account.createAccount}
              </Text>
            </Pressable>
            <Pressable
              testID="account-cancel"
              accessibilityRole="button"
              onPress={() => {
                setMode('join');
                setAccountError(null);
              }}
              style={styles.secondary}
            >
              <Text style={[styles.link, { color: colors.textMuted }]}>{t.account.asGuest}</Text>
            </Pressable>
          </ScrollView>
        </KeyboardAvoidingView>
      </View>
    );
  }

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
          {waitingLine}
          {account ? (
            <View
              testID="login-account"
              style={[styles.accountRow, { backgroundColor: colors.surface, borderColor: colors.border }]}
            >
              <Text testID="login-account-name" style={[styles.accountName, { color: colors.text }]}>
                {format(t.account.signedInAs, { name: account.username })}
              </Text>
              <Pressable testID="login-logout" accessibilityRole="button" onPress={logOut} hitSlop={8}>
                <Text style={[styles.link, { color: colors.accent }]}>{t.account.logOut}</Text>
              </Pressable>
            </View>
          ) : (
            <>
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
            </>
          )}

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

          {serverField}

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

          {account ? null : (
            <View style={styles.accountButtons}>
              <Pressable
                testID="login-mode-login"
                accessibilityRole="button"
                onPress={() => openAccountForm('login')}
                style={[styles.accountButton, { borderColor: colors.accent }]}
              >
                <Text style={[styles.chipText, { color: colors.text }]}>{t.account.logIn}</Text>
              </Pressable>
              <Pressable
                testID="login-mode-register"
                accessibilityRole="button"
                onPress={() => openAccountForm('register')}
                style={[styles.accountButton, { borderColor: colors.accent }]}
              >
                <Text style={[styles.chipText, { color: colors.text }]}>{t.account.createAccount}</Text>
              </Pressable>
            </View>
          )}
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
  waiting: { borderWidth: 1, borderRadius: radius.md, padding: spacing.md, fontSize: 14 },
  error: { marginTop: spacing.md, padding: spacing.md, borderRadius: radius.sm, fontSize: 14 },
  submit: {
    marginTop: spacing.lg,
    borderRadius: radius.md,
    paddingVertical: spacing.lg,
    alignItems: 'center',
  },
  submitText: { fontSize: 17, fontWeight: '700' },
  secondary: { alignItems: 'center', paddingVertical: spacing.sm },
  accountButtons: { flexDirection: 'row', gap: spacing.sm, marginTop: spacing.sm },
  accountButton: {
    flex: 1,
    alignItems: 'center',
    borderWidth: 1.5,
    borderRadius: radius.md,
    paddingVertical: spacing.md,
  },
  accountRow: {
    flexDirection: 'row',
    justifyContent: 'space-between',
    alignItems: 'center',
    borderWidth: StyleSheet.hairlineWidth,
    borderRadius: radius.md,
    padding: spacing.md,
  },
  accountName: { fontSize: 15, fontWeight: '600', flexShrink: 1 },
});
