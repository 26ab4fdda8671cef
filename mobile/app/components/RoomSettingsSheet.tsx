import { useEffect, useState } from 'react';
import { ActivityIndicator, Platform, Pressable, ScrollView, Share, StyleSheet, Text, TextInput, View } from 'react-native';

import { format, strings } from '../i18n';
import {
  AUTOMOD_ACTIONS,
  AUTOMOD_RULES,
  POST_POLICIES,
  inviteLink,
  type AutomodAction,
  type AutomodRule,
  type PostPolicy,
  type RoomSettingsPatch,
  type RoomSettings,
  type RoomTools,
} from '../services/moderation/api';
import { moderationErrorText, slowLabel } from '../services/moderation/words';
import { radius, spacing, type ThemeColors } from '../theme';
import { Sheet } from './Sheet';

/** The slow-mode choices, in seconds (0: off); the room's own value is added when it is another. */
export const SLOW_MODES = [0, 10, 30, 60, 300, 900, 3600];

/** The room's banned words as one per line, and back (blank lines and repeats dropped). */
export function wordsFromText(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of text.split(/[\n,]/)) {
    const word = line.trim();
    if (word && !seen.has(word.toLowerCase())) {
      seen.add(word.toLowerCase());
      out.push(word);
    }
  }
  return out;
}

interface Form {
  topic: string;
  post: PostPolicy;
  slowMode: number;
  inviteOnly: boolean;
  rules: Partial<Record<AutomodRule, AutomodAction>>;
  words: string;
}

function formOf(view: RoomSettings): Form {
  return {
    topic: view.topic,
    post: view.post,
    slowMode: view.slowMode,
    inviteOnly: view.inviteOnly,
    rules: { ...(view.automod?.rules ?? {}) },
    words: (view.automod?.words ?? []).join('\n'),
  };
}

/** What changed between the settings read and the form: the PATCH (empty: nothing to send). */
export function settingsPatch(view: RoomSettings, form: Form): RoomSettingsPatch {
  const patch: RoomSettingsPatch = {};
  if (form.topic.trim() !== view.topic) patch.topic = form.topic.trim();
  if (form.post !== view.post) patch.post = form.post;
  if (form.slowMode !== view.slowMode) patch.slowMode = form.slowMode;
  if (form.inviteOnly !== view.inviteOnly) patch.inviteOnly = form.inviteOnly;
  const rules: Partial<Record<AutomodRule, AutomodAction>> = {};
  for (const rule of AUTOMOD_RULES) {
    const next = form.rules[rule];
    if (next && next !== view.automod?.rules[rule]) rules[rule] = next;
  }
  const words = wordsFromText(form.words);
  const wordsChanged = words.join('\n') !== (view.automod?.words ?? []).join('\n');
  if (Object.keys(rules).length || wordsChanged) {
    patch.automod = {};
    if (Object.keys(rules).length) patch.automod.rules = rules;
    if (wordsChanged) patch.automod.words = words;
  }
  return patch;
}

interface RoomSettingsSheetProps {
  room: string;
  /** How the header names the room. */
  title: string;
  /** The server's address: the invite link is built on it. */
  serverUrl: string;
  tools: Pick<RoomTools, 'settings' | 'updateSettings' | 'renewInvite'>;
  colors: ThemeColors;
  onClose: () => void;
  /** Saved: the settings as the server answered. */
  onSaved?: (view: RoomSettings) => void;
}

type Loaded = { status: 'loading' } | { status: 'failed'; error: string } | { status: 'loaded'; view: RoomSettings };

/**
 * Staff only: the room's settings. The topic, who may write, slow mode, invite-only with the
 * invite link (share, copy, renew: the old link stops working), the rules of automatic
 * moderation (each off, refuse, hold for review, or mute) and the room's own banned words.
 * Save sends what changed; refusals are shown in the server's words.
 */
