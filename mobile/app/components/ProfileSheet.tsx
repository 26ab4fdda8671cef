import { AVATAR_COLORS, ApiError, type AccountClient, type AccountInfo, type Profile } from '@talkrooms/client';
import { useEffect, useState } from 'react';
import { ActivityIndicator, Pressable, StyleSheet, Text, TextInput, View } from 'react-native';

import { format, strings } from '../i18n';
import { accountErrorText } from '../services/accounts/errors';
import { sameName } from '../services/socket/names';
import { radius, spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';
import { Sheet } from './Sheet';
import { StaffActions } from './StaffActions';
import type { ModerationClient, Role } from '../services/moderation/api';

interface ProfileSheetProps {
  username: string;
  /** What the room's user list said: false for a guest (no profile to ask for). */
  isAccount?: boolean;
  /** The account client of this server (public profiles need no token). */
  accounts: AccountClient | null;
  /** Signed in as; null for a guest. */
  me: AccountInfo | null;
  colors: ThemeColors;
  /** "Message": open the private conversation with them (only offered when signed in). */
  onMessage: (username: string) => void;
  /** Our own profile changed (display name, colour). */
  onSaved?: (profile: Profile) => void;
  onClose: () => void;
  /** We moderate the room shown: the person's kick, mute, ban (and moderator naming). */
  staff?: {
    room: string;
    role: Role;
    targetRole: Role;
    client: ModerationClient;
    onDone: (notice: string, rolesChanged: boolean) => void;
  };
}

type Loaded = { status: 'loading' } | { status: 'guest' } | { status: 'failed'; error: string } | { status: 'loaded'; profile: Profile };

/**
 * A person's public profile (display name, username, bio, colour) with "Message" and
 * "Block"/"Unblock"; our own with "Edit your profile". A guest has no profile, and a guest
 * who taps "Message" is told private messages need an account.
 */
export function ProfileSheet({ username, isAccount, accounts, me, colors, onMessage, onSaved, onClose, staff }: ProfileSheetProps) {
  const t = strings().profile;
  const own = me !== null && sameName(me.username, username);
  // The account object is new after every token refresh: the sheet follows who it is.
  const signedIn = me !== null;
  const [loaded, setLoaded] = useState<Loaded>(isAccount === false ? { status: 'guest' } : { status: 'loading' });
  const [blocked, setBlocked] = useState<boolean | null>(null);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (isAccount === false || !accounts) return undefined;
    let cancelled = false;
    const load = own ? accounts.profile() : accounts.publicProfile(username);
    load.then(
      (profile) => {
        if (!cancelled) setLoaded({ status: 'loaded', profile });
      },
      (error: unknown) => {
        if (cancelled) return;
        // No account of that name: the person is a guest.
        if (error instanceof ApiError && error.status === 404) setLoaded({ status: 'guest' });
        else setLoaded({ status: 'failed', error: accountErrorText(error) });
      },
    );
    if (signedIn && !own) {
      accounts.blocks().then(
        (list) => {
          if (!cancelled) setBlocked(list.some((b) => sameName(b.username, username)));
        },
        () => undefined,
      );
    }
    return () => {
      cancelled = true;
    };
  }, [accounts, username, isAccount, own, signedIn]);

  const message = () => {
    if (!me) {
      setNotice(t.accountRequired);
      return;
    }
    onMessage(username);
  };

  const toggleBlock = async () => {
    if (!accounts || blocked === null) return;
    setBusy(true);
    setNotice(null);
    try {
      if (blocked) await accounts.unblock(username);
      else await accounts.block(username);
      setBlocked(!blocked);
    } catch (error) {
      setNotice(accountErrorText(error));
    } finally {
      setBusy(false);
    }
  };

  const profile = loaded.status === 'loaded' ? loaded.profile : null;
  const name = profile?.displayName || username;

  return (
    <Sheet testID="profile-sheet" label={t.title} colors={colors} onClose={onClose}>
      <View style={styles.head}>
        <Avatar username={username} color={profile?.color} size={48} testID="profile-avatar" />
        <View style={styles.names}>
          <Text testID="profile-display-name" style={[styles.displayName, { color: colors.text }]} numberOfLines={1}>
            {name}
          </Text>
          <Text testID="profile-username" style={[styles.username, { color: colors.textMuted }]} numberOfLines={1}>
            @{profile?.username ?? username}
          </Text>
        </View>
      </View>

      {loaded.status === 'loading' ? (
        <View style={styles.row}>
          <ActivityIndicator size="small" color={colors.accent} />
          <Text style={[styles.muted, { color: colors.textMuted }]}> {t.loading}</Text>
        </View>
      ) : null}
      {loaded.status === 'guest' ? (
        <Text testID="profile-guest" style={[styles.muted, { color: colors.textMuted }]}>
          {format(t.guest, { name: username })}
        </Text>
      ) : null}
      {loaded.status === 'failed' ? (
        <Text testID="profile-error" accessibilityRole="alert" style={[styles.muted, { color: colors.error }]}>
          {loaded.error}
        </Text>
      ) : null}
      {profile && profile.bio && !editing ? (
        <Text testID="profile-bio" style={[styles.bio, { color: colors.text }]}>
          {profile.bio}
        </Text>
      ) : null}
      {blocked ? <Text style={[styles.muted, { color: colors.textMuted }]}>{t.blockedNote}</Text> : null}

      {own && profile && accounts && editing ? (
        <ProfileEditor
          profile={profile}
          accounts={accounts}
          colors={colors}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setLoaded({ status: 'loaded', profile: saved });
            setEditing(false);
            setNotice(t.saved);
            onSaved?.(saved);
          }}
        />
      ) : null}

      {notice ? (
        <Text testID="profile-notice" accessibilityRole="alert" style={[styles.notice, { color: colors.text, backgroundColor: colors.background }]}>
          {notice}
        </Text>
      ) : null}

      {own && profile && !editing ? (
        <Action testID="profile-edit" label={t.edit} color={colors.accent} onPress={() => setEditing(true)} />
      ) : null}
      {!own && loaded.status !== 'guest' ? (
        <Action testID="profile-message" label={t.message} color={colors.accent} onPress={message} />
      ) : null}
      {!own && me && loaded.status === 'loaded' && blocked !== null ? (
        <Action
          testID="profile-block"
          label={blocked ? t.unblock : t.block}
          color={blocked ? colors.text : colors.error}
          disabled={busy}
          onPress={() => void toggleBlock()}
        />
      ) : null}
      {staff && !own && loaded.status !== 'loading' ? (
        <StaffActions
          room={staff.room}
          username={profile?.username ?? username}
          role={staff.role}
          targetRole={staff.targetRole}
          isAccount={loaded.status === 'loaded'}
          client={staff.client}
          colors={colors}
          onDone={(done, rolesChanged) => {
            setNotice(done);
            staff.onDone(done, rolesChanged);
          }}
        />
      ) : null}
      <Action testID="profile-close" label={t.close} color={colors.textMuted} onPress={onClose} />
    </Sheet>
  );
}

