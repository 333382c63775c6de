//! The Lua scripts: one per operation, each one atomic and one round trip.
//!
//! Every key of an event shares the hash tag `{<event>}`, so a script touches one cluster slot.
//! `KEYS[1]` is always the event's queue key `wr:{<event>}:q`; the other keys of the event are
//! derived from its prefix (same tag, so the same slot). Layout under `wr:{<event>}:`:
//!
//! | key          | type | contents                                                        |
//! |--------------|------|-----------------------------------------------------------------|
//! | `q`          | zset | waiting tokens, score = join sequence (server-side `HINCRBY`)   |
//! | `hb`         | zset | waiting tokens, score = heartbeat deadline (ms, server clock)   |
//! | `m`          | hash | `seq`, `admitted`, `waitsum`, token bucket `bt`/`bts`           |
//! | `a`          | zset | admissions of the last minute (member = reservation token)      |
//! | `t:<token>`  | hash | visitor `v`/`id`, `j` joined (ms), `st` state, grant `rt`/`rx`  |
//! | `v:<visitor>`| str  | the visitor's current token: join dedupe, inside the script     |
//! | `r:<rtoken>` | hash | reservation: waiting token `wt`, `id`, `rx`, `used` nonce       |
//! | `ch`         | chan | pub/sub notices that positions may have changed                 |
//!
//! States (`st`): `w` waiting, `a` admitted, `l` left, `x` expired, `c` reservation used.
//! Time comes from the server (`TIME`), never from a client clock. Every script first evicts at
//! most a fixed number of lapsed heartbeats, so no call loops over the queue.
//!
//! Every script is safe to run twice with the same arguments (a client may resend a command
//! whose reply was lost): a join finds the visitor's token, an admission finds its grant, a
//! consume finds its own nonce.

use redis::Script;

/// Shared helpers prepended to every script.
const PRELUDE: &str = r#"
local P = string.sub(KEYS[1], 1, -2)
local EVICT = 64
local TOMB = 900000
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function finish_waiting(tok, st, now)
  redis.call('ZREM', P .. 'q', tok)
  redis.call('ZREM', P .. 'hb', tok)
  local tk = P .. 't:' .. tok
  local v = redis.call('HGET', tk, 'v')
  if v then
    local vk = P .. 'v:' .. v
    if redis.call('GET', vk) == tok then redis.call('DEL', vk) end
    redis.call('HSET', tk, 'st', st)
    redis.call('PEXPIRE', tk, TOMB)
  end
end
local function evict(now)
  local gone = redis.call('ZRANGEBYSCORE', P .. 'hb', '-inf', now, 'LIMIT', 0, EVICT)
  for _, tok in ipairs(gone) do finish_waiting(tok, 'x', now) end
  if #gone > 0 then redis.call('PUBLISH', P .. 'ch', 'x') end
  return #gone
end
local function rate(now)
  return redis.call('ZCOUNT', P .. 'a', '(' .. (now - 60000), '+inf')
end
-- {state, position, expires_ms} of one token; renews a waiting token's heartbeat when hb > 0
local function describe(tok, now, hb)
  local h = redis.call('HMGET', P .. 't:' .. tok, 'st', 'rx')
  local st = h[1]
  if not st then return {'u', 0, 0} end
  if st == 'w' then
    local r = redis.call('ZRANK', P .. 'q', tok)
    local dl = tonumber(redis.call('ZSCORE', P .. 'hb', tok) or 0)
    if not r or dl <= now then
      -- lapsed but not yet evicted: a late poll must not revive it
      finish_waiting(tok, 'x', now)
      return {'x', 0, 0}
    end
    if hb > 0 then
      dl = now + hb
      redis.call('ZADD', P .. 'hb', dl, tok)
    end
    return {'w', r + 1, dl}
  elseif st == 'a' then
    local rx = tonumber(h[2])
    if rx <= now then return {'x', 0, rx} end
    return {'a', 0, rx}
  elseif st == 'c' then
    return {'l', 0, 0}
  end
  return {st, 0, 0}