export function RoomSettingsSheet({ room, title, serverUrl, tools, colors, onClose, onSaved }: RoomSettingsSheetProps) {
  const t = strings().roomSettings;
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [form, setForm] = useState<Form | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    tools.settings(room).then(
      (view) => {
        if (cancelled) return;
        setLoaded({ status: 'loaded', view });
        setForm(formOf(view));
      },
      (failure: unknown) => {
        // An ownerless room (created by a guest) has no settings to change.
        const ownerless = (failure as { code?: unknown } | null)?.code === 'no_owner';
        if (!cancelled) setLoaded({ status: 'failed', error: ownerless ? strings().roomSettings.noOwner : moderationErrorText(failure) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [tools, room, version]);

  const change = (patch: Partial<Form>) => {
    setForm((now) => (now ? { ...now, ...patch } : now));
    setNotice(null);
  };

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (failure) {
      setError(moderationErrorText(failure));
    } finally {
      setBusy(false);
    }
  };

  const save = () =>
    run(async () => {
      if (loaded.status !== 'loaded' || !form) return;
      const patch = settingsPatch(loaded.view, form);
      if (Object.keys(patch).length === 0) {
        setNotice(t.saved);
        return;
      }
      const view = await tools.updateSettings(room, patch);
      setLoaded({ status: 'loaded', view });
      setForm(formOf(view));
      setNotice(t.saved);
      onSaved?.(view);
    });

  const renew = () =>
    run(async () => {
      await tools.renewInvite(room);
      setVersion((v) => v + 1);
      setNotice(t.renewed);
    });

  const view = loaded.status === 'loaded' ? loaded.view : null;
  const link = view?.inviteOnly && view.inviteCode ? inviteLink(serverUrl, room, view.inviteCode) : null;
  const clipboard = Platform.OS === 'web' ? (globalThis as { navigator?: { clipboard?: { writeText?: (text: string) => Promise<void> } } }).navigator?.clipboard : undefined;
  const slowChoices = view && !SLOW_MODES.includes(view.slowMode) ? [...SLOW_MODES, view.slowMode].sort((a, b) => a - b) : SLOW_MODES;
  const postWords: Record<PostPolicy, string> = { everyone: t.postEveryone, registered: t.postRegistered, members: t.postMembers };

  return (
    <Sheet testID="room-settings" label={format(t.title, { room: title })} colors={colors} onClose={onClose}>
      <Text accessibilityRole="header" style={[styles.heading, { color: colors.text }]}>
        {format(t.title, { room: title })}
      </Text>
      {loaded.status === 'loading' ? (
        <View style={styles.row}>
          <ActivityIndicator size="small" color={colors.accent} />
          <Text style={{ color: colors.textMuted }}> {t.loading}</Text>
        </View>
      ) : null}
      {loaded.status === 'failed' ? (
        <Text testID="settings-error" accessibilityRole="alert" style={{ color: colors.error }}>
          {loaded.error}
        </Text>
      ) : null}
      {view && form ? (
        <ScrollView style={styles.scroll} keyboardShouldPersistTaps="handled">
          <Text style={[styles.section, { color: colors.textMuted }]}>{t.topic}</Text>
          <TextInput
            testID="settings-topic"
            value={form.topic}
            onChangeText={(topic) => change({ topic })}
            placeholder={t.topicPlaceholder}
            placeholderTextColor={colors.textMuted}
            accessibilityLabel={t.topic}
            maxLength={200}
            style={[styles.input, { color: colors.text, borderColor: colors.border, backgroundColor: colors.background }]}
          />
          <Text style={[styles.section, { color: colors.textMuted }]}>{t.post}</Text>
          <View style={styles.chips} accessibilityRole="radiogroup" accessibilityLabel={t.post}>
            {POST_POLICIES.map((post) => (
              <Chip key={post} testID={`settings-post-${post}`} label={postWords[post]} selected={form.post === post} colors={colors} onPress={() => change({ post })} />
            ))}
          </View>
          <Text style={[styles.section, { color: colors.textMuted }]}>{t.slowMode}</Text>
          <View style={styles.chips} accessibilityRole="radiogroup" accessibilityLabel={t.slowMode}>
            {slowChoices.map((seconds) => (
              <Chip
                key={seconds}
                testID={`settings-slow-${seconds}`}
                label={slowLabel(seconds)}
                selected={form.slowMode === seconds}
                colors={colors}
                onPress={() => change({ slowMode: seconds })}
              />
            ))}
          </View>
          <Pressable
            testID="settings-invite-only"
            accessibilityRole="switch"
            accessibilityLabel={t.inviteOnly}
            accessibilityState={{ checked: form.inviteOnly }}
            aria-checked={form.inviteOnly}
            onPress={() => change({ inviteOnly: !form.inviteOnly })}
            style={[styles.row, styles.toggle]}
          >
            <Text style={[styles.flex, { color: colors.text }]}>{t.inviteOnly}</Text>
            <Text style={[styles.toggleMark, { color: form.inviteOnly ? colors.accent : colors.textMuted }]}>{form.inviteOnly ? '●' : '○'}</Text>
          </Pressable>
          {link ? (
            <View style={styles.invite}>
              <Text style={[styles.small, { color: colors.textMuted }]}>{t.inviteLink}</Text>
              <Text testID="settings-invite-link" selectable style={{ color: colors.text }}>
                {link}
              </Text>
              <View style={styles.row}>
                <Action
                  testID="settings-invite-share"
                  label={t.share}
                  color={colors.accent}
                  disabled={busy}
                  onPress={() => void Share.share({ message: format(t.shareMessage, { room, link }) }).catch(() => undefined)}
                />
                {clipboard?.writeText ? (
                  <Action
                    testID="settings-invite-copy"
                    label={t.copy}
                    color={colors.accent}
                    disabled={busy}
                    onPress={() => void clipboard.writeText?.(link).then(() => setNotice(t.copied), () => undefined)}
                  />
                ) : null}
                <Action testID="settings-invite-renew" label={t.renew} color={colors.error} disabled={busy} onPress={() => void renew()} />
              </View>
            </View>
          ) : null}
          <Text style={[styles.section, { color: colors.textMuted }]}>{t.automod}</Text>
          {AUTOMOD_RULES.map((rule) => (
            <View key={rule} testID={`settings-rule-${rule}`} style={styles.rule}>
              <Text style={{ color: colors.text }}>{t.rules[rule]}</Text>
              <View style={styles.chips} accessibilityRole="radiogroup" accessibilityLabel={t.rules[rule]}>
                {AUTOMOD_ACTIONS.map((action) => (
                  <Chip
                    key={action}
                    testID={`settings-rule-${rule}-${action}`}
                    label={t.automodActions[action]}
                    selected={form.rules[rule] === action}
                    colors={colors}
                    onPress={() => change({ rules: { ...form.rules, [rule]: action } })}
                  />
                ))}
              </View>
            </View>
          ))}
          {view.automod?.words !== undefined ? (
            <>
              <Text style={[styles.section, { color: colors.textMuted }]}>{t.words}</Text>
              <TextInput
                testID="settings-words"
                value={form.words}
                onChangeText={(words) => change({ words })}
                placeholder={t.wordsPlaceholder}
                placeholderTextColor={colors.textMuted}
                accessibilityLabel={t.words}
                multiline
                autoCapitalize="none"
                style={[styles.input, styles.words, { color: colors.text, borderColor: colors.border, backgroundColor: colors.background }]}
              />
            </>
          ) : null}
        </ScrollView>
      ) : null}
      {error ? (
        <Text testID="settings-error" accessibilityRole="alert" style={{ color: colors.error }}>
          {error}
        </Text>
      ) : null}
      {notice ? (
        <Text testID="settings-notice" accessibilityRole="alert" style={{ color: colors.text }}>
          {notice}
        </Text>
      ) : null}
      <View style={styles.row}>
        {view ? <Action testID="settings-save" label={t.save} color={colors.accent} disabled={busy} onPress={() => void save()} /> : null}
        <Action testID="settings-close" label={t.close} color={colors.textMuted} onPress={onClose} />
      </View>
    </Sheet>
  );
}

function Action({ testID, label, color, onPress, disabled = false }: { testID: string; label: string; color: string; onPress: () => void; disabled?: boolean }) {
  return (
    <Pressable
      testID={testID}
      accessibilityRole="button"
      accessibilityLabel={label}
      accessibilityState={{ disabled }}
      disabled={disabled}
      onPress={onPress}
      hitSlop={6}
      style={[styles.action, disabled && styles.disabled]}
    >
      <Text style={[styles.actionText, { color }]}>{label}</Text>
    </Pressable>
  );
}

function Chip({ testID, label, selected, colors, onPress }: { testID: string; label: string; selected: boolean; colors: ThemeColors; onPress: () => void }) {
  return (
    <Pressable
      testID={testID}
      accessibilityRole="radio"
      accessibilityLabel={label}
      accessibilityState={{ selected }}
      aria-checked={selected}
      onPress={onPress}
      style={[styles.chip, { borderColor: colors.accent }, selected && { backgroundColor: colors.accent }]}
    >
      <Text style={[styles.chipText, { color: selected ? colors.accentText : colors.text }]}>{label}</Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  heading: { fontSize: 17, fontWeight: '700' },
  section: { fontSize: 12, fontWeight: '700', textTransform: 'uppercase', marginTop: spacing.md, marginBottom: spacing.xs },
  scroll: { maxHeight: 460 },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.md, flexWrap: 'wrap' },
  flex: { flex: 1 },
  small: { fontSize: 12 },
  chips: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  chip: { borderWidth: 1, borderRadius: radius.round, paddingHorizontal: spacing.md, paddingVertical: spacing.xs },
  chipText: { fontSize: 14, fontWeight: '600' },
  input: { borderWidth: 1, borderRadius: radius.md, paddingHorizontal: spacing.md, paddingVertical: spacing.sm, fontSize: 15 },
  words: { minHeight: 80, textAlignVertical: 'top' },
  toggle: { marginTop: spacing.md, paddingVertical: spacing.xs },
  toggleMark: { fontSize: 20 },
  invite: { gap: spacing.xs, paddingVertical: spacing.xs },
  rule: { gap: spacing.xs, paddingVertical: spacing.xs },
  action: { paddingVertical: spacing.sm },
  actionText: { fontSize: 16, fontWeight: '600' },
  disabled: { opacity: 0.5 },
});
