// Where a session is kept between page loads. 'memory' (the default) keeps tokens out of
// any storage that other scripts on the origin can read. A storage that throws (private
// mode, quota) degrades to memory rather than breaking the session.

function webStorage(name) {
  try {
    const s = globalThis[name];
    if (s && typeof s.getItem === 'function') return s;
  } catch { /* access denied: fall through */ }
  return null;
}

/** An adapter with load/save/clear of the session record, or null for memory. */
export function openStorage(option, key) {
  const backend = option === 'memory' ? null : typeof option === 'string' ? webStorage(option) : option;
  if (!backend) return null;
  return {
    load() {
      try {
        const raw = backend.getItem(key);
        if (typeof raw !== 'string') return null;
        const parsed = JSON.parse(raw);
        if (!parsed || typeof parsed !== 'object') return null;
        // Its own fields only: a polluted Object.prototype.out does not make a session a logout.
        const rec = Object.assign(Object.create(null), parsed);
        // A session, or the marker a logout leaves ({ out: true, epoch }).
        return (typeof rec.accessToken === 'string' && rec.accessToken !== '') || rec.out === true ? rec : null;
      } catch {
        return null;
      }
    },
    save(rec) {
      try { backend.setItem(key, JSON.stringify(rec)); } catch { /* keep working from memory */ }
    },
    clear() {
      try { backend.removeItem(key); } catch { /* nothing to do */ }
    },
  };
}