function ProfileEditor({
  profile,
  accounts,
  colors,
  onCancel,
  onSaved,
}: {
  profile: Profile;
  accounts: AccountClient;
  colors: ThemeColors;
  onCancel: () => void;
  onSaved: (profile: Profile) => void;
}) {
  const t = strings().profile;
  const [displayName, setDisplayName] = useState(profile.displayName);
  const [bio, setBio] = useState(profile.bio);
  const [color, setColor] = useState(profile.color);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      onSaved(await accounts.updateProfile({ displayName, bio, color }));
    } catch (e) {
      setError(accountErrorText(e));
      setBusy(false);
    }
  };

  const input = [styles.input, { backgroundColor: colors.background, color: colors.text, borderColor: colors.border }];
  return (
    <View testID="profile-editor" style={styles.editor}>
      <Text style={[styles.label, { color: colors.text }]}>{t.displayName}</Text>
      <TextInput
        testID="profile-edit-display-name"
        value={displayName}
        onChangeText={setDisplayName}
        accessibilityLabel={t.displayName}
        maxLength={128}
        style={input}
      />
      <Text style={[styles.label, { color: colors.text }]}>{t.bio}</Text>
      <TextInput
        testID="profile-edit-bio"
        value={bio}
        onChangeText={setBio}
        accessibilityLabel={t.bio}
        multiline
        maxLength={1000}
        style={[input, styles.bioInput]}
      />
      <Text style={[styles.label, { color: colors.text }]}>{t.color}</Text>
      <View style={styles.swatches} accessibilityRole="radiogroup">
        {AVATAR_COLORS.map((swatch) => (
          <Pressable
            key={swatch}
            testID={`profile-color-${swatch}`}
            accessibilityRole="radio"
            accessibilityLabel={format(t.colorLabel, { color: swatch })}
            aria-checked={swatch === color}
            onPress={() => setColor(swatch)}
            style={[
              styles.swatch,
              { backgroundColor: swatch, borderColor: swatch === color ? colors.text : 'transparent' },
            ]}
          />
        ))}
      </View>
      {error ? (
        <Text testID="profile-edit-error" accessibilityRole="alert" style={[styles.muted, { color: colors.error }]}>
          {error}
        </Text>
      ) : null}
      <View style={styles.editorButtons}>
        <Action testID="profile-edit-cancel" label={t.cancel} color={colors.textMuted} onPress={onCancel} />
        <Action testID="profile-save" label={t.save} color={colors.accent} disabled={busy} onPress={() => void save()} />
      </View>
    </View>
  );
}

function Action({
  testID,
  label,
  color,
  disabled,
  onPress,
}: {
  testID: string;
  label: string;
  color: string;
  disabled?: boolean;
  onPress: () => void;
}) {
  return (
    <Pressable
      testID={testID}
      accessibilityRole="button"
      accessibilityLabel={label}
      accessibilityState={{ disabled: !!disabled }}
      disabled={disabled}
      onPress={onPress}
      style={[styles.action, disabled && styles.disabled]}
    >
      <Text style={[styles.actionText, { color }]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  head: { flexDirection: 'row', alignItems: 'center', gap: spacing.md, paddingBottom: spacing.sm },
  names: { flex: 1 },
  displayName: { fontSize: 18, fontWeight: '700' },
  username: { fontSize: 14 },
  row: { flexDirection: 'row', alignItems: 'center' },
  muted: { fontSize: 14, paddingVertical: spacing.xs },
  bio: { fontSize: 15, paddingVertical: spacing.xs },
  notice: { fontSize: 14, padding: spacing.sm, borderRadius: radius.sm, overflow: 'hidden' },
  action: { paddingVertical: spacing.md },
  actionText: { fontSize: 16, fontWeight: '600' },
  disabled: { opacity: 0.5 },
  editor: { gap: spacing.xs },
  label: { fontSize: 13, fontWeight: '600', marginTop: spacing.xs },
  input: {
    borderWidth: 1,
    borderRadius: radius.md,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    fontSize: 15,
  },
  bioInput: { minHeight: 64, textAlignVertical: 'top' },
  swatches: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm, paddingVertical: spacing.xs },
  swatch: { width: 32, height: 32, borderRadius: 16, borderWidth: 3 },
  editorButtons: { flexDirection: 'row', justifyContent: 'space-between' },
});
