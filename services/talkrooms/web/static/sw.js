/**
 * TalkRooms' service worker (served at /sw.js, scope /): shows the Web Push notifications
 * the server sends (docs/notifications.md) and opens the right room when one is clicked.
 *
 * A push carries {room, title, body, count, message_id, tag}; `tag` (room:<id>) makes a new
 * notification of a room replace the one before. A click focuses an open TalkRooms tab and
 * tells it to show the room (the page listens for {type: 'open-room', room}); with no tab
 * open, it opens /?room=<room>&open=1: the login page, which goes straight on to the room
 * (or private conversation) once the person is signed in (login.js).
 */

self.addEventListener('install', () => {
  // Nothing to cache: the worker only handles notifications, a new version may run at once.
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

function payloadOf(event) {
  if (!event.data) return {};
  try {
    const data = event.data.json();
    return data && typeof data === 'object' ? data : {};
  } catch {
    return { body: event.data.text() };
  }
}

self.addEventListener('push', (event) => {
  const data = payloadOf(event);
  const room = typeof data.room === 'string' ? data.room : '';
  const title = typeof data.title === 'string' && data.title ? data.title : 'TalkRooms';
  const options = {
    body: typeof data.body === 'string' ? data.body : '',
    tag: typeof data.tag === 'string' && data.tag ? data.tag : room ? `room:${room}` : undefined,
    icon: '/static/img/logo.svg',
    data: { room, messageId: data.message_id ?? null },
  };
  // A replaced notification (same tag) alerts again: each one is news.
  if (options.tag) options.renotify = true;
  event.waitUntil(self.registration.showNotification(title, options));
});

/** Show `room` in an open TalkRooms tab, or open one on it. */
async function openRoom(room) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  // The chat page has the rooms joined; another page of the site (the login form) cannot show one.
  const tab = windows.find((w) => new URL(w.url).pathname === '/chat');
  if (tab) {
    tab.postMessage({ type: 'open-room', room });
    // Focusing needs the click's user activation; a tab that cannot be focused still switched.
    await tab.focus().catch(() => null);
    return;
  }
  const target = room ? `/?room=${encodeURIComponent(room)}&open=1` : '/';
  await self.clients.openWindow(target).catch(() => null);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const room = typeof event.notification.data?.room === 'string' ? event.notification.data.room : '';
  const done = openRoom(room);
  try {
    event.waitUntil(done);
  } catch {
    // An event a page built itself (not the browser's) cannot be extended; the work goes on.
  }
});
