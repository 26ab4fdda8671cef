import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  AppState,
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
import { excerpt, isPrivateRoom, uploadFile, type FileEntry, type RoomUser } from '@talkrooms/client';

import { AttachMenu, AttachmentTray } from '../components/Attachments';
import { ChatItemView, type MessageHandlers } from '../components/ChatItemView';
import { ComposerBar, type ComposerMode } from '../components/ComposerBar';
import { ConnectionBadge } from '../components/ConnectionBadge';
import { ImageViewer } from '../components/ImageViewer';
import type { FilesHandlers } from '../components/MessageFiles';
import { MessageMenu } from '../components/MessageMenu';
import { ModerationSheet } from '../components/ModerationSheet';
import { NotifySettingsSheet } from '../components/NotifySettingsSheet';
import { PinnedSheet } from '../components/PinnedSheet';
import { ProfileSheet } from '../components/ProfileSheet';
import { ReactionUsers } from '../components/ReactionChips';
import { RoomSettingsSheet } from '../components/RoomSettingsSheet';
import { RoomsPanel } from '../components/RoomsPanel';
import { TypingIndicator } from '../components/TypingIndicator';
import { UsersPanel } from '../components/UsersPanel';
import { Config } from '../config';
import { getLanguage, plural, strings } from '../i18n';
import type { ChatScreenProps } from '../navigation/types';
import { useAccount } from '../services/accounts/AccountContext';
import { accountErrorText } from '../services/accounts/errors';
import { pickPictures, type PickSource } from '../services/files/pickers';
import { useAttachments, type Uploader } from '../services/files/useAttachments';
import { isStaff, moderationClient, parseInviteLink, roleIn, type RoomRoles, type RoomSettings } from '../services/moderation/api';
import { moderationErrorText, roomRulesText, sanctionedText } from '../services/moderation/words';
import { notificationsClient } from '../services/notifications/push';
import { useNotifications } from '../services/notifications/useNotifications';
import type { ChatError, ChatItem, Conversation, MessageItem, SessionAuth } from '../services/socket/ChatService';
import { useChatService } from '../services/socket/ChatServiceContext';
import type { Reaction } from '../services/socket/protocol';
import { strip, validateMessage, validateRoom } from '../services/socket/validation';
import { radius, spacing, useAppTheme } from '../theme';

/** How close to the bottom (px) still counts as "reading the newest messages". */
const STICK_TO_BOTTOM_PX = 80;

/** Where in the window the original of a reply is scrolled to (0 top, 1 bottom). */
const ORIGINAL_POSITION = 0.3;

function indexOfMessage(items: ChatItem[], id: string): number {
  return items.findIndex((item) => item.kind === 'message' && item.message.id === id);
}

/** The server's own words in English (they are authoritative); a translation otherwise. */
export function errorText(error: ChatError, shownRoom?: string, conversations: Conversation[] = []): string {
  const text = errorWords(error);
  // An error of another room (a join refused) says which (a conversation by the person's name).
  return error.room && shownRoom && error.room !== shownRoom ? `${roomTitle(error.room, conversations)}: ${text}` : text;
}

function errorWords(error: ChatError): string {
  if (getLanguage() === 'en' && error.message) return error.message;
  const t = strings().errors;
  switch (error.code) {
    case 'name_taken':
    case 'rate_limited':
    case 'unavailable':
    case 'not_in_room':
    case 'forbidden':
    case 'not_found':
    case 'blocked':
    case 'account_required':
    case 'name_reserved':
    case 'banned':
    case 'muted':
    case 'posting_closed':
    case 'slow_mode':
    case 'invite_only':
      return t[error.code];
    case 'invalid_token':
      return strings().accountErrors.sessionEnded;
    default:
      return error.message;
  }
}

/** How the header and the room list name a room: a conversation by the other person's name. */
export function roomTitle(room: string, conversations: Conversation[]): string {
  if (!isPrivateRoom(room)) return `#${room}`;
  const conversation = conversations.find((c) => c.room === room);
  return conversation ? conversation.with.displayName || conversation.with.username : strings().conversations.title;
}

/**
 * The rooms: a header with the room shown, its presence and the connection (protocol 2: a
 * tap on the room opens the room list, with the unread count of every room), the messages,
 * who types, and the composer (with the reply or edit bar).
 */
