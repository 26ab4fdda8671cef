// Loaded by test_notifications_ui.py into pages (add_init_script) in place of the browser's
// push service, which headless Chromium lacks: a subscription like a real browser's.
(() => {
  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  let current = null;
  window.__pushLog = [];
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    const raw = await crypto.subtle.exportKey('raw', pair.publicKey);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    const endpoint = `https://push.example.test/send/${crypto.randomUUID()}`;
    window.__pushLog.push({
      subscribe: options.userVisibleOnly,
      keyLength: options.applicationServerKey.byteLength,
    });
    current = {
      endpoint,
      options: { userVisibleOnly: true, applicationServerKey: options.applicationServerKey.buffer },
      toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: b64url(raw), auth: b64url(auth) } }),
      unsubscribe: async () => { current = null; window.__pushLog.push({ unsubscribe: endpoint }); return true; },
    };
    return current;
  };
})();