end
"#;

/// KEYS: q, v:<visitor>. ARGV: new token, visitor key, visitor id, heartbeat ms.
/// Returns {token, state, position, expires_ms, admissions in window}.
const JOIN: &str = r#"
local now = server_now()
evict(now)
local hb = tonumber(ARGV[4])
local tok = ARGV[1]
-- claims the visitor key for the new token unless the visitor holds one (one command)
local existing = redis.call('SET', KEYS[2], tok, 'NX', 'GET')
if existing then
  local d = describe(existing, now, hb)
  if d[1] == 'w' or d[1] == 'a' then
    return {existing, d[1], d[2], d[3], rate(now)}
  end
  -- the visitor's earlier token is finished: queue again with the new one
  redis.call('SET', KEYS[2], tok)
end
local seq = redis.call('HINCRBY', P .. 'm', 'seq', 1)
redis.call('ZADD', KEYS[1], seq, tok)
redis.call('ZADD', P .. 'hb', now + hb, tok)
redis.call('HSET', P .. 't:' .. tok, 'v', ARGV[2], 'id', ARGV[3], 'j', now, 'st', 'w')
-- the newest sequence number is the last place: the position is the queue length
return {tok, 'w', redis.call('ZCARD', KEYS[1]), now + hb, rate(now)}
"#;

