/**
 * The Chat screen's part in notifications: focus reports (the room shown while the app is
 * in front), the badge following the unread total, a tap on a notification showing its
 * room, and this device registered for the signed-in account.
 */
import type { AccountClient } from '@talkrooms/client';
import { useEffect, useRef, useState } from 'react';
import { AppState } from 'react-native';

import type { ChatService } from '../socket/ChatService';
import { onNotificationTap, registerPushDevice, setBadge, setShownRoom } from './push';

interface UseNotificationsOptions {
  service: ChatService | null;
  serverUrl: string;
  /** Signed in (the chat's connection carries the account): null for a guest. */
  accounts: AccountClient | null;
  shownRoom: string;
  totalUnread: number;
  /** The rooms joined on this connection: a tap on another room's notification joins it. */
  joined: string[];
  /** The room of the tap that launched the app (the route's): shown as a tap once the chat runs. */
  launchRoom?: string;
}

export function useNotifications({ service, serverUrl, accounts, shownRoom, totalUnread, joined, launchRoom }: UseNotificationsOptions): void {
  const [active, setActive] = useState(() => AppState.currentState !== 'background' && AppState.currentState !== 'inactive');
  useEffect(() => {
    const subscription = AppState.addEventListener('change', (next) => setActive(next === 'active'));
    // Some test set-ups' AppState hands back no subscription.
    return () => subscription?.remove();
  }, []);

  // Looking at the room: `focus true` (the core repeats it every minute); away: false.
  const focused = active ? shownRoom : null;
  useEffect(() => {
    setShownRoom(focused);
    if (!service) return undefined;
    service.setFocus(focused);
    return () => {
      service.setFocus(null);
      setShownRoom(null);
    };
  }, [service, focused]);

  useEffect(() => {
    if (accounts) setBadge(totalUnread);
  }, [accounts, totalUnread]);

  useEffect(() => {
    if (accounts) void registerPushDevice(serverUrl, accounts);
  }, [accounts, serverUrl]);

  const joinedRef = useRef(joined);
  useEffect(() => {
    joinedRef.current = joined;
  }, [joined]);
  // Once per chat, not per service or render: a new service must not show it again.
  const launchRef = useRef(launchRoom);
  useEffect(() => {
    if (!service) return undefined;
    const showTapped = (room: string) => {
      if (joinedRef.current.includes(room)) service.switchRoom(room);
      else service.joinRoom(room);
    };
    // The tap that started the app goes the way of a tap while running (a `dm:…` room
    // opens as its conversation).
    const launched = launchRef.current;
    launchRef.current = undefined;
    if (launched) showTapped(launched);
    return onNotificationTap(showTapped);
  }, [service]);
}
