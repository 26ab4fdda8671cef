import { memo } from 'react';
import { Pressable, StyleSheet, Text, View, type AccessibilityActionEvent } from 'react-native';

import { format, plural, strings } from '../i18n';
import { isRemoved, noticeText } from '../services/moderation/words';
import type { ChatItem, MessageItem, Reaction, ReplyPreview } from '../services/socket/ChatService';
import { radius, spacing, type ThemeColors } from '../theme';
import { Avatar } from './Avatar';
import { formatTime } from './formatTime';
import { MessageFiles, type FilesHandlers } from './MessageFiles';
import { MessageText } from './MessageText';
import { ReactionChips } from './ReactionChips';

/** What a person does to a message (protocol 2); absent in protocol 1. */
export interface MessageHandlers {
  /** Long press: the message's menu (react, reply, edit, delete). */
  onOpenMenu: (item: MessageItem) => void;
  onToggleReaction: (id: string, emoji: string) => void;
  onShowReactors: (id: string, reaction: Reaction) => void;
  /** A tap on a reply's quote: show the original. */
  onShowOriginal: (id: string) => void;
  /** A tap on the author (avatar or name): their profile. */
  onShowProfile?: (username: string) => void;
}

interface ChatItemViewProps {
  item: ChatItem;
  colors: ThemeColors;
  handlers?: MessageHandlers;
  /** The "new messages" divider goes above this item. */
  divider?: boolean;
  /** The original of a reply the person just asked to see. */
  highlighted?: boolean;
  /** How shared files are read and opened. */
  files?: FilesHandlers;
}

/**
 * One row of the message list: a message (own or other), a pending one, or a notification.
 * Protocol 2 adds a reply's quote, highlighted mentions, "edited", the tombstone of a deleted
 * message, reaction chips, and a long press for the message's menu. All user text is Text.
 */