/// KEYS: q. ARGV: heartbeat ms, tokens...
/// Returns {admissions in window, state1, position1, expires1, state2, ...}.
const STATUS: &str = r#"
local now = server_now()
evict(now)
local hb = tonumber(ARGV[1])
local out = {rate(now)}
for i = 2, #ARGV do
  local d = describe(ARGV[i], now, hb)
  out[#out + 1] = d[1]
  out[#out + 1] = d[2]
  out[#out + 1] = d[3]
end
return out
"#;

/// KEYS: q, t:<token>. ARGV: token, user id ('' = any), new reservation token, window,
/// bucket capacity, refill per second, reservation ms, heartbeat ms.
/// Returns {outcome, reservation token, valid until ms}.
const ADMIT: &str = r#"
local now = server_now()
evict(now)
local tok = ARGV[1]
local h = redis.call('HMGET', KEYS[2], 'st', 'id', 'v', 'rt', 'rx', 'j')
if not h[1] then return {'invalid', '', 0} end
if ARGV[2] ~= '' and ARGV[2] ~= h[2] then return {'invalid', '', 0} end
if h[1] == 'a' then
  if tonumber(h[5]) > now then return {'granted', h[4], tonumber(h[5])} end
  return {'expired', '', 0}
elseif h[1] == 'x' then
  return {'expired', '', 0}
elseif h[1] ~= 'w' then
  return {'left', '', 0}
end
local r = redis.call('ZRANK', KEYS[1], tok)
local dl = tonumber(redis.call('ZSCORE', P .. 'hb', tok) or 0)
if not r or dl <= now then
  finish_waiting(tok, 'x', now)
  return {'expired', '', 0}
end
redis.call('ZADD', P .. 'hb', now + tonumber(ARGV[8]), tok)
if r >= tonumber(ARGV[4]) then return {'turn', '', 0} end
local cap = tonumber(ARGV[5])
local b = redis.call('HMGET', P .. 'm', 'bt', 'bts')
local tokens = cap
if b[1] then
  tokens = math.min(cap, tonumber(b[1]) + (now - tonumber(b[2])) * tonumber(ARGV[6]) / 1000)
end
if tokens < 1 then
  redis.call('HSET', P .. 'm', 'bt', tostring(tokens), 'bts', now)
  return {'rate', '', 0}
end
redis.call('HSET', P .. 'm', 'bt', tostring(tokens - 1), 'bts', now)
local rtok = ARGV[3]
local ttl = tonumber(ARGV[7])
local rx = now + ttl
redis.call('ZREM', KEYS[1], tok)
redis.call('ZREM', P .. 'hb', tok)
redis.call('HSET', KEYS[2], 'st', 'a', 'rt', rtok, 'rx', rx)
redis.call('PEXPIRE', KEYS[2], ttl + TOMB)
redis.call('PEXPIRE', P .. 'v:' .. h[3], ttl + TOMB)
local rk = P .. 'r:' .. rtok
redis.call('HSET', rk, 'wt', tok, 'id', h[2], 'rx', rx, 'used', '')
redis.call('PEXPIRE', rk, ttl + TOMB)
redis.call('HINCRBY', P .. 'm', 'admitted', 1)
redis.call('HINCRBY', P .. 'm', 'waitsum', now - tonumber(h[6]))
redis.call('ZADD', P .. 'a', now, rtok)
redis.call('ZREMRANGEBYSCORE', P .. 'a', '-inf', now - 60000)
redis.call('PUBLISH', P .. 'ch', 'a')
return {'granted', rtok, rx}
"#;

/// KEYS: q, r:<reservation>. ARGV: user id, nonce.
/// Returns 'consumed' | 'used' | 'expired' | 'invalid'.
const CONSUME: &str = r#"
local now = server_now()
local h = redis.call('HMGET', KEYS[2], 'id', 'used', 'rx', 'wt')
if not h[1] or h[1] ~= ARGV[1] then return 'invalid' end
if h[2] and h[2] ~= '' then
  if h[2] == ARGV[2] then return 'consumed' end
  return 'used'
end
if tonumber(h[3]) <= now then return 'expired' end
redis.call('HSET', KEYS[2], 'used', ARGV[2])
local tk = P .. 't:' .. h[4]
local v = redis.call('HGET', tk, 'v')
redis.call('HSET', tk, 'st', 'c')
if v then
  local vk = P .. 'v:' .. v
  if redis.call('GET', vk) == h[4] then redis.call('DEL', vk) end
end
return 'consumed'
"#;

/// KEYS: q, t:<token>. ARGV: token. Returns 1 if this call removed the token, else 0.
const LEAVE: &str = r#"
local now = server_now()
evict(now)
local tok = ARGV[1]
local h = redis.call('HMGET', KEYS[2], 'st', 'rt', 'v')
if h[1] == 'w' then
  finish_waiting(tok, 'l', now)
  redis.call('PUBLISH', P .. 'ch', 'l')
  return 1
elseif h[1] == 'a' then
  redis.call('HSET', KEYS[2], 'st', 'l')
  local rk = P .. 'r:' .. h[2]
  if redis.call('HGET', rk, 'used') == '' then redis.call('HSET', rk, 'used', 'left') end
  local vk = P .. 'v:' .. h[3]
  if redis.call('GET', vk) == tok then redis.call('DEL', vk) end
  return 1
end
return 0
"#;

/// KEYS: q. Returns {waiting, admitted, total wait ms, admissions in window}.
const STATS: &str = r#"
local now = server_now()
evict(now)
local m = redis.call('HMGET', P .. 'm', 'admitted', 'waitsum')
return {redis.call('ZCARD', KEYS[1]), tonumber(m[1] or 0), tonumber(m[2] or 0), rate(now)}
"#;

/// Loaded scripts; `Script` sends EVALSHA and falls back to EVAL on NOSCRIPT (after a Redis
/// restart or a failover the script cache is empty).
pub(crate) struct Scripts {
    pub join: Script,
    pub status: Script,
    pub admit: Script,
    pub consume: Script,
    pub leave: Script,
    pub stats: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            join: with_prelude(JOIN),
            status: with_prelude(STATUS),
            admit: with_prelude(ADMIT),
            consume: with_prelude(CONSUME),
            leave: with_prelude(LEAVE),
            stats: with_prelude(STATS),
        }
    }
}