export function ChatScreen({ navigation, route }: ChatScreenProps) {
  const { username, room, serverUrl, launchRoom } = route.params;
  const { colors } = useAppTheme();
  const insets = useSafeAreaInsets();
  const t = strings().chat;

  const { client: accounts, account } = useAccount(serverUrl);
  // Signed in or not is decided when the chat opens (the Login screen restored the account
  // first): the handshake is what signs the connection in, and a session that ends later
  // stops with "log in again" rather than turning into a guest under the account's name.
  const [auth] = useState<SessionAuth | undefined>(() =>
    accounts?.account ? { token: () => accounts.accessToken(), refresh: () => accounts.refreshNow() } : undefined,
  );
  const signedIn = auth !== undefined && account !== null;
  const { service, state } = useChatService({ serverUrl, username, room, auth });
  const [text, setText] = useState('');
  const [inputError, setInputError] = useState<string | null>(null);
  const [showUsers, setShowUsers] = useState(false);
  const [showRooms, setShowRooms] = useState(false);
  const [menuFor, setMenuFor] = useState<MessageItem | null>(null);
  const [reactors, setReactors] = useState<Reaction | null>(null);
  const [mode, setMode] = useState<ComposerMode | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [profileOf, setProfileOf] = useState<{ username: string; isAccount?: boolean } | null>(null);
  const [showAttach, setShowAttach] = useState(false);
  const [viewing, setViewing] = useState<FileEntry | null>(null);
  const [imageToken, setImageToken] = useState<string | null>(null);
  const [roles, setRoles] = useState<RoomRoles | null>(null);
  const [rolesVersion, setRolesVersion] = useState(0);
  const [showModeration, setShowModeration] = useState(false);
  const [showSettings, setShowSettings] = useState(false);
  const [showPins, setShowPins] = useState(false);
  const [showNotify, setShowNotify] = useState(false);
  const listRef = useRef<FlatList<ChatItem>>(null);
  const atBottom = useRef(true);
  const inFront = useRef(AppState.currentState !== 'background' && AppState.currentState !== 'inactive');
  /** The original of a reply to scroll to once it is in the list. */
  const scrollTarget = useRef<string | null>(null);
  const retriedIndex = useRef<number | null>(null);

  const items = useMemo(() => state?.items ?? [], [state?.items]);
  const connection = state?.connection ?? 'connecting';
  const userCount = state?.userCount ?? 0;
  const protocol2 = state?.protocol === 2;
  const shownRoom = state?.room ?? room;
  const totalUnread = state?.totalUnread ?? 0;
  const firstUnreadId = state?.firstUnreadId ?? null;
  const conversations = useMemo(() => state?.conversations ?? [], [state?.conversations]);
  const conversation = isPrivateRoom(shownRoom) ? conversations.find((c) => c.room === shownRoom) : undefined;
  const readOnly = conversation?.canWrite === false;
  const privateShown = isPrivateRoom(shownRoom);
  const sanction = state?.sanction ?? null;
  // A kick or ban took us out of the room shown (the last one): nothing can be written there.
  const inShownRoom = !protocol2 || (state?.rooms ?? []).some((r) => r.room === shownRoom);

  // Notifications (signed in): focus reports, the badge, taps, this device, the settings sheet.
  const joinedRooms = useMemo(() => (state?.rooms ?? []).map((r) => r.room), [state?.rooms]);
  useNotifications({ service, serverUrl, accounts: signedIn ? accounts : null, shownRoom, totalUnread, joined: joinedRooms, launchRoom });
  const notify = useMemo(() => (signedIn && accounts ? notificationsClient(serverUrl, accounts) : null), [signedIn, accounts, serverUrl]);

  // Moderation: signed in, the roles of the room shown (at join, and after a change made here).
  const moderation = useMemo(() => (signedIn && accounts ? moderationClient(serverUrl, accounts) : null), [signedIn, accounts, serverUrl]);
  const rolesApply = moderation !== null && protocol2 && !privateShown && inShownRoom;
  useEffect(() => {
    if (!moderation || !rolesApply) return undefined;
    let cancelled = false;
    moderation.roles(shownRoom).then(
      (answer) => {
        if (!cancelled) setRoles({ ...answer, room: answer.room || shownRoom });
      },
      () => {
        if (!cancelled) setRoles(null);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [moderation, rolesApply, shownRoom, rolesVersion]);
  const fetchedRoles = rolesApply && roles && roles.room === shownRoom ? roles : null;
  // The `roles` event (a change, made anywhere) wins over what was read; an administrator is
  // not listed in it, so a viewer known as one stays one.
  const liveRoles = protocol2 && !privateShown ? (state?.roles[shownRoom] ?? null) : null;
  const shownRoles = useMemo<RoomRoles | null>(() => {
    if (!liveRoles) return fetchedRoles;
    if (!moderation) return { ...liveRoles, you: null };
    return fetchedRoles?.you === 'admin' ? { ...liveRoles, you: 'admin' } : liveRoles;
  }, [liveRoles, fetchedRoles, moderation]);
  const myRole = shownRoles?.you ?? null;
  const staff = moderation !== null && isStaff(myRole);
  const reviewOpen = staff ? (state?.review[shownRoom] ?? 0) : 0;
  // Made staff while here: the server says the count when the queue next moves; read it now.
  const reviewKnown = state?.review[shownRoom] !== undefined;
  useEffect(() => {
    if (!staff || reviewKnown || !moderation || !service) return undefined;
    let cancelled = false;
    moderation.queue(shownRoom).then(
      (items) => {
        if (!cancelled) service.noteReviewCount(shownRoom, items.length);
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [staff, reviewKnown, moderation, service, shownRoom]);
  const roomSettings: RoomSettings | null = protocol2 ? (state?.settings[shownRoom] ?? null) : null;
  const topic = roomSettings?.topic ?? '';
  const rulesNote = roomRulesText(roomSettings, { staff, account: signedIn });
  const pins = useMemo(() => roomSettings?.pins ?? [], [roomSettings]);
  // Files are uploaded for the room shown as soon as they are picked: a signed-in person
  // with the access token, a guest with exactly the name and client_key of its join.
  const upload: Uploader = useCallback(
    async (file, onProgress, signal) => {
      const token = auth && accounts ? await accounts.accessToken() : null;
      const guest = !auth && service?.clientKey ? { username: service.getState().username, clientKey: service.clientKey } : undefined;
      return uploadFile({
        baseUrl: serverUrl,
        room: shownRoom,
        file: file.blob ?? { uri: file.uri, name: file.name, type: file.type },
        name: file.name,
        token,
        ...(guest ? { guest } : {}),
        signal,
        onProgress: (sent, total) => {
          const whole = total || file.size || 0;
          onProgress(whole > 0 ? sent / whole : 0);
        },
      });
    },
    [auth, accounts, service, serverUrl, shownRoom],
  );
  const {
    attachments,
    add: addAttachments,
    remove: removeAttachment,
    clear: clearAttachments,
    ready: readyFiles,
    uploading,
  } = useAttachments(upload);

  // A private conversation's files are read with the access token (fetched again now and
  // then: it is renewed before it expires).
  useEffect(() => {
    if (!privateShown || !auth || !accounts) return undefined;
    let cancelled = false;
    const load = () =>
      accounts.accessToken().then(
        (token) => {
          if (!cancelled) setImageToken(token);
        },
        () => undefined,
      );
    void load();
    const timer = setInterval(() => void load(), 60_000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [privateShown, auth, accounts]);
  const fileToken = privateShown ? imageToken : null;
  const filesHandlers: FilesHandlers = useMemo(
    () => ({
      access: { baseUrl: serverUrl, token: fileToken },
      onOpenImage: (entry) => setViewing(entry),
      onOpenFailed: () => setNotice(strings().files.openFailed),
    }),
    [serverUrl, fileToken, setViewing, setNotice],
  );

  // Signed in: the private conversations, each joined so its unread count shows; new ones
  // arrive as `conversation` events (the service merges them).
  useEffect(() => {
    if (!service || !auth || !accounts || !protocol2) return undefined;
    let cancelled = false;
    accounts.conversations().then(
      (list) => {
        if (!cancelled) service.setConversations(list);
      },
      (error: unknown) => {
        if (!cancelled) setNotice(accountErrorText(error));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [service, auth, accounts, protocol2]);

  // The room shown is read while its newest messages are on screen and the app in front.
  useEffect(() => {
    if (service && atBottom.current && inFront.current) service.markRead();
  }, [service, items]);

  // Back in front: the divider marks what came meanwhile, and what is on screen is read.
  useEffect(() => {
    if (!service) return undefined;
    const subscription = AppState.addEventListener('change', (next) => {
      const front = next === 'active';
      if (front && !inFront.current) {
        service.placeDivider();
        if (atBottom.current) service.markRead();
      }
      inFront.current = front;
    });
    return () => subscription.remove();
  }, [service]);

  // Another room shown (picked, or the shown one left): nothing of the last one's composer
  // or menus carries over (reset while rendering, React's pattern for state that follows a
  // value), and the list starts at its newest messages.
  const [roomOfState, setRoomOfState] = useState(shownRoom);
  if (roomOfState !== shownRoom) {
    setRoomOfState(shownRoom);
    if (mode?.kind === 'edit') setText(mode.draft);
    setMode(null);
    setMenuFor(null);
    setReactors(null);
    setHighlightId(null);
    setShowAttach(false);
    setViewing(null);
    setShowModeration(false);
    setShowSettings(false);
    setShowPins(false);
    setShowNotify(false);
  }
  useEffect(() => {
    scrollTarget.current = null;
    atBottom.current = true;
    // Uploads were made for the room that was shown: they cannot be shared elsewhere.
    clearAttachments();
  }, [shownRoom, clearAttachments]);

  // A reply's original now in the list: scroll to it.
  useEffect(() => {
    const id = scrollTarget.current;
    if (id === null) return;
    const index = indexOfMessage(items, id);
    if (index < 0) return;
    scrollTarget.current = null;
    retriedIndex.current = null;
    listRef.current?.scrollToIndex({ index, viewPosition: ORIGINAL_POSITION, animated: true });
  }, [items, highlightId]);

  useEffect(() => {
    if (highlightId === null) return undefined;
    const timer = setTimeout(() => setHighlightId(null), Config.highlightMs);
    return () => clearTimeout(timer);
  }, [highlightId]);

  const onChangeText = (value: string) => {
    setText(value);
    if (inputError) setInputError(null);
    // Editing is not typing a new message: the others are not told.
    if (mode?.kind !== 'edit') service?.setComposerText(value);
  };

  const cancelMode = () => {
    if (mode?.kind === 'edit') setText(mode.draft);
    setMode(null);
  };

  const send = () => {
    if (!service) return;
    if (mode?.kind === 'edit') {
      void saveEdit(mode);
      return;
    }
    if (uploading) {
      setInputError(strings().files.waitUploads);
      return;
    }
    const result = service.send(text, {
      ...(mode?.kind === 'reply' ? { replyTo: mode.id } : {}),
      ...(readyFiles.length ? { files: readyFiles } : {}),
    });
    if (!result.ok) {
      setInputError(readyFiles.length && strip(text) === '' ? result.error : strings().errors.message);
      return;
    }
    setText('');
    setMode(null);
    clearAttachments();
    atBottom.current = true;
  };

  const pick = async (source: PickSource) => {
    setShowAttach(false);
    const room = Config.filesPerMessage - attachments.length;
    if (room <= 0) return;
    try {
      const outcome = await pickPictures(source, room);
      if (outcome.kind === 'denied') setNotice(source === 'camera' ? strings().files.cameraDenied : strings().files.libraryDenied);
      if (outcome.kind === 'picked') addAttachments(outcome.files);
    } catch {
      setNotice(strings().files.pickFailed);
    }
  };

  const saveEdit = async (edit: Extract<ComposerMode, { kind: 'edit' }>) => {
    if (!service) return;
    const check = validateMessage(text);
    if (!check.ok) {
      setInputError(strings().errors.message);
      return;
    }
    // Unchanged: nothing to store (the server would mark it edited all the same).
    if (check.value !== edit.text && !(await service.edit(edit.id, check.value))) return;
    setText(edit.draft);
    setMode(null);
  };

  const leave = () => {
    service?.leave();
    if (navigation.canGoBack()) navigation.goBack();
    else navigation.replace('Login');
  };

  const onScroll = useCallback(
    (e: NativeSyntheticEvent<NativeScrollEvent>) => {
      const { contentOffset, contentSize, layoutMeasurement } = e.nativeEvent;
      const bottom = contentOffset.y + layoutMeasurement.height >= contentSize.height - STICK_TO_BOTTOM_PX;
      if (bottom && !atBottom.current && inFront.current) service?.markRead();
      atBottom.current = bottom;
    },
    [service],
  );

  // ---- Rooms (protocol 2) ----

  const switchRoom = (next: string) => {
    service?.switchRoom(next);
    setShowRooms(false);
  };

  const joinRoom = (raw: string): string | null => {
    if (!service) return null;
    // An invite link (`…/?room=<room>&invite=<code>`) joins its invite-only room.
    const link = parseInviteLink(raw);
    const check = validateRoom(link ? link.room : raw);
    if (!check.ok) return strings().errors.room;
    const result = service.joinRoom(check.value, link?.invite);
    if (!result.ok) return result.error;
    setShowRooms(false);
    return null;
  };

  /** "New message" (rooms list) or "Message" (a profile): open the conversation and show it. */
  const openConversation = async (name: string): Promise<string | null> => {
    if (!service || !accounts || !signedIn) return strings().conversations.accountRequired;
    try {
      const opened = await accounts.openConversation(name);
      const result = service.openConversation(opened);
      if (!result.ok) return result.error;
      setShowRooms(false);
      setProfileOf(null);
      return null;
    } catch (error) {
      return accountErrorText(error);
    }
  };

  const messageFromProfile = (name: string) => {
    void openConversation(name).then((failed) => {
      if (failed) {
        setProfileOf(null);
        setNotice(failed);
      }
    });
  };

  const showProfile = useCallback((user: string, isAccount?: boolean) => {
    setShowUsers(false);
    setProfileOf(isAccount === undefined ? { username: user } : { username: user, isAccount });
  }, [setShowUsers, setProfileOf]);

  const leaveRoom = (name: string) => {
    if (!service) return;
    if ((state?.rooms.length ?? 0) <= 1) {
      leave();
      return;
    }
    void service.leaveRoom(name);
  };

  // ---- What a person does to a message (protocol 2) ----

  const showOriginal = useCallback(
    async (id: string) => {
      if (!service) return;
      const index = indexOfMessage(service.getState().items, id);
      if (index >= 0) {
        retriedIndex.current = null;
        listRef.current?.scrollToIndex({ index, viewPosition: ORIGINAL_POSITION, animated: true });
        setHighlightId(id);
        return;
      }
      // Older history grows the list above: it must not jump to the end meanwhile.
      atBottom.current = false;
      if (!(await service.loadHistoryTo(id))) {
        setNotice(strings().message.originalGone);
        return;
      }
      // Scrolled to once the list shows it (the effect above).
      scrollTarget.current = id;
      setHighlightId(id);
    },
    [service, setNotice],
  );

  const handlers: MessageHandlers | undefined = useMemo(
    () =>
      service && protocol2
        ? {
            onOpenMenu: (item) => setMenuFor(item),
            onToggleReaction: (id, emoji) => void service.react(id, emoji),
            onShowReactors: (_id, reaction) => setReactors(reaction),
            onShowOriginal: (id) => void showOriginal(id),
            onShowProfile: (user) => showProfile(user),
          }
        : undefined,
    [service, protocol2, showOriginal, showProfile, setMenuFor, setReactors],
  );

  const menu = menuFor
    ? {
        react: (emoji: string) => {
          setMenuFor(null);
          void service?.react(menuFor.message.id, emoji);
        },
        reply: () => {
          setMenuFor(null);
          setMode({
            kind: 'reply',
            id: menuFor.message.id,
            username: menuFor.message.username,
            excerpt: excerpt(menuFor.message.message),
          });
        },
        edit: () => {
          setMenuFor(null);
          setMode({ kind: 'edit', id: menuFor.message.id, text: menuFor.message.message, draft: mode?.kind === 'edit' ? mode.draft : text });
          setText(menuFor.message.message);
          setInputError(null);
        },
        remove: () => {
          setMenuFor(null);
          if (mode?.id === menuFor.message.id) cancelMode();
          void service?.deleteMessage(menuFor.message.id);
        },
        // Staff: the server removes it for everyone (the tombstone comes as a room event).
        moderate: (reason: string) => {
          setMenuFor(null);
          if (!moderation) return;
          if (mode?.id === menuFor.message.id) cancelMode();
          moderation.removeMessage(shownRoom, menuFor.message.id, reason).catch((error: unknown) => setNotice(moderationErrorText(error)));
        },
        // Anyone: the menu shows the outcome (thanks, or the refusal).
        report: async (reason: string): Promise<string | null> => {
          if (!service) return strings().errors.unavailable;
          const result = await service.reportMessage(menuFor.message.id, reason);
          return result.ok ? null : errorText({ message: result.error, code: result.code as ChatError['code'] });
        },
        pin: () => {
          setMenuFor(null);
          void togglePin(menuFor.message.id);
        },
      }
    : null;

  /** Staff: pin or unpin a message; the answer is the room's settings with the change. */
  const togglePin = async (id: string) => {
    if (!moderation || !service) return;
    try {
      const next = pins.includes(id) ? await moderation.unpin(shownRoom, id) : await moderation.pin(shownRoom, id);
      service.applySettings(next);
    } catch (error) {
      setNotice(moderationErrorText(error));
    }
  };

  const showPinned = (id: string) => {
    setShowPins(false);
    void showOriginal(id);
  };

  const renderItem: ListRenderItem<ChatItem> = useCallback(
    ({ item }) => (
      <ChatItemView
        item={item}
        colors={colors}
        handlers={handlers}
        divider={firstUnreadId !== null && item.kind === 'message' && item.message.id === firstUnreadId}
        highlighted={highlightId !== null && item.kind === 'message' && item.message.id === highlightId}
        files={filesHandlers}
      />
    ),
    [colors, handlers, firstUnreadId, highlightId, filesHandlers],
  );

  // The original is not laid out yet (far above): get near it, then try once more.
  const onScrollToIndexFailed = useCallback(({ index, averageItemLength }: { index: number; averageItemLength: number }) => {
    listRef.current?.scrollToOffset({ offset: averageItemLength * index, animated: false });
    if (retriedIndex.current === index) return;
    retriedIndex.current = index;
    requestAnimationFrame(() => listRef.current?.scrollToIndex({ index, viewPosition: ORIGINAL_POSITION, animated: true }));
  }, []);

  const banner = notice ?? (state?.error ? errorText(state.error, shownRoom, conversations) : null);
  const dismissBanner = () => {
    setNotice(null);
    service?.dismissError();
  };

  // Blank as the server sees it (Python's strip set): nothing to send.
  const editing = mode?.kind === 'edit';
  const sharing = !editing && readyFiles.length > 0;
  const canWrite = !!service && connection !== 'left' && connection !== 'offline' && !readOnly && inShownRoom;
  const canSend = (strip(text).length > 0 || sharing) && !(uploading && !editing) && canWrite;
  const canAttach = canWrite && !editing && attachments.length < Config.filesPerMessage;
  const title = roomTitle(shownRoom, conversations);

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
          {protocol2 ? (
            <Pressable
              testID="chat-rooms-toggle"
              accessibilityRole="button"
              accessibilityLabel={
                totalUnread > 0
                  ? `${title}. ${plural(strings().rooms.toggleLabel, totalUnread)}`
                  : `${title}. ${strings().rooms.toggle}`
              }
              aria-expanded={showRooms}
              onPress={() => {
                setShowRooms((v) => !v);
                setShowUsers(false);
              }}
              hitSlop={8}
              style={styles.roomToggle}
            >
              <Text testID="chat-header-room" numberOfLines={1} style={[styles.room, { color: colors.headerText }]}>
                {title}
              </Text>
              <Text style={[styles.caret, { color: colors.headerMuted }]}>{showRooms ? '▴' : '▾'}</Text>
              {totalUnread > 0 ? (
                <Text testID="chat-unread-total" style={[styles.unread, { backgroundColor: colors.offline, color: colors.headerText }]}>
                  {totalUnread}
                </Text>
              ) : null}
            </Pressable>
          ) : (
            <Text testID="chat-header-room" numberOfLines={1} style={[styles.room, { color: colors.headerText }]}>
              #{shownRoom}
            </Text>
          )}
          {topic ? (
            <Text testID="chat-topic" numberOfLines={1} style={[styles.topic, { color: colors.headerMuted }]}>
              {topic}
            </Text>
          ) : null}
          <View style={styles.headerLine}>
            <ConnectionBadge state={connection} colors={colors} />
            {pins.length > 0 ? (
              <Pressable
                testID="chat-pins"
                accessibilityRole="button"
                accessibilityLabel={plural(strings().pins.open, pins.length)}
                onPress={() => setShowPins(true)}
                hitSlop={6}
              >
                <Text style={[styles.pins, { color: colors.accent }]}>📌 {pins.length}</Text>
              </Pressable>
            ) : null}
          </View>
        </View>
        {staff ? (
          <Pressable
            testID="chat-moderation"
            accessibilityRole="button"
            accessibilityLabel={strings().moderation.open}
            accessibilityHint={strings().moderation.openHint}
            accessibilityValue={reviewOpen > 0 ? { text: plural(strings().moderation.badgeCount, reviewOpen) } : undefined}
            onPress={() => setShowModeration(true)}
            hitSlop={8}
            style={styles.moderationButton}
          >
            <Text style={[styles.moderation, { color: colors.accent }]}>⚑</Text>
            {reviewOpen > 0 ? (
              <Text testID="chat-review-count" style={[styles.unread, styles.reviewBadge, { backgroundColor: colors.offline, color: colors.headerText }]}>
                {reviewOpen}
              </Text>
            ) : null}
          </Pressable>
        ) : null}
        {notify && protocol2 && inShownRoom ? (
          <Pressable
            testID="chat-notify"
            accessibilityRole="button"
            accessibilityLabel={strings().notifications.open}
            accessibilityHint={strings().notifications.openHint}
            onPress={() => setShowNotify(true)}
            hitSlop={8}
          >
            <Text style={[styles.moderation, { color: colors.accent }]}>🔔</Text>
          </Pressable>
        ) : null}
        <Pressable
          testID="chat-users-toggle"
          accessibilityRole="button"
          accessibilityState={{ expanded: showUsers }}
          onPress={() => {
            setShowUsers((v) => !v);
            setShowRooms(false);
          }}
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

      {showRooms && state ? (
        <RoomsPanel
          rooms={state.rooms}
          colors={colors}
          onSwitch={switchRoom}
          onLeave={leaveRoom}
          onJoin={joinRoom}
          conversations={conversations}
          signedIn={signedIn}
          onNewMessage={openConversation}
        />
      ) : null}
      {showUsers ? (
        <UsersPanel
          users={state?.users ?? []}
          me={state?.username ?? username}
          colors={colors}
          onShowProfile={(user: RoomUser) => showProfile(user.username, user.account === true ? true : undefined)}
          roles={shownRoles}
        />
      ) : null}

      {sanction ? (
        <View
          testID="chat-sanction"
          accessibilityRole="alert"
          style={[styles.sanction, { backgroundColor: colors.errorBackground }]}
        >
          <Text testID="chat-sanction-text" style={[styles.bannerText, styles.flex, { color: colors.error }]}>
            {sanctionedText(sanction, roomTitle(sanction.room, conversations))}
          </Text>
          {sanction.action === 'kick' && !(state?.rooms ?? []).some((r) => r.room === sanction.room) ? (
            <Pressable
              testID="chat-sanction-rejoin"
              accessibilityRole="button"
              accessibilityLabel={strings().moderation.rejoin}
              onPress={() => {
                const result = service?.rejoin(sanction.room);
                if (result && !result.ok) setNotice(result.error);
              }}
              hitSlop={6}
            >
              <Text style={[styles.sanctionAction, { color: colors.accent }]}>{strings().moderation.rejoin}</Text>
            </Pressable>
          ) : null}
          <Pressable
            testID="chat-sanction-dismiss"
            accessibilityRole="button"
            accessibilityLabel={strings().moderation.dismiss}
            onPress={() => service?.dismissSanction()}
            hitSlop={6}
          >
            <Text style={[styles.sanctionAction, { color: colors.textMuted }]}>×</Text>
          </Pressable>
        </View>
      ) : null}
      {banner ? (
        <Pressable
          testID="chat-error"
          accessibilityRole="alert"
          onPress={dismissBanner}
          style={[styles.banner, { backgroundColor: colors.errorBackground }]}
        >
          <Text style={[styles.bannerText, { color: colors.error }]}>{banner}</Text>
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
          extraData={renderItem}
          onScroll={onScroll}
          onScrollToIndexFailed={onScrollToIndexFailed}
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
        {mode ? <ComposerBar mode={mode} colors={colors} onCancel={cancelMode} /> : null}
        {rulesNote && !readOnly ? (
          <Text testID="chat-room-rules" style={[styles.readOnly, { color: colors.textMuted, backgroundColor: colors.surface }]}>
            {rulesNote}
          </Text>
        ) : null}
        {readOnly ? (
          <Text testID="chat-read-only" style={[styles.readOnly, { color: colors.textMuted, backgroundColor: colors.surface }]}>
            {strings().conversations.readOnly}
          </Text>
        ) : null}
        {attachments.length > 0 && !editing ? (
          <AttachmentTray attachments={attachments} colors={colors} onRemove={removeAttachment} />
        ) : null}
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
          {editing ? null : (
            <Pressable
              testID="chat-attach"
              accessibilityRole="button"
              accessibilityLabel={strings().files.attach}
              accessibilityHint={strings().files.attachHint}
              accessibilityState={{ disabled: !canAttach }}
              disabled={!canAttach}
              onPress={() => setShowAttach(true)}
              hitSlop={6}
              style={[styles.attach, { opacity: canAttach ? 1 : 0.4 }]}
            >
              <Text style={[styles.attachText, { color: colors.accent }]}>+</Text>
            </Pressable>
          )}
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
            accessibilityLabel={mode?.kind === 'edit' ? strings().composer.save : t.send}
            accessibilityState={{ disabled: !canSend }}
            disabled={!canSend}
            onPress={send}
            style={[styles.send, { backgroundColor: colors.accent, opacity: canSend ? 1 : 0.5 }]}
          >
            <Text style={[styles.sendText, { color: colors.accentText }]}>
              {mode?.kind === 'edit' ? strings().composer.save : t.send}
            </Text>
          </Pressable>
        </View>
      </KeyboardAvoidingView>

      {menuFor && menu ? (
        <MessageMenu
          item={menuFor}
          colors={colors}
          onReact={menu.react}
          onReply={menu.reply}
          onEdit={menu.edit}
          onDelete={menu.remove}
          onClose={() => setMenuFor(null)}
          {...(staff ? { onRemove: menu.moderate, onPin: menu.pin, pinned: pins.includes(menuFor.message.id) } : {})}
          {...(!privateShown && inShownRoom ? { onReport: menu.report } : {})}
        />
      ) : null}
      {showAttach ? <AttachMenu colors={colors} onPick={(source) => void pick(source)} onClose={() => setShowAttach(false)} /> : null}
      {viewing ? <ImageViewer entry={viewing} access={filesHandlers.access} onClose={() => setViewing(null)} /> : null}
      {showModeration && moderation && staff ? (
        <ModerationSheet
          room={shownRoom}
          title={title}
          client={moderation}
          tools={moderation}
          reviewOpen={reviewOpen}
          colors={colors}
          onClose={() => setShowModeration(false)}
          onOpenSettings={() => {
            setShowModeration(false);
            setShowSettings(true);
          }}
        />
      ) : null}
      {showSettings && moderation && staff ? (
        <RoomSettingsSheet
          room={shownRoom}
          title={title}
          serverUrl={serverUrl}
          tools={moderation}
          colors={colors}
          onClose={() => setShowSettings(false)}
          onSaved={(saved) => service?.applySettings(saved)}
        />
      ) : null}
      {showNotify && notify ? (
        <NotifySettingsSheet room={shownRoom} title={title} tools={notify} colors={colors} onClose={() => setShowNotify(false)} />
      ) : null}
      {showPins && pins.length > 0 ? (
        <PinnedSheet
          pins={pins}
          items={items}
          colors={colors}
          onShow={showPinned}
          onClose={() => setShowPins(false)}
          {...(staff ? { onUnpin: (id: string) => void togglePin(id) } : {})}
        />
      ) : null}
      {reactors ? <ReactionUsers reaction={reactors} colors={colors} onClose={() => setReactors(null)} /> : null}
      {profileOf ? (
        <ProfileSheet
          username={profileOf.username}
          isAccount={profileOf.isAccount}
          accounts={accounts}
          me={signedIn ? account : null}
          colors={colors}
          onMessage={messageFromProfile}
          onClose={() => setProfileOf(null)}
          {...(staff && moderation
            ? {
                staff: {
                  room: shownRoom,
                  role: myRole,
                  targetRole: roleIn(shownRoles, profileOf.username),
                  client: moderation,
                  onDone: (_done: string, rolesChanged: boolean) => {
                    if (rolesChanged) setRolesVersion((v) => v + 1);
                  },
                },
              }
            : {})}
        />
      ) : null}
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
  roomToggle: { flexDirection: 'row', alignItems: 'center', gap: spacing.xs, maxWidth: '100%' },
  room: { fontSize: 18, fontWeight: '700', flexShrink: 1 },
  caret: { fontSize: 14 },
  unread: {
    minWidth: 20,
    textAlign: 'center',
    fontSize: 12,
    fontWeight: '700',
    borderRadius: radius.round,
    paddingHorizontal: 6,
    paddingVertical: 1,
    overflow: 'hidden',
  },
  count: {
    borderWidth: 1,
    borderRadius: radius.round,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.xs,
  },
  countText: { fontSize: 13, fontWeight: '600' },
  banner: { paddingHorizontal: spacing.lg, paddingVertical: spacing.sm },
  sanction: { flexDirection: 'row', alignItems: 'center', gap: spacing.md, paddingHorizontal: spacing.lg, paddingVertical: spacing.sm },
  sanctionAction: { fontSize: 15, fontWeight: '700' },
  moderation: { fontSize: 20, fontWeight: '700' },
  moderationButton: { flexDirection: 'row', alignItems: 'flex-start' },
  reviewBadge: { marginLeft: -4, marginTop: -6, minWidth: 18, fontSize: 11 },
  topic: { fontSize: 12, maxWidth: '100%' },
  headerLine: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm },
  pins: { fontSize: 12, fontWeight: '700' },
  bannerText: { fontSize: 14 },
  listContent: { paddingVertical: spacing.sm, flexGrow: 1 },
  empty: { textAlign: 'center', marginTop: spacing.xxl, fontSize: 14 },
  inputError: { paddingHorizontal: spacing.lg, fontSize: 12 },
  readOnly: { paddingHorizontal: spacing.lg, paddingVertical: spacing.sm, fontSize: 13 },
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
  attach: { paddingHorizontal: spacing.xs, paddingVertical: spacing.xs },
  attachText: { fontSize: 30, fontWeight: '500', lineHeight: 32 },
  send: { borderRadius: radius.round, paddingHorizontal: spacing.lg, paddingVertical: spacing.md },
  sendText: { fontSize: 15, fontWeight: '700' },
});