export const ChatItemView = memo(function ChatItemView({ item, colors, handlers, divider, highlighted, files: filesHandlers }: ChatItemViewProps) {
  const t = strings().chat;
  const tm = strings().message;

  if (item.kind === 'notification') {
    const text = format(item.event === 'joined' ? t.joined : t.left, { name: item.username });
    return (
      <View testID={`notification-${item.key}`} style={styles.notification}>
        <Text style={[styles.notificationText, { color: colors.textMuted }]}>
          {item.event === 'joined' ? '→ ' : '← '}
          {text} · {formatTime(item.timestamp)}
        </Text>
      </View>
    );
  }

  if (item.kind === 'moderation') {
    const text = noticeText(item.notice, item.self);
    return (
      <View testID={`moderation-${item.key}`} accessibilityRole="text" accessibilityLabel={text} style={styles.notification}>
        <Text style={[styles.notificationText, { color: colors.textMuted }]}>
          ⚑ {text} · {formatTime(item.timestamp)}
        </Text>
      </View>
    );
  }

  const own = item.kind === 'pending' || item.own;
  const stored = item.kind === 'message' ? item : null;
  const message = stored?.message;
  const username = item.kind === 'pending' ? item.username : item.message.username;
  const body = item.kind === 'pending' ? item.message : item.message.message;
  const timestamp = item.kind === 'pending' ? item.timestamp : item.message.timestamp;
  const testID = item.kind === 'pending' ? `message-pending-${item.clientId}` : `message-${item.message.id}`;
  const held = item.kind === 'pending' && item.held === true;
  const failed = item.kind === 'pending' && !held ? item.error : undefined;
  const deleted = message?.deleted === true;
  const removed = deleted && isRemoved(message);
  const tombstone = removed ? strings().moderation.removed : tm.deleted;
  const edited = !deleted && !!message?.edited_at;
  const mentionsMe = !deleted && stored?.mentionsMe === true;
  const replyTo = item.kind === 'pending' ? item.replyTo : message?.reply_to;
  const quote = item.kind === 'pending' ? item.quote : stored?.quote;
  const reactions = deleted ? [] : (message?.reactions ?? []);
  const files = deleted ? [] : ((item.kind === 'pending' ? item.files : message?.files) ?? []);
  // A message may share files without a word.
  const silent = !deleted && files.length > 0 && body.trim() === '';
  let status = '✓';
  if (item.kind === 'pending') status = held ? '⏸' : failed ? '!' : '🕓';
  const textColor = own ? colors.ownText : colors.otherText;

  // One accessible element per bubble, read as a sentence; its actions stand in for the
  // long press and the quote's tap.
  const label = [
    silent ? username : `${username}: ${deleted ? tombstone : body}`,
    files.length > 0 ? plural(strings().files.attachments, files.length) : null,
    formatTime(timestamp),
    held ? strings().review.waitingLabel : null,
    edited ? tm.edited : null,
    mentionsMe ? tm.mentionsYou : null,
  ]
    .filter(Boolean)
    .join(', ');
  const menu = stored && handlers && !deleted ? () => handlers.onOpenMenu(stored) : undefined;
  const showOriginal = replyTo && handlers ? () => handlers.onShowOriginal(replyTo) : undefined;
  const showProfile = stored && !own && handlers?.onShowProfile ? () => handlers.onShowProfile?.(username) : undefined;
  const actions = [
    ...(menu ? [{ name: 'longpress', label: tm.actions }] : []),
    ...(showOriginal ? [{ name: 'showOriginal', label: tm.showOriginal }] : []),
    ...(showProfile ? [{ name: 'showProfile', label: format(tm.showProfile, { name: username }) }] : []),
  ];
  const onAction = (event: AccessibilityActionEvent) => {
    if (event.nativeEvent.actionName === 'longpress') menu?.();
    if (event.nativeEvent.actionName === 'showOriginal') showOriginal?.();
    if (event.nativeEvent.actionName === 'showProfile') showProfile?.();
  };

  const bubbleStyle = [
    styles.bubble,
    own
      ? { backgroundColor: colors.ownBubble, borderBottomRightRadius: radius.sm }
      : { backgroundColor: colors.otherBubble, borderBottomLeftRadius: radius.sm },
    item.kind === 'pending' && styles.pendingBubble,
    mentionsMe && { borderLeftWidth: 4, borderLeftColor: colors.mention },
  ];
  const content = (
    <>
      {!own && (
        <Text
          testID={stored ? `message-author-name-${stored.message.id}` : undefined}
          onPress={showProfile}
          style={[styles.username, { color: colors.accent }]}
        >
          {username}
        </Text>
      )}
      {replyTo ? (
        <Quote
          replyId={stored ? stored.message.id : `pending-${item.kind === 'pending' ? item.clientId : ''}`}
          quote={quote ?? null}
          own={own}
          colors={colors}
          onPress={showOriginal}
        />
      ) : null}
      {silent ? null : deleted ? (
        <Text
          testID={removed ? `message-removed-${message?.id}` : `message-deleted-${message?.id}`}
          style={[styles.body, styles.deleted, { color: textColor }]}
        >
          {tombstone}
        </Text>
      ) : (
        <MessageText
          text={body}
          mentions={message?.mentions}
          style={[styles.body, { color: textColor }]}
          mentionStyle={[styles.mention, { color: own ? colors.ownText : colors.mention }]}
        />
      )}
      <View style={styles.meta}>
        {edited ? (
          <Text testID={`message-edited-${message?.id}`} style={[styles.time, { color: own ? colors.ownText : colors.textMuted }]}>
            {tm.edited} ·{' '}
          </Text>
        ) : null}
        <Text style={[styles.time, { color: own ? colors.ownText : colors.textMuted }]}>
          {formatTime(timestamp)}
        </Text>
        {own && (
          <Text
            accessibilityLabel={held ? strings().review.waiting : item.kind === 'pending' ? t.pending : undefined}
            style={[styles.time, { color: colors.ownText }]}
          >
            {' '}
            {status}
          </Text>
        )}
      </View>
      {held && item.kind === 'pending' ? (
        <Text testID={`message-held-${item.clientId}`} style={[styles.failed, { color: own ? colors.ownText : colors.textMuted }]}>
          {strings().review.waiting}
        </Text>
      ) : null}
      {failed ? (
        <Text style={[styles.failed, { color: colors.error }]}>
          {format(t.failed, { error: failed })}
        </Text>
      ) : null}
    </>
  );

  return (
    <View>
      {divider ? (
        <View testID="chat-new-messages" accessibilityRole="text" style={styles.divider}>
          <View style={[styles.dividerLine, { backgroundColor: colors.offline }]} />
          <Text style={[styles.dividerText, { color: colors.offline }]}>{tm.newMessages}</Text>
          <View style={[styles.dividerLine, { backgroundColor: colors.offline }]} />
        </View>
      ) : null}
      <View
        testID={testID}
        style={[styles.row, own ? styles.rowOwn : styles.rowOther, highlighted && { backgroundColor: colors.highlight }]}
      >
        {!own && showProfile && stored ? (
          <Pressable
            testID={`message-author-${stored.message.id}`}
            accessibilityRole="button"
            accessibilityLabel={format(tm.showProfile, { name: username })}
            onPress={showProfile}
            hitSlop={4}
          >
            <Avatar username={username} size={32} />
          </Pressable>
        ) : null}
        {!own && !(showProfile && stored) ? <Avatar username={username} size={32} /> : null}
        <View style={[styles.column, own ? styles.columnOwn : styles.columnOther]}>
          {handlers ? (
            <Pressable
              testID={stored ? `message-bubble-${stored.message.id}` : undefined}
              accessible
              accessibilityLabel={label}
              accessibilityHint={menu ? tm.actionsHint : undefined}
              accessibilityActions={actions.length ? actions : undefined}
              onAccessibilityAction={actions.length ? onAction : undefined}
              onLongPress={menu}
              style={bubbleStyle}
            >
              {content}
            </Pressable>
          ) : (
            <View accessible accessibilityLabel={label} style={bubbleStyle}>
              {content}
            </View>
          )}
          {files.length > 0 && filesHandlers ? (
            <MessageFiles files={files} own={own} pending={item.kind === 'pending'} colors={colors} handlers={filesHandlers} />
          ) : null}
          {stored && reactions.length > 0 && handlers ? (
            <ReactionChips
              messageId={stored.message.id}
              reactions={reactions}
              own={own}
              colors={colors}
              onToggle={(emoji) => handlers.onToggleReaction(stored.message.id, emoji)}
              onShowUsers={(reaction) => handlers.onShowReactors(stored.message.id, reaction)}
            />
          ) : null}
        </View>
      </View>
    </View>
  );
});

interface QuoteProps {
  /** The reply's id (or its pending key): names the quote's testID. */
  replyId: string;
  quote: ReplyPreview | null;
  own: boolean;
  colors: ThemeColors;
  onPress?: () => void;
}

/** The short quote of the message a reply answers; a tap shows the original. */
function Quote({ replyId, quote, own, colors, onPress }: QuoteProps) {
  const tm = strings().message;
  const color = own ? colors.ownText : colors.otherText;
  let text = '…';
  if (quote?.deleted) text = tm.quoteDeleted;
  else if (quote) text = quote.excerpt;
  return (
    <Pressable
      testID={`reply-quote-${replyId}`}
      accessibilityRole="button"
      accessibilityLabel={tm.showOriginal}
      onPress={onPress}
      disabled={!onPress}
      style={[styles.quote, { borderLeftColor: own ? colors.ownText : colors.accent }]}
    >
      {quote?.username ? (
        <Text numberOfLines={1} style={[styles.quoteName, { color }]}>
          {quote.username}
        </Text>
      ) : null}
      <Text numberOfLines={2} style={[styles.quoteText, { color }, quote?.deleted && styles.deleted]}>
        {text}
      </Text>
    </Pressable>
  );
}

const styles = StyleSheet.create({
  row: {
    flexDirection: 'row',
    alignItems: 'flex-end',
    marginVertical: spacing.xs,
    paddingHorizontal: spacing.md,
    gap: spacing.sm,
  },
  rowOwn: { justifyContent: 'flex-end' },
  rowOther: { justifyContent: 'flex-start' },
  column: { maxWidth: '78%' },
  columnOwn: { alignItems: 'flex-end' },
  columnOther: { alignItems: 'flex-start' },
  bubble: {
    borderRadius: radius.lg,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
  },
  pendingBubble: { opacity: 0.6 },
  username: { fontSize: 12, fontWeight: '700', marginBottom: 2 },
  body: { fontSize: 16, lineHeight: 21 },
  deleted: { fontStyle: 'italic', opacity: 0.75 },
  mention: { fontWeight: '700', textDecorationLine: 'underline' },
  meta: { flexDirection: 'row', justifyContent: 'flex-end', marginTop: 2 },
  time: { fontSize: 11, opacity: 0.8 },
  failed: { fontSize: 12, marginTop: spacing.xs },
  quote: { borderLeftWidth: 3, paddingLeft: spacing.sm, marginBottom: spacing.xs, opacity: 0.85 },
  quoteName: { fontSize: 12, fontWeight: '700' },
  quoteText: { fontSize: 13 },
  notification: { alignItems: 'center', marginVertical: spacing.sm, paddingHorizontal: spacing.lg },
  notificationText: { fontSize: 13, fontStyle: 'italic', textAlign: 'center' },
  divider: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, marginVertical: spacing.sm, paddingHorizontal: spacing.md },
  dividerLine: { flex: 1, height: StyleSheet.hairlineWidth },
  dividerText: { fontSize: 12, fontWeight: '700' },
});
